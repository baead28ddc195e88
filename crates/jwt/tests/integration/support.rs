//! Keys, bundles and hand-made tokens for the tests.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lanyard_id::{SpiffeId, TrustDomain};
use lanyard_jwt::{JwtError, JwtSvidClaims, ValidatedJwtSvid, mint_jwt_svid, validate_jwt_svid};
use lanyard_x509::{Bundle, JwtAuthority, KeyPair, KeyType};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, RsaEncoding, RsaKeyPair};
use serde_json::{Value, json};

/// The fixed "now" of every test: 2030-03-17T17:46:40Z.
pub const T0: i64 = 1_900_000_000;
/// The workload every token is minted for.
pub const SUB: &str = "spiffe://example.org/ns/default/sa/web";
/// The audience the validator identifies with.
pub const AUD: &str = "spiffe://example.org/reports";

pub fn td(name: &str) -> TrustDomain {
    TrustDomain::new(name).unwrap()
}

pub fn ec_key(key_type: KeyType) -> KeyPair {
    KeyPair::generate(key_type).unwrap()
}

pub fn rsa_key() -> KeyPair {
    KeyPair::from_pkcs8_pem(include_str!("fixtures/rsa2048.pk8.pem")).unwrap()
}

/// A bundle of `example.org` (or `trust_domain`) holding `keys` as JWT authorities.
pub fn bundle_in(trust_domain: &str, keys: &[(&str, &KeyPair)]) -> Bundle {
    let mut bundle = Bundle::new(td(trust_domain));
    for (kid, key) in keys {
        bundle.jwt_authorities.insert(
            (*kid).to_string(),
            JwtAuthority {
                public_key: key.public_key_spki_der(),
                expires_at: None,
            },
        );
    }
    bundle
}

pub fn bundle(keys: &[(&str, &KeyPair)]) -> Bundle {
    bundle_in("example.org", keys)
}

/// Claims for [`SUB`] and [`AUD`], issued at T0, valid 5 minutes.
pub fn claims() -> JwtSvidClaims {
    JwtSvidClaims::new(
        SpiffeId::parse(SUB).unwrap(),
        vec![AUD.to_string()],
        T0,
        T0 + 300,
    )
}

pub fn mint(key: &KeyPair, kid: &str) -> String {
    mint_jwt_svid(key, kid, &claims()).unwrap()
}

/// Validates as [`AUD`] at T0.
pub fn validate(token: &str, bundle: &Bundle) -> Result<ValidatedJwtSvid, JwtError> {
    validate_jwt_svid(token, AUD, bundle, T0)
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).unwrap()
}

/// The header and claims a well-formed token would carry.
pub fn good_header(alg: &str, kid: &str) -> Value {
    json!({"alg": alg, "kid": kid, "typ": "JWT"})
}

pub fn good_payload() -> Value {
    json!({"sub": SUB, "aud": AUD, "exp": T0 + 300, "iat": T0})
}

fn signing_input(header: &Value, payload: &Value) -> String {
    format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    )
}

/// A token with exactly `header` and `payload`, signed by `key` whatever the header says:
/// ECDSA with the key's curve and hash, or RSA PKCS#1 v1.5 with SHA-256.
pub fn hand_token(key: &KeyPair, header: &Value, payload: &Value) -> String {
    let input = signing_input(header, payload);
    let alg = match key.key_type().unwrap() {
        KeyType::EcP256 => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        KeyType::EcP384 => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
        _ => return rsa_token(key, header, payload, &signature::RSA_PKCS1_SHA256),
    };
    let rng = SystemRandom::new();
    let pair = EcdsaKeyPair::from_pkcs8(alg, key.pkcs8_der(), &rng).unwrap();
    let sig = pair.sign(&rng, input.as_bytes()).unwrap();
    format!("{input}.{}", b64(sig.as_ref()))
}

/// A token signed by the RSA `key` with `padding` (PKCS#1 v1.5 or PSS, any hash).
pub fn rsa_token(
    key: &KeyPair,
    header: &Value,
    payload: &Value,
    padding: &'static dyn RsaEncoding,
) -> String {
    let input = signing_input(header, payload);
    let pair = RsaKeyPair::from_pkcs8(key.pkcs8_der()).unwrap();
    let mut sig = vec![0; pair.public().modulus_len()];
    pair.sign(padding, &SystemRandom::new(), input.as_bytes(), &mut sig)
        .unwrap();
    format!("{input}.{}", b64(&sig))
}

/// The claims JSON of a token, decoded without verification.
pub fn payload_of(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&unb64(part)).unwrap()
}

/// The header JSON of a token, decoded without verification.
pub fn header_of(token: &str) -> Value {
    let part = token.split('.').next().unwrap();
    serde_json::from_slice(&unb64(part)).unwrap()
}
