//! The JWKS (RFC 7517) encoding of a SPIFFE bundle (Trust Domain and Bundle §4).
//!
//! Decoding works on a `serde_json::Value` rather than derived structs so that one odd entry of
//! an unknown `use` or `kty` can be skipped as the standard requires, instead of failing the
//! whole document.

use std::time::Duration;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use lanyard_id::TrustDomain;
use serde_json::{Map, Value, json};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::{Bundle, JwtAuthority};
use crate::der::{CertDer, strip_leading_zeros};
use crate::error::{BundleError, KeyError};
use crate::spki::{Curve, PublicKeyParams};

/// `use` of X.509 CA entries (X509-SVID §6.1).
const USE_X509_SVID: &str = "x509-svid";
/// `use` of JWT signing keys (JWT-SVID §6.1).
const USE_JWT_SVID: &str = "jwt-svid";

/// RFC 7517 §4.7: `x5c` values are base64 (not base64url); padding is accepted either way.
const BASE64_STD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
/// RFC 7518 §6: key parameters are base64url; padding is accepted either way, never emitted.
const BASE64_URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub(super) fn decode(trust_domain: TrustDomain, json: &[u8]) -> Result<Bundle, BundleError> {
    let doc: Value =
        serde_json::from_slice(json).map_err(|e| BundleError::NotJsonObject(e.to_string()))?;
    let doc = doc
        .as_object()
        .ok_or_else(|| BundleError::NotJsonObject("top-level value is not an object".into()))?;
    let mut bundle = Bundle::new(trust_domain);
    // §4.1.1: "its value MUST be a monotonically increasing integer" (64 bits suffice).
    if let Some(seq) = present(doc, "spiffe_sequence") {
        bundle.sequence_number = seq.as_u64().ok_or(BundleError::InvalidSequenceNumber)?;
    }
    // §4.1.2: "its value MUST be an integer representing the suggested consumer refresh
    // interval in seconds".
    if let Some(hint) = present(doc, "spiffe_refresh_hint") {
        let secs = hint.as_u64().ok_or(BundleError::InvalidRefreshHint)?;
        bundle.refresh_hint = Some(Duration::from_secs(secs));
    }
    // §4.1.3: "The parameter `keys` MUST be present. Its value is an array of JWKs."
    let keys = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or(BundleError::KeysMissing)?;
    for (index, key) in keys.iter().enumerate() {
        let key = key.as_object().ok_or(BundleError::KeyNotObject { index })?;
        // §4.2.2: "Clients encountering unknown `use` values MUST ignore the entire JWK element."
        match key.get("use").and_then(Value::as_str) {
            Some(USE_X509_SVID) => decode_x509_entry(&mut bundle, key, index)?,
            Some(USE_JWT_SVID) => decode_jwt_entry(&mut bundle, key, index)?,
            _ => {}
        }
    }
    Ok(bundle)
}

fn decode_x509_entry(
    bundle: &mut Bundle,
    key: &Map<String, Value>,
    index: usize,
) -> Result<(), BundleError> {
    // X509-SVID §6.2: "If `x5c` is not set, or is empty, then the entry MUST be ignored."
    let Some(x5c) = present(key, "x5c") else {
        return Ok(());
    };
    let x5c = x5c.as_array().ok_or(malformed(index, "x5c"))?;
    // X509-SVID §6.2: "If the `x5c` parameter contains multiple values, then all but the first
    // MUST be ignored."
    let Some(first) = x5c.first() else {
        return Ok(());
    };
    let Some(params) = key_params(key, index)? else {
        return Ok(());
    };
    let der = first
        .as_str()
        .and_then(|s| BASE64_STD.decode(s).ok())
        .ok_or(malformed(index, "x5c"))?;
    let cert = CertDer::from_der(der)
        .map_err(|source| BundleError::MalformedX509Authority { index, source })?;
    // RFC 7517 §4.7: "The key in the first certificate MUST match the public key represented by
    // other members of the JWK."
    if cert_key_params(&cert).ok() != Some(params) {
        return Err(BundleError::X509AuthorityKeyMismatch { index });
    }
    bundle.add_x509_authority(cert);
    Ok(())
}

