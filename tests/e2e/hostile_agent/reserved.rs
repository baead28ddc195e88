//! Issue 14 item 1: the IDs under /lanyard/ (the server's, the agents') cannot be handed out.

use tonic::Code;

use crate::agent::TestAgent;
use crate::harness::Server;
use crate::store::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_own_id_cannot_be_given_to_a_workload() {
    let server = Server::start(Store::Sqlite).await;
    let memory = super::MemoryBound::new(&server, 32);
    let (token, agent_id, _) = server.token(&[]).await;
    let _agent = TestAgent::attest(&server, &token).await.unwrap();
    let refused = server
        .cli(&[
            "entry",
            "create",
            "--spiffe-id",
            "spiffe://example.org/lanyard/server",
            "--parent-id",
            &agent_id,
            "--selector",
            "unix:uid:1000",
        ])
        .await;
    assert!(!refused.status.success(), "{refused}");
    assert!(
        refused
            .stderr
            .contains("reserved for the server's and the agents' own IDs"),
        "{refused}"
    );
    assert!(server.entries().await.is_empty(), "nothing was stored");
    memory.check(&server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_token_for_an_agent_id_does_not_take_the_agent_over() {
    let server = Server::start(Store::Sqlite).await;
    let memory = super::MemoryBound::new(&server, 32);
    let id = "spiffe://example.org/lanyard/agent/node-1";
    // Both tokens are issued before the agent exists, so only the attestation can refuse.
    let (first, _, _) = server.token(&["--spiffe-id", id]).await;
    let (second, _, _) = server.token(&["--spiffe-id", id]).await;
    let mut agent = TestAgent::attest(&server, &first).await.unwrap();

    let refused = TestAgent::attest(&server, &second)
        .await
        .err()
        .expect("a second join token took over an attested agent");
    assert_eq!(refused.code(), Code::AlreadyExists, "{refused:?}");
    assert!(
        refused.message().contains("is attested already"),
        "{refused:?}"
    );
    // The agent that attested first keeps its identity.
    agent.renew().await.unwrap();
    let shown = server
        .cli(&["agent", "show", "--spiffe-id", id, "--output", "json"])
        .await
        .json();
    assert_eq!(shown["banned"], false, "{shown}");

    // A third token for the same ID is refused when it is generated.
    let again = server.cli(&["token", "generate", "--spiffe-id", id]).await;
    assert!(!again.status.success(), "{again}");
    assert!(again.stderr.contains("is attested already"), "{again}");
    memory.check(&server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_entries_stored_earlier_are_reported_at_start() {
    let mut server = Server::start(Store::Sqlite).await;
    let memory = super::MemoryBound::new(&server, 32);
    let status = server.stop().await;
    assert!(status.success(), "{status}");
    // What an older version accepted: written behind the server's back.
    let db = server.data_dir().join("datastore.sqlite3");
    let ds = lanyard_datastore::Datastore::connect(&db.display().to_string())
        .await
        .unwrap();
    let entry = lanyard_datastore::Entry::new(
        lanyard_id::SpiffeId::parse("spiffe://example.org/lanyard/server").unwrap(),
        lanyard_id::SpiffeId::parse("spiffe://example.org/lanyard/agent/x").unwrap(),
        vec![lanyard_datastore::Selector::new("unix", "uid:1000").unwrap()],
    );
    let stored = ds.create_entry(entry).await.unwrap();
    drop(ds);
    server.start_again().await;
    let log = server.log_text();
    assert!(
        log.contains("entry gives an ID under the reserved path /lanyard/")
            && log.contains(&stored.id),
        "{log}"
    );
    // Reported, not deleted.
    assert_eq!(server.entries().await.len(), 1);
    memory.check(&server);
}
