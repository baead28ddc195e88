//! Agent and server restarts (issue 4): workloads keep their cached SVIDs while the server is
//! down and rotation resumes when it is back; a restarted agent keeps its identity.

use std::time::{Duration, SystemTime};

use lanyard_x509::{CertInfo, split_der_certificates};

use crate::agent_client::{SvidWatch, ids, serial, wait_for_svids};
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::{PATIENCE, Server};
use crate::store::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_outage_serves_cached_svids_and_rotation_resumes() {
    const TTL: u64 = 30;
    let mut server = Server::start(Store::Sqlite).await;
    let agent = Agent::start(&server).await;
    let id = "spiffe://example.org/outage/workload";
    let ttl = TTL.to_string();
    create_uid_entry(&server, id, &agent.id, my_uid(), &["--x509-svid-ttl", &ttl]).await;
    wait_for_svids(&agent.socket, &[id]).await;
    agent.wait_ready().await;

    server.kill9();
    let body = agent.wait_readiness("degraded").await;
    // A workload connecting now is served at once (no retry) the SVID the agent holds, and it
    // is still valid.
    let cached = SvidWatch::open(&agent.socket)
        .await
        .unwrap_or_else(|s| panic!("refused while the server is down: {s:?}"))
        .next()
        .await;
    assert_eq!(ids(&cached), [id]);
    let cached_serial = serial(&cached, id);
    let chain = split_der_certificates(&cached.svids[0].x509_svid).unwrap();
    let not_after = CertInfo::from_der(chain[0].as_bytes()).unwrap().not_after;
    assert!(
        not_after > SystemTime::now(),
        "served an expired SVID during the outage"
    );
    assert_eq!(
        agent.readiness().await.0,
        "degraded",
        "/ready while serving from cache (was {body})"
    );

    server.start_again().await;
    agent.follow(&server);
    agent.wait_ready().await;
    // The cached SVID was signed before the outage; the next one can only come from the
    // restarted server, by the rotation the agent resumes.
    let mut watch = SvidWatch::open(&agent.socket).await.unwrap();
    let guard = Duration::from_secs(TTL) + PATIENCE;
    let rotated = watch.until(guard, |r| serial(r, id) != cached_serial).await;
    assert_eq!(rotated.svids.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_agent_keeps_its_identity_and_serves_again() {
    let server = Server::start(Store::Sqlite).await;
    let mut agent = Agent::start(&server).await;
    let id = "spiffe://example.org/restart/workload";
    create_uid_entry(&server, id, &agent.id, my_uid(), &[]).await;
    wait_for_svids(&agent.socket, &[id]).await;

    // Started again on the same data_dir and no join token (the one it had is spent).
    agent.restart().await;
    wait_for_svids(&agent.socket, &[id]).await;

    let list = server
        .cli(&["agent", "list", "--output", "json"])
        .await
        .json();
    let agents: Vec<&str> = list["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["spiffe_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        agents,
        [agent.id.as_str()],
        "after a restart the agent must come back as itself, not as a new agent\n{}",
        agent.log_text()
    );
}
