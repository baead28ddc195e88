//! Fuzz X.509-SVID verification: arbitrary bytes, split as a concatenated-DER chain, verified
//! against a fixed bundle. Must never panic, and anything accepted must be a real X.509-SVID of
//! the bundle's trust domain (X509-SVID.md §5).
#![no_main]

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lanyard_id::TrustDomain;
use lanyard_x509::{
    Bundle, CaParams, KeyPair, KeyType, Subject, X509SvidError, parse_x509_svid, self_signed_ca,
    split_der_certificates, verify_x509_svid,
};
use libfuzzer_sys::fuzz_target;

/// 2027-01-15T08:00:00Z: inside the fixed root's validity.
const NOW: u64 = 1_800_000_000;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

/// A bundle for `example.org` holding one freshly minted root, made once per process.
fn bundle() -> &'static Bundle {
    static BUNDLE: OnceLock<Bundle> = OnceLock::new();
    BUNDLE.get_or_init(|| {
        let td = TrustDomain::new("example.org").expect("valid trust domain");
        let key = KeyPair::generate(KeyType::EcP256).expect("key generation");
        let params = CaParams {
            trust_domain: td.clone(),
            subject: Subject {
                country: Some("US".into()),
                organization: Some("Lanyard Fuzz".into()),
                common_name: Some("fuzz root".into()),
            },
            not_before: now() - Duration::from_secs(86_400),
            not_after: now() + Duration::from_secs(86_400),
            path_len: None,
        };
        let root = self_signed_ca(&params, &key).expect("root CA");
        let mut bundle = Bundle::new(td);
        bundle.add_x509_authority(root);
        bundle
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(chain) = split_der_certificates(data) else {
        return;
    };
    let bundle = bundle();
    // Parsing without verification must not panic either.
    let parsed = parse_x509_svid(&chain);

    match verify_x509_svid(&chain, bundle, now()) {
        Err(X509SvidError::EmptyChain) => assert!(chain.is_empty()),
        Err(_) => assert!(!chain.is_empty()),
        Ok(svid) => {
            // X509-SVID §3.1/§5.2: a leaf ID with a non-root path ...
            assert!(!svid.spiffe_id.is_root());
            // ... in the trust domain whose bundle vouched for it.
            assert!(svid.spiffe_id.is_member_of(&bundle.trust_domain));
            assert!(bundle.x509_authorities.contains(&svid.authority));
            // The verified path is a prefix of what was presented, starting at the leaf.
            assert!(!svid.chain.is_empty() && svid.chain.len() <= chain.len());
            assert_eq!(svid.chain[..], chain[..svid.chain.len()]);
            // The leaf is valid now.
            assert!(svid.not_before <= now() && now() <= svid.not_after);
            // The profile checks of `parse_x509_svid` agree on the path.
            let path = parse_x509_svid(&svid.chain).expect("a verified path parses");
            assert_eq!(path.spiffe_id, svid.spiffe_id);
            assert_eq!(path.not_after, svid.not_after);
            assert_eq!(path.public_key_spki_der, svid.public_key_spki_der);
            if let Ok(parsed) = parsed {
                assert_eq!(parsed.spiffe_id, svid.spiffe_id);
            }
        }
    }
});
