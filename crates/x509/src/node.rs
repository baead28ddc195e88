//! Node certificates (x509pop attestation): a node's certificate chain verified against an
//! operator's CA bundle at bounded cost, and the proof that the node holds the leaf's key.
//!
//! Unlike an X.509-SVID, a node certificate follows no SPIFFE profile: it is whatever the
//! operator's PKI issues to machines. What is required of it is what proof of possession needs:
//! the leaf is not a CA and its keyUsage allows digitalSignature; every issuer is a CA (and may
//! sign certificates); the path ends at a root of the bundle; every certificate of the path is
//! valid now.
//!
//! The chain comes from a caller that has not authenticated yet, so its cost is bounded before
//! any signature is checked (SPIRE's x509pop once handed an unbounded intermediate pool to Go's
//! path builder, whose work grows with the pool): at most [`MAX_INTERMEDIATES`] certificates
//! after the leaf, each at most [`MAX_CERTIFICATE_LEN`] bytes, keys only EC P-256/P-384 or RSA of
//! [`MIN_RSA_BITS`] to [`MAX_RSA_BITS`] bits. Path building is linear (leaf first, each
//! certificate followed by its issuer, as TLS sends chains): at most one signature check per
//! link plus one per bundle root whose name (and key identifier) matches, so a chain costs at
//! most `(1 + MAX_INTERMEDIATES) x (1 + roots)` signature checks.
//!
//! Proof of possession: the node signs [`pop_message`] (a fixed context string, the server's
//! nonce, and SHA-256 digests of the leaf and of the attestation's CSR) with the leaf's key;
//! [`VerifiedNodeChain::verify_pop`] checks it with ring.

use std::time::SystemTime;

use ring::signature;

use crate::cert::{ParsedCert, SignatureFailure, parse_cert, system_time, unix_seconds};
use crate::der::CertDer;
use crate::error::{CertPosition, CertificateError};
use crate::spki::{Curve, PublicKeyParams};

/// At most this many certificates may follow the leaf.
pub const MAX_INTERMEDIATES: usize = 4;
/// No certificate of a node chain may be longer (DER bytes).
pub const MAX_CERTIFICATE_LEN: usize = 16 * 1024;
/// RSA keys larger than this are refused before any signature check: verification cost grows
/// with the modulus.
pub const MAX_RSA_BITS: usize = 4096;
/// RSA keys smaller than this are refused (ring verifies nothing smaller).
pub const MIN_RSA_BITS: usize = 2048;
/// The context string every proof-of-possession message starts with.
pub const POP_CONTEXT: &[u8] = b"lanyard x509pop v1 proof of possession\0";

