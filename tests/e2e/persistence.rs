//! What the server stores survives restarts: a graceful restart keeps entries, attested agents
//! and the CA. (A `kill -9` losing nothing acknowledged is a fault: `bad_input::storage`.)

use std::collections::BTreeSet;

use serde_json::Value;

use crate::agent::TestAgent;
use crate::harness::Server;
use crate::store::Store;

datastore_tests!(restart_keeps_entries_agents_and_ca);

fn sorted_by_id(mut entries: Vec<Value>) -> Vec<Value> {
    entries.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    entries
}

/// Start, create a token and entries with the CLI, attest an agent, list as JSON, restart:
/// the same entries, the same agent and the same CA come back, and the agent's SVID still works.
async fn restart_keeps_entries_agents_and_ca(store: Store) {
    let mut server = Server::start(store).await;
    let pem_before = server.bundle_pem().await;
    let (token, agent_id, _) = server.token(&[]).await;
    let mut agent = TestAgent::attest(&server, &token).await.unwrap();
    assert_eq!(agent.id.to_string(), agent_id);

    let web = server
        .create_entry("spiffe://example.org/web", &agent_id)
        .await;
    let db = server
        .cli(&[
            "entry",
            "create",
            "--spiffe-id",
            "spiffe://example.org/db",
            "--parent-id",
            &agent_id,
            "--selector",
            "unix:uid:70",
            "--selector",
            "unix:gid:70",
            "--dns-name",
            "db.example.org",
            "--x509-svid-ttl",
            "600",
            "--output",
            "json",
        ])
        .await
        .json();
    let node = server
        .create_entry(
            "spiffe://example.org/node/x",
            "spiffe://example.org/lanyard/server",
        )
        .await;
    let created: BTreeSet<&str> = [&web, &db, &node]
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(created.len(), 3, "three distinct entry IDs");

    let entries_before = sorted_by_id(server.entries().await);
    let listed: BTreeSet<&str> = entries_before
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, created);
    let db_listed = entries_before.iter().find(|e| e["id"] == db["id"]).unwrap();
    assert_eq!(
        db_listed["dns_names"],
        serde_json::json!(["db.example.org"])
    );
    assert_eq!(db_listed["x509_svid_ttl_seconds"], 600);
    assert_eq!(db_listed["selectors"].as_array().unwrap().len(), 2);
    let agents_before = server
        .cli(&["agent", "list", "--output", "json"])
        .await
        .json();
    let agents = agents_before["agents"].as_array().unwrap();
    assert_eq!(agents.len(), 1, "{agents_before}");
    assert_eq!(agents[0]["spiffe_id"], agent_id.as_str());

    server.restart().await;
    assert!(
        server.health("/ready").await.contains(" 200 "),
        "not ready after restart"
    );

    assert_eq!(
        sorted_by_id(server.entries().await),
        entries_before,
        "entries after restart"
    );
    assert_eq!(
        server
            .cli(&["agent", "list", "--output", "json"])
            .await
            .json(),
        agents_before,
        "agents after restart"
    );
    assert_eq!(server.bundle_pem().await, pem_before, "CA after restart");

    // The agent keeps its identity: its old SVID and bundle still work against the new process.
    agent.reconnect(&server);
    let (_stream, snapshot) = agent.sync().await.unwrap();
    let mut ids: Vec<&str> = snapshot.entries.iter().map(|e| e.id.as_str()).collect();
    ids.sort_unstable();
    let mut want = vec![web["id"].as_str().unwrap(), db["id"].as_str().unwrap()];
    want.sort_unstable();
    assert_eq!(ids, want, "the agent's entries after restart");
}
