//! Opening datastores: URL schemes and connection errors. These need no database server.

use lanyard_datastore::{Datastore, DatastoreError};

#[tokio::test]
async fn unknown_scheme_is_invalid_url_listing_accepted_ones() {
    let err = Datastore::connect("mysql://root:hunter2@db/lanyard")
        .await
        .unwrap_err();
    assert!(matches!(err, DatastoreError::InvalidUrl { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("\"mysql\""), "names the scheme: {msg}");
    assert!(
        msg.contains("sqlite://") && msg.contains("postgres://"),
        "lists accepted: {msg}"
    );
    assert!(!msg.contains("hunter2"), "redacts the password: {msg}");
}

#[tokio::test]
async fn unreachable_postgres_is_a_clear_connect_error() {
    let err = Datastore::connect("postgres://lanyard:hunter2@127.0.0.1:1/x")
        .await
        .unwrap_err();
    assert!(matches!(err, DatastoreError::Connect { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with("cannot connect to datastore postgres://lanyard:***@127.0.0.1:1/x: "),
        "{msg}"
    );
    assert!(!msg.contains("hunter2"), "{msg}");
    assert!(
        msg.to_lowercase().contains("refused"),
        "gives the cause: {msg}"
    );
}

#[tokio::test]
async fn sqlite_in_a_missing_directory_is_a_connect_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/lanyard.db");
    let err = Datastore::connect(path.to_str().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, DatastoreError::Connect { .. }), "{err:?}");
    assert!(err.to_string().contains("no/such/dir"), "{err}");
}

#[tokio::test]
async fn sqlite_url_with_mode_rwc_creates_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("url.db");
    let ds = Datastore::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    assert_eq!(ds.latest_seq().await.unwrap(), 0);
    ds.close().await;
    assert!(path.exists());
}

#[tokio::test]
async fn sqlite_in_memory_works_for_quick_tools() {
    let ds = Datastore::connect("sqlite::memory:").await.unwrap();
    let token = lanyard_datastore::JoinToken {
        token: "t".into(),
        spiffe_id: None,
        expires_at: i64::MAX,
    };
    ds.create_join_token(&token).await.unwrap();
    assert_eq!(ds.consume_join_token("t", 0).await.unwrap(), token);
}

/// Records a migration of a newer build in the datastore at `url`, as sqlx records its own.
async fn migrate_from_the_future(url: &str, postgres: bool) {
    if postgres {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (9999, 'a newer server''s', TRUE, '\\x00'::bytea, 0)",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{url}"))
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (9999, 'a newer server''s', TRUE, x'00', 0)",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    }
}

/// An older server meeting a schema a newer one migrated refuses to start with what to do,
/// instead of misreading the data (or sqlx's "previously applied but is missing").
async fn a_newer_schema_is_refused(h: crate::common::Harness) {
    h.ds.close().await;
    migrate_from_the_future(&h.url, h.is_postgres()).await;
    let err = Datastore::connect(&h.url).await.unwrap_err();
    assert!(
        matches!(err, DatastoreError::SchemaNewer { found: 9999, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.starts_with("the datastore's schema is at version 9999, newer than this server knows"),
        "{msg}"
    );
    assert!(
        msg.contains("restore the backup taken before the upgrade"),
        "{msg}"
    );
}

#[tokio::test]
async fn sqlite_a_schema_newer_than_this_build_is_refused() {
    a_newer_schema_is_refused(crate::common::Harness::sqlite().await).await;
}

#[tokio::test]
async fn postgres_a_schema_newer_than_this_build_is_refused() {
    if let Some(h) = crate::common::Harness::postgres().await {
        a_newer_schema_is_refused(h).await;
    }
}
