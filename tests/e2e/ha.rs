//! High availability (issue 15): two servers of one trust domain on one PostgreSQL datastore,
//! each with CA keys of its own (as `docs/kubernetes.md` runs replicas: both authorities are in
//! the one bundle the datastore holds), and an agent that lists both in `server_address`. The
//! server the agent syncs with goes away; the agent moves to the other within its backoff and
//! attests nothing anew: it syncs, signs and renews its own SVID through the survivor, and its
//! workloads notice nothing. An agent whose first server is down when it first starts attests
//! through the next.
//!
//! The agent's list names the first server `localhost:<port>`, so a name is resolved at every
//! failover too. A single name resolving to both servers (`localhost` to 127.0.0.1 and ::1, a
//! server on each) is not tested end to end: this machine's `localhost` resolves to 127.0.0.1
//! only. The agent treats a name's addresses as it treats a list (`node::servers` unit tests).

use std::time::Duration;

use lanyard_proto::workload::X509svidResponse;
use lanyard_x509::{CertDer, certificates_from_pem, split_der_certificates};
use serde_json::Value;

use crate::agent_client::{SvidWatch, ids, wait_for_svids};
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::{PATIENCE, Server, await_event};
use crate::store::Store;

/// Both servers and the agent log JSON lines, which the test reads events from.
const JSON_LOGS: &str = "log_format = \"json\"\n";
/// Agent SVIDs (and workload SVIDs) of 20 s, backdated 10 s: the agent renews its own 2 to 8 s
/// after each issuance.
const SHORT_SVIDS: &str = "[svid]\ndefault_x509_ttl = \"20s\"\n";
/// How long the move to the other server may take: the stream breaks at once, then the agent
/// waits one backoff step (0.25 s ± 20 %, doubling only if that server fails too) and connects.
/// Far above that, for a loaded machine; far below the 30 s backoff ceiling.
const FAILOVER_WITHIN: Duration = Duration::from_secs(10);

/// Two servers on one PostgreSQL schema, an agent of both that syncs with the first, and a
/// workload's FetchX509SVID stream serving it an SVID for [`BEFORE`]; `None` without
/// PostgreSQL. Bind them in this order, so that they are dropped in the reverse one (the first
/// server owns the schema).
async fn pair_with_agent() -> Option<(Server, Server, Agent, SvidWatch)> {
    let store = Store::postgres().await?;
    let first = Server::start_with(store, |_| format!("{JSON_LOGS}{SHORT_SVIDS}")).await;
    let second = first
        .start_peer(|_| format!("{JSON_LOGS}{SHORT_SVIDS}"))
        .await;
    let addresses = [
        format!("localhost:{}", first.agent_addr.port()),
        second.agent_addr.to_string(),
    ];
    let agent = Agent::start_of(&first, &addresses, |_| JSON_LOGS.to_owned()).await;
    create_uid_entry(&first, BEFORE, &agent.id, my_uid(), &[]).await;
    let (mut watch, served) = wait_for_svids(&agent.socket, &[BEFORE]).await;
    agent.wait_ready().await;
    // The first address listed is the one it uses while it works.
    let synced = agent.logged("syncing with the server", |_| true).await;
    assert_eq!(synced["server"], first.agent_addr.to_string(), "{synced}");
    // The second server's authority reached the agent over Sync from the first: the agent (and
    // its workloads) trust both before either goes.
    let mut wanted = certificates_from_pem(second.bundle_pem().await.as_bytes()).unwrap();
    wanted.sort();
    assert_eq!(wanted.len(), 2, "one authority of each server");
    let trusted = if authorities(&served).len() >= wanted.len() {
        served
    } else {
        watch
            .until(PATIENCE, |r| authorities(r).len() >= wanted.len())
            .await
    };
    assert_eq!(authorities(&trusted), wanted, "the bundle workloads get");
    Some((first, second, agent, watch))
}

/// The X.509 authorities in the bundle of the first SVID of `resp`, sorted.
fn authorities(resp: &X509svidResponse) -> Vec<CertDer> {
    let mut certs = split_der_certificates(&resp.svids[0].bundle).unwrap();
    certs.sort();
    certs
}

const BEFORE: &str = "spiffe://example.org/ha/before";

/// Creates an entry for `spiffe_id` through `server` and waits until the workload's open
/// `watch` serves exactly `want` (sorted), every message on the way still holding [`BEFORE`].
async fn reaches(
    server: &Server,
    agent: &Agent,
    watch: &mut SvidWatch,
    spiffe_id: &str,
    want: &[&str],
) {
    create_uid_entry(server, spiffe_id, &agent.id, my_uid(), &[]).await;
    watch.until(PATIENCE, |r| kept(r) && ids(r) == want).await;
}

