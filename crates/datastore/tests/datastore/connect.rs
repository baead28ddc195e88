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
