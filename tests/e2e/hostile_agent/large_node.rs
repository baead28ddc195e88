//! Issue 14 item 5: a node authorized for 30,000 entries. Its Sync snapshot (over 5 MiB of
//! entries, beyond gRPC's 4 MiB message limit) arrives in parts; the real agent takes all of
//! them, signs an SVID for each, serves its workloads, and follows later changes.

use lanyard_proto::lanyard::types::v1 as types;

use crate::agent_client::wait_for_svids;
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::{PATIENCE, Server};
use crate::store::Store;

const ENTRIES: usize = 30_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_authorized_for_30000_entries_gets_them_all_and_later_changes() {
    let server = Server::start(Store::Sqlite).await;
    let memory = super::MemoryBound::new(&server, 256);
    let mut agent = Agent::start(&server).await;
    // Stopped while the entries are created: it takes them as one snapshot when it starts
    // again, not as 30,000 pushed changes.
    agent.wait_ready().await;
    let stopped = agent.stop().await;
    assert!(stopped.success(), "{stopped}: {}", agent.log_text());
    // Entries for a uid no process here runs as, but for the test's own last and first: the
    // agent is authorized for (and signs) every one.
    let entry = |n: usize| {
        let uid = if n == 0 || n == ENTRIES - 1 {
            my_uid()
        } else {
            64_000
        };
        types::Entry {
            spiffe_id: format!("spiffe://example.org/w/{n}"),
            parent_id: agent.id.clone(),
            selectors: vec![types::Selector {
                r#type: "unix".to_owned(),
                value: format!("uid:{uid}"),
            }],
            ..Default::default()
        }
    };
    super::create_entries(&server, (0..ENTRIES).map(entry).collect()).await;

    let before = agent.log_text().len();
    agent.start_again().await;
    let first = "spiffe://example.org/w/0";
    let last = format!("spiffe://example.org/w/{}", ENTRIES - 1);
    wait_for_svids(&agent.socket, &[first, &last]).await;
    // Every entry was in the snapshot: the agent signs one SVID for each (the two served above
    // came in the same batches, so this is already true or nearly).
    let signed = || {
        agent.log_text()[before..]
            .matches("workload SVID signed")
            .count()
    };
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while signed() < ENTRIES {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the agent signed {} of {ENTRIES} SVIDs",
            signed()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(signed(), ENTRIES);

    // Changes after the snapshot arrive too.
    let later = "spiffe://example.org/later";
    create_uid_entry(&server, later, &agent.id, my_uid(), &[]).await;
    wait_for_svids(&agent.socket, &[first, &last, later]).await;
    memory.check(&server);
}