/// Asserts that the workload still holds its SVID for [`BEFORE`] in `resp`: every message of a
/// stream open across the failover must.
fn kept(resp: &X509svidResponse) -> bool {
    assert!(
        ids(resp).iter().any(|id| id == BEFORE),
        "the workload lost its SVID: {:?}",
        ids(resp)
    );
    true
}

/// Waits for the agent's line saying it synced through `to` after `from`; returns how long
/// since `since`.
async fn moved(agent: &Agent, from: &Server, to: &Server, since: tokio::time::Instant) -> Duration {
    let event = agent
        .logged("failed over: syncing with another server", |_| true)
        .await;
    let took = since.elapsed();
    assert_eq!(event["server"], to.agent_addr.to_string(), "{event}");
    assert_eq!(event["previous"], from.agent_addr.to_string(), "{event}");
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_whose_server_is_killed_syncs_signs_and_renews_through_the_other() {
    // The workload holds its stream across the failover.
    let Some((mut first, second, agent, mut watch)) = pair_with_agent().await else {
        return;
    };

    let killed_at = tokio::time::Instant::now();
    first.kill9();
    let took = moved(&agent, &first, &second, killed_at).await;
    assert!(
        took < FAILOVER_WITHIN,
        "the agent took {took:?} to sync through the other server\n{}",
        agent.log_text()
    );
    agent.wait_ready().await;

    // An entry created through the survivor reaches the agent: the stream opened before the
    // kill gets it next to the SVID it had, with no error in between, and a new workload
    // connection gets both.
    let after = "spiffe://example.org/ha/after";
    reaches(&second, &agent, &mut watch, after, &[after, BEFORE]).await;
    wait_for_svids(&agent.socket, &[after, BEFORE]).await;

    // The agent's own SVID renews through the survivor (the server records it) ...
    let renewal = Duration::from_secs(20) + PATIENCE;
    let id = agent.id.clone();
    await_event(
        "the agent's renewal on the surviving server",
        renewal,
        || second.log_text(),
        |e: &Value| e["event"] == "agent_renewed" && e["agent"] == id.as_str(),
    )
    .await;
    let survivor = second.agent_addr.to_string();
    agent
        .logged("agent SVID renewed", |e| e["server"] == survivor.as_str())
        .await;
    // ... and the connection it opens with the renewed SVID goes to the survivor again.
    let later = "spiffe://example.org/ha/later";
    reaches(&second, &agent, &mut watch, later, &[after, BEFORE, later]).await;
    assert_eq!(agent.readiness().await.0, "ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_server_sends_its_agents_to_the_other() {
    let Some((mut first, second, agent, mut watch)) = pair_with_agent().await else {
        return;
    };

    // SIGTERM: the server ends every Sync stream with UNAVAILABLE ("shutting down"), which the
    // agent takes as routine and answers by moving to the next server.
    let stopping_at = tokio::time::Instant::now();
    assert!(first.stop().await.success(), "{}", first.log_text());
    moved(&agent, &first, &second, stopping_at).await;
    let routine = agent
        .logged("the server is shutting down; reconnecting", |_| true)
        .await;
    assert_eq!(routine["level"], "INFO", "{routine}");

    let after = "spiffe://example.org/ha/after";
    reaches(&second, &agent, &mut watch, after, &[after, BEFORE]).await;
}

/// The first server listed is down when the agent first starts: it attests (and syncs) through
/// the next one. One server is enough for this, so it runs on SQLite, without PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_whose_first_server_is_down_attests_through_the_next() {
    let server = Server::start_with(Store::Sqlite, |_| JSON_LOGS.to_owned()).await;
    // A port nothing listens on: connections to it are refused.
    let down = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let addresses = [down.to_string(), server.agent_addr.to_string()];
    let agent = Agent::start_of(&server, &addresses, |_| JSON_LOGS.to_owned()).await;
    let refused = agent
        .logged("server unreachable or busy for attestation", |_| true)
        .await;
    assert_eq!(refused["server"], down.to_string(), "{refused}");
    let synced = agent.logged("syncing with the server", |_| true).await;
    assert_eq!(synced["server"], server.agent_addr.to_string(), "{synced}");
    let workload = "spiffe://example.org/ha/workload";
    create_uid_entry(&server, workload, &agent.id, my_uid(), &[]).await;
    wait_for_svids(&agent.socket, &[workload]).await;
}
