//! Error types, one `#[non_exhaustive]` enum per job of the crate.
//!
//! Variants are named after the rule that was broken (for verification: the section of
//! `standards/X509-SVID.md` or RFC 5280 that says so), so a caller can match on the exact reason
//! and an operator can read it in a log line.

mod svid;

pub use svid::{CertPosition, X509SvidError};

use std::time::SystemTime;

use lanyard_id::{SpiffeId, TrustDomain};

/// Why bytes are not a usable DER X.509 certificate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// The bytes are not a DER-encoded X.509 certificate.
    #[error("not a DER X.509 certificate: {reason}")]
    Malformed {
        /// What the parser reported.
        reason: String,
    },
    /// A single certificate was expected but bytes follow it.
    #[error("{len} unexpected bytes after the certificate")]
    TrailingData {
        /// Number of trailing bytes.
        len: usize,
    },
    /// An extension appears twice (RFC 5280 §4.2: "MUST NOT include more than one instance").
    #[error("extension {oid} appears more than once (RFC 5280 §4.2)")]
    DuplicateExtension {
        /// Dotted OID of the duplicated extension.
        oid: String,
    },
    /// A known extension could not be decoded.
    #[error("extension {oid} is malformed")]
    MalformedExtension {
        /// Dotted OID of the malformed extension.
        oid: String,
    },
    /// A concatenated DER blob holds something other than whole DER SEQUENCEs.
    #[error("concatenated DER is malformed at byte {offset}")]
    MalformedConcatenation {
        /// Offset of the first byte that could not be read.
        offset: usize,
    },
}

/// Errors about key pairs and public keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key-type name is not one of `ec-p256`, `ec-p384`, `rsa-2048`, `rsa-3072`, `rsa-4096`.
    #[error("unknown key type {0:?}: expected ec-p256, ec-p384, rsa-2048, rsa-3072 or rsa-4096")]
    UnknownKeyType(String),
    /// The random generator or key generation failed.
    #[error("key generation failed")]
    GenerationFailed,
    /// The bytes are not a PKCS#8 private key of a supported type (EC P-256/P-384, RSA).
    #[error("not a PKCS#8 private key of a supported type (EC P-256, EC P-384 or RSA)")]
    MalformedPrivateKey,
    /// The PEM input holds no `PRIVATE KEY` block.
    #[error("no PEM \"PRIVATE KEY\" block found")]
    MissingPemPrivateKey,
    /// The bytes are not a DER SubjectPublicKeyInfo.
    #[error("not a DER SubjectPublicKeyInfo")]
    MalformedPublicKey,
    /// The public key algorithm or curve is not supported here.
    #[error("unsupported public key type: {0}")]
    UnsupportedPublicKey(String),
}

/// Errors when building CA certificates and X.509-SVIDs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// X509-SVID §3.1: "Leaf certificate SPIFFE IDs MUST have a non-root path component."
    #[error(
        "cannot issue an X.509-SVID for {id}: leaf SPIFFE IDs must have a path (X509-SVID §3.1)"
    )]
    LeafIdIsRoot {
        /// The rejected ID.
        id: SpiffeId,
    },
    /// The requested ID is not in the signing CA's trust domain.
    #[error("cannot issue {id}: it is not in the signing CA's trust domain {ca_trust_domain}")]
    IdNotInCaTrustDomain {
        /// The rejected ID.
        id: SpiffeId,
        /// The trust domain of the signing CA.
        ca_trust_domain: TrustDomain,
    },
    /// The signing CA certificate carries no SPIFFE ID, so its trust domain is unknown.
    #[error("the signing CA certificate has no spiffe:// URI SAN, so its trust domain is unknown")]
    CaHasNoSpiffeId,
    /// The signing CA certificate has more than one URI SAN (X509-SVID §2).
    #[error("the signing CA certificate has more than one URI SAN (X509-SVID §2)")]
    CaHasMultipleUriSans,
    /// X509-SVID §3.2: a signing certificate's SPIFFE ID "MUST NOT have a path component".
    #[error("the signing CA certificate's SPIFFE ID {id} has a path (X509-SVID §3.2)")]
    CaIdHasPath {
        /// The CA's ID.
        id: String,
    },
    /// X509-SVID §3.2/§4.1/§4.3: a signing certificate needs `cA=true` and `keyCertSign`.
    #[error(
        "the signing certificate is not a CA (needs basicConstraints cA=true and keyUsage keyCertSign)"
    )]
    CaNotSigningCertificate,
    /// The private key does not belong to the signing CA certificate.
    #[error("the private key does not match the signing CA certificate's public key")]
    CaKeyMismatch,
    /// The CA certificate could not be parsed.
    #[error("signing CA certificate: {0}")]
    CaCertificate(#[from] CertificateError),
    /// The CA's subject name cannot be reproduced byte-for-byte as the issuer of new certificates.
    #[error(
        "the signing CA's subject name cannot be copied exactly into the issuer field (multi-valued or repeated attributes are not supported)"
    )]
    UnsupportedCaSubject,
    /// RFC 5280 §4.1.2.4/§4.1.2.6: a CA certificate's subject (the issuer of what it signs) must not be empty.
    #[error("a CA certificate needs a non-empty subject distinguished name (RFC 5280 §4.1.2.4)")]
    EmptyCaSubject,
    /// A subject attribute breaks its X.520 type (RFC 5280 Appendix A upper bounds).
    #[error("invalid subject: {reason}")]
    InvalidSubject {
        /// What is wrong.
        reason: String,
    },
    /// A DNS name is not a valid DNS SAN.
    #[error("invalid DNS name {0:?}")]
    InvalidDnsName(String),
    /// After backdating and capping at the CA's NotAfter, NotAfter is not after NotBefore.
    #[error(
        "empty validity window: NotAfter ({not_after:?}) is not after NotBefore ({not_before:?}) once capped at the CA's NotAfter"
    )]
    EmptyValidity {
        /// The computed NotBefore.
        not_before: SystemTime,
        /// The computed NotAfter.
        not_after: SystemTime,
    },
    /// A time cannot be encoded in a certificate (before 1970 or after the year 9999).
    #[error("time {0:?} cannot be encoded in a certificate")]
    TimeOutOfRange(SystemTime),
    /// The subject public key is unusable.
    #[error("subject public key: {0}")]
    Key(#[from] KeyError),
    /// rcgen refused to build or sign the certificate.
    #[error("certificate signing failed: {0}")]
    Signing(String),
}

