//! Validating JWT-SVIDs: JWT-SVID §2–§5 and Appendix A, signatures per RFC 7515 §5.2.
//!
//! Order: shape and header first (JWT-SVID §4: "Validators MUST ensure that the `alg` header is
//! set to a supported value before processing"), then the subject (its trust domain selects the
//! bundle), the key and the signature, and only then the claims that the signature vouches for.

use lanyard_id::SpiffeId;
use lanyard_x509::spki_raw_public_key;
use ring::signature::UnparsedPublicKey;
use serde_json::{Map, Value};

use crate::LEEWAY_SECS;
use crate::alg::Algorithm;
use crate::error::JwtError;
use crate::jws::{self, present};
use crate::source::JwtBundleSource;

/// A JWT-SVID that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedJwtSvid {
    /// The `sub` claim.
    pub spiffe_id: SpiffeId,
    /// Every claim of the token, as sent.
    pub claims: Map<String, Value>,
    /// The `kid` of the bundle key that verified the signature.
    pub kid: String,
    /// The `exp` claim, seconds since the Unix epoch (fractions truncated).
    pub expires_at: i64,
}

/// The header members JWT-SVID §2 describes; any other "MUST NOT be included".
const ALLOWED_HEADERS: [&str; 3] = ["alg", "kid", "typ"];

/// Validates `token` for a validator identifying as `audience` at time `now` (seconds since the
/// Unix epoch), with keys from `bundles`. Never panics, whatever the input.
pub fn validate_jwt_svid<B: JwtBundleSource + ?Sized>(
    token: &str,
    audience: &str,
    bundles: &B,
    now: i64,
) -> Result<ValidatedJwtSvid, JwtError> {
    if audience.is_empty() {
        return Err(JwtError::EmptyExpectedAudience);
    }
    // JWT-SVID §5.1: JWS Compact Serialization, i.e. three base64url parts (RFC 7515 §7.1).
    let parts: Vec<&str> = token.splitn(4, '.').collect();
    let [header_b64, payload_b64, signature_b64] = parts[..] else {
        return Err(JwtError::Malformed {
            part: "token",
            reason: "expected three dot-separated parts (JWS compact serialization)".to_string(),
        });
    };
    let header = jws::decode_object("header", header_b64)?;
    let (alg, kid) = check_header(&header)?;

    let payload = jws::decode_object("payload", payload_b64)?;
    let spiffe_id = subject(&payload)?;

    // Trust Domain and Bundle §3: the bundle is the one of the trust domain the SVID is in.
    let trust_domain = spiffe_id.trust_domain();
    let authorities =
        bundles
            .jwt_authorities(&trust_domain)
            .ok_or_else(|| JwtError::NoBundleForTrustDomain {
                trust_domain: trust_domain.clone(),
            })?;
    if authorities.is_empty() {
        return Err(JwtError::NoJwtAuthorities { trust_domain });
    }
    let authority = authorities.get(kid).ok_or_else(|| JwtError::UnknownKeyId {
        kid: kid.to_string(),
        trust_domain,
    })?;
    let (key_alg, raw_key) =
        spki_raw_public_key(&authority.public_key).map_err(|e| JwtError::UnusableAuthorityKey {
            kid: kid.to_string(),
            reason: e.to_string(),
        })?;
    let verifier = alg.verifier(key_alg, kid)?;

    // RFC 7515 §5.2 step 8: verify over the signing input exactly as received.
    let signature = jws::decode("signature", signature_b64)?;
    let signing_input_len = header_b64.len() + 1 + payload_b64.len();
    let signing_input = token.get(..signing_input_len).unwrap_or_default();
    UnparsedPublicKey::new(verifier, raw_key)
        .verify(signing_input.as_bytes(), &signature)
        .map_err(|_| JwtError::InvalidSignature {
            kid: kid.to_string(),
        })?;

    let expires_at = check_times(&payload, now)?;
    check_audience(&payload, audience)?;
    Ok(ValidatedJwtSvid {
        spiffe_id,
        kid: kid.to_string(),
        expires_at,
        claims: payload,
    })
}

