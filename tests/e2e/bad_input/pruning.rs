//! Issue 21 item 4: nothing grows forever. Expired join tokens and registration entries, and
//! change-log events older than the retention window, are pruned on a schedule; an expired
//! entry is never sent on Sync; and a server left behind the pruned change log (frozen while
//! another server wrote and pruned) resynchronizes its agents from a snapshot instead of
//! skipping what it missed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lanyard_datastore::{Datastore, Entry, Selector};
use lanyard_id::SpiffeId;
use lanyard_proto::lanyard::agent::v1::sync_message::Event;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use sqlx::Connection as _;

use crate::agent::TestAgent;
use crate::agent_client::wait_for_svids;
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::{PATIENCE, Server};
use crate::store::Store;

datastore_tests!(
    expired_entries_and_join_tokens_are_pruned,
    an_expired_entry_is_not_sent_before_it_is_pruned,
    a_server_behind_the_pruned_change_log_resyncs_its_agents,
);

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// The datastore URL a second writer (another server, in effect) opens.
fn url_of(server: &Server, pg: Option<&str>) -> String {
    match pg {
        Some(url) => url.to_owned(),
        None => server
            .data_dir()
            .join("datastore.sqlite3")
            .display()
            .to_string(),
    }
}

/// `SELECT COUNT(*) FROM <table>` behind the server's back.
async fn count(url: &str, table: &str) -> i64 {
    let sql = match table {
        "join_tokens" => "SELECT COUNT(*) FROM join_tokens",
        "events" => "SELECT COUNT(*) FROM events",
        other => panic!("no count for {other}"),
    };
    if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{url}"))
            .await
            .unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
    }
}

/// Polls `check` until it holds; panics with `what` and the server log after [`PATIENCE`].
async fn eventually<F, Fut>(server: &Server, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} within {PATIENCE:?}:\n{}",
            server.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `entry create` for `spiffe_id` under `parent` with `--expires-at`; returns the entry ID.
async fn entry_expiring(server: &Server, spiffe_id: &str, parent: &str, at: i64) -> String {
    let at = at.to_string();
    let e = server
        .cli(&[
            "entry",
            "create",
            "--spiffe-id",
            spiffe_id,
            "--parent-id",
            parent,
            "--selector",
            "unix:uid:1000",
            "--expires-at",
            &at,
            "--output",
            "json",
        ])
        .await
        .json();
    e["id"].as_str().unwrap().to_owned()
}

async fn expired_entries_and_join_tokens_are_pruned(store: Store) {
    let pg = store.url().map(str::to_owned);
    let server = Server::start_with(store, |_| "[prune]\ninterval = \"1s\"\n".into()).await;
    let url = url_of(&server, pg.as_deref());
    let (token, agent_id, _) = server.token(&[]).await;
    let mut agent = TestAgent::attest(&server, &token).await.unwrap();
    let (mut stream, _) = agent.sync().await.unwrap();

    let expiring =
        entry_expiring(&server, "spiffe://example.org/short", &agent_id, now() + 2).await;
    let lasting = server
        .create_entry("spiffe://example.org/lasting", &agent_id)
        .await;
    let lasting = lasting["id"].as_str().unwrap().to_owned();
    for want in [&expiring, &lasting] {
        match stream.next().await {
            Some(Ok(Event::EntryUpserted(e))) => assert_eq!(&e.id, want),
            other => panic!("{other:?}"),
        }
    }
    server.token(&["--ttl", "3s"]).await;
    assert_eq!(count(&url, "join_tokens").await, 1);

    // Once expired, the pruner deletes it, audits it, and the agent is told.
    match stream.next().await {
        Some(Ok(Event::EntryDeleted(d))) => assert_eq!(d.entry_id, expiring),
        other => panic!("expected the expired entry's deletion, got {other:?}"),
    }
    let log = server.log_text();
    let audit = log
        .lines()
        .find(|l| l.contains("entry.expire") && l.contains(&expiring))
        .unwrap_or_else(|| panic!("no audit line for {expiring}:\n{log}"));
    assert!(audit.contains("audit"), "{audit}");
    assert!(audit.contains("spiffe://example.org/short"), "{audit}");
    let left: Vec<String> = server
        .entries()
        .await
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(left, [lasting]);

    eventually(&server, "the expired join token was not pruned", || async {
        count(&url, "join_tokens").await == 0
    })
    .await;
}

