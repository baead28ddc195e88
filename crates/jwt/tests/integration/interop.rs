//! Interop with PyJWT (2.15.1, in the pinned Python environment): it must verify the tokens we
//! mint using nothing but our JWKS bundle document.

use std::time::{SystemTime, UNIX_EPOCH};

use lanyard_id::SpiffeId;
use lanyard_jwt::{JwtSvidClaims, mint_jwt_svid};
use lanyard_x509::{KeyPair, KeyType};
use serde_json::{Value, json};

use crate::support::*;

/// Runs `tests/python/jwt_verify.py`; `None` when the interop environment is skipped.
fn pyjwt_verify(token: &str, jwks: &str, audience: &str) -> Option<(bool, String)> {
    let python = lanyard_test_support::python()?;
    let out = python.run("jwt_verify.py", &[token, jwks, audience]);
    let text = if out.status.success() {
        String::from_utf8_lossy(&out.stdout).into_owned()
    } else {
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    Some((out.status.success(), text))
}

/// PyJWT checks `exp` and `iat` against the real clock, so these tokens use it too.
fn now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    i64::try_from(secs).unwrap()
}

fn check(key: &KeyPair, kid: &str) {
    let iat = now();
    let claims = JwtSvidClaims::new(
        SpiffeId::parse(SUB).unwrap(),
        vec![AUD.into()],
        iat,
        iat + 300,
    );
    let token = mint_jwt_svid(key, kid, &claims).unwrap();
    let decoy = ec_key(KeyType::EcP256);
    let jwks = bundle(&[("decoy", &decoy), (kid, key)])
        .to_jwks_json()
        .unwrap();

    let Some((ok, out)) = pyjwt_verify(&token, &jwks, AUD) else {
        return;
    };
    assert!(ok, "PyJWT rejected our {kid} token: {out}");
    let claims: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        claims,
        json!({"sub": SUB, "aud": AUD, "exp": iat + 300, "iat": iat})
    );

    let Some((ok, out)) = pyjwt_verify(&token, &jwks, "spiffe://example.org/billing") else {
        return;
    };
    assert!(!ok, "PyJWT accepted a token for another audience: {out}");
    assert!(out.contains("InvalidAudienceError"), "{out}");
}

#[test]
fn pyjwt_verifies_our_es256_token_with_our_jwks() {
    check(&ec_key(KeyType::EcP256), "es256-key");
}

#[test]
fn pyjwt_verifies_our_es384_and_rs256_tokens() {
    check(&ec_key(KeyType::EcP384), "es384-key");
    check(&rsa_key(), "rs256-key");
}
