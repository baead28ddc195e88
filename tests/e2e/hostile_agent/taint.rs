//! Issue 14 item 6: taint is state, not an event. A real agent that could not hear of a taint
//! (cut off from its server by the relay while the operator tainted) re-signs everything the
//! tainted authority signed within 2 s of reconnecting, because the bundle it gets on reconnect
//! marks the authority tainted. And a taint followed at once by a revoke leaves no connected
//! agent behind.

use std::time::Duration;

use lanyard_proto::workload::X509svidResponse;
use lanyard_x509::{CertInfo, split_der_certificates};

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
