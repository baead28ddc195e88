//! The builder: what it writes, what it refuses, and that its output passes the verifier.

use std::time::Duration;

use lanyard_x509::{
    CertDer, IssueError, KeyPair, KeyType, SigningCa, X509SvidError, join_der_certificates,
    parse_x509_svid, split_der_certificates, verify_x509_svid,
};
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::support::*;

const LEAF: &str = "spiffe://example.org/ns/prod/sa/web";

fn x509(cert: &CertDer) -> X509Certificate<'_> {
    X509Certificate::from_der(cert.as_bytes()).unwrap().1
}

#[test]
fn leaf_built_by_our_builder_passes_our_verifier() {
    let root = Ca::root("example.org");
    let key = KeyPair::generate(KeyType::EcP384).unwrap();
    let mut params = svid_params(LEAF);
    params.dns_names = vec!["web.example.org".into(), "web".into()];
    let issued = root
        .signing(vec![])
        .issue_x509_svid(&key.public_key_spki_der(), &params)
        .unwrap();
    assert_eq!(
        issued.chain,
        vec![issued.leaf.clone()],
        "a root's leaf chain is just the leaf"
    );
    let v = verify(&[&issued.leaf], &bundle("example.org", &[&root])).unwrap();
    assert_eq!(v.spiffe_id.as_str(), LEAF);
    assert_eq!(v.dns_names, params.dns_names);
    assert_eq!(v.public_key_spki_der, key.public_key_spki_der());
    assert_eq!(v.not_after, at(HOUR));
    assert_eq!(v.not_before, at(-10), "NotBefore is backdated by the skew");
}

#[test]
fn full_chain_from_an_intermediate_ca_verifies() {
    let root = Ca::root("example.org");
    let mid = root.intermediate("example.org", None);
    let low_key = KeyPair::generate(KeyType::EcP256).unwrap();
    let low_cert = mid
        .signing(vec![])
        .issue_ca(
            &ca_params("example.org", "Low", None, -DAY, DAY),
            &low_key.public_key_spki_der(),
        )
        .unwrap();
    let low = SigningCa::new(low_cert.clone(), low_key, vec![mid.cert.clone()]).unwrap();
    assert!(!low.is_self_signed());
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    let issued = low
        .issue_x509_svid(&key.public_key_spki_der(), &svid_params(LEAF))
        .unwrap();
    assert_eq!(
        issued.chain,
        vec![issued.leaf.clone(), low_cert, mid.cert.clone()]
    );
    // As the Workload API carries it: concatenated DER.
    let blob = join_der_certificates(&issued.chain);
    let chain = split_der_certificates(&blob).unwrap();
    assert_eq!(chain, issued.chain);
    let v = verify_x509_svid(&chain, &bundle("example.org", &[&root]), t0()).unwrap();
    assert_eq!(v.spiffe_id.as_str(), LEAF);
    assert_eq!(parse_x509_svid(&chain).unwrap().spiffe_id.as_str(), LEAF);
}

#[test]
fn leaf_is_exactly_to_profile() {
    let root = Ca::root("example.org");
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    let mut params = svid_params(LEAF);
    params.dns_names = vec!["web.example.org".into()];
    let issued = root
        .signing(vec![])
        .issue_x509_svid(&key.public_key_spki_der(), &params)
        .unwrap();
    let cert = x509(&issued.leaf);
    assert_eq!(
        cert.subject().to_string(),
        "C=US, O=SPIFFE, CN=web.example.org"
    );
    assert!(
        cert.tbs_certificate.serial.bits() > 120,
        "random 126-bit serial"
    );
    let bc = cert.basic_constraints().unwrap().unwrap();
    assert!(bc.critical && !bc.value.ca && bc.value.path_len_constraint.is_none());
    let ku = cert.key_usage().unwrap().unwrap();
    assert!(ku.critical);
    assert!(ku.value.digital_signature());
    assert!(!ku.value.key_cert_sign() && !ku.value.crl_sign() && !ku.value.key_encipherment());
    let eku = cert.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.server_auth && eku.client_auth);
    let san = cert.subject_alternative_name().unwrap().unwrap();
    let uris: Vec<_> = san
        .value
        .general_names
        .iter()
        .filter(|n| matches!(n, GeneralName::URI(_)))
        .collect();
    assert_eq!(uris, vec![&GeneralName::URI(LEAF)]);
    let kinds: Vec<_> = cert
        .extensions()
        .iter()
        .map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(_) => "ski",
            ParsedExtension::AuthorityKeyIdentifier(_) => "aki",
            _ => "other",
        })
        .collect();
    assert!(
        kinds.contains(&"ski") && kinds.contains(&"aki"),
        "{kinds:?}"
    );
}

#[test]
fn ca_is_exactly_to_profile() {
    let root = Ca::root_with("example.org", "Root", Some(2), -DAY, DAY);
    let cert = x509(&root.cert);
    assert_eq!(
        cert.subject().to_string(),
        "C=US, O=Lanyard Test, CN=Root example.org"
    );
    assert_eq!(cert.subject().as_raw(), cert.issuer().as_raw());
    let bc = cert.basic_constraints().unwrap().unwrap();
    assert!(bc.critical && bc.value.ca);
    assert_eq!(bc.value.path_len_constraint, Some(2));
    let ku = cert.key_usage().unwrap().unwrap();
    assert!(ku.critical && ku.value.key_cert_sign() && ku.value.crl_sign());
    assert!(!ku.value.digital_signature());
    let san = cert.subject_alternative_name().unwrap().unwrap();
    assert_eq!(
        san.value.general_names,
        vec![GeneralName::URI("spiffe://example.org")]
    );
    assert!(cert.extended_key_usage().unwrap().is_none());
}

