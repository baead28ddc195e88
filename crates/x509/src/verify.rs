//! X.509-SVID validation (`standards/X509-SVID.md` §5) and parsing without validation.
//!
//! [`verify_x509_svid`] does what §5 asks: RFC 5280 path validation (§5.1) from the leaf to an
//! X.509 authority of the bundle of the *leaf's own* trust domain, plus the SPIFFE leaf checks
//! (§5.2) and the profile rules of §2–§4 for every certificate of the path.
//!
//! Path building is linear: the chain must be ordered leaf first, each certificate followed by
//! its issuer. At every step a bundle authority that issued the current certificate ends the path
//! (so extra certificates after it are ignored); a chain certificate byte-identical to a bundle
//! authority ends it too. Policies, name constraints and revocation are not processed; a
//! *critical* extension that is not processed makes the certificate invalid (RFC 5280 §4.2).

use std::time::SystemTime;

use lanyard_id::SpiffeId;

use crate::bundle::BundleSource;
use crate::cert::{ParsedCert, SignatureFailure, parse_cert, system_time, unix_seconds};
use crate::der::CertDer;
use crate::error::{CertPosition, X509SvidError};
use crate::profile::{check_anchor, check_leaf, check_signing_cert, check_structure};

/// An X.509-SVID whose chain verified against a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedX509Svid {
    /// The leaf's SPIFFE ID (non-root path, in the trust domain of the bundle used).
    pub spiffe_id: SpiffeId,
    /// The leaf's NotBefore.
    pub not_before: SystemTime,
    /// The leaf's NotAfter.
    pub not_after: SystemTime,
    /// The leaf's DNS SANs.
    pub dns_names: Vec<String>,
    /// The leaf's public key as DER SubjectPublicKeyInfo.
    pub public_key_spki_der: Vec<u8>,
    /// The presented certificates that form the path, leaf first.
    pub chain: Vec<CertDer>,
    /// The bundle authority the path ends at.
    pub authority: CertDer,
}

/// An X.509-SVID parsed and profile-checked but not verified (no signatures, no clock, no
/// bundle): for a holder inspecting its own SVID.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParsedX509Svid {
    /// The leaf's SPIFFE ID.
    pub spiffe_id: SpiffeId,
    /// The leaf's NotBefore.
    pub not_before: SystemTime,
    /// The leaf's NotAfter.
    pub not_after: SystemTime,
    /// The leaf's DNS SANs.
    pub dns_names: Vec<String>,
    /// The leaf's public key as DER SubjectPublicKeyInfo.
    pub public_key_spki_der: Vec<u8>,
    /// The whole chain, leaf first.
    pub chain: Vec<CertDer>,
}

