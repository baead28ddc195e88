//! Every rule of JWT-SVID.md a token can break, one token per rule, each with its own error.

use lanyard_jwt::{JwtError, validate_jwt_svid};
use lanyard_x509::{Bundle, KeyPair, KeyType};
use ring::hmac;
use serde_json::{Value, json};

use crate::support::*;

/// A P-256 key and its bundle (kid `k1`).
fn setup() -> (KeyPair, Bundle) {
    let key = ec_key(KeyType::EcP256);
    let bundle = bundle(&[("k1", &key)]);
    (key, bundle)
}

/// Validates a token with `payload`, signed correctly by the bundle's key.
fn with_payload(payload: &Value) -> Result<lanyard_jwt::ValidatedJwtSvid, JwtError> {
    let (key, bundle) = setup();
    validate(
        &hand_token(&key, &good_header("ES256", "k1"), payload),
        &bundle,
    )
}

/// Validates a token with `header`, signed correctly by the bundle's key.
fn with_header(header: &Value) -> Result<lanyard_jwt::ValidatedJwtSvid, JwtError> {
    let (key, bundle) = setup();
    validate(&hand_token(&key, header, &good_payload()), &bundle)
}

#[test]
fn wrong_audience() {
    let (key, bundle) = setup();
    let err = validate_jwt_svid(
        &mint(&key, "k1"),
        "spiffe://example.org/billing",
        &bundle,
        T0,
    );
    assert_eq!(
        err.unwrap_err(),
        JwtError::AudienceMismatch {
            expected: "spiffe://example.org/billing".into(),
            actual: vec![AUD.into()],
        }
    );
    let err = validate_jwt_svid(&mint(&key, "k1"), "", &bundle, T0).unwrap_err();
    assert_eq!(err, JwtError::EmptyExpectedAudience);
}

#[test]
fn expired() {
    let (key, bundle) = setup();
    let err = validate_jwt_svid(&mint(&key, "k1"), AUD, &bundle, T0 + 3600).unwrap_err();
    assert_eq!(
        err,
        JwtError::Expired {
            exp: T0 + 300,
            now: T0 + 3600
        }
    );
}

#[test]
fn missing_exp() {
    let mut payload = good_payload();
    payload.as_object_mut().unwrap().remove("exp");
    assert_eq!(with_payload(&payload).unwrap_err(), JwtError::MissingExpiry);
    payload["exp"] = json!("tomorrow");
    assert!(matches!(
        with_payload(&payload),
        Err(JwtError::InvalidClaim { name: "exp", .. })
    ));
}

#[test]
fn missing_aud() {
    let mut payload = good_payload();
    payload.as_object_mut().unwrap().remove("aud");
    assert_eq!(
        with_payload(&payload).unwrap_err(),
        JwtError::MissingAudience
    );
    payload["aud"] = json!([]);
    assert_eq!(
        with_payload(&payload).unwrap_err(),
        JwtError::MissingAudience
    );
    payload["aud"] = json!([AUD, 7]);
    assert!(matches!(
        with_payload(&payload),
        Err(JwtError::InvalidClaim { name: "aud", .. })
    ));
}

#[test]
fn alg_none() {
    let (_, bundle) = setup();
    let header = b64(json!({"alg": "none", "kid": "k1", "typ": "JWT"})
        .to_string()
        .as_bytes());
    let payload = b64(good_payload().to_string().as_bytes());
    let token = format!("{header}.{payload}.");
    assert_eq!(
        validate(&token, &bundle).unwrap_err(),
        JwtError::AlgorithmNone
    );
}

#[test]
fn hs256_signed_with_the_public_key_as_secret() {
    let (key, bundle) = setup();
    let spki = key.public_key_spki_der();
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &spki)
    );
    for secret in [spki.as_slice(), pem.as_bytes()] {
        let header = b64(good_header("HS256", "k1").to_string().as_bytes());
        let payload = b64(good_payload().to_string().as_bytes());
        let input = format!("{header}.{payload}");
        let mac = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), input.as_bytes());
        let token = format!("{input}.{}", b64(mac.as_ref()));
        assert_eq!(
            validate(&token, &bundle).unwrap_err(),
            JwtError::HmacAlgorithm {
                alg: "HS256".into()
            }
        );
    }
}

#[test]
fn unknown_kid() {
    let (_, bundle) = setup();
    let stranger = ec_key(KeyType::EcP256);
    assert_eq!(
        validate(&mint(&stranger, "k2"), &bundle).unwrap_err(),
        JwtError::UnknownKeyId {
            kid: "k2".into(),
            trust_domain: td("example.org"),
        }
    );
}

#[test]
fn tampered_payload_keeps_the_original_signature() {
    let (key, bundle) = setup();
    let token = mint(&key, "k1");
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload = payload_of(&token);
    payload["sub"] = json!("spiffe://example.org/ns/default/sa/admin");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(payload.to_string().as_bytes()),
        parts[2]
    );
    assert_eq!(
        validate(&forged, &bundle).unwrap_err(),
        JwtError::InvalidSignature { kid: "k1".into() }
    );
    // Signed by another key under the same kid: also a bad signature.
    let impostor = ec_key(KeyType::EcP256);
    assert!(matches!(
        validate(&mint(&impostor, "k1"), &bundle),
        Err(JwtError::InvalidSignature { .. })
    ));
}