/// Errors when parsing a PKCS#10 certificate signing request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CsrError {
    /// The bytes are not a DER PKCS#10 CSR.
    #[error("not a DER PKCS#10 certificate signing request")]
    Malformed,
    /// Bytes follow the CSR.
    #[error("{len} unexpected bytes after the certificate signing request")]
    TrailingData {
        /// Number of trailing bytes.
        len: usize,
    },
    /// The CSR's signature does not verify under the key it carries (proof of possession failed).
    #[error("the CSR signature does not verify under its own public key")]
    BadSignature,
    /// The CSR is signed with an algorithm we do not verify.
    #[error("the CSR uses an unsupported signature algorithm")]
    UnsupportedSignatureAlgorithm,
    /// The CSR's key is not EC P-256/P-384 or RSA (2048 bits or more).
    #[error("CSR public key: {0}")]
    UnsupportedKey(#[from] KeyError),
    /// rcgen failed to build a CSR.
    #[error("building the CSR failed: {0}")]
    Build(String),
}

/// Errors when decoding or encoding SPIFFE bundles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The input is not a JSON object.
    #[error("bundle is not a JSON object: {0}")]
    NotJsonObject(String),
    /// Trust-domain bundle §4.1.3: "The parameter `keys` MUST be present."
    #[error("bundle has no \"keys\" array (SPIFFE_Trust_Domain_and_Bundle §4.1.3)")]
    KeysMissing,
    /// `spiffe_sequence` is not an unsigned 64-bit integer (§4.1.1).
    #[error(
        "\"spiffe_sequence\" must be an unsigned integer (SPIFFE_Trust_Domain_and_Bundle §4.1.1)"
    )]
    InvalidSequenceNumber,
    /// `spiffe_refresh_hint` is not a non-negative integer number of seconds (§4.1.2).
    #[error(
        "\"spiffe_refresh_hint\" must be a non-negative integer of seconds (SPIFFE_Trust_Domain_and_Bundle §4.1.2)"
    )]
    InvalidRefreshHint,
    /// A key entry is not a JSON object.
    #[error("keys[{index}] is not a JSON object")]
    KeyNotObject {
        /// Index in `keys`.
        index: usize,
    },
    /// Trust-domain bundle §4.2.1: "The `kty` parameter MUST be set."
    #[error("keys[{index}] has no \"kty\" (SPIFFE_Trust_Domain_and_Bundle §4.2.1)")]
    KeyMissingKty {
        /// Index in `keys`.
        index: usize,
    },
    /// A member of a key entry has the wrong JSON type or encoding.
    #[error("keys[{index}].{member} is malformed")]
    MalformedKeyMember {
        /// Index in `keys`.
        index: usize,
        /// The JSON member name.
        member: &'static str,
    },
    /// The `x5c` certificate of an `x509-svid` entry is not a certificate.
    #[error("keys[{index}].x5c[0]: {source}")]
    MalformedX509Authority {
        /// Index in `keys`.
        index: usize,
        /// Why the certificate is unusable.
        source: CertificateError,
    },
    /// RFC 7517 §4.7: the key in `x5c[0]` must match the key members of the JWK.
    #[error(
        "keys[{index}]: the key members do not match the x5c certificate's key (RFC 7517 §4.7)"
    )]
    X509AuthorityKeyMismatch {
        /// Index in `keys`.
        index: usize,
    },
    /// JWT-SVID §6.1: "the `kid` parameter of each JWK entry MUST be set" for `jwt-svid` keys.
    #[error("keys[{index}] is a jwt-svid key without a \"kid\" (JWT-SVID §6.1)")]
    JwtAuthorityMissingKid {
        /// Index in `keys`.
        index: usize,
    },
    /// Two `jwt-svid` keys share a `kid`, so a token's key would be ambiguous.
    #[error("two jwt-svid keys share kid {kid:?}")]
    DuplicateJwtKid {
        /// The repeated key ID.
        kid: String,
    },
    /// A key cannot be expressed as a JWK (unsupported type or malformed SPKI).
    #[error("key cannot be encoded as a JWK: {0}")]
    Key(#[from] KeyError),
    /// PEM input is malformed.
    #[error("malformed PEM: {0}")]
    MalformedPem(String),
    /// A PEM block is not a `CERTIFICATE`.
    #[error("unexpected PEM block {0:?}; expected CERTIFICATE")]
    UnexpectedPemBlock(String),
    /// PEM input meant as a bundle holds no `CERTIFICATE` block, so the bundle would trust
    /// nothing.
    #[error("no PEM CERTIFICATE block found; a PEM bundle is one or more CA certificates")]
    NoPemCertificates,
    /// A certificate in PEM or concatenated DER input is unusable.
    #[error("certificate: {0}")]
    Certificate(#[from] CertificateError),
}
