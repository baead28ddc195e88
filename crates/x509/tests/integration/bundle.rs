//! Bundles: JWKS JSON per the Trust Domain and Bundle standard, PEM and concatenated DER.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use lanyard_x509::{
    Bundle, BundleError, BundleSet, BundleSource, JwtAuthority, KeyPair, KeyType,
    certificates_from_pem, certificates_to_pem, split_der_certificates,
};
use serde_json::{Value, json};

use crate::support::*;

fn jwt_key() -> Vec<u8> {
    KeyPair::generate(KeyType::EcP256)
        .unwrap()
        .public_key_spki_der()
}

fn full_bundle() -> Bundle {
    let mut b = bundle(
        "example.org",
        &[&Ca::root("example.org"), &Ca::root("example.org")],
    );
    b.jwt_authorities.insert(
        "key-1".into(),
        JwtAuthority {
            public_key: jwt_key(),
            expires_at: None,
        },
    );
    b.jwt_authorities.insert(
        "key-2".into(),
        JwtAuthority {
            public_key: KeyPair::generate(KeyType::EcP384)
                .unwrap()
                .public_key_spki_der(),
            expires_at: None,
        },
    );
    b.jwt_authorities.insert(
        "rsa".into(),
        JwtAuthority {
            public_key: rsa_key().public_key_spki_der(),
            expires_at: None,
        },
    );
    b.sequence_number = 42;
    b.refresh_hint = Some(Duration::from_secs(300));
    b
}

fn decode(json: &Value) -> Result<Bundle, BundleError> {
    Bundle::from_jwks_json(td("example.org"), json.to_string().as_bytes())
}

#[test]
fn jwks_round_trip_keeps_everything() {
    let b = full_bundle();
    let json = b.to_jwks_json().unwrap();
    assert_eq!(
        Bundle::from_jwks_json(td("example.org"), json.as_bytes()).unwrap(),
        b
    );
}

#[test]
fn jwks_encoding_follows_the_standard() {
    let b = full_bundle();
    let doc: Value = serde_json::from_str(&b.to_jwks_json().unwrap()).unwrap();
    assert_eq!(doc["spiffe_sequence"], json!(42));
    assert_eq!(doc["spiffe_refresh_hint"], json!(300));
    let keys = doc["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 5);
    for key in &keys[..2] {
        assert_eq!(key["use"], "x509-svid");
        assert!(
            key.get("kid").is_none(),
            "X509-SVID §6.1: kid MUST NOT be set"
        );
        let x5c = key["x5c"].as_array().unwrap();
        assert_eq!(x5c.len(), 1);
        // Standard base64 with padding, not base64url (RFC 7517 §4.7).
        STANDARD.decode(x5c[0].as_str().unwrap()).unwrap();
        assert_eq!(key["kty"], "EC");
        assert_eq!(key["crv"], "P-256");
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(key["x"].as_str().unwrap())
                .unwrap()
                .len(),
            32
        );
    }
    let jwt: Vec<_> = keys[2..]
        .iter()
        .map(|k| (k["kid"].as_str().unwrap(), k["kty"].as_str().unwrap()))
        .collect();
    assert_eq!(jwt, vec![("key-1", "EC"), ("key-2", "EC"), ("rsa", "RSA")]);
    assert!(keys[2..].iter().all(|k| k["use"] == "jwt-svid"));
    assert_eq!(keys[4]["e"], "AQAB");
}

#[test]
fn jwks_without_refresh_hint_or_sequence_decodes_with_defaults() {
    let b = decode(&json!({"keys": []})).unwrap();
    assert_eq!(b.sequence_number, 0);
    assert_eq!(b.refresh_hint, None);
    assert!(b.x509_authorities.is_empty() && b.jwt_authorities.is_empty());
}

fn x509_entry(b: &Bundle) -> Value {
    let doc: Value = serde_json::from_str(&b.to_jwks_json().unwrap()).unwrap();
    doc["keys"][0].clone()
}

#[test]
fn jwks_x509_entry_with_two_certs_uses_only_the_first() {
    // X509-SVID §6.2: "If the `x5c` parameter contains multiple values, then all but the first
    // MUST be ignored." (Publishers MUST emit exactly one, §6.1 — our encoder does.)
    let first = Ca::root("example.org");
    let second = Ca::root("example.org");
    let mut entry = x509_entry(&bundle("example.org", &[&first]));
    entry["x5c"] = json!([
        STANDARD.encode(first.cert.as_bytes()),
        STANDARD.encode(second.cert.as_bytes())
    ]);
    let b = decode(&json!({"keys": [entry]})).unwrap();
    assert_eq!(b.x509_authorities, vec![first.cert.clone()]);
}

#[test]
fn jwks_x509_entry_without_x5c_is_ignored() {
    // X509-SVID §6.2: "If `x5c` is not set, or is empty, then the entry MUST be ignored."
    let mut entry = x509_entry(&bundle("example.org", &[&Ca::root("example.org")]));
    entry["x5c"] = json!([]);
    let mut missing = entry.clone();
    missing.as_object_mut().unwrap().remove("x5c");
    let b = decode(&json!({"keys": [entry, missing]})).unwrap();
    assert!(b.x509_authorities.is_empty());
}

