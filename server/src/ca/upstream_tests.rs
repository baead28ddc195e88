//! `[ca.upstream]` against a real SQLite datastore and PEM files in a tempdir.

use std::path::Path;

use lanyard_x509::{certificates_to_pem, verify_x509_svid};

use super::*;

const TTL: Duration = Duration::from_secs(600);

/// An operator's PKI: a root, and an intermediate it signed (each with its key).
struct Pki {
    root: SigningCa,
    intermediate: SigningCa,
}

fn subject(cn: &str) -> Subject {
    Subject {
        country: None,
        organization: Some("Operator".into()),
        common_name: Some(cn.into()),
    }
}

fn params(cn: &str, now: SystemTime) -> CaParams {
    CaParams {
        trust_domain: TrustDomain::new("corp.example").unwrap(),
        subject: subject(cn),
        not_before: now - Duration::from_secs(60),
        not_after: now + Duration::from_secs(86_400),
        path_len: None,
    }
}

fn pki(now: SystemTime) -> Pki {
    let root_key = KeyPair::generate(KeyType::EcP256).unwrap();
    let root_cert = self_signed_ca(&params("Root", now), &root_key).unwrap();
    let root = SigningCa::new(root_cert, root_key, vec![]).unwrap();
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    let cert = root
        .issue_ca(&params("Issuing", now), &key.public_key_spki_der())
        .unwrap();
    let intermediate = SigningCa::new(cert, key, vec![]).unwrap();
    Pki { root, intermediate }
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Writes `cert_path` (the certificates given), `key_path` and `bundle_path`.
fn files(dir: &Path, certs: &[&CertDer], key: &KeyPair, roots: &[&CertDer]) -> UpstreamFiles {
    let certs: Vec<CertDer> = certs.iter().map(|c| (*c).clone()).collect();
    let roots: Vec<CertDer> = roots.iter().map(|c| (*c).clone()).collect();
    UpstreamFiles {
        cert_path: write(dir, "upstream.crt", &certificates_to_pem(&certs)),
        key_path: write(dir, "upstream.key", &key.to_pkcs8_pem()),
        bundle_path: write(dir, "upstream-bundle.crt", &certificates_to_pem(&roots)),
    }
}

async fn setup() -> (tempfile::TempDir, Datastore) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("ds.sqlite3").display()
    );
    (dir, Datastore::connect(&url).await.unwrap())
}

async fn open(
    dir: &tempfile::TempDir,
    ds: &Datastore,
    upstream: Option<UpstreamFiles>,
    now: SystemTime,
) -> Result<Ca, CaError> {
    Ca::open_with(
        TrustDomain::new("example.org").unwrap(),
        KeyType::EcP256,
        KeyType::EcP256,
        TTL,
        &dir.path().join("ca"),
        ds.clone(),
        now,
        OpenOptions {
            upstream,
            ..OpenOptions::default()
        },
    )
    .await
}

fn sign(ca: &Ca, now: SystemTime) -> IssuedX509Svid {
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    ca.sign_x509_svid(
        &key.public_key_spki_der(),
        SpiffeId::parse("spiffe://example.org/web").unwrap(),
        vec![],
        Duration::from_secs(300),
        now,
    )
    .unwrap()
}

#[tokio::test]
async fn the_bundle_is_the_upstream_root_and_svids_chain_to_it() {
    let (dir, ds) = setup().await;
    let now = SystemTime::now();
    let pki = pki(now);
    let root = pki.root.certificate();
    let f = files(dir.path(), &[root], pki.root.key(), &[root]);
    let ca = open(&dir, &ds, Some(f), now).await.unwrap();
    assert!(ca.has_upstream());

    let bundle = ca.bundle().await.unwrap();
    assert_eq!(bundle.x509_authorities, vec![root.clone()]);
    let signing = ca.signing_ca().unwrap();
    assert!(!signing.is_self_signed());
    assert!(pki.root.signed(signing.certificate()));
    // The operator sees this server's intermediate, not the root.
    let shown = ca.authorities().await.unwrap();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].cert, *signing.certificate());

    let svid = sign(&ca, now);
    // Leaf and intermediate; never the root (it is in the bundle).
    assert_eq!(svid.chain.len(), 2);
    assert_eq!(svid.chain[1], *signing.certificate());
    let verified = verify_x509_svid(&svid.chain, &bundle, now).unwrap();
    assert_eq!(verified.authority, *root);
    assert!(ca.cross_chain(now).unwrap().is_empty());
}

