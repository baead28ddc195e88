//! What [`Ca::open`] does with faults found at start: files of this server's authorities that
//! are gone, and authorities that expired while the server was down (issue 21 item 2).

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

async fn try_open(
    dir: &tempfile::TempDir,
    ds: &Datastore,
    now: SystemTime,
    force_new_ca: bool,
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
            force_new_ca,
            ..OpenOptions::default()
        },
    )
    .await
}

async fn open(dir: &tempfile::TempDir, ds: &Datastore, now: SystemTime) -> Ca {
    try_open(dir, ds, now, false).await.unwrap()
}

/// The authority rows as (id, kind, state), sorted.
async fn rows(ds: &Datastore) -> Vec<(String, AuthorityKind, AuthorityState)> {
    let mut v: Vec<_> = ds
        .list_authorities()
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.id, a.kind, a.state))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn active_count(rows: &[(String, AuthorityKind, AuthorityState)], kind: AuthorityKind) -> usize {
    rows.iter()
        .filter(|r| r.1 == kind && r.2 == AuthorityState::Active)
        .count()
}

#[tokio::test]
async fn a_missing_ca_key_refuses_the_start_naming_the_file_and_changes_nothing() {
    let (dir, ds, _) = setup().await;
    let now = SystemTime::now();
    let id = open(&dir, &ds, now).await.active_id().unwrap();
    let before = rows(&ds).await;
    let key = dir.path().join(format!("ca/{id}.key"));
    std::fs::remove_file(&key).unwrap();

    let err = try_open(&dir, &ds, now, false).await.unwrap_err();
    let CaError::MissingFiles { unusable, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(unusable.len(), 1, "{err}");
    assert_eq!(unusable[0].missing, key);
    assert_eq!(unusable[0].id, id);
    let msg = err.to_string();
    for words in [
        format!("X.509 authority {id} (active)"),
        key.display().to_string(),
        "Restore them from a backup".to_owned(),
        "--force-new-ca".to_owned(),
    ] {
        assert!(msg.contains(&words), "{words:?} not in: {msg}");
    }
    // Nothing was created in its place, and a second attempt says the same.
    assert_eq!(rows(&ds).await, before);
    assert!(matches!(
        try_open(&dir, &ds, now, false).await,
        Err(CaError::MissingFiles { .. })
    ));
}

#[tokio::test]
async fn a_missing_ca_certificate_or_jwt_key_is_named_too() {
    let (dir, ds, _) = setup().await;
    let now = SystemTime::now();
    let ca = open(&dir, &ds, now).await;
    let (id, kid) = (ca.active_id().unwrap(), ca.active_jwt_kid().unwrap());
    drop(ca);
    let crt = dir.path().join(format!("ca/{id}.crt"));
    let jwt = dir.path().join(format!("ca/jwt-{kid}.key"));
    std::fs::remove_file(&crt).unwrap();
    std::fs::remove_file(&jwt).unwrap();

    let err = try_open(&dir, &ds, now, false).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&format!(
            "X.509 authority {id} (active): {} is missing",
            crt.display()
        )),
        "{msg}"
    );
    assert!(
        msg.contains(&format!(
            "JWT key {kid} (active): {} is missing",
            jwt.display()
        )),
        "{msg}"
    );
}

