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