/// Verifies an X.509-SVID chain (leaf first) at time `now` against the bundle that `bundles`
/// holds for the leaf's trust domain.
pub fn verify_x509_svid<C, B>(
    chain: &[C],
    bundles: &B,
    now: SystemTime,
) -> Result<VerifiedX509Svid, X509SvidError>
where
    C: AsRef<[u8]>,
    B: BundleSource + ?Sized,
{
    let parsed = parse_chain(chain)?;
    let leaf = &parsed[0];
    check_structure(leaf, CertPosition::Chain(0))?;
    let spiffe_id = check_leaf(leaf)?;

    // Trust Domain and Bundle §3: "validators must choose the bundle corresponding to the trust
    // domain that the SVID resides in".
    let trust_domain = spiffe_id.trust_domain();
    let authorities = bundles.x509_authorities(&trust_domain).ok_or_else(|| {
        X509SvidError::NoBundleForTrustDomain {
            trust_domain: trust_domain.clone(),
        }
    })?;
    // Authorities that do not parse cannot anchor anything; skip them.
    let anchors: Vec<(usize, ParsedCert<'_>)> = authorities
        .iter()
        .enumerate()
        .filter_map(|(i, a)| parse_cert(a.as_bytes()).ok().map(|p| (i, p)))
        .collect();

    // Walk up the chain until a bundle authority vouches for the current certificate. The
    // result is the index of the last chain certificate of the path, the index of the bundle
    // authority, and that authority's parsed form when it is not itself in the chain.
    let mut i = 0;
    let (last, authority_index, external) = loop {
        let cert = &parsed[i];
        let position = CertPosition::Chain(i);
        if i > 0 {
            let in_bundle = authorities
                .iter()
                .position(|a| a.as_bytes() == chain[i].as_ref());
            if let Some(a) = in_bundle {
                check_anchor(cert, position)?;
                break (i, a, None);
            }
            check_structure(cert, position)?;
            check_signing_cert(cert, position)?;
        }
        // Did an authority of the bundle issue `cert`?
        let mut tried = false;
        let mut unsupported = false;
        let mut found = None;
        for (index, authority) in &anchors {
            if authority.subject_raw() != cert.issuer_raw() {
                continue;
            }
            // Key identifiers, when both are present, tell a foreign key from a forgery.
            if let (Some(aki), Some(ski)) = (cert.authority_key_id, authority.subject_key_id)
                && aki != ski
            {
                continue;
            }
            tried = true;
            match cert.verify_signed_by(authority.spki()) {
                Ok(()) => {
                    found = Some((*index, authority));
                    break;
                }
                Err(SignatureFailure::UnsupportedAlgorithm) => unsupported = true,
                Err(SignatureFailure::Bad) => {}
            }
        }
        if let Some((index, authority)) = found {
            break (i, index, Some(authority));
        }
        if let Some(issuer) = parsed.get(i + 1) {
            // RFC 5280 §6.1.3 (a)(4): the issuer name is the working issuer name.
            if cert.issuer_raw() != issuer.subject_raw() {
                return Err(X509SvidError::IssuerNameMismatch { position });
            }
            // RFC 5280 §6.1.3 (a)(1): the signature verifies with the working public key.
            verify_link(cert, issuer, position)?;
            i += 1;
            continue;
        }
        return Err(if unsupported {
            X509SvidError::UnsupportedSignatureAlgorithm { position }
        } else if tried {
            X509SvidError::BadSignature { position }
        } else {
            X509SvidError::NoTrustedAuthority {
                position,
                trust_domain,
            }
        });
    };
    if let Some(anchor) = external {
        check_anchor(anchor, CertPosition::BundleAuthority)?;
    }

    // RFC 5280 §6.1.3 (a)(2): every certificate of the path is valid at `now`.
    let now_unix = unix_seconds(now);
    let path = parsed[..=last]
        .iter()
        .enumerate()
        .map(|(i, c)| (CertPosition::Chain(i), c))
        .chain(external.map(|a| (CertPosition::BundleAuthority, a)));
    for (position, cert) in path.clone() {
        if now_unix < cert.not_before_unix() {
            return Err(X509SvidError::NotYetValid {
                position,
                not_before: system_time(cert.not_before_unix()),
            });
        }
        if now_unix > cert.not_after_unix() {
            return Err(X509SvidError::Expired {
                position,
                not_after: system_time(cert.not_after_unix()),
            });
        }
    }

    // RFC 5280 §4.2.1.9/§6.1.4 (l)-(m): pathLenConstraint bounds the number of non-self-issued
    // intermediate certificates that follow a CA (the leaf does not count).
    for (p, (position, cert)) in path.enumerate().skip(1) {
        let Some(path_len) = cert.basic_constraints.and_then(|bc| bc.path_len) else {
            continue;
        };
        let intermediates = parsed[1..p.min(last + 1)]
            .iter()
            .filter(|c| !c.is_self_issued())
            .count();
        if intermediates > path_len as usize {
            return Err(X509SvidError::PathLenExceeded {
                position,
                path_len,
                intermediates,
            });
        }
    }

    Ok(VerifiedX509Svid {
        spiffe_id,
        not_before: system_time(leaf.not_before_unix()),
        not_after: system_time(leaf.not_after_unix()),
        dns_names: leaf.dns_sans.clone(),
        public_key_spki_der: leaf.spki().raw.to_vec(),
        chain: to_cert_ders(&chain[..=last]),
        authority: authorities[authority_index].clone(),
    })
}

/// Parses an X.509-SVID chain (leaf first) and checks the profile of every certificate: the
/// leaf rules (X509-SVID §2–§5.2) and the signing-certificate rules for the rest. Signatures,
/// validity periods and trust are *not* checked; use [`verify_x509_svid`] for that.
pub fn parse_x509_svid<C: AsRef<[u8]>>(chain: &[C]) -> Result<ParsedX509Svid, X509SvidError> {
    let parsed = parse_chain(chain)?;
    for (i, cert) in parsed.iter().enumerate() {
        check_structure(cert, CertPosition::Chain(i))?;
        if i > 0 {
            check_signing_cert(cert, CertPosition::Chain(i))?;
        }
    }
    let leaf = &parsed[0];
    let spiffe_id = check_leaf(leaf)?;
    Ok(ParsedX509Svid {
        spiffe_id,
        not_before: system_time(leaf.not_before_unix()),
        not_after: system_time(leaf.not_after_unix()),
        dns_names: leaf.dns_sans.clone(),
        public_key_spki_der: leaf.spki().raw.to_vec(),
        chain: to_cert_ders(chain),
    })
}

/// Parses every certificate; the chain must not be empty.
fn parse_chain<C: AsRef<[u8]>>(chain: &[C]) -> Result<Vec<ParsedCert<'_>>, X509SvidError> {
    if chain.is_empty() {
        return Err(X509SvidError::EmptyChain);
    }
    chain
        .iter()
        .enumerate()
        .map(|(i, der)| {
            parse_cert(der.as_ref()).map_err(|source| X509SvidError::MalformedCertificate {
                position: CertPosition::Chain(i),
                source,
            })
        })
        .collect()
}

fn verify_link(
    cert: &ParsedCert<'_>,
    issuer: &ParsedCert<'_>,
    position: CertPosition,
) -> Result<(), X509SvidError> {
    cert.verify_signed_by(issuer.spki()).map_err(|e| match e {
        SignatureFailure::Bad => X509SvidError::BadSignature { position },
        SignatureFailure::UnsupportedAlgorithm => {
            X509SvidError::UnsupportedSignatureAlgorithm { position }
        }
    })
}

/// The chain as [`CertDer`]s; every element already parsed as a certificate.
fn to_cert_ders<C: AsRef<[u8]>>(chain: &[C]) -> Vec<CertDer> {
    chain
        .iter()
        .filter_map(|c| CertDer::from_der(c.as_ref()).ok())
        .collect()
}