/// Checks the JOSE header (JWT-SVID §2) and returns the algorithm and the `kid`.
fn check_header(header: &Map<String, Value>) -> Result<(Algorithm, &str), JwtError> {
    // §2.1 first, so that `none` and HMAC tokens are named as such whatever else they carry.
    let alg = Algorithm::from_header(present(header, "alg"))?;
    // §2: "Any header not described here, registered or private, MUST NOT be included." This
    // also covers `crit` (RFC 7515 §4.1.11) and key-carrying headers such as `jwk` and `jku`.
    if let Some(name) = header
        .keys()
        .find(|k| !ALLOWED_HEADERS.contains(&k.as_str()))
    {
        return Err(JwtError::UnexpectedHeader { name: name.clone() });
    }
    // §2.3: "The `typ` header is optional. If set, its value MUST be either `JWT` or `JOSE`."
    if let Some(typ) = header.get("typ")
        && !matches!(typ.as_str(), Some("JWT" | "JOSE"))
    {
        return Err(JwtError::InvalidType {
            typ: typ.to_string(),
        });
    }
    // §6.1: every bundle key has a `kid`; without one in the token no key can be chosen.
    match present(header, "kid").and_then(Value::as_str) {
        Some(kid) if !kid.is_empty() => Ok((alg, kid)),
        _ => Err(JwtError::MissingKeyId),
    }
}

/// §3.1: "The `sub` claim MUST be set to the SPIFFE ID of the workload to which it is issued."
fn subject(payload: &Map<String, Value>) -> Result<SpiffeId, JwtError> {
    let sub = match present(payload, "sub") {
        None => return Err(JwtError::MissingSubject),
        Some(Value::String(sub)) => sub,
        Some(other) => {
            return Err(JwtError::InvalidClaim {
                name: "sub",
                reason: format!("{other} is not a string"),
            });
        }
    };
    SpiffeId::parse(sub).map_err(|source| JwtError::InvalidSubject {
        sub: sub.clone(),
        source,
    })
}

/// `exp` (§3.3, RFC 7519 §4.1.4), `nbf` (RFC 7519 §4.1.5) and the type of `iat`; returns `exp`.
fn check_times(payload: &Map<String, Value>, now: i64) -> Result<i64, JwtError> {
    // §3.3: "The `exp` claim MUST be set, and validators MUST reject tokens without this claim."
    let exp = numeric_date(payload, "exp")?.ok_or(JwtError::MissingExpiry)?;
    // RFC 7519 §4.1.4: "the current date/time MUST be before the expiration date/time".
    if now >= exp.saturating_add(LEEWAY_SECS) {
        return Err(JwtError::Expired { exp, now });
    }
    // RFC 7519 §4.1.5: the JWT "MUST NOT be accepted for processing" before `nbf`.
    if let Some(nbf) = numeric_date(payload, "nbf")?
        && now.saturating_add(LEEWAY_SECS) < nbf
    {
        return Err(JwtError::NotYetValid { nbf, now });
    }
    // RFC 7519 §4.1.6 sets only the type of `iat`, no validation rule for its value.
    numeric_date(payload, "iat")?;
    Ok(exp)
}

/// A NumericDate claim (RFC 7519 §2: "A JSON numeric value ... non-integer values can be
/// represented"), truncated to whole seconds; `None` when absent.
fn numeric_date(payload: &Map<String, Value>, name: &'static str) -> Result<Option<i64>, JwtError> {
    let Some(value) = present(payload, name) else {
        return Ok(None);
    };
    let seconds = value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.is_finite())
            // Saturating conversion: beyond ±2^63 seconds the exact value no longer matters.
            .map(|f| f.floor() as i64)
    });
    match seconds {
        Some(seconds) => Ok(Some(seconds)),
        None => Err(JwtError::InvalidClaim {
            name,
            reason: format!("{value} is not a NumericDate"),
        }),
    }
}

/// §3.2: "Validators MUST reject tokens without an `aud` claim set, or if the value that the
/// validator identifies with is not present as an `aud` element." RFC 7519 §4.1.3: a string or
/// an array of strings.
fn check_audience(payload: &Map<String, Value>, audience: &str) -> Result<(), JwtError> {
    let invalid = |reason: &str| JwtError::InvalidClaim {
        name: "aud",
        reason: reason.to_string(),
    };
    let actual: Vec<String> = match present(payload, "aud") {
        None => return Err(JwtError::MissingAudience),
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(many)) => many
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| invalid("not every element is a string"))?,
        Some(_) => return Err(invalid("neither a string nor an array of strings")),
    };
    if actual.is_empty() {
        return Err(JwtError::MissingAudience);
    }
    if !actual.iter().any(|a| a == audience) {
        return Err(JwtError::AudienceMismatch {
            expected: audience.to_string(),
            actual,
        });
    }
    Ok(())
}
