//! Issue 14 item 6: taint is state, not an event. A real agent that could not hear of a taint
//! (cut off from its server by the relay while the operator tainted) re-signs everything the
//! tainted authority signed within 2 s of reconnecting, because the bundle it gets on reconnect
//! marks the authority tainted. The same holds for an agent that fell behind the server's change
//! log by more than its event buffer: its stream resynchronizes and ends the resync with the
//! bundle, taint included. And a taint followed at once by a revoke leaves no connected agent
//! behind.

use std::time::Duration;

use lanyard_proto::lanyard::agent::v1::sync_message::Event;
use lanyard_proto::lanyard::types::v1 as types;
use lanyard_proto::workload::X509svidResponse;
use lanyard_x509::{CertInfo, split_der_certificates};

use crate::agent::TestAgent;
use crate::agent_client::{SvidWatch, wait_for_svids};
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::{PATIENCE, Server};
use crate::store::Store;

const WEB: &str = "spiffe://example.org/web";

/// The SVID for `WEB` in `resp`: its leaf's authority key ID (hex, as authority IDs are
/// written) and how many X.509 authorities its bundle holds.
fn signer_and_authorities(resp: &X509svidResponse) -> (String, usize) {
    let svid = resp
        .svids
        .iter()
        .find(|s| s.spiffe_id == WEB)
        .expect("no SVID for the web entry");
    let leaf = &split_der_certificates(&svid.x509_svid).unwrap()[0];
    let aki = CertInfo::from_der(leaf.as_bytes())
        .unwrap()
        .authority_key_id
        .unwrap();
    (
        hex::encode(aki),
        split_der_certificates(&svid.bundle).unwrap().len(),
    )
}

/// A server and a real agent serving `WEB`, after a rotation: a second authority active, the
/// first (`old`, which signed the agent's SVIDs) in the bundle as an old one.
struct Rotated {
    server: Server,
    memory: super::MemoryBound,
    agent: Agent,
    watch: SvidWatch,
    old: String,
}

