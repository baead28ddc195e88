//! Fuzz SPIFFE ID parsing: never panic, and every accepted ID obeys SPIFFE-ID.md.
#![no_main]

use lanyard_id::{SpiffeId, TrustDomain};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(id) = SpiffeId::parse(s) {
        // parse ∘ display is the identity.
        assert_eq!(id.as_str(), s);
        assert_eq!(SpiffeId::parse(&id.to_string()).as_ref(), Ok(&id));
        assert!(s.len() <= lanyard_id::MAX_ID_LEN);
        // Trust domain: non-empty, lowercase charset, at most 255 bytes, and re-parses.
        let td = id.trust_domain_name();
        assert!(!td.is_empty() && td.len() <= lanyard_id::MAX_TRUST_DOMAIN_LEN);
        assert!(td.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)));
        assert_eq!(TrustDomain::new(td).map(|t| t.name().to_owned()), Ok(td.to_owned()));
        // Path: empty, or `/`-separated segments that are non-empty, not dot segments, and
        // made of letters, digits, '.', '-', '_'.
        let path = id.path();
        if !path.is_empty() {
            assert!(path.starts_with('/'));
            for seg in path[1..].split('/') {
                assert!(!seg.is_empty() && seg != "." && seg != "..");
                assert!(seg.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)));
            }
        }
        assert_eq!(id.trust_domain().id_with_path(path).as_ref(), Ok(&id));
    }
    if let Ok(td) = TrustDomain::new(s) {
        assert!(s == td.name() || s == td.id_string());
    }
});
