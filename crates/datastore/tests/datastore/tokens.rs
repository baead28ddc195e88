//! Join tokens are single use, also under concurrency.

use lanyard_datastore::{DatastoreError, JoinToken};

use crate::common::{Harness, id, now};

backend_tests!(
    join_token_is_single_use,
    fifty_concurrent_consumers_one_success,
    expired_join_token_is_refused_and_pruned,
);

fn token(t: &str, ttl: i64) -> JoinToken {
    JoinToken {
        token: t.into(),
        spiffe_id: Some(id("spiffe://example.org/lanyard/agent/join_token/n1")),
        expires_at: now() + ttl,
    }
}

async fn join_token_is_single_use(h: &Harness) {
    let t = token("3f1c0a9e-single", 600);
    h.ds.create_join_token(&t).await.unwrap();
    let used = h.ds.consume_join_token(&t.token, now()).await.unwrap();
    assert_eq!(used, t);
    assert!(matches!(
        h.ds.consume_join_token(&t.token, now()).await,
        Err(DatastoreError::TokenNotFound)
    ));
    assert!(matches!(
        h.ds.consume_join_token("never-issued", now()).await,
        Err(DatastoreError::TokenNotFound)
    ));
    // A token without an agent ID round-trips too.
    let anon = JoinToken {
        spiffe_id: None,
        ..token("anon", 600)
    };
    h.ds.create_join_token(&anon).await.unwrap();
    assert_eq!(h.ds.consume_join_token("anon", now()).await.unwrap(), anon);
}

async fn fifty_concurrent_consumers_one_success(h: &Harness) {
    let t = token("contended", 600);
    h.ds.create_join_token(&t).await.unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let ds = h.ds.clone();
            tokio::spawn(async move { ds.consume_join_token("contended", now()).await })
        })
        .collect();
    let (mut ok, mut not_found) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(used) => {
                assert_eq!(used, t);
                ok += 1;
            }
            Err(DatastoreError::TokenNotFound) => not_found += 1,
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!(
        (ok, not_found),
        (1, 49),
        "exactly one consumer gets the token"
    );
}

async fn expired_join_token_is_refused_and_pruned(h: &Harness) {
    let expired = token("expired", -1);
    h.ds.create_join_token(&expired).await.unwrap();
    assert!(matches!(
        h.ds.consume_join_token("expired", now()).await,
        Err(DatastoreError::TokenExpired)
    ));
    assert!(
        matches!(
            h.ds.consume_join_token("expired", now()).await,
            Err(DatastoreError::TokenNotFound)
        ),
        "an expired token is gone after the first attempt"
    );

    h.ds.create_join_token(&token("old-1", -10)).await.unwrap();
    h.ds.create_join_token(&token("old-2", -10)).await.unwrap();
    h.ds.create_join_token(&token("fresh", 600)).await.unwrap();
    assert_eq!(h.ds.prune_join_tokens(now()).await.unwrap(), 2);
    assert!(h.ds.consume_join_token("fresh", now()).await.is_ok());
}