async fn rotated() -> Rotated {
    let server = Server::start(Store::Sqlite).await;
    let memory = super::MemoryBound::new(&server, 32);
    let agent = Agent::start(&server).await;
    create_uid_entry(&server, WEB, &agent.id, my_uid(), &[]).await;
    let (mut watch, first) = wait_for_svids(&agent.socket, &[WEB]).await;
    let (old, _) = signer_and_authorities(&first);
    server
        .cli(&["localauthority", "x509", "prepare", "--output", "json"])
        .await
        .ok();
    watch
        .until(PATIENCE, |r| signer_and_authorities(r).1 == 2)
        .await;
    server
        .cli(&["localauthority", "x509", "activate"])
        .await
        .ok();
    Rotated {
        server,
        memory,
        agent,
        watch,
        old,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_cut_off_during_a_taint_re_signs_within_2s_of_reconnecting() {
    let Rotated {
        server,
        memory,
        agent,
        mut watch,
        old,
    } = rotated().await;

    // Cut off: the agent notices its Sync stream is gone.
    let lost_before = agent.log_text().matches("sync stream lost").count();
    agent.relay().cut();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while agent.log_text().matches("sync stream lost").count() == lost_before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the agent did not notice the cut:\n{}",
            agent.log_text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The taint's notice goes to no one.
    server
        .cli(&["localauthority", "x509", "taint", "--authority-id", &old])
        .await
        .ok();
    agent.relay().restore();

    let resigned = watch
        .until(PATIENCE, |r| signer_and_authorities(r).0 != old)
        .await;
    let seen = tokio::time::Instant::now();
    let reconnected = agent
        .relay()
        .reconnected_at()
        .expect("re-signed without reconnecting?");
    assert!(
        seen.duration_since(reconnected) <= Duration::from_secs(2),
        "re-signed {:?} after reconnecting",
        seen.duration_since(reconnected)
    );
    assert_ne!(signer_and_authorities(&resigned).0, old);
    memory.check(&server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taint_then_revoke_at_once_leaves_a_connected_agent_serving() {
    let Rotated {
        server,
        memory,
        agent,
        mut watch,
        old,
    } = rotated().await;

    server
        .cli(&["localauthority", "x509", "taint", "--authority-id", &old])
        .await
        .ok();
    server
        .cli(&["localauthority", "x509", "revoke", "--authority-id", &old])
        .await
        .ok();

    // The workload moves to the new authority, and the old one leaves its bundle.
    watch
        .until(PATIENCE, |r| {
            let (signer, authorities) = signer_and_authorities(r);
            signer != old && authorities == 1
        })
        .await;
    // The agent still reaches its server: a new entry is served.
    let api = "spiffe://example.org/api";
    create_uid_entry(&server, api, &agent.id, my_uid(), &[]).await;
    wait_for_svids(&agent.socket, &[api, WEB]).await;
    agent.wait_ready().await;
    memory.check(&server);
}

/// `count` entries under `parent` for a uid no process here runs as, each with a description of
/// `description_len` bytes.
fn entries(parent: &str, tag: &str, count: usize, description_len: usize) -> Vec<types::Entry> {
    (0..count)
        .map(|n| types::Entry {
            spiffe_id: format!("spiffe://example.org/{tag}/{n}"),
            parent_id: parent.to_owned(),
            selectors: vec![types::Selector {
                r#type: "unix".to_owned(),
                value: "uid:64000".to_owned(),
            }],
            description: "d".repeat(description_len),
            ..Default::default()
        })
        .collect()
}

/// A raw agent holds its Sync stream open without reading it, so the server's stream stops at
/// HTTP/2 flow control and falls behind the change log by more than its event buffer (4,096
/// events). The taint happens while it is behind, and its notice is pushed out of the buffer
/// before the stream reads on. When the agent reads again, the resync ends with the bundle,
/// which marks the old authority tainted: the state a real agent re-signs from (shown for a real
/// agent by the test above, whose reconnect takes the same path).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taint_missed_by_an_agent_that_fell_behind_arrives_as_bundle_state() {
    let server = Server::start(Store::Sqlite).await;
    let memory = super::MemoryBound::new(&server, 64);
    let (mut agent, _) = TestAgent::with_entry(&server, WEB).await;
    let (mut stream, snapshot) = agent.sync().await.unwrap();
    let (other_token, _, _) = server.token(&[]).await;
    let mut other = TestAgent::attest(&server, &other_token).await.unwrap();
    let (mut other_stream, _) = other.sync().await.unwrap();
    assert!(
        snapshot.bundles[0]
            .x509_authorities
            .iter()
            .all(|a| !a.tainted)
    );

    // The rotation first, read while the stream keeps up: the only bundle change made while it
    // is behind is the taint. (The cache reads the bundle as it is when it applies a change, so
    // a rotation made while the stream is behind could already show the taint.)
    let old = super::first_x509_authority(&server).await;
    server
        .cli(&["localauthority", "x509", "prepare"])
        .await
        .ok();
    server
        .cli(&["localauthority", "x509", "activate"])
        .await
        .ok();
    loop {
        match stream.next().await {
            Some(Ok(Event::BundleUpdated(b))) if b.x509_authorities.len() == 2 => break,
            Some(Ok(_)) => {}
            other => panic!("the Sync stream ended during the rotation: {other:?}"),
        }
    }

    // About 3.5 MiB of changes for this agent, more than the client's HTTP/2 stream window
    // (2 MiB) and the server's send buffer: the server's stream stops reading the change log.
    super::create_entries(&server, entries(agent.id.as_ref(), "mine", 3_000, 1_000)).await;
    server
        .cli(&["localauthority", "x509", "taint", "--authority-id", &old])
        .await
        .ok();
    // More changes than the event buffer holds, none for this agent: the taint's notice leaves
    // the buffer before the stream reads on. They are another agent's, whose stream is read
    // until it has them all: then the server has published every one of them (the datastore
    // acknowledging them is not enough; the server's cache publishes in its own time).
    super::create_entries(&server, entries(other.id.as_ref(), "theirs", 4_200, 0)).await;
    let mut theirs = 0;
    while theirs < 4_200 {
        match other_stream.next().await {
            Some(Ok(Event::EntryUpserted(_))) => theirs += 1,
            Some(Ok(_)) => {}
            end => panic!("the other agent's stream ended after {theirs} upserts: {end:?}"),
        }
    }

    let mut upserts = 0;
    loop {
        match stream.next().await {
            Some(Ok(Event::Reissue(r))) => panic!(
                "the taint notice arrived: the stream did not fall behind ({upserts} upserts read): {r:?}"
            ),
            Some(Ok(Event::BundleUpdated(b))) if b.x509_authorities.iter().any(|a| a.tainted) => {
                assert_eq!(b.x509_authorities.len(), 2, "{b:?}");
                break;
            }
            Some(Ok(Event::EntryUpserted(_))) => upserts += 1,
            Some(Ok(_)) => {}
            other => panic!("the Sync stream ended after {upserts} upserts: {other:?}"),
        }
    }
    // The server says why: the stream fell behind and resynchronized.
    let log = server.log_text();
    assert!(
        log.contains("sync stream fell behind; resynchronizing"),
        "the server's log does not show the stream falling behind:\n{log}"
    );
    // The resync delivered every entry of the agent's (the first one and the 3,000).
    assert!(upserts >= 3_000, "{upserts} upserts");
    memory.check(&server);
}
