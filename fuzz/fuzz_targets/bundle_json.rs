//! Fuzz JWKS bundle decoding: arbitrary bytes must decode or fail cleanly, and whatever decodes
//! must re-encode and decode to the same bundle, obeying the Trust Domain and Bundle standard.
#![no_main]

use std::sync::OnceLock;

use lanyard_id::TrustDomain;
use lanyard_x509::{Bundle, certificates_from_pem, split_der_certificates};
use libfuzzer_sys::fuzz_target;

fn trust_domain() -> &'static TrustDomain {
    static TD: OnceLock<TrustDomain> = OnceLock::new();
    TD.get_or_init(|| TrustDomain::new("example.org").expect("valid trust domain"))
}

fuzz_target!(|data: &[u8]| {
    let td = trust_domain();
    let Ok(bundle) = Bundle::from_jwks_json(td.clone(), data) else {
        return;
    };
    assert_eq!(&bundle.trust_domain, td);

    // JWT-SVID §6.1: every JWT authority has a (non-empty) kid; keys decode to SPKI DER.
    for (kid, authority) in &bundle.jwt_authorities {
        assert!(!kid.is_empty());
        assert!(!authority.public_key.is_empty());
        assert!(authority.expires_at.is_none(), "expiry is never read from JWKS");
    }
    // No X.509 authority twice.
    for (i, cert) in bundle.x509_authorities.iter().enumerate() {
        assert!(!bundle.x509_authorities[..i].contains(cert));
    }

    // encode ∘ decode is the identity on decoded bundles.
    let json = bundle.to_jwks_json().expect("a decoded bundle re-encodes");
    let again = Bundle::from_jwks_json(td.clone(), json.as_bytes()).expect("re-encoded bundle decodes");
    assert_eq!(again, bundle);
    // And the encoding is stable.
    assert_eq!(again.to_jwks_json().expect("re-encodes"), json);

    // The other encodings of the X.509 authorities round-trip too.
    let pem = bundle.x509_authorities_pem();
    assert_eq!(certificates_from_pem(pem.as_bytes()).expect("own PEM parses"), bundle.x509_authorities);
    let der = bundle.x509_authorities_der();
    assert_eq!(split_der_certificates(&der).expect("own DER splits"), bundle.x509_authorities);
});
