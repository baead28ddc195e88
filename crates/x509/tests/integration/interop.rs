//! Interop with the Rust `spiffe` client crate (0.19): it must accept what we issue, the way a
//! workload receives it over the Workload API (concatenated DER chain + PKCS#8 key).

use lanyard_x509::{KeyPair, KeyType, SigningCa, join_der_certificates};

use crate::support::*;

const LEAF: &str = "spiffe://example.org/ns/default/sa/web";

fn check_with_spiffe_crate(ca: &SigningCa, key: &KeyPair, root: &Ca) {
    let issued = ca
        .issue_x509_svid(&key.public_key_spki_der(), &svid_params(LEAF))
        .unwrap();
    let svid =
        spiffe::X509Svid::parse_from_der(&join_der_certificates(&issued.chain), key.pkcs8_der())
            .unwrap();
    assert_eq!(svid.spiffe_id().to_string(), LEAF);
    assert_eq!(svid.cert_chain().len(), issued.chain.len());

    let bundle = bundle("example.org", &[root]);
    let td = spiffe::TrustDomain::new("example.org").unwrap();
    let theirs = spiffe::X509Bundle::parse_from_der(td, &bundle.x509_authorities_der()).unwrap();
    assert_eq!(theirs.authorities().len(), 1);
    assert_eq!(theirs.authorities()[0].as_ref(), root.cert.as_bytes());
}

#[test]
fn spiffe_crate_accepts_svid_from_root_ca() {
    let root = Ca::root("example.org");
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    check_with_spiffe_crate(&root.signing(vec![]), &key, &root);
}

#[test]
fn spiffe_crate_accepts_svid_chain_from_intermediate_ca() {
    let root = Ca::root("example.org");
    let inter = root.intermediate("example.org", Some(0));
    let key = KeyPair::generate(KeyType::EcP384).unwrap();
    check_with_spiffe_crate(&inter.signing(vec![]), &key, &root);
}

#[test]
fn spiffe_crate_accepts_rsa_svid() {
    let root = Ca::root("example.org");
    check_with_spiffe_crate(&root.signing(vec![]), &rsa_key(), &root);
}

// ---- py-spiffe (Python `spiffe` 0.3.2), stricter than the Rust crate on the X.509 profile ----

/// Writes `chain` and `key` to a tempdir and runs py-spiffe's `X509Svid.parse_raw` on them (and
/// on the bundle, checking the chain's last certificate is signed by a bundle authority).
/// `None` when the interop environment is skipped (registry unreachable outside CI).
fn py_spiffe_parse(chain: &[u8], key_pkcs8: &[u8], bundle_der: &[u8]) -> Option<(bool, String)> {
    let python = lanyard_test_support::python()?;
    let dir = tempfile::tempdir().unwrap();
    let paths = ["chain.der", "key.der", "bundle.der"].map(|n| dir.path().join(n));
    for (path, bytes) in paths.iter().zip([chain, key_pkcs8, bundle_der]) {
        std::fs::write(path, bytes).unwrap();
    }
    let args: Vec<&str> = paths.iter().map(|p| p.to_str().unwrap()).collect();
    let out = python.run("x509_svid_parse.py", &args);
    let text = if out.status.success() {
        String::from_utf8_lossy(&out.stdout).into_owned()
    } else {
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    Some((out.status.success(), text))
}

fn check_with_py_spiffe(ca: &SigningCa, key: &KeyPair, root: &Ca) {
    let issued = ca
        .issue_x509_svid(&key.public_key_spki_der(), &svid_params(LEAF))
        .unwrap();
    let bundle = bundle("example.org", &[root]);
    let Some((ok, out)) = py_spiffe_parse(
        &join_der_certificates(&issued.chain),
        key.pkcs8_der(),
        &bundle.x509_authorities_der(),
    ) else {
        return;
    };
    assert!(ok, "py-spiffe rejected our SVID: {out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["spiffe_id"], LEAF);
    assert_eq!(v["chain_len"], issued.chain.len());
    assert_eq!(v["bundle_authorities"], 1);
    assert_eq!(v["signed_by_bundle"], true, "{out}");
}

#[test]
fn py_spiffe_accepts_svid_from_root_ca() {
    let root = Ca::root("example.org");
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    check_with_py_spiffe(&root.signing(vec![]), &key, &root);
}

#[test]
fn py_spiffe_accepts_svid_chain_from_intermediate_ca() {
    let root = Ca::root("example.org");
    let inter = root.intermediate("example.org", Some(0));
    let key = KeyPair::generate(KeyType::EcP384).unwrap();
    check_with_py_spiffe(&inter.signing(vec![]), &key, &root);
}

#[test]
fn py_spiffe_accepts_rsa_svid() {
    let root = Ca::root("example.org");
    check_with_py_spiffe(&root.signing(vec![]), &rsa_key(), &root);
}

/// The reality check has teeth: py-spiffe refuses a leaf with CA=true, so the acceptance tests
/// above would notice a profile regression.
#[test]
fn py_spiffe_rejects_leaf_with_ca_true() {
    let root = Ca::root("example.org");
    let mut params = leaf_params(LEAF);
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let (cert, key) = root.mint(&params);
    let bundle = bundle("example.org", &[&root]);
    let Some((ok, out)) = py_spiffe_parse(
        cert.as_bytes(),
        &key.serialize_der(),
        &bundle.x509_authorities_der(),
    ) else {
        return;
    };
    assert!(!ok, "py-spiffe accepted a CA=true leaf: {out}");
    assert!(out.to_lowercase().contains("ca"), "{out}");
}