#[test]
fn trust_domain_without_a_bundle() {
    let (key, _) = setup();
    let other = bundle_in("partner.example", &[("k1", &key)]);
    let err = validate(&mint(&key, "k1"), &other).unwrap_err();
    assert_eq!(
        err,
        JwtError::NoBundleForTrustDomain {
            trust_domain: td("example.org")
        }
    );
    assert!(err.to_string().contains("example.org"), "{err}");
    // A bundle without jwt-svid keys: the trust domain "does not support JWT-SVID" (§6.2).
    let empty = Bundle::new(td("example.org"));
    assert!(matches!(
        validate(&mint(&key, "k1"), &empty),
        Err(JwtError::NoJwtAuthorities { .. })
    ));
}

#[test]
fn typ_other_than_jwt_or_jose() {
    let header = json!({"alg": "ES256", "kid": "k1", "typ": "foo"});
    assert_eq!(
        with_header(&header).unwrap_err(),
        JwtError::InvalidType {
            typ: "\"foo\"".into()
        }
    );
}

#[test]
fn key_type_must_match_alg() {
    // An EC key in the bundle, a token claiming RS256 (signature irrelevant: never checked).
    let err = with_header(&good_header("RS256", "k1")).unwrap_err();
    assert!(
        matches!(&err, JwtError::KeyAlgorithmMismatch { alg, .. } if alg == "RS256"),
        "{err}"
    );
    assert!(matches!(
        with_header(&good_header("ES384", "k1")),
        Err(JwtError::KeyAlgorithmMismatch { .. })
    ));
    // An RSA key in the bundle, a token claiming ES256.
    let rsa = rsa_key();
    let token = rsa_token(
        &rsa,
        &good_header("ES256", "r"),
        &good_payload(),
        &ring::signature::RSA_PKCS1_SHA256,
    );
    assert!(matches!(
        validate(&token, &bundle(&[("r", &rsa)])),
        Err(JwtError::KeyAlgorithmMismatch { .. })
    ));
}

#[test]
fn other_algorithms_are_rejected_before_any_key_use() {
    for (alg, want) in [
        ("EdDSA", "UnsupportedAlgorithm"),
        ("HS512", "HmacAlgorithm"),
        ("ES512", "AlgorithmNotImplemented"),
    ] {
        let err = with_header(&good_header(alg, "k1")).unwrap_err();
        assert!(format!("{err:?}").starts_with(want), "{alg}: {err:?}");
    }
    let header = json!({"kid": "k1", "typ": "JWT"});
    assert_eq!(
        with_header(&header).unwrap_err(),
        JwtError::MissingAlgorithm
    );
}

#[test]
fn headers_beyond_alg_kid_typ_are_rejected() {
    for name in ["jku", "jwk", "crit", "x5c", "cty"] {
        let mut header = good_header("ES256", "k1");
        header[name] = json!("x");
        assert_eq!(
            with_header(&header).unwrap_err(),
            JwtError::UnexpectedHeader { name: name.into() }
        );
    }
}

#[test]
fn missing_kid() {
    let header = json!({"alg": "ES256", "typ": "JWT"});
    assert_eq!(with_header(&header).unwrap_err(), JwtError::MissingKeyId);
    assert_eq!(
        with_header(&good_header("ES256", "")).unwrap_err(),
        JwtError::MissingKeyId
    );
}

#[test]
fn subject_must_be_a_spiffe_id() {
    let mut payload = good_payload();
    payload.as_object_mut().unwrap().remove("sub");
    assert_eq!(
        with_payload(&payload).unwrap_err(),
        JwtError::MissingSubject
    );
    payload["sub"] = json!("https://example.org/web");
    assert!(matches!(
        with_payload(&payload),
        Err(JwtError::InvalidSubject { .. })
    ));
}

#[test]
fn not_before_in_the_future() {
    let mut payload = good_payload();
    payload["nbf"] = json!(T0 + 60);
    assert_eq!(
        with_payload(&payload).unwrap_err(),
        JwtError::NotYetValid {
            nbf: T0 + 60,
            now: T0
        }
    );
    // iat is informational (RFC 7519 §4.1.6): a future iat alone is no reason to reject,
    // but it must be a NumericDate.
    let mut payload = good_payload();
    payload["iat"] = json!(T0 + 60);
    with_payload(&payload).unwrap();
    payload["iat"] = json!("now");
    assert!(matches!(
        with_payload(&payload),
        Err(JwtError::InvalidClaim { name: "iat", .. })
    ));
}

#[test]
fn malformed_tokens_name_the_broken_part() {
    let (key, bundle) = setup();
    let token = mint(&key, "k1");
    let parts: Vec<&str> = token.split('.').collect();
    let cases = [
        (format!("{}.{}", parts[0], parts[1]), "token"),
        (format!("{token}.x.y"), "token"),
        (String::new(), "token"),
        (format!("{}=.{}.{}", parts[0], parts[1], parts[2]), "header"),
        (
            format!("{}.{}.{}", b64(b"{\"alg\""), parts[1], parts[2]),
            "header",
        ),
        (
            format!("{}.{}.{}", b64(b"[1]"), parts[1], parts[2]),
            "header",
        ),
        (
            format!("{}.{}!.{}", parts[0], parts[1], parts[2]),
            "payload",
        ),
        (
            format!("{}.{}.{}", parts[0], b64(b"\"s\""), parts[2]),
            "payload",
        ),
        (
            format!("{}.{}.{}*", parts[0], parts[1], parts[2]),
            "signature",
        ),
    ];
    for (bad, want) in cases {
        match validate(&bad, &bundle) {
            Err(JwtError::Malformed { part, .. }) => assert_eq!(part, want, "{bad}"),
            other => panic!("{bad}: expected Malformed {want}, got {other:?}"),
        }
    }
}
