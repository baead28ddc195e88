//! CSRs: proof of possession is checked, and nothing but the key is taken from them.

use lanyard_x509::{CsrError, KeyPair, KeyType, build_csr, parse_csr, parse_x509_svid};
use rcgen::string::Ia5String;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyUsagePurpose, SanType};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::support::*;

#[test]
fn csr_round_trip_yields_the_public_key() {
    for key in [
        KeyPair::generate(KeyType::EcP256).unwrap(),
        KeyPair::generate(KeyType::EcP384).unwrap(),
        rsa_key(),
    ] {
        let csr = build_csr(&key).unwrap();
        assert_eq!(parse_csr(&csr).unwrap(), key.public_key_spki_der());
    }
}

#[test]
fn csr_with_tampered_signature_is_rejected() {
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    let mut csr = build_csr(&key).unwrap();
    let last = csr.len() - 1;
    csr[last] ^= 0x55;
    assert_eq!(parse_csr(&csr), Err(CsrError::BadSignature));
}

#[test]
fn csr_signed_by_another_key_is_rejected() {
    // Same structure, but the signature comes from a different key than the one inside.
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    let other = KeyPair::generate(KeyType::EcP256).unwrap();
    let csr = build_csr(&key).unwrap();
    let forged = build_csr(&other).unwrap();
    let spki = key.public_key_spki_der();
    let other_spki = other.public_key_spki_der();
    let pos = forged
        .windows(other_spki.len())
        .position(|w| w == other_spki)
        .unwrap();
    let mut spliced = forged.clone();
    spliced[pos..pos + spki.len()].copy_from_slice(&spki);
    assert_ne!(spliced, csr);
    assert_eq!(parse_csr(&spliced), Err(CsrError::BadSignature));
}

#[test]
fn malformed_csr_is_rejected() {
    assert_eq!(parse_csr(b"not a csr"), Err(CsrError::Malformed));
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    let mut csr = build_csr(&key).unwrap();
    csr.push(0);
    assert_eq!(parse_csr(&csr), Err(CsrError::TrailingData { len: 1 }));
}

#[test]
fn csr_asking_for_extra_sans_and_ca_gets_only_the_entry_id() {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = CertificateParams::default();
    params.subject_alt_names = vec![
        SanType::URI(Ia5String::try_from("spiffe://example.org/admin").unwrap()),
        SanType::URI(Ia5String::try_from("spiffe://evil.org/x").unwrap()),
        SanType::DnsName(Ia5String::try_from("evil.example").unwrap()),
    ];
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let csr = params.serialize_request(&key).unwrap();

    let spki = parse_csr(csr.der()).unwrap();
    let root = Ca::root("example.org");
    let issued = root
        .signing(vec![])
        .issue_x509_svid(&spki, &svid_params("spiffe://example.org/web"))
        .unwrap();
    let parsed = parse_x509_svid(&issued.chain).unwrap();
    assert_eq!(parsed.spiffe_id.as_str(), "spiffe://example.org/web");
    assert!(parsed.dns_names.is_empty());
    let cert = X509Certificate::from_der(issued.leaf.as_bytes()).unwrap().1;
    assert!(!cert.is_ca());
    assert!(!cert.key_usage().unwrap().unwrap().value.key_cert_sign());
    assert_eq!(cert.public_key().raw, spki.as_slice());
    verify(&[&issued.leaf], &bundle("example.org", &[&root])).unwrap();
}