#[tokio::test]
async fn an_upstream_intermediate_travels_in_the_chain() {
    let (dir, ds) = setup().await;
    let now = SystemTime::now();
    let pki = pki(now);
    let (root, issuing) = (pki.root.certificate(), pki.intermediate.certificate());
    // cert_path: the issuing CA then its root, as operators often write it.
    let f = files(
        dir.path(),
        &[issuing, root],
        pki.intermediate.key(),
        &[root],
    );
    let ca = open(&dir, &ds, Some(f), now).await.unwrap();
    let svid = sign(&ca, now);
    assert_eq!(svid.chain.len(), 3, "leaf, ours, the upstream intermediate");
    assert_eq!(svid.chain[2], *issuing);
    let bundle = ca.bundle().await.unwrap();
    assert_eq!(bundle.x509_authorities, vec![root.clone()]);
    verify_x509_svid(&svid.chain, &bundle, now).unwrap();
}

#[tokio::test]
async fn rotation_signs_with_the_upstream_key_and_leaves_the_bundle_alone() {
    let (dir, ds) = setup().await;
    let now = SystemTime::now();
    let pki = pki(now);
    let root = pki.root.certificate();
    let f = files(dir.path(), &[root], pki.root.key(), &[root]);
    let ca = open(&dir, &ds, Some(f.clone()), now).await.unwrap();
    let before = ca.bundle().await.unwrap().x509_authorities;
    let first = ca.active_id().unwrap();

    let prepared = ca.prepare(now).await.unwrap();
    assert!(pki.root.signed(&prepared.cert));
    ca.activate().await.unwrap();
    assert_ne!(ca.active_id().unwrap(), first);
    assert_eq!(ca.bundle().await.unwrap().x509_authorities, before);
    let svid = sign(&ca, now);
    verify_x509_svid(&svid.chain, &ca.bundle().await.unwrap(), now).unwrap();

    // Taint and revoke cannot move agents off an intermediate the bundle does not hold.
    let err = ca.taint(&first).await.unwrap_err();
    assert!(matches!(err, CaError::UpstreamIntermediate { .. }), "{err}");
    assert!(err.to_string().contains("prepare"), "{err}");
    assert!(ca.revoke(&first).await.is_err());

    // A restart keeps the active intermediate and its chain.
    drop(ca);
    let ca = open(&dir, &ds, Some(f), now).await.unwrap();
    let svid = sign(&ca, now);
    assert_eq!(svid.chain.len(), 2);
    verify_x509_svid(&svid.chain, &ca.bundle().await.unwrap(), now).unwrap();
}

#[tokio::test]
async fn adding_and_removing_the_upstream_replaces_the_signing_ca() {
    let (dir, ds) = setup().await;
    let now = SystemTime::now();
    let self_signed = open(&dir, &ds, None, now).await.unwrap();
    let old = self_signed.active_id().unwrap();
    drop(self_signed);

    let pki = pki(now);
    let root = pki.root.certificate();
    let f = files(dir.path(), &[root], pki.root.key(), &[root]);
    let ca = open(&dir, &ds, Some(f), now).await.unwrap();
    assert_ne!(ca.active_id().unwrap(), old);
    assert!(pki.root.signed(ca.signing_ca().unwrap().certificate()));
    assert_eq!(
        ca.bundle().await.unwrap().x509_authorities,
        vec![root.clone()]
    );
    let intermediate = ca.active_id().unwrap();
    drop(ca);

    let ca = open(&dir, &ds, None, now).await.unwrap();
    assert_ne!(ca.active_id().unwrap(), intermediate);
    assert!(ca.signing_ca().unwrap().is_self_signed());
    let bundle = ca.bundle().await.unwrap();
    assert!(!bundle.x509_authorities.contains(root));
    assert!(
        bundle
            .x509_authorities
            .contains(ca.signing_ca().unwrap().certificate())
    );
}

