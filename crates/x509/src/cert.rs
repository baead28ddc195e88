//! A checked, flattened view of one X.509 certificate (the only place that reads extensions).
//!
//! Parsing rejects what RFC 5280 forbids outright (duplicate extensions, undecodable known
//! extensions, SAN entries that are not strings) and records everything the X.509-SVID profile
//! checks need, so the profile and path checks never touch x509-parser types directly.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use x509_parser::error::X509Error;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::{
    OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER, OID_X509_EXT_BASIC_CONSTRAINTS,
    OID_X509_EXT_EXTENDED_KEY_USAGE, OID_X509_EXT_KEY_USAGE, OID_X509_EXT_SUBJECT_ALT_NAME,
    OID_X509_EXT_SUBJECT_KEY_IDENTIFIER,
};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::error::CertificateError;

/// basicConstraints (RFC 5280 §4.2.1.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BasicConstraintsView {
    pub(crate) ca: bool,
    pub(crate) path_len: Option<u32>,
}

/// keyUsage (RFC 5280 §4.2.1.3) with its criticality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyUsageView {
    pub(crate) critical: bool,
    pub(crate) digital_signature: bool,
    pub(crate) key_cert_sign: bool,
    pub(crate) crl_sign: bool,
}

/// extendedKeyUsage (RFC 5280 §4.2.1.12), the two purposes SPIFFE cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EkuView {
    pub(crate) server_auth: bool,
    pub(crate) client_auth: bool,
}

/// Why a signature did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignatureFailure {
    Bad,
    UnsupportedAlgorithm,
}

/// One parsed certificate.
#[derive(Debug)]
pub(crate) struct ParsedCert<'a> {
    pub(crate) x509: X509Certificate<'a>,
    pub(crate) basic_constraints: Option<BasicConstraintsView>,
    pub(crate) key_usage: Option<KeyUsageView>,
    pub(crate) eku: Option<EkuView>,
    pub(crate) uri_sans: Vec<String>,
    pub(crate) dns_sans: Vec<String>,
    pub(crate) san_critical: bool,
    pub(crate) subject_key_id: Option<&'a [u8]>,
    pub(crate) authority_key_id: Option<&'a [u8]>,
    /// The first critical extension this crate does not process, as a dotted OID.
    pub(crate) unsupported_critical: Option<String>,
}

/// Parses exactly one DER certificate.
pub(crate) fn parse_cert(der: &[u8]) -> Result<ParsedCert<'_>, CertificateError> {
    let (rest, x509) = X509Certificate::from_der(der).map_err(|e| CertificateError::Malformed {
        reason: e.to_string(),
    })?;
    if !rest.is_empty() {
        return Err(CertificateError::TrailingData { len: rest.len() });
    }
    let mut cert = ParsedCert {
        basic_constraints: None,
        key_usage: None,
        eku: None,
        uri_sans: Vec::new(),
        dns_sans: Vec::new(),
        san_critical: false,
        subject_key_id: None,
        authority_key_id: None,
        unsupported_critical: None,
        x509,
    };
    let extensions = cert.x509.extensions();
    for (i, ext) in extensions.iter().enumerate() {
        let oid = || ext.oid.to_id_string();
        // RFC 5280 §4.2: "A certificate MUST NOT include more than one instance of a
        // particular extension."
        if extensions[..i].iter().any(|e| e.oid == ext.oid) {
            return Err(CertificateError::DuplicateExtension { oid: oid() });
        }
        match ext.parsed_extension() {
            ParsedExtension::ParseError { .. } => {
                return Err(CertificateError::MalformedExtension { oid: oid() });
            }
            ParsedExtension::BasicConstraints(bc) => {
                cert.basic_constraints = Some(BasicConstraintsView {
                    ca: bc.ca,
                    path_len: bc.path_len_constraint,
                });
            }
            ParsedExtension::KeyUsage(ku) => {
                cert.key_usage = Some(KeyUsageView {
                    critical: ext.critical,
                    digital_signature: ku.digital_signature(),
                    key_cert_sign: ku.key_cert_sign(),
                    crl_sign: ku.crl_sign(),
                });
            }
            ParsedExtension::ExtendedKeyUsage(eku) => {
                cert.eku = Some(EkuView {
                    server_auth: eku.server_auth,
                    client_auth: eku.client_auth,
                });
            }
            ParsedExtension::SubjectAlternativeName(san) => {
                cert.san_critical = ext.critical;
                for name in &san.general_names {
                    match name {
                        GeneralName::URI(uri) => cert.uri_sans.push((*uri).to_string()),
                        GeneralName::DNSName(dns) => cert.dns_sans.push((*dns).to_string()),
                        // A URI or DNS entry that is not a valid IA5String: refuse rather
                        // than silently miss a second URI SAN.
                        GeneralName::Invalid(..) => {
                            return Err(CertificateError::MalformedExtension { oid: oid() });
                        }
                        _ => {}
                    }
                }
            }
            ParsedExtension::SubjectKeyIdentifier(kid) => cert.subject_key_id = Some(kid.0),
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                cert.authority_key_id = aki.key_identifier.as_ref().map(|k| k.0);
            }
            _ => {}
        }
        let processed = [
            &OID_X509_EXT_BASIC_CONSTRAINTS,
            &OID_X509_EXT_KEY_USAGE,
            &OID_X509_EXT_EXTENDED_KEY_USAGE,
            &OID_X509_EXT_SUBJECT_ALT_NAME,
            &OID_X509_EXT_SUBJECT_KEY_IDENTIFIER,
            &OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER,
        ];
        if ext.critical && !processed.contains(&&ext.oid) && cert.unsupported_critical.is_none() {
            cert.unsupported_critical = Some(oid());
        }
    }
    Ok(cert)
}