/// Why a node chain or its proof of possession was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NodeCertError {
    /// No certificate at all.
    #[error("the node certificate chain is empty")]
    EmptyChain,
    /// More certificates than the leaf and [`MAX_INTERMEDIATES`].
    #[error(
        "the node certificate chain holds {count} certificates; at most {max} (the leaf and {} intermediates) are accepted",
        .max - 1
    )]
    TooManyCertificates {
        /// How many were sent.
        count: usize,
        /// The limit, leaf included.
        max: usize,
    },
    /// A certificate longer than [`MAX_CERTIFICATE_LEN`].
    #[error("{position} is {len} bytes; at most {max} are accepted")]
    CertificateTooLarge {
        /// Which certificate.
        position: CertPosition,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not a DER X.509 certificate.
    #[error("{position}: {source}")]
    Malformed {
        /// Which certificate.
        position: CertPosition,
        /// Why.
        source: CertificateError,
    },
    /// A key that is neither EC P-256/P-384 nor RSA.
    #[error("{position} has an unsupported key ({what}); use EC P-256, EC P-384 or RSA")]
    UnsupportedKey {
        /// Which certificate.
        position: CertPosition,
        /// What the key is.
        what: String,
    },
    /// An RSA key outside [`MIN_RSA_BITS`]..=[`MAX_RSA_BITS`].
    #[error("{position} has a {bits}-bit RSA key; {min} to {max} bits are accepted")]
    RsaKeySize {
        /// Which certificate.
        position: CertPosition,
        /// The modulus size.
        bits: usize,
        /// The smallest accepted.
        min: usize,
        /// The largest accepted.
        max: usize,
    },
    /// RFC 5280 §4.2: a critical extension this crate does not process.
    #[error("{position} has the critical extension {oid}, which is not processed")]
    UnsupportedCriticalExtension {
        /// Which certificate.
        position: CertPosition,
        /// Its dotted OID.
        oid: String,
    },
    /// RFC 5280 §4.1.1.2: the outer signature algorithm differs from the TBS one.
    #[error("{position}: signatureAlgorithm differs from tbsCertificate.signature")]
    SignatureAlgorithmMismatch {
        /// Which certificate.
        position: CertPosition,
    },
    /// The leaf is a CA certificate (basicConstraints cA = true).
    #[error(
        "the node certificate is a CA certificate (cA = true); give the node a leaf certificate"
    )]
    LeafIsCa,
    /// The leaf's keyUsage is missing or does not allow digitalSignature.
    #[error(
        "the node certificate's keyUsage does not allow digitalSignature, which proof of possession needs"
    )]
    LeafLacksDigitalSignature,
    /// A certificate after the leaf is not a CA, or may not sign certificates.
    #[error(
        "{position} is not a CA certificate allowed to sign certificates (cA = true, keyCertSign)"
    )]
    IssuerNotCa {
        /// Which certificate.
        position: CertPosition,
    },
    /// RFC 5280 §6.1.3 (a)(4): a certificate's issuer is not the next certificate's subject.
    #[error(
        "{position}'s issuer is not the subject of the next certificate: send the chain leaf first, each certificate followed by its issuer"
    )]
    IssuerNameMismatch {
        /// Which certificate.
        position: CertPosition,
    },
    /// A signature does not verify.
    #[error("{position}'s signature does not verify")]
    BadSignature {
        /// Which certificate.
        position: CertPosition,
    },
    /// A signature algorithm ring does not verify.
    #[error("{position} is signed with an unsupported algorithm")]
    UnsupportedSignatureAlgorithm {
        /// Which certificate.
        position: CertPosition,
    },
    /// The chain does not lead to a root of the CA bundle.
    #[error("the node certificate chain does not lead to a CA of the configured CA bundle")]
    NoTrustedRoot,
    /// A certificate of the path is not valid yet.
    #[error("{position} is not valid before {}", humanize(.not_before))]
    NotYetValid {
        /// Which certificate.
        position: CertPosition,
        /// Its NotBefore.
        not_before: SystemTime,
    },
    /// A certificate of the path has expired.
    #[error("{position} expired at {}", humanize(.not_after))]
    Expired {
        /// Which certificate.
        position: CertPosition,
        /// Its NotAfter.
        not_after: SystemTime,
    },
    /// RFC 5280 §4.2.1.9: more intermediates below a CA than its pathLenConstraint allows.
    #[error(
        "{position} allows {path_len} intermediates below it, but the path has {intermediates}"
    )]
    PathLenExceeded {
        /// The constraining CA.
        position: CertPosition,
        /// Its pathLenConstraint.
        path_len: u32,
        /// The intermediates below it.
        intermediates: usize,
    },
    /// The proof-of-possession algorithm does not fit the leaf's key.
    #[error("the signature algorithm {algorithm} does not fit the node certificate's key ({key})")]
    AlgorithmMismatch {
        /// The algorithm named.
        algorithm: PopAlgorithm,
        /// The leaf's key.
        key: &'static str,
    },
    /// The proof-of-possession signature does not verify.
    #[error("the proof-of-possession signature does not verify with the node certificate's key")]
    BadProof,
}

impl NodeCertError {
    /// Whether the evidence is malformed or exceeds a bound (the caller's input is unusable)
    /// rather than well-formed but not trusted.
    pub fn is_malformed(&self) -> bool {
        matches!(
            self,
            NodeCertError::EmptyChain
                | NodeCertError::TooManyCertificates { .. }
                | NodeCertError::CertificateTooLarge { .. }
                | NodeCertError::Malformed { .. }
                | NodeCertError::UnsupportedKey { .. }
                | NodeCertError::RsaKeySize { .. }
        )
    }
}

