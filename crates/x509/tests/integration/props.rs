//! Property tests for the parsers: no panics on any input, and encode∘decode is the identity.

use std::sync::OnceLock;
use std::time::Duration;

use lanyard_x509::{
    Bundle, CertDer, JwtAuthority, parse_csr, parse_x509_svid, split_der_certificates,
    verify_x509_svid,
};
use proptest::prelude::*;

use crate::support::*;

/// A few CA certificates minted once (minting per case would dominate the run time).
fn cert_pool() -> &'static [CertDer] {
    static POOL: OnceLock<Vec<CertDer>> = OnceLock::new();
    POOL.get_or_init(|| (0..4).map(|_| Ca::root("example.org").cert).collect())
}

/// DER SubjectPublicKeyInfo of an arbitrary P-256 point (encodable, not necessarily on the curve).
fn p256_spki(x: &[u8], y: &[u8]) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
    ];
    der.extend_from_slice(x);
    der.extend_from_slice(y);
    der
}

/// DER SubjectPublicKeyInfo of an RSA key with a 2048-bit modulus and e = 65537.
fn rsa_spki(n: &[u8]) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x82, 0x01, 0x22, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
        0x01, 0x01, 0x05, 0x00, 0x03, 0x82, 0x01, 0x0f, 0x00, 0x30, 0x82, 0x01, 0x0a, 0x02, 0x82,
        0x01, 0x01, 0x00,
    ];
    der.extend_from_slice(n);
    der.extend_from_slice(&[0x02, 0x03, 0x01, 0x00, 0x01]);
    der
}

fn jwt_authority() -> impl Strategy<Value = JwtAuthority> {
    prop_oneof![
        (
            prop::array::uniform32(any::<u8>()),
            prop::array::uniform32(any::<u8>())
        )
            .prop_map(|(x, y)| p256_spki(&x, &y)),
        prop::collection::vec(any::<u8>(), 256).prop_map(|mut n| {
            n[0] |= 0x80;
            rsa_spki(&n)
        }),
    ]
    .prop_map(|public_key| JwtAuthority {
        public_key,
        expires_at: None,
    })
}

fn bundle_strategy() -> impl Strategy<Value = Bundle> {
    (
        prop::sample::subsequence((0..cert_pool().len()).collect::<Vec<_>>(), 0..=4),
        prop::collection::btree_map("\\PC{1,16}", jwt_authority(), 0..4),
        any::<u64>(),
        prop::option::of(any::<u64>()),
    )
        .prop_map(|(certs, jwt, seq, hint)| {
            let mut b = Bundle::new(td("example.org"));
            for i in certs {
                b.add_x509_authority(cert_pool()[i].clone());
            }
            b.jwt_authorities = jwt;
            b.sequence_number = seq;
            b.refresh_hint = hint.map(Duration::from_secs);
            b
        })
}

proptest! {
    #[test]
    fn bundle_json_decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Bundle::from_jwks_json(td("example.org"), &bytes);
    }

    #[test]
    fn bundle_json_decode_never_panics_on_mutated_documents(
        b in bundle_strategy(),
        cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let mut json = b.to_jwks_json().unwrap().into_bytes();
        let i = flip.index(json.len());
        json[i] = byte;
        let _ = Bundle::from_jwks_json(td("example.org"), &json);
        json.truncate(cut.index(json.len()));
        let _ = Bundle::from_jwks_json(td("example.org"), &json);
    }

    #[test]
    fn bundle_json_encode_then_decode_is_identity(b in bundle_strategy()) {
        let json = b.to_jwks_json().unwrap();
        prop_assert_eq!(Bundle::from_jwks_json(td("example.org"), json.as_bytes()).unwrap(), b);
    }

    #[test]
    fn der_and_csr_parsers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(chain) = split_der_certificates(&bytes) {
            let _ = parse_x509_svid(&chain);
            let _ = verify_x509_svid(&chain, &Bundle::new(td("example.org")), t0());
        }
        let _ = parse_csr(&bytes);
    }
}
