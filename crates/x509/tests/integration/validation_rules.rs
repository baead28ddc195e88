//! Tests of X509-SVID.md §5 (path and leaf validation), each negative asserting the matching
//! error variant.

use lanyard_x509::{
    BundleSet, CertDer, CertPosition, X509SvidError, parse_x509_svid, verify_x509_svid,
};
use rcgen::string::Ia5String;
use rcgen::{BasicConstraints, IsCa, SanType};

use crate::profile_rules::{LEAF, leaf_with, verify_leaf};
use crate::support::*;

// ---- §5.1 Path validation ------------------------------------------------------------------

#[test]
fn s5_1_chain_must_not_be_empty() {
    let root = Ca::root("example.org");
    let empty: [&CertDer; 0] = [];
    let err = verify(&empty, &bundle("example.org", &[&root])).unwrap_err();
    assert!(matches!(err, X509SvidError::EmptyChain), "{err}");
}

#[test]
fn s5_1_bundle_is_chosen_by_the_leaf_trust_domain() {
    let a = Ca::root("a.example");
    let b = Ca::root("b.example");
    let set: BundleSet = [bundle("a.example", &[&a]), bundle("b.example", &[&b])]
        .into_iter()
        .collect();
    let leaf_a = a.issue("spiffe://a.example/w");
    assert_eq!(
        verify(&[&leaf_a], &set)
            .unwrap()
            .spiffe_id
            .trust_domain_name(),
        "a.example"
    );

    // Leaf of td A, but only td B's bundle is known.
    let only_b = bundle("b.example", &[&b]);
    let err = verify(&[&leaf_a], &only_b).unwrap_err();
    assert!(
        matches!(&err, X509SvidError::NoBundleForTrustDomain { trust_domain } if trust_domain.name() == "a.example"),
        "{err}"
    );
}

#[test]
fn s5_1_leaf_in_td_b_signed_by_td_a_ca_is_rejected() {
    let a = Ca::root("a.example");
    let b = Ca::root("b.example");
    let set: BundleSet = [bundle("a.example", &[&a]), bundle("b.example", &[&b])]
        .into_iter()
        .collect();
    // Our builder refuses this, so mint it by hand.
    let (leaf, _) = a.mint(&leaf_params("spiffe://b.example/w"));
    let err = verify(&[&leaf], &set).unwrap_err();
    assert!(
        matches!(err, X509SvidError::NoTrustedAuthority { .. }),
        "{err}"
    );
}