/// `t` as RFC 3339 UTC, e.g. `2026-12-08T00:30:00Z`.
fn humanize(t: &SystemTime) -> String {
    let secs = unix_seconds(*t);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// What a node certificate says about the node, for agent IDs and selectors.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeCertificate {
    /// The subject's first commonName, if any.
    pub subject_common_name: Option<String>,
    /// The serial number as lowercase hex without leading zeros (`0` for zero).
    pub serial_hex: String,
    /// DNS SANs.
    pub dns_names: Vec<String>,
    /// URI SANs.
    pub uris: Vec<String>,
    /// The public key, DER SubjectPublicKeyInfo.
    pub public_key_spki_der: Vec<u8>,
}

/// A node chain that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedNodeChain {
    /// The leaf's facts.
    pub leaf: NodeCertificate,
    /// The path: the leaf, the intermediates used, and last the bundle root it ends at.
    pub path: Vec<CertDer>,
    key: PopKey,
}

/// The leaf's key, as ring needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PopKey {
    EcP256(Vec<u8>),
    EcP384(Vec<u8>),
    Rsa(Vec<u8>),
}

/// How a node signs its proof of possession.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PopAlgorithm {
    /// ECDSA on P-256 with SHA-256, ASN.1 DER signature.
    EcdsaP256Sha256,
    /// ECDSA on P-384 with SHA-384, ASN.1 DER signature.
    EcdsaP384Sha384,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RsaPkcs1Sha256,
    /// RSASSA-PSS with SHA-256 (MGF1 SHA-256, salt of 32 bytes).
    RsaPssSha256,
}

impl PopAlgorithm {
    /// Every algorithm, as named on the wire.
    pub const ALL: [PopAlgorithm; 4] = [
        PopAlgorithm::EcdsaP256Sha256,
        PopAlgorithm::EcdsaP384Sha384,
        PopAlgorithm::RsaPkcs1Sha256,
        PopAlgorithm::RsaPssSha256,
    ];

