//! One positive and one negative test per profile rule of X509-SVID.md §2–§4, each negative
//! asserting the matching error variant. §5 (validation) is in `validation_rules`.

use lanyard_x509::{CertPosition, X509SvidError};
use rcgen::string::Ia5String;
use rcgen::{
    BasicConstraints, ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, KeyUsagePurpose,
    NameConstraints, SanType,
};

use crate::support::*;

pub(crate) const LEAF: &str = "spiffe://example.org/workload";

pub(crate) fn leaf_with(
    edit: impl FnOnce(&mut rcgen::CertificateParams),
) -> (Ca, lanyard_x509::CertDer) {
    let root = Ca::root("example.org");
    let mut params = leaf_params(LEAF);
    edit(&mut params);
    let (leaf, _) = root.mint(&params);
    (root, leaf)
}

pub(crate) fn verify_leaf(
    edit: impl FnOnce(&mut rcgen::CertificateParams),
) -> Result<(), X509SvidError> {
    let (root, leaf) = leaf_with(edit);
    verify(&[&leaf], &bundle("example.org", &[&root])).map(|_| ())
}

// ---- §2 SPIFFE ID: exactly one URI SAN --------------------------------------------------------

#[test]
fn s2_leaf_with_one_uri_san_is_accepted() {
    let v = {
        let (root, leaf) = leaf_with(|_| {});
        verify(&[&leaf], &bundle("example.org", &[&root])).unwrap()
    };
    assert_eq!(v.spiffe_id.as_str(), LEAF);
}

#[test]
fn s2_leaf_with_two_uri_sans_is_rejected() {
    let err = verify_leaf(|p| {
        p.subject_alt_names.push(SanType::URI(
            Ia5String::try_from("spiffe://example.org/other").unwrap(),
        ))
    })
    .unwrap_err();
    assert!(
        matches!(err, X509SvidError::LeafHasMultipleUriSans { count: 2 }),
        "{err}"
    );
}

#[test]
fn s2_leaf_without_uri_san_is_rejected() {
    let err = verify_leaf(|p| {
        p.subject_alt_names = vec![SanType::DnsName(Ia5String::try_from("a.example").unwrap())]
    })
    .unwrap_err();
    assert!(matches!(err, X509SvidError::LeafMissingUriSan), "{err}");
}

#[test]
fn s2_leaf_may_carry_dns_sans() {
    let (root, leaf) = leaf_with(|p| {
        p.subject_alt_names
            .push(SanType::DnsName(Ia5String::try_from("a.example").unwrap()))
    });
    let v = verify(&[&leaf], &bundle("example.org", &[&root])).unwrap();
    assert_eq!(v.dns_names, vec!["a.example".to_string()]);
}

// ---- §3.1 Leaf certificates ---------------------------------------------------------------

#[test]
fn s3_1_leaf_id_with_root_path_is_rejected() {
    let err = verify_leaf(|p| {
        p.subject_alt_names = vec![SanType::URI(
            Ia5String::try_from("spiffe://example.org").unwrap(),
        )]
    })
    .unwrap_err();
    assert!(matches!(err, X509SvidError::LeafIdIsRoot { .. }), "{err}");
}

#[test]
fn s3_1_empty_subject_with_critical_san_is_accepted() {
    // rcgen marks the SAN extension critical when the subject is empty.
    verify_leaf(|p| p.distinguished_name = rcgen::DistinguishedName::new()).unwrap();
}

#[test]
fn s3_1_empty_subject_with_non_critical_san_is_rejected() {
    let err = verify_leaf(|p| {
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.subject_alt_names.clear();
        // GeneralNames ::= SEQUENCE { [6] IA5String }
        let mut san = vec![0x86, LEAF.len() as u8];
        san.extend_from_slice(LEAF.as_bytes());
        let mut content = vec![0x30, san.len() as u8];
        content.extend(san);
        p.custom_extensions
            .push(raw_extension(&[2, 5, 29, 17], content, false));
    })
    .unwrap_err();
    assert!(
        matches!(err, X509SvidError::LeafSanNotCriticalWithEmptySubject),
        "{err}"
    );
}

// ---- §3.2 Signing certificates -------------------------------------------------------------

#[test]
fn s3_2_signing_cert_id_without_path_is_accepted() {
    let root = Ca::root("example.org");
    let inter = root.mint_ca(&intermediate_params("spiffe://example.org"));
    let (leaf, _) = inter.mint(&leaf_params(LEAF));
    verify(&[&leaf, &inter.cert], &bundle("example.org", &[&root])).unwrap();
}