fn decode_jwt_entry(
    bundle: &mut Bundle,
    key: &Map<String, Value>,
    index: usize,
) -> Result<(), BundleError> {
    // JWT-SVID §6.1: "the `kid` parameter of each JWK entry MUST be set." Without it the key
    // could never be selected, so the document is rejected rather than silently shortened.
    let kid = match present(key, "kid") {
        None => return Err(BundleError::JwtAuthorityMissingKid { index }),
        Some(kid) => kid.as_str().ok_or(malformed(index, "kid"))?,
    };
    if kid.is_empty() {
        return Err(BundleError::JwtAuthorityMissingKid { index });
    }
    let Some(params) = key_params(key, index)? else {
        return Ok(());
    };
    if bundle.jwt_authorities.contains_key(kid) {
        return Err(BundleError::DuplicateJwtKid {
            kid: kid.to_string(),
        });
    }
    bundle.jwt_authorities.insert(
        kid.to_string(),
        JwtAuthority {
            public_key: params.to_spki_der(),
            expires_at: None,
        },
    );
    Ok(())
}

/// The key parameters of a JWK, or `None` for a key type to be ignored.
fn key_params(
    key: &Map<String, Value>,
    index: usize,
) -> Result<Option<PublicKeyParams>, BundleError> {
    // §4.2.1: "The `kty` parameter MUST be set ... Clients encountering an unknown key type MUST
    // ignore the entire JWK element."
    let kty = match present(key, "kty") {
        None => return Err(BundleError::KeyMissingKty { index }),
        Some(kty) => kty.as_str().ok_or(malformed(index, "kty"))?,
    };
    match kty {
        "EC" => {
            let crv = string_member(key, index, "crv")?;
            // An unknown curve is an unknown key type for our purposes.
            let Some(curve) = Curve::from_jwk_name(crv) else {
                return Ok(None);
            };
            let x = b64url_member(key, index, "x")?;
            let y = b64url_member(key, index, "y")?;
            // RFC 7518 §6.2.1.2: the coordinate "MUST be the full size of a coordinate".
            let n = curve.coordinate_len();
            if x.len() != n {
                return Err(malformed(index, "x"));
            }
            if y.len() != n {
                return Err(malformed(index, "y"));
            }
            Ok(Some(PublicKeyParams::Ec { curve, x, y }))
        }
        "RSA" => {
            let n = b64url_member(key, index, "n")?;
            let e = b64url_member(key, index, "e")?;
            let n = strip_leading_zeros(&n);
            let e = strip_leading_zeros(&e);
            if n.is_empty() {
                return Err(malformed(index, "n"));
            }
            if e.is_empty() {
                return Err(malformed(index, "e"));
            }
            Ok(Some(PublicKeyParams::Rsa {
                n: n.to_vec(),
                e: e.to_vec(),
            }))
        }
        _ => Ok(None),
    }
}

pub(super) fn encode(bundle: &Bundle) -> Result<String, BundleError> {
    let mut keys = Vec::with_capacity(bundle.x509_authorities.len() + bundle.jwt_authorities.len());
    for cert in &bundle.x509_authorities {
        // X509-SVID §6.1: `use` is `x509-svid`, `kid` MUST NOT be set, and `x5c` holds exactly
        // the one (base64 DER) CA certificate.
        let mut jwk = jwk_members(&cert_key_params(cert)?);
        jwk.insert("use".into(), json!(USE_X509_SVID));
        jwk.insert("x5c".into(), json!([BASE64_STD.encode(cert.as_bytes())]));
        keys.push(Value::Object(jwk));
    }
    for (kid, authority) in &bundle.jwt_authorities {
        // JWT-SVID §6.1: `use` is `jwt-svid` and `kid` MUST be set.
        let mut jwk = jwk_members(&PublicKeyParams::from_spki_der(&authority.public_key)?);
        jwk.insert("use".into(), json!(USE_JWT_SVID));
        jwk.insert("kid".into(), json!(kid));
        keys.push(Value::Object(jwk));
    }
    let mut doc = Map::new();
    doc.insert("keys".into(), Value::Array(keys));
    doc.insert("spiffe_sequence".into(), json!(bundle.sequence_number));
    if let Some(hint) = bundle.refresh_hint {
        doc.insert("spiffe_refresh_hint".into(), json!(hint.as_secs()));
    }
    // Display of a `Value` cannot fail (all keys are strings).
    Ok(Value::Object(doc).to_string())
}