    /// The wire name, e.g. `ecdsa-p256-sha256`.
    pub fn as_str(self) -> &'static str {
        match self {
            PopAlgorithm::EcdsaP256Sha256 => "ecdsa-p256-sha256",
            PopAlgorithm::EcdsaP384Sha384 => "ecdsa-p384-sha384",
            PopAlgorithm::RsaPkcs1Sha256 => "rsa-pkcs1-sha256",
            PopAlgorithm::RsaPssSha256 => "rsa-pss-sha256",
        }
    }

    /// Parses a wire name.
    pub fn from_name(name: &str) -> Option<PopAlgorithm> {
        PopAlgorithm::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

impl std::fmt::Display for PopAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The message a node signs: [`POP_CONTEXT`], the nonce's length (one byte) and the nonce, then
/// SHA-256 of the leaf's DER and SHA-256 of the attestation's CSR. Binding the leaf keeps a
/// signature from serving another certificate with the same key; binding the CSR keeps whoever
/// relays the challenge (a server the node did not authenticate) from obtaining an SVID for a
/// key of its own with the node's signature.
pub fn pop_message(nonce: &[u8], leaf_der: &[u8], csr_der: &[u8]) -> Vec<u8> {
    let nonce = &nonce[..nonce.len().min(255)];
    let mut m = Vec::with_capacity(POP_CONTEXT.len() + 1 + nonce.len() + 64);
    m.extend_from_slice(POP_CONTEXT);
    m.push(u8::try_from(nonce.len()).unwrap_or(u8::MAX));
    m.extend_from_slice(nonce);
    m.extend_from_slice(ring::digest::digest(&ring::digest::SHA256, leaf_der).as_ref());
    m.extend_from_slice(ring::digest::digest(&ring::digest::SHA256, csr_der).as_ref());
    m
}

/// Parses one certificate (within the size bound) into its node facts, without verifying it:
/// for a node checking its own certificate and key before it attests.
pub fn node_certificate(der: &[u8]) -> Result<NodeCertificate, NodeCertError> {
    let position = CertPosition::Chain(0);
    check_len(der, position)?;
    let cert = parse_cert(der).map_err(|source| NodeCertError::Malformed { position, source })?;
    Ok(facts(&cert))
}

/// Checks a root of the operator's CA bundle: a CA certificate allowed to sign certificates,
/// with a key a node chain may hold (a root that is not would anchor nothing).
pub fn check_node_root(der: &[u8]) -> Result<(), NodeCertError> {
    let position = CertPosition::BundleAuthority;
    let cert = parse_cert(der).map_err(|source| NodeCertError::Malformed { position, source })?;
    pop_key(&cert, position)?;
    check_issuer(&cert, position)
}

fn check_len(der: &[u8], position: CertPosition) -> Result<(), NodeCertError> {
    if der.len() > MAX_CERTIFICATE_LEN {
        return Err(NodeCertError::CertificateTooLarge {
            position,
            len: der.len(),
            max: MAX_CERTIFICATE_LEN,
        });
    }
    Ok(())
}

fn facts(cert: &ParsedCert<'_>) -> NodeCertificate {
    let subject_common_name = cert
        .x509
        .subject()
        .iter_common_name()
        .next()
        .and_then(|a| a.as_str().ok())
        .map(str::to_owned);
    let raw = cert.x509.raw_serial();
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let trimmed = hex.trim_start_matches('0');
    NodeCertificate {
        subject_common_name,
        serial_hex: if trimmed.is_empty() {
            "0".to_owned()
        } else {
            trimmed.to_owned()
        },
        dns_names: cert.dns_sans.clone(),
        uris: cert.uri_sans.clone(),
        public_key_spki_der: cert.spki().raw.to_vec(),
    }
}

/// The key of `cert`, if it is one a node chain may hold.
fn pop_key(cert: &ParsedCert<'_>, position: CertPosition) -> Result<PopKey, NodeCertError> {
    let params =
        PublicKeyParams::from_spki(cert.spki()).map_err(|e| NodeCertError::UnsupportedKey {
            position,
            what: e.to_string(),
        })?;
    if let Some(bits) = params.rsa_bits()
        && !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits)
    {
        return Err(NodeCertError::RsaKeySize {
            position,
            bits,
            min: MIN_RSA_BITS,
            max: MAX_RSA_BITS,
        });
    }
    let raw = crate::spki::spki_raw_public_key(cert.spki().raw).map_err(|e| {
        NodeCertError::UnsupportedKey {
            position,
            what: e.to_string(),
        }
    })?;
    match params {
        PublicKeyParams::Ec {
            curve: Curve::P256, ..
        } => Ok(PopKey::EcP256(raw.1)),
        PublicKeyParams::Ec {
            curve: Curve::P384, ..
        } => Ok(PopKey::EcP384(raw.1)),
        PublicKeyParams::Ec {
            curve: Curve::P521, ..
        } => Err(NodeCertError::UnsupportedKey {
            position,
            what: "EC P-521".to_owned(),
        }),
        PublicKeyParams::Rsa { .. } => Ok(PopKey::Rsa(raw.1)),
    }
}

fn check_structure(cert: &ParsedCert<'_>, position: CertPosition) -> Result<(), NodeCertError> {
    if !cert.signature_algorithms_match() {
        return Err(NodeCertError::SignatureAlgorithmMismatch { position });
    }
    if let Some(oid) = &cert.unsupported_critical {
        return Err(NodeCertError::UnsupportedCriticalExtension {
            position,
            oid: oid.clone(),
        });
    }
    Ok(())
}

/// A certificate that signs others: cA = true, and keyCertSign if keyUsage is present.
fn check_issuer(cert: &ParsedCert<'_>, position: CertPosition) -> Result<(), NodeCertError> {
    let ca = cert.basic_constraints.is_some_and(|bc| bc.ca);
    let may_sign = cert.key_usage.is_none_or(|ku| ku.key_cert_sign);
    if ca && may_sign {
        Ok(())
    } else {
        Err(NodeCertError::IssuerNotCa { position })
    }
}

fn signature_error(e: SignatureFailure, position: CertPosition) -> NodeCertError {
    match e {
        SignatureFailure::Bad => NodeCertError::BadSignature { position },
        SignatureFailure::UnsupportedAlgorithm => {
            NodeCertError::UnsupportedSignatureAlgorithm { position }
        }
    }
}