#[test]
fn not_after_is_capped_at_the_ca_not_after() {
    let root = Ca::root_with("example.org", "Root", None, -DAY, 30 * 60);
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    let mut params = svid_params(LEAF);
    params.not_after = at(10 * HOUR);
    let issued = root
        .signing(vec![])
        .issue_x509_svid(&key.public_key_spki_der(), &params)
        .unwrap();
    assert_eq!(issued.not_after, at(30 * 60));
    assert_eq!(
        parse_x509_svid(&issued.chain).unwrap().not_after,
        at(30 * 60)
    );
    // Intermediates are capped by their parent too.
    let inter_key = KeyPair::generate(KeyType::EcP256).unwrap();
    let inter = root
        .signing(vec![])
        .issue_ca(
            &ca_params("example.org", "I", None, -DAY, DAY),
            &inter_key.public_key_spki_der(),
        )
        .unwrap();
    let inter = SigningCa::new(inter, inter_key, vec![]).unwrap();
    assert_eq!(inter.not_after(), at(30 * 60));
}

#[test]
fn validity_window_that_capping_empties_is_refused() {
    let root = Ca::root_with("example.org", "Root", None, -DAY, -HOUR);
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    let err = root
        .signing(vec![])
        .issue_x509_svid(&key.public_key_spki_der(), &svid_params(LEAF))
        .unwrap_err();
    assert!(matches!(err, IssueError::EmptyValidity { .. }), "{err}");
}

#[test]
fn builder_refuses_root_path_id() {
    let root = Ca::root("example.org");
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    let err = root
        .signing(vec![])
        .issue_x509_svid(
            &key.public_key_spki_der(),
            &svid_params("spiffe://example.org"),
        )
        .unwrap_err();
    assert!(matches!(err, IssueError::LeafIdIsRoot { .. }), "{err}");
}

#[test]
fn builder_refuses_foreign_trust_domain_id() {
    let root = Ca::root("example.org");
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    let err = root
        .signing(vec![])
        .issue_x509_svid(
            &key.public_key_spki_der(),
            &svid_params("spiffe://evil.org/w"),
        )
        .unwrap_err();
    assert!(
        matches!(&err, IssueError::IdNotInCaTrustDomain { ca_trust_domain, .. } if ca_trust_domain.name() == "example.org"),
        "{err}"
    );
}

#[test]
fn builder_refuses_bad_dns_names() {
    let root = Ca::root("example.org");
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    let mut params = svid_params(LEAF);
    params.dns_names = vec!["not a name".into()];
    let err = root
        .signing(vec![])
        .issue_x509_svid(&key.public_key_spki_der(), &params)
        .unwrap_err();
    assert!(matches!(err, IssueError::InvalidDnsName(_)), "{err}");
}

#[test]
fn signing_ca_rejects_non_ca_mismatched_key_and_path_id() {
    let root = Ca::root("example.org");
    let leaf = root.issue(LEAF);
    let other = KeyPair::generate(KeyType::EcP256).unwrap();
    assert!(matches!(
        SigningCa::new(leaf, other, vec![]),
        Err(IssueError::CaNotSigningCertificate)
    ));
    let other = KeyPair::generate(KeyType::EcP256).unwrap();
    assert!(matches!(
        SigningCa::new(root.cert.clone(), other, vec![]),
        Err(IssueError::CaKeyMismatch)
    ));
    let with_path = root.mint_ca(&intermediate_params("spiffe://example.org/ca"));
    assert!(matches!(
        SigningCa::new(with_path.cert.clone(), with_path.key, vec![]),
        Err(IssueError::CaIdHasPath { .. })
    ));
}

#[test]
fn ca_subject_must_not_be_empty() {
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    let mut params = ca_params("example.org", "Root", None, -DAY, DAY);
    params.subject = Default::default();
    assert!(matches!(
        lanyard_x509::self_signed_ca(&params, &key),
        Err(IssueError::EmptyCaSubject)
    ));
}

#[test]
fn rsa_subject_keys_get_key_encipherment_and_verify() {
    let root = Ca::root("example.org");
    let rsa = rsa_key();
    assert_eq!(rsa.key_type(), Some(KeyType::Rsa2048));
    let issued = root
        .signing(vec![])
        .issue_x509_svid(&rsa.public_key_spki_der(), &svid_params(LEAF))
        .unwrap();
    let ku = *x509(&issued.leaf).key_usage().unwrap().unwrap().value;
    assert!(ku.digital_signature() && ku.key_encipherment());
    verify(&[&issued.leaf], &bundle("example.org", &[&root])).unwrap();
}

#[test]
fn rsa_ca_key_can_sign() {
    let rsa = rsa_key();
    let cert =
        lanyard_x509::self_signed_ca(&ca_params("example.org", "RSA root", None, -DAY, DAY), &rsa)
            .unwrap();
    let ca = Ca { cert, key: rsa };
    let leaf = ca.issue(LEAF);
    let v = verify(&[&leaf], &bundle("example.org", &[&ca])).unwrap();
    assert_eq!(v.spiffe_id.as_str(), LEAF);
}

#[test]
fn backdate_is_applied_and_expiry_checked_by_verifier() {
    let root = Ca::root("example.org");
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    let mut params = svid_params(LEAF);
    params.backdate = Duration::from_secs(60);
    let issued = root
        .signing(vec![])
        .issue_x509_svid(&key.public_key_spki_der(), &params)
        .unwrap();
    assert_eq!(issued.not_before, at(-60));
    let err =
        verify_x509_svid(&[&issued.leaf], &bundle("example.org", &[&root]), at(-61)).unwrap_err();
    assert!(matches!(err, X509SvidError::NotYetValid { .. }), "{err}");
}
