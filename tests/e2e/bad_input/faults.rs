//! Issue 21 item 2: faults that must not lock agents out, on real processes.
//!
//! - A CA key, CA certificate or JWT key file that is gone stops the server's start with the
//!   file named and the two ways out: restore it, or `--force-new-ca` (after which the steps the
//!   server logs bring an agent back).
//! - A CA that expired while the server was down is replaced by exactly one fresh authority, and
//!   the documented path brings an agent back.
//! - An agent refuses to start on a stored identity that does not hold together, naming the file.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lanyard_x509::{CertInfo, split_der_certificates};
use serde_json::Value;

use crate::agent_client::wait_for_svids;
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::{PATIENCE, Server};
use crate::store::Store;

pub(super) const WORKLOAD: &str = "spiffe://example.org/faults/workload";

/// `localauthority <kind> show --output json`: the authorities as JSON objects.
async fn authorities(server: &Server, kind: &str) -> Vec<Value> {
    let out = server
        .cli(&["localauthority", kind, "show", "--output", "json"])
        .await
        .json();
    out["authorities"].as_array().unwrap().clone()
}

/// The IDs of the authorities of `kind` in `state`.
async fn in_state(server: &Server, kind: &str, state: &str) -> Vec<String> {
    authorities(server, kind)
        .await
        .iter()
        .filter(|a| a["state"] == state)
        .map(|a| a["authority_id"].as_str().unwrap().to_owned())
        .collect()
}