#[test]
fn s3_2_signing_cert_id_with_path_is_rejected() {
    let root = Ca::root("example.org");
    let inter = root.mint_ca(&intermediate_params("spiffe://example.org/ca"));
    let (leaf, _) = inter.mint(&leaf_params(LEAF));
    let err = verify(&[&leaf, &inter.cert], &bundle("example.org", &[&root])).unwrap_err();
    assert!(
        matches!(
            err,
            X509SvidError::SigningCertIdHasPath {
                position: CertPosition::Chain(1),
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn s3_2_signing_cert_may_be_in_another_trust_domain() {
    // "A signing certificate MAY be used to issue further signing certificates in the same or
    // different trust domains." The bundle of the leaf's trust domain holds the root.
    let root = Ca::root("other.org");
    let inter = root.intermediate("example.org", None);
    let leaf = inter.issue(LEAF);
    verify(&[&leaf, &inter.cert], &bundle("example.org", &[&root])).unwrap();
}

// ---- §4.1 Basic constraints ----------------------------------------------------------------

#[test]
fn s4_1_leaf_with_ca_false_is_accepted() {
    verify_leaf(|p| p.is_ca = IsCa::ExplicitNoCa).unwrap();
}

#[test]
fn s4_1_leaf_with_ca_true_is_rejected() {
    let err = verify_leaf(|p| p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained)).unwrap_err();
    assert!(matches!(err, X509SvidError::LeafHasCaFlag), "{err}");
}

#[test]
fn s4_1_leaf_missing_basic_constraints_is_rejected() {
    let err = verify_leaf(|p| p.is_ca = IsCa::NoCa).unwrap_err();
    assert!(
        matches!(err, X509SvidError::LeafMissingBasicConstraints),
        "{err}"
    );
}

#[test]
fn s4_1_signing_cert_with_ca_false_is_rejected() {
    let root = Ca::root("example.org");
    let mut params = intermediate_params("spiffe://example.org");
    params.is_ca = IsCa::ExplicitNoCa;
    let inter = root.mint_ca(&params);
    let (leaf, _) = inter.mint(&leaf_params(LEAF));
    let err = verify(&[&leaf, &inter.cert], &bundle("example.org", &[&root])).unwrap_err();
    assert!(
        matches!(
            err,
            X509SvidError::SigningCertMissingCaFlag {
                position: CertPosition::Chain(1)
            }
        ),
        "{err}"
    );
}

#[test]
fn s4_1_path_len_within_limit_is_accepted() {
    let root = Ca::root_with("example.org", "Root", Some(1), -DAY, DAY);
    let inter = root.intermediate("example.org", Some(0));
    let leaf = inter.issue(LEAF);
    verify(&[&leaf, &inter.cert], &bundle("example.org", &[&root])).unwrap();
}

#[test]
fn s4_1_path_len_exceeded_is_rejected() {
    let root = Ca::root_with("example.org", "Root", Some(0), -DAY, DAY);
    let inter = root.intermediate("example.org", None);
    let leaf = inter.issue(LEAF);
    let err = verify(&[&leaf, &inter.cert], &bundle("example.org", &[&root])).unwrap_err();
    assert!(
        matches!(
            err,
            X509SvidError::PathLenExceeded {
                position: CertPosition::BundleAuthority,
                path_len: 0,
                intermediates: 1
            }
        ),
        "{err}"
    );
}

#[test]
fn s4_1_path_len_of_intermediate_exceeded_is_rejected() {
    let root = Ca::root("example.org");
    let first = root.intermediate("example.org", Some(0));
    let second = first.intermediate("example.org", None);
    let leaf = second.issue(LEAF);
    let err = verify(
        &[&leaf, &second.cert, &first.cert],
        &bundle("example.org", &[&root]),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            X509SvidError::PathLenExceeded {
                position: CertPosition::Chain(2),
                ..
            }
        ),
        "{err}"
    );
}

// ---- §4.2 Name constraints -----------------------------------------------------------------

#[test]
fn s4_2_unprocessed_critical_name_constraints_are_rejected() {
    // The spec allows URI name constraints but warns that validators without support reject
    // them; this validator does not process them, so RFC 5280 §4.2 requires rejection.
    let root = Ca::root("example.org");
    let mut params = intermediate_params("spiffe://example.org");
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: vec![GeneralSubtree::DnsName("example.org".into())],
        excluded_subtrees: vec![],
    });
    let inter = root.mint_ca(&params);
    let (leaf, _) = inter.mint(&leaf_params(LEAF));
    let err = verify(&[&leaf, &inter.cert], &bundle("example.org", &[&root])).unwrap_err();
    assert!(
        matches!(
            err,
            X509SvidError::UnsupportedCriticalExtension {
                position: CertPosition::Chain(1),
                ..
            }
        ),
        "{err}"
    );
}

