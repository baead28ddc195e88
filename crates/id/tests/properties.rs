//! Property tests: every generated valid ID survives parse ∘ display, and parsing never panics.
#![allow(clippy::unwrap_used)]

use lanyard_id::{SpiffeId, TrustDomain};
use proptest::prelude::*;

fn trust_domain() -> impl Strategy<Value = String> {
    "[a-z0-9._-]{1,60}"
}

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec("[a-zA-Z0-9._-]{1,20}", 0..6).prop_filter_map("no dot segments", |segs| {
        if segs.iter().any(|s| s == "." || s == "..") {
            None
        } else {
            Some(segs.iter().map(|s| format!("/{s}")).collect())
        }
    })
}

proptest! {
    #[test]
    fn parse_display_roundtrip(td in trust_domain(), p in path()) {
        let s = format!("spiffe://{td}{p}");
        let id = SpiffeId::parse(&s).unwrap();
        prop_assert_eq!(id.to_string(), s.clone());
        prop_assert_eq!(SpiffeId::parse(id.as_str()).unwrap(), id.clone());
        prop_assert_eq!(id.trust_domain_name(), td.as_str());
        prop_assert_eq!(id.path(), p.as_str());
        let td = TrustDomain::new(&td).unwrap();
        prop_assert_eq!(td.id_with_path(&p).unwrap(), id);
    }

    #[test]
    fn parse_never_panics_and_accepted_ids_obey_the_rules(s in "\\PC{0,80}") {
        if let Ok(id) = SpiffeId::parse(&s) {
            prop_assert!(s.starts_with("spiffe://"));
            let rest = &s["spiffe://".len()..];
            prop_assert!(!rest.contains(['?', '#', '%', ':', '@']));
            prop_assert!(id.path().split('/').skip(1).all(|seg| !seg.is_empty() && seg != "." && seg != ".."));
            prop_assert!(!id.path().ends_with('/'));
            prop_assert!(id.trust_domain_name().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)));
        }
    }

    #[test]
    fn uppercase_in_trust_domain_always_rejected(td in "[a-z]{0,10}[A-Z][a-z]{0,10}") {
        let s = format!("spiffe://{td}/x");
        prop_assert!(SpiffeId::parse(&s).is_err());
    }
}