impl ParsedCert<'_> {
    /// The DER of the subject name.
    pub(crate) fn subject_raw(&self) -> &[u8] {
        self.x509.subject().as_raw()
    }

    /// The DER of the issuer name.
    pub(crate) fn issuer_raw(&self) -> &[u8] {
        self.x509.issuer().as_raw()
    }

    /// Whether the subject name has no attributes.
    pub(crate) fn subject_is_empty(&self) -> bool {
        self.x509.subject().iter_attributes().next().is_none()
    }

    /// RFC 5280 §6.1: "self-issued" means subject and issuer names are equal.
    pub(crate) fn is_self_issued(&self) -> bool {
        self.subject_raw() == self.issuer_raw()
    }

    /// NotBefore as seconds since the Unix epoch.
    pub(crate) fn not_before_unix(&self) -> i64 {
        self.x509.validity().not_before.timestamp()
    }

    /// NotAfter as seconds since the Unix epoch.
    pub(crate) fn not_after_unix(&self) -> i64 {
        self.x509.validity().not_after.timestamp()
    }

    /// The subject public key.
    pub(crate) fn spki(&self) -> &SubjectPublicKeyInfo<'_> {
        self.x509.public_key()
    }

    /// RFC 5280 §4.1.1.2: the outer `signatureAlgorithm` equals the TBS `signature` field.
    pub(crate) fn signature_algorithms_match(&self) -> bool {
        self.x509.signature_algorithm == self.x509.tbs_certificate.signature
    }

    /// Verifies this certificate's signature under `issuer`'s public key.
    pub(crate) fn verify_signed_by(
        &self,
        issuer: &SubjectPublicKeyInfo<'_>,
    ) -> Result<(), SignatureFailure> {
        match self.x509.verify_signature(Some(issuer)) {
            Ok(()) => Ok(()),
            Err(X509Error::SignatureUnsupportedAlgorithm) => {
                Err(SignatureFailure::UnsupportedAlgorithm)
            }
            Err(_) => Err(SignatureFailure::Bad),
        }
    }
}

/// `SystemTime` as whole seconds since the Unix epoch (negative before it, saturating).
pub(crate) fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => {
            let d = e.duration();
            // Round toward negative infinity so that sub-second instants before the epoch
            // compare correctly against whole-second certificate times.
            let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            if d.subsec_nanos() > 0 {
                -secs.saturating_add(1)
            } else {
                -secs
            }
        }
    }
}

/// Seconds since the Unix epoch as a `SystemTime` (saturating at the platform's range).
pub(crate) fn system_time(unix: i64) -> SystemTime {
    let magnitude = Duration::from_secs(unix.unsigned_abs());
    let t = if unix >= 0 {
        UNIX_EPOCH.checked_add(magnitude)
    } else {
        UNIX_EPOCH.checked_sub(magnitude)
    };
    t.unwrap_or(UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn unix_seconds_round_down() {
        assert_eq!(unix_seconds(UNIX_EPOCH + Duration::from_millis(1500)), 1);
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_millis(1500)), -2);
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_secs(2)), -2);
        assert_eq!(system_time(-2), UNIX_EPOCH - Duration::from_secs(2));
        assert_eq!(system_time(5), UNIX_EPOCH + Duration::from_secs(5));
    }

    #[test]
    fn garbage_is_malformed() {
        assert!(matches!(
            parse_cert(b"\x30\x03\x02\x01\x00"),
            Err(CertificateError::Malformed { .. })
        ));
    }
}