/// The `kty` and key members of a JWK (RFC 7518 §6.2.1, §6.3.1).
fn jwk_members(params: &PublicKeyParams) -> Map<String, Value> {
    let mut jwk = Map::new();
    match params {
        PublicKeyParams::Ec { curve, x, y } => {
            jwk.insert("kty".into(), json!("EC"));
            jwk.insert("crv".into(), json!(curve.jwk_name()));
            jwk.insert("x".into(), json!(BASE64_URL.encode(x)));
            jwk.insert("y".into(), json!(BASE64_URL.encode(y)));
        }
        PublicKeyParams::Rsa { n, e } => {
            jwk.insert("kty".into(), json!("RSA"));
            jwk.insert("n".into(), json!(BASE64_URL.encode(n)));
            jwk.insert("e".into(), json!(BASE64_URL.encode(e)));
        }
    }
    jwk
}

/// The key parameters of a certificate's subject public key.
fn cert_key_params(cert: &CertDer) -> Result<PublicKeyParams, KeyError> {
    let (_, x509) =
        X509Certificate::from_der(cert.as_bytes()).map_err(|_| KeyError::MalformedPublicKey)?;
    PublicKeyParams::from_spki(x509.public_key())
}

/// A member that is present and not `null`.
fn present<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).filter(|v| !v.is_null())
}

fn string_member<'a>(
    key: &'a Map<String, Value>,
    index: usize,
    member: &'static str,
) -> Result<&'a str, BundleError> {
    key.get(member)
        .and_then(Value::as_str)
        .ok_or(malformed(index, member))
}

fn b64url_member(
    key: &Map<String, Value>,
    index: usize,
    member: &'static str,
) -> Result<Vec<u8>, BundleError> {
    BASE64_URL
        .decode(string_member(key, index, member)?)
        .map_err(|_| malformed(index, member))
}

fn malformed(index: usize, member: &'static str) -> BundleError {
    BundleError::MalformedKeyMember { index, member }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn td() -> TrustDomain {
        TrustDomain::new("example.org").unwrap()
    }

    #[test]
    fn keys_member_is_required() {
        assert_eq!(decode(td(), b"{}"), Err(BundleError::KeysMissing));
        assert_eq!(
            decode(td(), br#"{"keys": {}}"#),
            Err(BundleError::KeysMissing)
        );
        assert!(matches!(
            decode(td(), b"[]"),
            Err(BundleError::NotJsonObject(_))
        ));
    }

    #[test]
    fn sequence_and_refresh_hint_must_be_unsigned_integers() {
        let b = decode(
            td(),
            br#"{"keys": [], "spiffe_sequence": 18446744073709551615, "spiffe_refresh_hint": 300}"#,
        )
        .unwrap();
        assert_eq!(b.sequence_number, u64::MAX);
        assert_eq!(b.refresh_hint, Some(Duration::from_secs(300)));
        assert_eq!(
            decode(td(), br#"{"keys": [], "spiffe_sequence": -1}"#),
            Err(BundleError::InvalidSequenceNumber)
        );
        assert_eq!(
            decode(td(), br#"{"keys": [], "spiffe_refresh_hint": 1.5}"#),
            Err(BundleError::InvalidRefreshHint)
        );
    }

    #[test]
    fn ec_coordinates_must_be_full_size() {
        let doc = br#"{"keys": [{"use": "jwt-svid", "kid": "k", "kty": "EC", "crv": "P-256", "x": "AQ", "y": "AQ"}]}"#;
        assert_eq!(
            decode(td(), doc),
            Err(BundleError::MalformedKeyMember {
                index: 0,
                member: "x"
            })
        );
    }

    #[test]
    fn unknown_kty_and_curve_are_ignored() {
        let doc = br#"{"keys": [
            {"use": "jwt-svid", "kid": "a", "kty": "OKP", "crv": "Ed25519", "x": "AA"},
            {"use": "jwt-svid", "kid": "b", "kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"}
        ]}"#;
        assert!(decode(td(), doc).unwrap().jwt_authorities.is_empty());
    }

    #[test]
    fn missing_kty_is_an_error() {
        let doc = br#"{"keys": [{"use": "jwt-svid", "kid": "a"}]}"#;
        assert_eq!(
            decode(td(), doc),
            Err(BundleError::KeyMissingKty { index: 0 })
        );
    }
}