async fn an_expired_entry_is_not_sent_before_it_is_pruned(store: Store) {
    // The pruner's first round runs at start; the next not for an hour.
    let server = Server::start_with(store, |_| "[prune]\ninterval = \"1h\"\n".into()).await;
    let (token, agent_id, _) = server.token(&[]).await;
    let mut agent = TestAgent::attest(&server, &token).await.unwrap();
    let expires_at = now() + 2;
    let expired = entry_expiring(&server, "spiffe://example.org/gone", &agent_id, expires_at).await;
    let lasting = server
        .create_entry("spiffe://example.org/lasting", &agent_id)
        .await;
    // The clock, not an event: wait until the entry's second has passed.
    while now() <= expires_at {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let still_stored = server.entries().await;
    assert!(
        still_stored.iter().any(|e| e["id"] == expired.as_str()),
        "pruned already; the test needs it stored: {still_stored:?}"
    );
    let (_stream, snapshot) = agent.sync().await.unwrap();
    let sent: Vec<&str> = snapshot.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(sent, [lasting["id"].as_str().unwrap()], "{snapshot:?}");
}

fn id(s: &str) -> SpiffeId {
    SpiffeId::parse(s).unwrap()
}

/// SIGSTOP / SIGCONT: a server that stalls (a long pause, a frozen VM) while others go on.
fn signal(server_pid: u32, sig: Signal) {
    kill(Pid::from_raw(i32::try_from(server_pid).unwrap()), sig).unwrap();
}

async fn a_server_behind_the_pruned_change_log_resyncs_its_agents(store: Store) {
    let pg = store.url().map(str::to_owned);
    let server = Server::start(store).await;
    let agent = Agent::start(&server).await;
    let kept = "spiffe://example.org/resync/kept";
    let dropped = "spiffe://example.org/resync/dropped";
    create_uid_entry(&server, kept, &agent.id, my_uid(), &[]).await;
    let dropped_id = create_uid_entry(&server, dropped, &agent.id, my_uid(), &[]).await;
    wait_for_svids(&agent.socket, &[dropped, kept]).await;

    // Another server (a datastore handle of this test, running the same datastore code) writes
    // while this one is frozen, then prunes the whole change log: what this server missed is
    // no longer in the log.
    let other = Datastore::connect(&url_of(&server, pg.as_deref()))
        .await
        .unwrap();
    signal(server.pid(), Signal::SIGSTOP);
    let added = "spiffe://example.org/resync/added";
    let written = async {
        let e = Entry::new(
            id(added),
            id(&agent.id),
            vec![Selector::parse(&format!("unix:uid:{}", my_uid())).unwrap()],
        );
        other.create_entry(e).await.unwrap();
        other.delete_entry(&dropped_id).await.unwrap();
        other.prune_events(now() + 10).await.unwrap()
    };
    let pruned = tokio::time::timeout(PATIENCE, written).await;
    signal(server.pid(), Signal::SIGCONT);
    assert!(pruned.expect("the other writer stalled") >= 2);
    assert_eq!(count(&url_of(&server, pg.as_deref()), "events").await, 0);

    // On PostgreSQL the other server's commits wake this one; on SQLite its own next commit
    // does. Either way it finds the log pruned past its position and reloads.
    server
        .create_entry(
            "spiffe://example.org/resync/wake",
            "spiffe://example.org/elsewhere",
        )
        .await;
    eventually(&server, "the server did not reload", || async {
        server
            .log_text()
            .contains("behind the pruned change log; reloading every entry")
    })
    .await;
    // The agent's Sync stream was resynchronized from the reloaded cache: the entry written
    // while the server was frozen arrives, the one deleted then goes.
    wait_for_svids(&agent.socket, &[added, kept]).await;
    other.close().await;
}

/// Several servers on one PostgreSQL: one stalls while another changes its agent's entries and
/// prunes the whole change log on its schedule. The stalled one reloads when it resumes, and its
/// agent converges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_server_catches_up_after_another_server_pruned_the_log() {
    let Some(store) = Store::postgres().await else {
        return;
    };
    let url = store.url().unwrap().to_owned();
    let stalled = Server::start(store).await;
    let agent = Agent::start(&stalled).await;
    let kept = "spiffe://example.org/ha/kept";
    let dropped = "spiffe://example.org/ha/dropped";
    create_uid_entry(&stalled, kept, &agent.id, my_uid(), &[]).await;
    let dropped_id = create_uid_entry(&stalled, dropped, &agent.id, my_uid(), &[]).await;
    wait_for_svids(&agent.socket, &[dropped, kept]).await;
    // Declared after `stalled`, so it stops first and the schema is dropped last. It holds the
    // same CA keys (the authorities in the shared datastore are the first server's).
    let keys = stalled.data_dir().join("ca");
    let pruning = Server::start_with(Store::Shared(url.clone()), |dir| {
        copy_keys(&keys, &dir.join("data").join("ca"));
        "[prune]\ninterval = \"1s\"\nevent_retention = \"1s\"\n".into()
    })
    .await;

    signal(stalled.pid(), Signal::SIGSTOP);
    let added = "spiffe://example.org/ha/added";
    let changed = async {
        create_uid_entry(&pruning, added, &agent.id, my_uid(), &[]).await;
        pruning
            .cli(&["entry", "delete", "--id", &dropped_id])
            .await
            .ok();
        eventually(
            &pruning,
            "the other server did not prune the log",
            || async { count(&url, "events").await == 0 },
        )
        .await;
    };
    let done = tokio::time::timeout(PATIENCE * 2, changed).await;
    signal(stalled.pid(), Signal::SIGCONT);
    done.expect("the other server stalled too");

    eventually(&stalled, "the stalled server did not reload", || async {
        stalled
            .log_text()
            .contains("behind the pruned change log; reloading every entry")
    })
    .await;
    wait_for_svids(&agent.socket, &[added, kept]).await;
}

/// Copies the CA key files of one server's `data_dir/ca` into `to` (0700, files keep 0600).
fn copy_keys(from: &std::path::Path, to: &std::path::Path) {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(to)
        .unwrap();
    for f in std::fs::read_dir(from).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
    }
}