#[tokio::test]
async fn a_key_that_does_not_match_the_certificate_is_refused_naming_the_file() {
    let (dir, ds) = setup().await;
    let now = SystemTime::now();
    let pki = pki(now);
    let root = pki.root.certificate();
    let f = files(dir.path(), &[root], pki.intermediate.key(), &[root]);
    let err = open(&dir, &ds, Some(f.clone()), now).await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("key_path"), "{msg}");
    assert!(msg.contains(&f.key_path.display().to_string()), "{msg}");
    assert!(msg.contains("does not match the certificate"), "{msg}");
    // Nothing was published.
    assert!(ds.list_authorities().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_certificate_that_is_not_a_ca_is_refused() {
    let (dir, ds) = setup().await;
    let now = SystemTime::now();
    let pki = pki(now);
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    let leaf = pki
        .root
        .issue_x509_svid(
            &key.public_key_spki_der(),
            &SvidParams {
                spiffe_id: SpiffeId::parse("spiffe://corp.example/host").unwrap(),
                dns_names: vec![],
                not_before: now,
                not_after: now + Duration::from_secs(3600),
                backdate: BACKDATE,
            },
        )
        .unwrap()
        .leaf;
    let root = pki.root.certificate();
    let f = files(dir.path(), &[&leaf], &key, &[root]);
    let msg = open(&dir, &ds, Some(f.clone()), now)
        .await
        .unwrap_err()
        .to_string();
    assert!(msg.contains(&f.cert_path.display().to_string()), "{msg}");
    assert!(msg.contains("is not a CA certificate"), "{msg}");
}

#[tokio::test]
async fn a_bundle_that_does_not_verify_the_certificate_is_refused() {
    let (dir, ds) = setup().await;
    let now = SystemTime::now();
    let pki = pki(now);
    let other = self::pki(now);
    let f = files(
        dir.path(),
        &[pki.intermediate.certificate()],
        pki.intermediate.key(),
        &[other.root.certificate()],
    );
    let msg = open(&dir, &ds, Some(f.clone()), now)
        .await
        .unwrap_err()
        .to_string();
    assert!(msg.contains(&f.cert_path.display().to_string()), "{msg}");
    assert!(msg.contains(&f.bundle_path.display().to_string()), "{msg}");
    assert!(msg.contains("does not chain"), "{msg}");
}

#[tokio::test]
async fn unreadable_files_are_named() {
    let (dir, ds) = setup().await;
    let now = SystemTime::now();
    let pki = pki(now);
    let root = pki.root.certificate();
    let mut f = files(dir.path(), &[root], pki.root.key(), &[root]);
    f.bundle_path = dir.path().join("absent.pem");
    let msg = open(&dir, &ds, Some(f), now).await.unwrap_err().to_string();
    assert!(msg.contains("bundle_path"), "{msg}");
    assert!(msg.contains("absent.pem"), "{msg}");

    let mut f = files(dir.path(), &[root], pki.root.key(), &[root]);
    f.key_path = write(
        dir.path(),
        "nokey.pem",
        &certificates_to_pem(std::slice::from_ref(root)),
    );
    let msg = open(&dir, &ds, Some(f), now).await.unwrap_err().to_string();
    assert!(msg.contains("nokey.pem") && msg.contains("PKCS#8"), "{msg}");
}
