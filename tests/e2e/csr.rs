//! BatchSignX509Svids takes nothing from a CSR but its verified public key: a hostile CSR (extra
//! URI and DNS SANs, a foreign SPIFFE ID, CA=true, keyCertSign) still yields a leaf with only the
//! entry's SPIFFE ID and CA=false; a CSR with a broken signature and an entry of another agent
//! fail per item, and the agent's own entry is signed in the same call.

use std::time::SystemTime;

use lanyard_proto::lanyard::agent::v1::sign_x509_svid_result::Result as Item;
use lanyard_x509::{CertDer, KeyPair, KeyType};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, KeyUsagePurpose, PublicKeyData as _, SanType,
};
use tonic::Code;

use crate::agent::{TestAgent, bundle_from_pem};
use crate::harness::Server;
use crate::store::Store;

datastore_tests!(csr_contributes_only_its_key);

/// A CSR asking for everything a workload must not get; returns it with its key's SPKI.
fn hostile_csr() -> (Vec<u8>, Vec<u8>) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = CertificateParams::default();
    params.subject_alt_names = vec![
        SanType::URI("spiffe://example.org/admin".try_into().unwrap()),
        SanType::URI("spiffe://evil.org/owned".try_into().unwrap()),
        SanType::DnsName("evil.example.com".try_into().unwrap()),
    ];
    params
        .distinguished_name
        .push(DnType::CommonName, "spiffe://evil.org/owned");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let csr = params.serialize_request(&key).unwrap();
    (csr.der().to_vec(), key.subject_public_key_info())
}

/// A well-formed CSR whose signature does not verify (last byte of the signature flipped).
fn broken_signature_csr() -> Vec<u8> {
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    let mut csr = lanyard_x509::build_csr(&key).unwrap();
    *csr.last_mut().unwrap() ^= 0x01;
    csr
}

fn clean_csr() -> (Vec<u8>, Vec<u8>) {
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    (
        lanyard_x509::build_csr(&key).unwrap(),
        key.public_key_spki_der(),
    )
}

fn error_code(item: &Item) -> Code {
    match item {
        Item::Error(s) => Code::from(s.code),
        Item::Svid(_) => panic!("signed, but should have failed"),
    }
}

async fn csr_contributes_only_its_key(store: Store) {
    let server = Server::start(store).await;
    let bundle = bundle_from_pem(&server.bundle_pem().await);
    let (token_a, a_id, _) = server.token(&[]).await;
    let (token_b, b_id, _) = server.token(&[]).await;
    let mut a = TestAgent::attest(&server, &token_a).await.unwrap();
    let _b = TestAgent::attest(&server, &token_b).await.unwrap();
    let own = server
        .create_entry("spiffe://example.org/workload/a", &a_id)
        .await;
    let others = server
        .create_entry("spiffe://example.org/workload/b", &b_id)
        .await;
    let own_id = own["id"].as_str().unwrap().to_owned();
    let others_id = others["id"].as_str().unwrap().to_owned();
    // A batch names each entry once (issue 14): the agent's other entries carry the other CSRs.
    let own_broken_id = server
        .create_entry("spiffe://example.org/workload/a-broken", &a_id)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let own_clean_id = server
        .create_entry("spiffe://example.org/workload/a-clean", &a_id)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (hostile, hostile_key) = hostile_csr();
    let (clean, clean_key) = clean_csr();
    let results = a
        .sign(vec![
            (own_id.clone(), hostile),
            (own_broken_id.clone(), broken_signature_csr()),
            (others_id.clone(), clean_csr().0),
            ("no-such-entry".to_owned(), clean_csr().0),
            (own_clean_id.clone(), clean),
        ])
        .await
        .unwrap();
    assert_eq!(results.len(), 5, "one result per item");
    let ids: Vec<&str> = results.iter().map(|r| r.entry_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            &own_id,
            &own_broken_id,
            &others_id,
            "no-such-entry",
            &own_clean_id
        ],
        "results in request order"
    );
    let items: Vec<Item> = results.into_iter().map(|r| r.result.unwrap()).collect();

    for (item, key, id) in [
        (&items[0], &hostile_key, "spiffe://example.org/workload/a"),
        (
            &items[4],
            &clean_key,
            "spiffe://example.org/workload/a-clean",
        ),
    ] {
        let Item::Svid(svid) = item else {
            panic!("the agent's own entry was not signed: {item:?}");
        };
        let chain: Vec<CertDer> = svid
            .cert_chain
            .iter()
            .map(|c| CertDer::from_der(c.clone()).unwrap())
            .collect();
        let parsed = lanyard_x509::parse_x509_svid(&chain).unwrap();
        assert_eq!(parsed.spiffe_id.to_string(), id);
        assert!(parsed.dns_names.is_empty(), "{:?}", parsed.dns_names);
        assert_eq!(
            &parsed.public_key_spki_der, key,
            "the CSR's key is certified"
        );
        // Verification enforces the leaf profile: one URI SAN, cA=false, no keyCertSign.
        let verified = lanyard_x509::verify_x509_svid(&chain, &bundle, SystemTime::now())
            .unwrap_or_else(|e| panic!("issued SVID does not verify as a leaf: {e}"));
        assert_eq!(verified.spiffe_id, parsed.spiffe_id);
    }
    assert_eq!(
        error_code(&items[1]),
        Code::InvalidArgument,
        "{:?}",
        items[1]
    );
    assert_eq!(
        error_code(&items[2]),
        Code::PermissionDenied,
        "{:?}",
        items[2]
    );
    assert_eq!(
        error_code(&items[3]),
        Code::PermissionDenied,
        "{:?}",
        items[3]
    );
}
