//! The JWS compact serialization (RFC 7515 §3.1, §7.1): base64url parts and JSON objects.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::error::JwtError;

/// Base64url without padding (RFC 7515 §2: "with all trailing '=' characters omitted").
pub(crate) fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes one base64url part; padding, whitespace and non-canonical trailing bits are errors.
pub(crate) fn decode(part: &'static str, text: &str) -> Result<Vec<u8>, JwtError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|e| JwtError::Malformed {
            part,
            reason: format!("not base64url without padding: {e}"),
        })
}

/// Decodes one base64url part holding a JSON object (the JOSE header or the claims set).
pub(crate) fn decode_object(
    part: &'static str,
    text: &str,
) -> Result<Map<String, Value>, JwtError> {
    let bytes = decode(part, text)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(JwtError::Malformed {
            part,
            reason: "not a JSON object".to_string(),
        }),
        Err(e) => Err(JwtError::Malformed {
            part,
            reason: format!("not JSON: {e}"),
        }),
    }
}

/// Encodes a JSON object as a base64url part.
pub(crate) fn encode_object(object: Map<String, Value>) -> String {
    // `Display` of a `Value` cannot fail (all keys are strings).
    encode(Value::Object(object).to_string().as_bytes())
}

/// A member that is present and not `null`.
pub(crate) fn present<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).filter(|v| !v.is_null())
}

/// The `kid` header of a compact JWS, read without verifying anything: for bookkeeping on
/// tokens this process minted or received from its own server (e.g. forgetting every cached
/// token of a tainted key), never for trust decisions.
pub fn unverified_key_id(token: &str) -> Option<String> {
    let header = token.split('.').next()?;
    let header = decode_object("header", header).ok()?;
    present(&header, "kid")?.as_str().map(str::to_owned)
}

/// The claims set of a compact JWS, read without verifying anything: for showing a token to a
/// person (e.g. its `exp`), never for trust decisions.
pub fn unverified_claims(token: &str) -> Option<Map<String, Value>> {
    let payload = token.split('.').nth(1)?;
    decode_object("payload", payload).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unverified_key_id_reads_the_header_only() {
        let header = encode_object(
            serde_json::json!({"alg": "ES256", "kid": "k1"})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(
            unverified_key_id(&format!("{header}.e30.sig")).as_deref(),
            Some("k1")
        );
        let no_kid = encode_object(
            serde_json::json!({"alg": "ES256"})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(unverified_key_id(&format!("{no_kid}.e30.sig")), None);
        assert_eq!(unverified_key_id("not a token"), None);
        assert_eq!(
            unverified_claims(&format!("{header}.eyJzdWIiOiJ4In0.sig")).unwrap()["sub"],
            "x"
        );
        assert_eq!(unverified_claims(&header), None);
        assert_eq!(unverified_key_id(""), None);
    }
}