/// Verifies a node's chain (leaf first) at `now` against `roots` (the operator's CA bundle).
///
/// Order of the checks, cheapest and least trusting first: counts and sizes; parsing; every
/// key's type and size; the leaf's and the issuers' roles; only then signatures (the linear
/// path to a root); then validity periods and path lengths.
pub fn verify_node_chain<C: AsRef<[u8]>>(
    chain: &[C],
    roots: &[CertDer],
    now: SystemTime,
) -> Result<VerifiedNodeChain, NodeCertError> {
    if chain.is_empty() {
        return Err(NodeCertError::EmptyChain);
    }
    if chain.len() > 1 + MAX_INTERMEDIATES {
        return Err(NodeCertError::TooManyCertificates {
            count: chain.len(),
            max: 1 + MAX_INTERMEDIATES,
        });
    }
    for (i, der) in chain.iter().enumerate() {
        check_len(der.as_ref(), CertPosition::Chain(i))?;
    }
    let parsed = chain
        .iter()
        .enumerate()
        .map(|(i, der)| {
            parse_cert(der.as_ref()).map_err(|source| NodeCertError::Malformed {
                position: CertPosition::Chain(i),
                source,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut keys = Vec::with_capacity(parsed.len());
    for (i, cert) in parsed.iter().enumerate() {
        keys.push(pop_key(cert, CertPosition::Chain(i))?);
    }
    for (i, cert) in parsed.iter().enumerate() {
        check_structure(cert, CertPosition::Chain(i))?;
    }
    let leaf = &parsed[0];
    if leaf.basic_constraints.is_some_and(|bc| bc.ca) {
        return Err(NodeCertError::LeafIsCa);
    }
    if !leaf.key_usage.is_some_and(|ku| ku.digital_signature) {
        return Err(NodeCertError::LeafLacksDigitalSignature);
    }
    // Roots that do not parse, or hold keys outside the bounds, anchor nothing.
    let anchors: Vec<(usize, ParsedCert<'_>)> = roots
        .iter()
        .enumerate()
        .filter_map(|(i, r)| parse_cert(r.as_bytes()).ok().map(|p| (i, p)))
        .filter(|(_, p)| pop_key(p, CertPosition::BundleAuthority).is_ok())
        .collect();

    // Walk up the chain until a root vouches for the current certificate.
    let mut i = 0;
    let (last, root_index, external) = loop {
        let cert = &parsed[i];
        let position = CertPosition::Chain(i);
        if i > 0 {
            if let Some(r) = roots.iter().position(|r| r.as_bytes() == chain[i].as_ref()) {
                check_issuer(cert, position)?;
                break (i, r, None);
            }
            check_issuer(cert, position)?;
        }
        let mut tried = None;
        let mut found = None;
        for (index, root) in &anchors {
            if root.subject_raw() != cert.issuer_raw() {
                continue;
            }
            if let (Some(aki), Some(ski)) = (cert.authority_key_id, root.subject_key_id)
                && aki != ski
            {
                continue;
            }
            match cert.verify_signed_by(root.spki()) {
                Ok(()) => {
                    found = Some((*index, root));
                    break;
                }
                Err(e) => tried = Some(e),
            }
        }
        if let Some((index, root)) = found {
            break (i, index, Some(root));
        }
        if let Some(issuer) = parsed.get(i + 1) {
            if cert.issuer_raw() != issuer.subject_raw() {
                return Err(NodeCertError::IssuerNameMismatch { position });
            }
            cert.verify_signed_by(issuer.spki())
                .map_err(|e| signature_error(e, position))?;
            i += 1;
            continue;
        }
        // A root of the same name whose key did not sign it is still not its CA.
        return Err(match tried {
            Some(SignatureFailure::UnsupportedAlgorithm) => {
                NodeCertError::UnsupportedSignatureAlgorithm { position }
            }
            _ => NodeCertError::NoTrustedRoot,
        });
    };
    if let Some(root) = external {
        check_issuer(root, CertPosition::BundleAuthority)?;
    }

    let now_unix = unix_seconds(now);
    let path: Vec<(CertPosition, &ParsedCert<'_>)> = parsed[..=last]
        .iter()
        .enumerate()
        .map(|(i, c)| (CertPosition::Chain(i), c))
        .chain(external.map(|r| (CertPosition::BundleAuthority, r)))
        .collect();
    for (position, cert) in &path {
        if now_unix < cert.not_before_unix() {
            return Err(NodeCertError::NotYetValid {
                position: *position,
                not_before: system_time(cert.not_before_unix()),
            });
        }
        if now_unix > cert.not_after_unix() {
            return Err(NodeCertError::Expired {
                position: *position,
                not_after: system_time(cert.not_after_unix()),
            });
        }
    }
    // RFC 5280 §4.2.1.9: pathLenConstraint bounds the non-self-issued intermediates below a CA.
    for (p, (position, cert)) in path.iter().enumerate().skip(1) {
        let Some(path_len) = cert.basic_constraints.and_then(|bc| bc.path_len) else {
            continue;
        };
        let intermediates = parsed[1..p.min(last + 1)]
            .iter()
            .filter(|c| !c.is_self_issued())
            .count();
        if intermediates > path_len as usize {
            return Err(NodeCertError::PathLenExceeded {
                position: *position,
                path_len,
                intermediates,
            });
        }
    }

    let mut path_der: Vec<CertDer> = chain[..=last]
        .iter()
        .filter_map(|c| CertDer::from_der(c.as_ref()).ok())
        .collect();
    if external.is_some() {
        path_der.push(roots[root_index].clone());
    }
    Ok(VerifiedNodeChain {
        leaf: facts(leaf),
        path: path_der,
        key: keys.swap_remove(0),
    })
}

impl VerifiedNodeChain {
    /// The leaf certificate, DER.
    pub fn leaf_der(&self) -> &[u8] {
        self.path.first().map_or(&[][..], CertDer::as_bytes)
    }

    /// Checks that `signature` over `message` was made with the leaf's key by `algorithm`.
    pub fn verify_pop(
        &self,
        algorithm: PopAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), NodeCertError> {
        let (alg, key): (&'static dyn signature::VerificationAlgorithm, &[u8]) =
            match (&self.key, algorithm) {
                (PopKey::EcP256(k), PopAlgorithm::EcdsaP256Sha256) => {
                    (&signature::ECDSA_P256_SHA256_ASN1, k)
                }
                (PopKey::EcP384(k), PopAlgorithm::EcdsaP384Sha384) => {
                    (&signature::ECDSA_P384_SHA384_ASN1, k)
                }
                (PopKey::Rsa(k), PopAlgorithm::RsaPkcs1Sha256) => {
                    (&signature::RSA_PKCS1_2048_8192_SHA256, k)
                }
                (PopKey::Rsa(k), PopAlgorithm::RsaPssSha256) => {
                    (&signature::RSA_PSS_2048_8192_SHA256, k)
                }
                (key, algorithm) => {
                    return Err(NodeCertError::AlgorithmMismatch {
                        algorithm,
                        key: match key {
                            PopKey::EcP256(_) => "EC P-256",
                            PopKey::EcP384(_) => "EC P-384",
                            PopKey::Rsa(_) => "RSA",
                        },
                    });
                }
            };
        signature::UnparsedPublicKey::new(alg, key)
            .verify(message, signature)
            .map_err(|_| NodeCertError::BadProof)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn times_read_as_rfc3339() {
        assert_eq!(humanize(&UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_709_210_096);
        assert_eq!(humanize(&t), "2024-02-29T12:34:56Z");
    }

    #[test]
    fn the_message_binds_nonce_leaf_and_csr() {
        let m = pop_message(&[7; 32], b"leaf", b"csr");
        assert!(m.starts_with(POP_CONTEXT));
        assert_eq!(m.len(), POP_CONTEXT.len() + 1 + 32 + 64);
        assert_ne!(m, pop_message(&[8; 32], b"leaf", b"csr"));
        assert_ne!(m, pop_message(&[7; 32], b"leaf2", b"csr"));
        assert_ne!(m, pop_message(&[7; 32], b"leaf", b"csr2"));
    }

    #[test]
    fn algorithm_names_round_trip() {
        for a in PopAlgorithm::ALL {
            assert_eq!(PopAlgorithm::from_name(a.as_str()), Some(a));
        }
        assert_eq!(PopAlgorithm::from_name("none"), None);
    }
}