/// The one active authority of `kind`; fails if there is not exactly one.
pub(super) async fn the_active(server: &Server, kind: &str) -> String {
    let active = in_state(server, kind, "AUTHORITY_STATE_ACTIVE").await;
    assert_eq!(active.len(), 1, "active {kind} authorities: {active:?}");
    active[0].clone()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Waits until the agent serves the workload's SVID; returns the ID of the authority that
/// signed it.
pub(super) async fn served_by(agent: &Agent) -> String {
    let (_, resp) = wait_for_svids(&agent.socket, &[WORKLOAD]).await;
    let chain = split_der_certificates(&resp.svids[0].x509_svid).unwrap();
    hex(&CertInfo::from_der(chain[0].as_bytes())
        .unwrap()
        .authority_key_id
        .unwrap())
}

/// What the server logs after `--force-new-ca` (or the agent whose SVID expired) tells an
/// operator to do on the node, done as written: the new bundle into trust_bundle_path, the
/// stored identity deleted if `delete_identity`, the agent's record evicted and a token for the
/// same ID.
pub(super) async fn bring_back_join_token_agent(
    server: &Server,
    agent: &mut Agent,
    delete_identity: bool,
) {
    let stopped = agent.stop().await;
    assert!(stopped.success(), "{stopped}\n{}", agent.log_text());
    std::fs::write(agent.trust_bundle_path(), server.bundle_pem().await).unwrap();
    if delete_identity {
        for file in ["agent_svid.der", "agent_key.der", "bundle.der"] {
            std::fs::remove_file(agent.data_dir().join(file)).unwrap();
        }
    }
    server
        .cli(&["agent", "evict", "--spiffe-id", &agent.id])
        .await
        .ok();
    let (token, id, _) = server.token(&["--spiffe-id", &agent.id]).await;
    assert_eq!(id, agent.id);
    agent
        .try_start_again(Some(&token))
        .await
        .unwrap_or_else(|why| panic!("{why}"));
}

/// Asserts that `log` contains each of `words`.
pub(super) fn says(log: &str, words: &[&str]) {
    for w in words {
        assert!(log.contains(w), "the log lacks {w:?}:\n{log}");
    }
}

datastore_tests!(a_lost_ca_key_stops_the_start_until_restored_or_forced);

async fn a_lost_ca_key_stops_the_start_until_restored_or_forced(store: Store) {
    let mut server = Server::start(store).await;
    let mut agent = Agent::start(&server).await;
    create_uid_entry(&server, WORKLOAD, &agent.id, my_uid(), &[]).await;
    let first = the_active(&server, "x509").await;
    assert_eq!(served_by(&agent).await, first);

    // The key file goes missing while the server is down (killed: SIGTERM with agents
    // connected is issue 21 item 3's): the start is refused, naming it, and nothing takes the
    // authority's place.
    server.kill9();
    agent.wait_readiness("degraded").await;
    let key = server.data_dir().join("ca").join(format!("{first}.key"));
    let aside = server.data_dir().join("saved.key");
    std::fs::rename(&key, &aside).unwrap();
    let (status, log) = server.try_start_again_with(&[]).await.unwrap_err();
    assert_eq!(status.code(), Some(1), "{log}");
    says(
        &log,
        &[
            &format!(
                "X.509 authority {first} (active): {} is missing",
                key.display()
            ),
            "Restore them from a backup",
            "lanyard-server run --force-new-ca",
        ],
    );

    // Restoring the file is all it takes: the agent, which kept running, comes back on the CA
    // it trusts.
    std::fs::rename(&aside, &key).unwrap();
    server.start_again().await;
    agent.follow(&server);
    agent.wait_ready().await;
    assert_eq!(the_active(&server, "x509").await, first);

    // Lost for good: `--force-new-ca` retires it (out of the bundle) and creates a new one,
    // and the log says what agents need.
    server.kill9();
    std::fs::remove_file(&key).unwrap();
    let before = server.log_text().len();
    server
        .try_start_again_with(&["--force-new-ca"])
        .await
        .unwrap_or_else(|(status, log)| panic!("{status}\n{log}"));
    let log = server.log_text()[before..].to_owned();
    says(
        &log,
        &[
            &first,
            "retired an authority whose file is missing",
            "delete agent_svid.der, agent_key.der and bundle.der",
            "lanyard-server agent evict --spiffe-id",
            "lanyard-server token generate --spiffe-id",
            "Remove --force-new-ca",
        ],
    );
    let second = the_active(&server, "x509").await;
    assert_ne!(second, first);
    let all: Vec<String> = authorities(&server, "x509")
        .await
        .iter()
        .map(|a| a["authority_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(all, [second.as_str()], "the lost authority left the bundle");

    // The steps it names bring the agent back, as itself: its entry is served again, signed
    // by the new authority.
    agent.follow(&server);
    bring_back_join_token_agent(&server, &mut agent, true).await;
    assert_eq!(served_by(&agent).await, second);

    // The next start needs no flag and keeps the new authority.
    server.kill9();
    server.start_again().await;
    assert_eq!(the_active(&server, "x509").await, second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_ca_certificate_or_jwt_key_is_named() {
    let mut server = Server::start(Store::Sqlite).await;
    let x509 = the_active(&server, "x509").await;
    let jwt = the_active(&server, "jwt").await;
    server.stop().await;
    let ca = server.data_dir().join("ca");
    let crt = ca.join(format!("{x509}.crt"));
    let jwt_key = ca.join(format!("jwt-{jwt}.key"));
    std::fs::remove_file(&crt).unwrap();
    std::fs::remove_file(&jwt_key).unwrap();
    let (status, log) = server.try_start_again_with(&[]).await.unwrap_err();
    assert_eq!(status.code(), Some(1), "{log}");
    says(
        &log,
        &[
            &format!(
                "X.509 authority {x509} (active): {} is missing",
                crt.display()
            ),
            &format!("JWT key {jwt} (active): {} is missing", jwt_key.display()),
            "--force-new-ca",
        ],
    );
    // The rows are untouched: restoring nothing and forcing replaces both.
    server
        .try_start_again_with(&["--force-new-ca"])
        .await
        .unwrap_or_else(|(status, log)| panic!("{status}\n{log}"));
    assert_ne!(the_active(&server, "x509").await, x509);
    let jwts = authorities(&server, "jwt").await;
    assert_eq!(jwts.len(), 1, "{jwts:?}");
    assert_ne!(jwts[0]["authority_id"], jwt.as_str());
}

/// Unix seconds now.
fn now_unix() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_that_expired_while_the_server_was_down_is_replaced_once() {
    // The shortest lifetime the config allows.
    let mut server = Server::start_with(Store::Sqlite, |_| {
        "[ca]\nttl = \"1m\"\n[svid]\ndefault_x509_ttl = \"20s\"\ndefault_jwt_ttl = \"20s\"\n"
            .to_owned()
    })
    .await;
    let mut agent = Agent::start(&server).await;
    create_uid_entry(&server, WORKLOAD, &agent.id, my_uid(), &[]).await;
    served_by(&agent).await;
    let before: Vec<String> = authorities(&server, "x509")
        .await
        .iter()
        .map(|a| a["authority_id"].as_str().unwrap().to_owned())
        .collect();
    server.kill9();

    // Down until every authority it had (and so every SVID it signed) has expired. Nothing
    // announces that: it is the passage of time under test.
    let last_expiry = authorities_expiry(&server.data_dir()).max().unwrap();
    let wait = u64::try_from(last_expiry + 1 - now_unix()).unwrap_or(0);
    tokio::time::sleep(Duration::from_secs(wait)).await;

    server.start_again().await;
    let x509 = the_active(&server, "x509").await;
    assert!(!before.contains(&x509), "{x509} in {before:?}");
    the_active(&server, "jwt").await;
    // The expired authorities leave the bundle (at the first rotation step, right after start).
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let ids: Vec<String> = authorities(&server, "x509")
            .await
            .iter()
            .map(|a| a["authority_id"].as_str().unwrap().to_owned())
            .collect();
        if ids == [x509.as_str()] {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expired authorities still listed: {ids:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The agent's own SVID expired with the CA that signed it, and no authority it trusts
    // signs any more: it cannot come back by itself, and says so (instead of retrying TLS)
    // once it tries the server after the expiry — within one longest backoff (30 s + 20 %).
    agent.follow(&server);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(36) + PATIENCE;
    let body = loop {
        let (status, body) = agent.readiness().await;
        if status == "not_ready" {
            break body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/ready still says {body}:\n{}",
            agent.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    says(
        &body,
        &[
            &format!("the agent's own SVID ({}) expired at", agent.id),
            "trust_bundle_path holding the current bundle",
            &format!("lanyard-server token generate --spiffe-id {}", agent.id),
        ],
    );
    // The path it names: the expired identity is replaced by a new attestation.
    bring_back_join_token_agent(&server, &mut agent, false).await;
    assert_eq!(served_by(&agent).await, x509);
    // A restart keeps the replacement.
    server.kill9();
    server.start_again().await;
    assert_eq!(the_active(&server, "x509").await, x509);
}

/// NotAfter (Unix seconds) of every CA certificate in the server's key store.
fn authorities_expiry(data_dir: &Path) -> impl Iterator<Item = i64> {
    std::fs::read_dir(data_dir.join("ca"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "crt"))
        .map(|p| {
            let info = CertInfo::from_der(&std::fs::read(p).unwrap()).unwrap();
            i64::try_from(info.not_after.duration_since(UNIX_EPOCH).unwrap().as_secs()).unwrap()
        })
        .collect::<Vec<_>>()
        .into_iter()
}

/// An attested agent, stopped, with one of its stored files replaced by `corrupt`; then
/// started again: it must exit 1 naming the file and what to do.
async fn refused_at_start(corrupt: impl FnOnce(&Path, &Server)) -> String {
    let server = Server::start(Store::Sqlite).await;
    let mut agent = Agent::start(&server).await;
    agent.wait_ready().await;
    let stopped = agent.stop().await;
    assert!(stopped.success(), "{stopped}");
    corrupt(&agent.data_dir(), &server);
    let before = agent.log_text().len();
    agent
        .try_start_again(None)
        .await
        .unwrap_or_else(|why| panic!("{why}"));
    let status = agent.wait_exit().await;
    let log = agent.log_text()[before..].to_owned();
    assert_eq!(status.code(), Some(1), "{log}");
    says(
        &log,
        &[
            "stored agent identity is unusable",
            "delete agent_svid.der, agent_key.der and bundle.der",
            "attests again",
        ],
    );
    assert!(
        !log.contains("transport error"),
        "it must not try the server with it:\n{log}"
    );
    log
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_key_that_is_not_its_svids_is_refused_at_start() {
    let log = refused_at_start(|dir, _| {
        let other = lanyard_x509::KeyPair::generate(lanyard_x509::KeyType::EcP256).unwrap();
        std::fs::write(dir.join("agent_key.der"), other.pkcs8_der()).unwrap();
    })
    .await;
    says(&log, &["agent_key.der is not the private key of the SVID"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_svid_its_bundle_does_not_verify_is_refused_at_start() {
    // The bundle of another trust domain's server (same name, another CA).
    let other = Server::start(Store::Sqlite).await;
    let pem = other.bundle_pem().await;
    let certs = lanyard_x509::certificates_from_pem(pem.as_bytes()).unwrap();
    let log = refused_at_start(move |dir, _| {
        std::fs::write(
            dir.join("bundle.der"),
            lanyard_x509::join_der_certificates(&certs),
        )
        .unwrap();
    })
    .await;
    says(
        &log,
        &["agent_svid.der does not verify against the stored bundle.der"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_agent_bundle_is_refused_at_start() {
    let log = refused_at_start(|dir, _| {
        std::fs::write(dir.join("bundle.der"), b"").unwrap();
    })
    .await;
    says(&log, &["bundle.der holds no X.509 authority"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_svid_outside_the_agent_namespace_is_refused_at_start() {
    // A workload's SVID (from the agent's own Workload API) in place of the agent's.
    let server = Server::start(Store::Sqlite).await;
    let mut agent = Agent::start(&server).await;
    create_uid_entry(&server, WORKLOAD, &agent.id, my_uid(), &[]).await;
    let (_, resp) = wait_for_svids(&agent.socket, &[WORKLOAD]).await;
    let stopped = agent.stop().await;
    assert!(stopped.success(), "{stopped}");
    let dir = agent.data_dir();
    std::fs::write(dir.join("agent_svid.der"), &resp.svids[0].x509_svid).unwrap();
    std::fs::write(dir.join("agent_key.der"), &resp.svids[0].x509_svid_key).unwrap();
    let before = agent.log_text().len();
    agent
        .try_start_again(None)
        .await
        .unwrap_or_else(|why| panic!("{why}"));
    let status = agent.wait_exit().await;
    let log = agent.log_text()[before..].to_owned();
    assert_eq!(status.code(), Some(1), "{log}");
    says(
        &log,
        &[
            &format!("names {WORKLOAD}, which is not an agent ID of trust domain example.org"),
            "spiffe://example.org/lanyard/agent/...",
            "delete agent_svid.der, agent_key.der and bundle.der",
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_sharing_postgresql_tell_a_lost_key_from_each_others() {
    let Some(store) = Store::postgres().await else {
        return;
    };
    let url = store.url().unwrap().to_owned();
    let mut first = Server::start(store).await;
    // Declared after `first`, so dropped (killed) before the schema `first` owns.
    let mut second =
        Server::start_with(Store::Sqlite, |_| format!("[datastore]\nurl = \"{url}\"\n")).await;
    let mine = |all: &[Value], local: bool| -> Vec<String> {
        all.iter()
            .filter(|a| a["local"] == local)
            .map(|a| a["authority_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let seen_by_second = authorities(&second, "x509").await;
    let (second_ca, first_ca) = (mine(&seen_by_second, true), mine(&seen_by_second, false));
    assert_eq!(
        (second_ca.len(), first_ca.len()),
        (1, 1),
        "{seen_by_second:?}"
    );

    // Rows with no file here are the other server's: a restart is not refused over them.
    second.kill9();
    second.start_again().await;
    assert_eq!(mine(&authorities(&second, "x509").await, true), second_ca);

    // A row whose certificate is here without its key is this server's, lost.
    first.kill9();
    let key = first
        .data_dir()
        .join("ca")
        .join(format!("{}.key", first_ca[0]));
    std::fs::remove_file(&key).unwrap();
    let (status, log) = first.try_start_again_with(&[]).await.unwrap_err();
    assert_eq!(status.code(), Some(1), "{log}");
    says(&log, &[&format!("{} is missing", key.display())]);
    // The other server is unaffected.
    assert_eq!(
        authorities(&second, "x509").await.len(),
        2,
        "the lost authority stays published until its owner decides"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_down_while_the_ca_rotated_reconnects_by_itself() {
    let server = Server::start(Store::Sqlite).await;
    let mut agent = Agent::start(&server).await;
    create_uid_entry(&server, WORKLOAD, &agent.id, my_uid(), &[]).await;
    let first = served_by(&agent).await;
    let stopped = agent.stop().await;
    assert!(stopped.success(), "{stopped}");

    // Two rotations while it is down: its stored bundle holds only the first authority.
    let mut ids = vec![first.clone()];
    for _ in 0..2 {
        let prepared = server
            .cli(&["localauthority", "x509", "prepare", "--output", "json"])
            .await
            .json();
        let id = prepared["authority_id"].as_str().unwrap().to_owned();
        server
            .cli(&["localauthority", "x509", "activate", "--authority-id", &id])
            .await
            .ok();
        ids.push(id);
    }
    let newest = ids.last().unwrap().clone();
    assert_eq!(the_active(&server, "x509").await, newest);

    // It verifies the server through the chain of cross-signed authorities, syncs the new
    // bundle, and (once the first authority is tainted) re-signs with the newest.
    agent
        .try_start_again(None)
        .await
        .unwrap_or_else(|why| panic!("{why}"));
    agent.wait_ready().await;
    server
        .cli(&["localauthority", "x509", "taint", "--authority-id", &first])
        .await
        .ok();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while served_by(&agent).await != newest {
        assert!(
            tokio::time::Instant::now() < deadline,
            "still served by an older authority:\n{}",
            agent.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = agent.log_text();
    assert!(
        !log.contains("not issued by any X.509 authority in the bundle"),
        "{log}"
    );
}
