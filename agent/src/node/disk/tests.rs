//! The stored identity's start-up checks, on files written the way the agent writes them.

use std::time::Duration;

use lanyard_id::SpiffeId;
use lanyard_x509::{CaParams, KeyType, SigningCa, Subject, SvidParams, self_signed_ca};

use super::*;

const AGENT: &str = "spiffe://example.org/lanyard/agent/join_token/abc";

fn td() -> TrustDomain {
    TrustDomain::new("example.org").unwrap()
}

/// A CA of `td` valid for an hour and its certificate.
fn ca(td: &str) -> (SigningCa, CertDer) {
    let now = SystemTime::now();
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    let cert = self_signed_ca(
        &CaParams {
            trust_domain: TrustDomain::new(td).unwrap(),
            subject: Subject {
                country: None,
                organization: Some("test".into()),
                common_name: None,
            },
            not_before: now - Duration::from_secs(60),
            not_after: now + Duration::from_secs(3600),
            path_len: None,
        },
        &key,
    )
    .unwrap();
    (SigningCa::new(cert.clone(), key, vec![]).unwrap(), cert)
}

/// An SVID for `id` signed by `ca`, lasting `ttl`, and its key.
fn svid(ca: &SigningCa, id: &str, ttl: Duration) -> (Vec<CertDer>, KeyPair) {
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    let now = SystemTime::now();
    let issued = ca
        .issue_x509_svid(
            &key.public_key_spki_der(),
            &SvidParams {
                spiffe_id: SpiffeId::parse(id).unwrap(),
                dns_names: vec![],
                not_before: now - Duration::from_secs(30),
                not_after: now + ttl,
                backdate: Duration::ZERO,
            },
        )
        .unwrap();
    (issued.chain, key)
}

/// A data directory holding an agent identity for `id` signed by `ca` and the bundle `bundle`.
fn stored(ca: &SigningCa, id: &str, bundle: &[CertDer]) -> (tempfile::TempDir, DataDir) {
    let dir = tempfile::tempdir().unwrap();
    let dd = DataDir::open(&dir.path().join("data")).unwrap();
    let (chain, key) = svid(ca, id, Duration::from_secs(600));
    dd.save_identity(&chain, key.pkcs8_der()).unwrap();
    dd.save_bundle(bundle).unwrap();
    (dir, dd)
}

/// Loads and checks; returns the error's text.
fn refused(dd: &DataDir) -> String {
    let err = match dd.load() {
        Ok(Some(s)) => s.check(&dd.dir, &td(), SystemTime::now()).unwrap_err(),
        Ok(None) => panic!("no identity loaded"),
        Err(e) => e,
    };
    let msg = err.to_string();
    // Every refusal says what to do.
    assert!(
        msg.contains("delete agent_svid.der, agent_key.der and bundle.der"),
        "{msg}"
    );
    assert!(msg.contains("attests again"), "{msg}");
    msg
}

#[test]
fn a_consistent_identity_passes() {
    let (signing, cert) = ca("example.org");
    let (_dir, dd) = stored(&signing, AGENT, &[cert]);
    let s = dd.load().unwrap().unwrap();
    s.check(&dd.dir, &td(), SystemTime::now()).unwrap();
}

#[test]
fn a_key_of_another_svid_is_refused() {
    let (signing, cert) = ca("example.org");
    let (_dir, dd) = stored(&signing, AGENT, &[cert]);
    let other = KeyPair::generate(KeyType::EcP256).unwrap();
    dd.write_atomic("agent_key.der", other.pkcs8_der(), 0o600)
        .unwrap();
    let msg = refused(&dd);
    assert!(
        msg.contains("agent_key.der is not the private key of the SVID"),
        "{msg}"
    );
}

#[test]
fn an_svid_the_stored_bundle_does_not_verify_is_refused() {
    let (signing, _) = ca("example.org");
    let (_, other) = ca("example.org");
    let (_dir, dd) = stored(&signing, AGENT, &[other]);
    let msg = refused(&dd);
    assert!(
        msg.contains("agent_svid.der does not verify against the stored bundle.der"),
        "{msg}"
    );
}

#[test]
fn an_id_outside_the_agent_namespace_is_refused() {
    let (signing, cert) = ca("example.org");
    let (_dir, dd) = stored(&signing, "spiffe://example.org/web", &[cert]);
    let msg = refused(&dd);
    assert!(msg.contains("names spiffe://example.org/web"), "{msg}");
    assert!(
        msg.contains("spiffe://example.org/lanyard/agent/..."),
        "{msg}"
    );

    let (signing, cert) = ca("other.org");
    let (_dir, dd) = stored(&signing, "spiffe://other.org/lanyard/agent/x", &[cert]);
    let msg = refused(&dd);
    assert!(
        msg.contains("not an agent ID of trust domain example.org"),
        "{msg}"
    );
}

#[test]
fn an_empty_or_missing_bundle_is_refused() {
    let (signing, _) = ca("example.org");
    let (_dir, dd) = stored(&signing, AGENT, &[]);
    let msg = refused(&dd);
    assert!(msg.contains("bundle.der holds no X.509 authority"), "{msg}");

    fs::remove_file(dd.dir.join("bundle.der")).unwrap();
    let msg = refused(&dd);
    assert!(msg.contains("bundle.der is missing"), "{msg}");
}

#[test]
fn an_svid_without_its_key_is_refused_but_a_key_alone_is_no_identity() {
    let (signing, cert) = ca("example.org");
    let (_dir, dd) = stored(&signing, AGENT, &[cert]);
    fs::remove_file(dd.dir.join("agent_key.der")).unwrap();
    let msg = refused(&dd);
    assert!(msg.contains("agent_key.der is missing"), "{msg}");

    // What a crash between the key and the certificate of a first attestation leaves.
    let (signing, cert) = ca("example.org");
    let (_dir, dd) = stored(&signing, AGENT, &[cert]);
    fs::remove_file(dd.dir.join("agent_svid.der")).unwrap();
    assert!(dd.load().unwrap().is_none());
}

#[test]
fn garbage_is_named() {
    let (signing, cert) = ca("example.org");
    let (_dir, dd) = stored(&signing, AGENT, &[cert]);
    dd.write_atomic("agent_svid.der", b"not DER", 0o644)
        .unwrap();
    let msg = refused(&dd);
    assert!(msg.contains("agent_svid.der is corrupt"), "{msg}");
}

#[test]
fn an_expired_svid_is_left_to_attest_again() {
    let (signing, cert) = ca("example.org");
    let (_dir, dd) = stored(&signing, AGENT, &[cert]);
    let s = dd.load().unwrap().unwrap();
    s.check(
        &dd.dir,
        &td(),
        SystemTime::now() + Duration::from_secs(7200),
    )
    .unwrap();
}
