//! Tokens we mint validate, with every key type and bundle shape we support.

use lanyard_id::SpiffeId;
use lanyard_jwt::{JwtBundleSource, JwtError, JwtSvidClaims, mint_jwt_svid, validate_jwt_svid};
use lanyard_x509::{BundleSet, KeyType};
use ring::signature;
use serde_json::json;

use crate::support::*;

fn round_trip(key: &lanyard_x509::KeyPair, alg: &str) {
    let token = mint(key, "k1");
    assert_eq!(
        header_of(&token),
        json!({"alg": alg, "kid": "k1", "typ": "JWT"}),
        "JWT-SVID §2: alg, kid and typ only"
    );
    let svid = validate(&token, &bundle(&[("k1", key)])).unwrap();
    assert_eq!(svid.spiffe_id.as_str(), SUB);
    assert_eq!(svid.kid, "k1");
    assert_eq!(svid.expires_at, T0 + 300);
    assert_eq!(
        json!(svid.claims),
        good_payload(),
        "one audience is a string"
    );
}

#[test]
fn es256_round_trip() {
    round_trip(&ec_key(KeyType::EcP256), "ES256");
}

#[test]
fn es384_round_trip() {
    round_trip(&ec_key(KeyType::EcP384), "ES384");
}

#[test]
fn rs256_round_trip() {
    round_trip(&rsa_key(), "RS256");
}

#[test]
fn several_audiences_are_an_array_and_each_validates() {
    let key = ec_key(KeyType::EcP256);
    let mut claims = claims();
    claims.aud = vec!["other".to_string(), AUD.to_string()];
    let token = mint_jwt_svid(&key, "k1", &claims).unwrap();
    assert_eq!(payload_of(&token)["aud"], json!(["other", AUD]));
    let bundle = bundle(&[("k1", &key)]);
    for aud in ["other", AUD] {
        validate_jwt_svid(&token, aud, &bundle, T0).unwrap();
    }
}

#[test]
fn extra_claims_are_carried_and_returned() {
    let key = ec_key(KeyType::EcP256);
    let mut claims = claims();
    claims.extra.insert("jti".into(), json!("abc"));
    let token = mint_jwt_svid(&key, "k1", &claims).unwrap();
    let svid = validate(&token, &bundle(&[("k1", &key)])).unwrap();
    assert_eq!(svid.claims["jti"], json!("abc"));
}

#[test]
fn both_keys_validate_during_a_rotation() {
    let old = ec_key(KeyType::EcP256);
    let new = ec_key(KeyType::EcP384);
    let bundle = bundle(&[("old", &old), ("new", &new)]);
    assert_eq!(validate(&mint(&old, "old"), &bundle).unwrap().kid, "old");
    assert_eq!(validate(&mint(&new, "new"), &bundle).unwrap().kid, "new");
}

#[test]
fn typ_jose_and_absent_typ_are_accepted() {
    let key = ec_key(KeyType::EcP256);
    let bundle = bundle(&[("k1", &key)]);
    for header in [
        json!({"alg": "ES256", "kid": "k1", "typ": "JOSE"}),
        json!({"alg": "ES256", "kid": "k1"}),
    ] {
        let token = hand_token(&key, &header, &good_payload());
        validate(&token, &bundle).unwrap();
    }
}

#[test]
fn every_rsa_algorithm_of_section_2_1_verifies() {
    let key = rsa_key();
    let bundle = bundle(&[("r", &key)]);
    let cases: [(&str, &'static dyn signature::RsaEncoding); 6] = [
        ("RS256", &signature::RSA_PKCS1_SHA256),
        ("RS384", &signature::RSA_PKCS1_SHA384),
        ("RS512", &signature::RSA_PKCS1_SHA512),
        ("PS256", &signature::RSA_PSS_SHA256),
        ("PS384", &signature::RSA_PSS_SHA384),
        ("PS512", &signature::RSA_PSS_SHA512),
    ];
    for (alg, padding) in cases {
        let token = rsa_token(&key, &good_header(alg, "r"), &good_payload(), padding);
        validate(&token, &bundle).unwrap_or_else(|e| panic!("{alg}: {e}"));
    }
    // The hash is bound to the alg: a PKCS#1 SHA-256 signature is not an RS384 one.
    let token = rsa_token(
        &key,
        &good_header("RS384", "r"),
        &good_payload(),
        &signature::RSA_PKCS1_SHA256,
    );
    assert!(matches!(
        validate(&token, &bundle),
        Err(JwtError::InvalidSignature { .. })
    ));
}

#[test]
fn expiry_is_exclusive_and_fractional_dates_are_read() {
    let key = ec_key(KeyType::EcP256);
    let bundle = bundle(&[("k1", &key)]);
    let token = mint(&key, "k1");
    validate_jwt_svid(&token, AUD, &bundle, T0 + 299).unwrap();
    assert_eq!(
        validate_jwt_svid(&token, AUD, &bundle, T0 + 300).unwrap_err(),
        JwtError::Expired {
            exp: T0 + 300,
            now: T0 + 300
        }
    );
    let mut payload = good_payload();
    payload["exp"] = json!(T0 as f64 + 10.5);
    let token = hand_token(&key, &good_header("ES256", "k1"), &payload);
    assert_eq!(validate(&token, &bundle).unwrap().expires_at, T0 + 10);
}

#[test]
fn a_bundle_set_picks_the_subjects_trust_domain() {
    let ours = ec_key(KeyType::EcP256);
    let theirs = ec_key(KeyType::EcP256);
    let set: BundleSet = [
        bundle(&[("k", &ours)]),
        bundle_in("partner.example", &[("k", &theirs)]),
    ]
    .into_iter()
    .collect();
    assert!(set.jwt_authorities(&td("partner.example")).is_some());
    let mut claims = claims();
    claims.sub = SpiffeId::parse("spiffe://partner.example/billing").unwrap();
    let token = mint_jwt_svid(&theirs, "k", &claims).unwrap();
    let svid = validate_jwt_svid(&token, AUD, &set, T0).unwrap();
    assert_eq!(svid.spiffe_id.trust_domain_name(), "partner.example");
    // Same kid, other trust domain's key: the signature must not verify.
    let forged = mint_jwt_svid(&ours, "k", &claims).unwrap();
    assert!(matches!(
        validate_jwt_svid(&forged, AUD, &set, T0),
        Err(JwtError::InvalidSignature { .. })
    ));
}

#[test]
fn minting_refuses_what_a_validator_would_reject() {
    let key = ec_key(KeyType::EcP256);
    let mut no_aud = claims();
    no_aud.aud.clear();
    assert_eq!(
        mint_jwt_svid(&key, "k1", &no_aud),
        Err(JwtError::MissingAudience)
    );
    assert_eq!(
        mint_jwt_svid(&key, "", &claims()),
        Err(JwtError::MissingKeyId)
    );
    let backwards = JwtSvidClaims::new(claims().sub, vec![AUD.into()], T0, T0);
    assert!(matches!(
        mint_jwt_svid(&key, "k1", &backwards),
        Err(JwtError::InvalidClaim { name: "exp", .. })
    ));
    let mut reserved = claims();
    reserved
        .extra
        .insert("sub".into(), json!("spiffe://evil.example/x"));
    assert_eq!(
        mint_jwt_svid(&key, "k1", &reserved),
        Err(JwtError::ReservedClaim { name: "sub".into() })
    );
}