#[test]
fn s5_1_signature_by_key_not_in_bundle_is_rejected() {
    let trusted = Ca::root("example.org");
    let rogue = Ca::root("example.org"); // same name, different key
    let leaf = rogue.issue(LEAF);
    let err = verify(&[&leaf], &bundle("example.org", &[&trusted])).unwrap_err();
    assert!(
        matches!(
            err,
            X509SvidError::NoTrustedAuthority {
                position: CertPosition::Chain(0),
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn s5_1_tampered_signature_is_rejected() {
    let root = Ca::root("example.org");
    let mut der = root.issue(LEAF).into_vec();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    let err = verify_x509_tampered(&der, &root);
    assert!(
        matches!(
            err,
            X509SvidError::BadSignature {
                position: CertPosition::Chain(0)
            }
        ),
        "{err}"
    );

    let inter = root.intermediate("example.org", None);
    let mut der = inter.issue(LEAF).into_vec();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    let err = verify_x509_svid(
        &[der.as_slice(), inter.cert.as_bytes()],
        &bundle("example.org", &[&root]),
        t0(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            X509SvidError::BadSignature {
                position: CertPosition::Chain(0)
            }
        ),
        "{err}"
    );
}

fn verify_x509_tampered(der: &[u8], root: &Ca) -> X509SvidError {
    verify_x509_svid(&[der], &bundle("example.org", &[root]), t0()).unwrap_err()
}

#[test]
fn s5_1_issuer_name_must_chain() {
    let root = Ca::root("example.org");
    let inter = root.intermediate("example.org", None);
    let unrelated = Ca::root_with("example.org", "Unrelated", None, -DAY, DAY);
    let leaf = inter.issue(LEAF);
    let err = verify(&[&leaf, &unrelated.cert], &bundle("example.org", &[&root])).unwrap_err();
    assert!(
        matches!(
            err,
            X509SvidError::IssuerNameMismatch {
                position: CertPosition::Chain(0)
            }
        ),
        "{err}"
    );
}

#[test]
fn s5_1_expired_leaf_is_rejected() {
    let root = Ca::root("example.org");
    let leaf = root.issue(LEAF);
    let err =
        verify_x509_svid(&[&leaf], &bundle("example.org", &[&root]), at(HOUR + 1)).unwrap_err();
    assert!(
        matches!(
            err,
            X509SvidError::Expired {
                position: CertPosition::Chain(0),
                ..
            }
        ),
        "{err}"
    );
    // The last second of validity is still valid (RFC 5280: NotAfter is inclusive).
    verify_x509_svid(&[&leaf], &bundle("example.org", &[&root]), at(HOUR)).unwrap();
}

#[test]
fn s5_1_not_yet_valid_leaf_is_rejected() {
    let root = Ca::root("example.org");
    let leaf = root.issue(LEAF); // NotBefore = T0 - 10 s
    let err = verify_x509_svid(&[&leaf], &bundle("example.org", &[&root]), at(-11)).unwrap_err();
    assert!(
        matches!(
            err,
            X509SvidError::NotYetValid {
                position: CertPosition::Chain(0),
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn s5_1_expired_bundle_authority_is_rejected() {
    let root = Ca::root_with("example.org", "Root", None, -DAY, 2 * HOUR);
    let leaf = root.issue(LEAF);
    let err = verify_x509_svid(&[&leaf], &bundle("example.org", &[&root]), at(HOUR)).map(|_| ());
    assert!(err.is_ok());
    let root2 = Ca::root_with("example.org", "Old root", None, -DAY, -HOUR);
    let (leaf2, _) = root2.mint(&leaf_params(LEAF));
    let err = verify(&[&leaf2], &bundle("example.org", &[&root2])).unwrap_err();
    assert!(
        matches!(
            err,
            X509SvidError::Expired {
                position: CertPosition::BundleAuthority,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn s5_1_authority_may_be_last_cert_of_chain_or_its_issuer() {
    let root = Ca::root("example.org");
    let inter = root.intermediate("example.org", None);
    let leaf = inter.issue(LEAF);
    let b = bundle("example.org", &[&root]);
    let v = verify(&[&leaf, &inter.cert], &b).unwrap();
    assert_eq!(v.authority, root.cert);
    assert_eq!(v.chain.len(), 2);
    // A trailing copy of the root is not needed: the path ends where the bundle vouches.
    let v = verify(&[&leaf, &inter.cert, &root.cert], &b).unwrap();
    assert_eq!(v.authority, root.cert);
    assert_eq!(v.chain, vec![leaf.clone(), inter.cert.clone()]);
    // Intermediate itself in the bundle.
    let v = verify(&[&leaf, &inter.cert], &bundle("example.org", &[&inter])).unwrap();
    assert_eq!(v.authority, inter.cert);
}

#[test]
fn s5_1_any_of_several_rotated_roots_anchors() {
    let old = Ca::root_with("example.org", "Root", None, -DAY, DAY);
    let new = Ca::root_with("example.org", "Root", None, -DAY, DAY);
    let b = bundle("example.org", &[&old, &new]);
    verify(&[&old.issue(LEAF)], &b).unwrap();
    verify(&[&new.issue(LEAF)], &b).unwrap();
}

// ---- §5.2 Leaf validation ------------------------------------------------------------------

#[test]
fn s5_2_uri_san_with_other_scheme_is_rejected() {
    let err = verify_leaf(|p| {
        p.subject_alt_names = vec![SanType::URI(
            Ia5String::try_from("https://example.org/w").unwrap(),
        )]
    })
    .unwrap_err();
    assert!(
        matches!(err, X509SvidError::LeafUriSanNotSpiffeId { .. }),
        "{err}"
    );
}

#[test]
fn s5_2_parse_without_verifying_applies_the_leaf_rules() {
    let (_, good) = leaf_with(|_| {});
    let parsed = parse_x509_svid(&[&good]).unwrap();
    assert_eq!(parsed.spiffe_id.as_str(), LEAF);
    assert_eq!(parsed.not_after, at(HOUR));
    let (_, bad) = leaf_with(|p| p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained));
    assert!(matches!(
        parse_x509_svid(&[&bad]),
        Err(X509SvidError::LeafHasCaFlag)
    ));
}