#[test]
fn jwks_x509_entry_whose_key_does_not_match_x5c_is_rejected() {
    let mut entry = x509_entry(&bundle("example.org", &[&Ca::root("example.org")]));
    let other = Ca::root("example.org");
    entry["x5c"] = json!([STANDARD.encode(other.cert.as_bytes())]);
    assert_eq!(
        decode(&json!({"keys": [entry]})),
        Err(BundleError::X509AuthorityKeyMismatch { index: 0 })
    );
}

#[test]
fn jwks_x509_entry_with_garbage_certificate_is_rejected() {
    let mut entry = x509_entry(&bundle("example.org", &[&Ca::root("example.org")]));
    entry["x5c"] = json!([STANDARD.encode(b"garbage")]);
    assert!(matches!(
        decode(&json!({"keys": [entry]})),
        Err(BundleError::MalformedX509Authority { index: 0, .. })
    ));
}

#[test]
fn jwks_jwt_key_without_kid_is_rejected() {
    let mut b = Bundle::new(td("example.org"));
    b.jwt_authorities.insert(
        "k".into(),
        JwtAuthority {
            public_key: jwt_key(),
            expires_at: None,
        },
    );
    let mut doc: Value = serde_json::from_str(&b.to_jwks_json().unwrap()).unwrap();
    doc["keys"][0].as_object_mut().unwrap().remove("kid");
    assert_eq!(
        decode(&doc),
        Err(BundleError::JwtAuthorityMissingKid { index: 0 })
    );
    doc["keys"][0]["kid"] = json!("");
    assert_eq!(
        decode(&doc),
        Err(BundleError::JwtAuthorityMissingKid { index: 0 })
    );
}

#[test]
fn jwks_duplicate_kid_is_rejected() {
    let mut b = Bundle::new(td("example.org"));
    b.jwt_authorities.insert(
        "k".into(),
        JwtAuthority {
            public_key: jwt_key(),
            expires_at: None,
        },
    );
    let doc: Value = serde_json::from_str(&b.to_jwks_json().unwrap()).unwrap();
    let key = doc["keys"][0].clone();
    assert_eq!(
        decode(&json!({"keys": [key.clone(), key]})),
        Err(BundleError::DuplicateJwtKid { kid: "k".into() })
    );
}

#[test]
fn jwks_unknown_use_is_ignored() {
    let doc = json!({
        "keys": [
            {"use": "wit-svid", "kty": "EC", "kid": "x", "garbage": true},
            {"kty": "EC", "crv": "P-256"},
            {"use": "X509-SVID", "kty": "EC"}
        ],
        "unrelated_member": [1, 2, 3]
    });
    let b = decode(&doc).unwrap();
    assert!(b.x509_authorities.is_empty() && b.jwt_authorities.is_empty());
}

#[test]
fn jwks_expires_at_is_local_bookkeeping() {
    let mut b = Bundle::new(td("example.org"));
    b.jwt_authorities.insert(
        "k".into(),
        JwtAuthority {
            public_key: jwt_key(),
            expires_at: Some(t0()),
        },
    );
    let json = b.to_jwks_json().unwrap();
    assert!(!json.contains("exp"), "{json}");
    let back = Bundle::from_jwks_json(td("example.org"), json.as_bytes()).unwrap();
    assert_eq!(back.jwt_authorities["k"].expires_at, None);
}

#[test]
fn pem_and_concatenated_der_round_trip() {
    let b = full_bundle();
    let pem = b.x509_authorities_pem();
    assert_eq!(pem.matches("-----BEGIN CERTIFICATE-----").count(), 2);
    assert_eq!(
        certificates_from_pem(pem.as_bytes()).unwrap(),
        b.x509_authorities
    );
    assert_eq!(certificates_to_pem(&b.x509_authorities), pem);
    assert_eq!(
        split_der_certificates(&b.x509_authorities_der()).unwrap(),
        b.x509_authorities
    );
    let key_pem = KeyPair::generate(KeyType::EcP256).unwrap().to_pkcs8_pem();
    assert!(matches!(
        certificates_from_pem(key_pem.as_bytes()),
        Err(BundleError::UnexpectedPemBlock(tag)) if tag == "PRIVATE KEY"
    ));
}

#[test]
fn bundle_set_answers_only_for_the_exact_trust_domain() {
    let a = bundle("a.example", &[&Ca::root("a.example")]);
    let set: BundleSet = [a.clone()].into_iter().collect();
    assert_eq!(
        set.x509_authorities(&td("a.example")),
        Some(a.x509_authorities.as_slice())
    );
    assert_eq!(set.x509_authorities(&td("b.example")), None);
    assert_eq!(a.x509_authorities(&td("b.example")), None);
    assert_eq!(set.len(), 1);
}

#[test]
fn add_x509_authority_deduplicates() {
    let root = Ca::root("example.org");
    let mut b = Bundle::new(td("example.org"));
    assert!(b.add_x509_authority(root.cert.clone()));
    assert!(!b.add_x509_authority(root.cert.clone()));
    assert_eq!(b.x509_authorities.len(), 1);
}
