//! Entry changes reach an agent's open Sync stream as they commit: an entry created for the agent
//! arrives as `entry_upserted`, its deletion as `entry_deleted`, and another agent's entry does
//! not arrive at all.

use lanyard_proto::lanyard::agent::v1::sync_message::Event;

use crate::agent::TestAgent;
use crate::harness::Server;
use crate::store::Store;

datastore_tests!(created_and_deleted_entries_are_pushed);

async fn created_and_deleted_entries_are_pushed(store: Store) {
    let server = Server::start(store).await;
    let (token, agent_id, _) = server.token(&[]).await;
    let mut agent = TestAgent::attest(&server, &token).await.unwrap();
    let (mut stream, snapshot) = agent.sync().await.unwrap();
    assert!(snapshot.entries.is_empty(), "{snapshot:?}");
    assert_eq!(snapshot.bundles.len(), 1, "{snapshot:?}");

    // Not this agent's: must not be pushed, so the next event is the agent's own entry.
    server
        .create_entry(
            "spiffe://example.org/elsewhere",
            "spiffe://example.org/other-node",
        )
        .await;
    let mine = server
        .create_entry("spiffe://example.org/pushed", &agent_id)
        .await;
    let mine_id = mine["id"].as_str().unwrap();
    match stream.next().await {
        Some(Ok(Event::EntryUpserted(e))) => {
            assert_eq!(e.id, mine_id);
            assert_eq!(e.spiffe_id, "spiffe://example.org/pushed");
            assert_eq!(e.parent_id, agent_id);
        }
        other => panic!("expected entry_upserted for {mine_id}, got {other:?}"),
    }

    server.cli(&["entry", "delete", "--id", mine_id]).await.ok();
    match stream.next().await {
        Some(Ok(Event::EntryDeleted(d))) => assert_eq!(d.entry_id, mine_id),
        other => panic!("expected entry_deleted for {mine_id}, got {other:?}"),
    }
}
