//! Join tokens are single-use and expire: a second use, an expired token and all but one of 50
//! simultaneous uses are refused with PermissionDenied, and only one agent appears.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::Barrier;
use tonic::Code;

use crate::agent::{TestAgent, attest, bootstrap_trust};
use crate::harness::Server;
use crate::store::Store;

datastore_tests!(
    second_use_is_refused,
    expired_token_is_refused,
    fifty_concurrent_uses_one_success
);

async fn agent_count(server: &Server) -> usize {
    let list = server
        .cli(&["agent", "list", "--output", "json"])
        .await
        .json();
    list["agents"].as_array().unwrap().len()
}

async fn second_use_is_refused(store: Store) {
    let server = Server::start(store).await;
    let (token, agent_id, _) = server.token(&[]).await;
    let first = TestAgent::attest(&server, &token).await.unwrap();
    assert_eq!(first.id.to_string(), agent_id);
    let Err(second) = TestAgent::attest(&server, &token).await else {
        panic!("a join token was accepted twice");
    };
    assert_eq!(second.code(), Code::PermissionDenied, "{second:?}");
    assert!(second.message().contains("already used"), "{second:?}");
    assert_eq!(agent_count(&server).await, 1);
}

async fn expired_token_is_refused(store: Store) {
    let server = Server::start(store).await;
    let (token, _, expires_at) = server.token(&["--ttl", "1s"]).await;
    let expires_at = UNIX_EPOCH + Duration::from_secs(u64::try_from(expires_at).unwrap());
    // Expired means `expires_at` (Unix seconds) is not after the server's clock: wait for it.
    while SystemTime::now() <= expires_at {
        let left = expires_at
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        tokio::time::sleep(left + Duration::from_millis(10)).await;
    }
    let Err(refused) = TestAgent::attest(&server, &token).await else {
        panic!("an expired join token was accepted");
    };
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert!(refused.message().contains("expired"), "{refused:?}");
    assert_eq!(agent_count(&server).await, 0);
}

async fn fifty_concurrent_uses_one_success(store: Store) {
    const N: usize = 50;
    let server = Server::start(store).await;
    let (token, agent_id, _) = server.token(&[]).await;
    let trust = bootstrap_trust(&server).await;
    let start = Arc::new(Barrier::new(N));
    let tasks: Vec<_> = (0..N)
        .map(|_| {
            let (trust, token, start) = (trust.clone(), token.clone(), Arc::clone(&start));
            let addr = server.agent_addr;
            // Each attempt dials a connection of its own inside `attest`.
            tokio::spawn(async move {
                start.wait().await;
                attest(addr, &trust, &token).await
            })
        })
        .collect();
    let mut successes = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok((svid, _)) => successes.push(svid.spiffe_id.to_string()),
            Err(s) => assert_eq!(s.code(), Code::PermissionDenied, "{s:?}"),
        }
    }
    assert_eq!(successes, [agent_id], "exactly one attestation succeeds");
    assert_eq!(agent_count(&server).await, 1);
}
