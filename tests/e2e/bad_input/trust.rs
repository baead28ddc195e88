//! Issue 21 item 2, last point: an agent whose own SVID is still valid but whose trust in the
//! server is gone (the authority it trusted was revoked while it was down, so the server's
//! cross-signed chain no longer reaches its stored bundle), on real processes. A k8s_psat agent
//! bootstraps again from `trust_bundle_path` by itself; a join-token agent says it needs a new
//! token and the current bundle, and stops retrying.

use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::Server;
use crate::k8s_psat::{cluster_with_agent_token, psat_agent, server_with};
use crate::store::Store;

use super::faults::{WORKLOAD, bring_back_join_token_agent, says, served_by, the_active};

/// While the agent is away: a new authority is prepared and activated, and `first` (the one
/// the agent trusts) is tainted and revoked, so it leaves the bundle. Returns the new one.
async fn rotate_and_revoke(server: &Server, first: &str) -> String {
    let prepared = server
        .cli(&["localauthority", "x509", "prepare", "--output", "json"])
        .await
        .json();
    let newest = prepared["authority_id"].as_str().unwrap().to_owned();
    for (verb, id) in [
        ("activate", &newest),
        ("taint", &first.to_owned()),
        ("revoke", &first.to_owned()),
    ] {
        server
            .cli(&["localauthority", "x509", verb, "--authority-id", id])
            .await
            .ok();
    }
    assert_eq!(the_active(server, "x509").await, newest);
    newest
}

/// Stops `agent`, rotates the CA and revokes the authority it trusted, starts it again.
async fn away_while_its_authority_is_revoked(server: &Server, agent: &mut Agent) -> String {
    let first = served_by(agent).await;
    let stopped = agent.stop().await;
    assert!(stopped.success(), "{stopped}");
    let newest = rotate_and_revoke(server, &first).await;
    agent
        .try_start_again(None)
        .await
        .unwrap_or_else(|why| panic!("{why}"));
    newest
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_token_agent_whose_authority_was_revoked_says_it_needs_a_new_token() {
    let server = Server::start(Store::Sqlite).await;
    let mut agent = Agent::start(&server).await;
    create_uid_entry(&server, WORKLOAD, &agent.id, my_uid(), &[]).await;
    let before = agent.log_text().len();
    let newest = away_while_its_authority_is_revoked(&server, &mut agent).await;

    // Not "server unreachable" with backoff forever: not ready, with the way back.
    let body = agent.wait_readiness("not_ready").await;
    says(
        &body,
        &[
            "trust in the server is gone",
            "no longer verifies against the agent's stored bundle",
            "not issued by any X.509 authority in the bundle",
            "lanyard-server bundle show --format pem",
            &format!("lanyard-server agent evict --spiffe-id {}", agent.id),
            &format!("lanyard-server token generate --spiffe-id {}", agent.id),
            &agent.trust_bundle_path().display().to_string(),
        ],
    );
    // It concluded at its first try and does not retry the connection.
    let log = agent.log_text()[before..].to_owned();
    let concluded = log
        .lines()
        .filter(|l| l.contains("trust in the server is gone") && !l.contains("readiness changed"))
        .count();
    assert_eq!(concluded, 1, "{log}");
    assert!(!log.contains("sync stream unavailable"), "{log}");
    // It deleted the identity that can no longer work, so a new token is what it attests with.
    assert!(!agent.data_dir().join("agent_svid.der").exists());

    // The way back it names works: its entry is served again, signed by the new authority.
    bring_back_join_token_agent(&server, &mut agent, false).await;
    assert_eq!(served_by(&agent).await, newest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_psat_agent_whose_authority_was_revoked_bootstraps_again_from_its_trust_bundle() {
    let (kube, token) = cluster_with_agent_token().await;
    let server = server_with(&kube, "").await;
    let mut agent = psat_agent(&server, &token).await;
    create_uid_entry(&server, WORKLOAD, &agent.id, my_uid(), &[]).await;
    let newest = away_while_its_authority_is_revoked(&server, &mut agent).await;

    // trust_bundle_path still holds the bundle of the agent's first start (the revoked
    // authority only): it says so, naming the file and what to do, and keeps trying.
    let bundle_path = agent.trust_bundle_path().display().to_string();
    let body = agent.wait_readiness("not_ready").await;
    says(
        &body,
        &[
            "verifies neither against the agent's stored bundle nor against trust_bundle_path",
            &bundle_path,
            "lanyard-server bundle show --format pem",
            "update the ConfigMap",
        ],
    );

    // The operator updates the ConfigMap: at its next try the agent attests again with its
    // PSAT, trusting the new bundle, and serves its workload an SVID of the new authority.
    std::fs::write(agent.trust_bundle_path(), server.bundle_pem().await).unwrap();
    agent.wait_ready().await;
    assert_eq!(served_by(&agent).await, newest);
    says(
        &agent.log_text(),
        &["re-attested with k8s_psat trusting trust_bundle_path"],
    );
}
