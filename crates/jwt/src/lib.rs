//! JWT-SVIDs: mint them and validate them, exactly to spiffe/spiffe `standards/JWT-SVID.md`.
//!
//! - [`mint_jwt_svid`]: a JWS compact token (`alg` ES256, ES384 or RS256 by key type, `kid`,
//!   `typ: JWT`) carrying `sub`, `aud`, `exp`, `iat` and optional extra claims.
//! - [`validate_jwt_svid`]: the validator of JWT-SVID §2–§5 and Appendix A, looking keys up by
//!   the subject's trust domain and the `kid` through a [`JwtBundleSource`] (implemented for
//!   [`lanyard_x509::Bundle`] and [`lanyard_x509::BundleSet`]).
//! - [`check_audiences`], [`check_audience`]: the bounds of a requested audience set
//!   ([`MAX_AUDIENCES`] values of at most [`MAX_AUDIENCE_LEN`] bytes), the one definition the
//!   agent and the server enforce.
//! - [`JwtError`]: one variant per rule a token or a request can break.
//! - [`unverified_key_id`], [`unverified_claims`]: a token's `kid` and claims, unverified, for
//!   bookkeeping and display only.
//!
//! Validation policy, where the standard leaves a choice:
//! - `kid` is required: §2.2 makes it optional for the token, but §6.1 says every bundle key
//!   has one and a validator needs it to pick the key.
//! - Header members other than `alg`, `kid` and `typ` are rejected (§2: "Any header not
//!   described here, registered or private, MUST NOT be included").
//! - `sub` must be a valid SPIFFE ID; a root path is accepted (§3.1 asks only for "the SPIFFE
//!   ID of the workload", unlike X509-SVID §3.1).
//! - `exp` and `nbf` are enforced with [`LEEWAY_SECS`] of leeway; `iat`, if present, must be a
//!   NumericDate but its value is not checked (RFC 7519 §4.1.6 gives it no validation rule).
//! - `ES512` is a permitted algorithm, but ring (the workspace's only crypto backend) has no
//!   P-521, so such tokens fail with [`JwtError::AlgorithmNotImplemented`].
//! - A [`lanyard_x509::JwtAuthority`]'s `expires_at` is not consulted: removing retired keys
//!   is the bundle owner's job, and a token's own `exp` bounds its validity.
//!
//! No I/O: the current time is an argument (seconds since the Unix epoch), and the only ambient
//! input is the system random generator (ECDSA nonces). Cryptography is ring only.

mod alg;
mod audience;
mod error;
mod jws;
mod mint;
mod source;
mod validate;

pub use audience::{MAX_AUDIENCE_LEN, MAX_AUDIENCES, check_audience, check_audiences};
pub use error::JwtError;
pub use jws::{unverified_claims, unverified_key_id};
pub use mint::{JwtSvidClaims, mint_jwt_svid};
pub use source::JwtBundleSource;
pub use validate::{ValidatedJwtSvid, validate_jwt_svid};

/// Clock-skew leeway, in seconds, applied to `exp` and `nbf`.
///
/// JWT-SVID Appendix A: `exp` "Must not be in the past (a small amount of leeway is
/// acceptable)". Lanyard allows none: issuers mint with `iat` = now and no `nbf`, and
/// workloads refresh tokens long before they expire.
pub const LEEWAY_SECS: i64 = 0;
