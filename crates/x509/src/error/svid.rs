//! The verification error: one variant per rule of X509-SVID.md §2–§5 and RFC 5280 §6.

use std::fmt;
use std::time::SystemTime;

use lanyard_id::{IdError, SpiffeId, TrustDomain};

use super::CertificateError;

/// Where in a certification path a certificate sits; used in verification errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CertPosition {
    /// The certificate at this index of the presented chain (0 is the leaf).
    Chain(usize),
    /// The X.509 authority from the trust domain's bundle that anchors the path.
    BundleAuthority,
}

impl fmt::Display for CertPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertPosition::Chain(0) => f.write_str("leaf certificate (chain[0])"),
            CertPosition::Chain(i) => write!(f, "chain[{i}]"),
            CertPosition::BundleAuthority => f.write_str("bundle authority"),
        }
    }
}

/// Why an X.509-SVID (chain) was rejected; see `standards/X509-SVID.md` §2–§5.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum X509SvidError {
    /// The chain holds no certificate.
    #[error("empty certificate chain")]
    EmptyChain,
    /// A certificate in the chain is not a well-formed X.509 certificate.
    #[error("{position}: {source}")]
    MalformedCertificate {
        /// Which certificate.
        position: CertPosition,
        /// What is wrong with it.
        source: CertificateError,
    },
    /// X509-SVID §2: "An X.509 SVID MUST contain exactly one URI SAN" (none found).
    #[error("leaf has no URI SAN, so no SPIFFE ID (X509-SVID §2)")]
    LeafMissingUriSan,
    /// X509-SVID §2/§5.2: "SVIDs containing more than one URI SAN MUST be rejected."
    #[error("leaf has {count} URI SANs; exactly one is allowed (X509-SVID §2, §5.2)")]
    LeafHasMultipleUriSans {
        /// How many URI SANs were found.
        count: usize,
    },
    /// X509-SVID §5.2: the URI SAN must be a valid `spiffe://` ID.
    #[error("leaf URI SAN {uri:?} is not a valid SPIFFE ID (X509-SVID §5.2): {source}")]
    LeafUriSanNotSpiffeId {
        /// The URI found.
        uri: String,
        /// Why it is not a SPIFFE ID.
        source: IdError,
    },
    /// X509-SVID §3.1/§5.2: the leaf's SPIFFE ID must have a non-root path.
    #[error(
        "leaf SPIFFE ID {id} has no path; leaf IDs need a non-root path (X509-SVID §3.1, §5.2)"
    )]
    LeafIdIsRoot {
        /// The ID found.
        id: SpiffeId,
    },
    /// X509-SVID §3.1 / RFC 5280 §4.1.2.6: an empty subject requires a critical SAN extension.
    #[error("leaf subject is empty but its SAN extension is not critical (X509-SVID §3.1)")]
    LeafSanNotCriticalWithEmptySubject,
    /// X509-SVID §4.1: leaf certificates MUST set `cA` to false, so basicConstraints must be present.
    #[error(
        "leaf has no basicConstraints extension; it must be present with cA=false (X509-SVID §4.1)"
    )]
    LeafMissingBasicConstraints,
    /// X509-SVID §4.1/§5.2: the leaf's `cA` flag MUST be false.
    #[error("leaf has basicConstraints cA=true (X509-SVID §4.1, §5.2)")]
    LeafHasCaFlag,
    /// X509-SVID §4.3: "The key usage extension MUST be set on all SVIDs".
    #[error("leaf has no keyUsage extension (X509-SVID §4.3)")]
    LeafMissingKeyUsage,
    /// X509-SVID §4.3: the key usage extension "MUST be marked critical".
    #[error("leaf keyUsage extension is not critical (X509-SVID §4.3)")]
    LeafKeyUsageNotCritical,
    /// X509-SVID §4.3: "Leaf SVIDs MUST set `digitalSignature`."
    #[error("leaf keyUsage lacks digitalSignature (X509-SVID §4.3)")]
    LeafMissingDigitalSignature,
    /// X509-SVID §4.3/§5.2: leaf SVIDs "MUST NOT set `keyCertSign`".
    #[error("leaf keyUsage has keyCertSign (X509-SVID §4.3, §5.2)")]
    LeafHasKeyCertSign,
    /// X509-SVID §4.3/§5.2: leaf SVIDs "MUST NOT set ... `cRLSign`".
    #[error("leaf keyUsage has cRLSign (X509-SVID §4.3, §5.2)")]
    LeafHasCrlSign,
    /// X509-SVID §4.4: when extendedKeyUsage is present, `id-kp-serverAuth` MUST be set.
    #[error("leaf extendedKeyUsage lacks id-kp-serverAuth (X509-SVID §4.4)")]
    LeafEkuMissingServerAuth,
    /// X509-SVID §4.4: when extendedKeyUsage is present, `id-kp-clientAuth` MUST be set.
    #[error("leaf extendedKeyUsage lacks id-kp-clientAuth (X509-SVID §4.4)")]
    LeafEkuMissingClientAuth,
    /// X509-SVID §3.2/§4.1: signing certificates MUST set `cA` to true.
    #[error(
        "{position} signs certificates but is not a CA (basicConstraints cA=true required, X509-SVID §3.2, §4.1)"
    )]
    SigningCertMissingCaFlag {
        /// Which certificate.
        position: CertPosition,
    },
    /// X509-SVID §3.2/§4.3: "SVID signing certificates MUST set `keyCertSign`."
    #[error("{position} signs certificates but its keyUsage lacks keyCertSign (X509-SVID §4.3)")]
    SigningCertMissingKeyCertSign {
        /// Which certificate.
        position: CertPosition,
    },
    /// X509-SVID §3.2: a signing certificate's SPIFFE ID, "if present, ... MUST NOT have a path".
    #[error(
        "{position} is a signing certificate whose SPIFFE ID {id:?} has a path (X509-SVID §3.2)"
    )]
    SigningCertIdHasPath {
        /// Which certificate.
        position: CertPosition,
        /// The offending URI.
        id: String,
    },
    /// X509-SVID §2: a signing certificate's `spiffe://` URI SAN must be a valid SPIFFE ID.
    #[error("{position} has an invalid spiffe:// URI SAN {uri:?}: {source}")]
    SigningCertIdInvalid {
        /// Which certificate.
        position: CertPosition,
        /// The offending URI.
        uri: String,
        /// Why it is invalid.
        source: IdError,
    },
    /// RFC 5280 §4.2: a certificate has a critical extension this validator does not process.
    #[error("{position} has unsupported critical extension {oid} (RFC 5280 §4.2)")]
    UnsupportedCriticalExtension {
        /// Which certificate.
        position: CertPosition,
        /// Dotted OID of the extension.
        oid: String,
    },
    /// Trust-domain bundle §3: validators must use the bundle of the SVID's trust domain; none is known.
    #[error("no X.509 bundle for trust domain {trust_domain}")]
    NoBundleForTrustDomain {
        /// The leaf's trust domain.
        trust_domain: TrustDomain,
    },
    /// The path does not end at an authority of the leaf's trust-domain bundle.
    #[error(
        "{position} was not issued by any X.509 authority in the bundle for {trust_domain}, and the chain does not continue"
    )]
    NoTrustedAuthority {
        /// The last certificate of the chain that was examined.
        position: CertPosition,
        /// The trust domain whose bundle was used.
        trust_domain: TrustDomain,
    },
    /// RFC 5280 §6.1.3 (a)(4): the issuer name must equal the next certificate's subject.
    #[error(
        "{position}'s issuer name does not match the subject of the next certificate in the chain (RFC 5280 §6.1.3)"
    )]
    IssuerNameMismatch {
        /// The certificate whose issuer did not match.
        position: CertPosition,
    },
    /// RFC 5280 §6.1.3 (a)(1): the signature does not verify under the issuer's key.
    #[error(
        "{position}'s signature does not verify under its issuer's public key (RFC 5280 §6.1.3)"
    )]
    BadSignature {
        /// The certificate whose signature failed.
        position: CertPosition,
    },
    /// The certificate's signature algorithm is not supported (ring: ECDSA P-256/P-384, RSA ≥ 2048).
    #[error("{position} uses an unsupported signature algorithm")]
    UnsupportedSignatureAlgorithm {
        /// Which certificate.
        position: CertPosition,
    },
    /// RFC 5280 §4.1.1.2: `signatureAlgorithm` must equal the TBS `signature` field.
    #[error("{position}'s outer and inner signature algorithms differ (RFC 5280 §4.1.1.2)")]
    SignatureAlgorithmMismatch {
        /// Which certificate.
        position: CertPosition,
    },
    /// RFC 5280 §4.2.1.9: more intermediates follow a CA than its pathLenConstraint allows.
    #[error(
        "{position} has pathLenConstraint {path_len} but {intermediates} intermediate CA certificates follow it (RFC 5280 §4.2.1.9)"
    )]
    PathLenExceeded {
        /// The constrained CA.
        position: CertPosition,
        /// Its pathLenConstraint.
        path_len: u32,
        /// How many non-self-issued intermediates follow it.
        intermediates: usize,
    },
    /// RFC 5280 §6.1.3 (a)(2): the certificate's NotAfter is in the past.
    #[error("{position} expired at {not_after:?}")]
    Expired {
        /// Which certificate.
        position: CertPosition,
        /// Its NotAfter.
        not_after: SystemTime,
    },
    /// RFC 5280 §6.1.3 (a)(2): the certificate's NotBefore is in the future.
    #[error("{position} is not valid before {not_before:?}")]
    NotYetValid {
        /// Which certificate.
        position: CertPosition,
        /// Its NotBefore.
        not_before: SystemTime,
    },
}
