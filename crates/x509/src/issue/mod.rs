//! Building certificates to the X.509-SVID profile with rcgen: CA certificates and leaf SVIDs.
//!
//! A [`SigningCa`] is a CA certificate plus its private key (and the certificates between it and
//! its trust anchor, if it is an intermediate). It issues leaf X.509-SVIDs for public keys taken
//! from CSRs ([`SigningCa::issue_x509_svid`]) and further CA certificates
//! ([`SigningCa::issue_ca`]); [`self_signed_ca`] makes a root. [`SigningCa::upstream`] wraps an
//! operator's CA, which need not carry a SPIFFE ID, to sign the trust domain's CAs.
//!
//! Every certificate gets a random positive 126-bit serial number, a SubjectKeyIdentifier and
//! (unless self-signed) an AuthorityKeyIdentifier, and a non-empty subject, so the SAN extension
//! can stay non-critical (X509-SVID §3.1).

mod ca;
mod svid;
mod upstream;

pub use ca::{CaParams, self_signed_ca};
pub use svid::{IssuedX509Svid, SvidParams};

use std::time::SystemTime;

use lanyard_id::{SpiffeId, TrustDomain};
use rcgen::string::PrintableString;
use rcgen::{DistinguishedName, DnType, DnValue, SerialNumber};
use ring::rand::{SecureRandom, SystemRandom};
use time::OffsetDateTime;

use crate::cert::{ParsedCert, parse_cert, system_time};
use crate::der::CertDer;
use crate::error::{IssueError, KeyError};
use crate::key::KeyPair;
use crate::spki::{Curve, PublicKeyParams};

/// The subject distinguished name of a certificate: the attributes Lanyard sets, in this order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    /// `C` (countryName), two letters; encoded as PrintableString.
    pub country: Option<String>,
    /// `O` (organizationName).
    pub organization: Option<String>,
    /// `CN` (commonName), at most 64 characters.
    pub common_name: Option<String>,
}

impl Subject {
    /// Whether no attribute is set.
    pub fn is_empty(&self) -> bool {
        self.country.is_none() && self.organization.is_none() && self.common_name.is_none()
    }

    /// The rcgen name, checking the X.520 upper bounds of RFC 5280 Appendix A.
    fn to_rcgen(&self) -> Result<DistinguishedName, IssueError> {
        let invalid = |reason: String| IssueError::InvalidSubject { reason };
        let mut dn = DistinguishedName::new();
        if let Some(c) = &self.country {
            // X520countryName ::= PrintableString (SIZE (2)), ISO 3166 alpha-2.
            if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(invalid(format!("country {c:?} is not two capital letters")));
            }
            let printable = PrintableString::try_from(c.as_str())
                .map_err(|e| invalid(format!("country {c:?}: {e}")))?;
            dn.push(DnType::CountryName, DnValue::PrintableString(printable));
        }
        if let Some(o) = &self.organization {
            if o.is_empty() || o.chars().count() > 64 {
                return Err(invalid(format!(
                    "organization {o:?} must be 1-64 characters"
                )));
            }
            dn.push(DnType::OrganizationName, DnValue::Utf8String(o.clone()));
        }
        if let Some(cn) = &self.common_name {
            if cn.is_empty() || cn.chars().count() > 64 {
                return Err(invalid(format!(
                    "common name {cn:?} must be 1-64 characters"
                )));
            }
            dn.push(DnType::CommonName, DnValue::Utf8String(cn.clone()));
        }
        Ok(dn)
    }
}

/// A CA that can sign: its certificate, private key and upstream chain.
#[derive(Debug)]
pub struct SigningCa {
    cert: CertDer,
    key: KeyPair,
    upstream_chain: Vec<CertDer>,
    /// DER of the CA's subject name, which every issued certificate must carry as issuer.
    subject_der: Vec<u8>,
    trust_domain: TrustDomain,
    not_after_unix: i64,
    self_signed: bool,
}

impl SigningCa {
    /// Checks and wraps a CA certificate and its key.
    ///
    /// `upstream_chain` holds the certificates between `cert` and the trust anchor that signed it
    /// (not the anchor itself), nearest first; empty for a root or an intermediate signed directly
    /// by the anchor. The certificate must be a signing certificate (`cA=true`, `keyCertSign`)
    /// whose single URI SAN is a trust-domain SPIFFE ID without path (X509-SVID §3.2); that ID
    /// fixes which IDs this CA may issue.
    pub fn new(
        cert: CertDer,
        key: KeyPair,
        upstream_chain: Vec<CertDer>,
    ) -> Result<SigningCa, IssueError> {
        let parsed = parse_cert(cert.as_bytes())?;
        let signing = parsed.basic_constraints.is_some_and(|bc| bc.ca)
            && parsed.key_usage.is_some_and(|ku| ku.key_cert_sign);
        if !signing {
            return Err(IssueError::CaNotSigningCertificate);
        }
        let uri = match parsed.uri_sans.as_slice() {
            [] => return Err(IssueError::CaHasNoSpiffeId),
            [uri] => uri,
            _ => return Err(IssueError::CaHasMultipleUriSans),
        };
        let id = SpiffeId::parse(uri).map_err(|_| IssueError::CaHasNoSpiffeId)?;
        if !id.is_root() {
            return Err(IssueError::CaIdHasPath { id: uri.clone() });
        }
        if key.public_key_spki_der() != parsed.spki().raw {
            return Err(IssueError::CaKeyMismatch);
        }
        check_reproducible_subject(&parsed)?;
        // Fail now, not at the first issuance, if rcgen cannot take over the subject name.
        rcgen::Issuer::from_ca_cert_der(&cert.as_bytes().into(), key.rcgen())
            .map_err(|_| IssueError::UnsupportedCaSubject)?;
        let self_signed = parsed.is_self_issued() && parsed.verify_signed_by(parsed.spki()).is_ok();
        let not_after_unix = parsed.not_after_unix();
        let subject_der = parsed.subject_raw().to_vec();
        drop(parsed);
        Ok(SigningCa {
            cert,
            key,
            upstream_chain,
            subject_der,
            trust_domain: id.trust_domain(),
            not_after_unix,
            self_signed,
        })
    }

