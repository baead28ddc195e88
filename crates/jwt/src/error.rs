//! The error type: one variant per rule of `standards/JWT-SVID.md` (or RFC 7515/7519) that a
//! token, a key or a request breaks.

use lanyard_id::{IdError, TrustDomain};

/// Why a JWT-SVID could not be minted or did not validate.
///
/// Variants are named after the rule broken; the `Display` text says what was wrong and cites
/// the section of the standard. Nothing here carries key material or the token's signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// The token is not a JWS compact serialization of base64url JSON parts (JWT-SVID §5.1).
    #[error("malformed JWT-SVID {part}: {reason}")]
    Malformed {
        /// Which part: `token`, `header`, `payload` or `signature`.
        part: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The JOSE header has no `alg` (JWT-SVID §2.1: "MUST be set").
    #[error("the JOSE header has no alg (JWT-SVID §2.1)")]
    MissingAlgorithm,
    /// `alg` is `none`: unsecured JWTs are never JWT-SVIDs (JWT-SVID §2.1).
    #[error("alg \"none\" is not allowed: a JWT-SVID must be signed (JWT-SVID §2.1)")]
    AlgorithmNone,
    /// `alg` is an HMAC algorithm (`HS256`, ...), which JWT-SVID §2.1 does not permit.
    #[error("alg {alg:?} is an HMAC algorithm, which JWT-SVID does not permit (§2.1)")]
    HmacAlgorithm {
        /// The `alg` value.
        alg: String,
    },
    /// `alg` is not one of RS256/384/512, ES256/384/512, PS256/384/512 (JWT-SVID §2.1).
    #[error(
        "alg {alg:?} is not one of RS256/384/512, ES256/384/512, PS256/384/512 (JWT-SVID §2.1)"
    )]
    UnsupportedAlgorithm {
        /// The `alg` value, JSON-encoded when it is not a string.
        alg: String,
    },
    /// `alg` is permitted by the standard but the crypto backend (ring) cannot verify it.
    #[error(
        "alg {alg} is permitted by JWT-SVID §2.1 but not implemented by Lanyard's crypto backend (no P-521 in ring)"
    )]
    AlgorithmNotImplemented {
        /// The `alg` value.
        alg: String,
    },
    /// `typ` is set to something other than `JWT` or `JOSE` (JWT-SVID §2.3).
    #[error("typ {typ} is not allowed: if set it must be \"JWT\" or \"JOSE\" (JWT-SVID §2.3)")]
    InvalidType {
        /// The `typ` value, JSON-encoded.
        typ: String,
    },
    /// The header carries a member other than `alg`, `kid` and `typ` (JWT-SVID §2: "Any header
    /// not described here, registered or private, MUST NOT be included").
    #[error("header {name:?} is not allowed in a JWT-SVID: only alg, kid and typ (JWT-SVID §2)")]
    UnexpectedHeader {
        /// The member name.
        name: String,
    },
    /// There is no (non-empty, string) `kid`, so no bundle key can be chosen (JWT-SVID §6.1).
    #[error("the JOSE header has no kid naming the signing key in the bundle (JWT-SVID §6.1)")]
    MissingKeyId,
    /// The claims have no `sub` (JWT-SVID §3.1: "MUST be set to the SPIFFE ID").
    #[error("the token has no sub claim (JWT-SVID §3.1)")]
    MissingSubject,
    /// `sub` is not a valid SPIFFE ID (JWT-SVID §3.1).
    #[error("sub {sub:?} is not a SPIFFE ID (JWT-SVID §3.1): {source}")]
    InvalidSubject {
        /// The `sub` value.
        sub: String,
        /// Why it is not a SPIFFE ID.
        source: IdError,
    },
    /// No bundle is known for the subject's trust domain.
    #[error(
        "no bundle is known for trust domain {trust_domain}, the trust domain of the token's sub"
    )]
    NoBundleForTrustDomain {
        /// The subject's trust domain.
        trust_domain: TrustDomain,
    },
    /// The trust domain's bundle holds no JWT authorities (JWT-SVID §6.2: the trust domain
    /// "does not support JWT-SVID").
    #[error("the bundle of trust domain {trust_domain} has no jwt-svid keys (JWT-SVID §6.2)")]
    NoJwtAuthorities {
        /// The subject's trust domain.
        trust_domain: TrustDomain,
    },
    /// The `kid` is not a JWT authority of the subject's trust domain.
    #[error("key {kid:?} is not a JWT authority of trust domain {trust_domain}")]
    UnknownKeyId {
        /// The `kid` value.
        kid: String,
        /// The subject's trust domain.
        trust_domain: TrustDomain,
    },
    /// The bundle key cannot verify anything (unparseable, unsupported, or an RSA size ring
    /// refuses).
    #[error("bundle key {kid:?} cannot be used: {reason}")]
    UnusableAuthorityKey {
        /// The `kid` value.
        kid: String,
        /// Why.
        reason: String,
    },
    /// The bundle key's type does not match `alg` (e.g. an EC key and `RS256`).
    #[error("alg {alg} cannot be verified with bundle key {kid:?}, which is {key}")]
    KeyAlgorithmMismatch {
        /// The `kid` value.
        kid: String,
        /// The `alg` value.
        alg: String,
        /// The key's type, e.g. `EC P-256`.
        key: String,
    },
    /// The signature does not verify with the bundle key (RFC 7515 §5.2 step 8).
    #[error("the signature does not verify with bundle key {kid:?}")]
    InvalidSignature {
        /// The `kid` value.
        kid: String,
    },
    /// The claims have no `exp` (JWT-SVID §3.3: "validators MUST reject tokens without this
    /// claim").
    #[error("the token has no exp claim (JWT-SVID §3.3)")]
    MissingExpiry,
    /// `exp` is not in the future (RFC 7519 §4.1.4, JWT-SVID Appendix A).
    #[error("the token expired at {exp} (now {now}; RFC 7519 §4.1.4)")]
    Expired {
        /// The `exp` value, seconds since the epoch.
        exp: i64,
        /// The validation time.
        now: i64,
    },
    /// `nbf` is in the future (RFC 7519 §4.1.5).
    #[error("the token is not valid before {nbf} (now {now}; RFC 7519 §4.1.5)")]
    NotYetValid {
        /// The `nbf` value.
        nbf: i64,
        /// The validation time.
        now: i64,
    },
    /// The claims have no `aud`, or an empty one (JWT-SVID §3.2: "MUST be present, containing
    /// one or more values").
    #[error("the token has no aud claim or an empty one (JWT-SVID §3.2)")]
    MissingAudience,
    /// The validator's audience is not among the token's `aud` values (JWT-SVID §3.2).
    #[error("audience {expected:?} is not in the token's aud {actual:?} (JWT-SVID §3.2)")]
    AudienceMismatch {
        /// The audience the validator identifies with.
        expected: String,
        /// The token's `aud` values.
        actual: Vec<String>,
    },
    /// The validator was asked to accept an empty audience (Appendix A: "Users should configure
    /// at least one acceptable value in advance").
    #[error(
        "the expected audience is empty: configure the audience this validator identifies with"
    )]
    EmptyExpectedAudience,
    /// A request names no audience (Workload API §5.3: `audience` is required; JWT-SVID §3.2:
    /// "one or more values").
    #[error("audience must be specified")]
    AudienceRequired,
    /// A request names an empty audience value.
    #[error("audience values must not be empty")]
    EmptyAudience,
    /// A request names more than [`crate::MAX_AUDIENCES`] audiences.
    #[error("at most {max} audiences are allowed (got {got})", max = crate::MAX_AUDIENCES)]
    TooManyAudiences {
        /// How many it named.
        got: usize,
    },
    /// A requested audience is longer than [`crate::MAX_AUDIENCE_LEN`] bytes.
    #[error("an audience may be at most {max} bytes (got {got})", max = crate::MAX_AUDIENCE_LEN)]
    AudienceTooLong {
        /// Its length in bytes.
        got: usize,
    },
    /// A claim has the wrong JSON type or value (e.g. `exp` not a NumericDate, RFC 7519 §2).
    #[error("claim {name} is invalid: {reason}")]
    InvalidClaim {
        /// The claim name.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Minting: an extra claim would override `sub`, `aud`, `exp` or `iat`.
    #[error("extra claim {name:?} is reserved: set it through the JwtSvidClaims field instead")]
    ReservedClaim {
        /// The claim name.
        name: String,
    },
    /// Minting: the key cannot sign JWT-SVIDs here (only EC P-256, EC P-384 and RSA can).
    #[error("cannot sign a JWT-SVID with this key: {reason}")]
    UnsupportedSigningKey {
        /// Why.
        reason: String,
    },
    /// Minting: the crypto backend refused the key or failed to sign.
    #[error("signing the JWT-SVID failed: {reason}")]
    SigningFailed {
        /// What failed.
        reason: String,
    },
}
