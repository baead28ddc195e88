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
    hex::encode(
        CertInfo::from_der(svid.leaf.as_bytes())
            .unwrap()
            .authority_key_id
            .unwrap(),
    )
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
async fn rsa_2048_ca_signs_verifiable_svids() {
    let (dir, ds, td) = setup().await;
    let now = SystemTime::now();
    let ca = Ca::open(td, KeyType::Rsa2048, TTL, &dir.path().join("ca"), ds, now)
        .await
        .unwrap();
    let id = ca.active_id().unwrap();
    let key =
        KeyPair::from_pkcs8_der(&std::fs::read(dir.path().join(format!("ca/{id}.key"))).unwrap())
            .unwrap();
    assert_eq!(key.key_type(), Some(KeyType::Rsa2048));
    let svid = sign(&ca, now);
    assert_eq!(leaf_aki(&svid), id);
    let bundle = ca.bundle().await.unwrap();
    assert_eq!(bundle.x509_authorities.len(), 1);
    let v = lanyard_x509::verify_x509_svid(&svid.chain, &bundle, now).unwrap();
    assert_eq!(v.spiffe_id.as_str(), "spiffe://example.org/web");
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

// ----- JWT signing keys -----

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn mint(ca: &Ca, now: SystemTime) -> MintedJwtSvid {
    ca.mint_jwt_svid(
        SpiffeId::parse("spiffe://example.org/web").unwrap(),
        vec!["api".to_owned()],
        secs(60),
        now,
    )
    .unwrap()
}

#[tokio::test]
async fn jwt_key_created_on_first_start_published_and_reused() {
    let (dir, ds, td) = setup().await;
    let now = SystemTime::now();
    let ca = open(&dir, &ds, &td, now).await;
    let kid = ca.active_jwt_kid().unwrap();
    assert_eq!(kid.len(), 32);
    assert!(kid.chars().all(|c| c.is_ascii_hexdigit()));
    let key_mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.path().join(format!("ca/jwt-{kid}.key")))
            .unwrap()
            .permissions(),
    );
    assert_eq!(key_mode & 0o777, 0o600);

    let bundle = ca.bundle().await.unwrap();
    let published = &bundle.jwt_authorities[&kid];
    assert_eq!(published.expires_at.map(unix), Some(unix(now + TTL)));
    let jwks: serde_json::Value = serde_json::from_str(&bundle.to_jwks_json().unwrap()).unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert!(
        keys.iter()
            .any(|k| k["use"] == "jwt-svid" && k["kid"] == kid.as_str()),
        "{jwks}"
    );
    drop(ca);

    let again = open(&dir, &ds, &td, now + secs(5)).await;
    assert_eq!(again.active_jwt_kid().unwrap(), kid);
    assert_eq!(again.bundle().await.unwrap().jwt_authorities.len(), 1);
}

#[tokio::test]
async fn jwt_keys_rotate_and_old_tokens_validate_until_expiry() {
    let (dir, ds, td) = setup().await;
    let t0 = SystemTime::now();
    let ca = open(&dir, &ds, &td, t0).await;
    let first = ca.active_jwt_kid().unwrap();
    // Before half-life nothing happens, and the next step is due by then.
    assert!(ca.rotate(t0 + secs(10)).await.unwrap() <= TTL / 2);
    assert_eq!(ca.bundle().await.unwrap().jwt_authorities.len(), 1);

    // Half-life: a second key is published but does not sign yet.
    let half = t0 + TTL / 2;
    ca.rotate(half).await.unwrap();
    let bundle = ca.bundle().await.unwrap();
    assert_eq!(bundle.jwt_authorities.len(), 2);
    assert_eq!(ca.active_jwt_kid().unwrap(), first);
    let old_token = mint(&ca, half);
    assert_eq!(old_token.kid, first);

    // A sixth remaining: the prepared key signs; the old one stays published.
    let switch = t0 + TTL - TTL / 6 + secs(1);
    while ca.active_jwt_kid().unwrap() == first {
        ca.rotate(switch).await.unwrap();
    }
    let second = ca.active_jwt_kid().unwrap();
    let bundle = ca.bundle().await.unwrap();
    assert!(bundle.jwt_authorities.contains_key(&first));
    let v =
        lanyard_jwt::validate_jwt_svid(&old_token.token, "api", &bundle, unix(half) + 30).unwrap();
    assert_eq!(v.kid, first);
    let new_token = mint(&ca, switch);
    assert_eq!(new_token.kid, second);
    let v = lanyard_jwt::validate_jwt_svid(&new_token.token, "api", &bundle, unix(switch)).unwrap();
    assert_eq!(v.kid, second);
    assert_eq!(v.spiffe_id.as_str(), "spiffe://example.org/web");

    // A token never outlives its key.
    let capped = ca
        .mint_jwt_svid(
            SpiffeId::parse("spiffe://example.org/web").unwrap(),
            vec!["api".to_owned()],
            TTL * 10,
            switch,
        )
        .unwrap();
    // The second key was prepared at half-life: it expires a whole TTL later.
    assert_eq!(capped.expires_at, unix(half + TTL));

    // After the first key expires it leaves the bundle and its file is deleted.
    let expired = t0 + TTL + secs(1);
    ca.rotate(expired).await.unwrap();
    let bundle = ca.bundle().await.unwrap();
    assert!(!bundle.jwt_authorities.contains_key(&first));
    assert!(bundle.jwt_authorities.contains_key(&second));
    assert!(!dir.path().join(format!("ca/jwt-{first}.key")).exists());
}

#[tokio::test]
async fn jwt_taint_requires_old_and_revoke_requires_taint() {
    let (dir, ds, td) = setup().await;
    let now = SystemTime::now();
    let ca = open(&dir, &ds, &td, now).await;
    let first = ca.active_jwt_kid().unwrap();
    assert!(matches!(
        ca.taint_jwt(&first).await,
        Err(CaError::JwtKey(JwtKeyError::TaintNotOld { .. }))
    ));
    assert!(matches!(
        ca.activate_jwt().await,
        Err(CaError::JwtKey(JwtKeyError::NothingPrepared))
    ));
    let prepared = ca.prepare_jwt(now).await.unwrap();
    assert!(matches!(
        ca.prepare_jwt(now).await,
        Err(CaError::JwtKey(JwtKeyError::AlreadyPrepared { .. }))
    ));
    ca.activate_jwt().await.unwrap();
    assert_eq!(ca.active_jwt_kid().unwrap(), prepared.id);
    assert!(matches!(
        ca.revoke_jwt(&first).await,
        Err(CaError::JwtKey(JwtKeyError::RevokeNotTainted { .. }))
    ));
    assert!(ca.taint_jwt(&first).await.unwrap().tainted);
    ca.revoke_jwt(&first).await.unwrap();
    let bundle = ca.bundle().await.unwrap();
    assert_eq!(
        bundle.jwt_authorities.keys().collect::<Vec<_>>(),
        vec![&prepared.id]
    );
    // X.509 authorities are untouched by JWT key operations.
    assert_eq!(bundle.x509_authorities.len(), 1);
}
