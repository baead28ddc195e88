//! Banning or evicting an agent takes effect at once: its open Sync stream gets `evicted` with
//! the reason and ends with PermissionDenied, and its later calls are refused. An evicted agent
//! attests again with a new token; a banned one cannot.

use std::time::{Duration, Instant};

use lanyard_proto::lanyard::agent::v1::evicted::Reason;
use lanyard_proto::lanyard::agent::v1::sync_message::Event;
use tonic::Code;

use crate::agent::{SyncStream, TestAgent};
use crate::harness::Server;
use crate::store::Store;

datastore_tests!(
    ban_ends_stream_within_a_second,
    evict_then_new_token_attests
);

/// Reads `stream` to its end; asserts the last message was `evicted` with `reason` and the end
/// was PermissionDenied. Returns when the end arrived.
async fn expect_evicted(stream: &mut SyncStream, reason: Reason) -> Instant {
    let mut last = None;
    loop {
        match stream.next().await {
            Some(Ok(ev)) => last = Some(ev),
            Some(Err(status)) => {
                let ended = Instant::now();
                assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
                match last {
                    Some(Event::Evicted(e)) => assert_eq!(e.reason(), reason, "{e:?}"),
                    other => panic!("the stream ended without `evicted` first: {other:?}"),
                }
                return ended;
            }
            None => panic!("the stream ended without a status"),
        }
    }
}

async fn ban_ends_stream_within_a_second(store: Store) {
    let server = Server::start(store).await;
    let agent_id = "spiffe://example.org/lanyard/agent/node-ban";
    let (token, _, _) = server.token(&["--spiffe-id", agent_id]).await;
    let mut agent = TestAgent::attest(&server, &token).await.unwrap();
    let entry = server
        .create_entry("spiffe://example.org/workload", agent_id)
        .await;
    let entry_id = entry["id"].as_str().unwrap();
    let (mut stream, snapshot) = agent.sync().await.unwrap();
    assert_eq!(snapshot.entries.len(), 1);

    server
        .cli(&["agent", "ban", "--spiffe-id", agent_id])
        .await
        .ok();
    let banned_at = Instant::now();
    let ended = expect_evicted(&mut stream, Reason::Banned).await;
    let took = ended.saturating_duration_since(banned_at);
    assert!(
        took < Duration::from_secs(1),
        "the Sync stream ended {took:?} after `agent ban` returned"
    );

    let refused = agent.sign_one(entry_id).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert!(refused.message().contains("banned"), "{refused:?}");
    let refused = agent.renew().await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");

    // Banned: a fresh token for the same ID does not bring it back.
    let again = server
        .cli(&[
            "token",
            "generate",
            "--spiffe-id",
            agent_id,
            "--output",
            "json",
        ])
        .await;
    if again.status.success() {
        let token: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
        let refused = TestAgent::attest(&server, token["token"].as_str().unwrap())
            .await
            .err()
            .expect("a banned agent attested again");
        assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    } else {
        assert!(again.stderr.contains("banned"), "{again}");
    }
    let shown = server
        .cli(&["agent", "show", "--spiffe-id", agent_id, "--output", "json"])
        .await
        .json();
    assert_eq!(shown["banned"], true, "{shown}");
}

async fn evict_then_new_token_attests(store: Store) {
    let server = Server::start(store).await;
    let agent_id = "spiffe://example.org/lanyard/agent/node-evict";
    let (token, _, _) = server.token(&["--spiffe-id", agent_id]).await;
    let mut agent = TestAgent::attest(&server, &token).await.unwrap();
    let entry = server
        .create_entry("spiffe://example.org/workload", agent_id)
        .await;
    let entry_id = entry["id"].as_str().unwrap();
    let (mut stream, _) = agent.sync().await.unwrap();

    server
        .cli(&["agent", "evict", "--spiffe-id", agent_id])
        .await
        .ok();
    expect_evicted(&mut stream, Reason::Evicted).await;
    let refused = agent.sign_one(entry_id).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    let refused = agent.sync().await.err().expect("Sync after eviction");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    let list = server
        .cli(&["agent", "list", "--output", "json"])
        .await
        .json();
    assert_eq!(list["agents"], serde_json::json!([]), "{list}");

    // A new token for the same ID: the node is back, with its entries.
    let (token, _, _) = server.token(&["--spiffe-id", agent_id]).await;
    let mut back = TestAgent::attest(&server, &token).await.unwrap();
    assert_eq!(back.id.to_string(), agent_id);
    let (_stream, snapshot) = back.sync().await.unwrap();
    assert_eq!(snapshot.entries.len(), 1);
    assert!(matches!(
        back.sign_one(entry_id).await.unwrap(),
        lanyard_proto::lanyard::agent::v1::sign_x509_svid_result::Result::Svid(_)
    ));
    // The SVID from before the eviction stays refused.
    let refused = agent.sign_one(entry_id).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
}