#[tokio::test]
async fn a_lost_ca_directory_on_sqlite_is_refused_not_replaced() {
    // SQLite is this server's alone: a row with no file at all is still this server's.
    let (dir, ds, _) = setup().await;
    let now = SystemTime::now();
    open(&dir, &ds, now).await;
    std::fs::remove_dir_all(dir.path().join("ca")).unwrap();
    let err = try_open(&dir, &ds, now, false).await.unwrap_err();
    let CaError::MissingFiles { unusable, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(unusable.len(), 2, "{err}");
}

#[tokio::test]
async fn force_new_ca_retires_the_unusable_authorities_and_creates_new_ones() {
    let (dir, ds, _) = setup().await;
    let now = SystemTime::now();
    let ca = open(&dir, &ds, now).await;
    let (old, old_kid) = (ca.active_id().unwrap(), ca.active_jwt_kid().unwrap());
    let prepared = ca.prepare(now).await.unwrap().id;
    drop(ca);
    std::fs::remove_file(dir.path().join(format!("ca/{old}.key"))).unwrap();
    std::fs::remove_file(dir.path().join(format!("ca/jwt-{old_kid}.key"))).unwrap();

    let ca = try_open(&dir, &ds, now, true).await.unwrap();
    let new = ca.active_id().unwrap();
    assert_ne!(new, old);
    // The prepared authority was whole: it signs now rather than a brand new one.
    assert_eq!(new, prepared);
    assert_ne!(ca.active_jwt_kid().unwrap(), old_kid);
    let bundle = ca.bundle().await.unwrap();
    assert_eq!(bundle.x509_authorities.len(), 1);
    assert!(!bundle.jwt_authorities.contains_key(&old_kid));
    assert!(!dir.path().join(format!("ca/{old}.crt")).exists());
    let rows = rows(&ds).await;
    assert_eq!(active_count(&rows, AuthorityKind::X509), 1, "{rows:?}");
    assert_eq!(active_count(&rows, AuthorityKind::Jwt), 1, "{rows:?}");
    drop(ca);
    // The next start needs no flag.
    assert_eq!(open(&dir, &ds, now).await.active_id().unwrap(), new);
}

#[tokio::test]
async fn force_new_ca_with_nothing_missing_changes_nothing() {
    let (dir, ds, _) = setup().await;
    let now = SystemTime::now();
    let id = open(&dir, &ds, now).await.active_id().unwrap();
    let before = rows(&ds).await;
    let ca = try_open(&dir, &ds, now, true).await.unwrap();
    assert_eq!(ca.active_id().unwrap(), id);
    assert_eq!(rows(&ds).await, before);
}

#[tokio::test]
async fn a_ca_that_expired_while_down_is_retired_and_replaced_once() {
    let (dir, ds, _) = setup().await;
    let t0 = SystemTime::now();
    let ca = open(&dir, &ds, t0).await;
    let (first, first_kid) = (ca.active_id().unwrap(), ca.active_jwt_kid().unwrap());
    drop(ca);

    // Down for longer than the CA's lifetime.
    let later = t0 + TTL + Duration::from_secs(30);
    let ca = open(&dir, &ds, later).await;
    let id = ca.active_id().unwrap();
    assert_ne!(id, first);
    assert_ne!(ca.active_jwt_kid().unwrap(), first_kid);
    let r = rows(&ds).await;
    assert_eq!(active_count(&r, AuthorityKind::X509), 1, "{r:?}");
    assert_eq!(active_count(&r, AuthorityKind::Jwt), 1, "{r:?}");
    // A new SVID verifies against the bundle; the expired authority leaves it at the first
    // rotation step.
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    let svid = ca
        .sign_x509_svid(
            &key.public_key_spki_der(),
            SpiffeId::parse("spiffe://example.org/web").unwrap(),
            vec![],
            Duration::from_secs(60),
            later,
        )
        .unwrap();
    ca.rotate(later).await.unwrap();
    let bundle = ca.bundle().await.unwrap();
    assert_eq!(bundle.x509_authorities.len(), 1);
    assert!(!bundle.jwt_authorities.contains_key(&first_kid));
    lanyard_x509::verify_x509_svid(&svid.chain, &bundle, later).unwrap();
    drop(ca);

    // A restart keeps the replacement.
    assert_eq!(open(&dir, &ds, later).await.active_id().unwrap(), id);
}

#[tokio::test]
async fn a_valid_prepared_authority_takes_over_from_an_expired_active_one() {
    let (dir, ds, _) = setup().await;
    let t0 = SystemTime::now();
    let ca = open(&dir, &ds, t0).await;
    let half = t0 + TTL / 2;
    let prepared = ca.prepare(half).await.unwrap().id;
    let prepared_kid = ca.prepare_jwt(half).await.unwrap().id;
    drop(ca);
    // The active ones expired, the prepared ones (published since half-life) did not.
    let ca = open(&dir, &ds, t0 + TTL + Duration::from_secs(5)).await;
    assert_eq!(ca.active_id().unwrap(), prepared);
    assert_eq!(ca.active_jwt_kid().unwrap(), prepared_kid);
    let r = rows(&ds).await;
    assert_eq!(active_count(&r, AuthorityKind::X509), 1, "{r:?}");
    assert_eq!(active_count(&r, AuthorityKind::Jwt), 1, "{r:?}");
}

#[tokio::test]
async fn an_expired_authority_with_a_missing_file_just_leaves_the_bundle() {
    let (dir, ds, _) = setup().await;
    let t0 = SystemTime::now();
    let first = open(&dir, &ds, t0).await.active_id().unwrap();
    std::fs::remove_file(dir.path().join(format!("ca/{first}.key"))).unwrap();
    // Nothing it signed is valid any more: no reason to refuse the start.
    let ca = open(&dir, &ds, t0 + TTL + Duration::from_secs(5)).await;
    assert_ne!(ca.active_id().unwrap(), first);
    assert_eq!(ca.bundle().await.unwrap().x509_authorities.len(), 1);
}

/// A bundle holding only the authority `id`.
async fn bundle_of(ca: &Ca, id: &str) -> Bundle {
    let mut b = Bundle::new(TrustDomain::new("example.org").unwrap());
    let a = ca.authorities().await.unwrap();
    b.add_x509_authority(a.iter().find(|a| a.id == id).unwrap().cert.clone());
    b
}

#[tokio::test]
async fn the_cross_chain_lets_a_bundle_of_any_older_authority_verify_the_new_one() {
    let (dir, ds, _) = setup().await;
    let t0 = SystemTime::now();
    let ca = open(&dir, &ds, t0).await;
    let first = ca.active_id().unwrap();
    assert!(ca.cross_chain(t0).unwrap().is_empty());
    let mut ids = vec![first];
    // Two rotations an agent slept through.
    // In the same second, as a quick operator (or test) does it.
    for _ in 0..2 {
        ca.prepare(t0).await.unwrap();
        ids.push(ca.activate().await.unwrap().id);
    }
    let cross = ca.cross_chain(t0).unwrap();
    assert_eq!(cross.len(), 2);
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    let svid = ca
        .sign_x509_svid(
            &key.public_key_spki_der(),
            SpiffeId::parse("spiffe://example.org/lanyard/server").unwrap(),
            vec![],
            Duration::from_secs(60),
            t0,
        )
        .unwrap();
    let chain: Vec<CertDer> = svid.chain.iter().cloned().chain(cross).collect();
    for id in &ids {
        let bundle = bundle_of(&ca, id).await;
        let v = lanyard_x509::verify_x509_svid(&chain, &bundle, t0)
            .unwrap_or_else(|e| panic!("a bundle of only {id} does not verify: {e}"));
        assert_eq!(v.spiffe_id.as_str(), "spiffe://example.org/lanyard/server");
    }
    // Without the cross-signed certificates only the active authority verifies it.
    let bundle = bundle_of(&ca, &ids[0]).await;
    assert!(lanyard_x509::verify_x509_svid(&svid.chain, &bundle, t0).is_err());
}
