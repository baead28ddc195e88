//! Property tests: validation never panics, and no change to a valid token makes it validate.

use std::sync::OnceLock;

use lanyard_jwt::validate_jwt_svid;
use lanyard_x509::{Bundle, KeyType};
use proptest::prelude::*;

use crate::support::*;

/// One key, its bundle and a valid token, shared by every case.
fn fixture() -> &'static (Bundle, String) {
    static FIXTURE: OnceLock<(Bundle, String)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let key = ec_key(KeyType::EcP256);
        (bundle(&[("k1", &key)]), mint(&key, "k1"))
    })
}

/// Characters a token is made of, plus a few that are not.
fn token_char() -> impl Strategy<Value = char> {
    prop_oneof![
        8 => proptest::char::ranges(vec!['A'..='Z', 'a'..='z', '0'..='9'].into()),
        2 => Just('.'),
        1 => Just('-'),
        1 => Just('_'),
        1 => Just('='),
        1 => any::<char>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_strings_never_panic(token in ".*", now in any::<i64>()) {
        let (bundle, _) = fixture();
        prop_assert!(validate_jwt_svid(&token, AUD, bundle, now).is_err());
    }

    #[test]
    fn token_like_strings_never_panic(chars in proptest::collection::vec(token_char(), 0..400)) {
        let (bundle, _) = fixture();
        let token: String = chars.into_iter().collect();
        prop_assert!(validate_jwt_svid(&token, AUD, bundle, T0).is_err());
    }

    /// Replacing, inserting or deleting characters of a valid token never panics and never
    /// yields a token that still validates.
    #[test]
    fn mutated_tokens_are_rejected(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0..3u8, token_char()), 1..4),
        now in prop_oneof![Just(T0), any::<i64>()],
    ) {
        let (bundle, token) = fixture();
        let mut chars: Vec<char> = token.chars().collect();
        for (index, op, c) in edits {
            let i = index.index(chars.len().max(1));
            match op {
                0 if !chars.is_empty() => chars[i] = c,
                1 => chars.insert(i.min(chars.len()), c),
                _ if !chars.is_empty() => { chars.remove(i); }
                _ => {}
            }
        }
        let mutated: String = chars.into_iter().collect();
        let result = validate_jwt_svid(&mutated, AUD, bundle, now);
        if mutated != *token {
            prop_assert!(result.is_err(), "{mutated} validated");
        }
    }
}