    /// The CA certificate.
    pub fn certificate(&self) -> &CertDer {
        &self.cert
    }

    /// The CA's private key.
    pub fn key(&self) -> &KeyPair {
        &self.key
    }

    /// The trust domain of the CA's SPIFFE ID; leaf SVIDs are only issued in it.
    pub fn trust_domain(&self) -> &TrustDomain {
        &self.trust_domain
    }

    /// The CA certificate's NotAfter, which caps everything it issues.
    pub fn not_after(&self) -> SystemTime {
        system_time(self.not_after_unix)
    }

    /// Whether the CA certificate is self-signed (a root).
    pub fn is_self_signed(&self) -> bool {
        self.self_signed
    }

    /// The certificates that follow a certificate issued by this CA in a chain: nothing for a
    /// root (the root is in the bundle), else this CA's certificate and its upstream chain.
    pub fn chain(&self) -> Vec<CertDer> {
        if self.self_signed {
            return Vec::new();
        }
        let mut chain = Vec::with_capacity(1 + self.upstream_chain.len());
        chain.push(self.cert.clone());
        chain.extend(self.upstream_chain.iter().cloned());
        chain
    }

    /// Signs `params` for `public_key` and checks the issuer name came out byte-identical to the
    /// CA's subject (RFC 5280 §6.1.3 name chaining).
    fn sign(
        &self,
        params: &rcgen::CertificateParams,
        public_key: &rcgen::SubjectPublicKeyInfo,
    ) -> Result<CertDer, IssueError> {
        let issuer =
            rcgen::Issuer::from_ca_cert_der(&self.cert.as_bytes().into(), self.key.rcgen())
                .map_err(|_| IssueError::UnsupportedCaSubject)?;
        let cert = params
            .signed_by(public_key, &issuer)
            .map_err(|e| IssueError::Signing(e.to_string()))?;
        let cert = CertDer::from_der(cert.der().to_vec())
            .map_err(|e| IssueError::Signing(e.to_string()))?;
        let issued = parse_cert(cert.as_bytes()).map_err(|e| IssueError::Signing(e.to_string()))?;
        if issued.issuer_raw() != self.subject_der {
            return Err(IssueError::UnsupportedCaSubject);
        }
        Ok(cert)
    }
}

/// rcgen rebuilds the issuer name from a map of attribute type to value, which can only
/// reproduce names whose RDNs are single-valued (and, checked after signing, whose attribute
/// types are distinct). It panics on an empty RDN, so refuse those here.
fn check_reproducible_subject(cert: &ParsedCert<'_>) -> Result<(), IssueError> {
    if cert.subject_is_empty() {
        return Err(IssueError::EmptyCaSubject);
    }
    if cert
        .x509
        .subject()
        .iter()
        .any(|rdn| rdn.iter().count() != 1)
    {
        return Err(IssueError::UnsupportedCaSubject);
    }
    Ok(())
}

/// A random positive serial number of 16 octets (126 random bits; RFC 5280 §4.1.2.2 allows up to
/// 20 octets and requires a positive value).
fn random_serial() -> Result<SerialNumber, IssueError> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| IssueError::Signing("random number generator failed".into()))?;
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

/// Whole seconds since the epoch as a certificate time; 1970 to 9999 only, so that rcgen always
/// has a UTCTime or four-digit GeneralizedTime to write (RFC 5280 §4.1.2.5).
fn to_datetime(unix: i64) -> Result<OffsetDateTime, IssueError> {
    let out_of_range = || IssueError::TimeOutOfRange(system_time(unix));
    if unix < 0 {
        return Err(out_of_range());
    }
    let t = OffsetDateTime::from_unix_timestamp(unix).map_err(|_| out_of_range())?;
    if t.year() > 9999 {
        return Err(out_of_range());
    }
    Ok(t)
}

/// Reads a subject public key that this crate issues certificates for: EC P-256, EC P-384 or
/// RSA of at least 2048 bits.
pub(crate) fn subject_public_key(
    spki_der: &[u8],
) -> Result<(rcgen::SubjectPublicKeyInfo, PublicKeyParams), KeyError> {
    let params = PublicKeyParams::from_spki_der(spki_der)?;
    match &params {
        PublicKeyParams::Ec {
            curve: Curve::P256 | Curve::P384,
            ..
        } => {}
        PublicKeyParams::Ec { curve, .. } => {
            return Err(KeyError::UnsupportedPublicKey(format!(
                "EC curve {}",
                curve.jwk_name()
            )));
        }
        PublicKeyParams::Rsa { .. } => {
            let bits = params.rsa_bits().unwrap_or(0);
            if bits < 2048 {
                return Err(KeyError::UnsupportedPublicKey(format!(
                    "RSA key of {bits} bits (at least 2048 required)"
                )));
            }
        }
    }
    let key = rcgen::SubjectPublicKeyInfo::from_der(spki_der)
        .map_err(|e| KeyError::UnsupportedPublicKey(e.to_string()))?;
    Ok((key, params))
}
