//! CA lifecycle against a real SQLite datastore in a tempdir.

use super::*;

const TTL: Duration = Duration::from_secs(600);

async fn setup() -> (tempfile::TempDir, Datastore, TrustDomain) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("ds.sqlite3").display()
    );
    let ds = Datastore::connect(&url).await.unwrap();
    (dir, ds, TrustDomain::new("example.org").unwrap())
}

async fn open(dir: &tempfile::TempDir, ds: &Datastore, td: &TrustDomain, now: SystemTime) -> Ca {
    Ca::open(
        td.clone(),
        KeyType::EcP256,
        TTL,
        &dir.path().join("ca"),
        ds.clone(),
        now,
    )
    .await
    .unwrap()
}

fn leaf_aki(svid: &IssuedX509Svid) -> String {
    hex(&CertInfo::from_der(svid.leaf.as_bytes())
        .unwrap()
        .authority_key_id
        .unwrap())
}

fn sign(ca: &Ca, now: SystemTime) -> IssuedX509Svid {
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    ca.sign_x509_svid(
        &key.public_key_spki_der(),
        SpiffeId::parse("spiffe://example.org/web").unwrap(),
        vec![],
        Duration::from_secs(3600),
        now,
    )
    .unwrap()
}

#[tokio::test]
async fn first_start_creates_ca_and_restart_reuses_it() {
    let (dir, ds, td) = setup().await;
    let now = SystemTime::now();
    let ca = open(&dir, &ds, &td, now).await;
    let id = ca.active_id().unwrap();
    let bundle = ca.bundle().await.unwrap();
    assert_eq!(bundle.x509_authorities.len(), 1);
    let key_mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.path().join(format!("ca/{id}.key")))
            .unwrap()
            .permissions(),
    );
    assert_eq!(key_mode & 0o777, 0o600);
    drop(ca);

    let again = open(&dir, &ds, &td, now).await;
    assert_eq!(again.active_id().unwrap(), id);
    assert_eq!(
        again.bundle().await.unwrap().x509_authorities,
        bundle.x509_authorities
    );
}

#[tokio::test]
async fn svid_verifies_against_bundle_and_is_capped_at_ca_expiry() {
    let (dir, ds, td) = setup().await;
    let now = SystemTime::now();
    let ca = open(&dir, &ds, &td, now).await;
    let svid = sign(&ca, now);
    let bundle = ca.bundle().await.unwrap();
    let v = lanyard_x509::verify_x509_svid(&svid.chain, &bundle, now).unwrap();
    assert_eq!(v.spiffe_id.as_str(), "spiffe://example.org/web");
    // 1h requested, CA lives 10 min: capped.
    assert!(svid.not_after <= now + TTL);
    assert!(svid.not_before <= now - BACKDATE + Duration::from_secs(1));
}

#[tokio::test]
async fn prepare_publishes_then_activate_switches_signer() {
    let (dir, ds, td) = setup().await;
    let now = SystemTime::now();
    let ca = open(&dir, &ds, &td, now).await;
    let first = ca.active_id().unwrap();
    let prepared = ca.prepare(now).await.unwrap();
    assert_eq!(prepared.state, AuthorityState::Prepared);
    assert_eq!(ca.bundle().await.unwrap().x509_authorities.len(), 2);
    assert!(matches!(
        ca.prepare(now).await,
        Err(CaError::AlreadyPrepared { .. })
    ));
    // Still signing with the first until activation.
    assert_eq!(leaf_aki(&sign(&ca, now)), first);

    let active = ca.activate().await.unwrap();
    assert_eq!(active.id, prepared.id);
    assert_eq!(leaf_aki(&sign(&ca, now)), prepared.id);
    let rows = ca.authorities().await.unwrap();
    let old = rows.iter().find(|a| a.id == first).unwrap();
    assert_eq!(old.state, AuthorityState::Old);
    assert!(matches!(ca.activate().await, Err(CaError::NothingPrepared)));
}

#[tokio::test]
async fn taint_requires_old_and_revoke_requires_taint() {
    let (dir, ds, td) = setup().await;
    let now = SystemTime::now();
    let ca = open(&dir, &ds, &td, now).await;
    let first = ca.active_id().unwrap();
    assert!(matches!(
        ca.taint(&first).await,
        Err(CaError::TaintNotOld { .. })
    ));
    ca.prepare(now).await.unwrap();
    ca.activate().await.unwrap();
    assert!(matches!(
        ca.revoke(&first).await,
        Err(CaError::RevokeNotTainted { .. })
    ));
    let tainted = ca.taint(&first).await.unwrap();
    assert!(tainted.tainted);
    ca.revoke(&first).await.unwrap();
    let bundle = ca.bundle().await.unwrap();
    assert_eq!(bundle.x509_authorities.len(), 1);
    assert!(!dir.path().join(format!("ca/{first}.key")).exists());
    assert!(matches!(
        ca.taint("nope").await,
        Err(CaError::NotFound { .. })
    ));
}

#[tokio::test]
async fn automatic_rotation_follows_half_and_sixth_schedule() {
    let (dir, ds, td) = setup().await;
    let t0 = SystemTime::now();
    let ca = open(&dir, &ds, &td, t0).await;
    let first = ca.active_id().unwrap();

    // Before half-life: nothing to do, next step due at about half the TTL.
    let wait = ca.rotate(t0).await.unwrap();
    assert!(
        wait >= Duration::from_secs(280) && wait <= TTL / 2,
        "{wait:?}"
    );
    assert_eq!(ca.bundle().await.unwrap().x509_authorities.len(), 1);

    // At half-life: a prepared authority joins the bundle; the first still signs.
    let half = t0 + TTL / 2;
    ca.rotate(half).await.unwrap();
    assert_eq!(ca.bundle().await.unwrap().x509_authorities.len(), 2);
    assert_eq!(ca.active_id().unwrap(), first);

    // A sixth before expiry: the prepared one signs, the first is old but still trusted.
    let late = t0 + TTL - TTL / 6 + Duration::from_secs(1);
    ca.rotate(late).await.unwrap();
    assert_ne!(ca.active_id().unwrap(), first);
    assert_eq!(ca.bundle().await.unwrap().x509_authorities.len(), 2);

    // After the first expires it leaves the bundle.
    ca.rotate(t0 + TTL + Duration::from_secs(2)).await.unwrap();
    let rows = ca.authorities().await.unwrap();
    assert!(rows.iter().all(|a| a.id != first), "{rows:?}");
}