// ---- §4.3 Key usage ------------------------------------------------------------------------

#[test]
fn s4_3_leaf_key_usage_critical_with_digital_signature_is_accepted() {
    verify_leaf(|p| p.key_usages = vec![KeyUsagePurpose::DigitalSignature]).unwrap();
}

#[test]
fn s4_3_leaf_may_set_key_encipherment_and_key_agreement() {
    verify_leaf(|p| {
        p.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyAgreement,
        ]
    })
    .unwrap();
}

#[test]
fn s4_3_leaf_missing_key_usage_is_rejected() {
    let err = verify_leaf(|p| p.key_usages.clear()).unwrap_err();
    assert!(matches!(err, X509SvidError::LeafMissingKeyUsage), "{err}");
}

#[test]
fn s4_3_leaf_non_critical_key_usage_is_rejected() {
    let err = verify_leaf(|p| {
        p.key_usages.clear();
        // KeyUsage ::= BIT STRING, digitalSignature (bit 0) only.
        p.custom_extensions.push(raw_extension(
            &[2, 5, 29, 15],
            vec![0x03, 0x02, 0x07, 0x80],
            false,
        ));
    })
    .unwrap_err();
    assert!(
        matches!(err, X509SvidError::LeafKeyUsageNotCritical),
        "{err}"
    );
}

#[test]
fn s4_3_leaf_without_digital_signature_is_rejected() {
    let err = verify_leaf(|p| p.key_usages = vec![KeyUsagePurpose::KeyEncipherment]).unwrap_err();
    assert!(
        matches!(err, X509SvidError::LeafMissingDigitalSignature),
        "{err}"
    );
}

#[test]
fn s4_3_leaf_with_key_cert_sign_is_rejected() {
    let err = verify_leaf(|p| p.key_usages.push(KeyUsagePurpose::KeyCertSign)).unwrap_err();
    assert!(matches!(err, X509SvidError::LeafHasKeyCertSign), "{err}");
}

#[test]
fn s4_3_leaf_with_crl_sign_is_rejected() {
    let err = verify_leaf(|p| p.key_usages.push(KeyUsagePurpose::CrlSign)).unwrap_err();
    assert!(matches!(err, X509SvidError::LeafHasCrlSign), "{err}");
}

#[test]
fn s4_3_signing_cert_without_crl_sign_is_accepted() {
    let root = Ca::root("example.org");
    let mut params = intermediate_params("spiffe://example.org");
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let inter = root.mint_ca(&params);
    let (leaf, _) = inter.mint(&leaf_params(LEAF));
    verify(&[&leaf, &inter.cert], &bundle("example.org", &[&root])).unwrap();
}

#[test]
fn s4_3_signing_cert_without_key_cert_sign_is_rejected() {
    let root = Ca::root("example.org");
    let mut params = intermediate_params("spiffe://example.org");
    params.key_usages = vec![KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let inter = root.mint_ca(&params);
    let (leaf, _) = inter.mint(&leaf_params(LEAF));
    let err = verify(&[&leaf, &inter.cert], &bundle("example.org", &[&root])).unwrap_err();
    assert!(
        matches!(
            err,
            X509SvidError::SigningCertMissingKeyCertSign {
                position: CertPosition::Chain(1)
            }
        ),
        "{err}"
    );
}

// ---- §4.4 Extended key usage ---------------------------------------------------------------

#[test]
fn s4_4_leaf_without_eku_is_accepted() {
    verify_leaf(|p| p.extended_key_usages.clear()).unwrap();
}

#[test]
fn s4_4_leaf_with_critical_eku_is_accepted() {
    verify_leaf(|p| {
        p.extended_key_usages.clear();
        let server = [0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
        let client = [0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];
        let mut content = vec![0x30, 20];
        content.extend(server);
        content.extend(client);
        p.custom_extensions
            .push(raw_extension(&[2, 5, 29, 37], content, true));
    })
    .unwrap();
}

#[test]
fn s4_4_leaf_eku_without_server_auth_is_rejected() {
    let err = verify_leaf(|p| p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth])
        .unwrap_err();
    assert!(
        matches!(err, X509SvidError::LeafEkuMissingServerAuth),
        "{err}"
    );
}

#[test]
fn s4_4_leaf_eku_without_client_auth_is_rejected() {
    let err = verify_leaf(|p| p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth])
        .unwrap_err();
    assert!(
        matches!(err, X509SvidError::LeafEkuMissingClientAuth),
        "{err}"
    );
}
