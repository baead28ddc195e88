//! Pruning: expired entries and old change-log events go, from several servers at once, and a
//! reader the pruned range leaves behind is told to reload instead of skipping it.

use std::collections::BTreeSet;

use lanyard_datastore::{ChangeKind, DatastoreError, EntryFilter, PageRequest};

use crate::common::{Harness, entry, now};

backend_tests!(
    expired_entries_are_pruned_and_logged,
    a_reader_behind_the_pruned_log_is_told_to_reload,
    the_log_is_pruned_as_a_prefix_whatever_the_clocks,
    several_servers_prune_at_once,
    a_newer_servers_event_kind_is_read_as_unknown,
);

const PARENT: &str = "spiffe://example.org/agent/a";

async fn expired_entries_are_pruned_and_logged(h: &Harness) {
    let ds = &h.ds;
    let t = now();
    let mut stored = Vec::new();
    for (name, expires_at) in [
        ("past", Some(t - 10)),
        ("now", Some(t)),
        ("future", Some(t + 600)),
        ("never", None),
    ] {
        let mut e = entry(
            &format!("spiffe://example.org/{name}"),
            PARENT,
            &[&format!("t:{name}")],
        );
        e.expires_at = expires_at;
        stored.push(ds.create_entry(e).await.unwrap());
    }
    let head = ds.latest_seq().await.unwrap();

    let gone = ds.prune_expired_entries(t).await.unwrap();
    let names: BTreeSet<&str> = gone.iter().map(|e| e.spiffe_id.path()).collect();
    assert_eq!(
        names,
        BTreeSet::from(["/now", "/past"]),
        "an entry expires at its expires_at, as signing sees it"
    );
    // What is returned is the whole entry, for the audit line.
    let past = gone.iter().find(|e| e.spiffe_id.path() == "/past").unwrap();
    assert_eq!(past, &stored[0]);

    let left = ds
        .list_entries(&EntryFilter::default(), &PageRequest::default())
        .await
        .unwrap();
    let left: BTreeSet<&str> = left.items.iter().map(|e| e.spiffe_id.path()).collect();
    assert_eq!(left, BTreeSet::from(["/future", "/never"]));

    // Each deletion is in the change log, so every server's cache and every agent drops it.
    let events = ds.events_after(head, 0).await.unwrap();
    let deleted: BTreeSet<String> = events
        .iter()
        .map(|e| match &e.kind {
            ChangeKind::EntryDeleted { id, parent_id } => {
                assert_eq!(parent_id.as_str(), PARENT);
                id.clone()
            }
            other => panic!("unexpected event {other:?}"),
        })
        .collect();
    assert_eq!(deleted, gone.iter().map(|e| e.id.clone()).collect());

    assert!(ds.prune_expired_entries(t).await.unwrap().is_empty());
}

async fn a_reader_behind_the_pruned_log_is_told_to_reload(h: &Harness) {
    let ds = &h.ds;
    for n in 0..3 {
        ds.create_entry(entry(
            &format!("spiffe://example.org/w{n}"),
            PARENT,
            &[&format!("t:{n}")],
        ))
        .await
        .unwrap();
    }
    assert_eq!(ds.pruned_through().await.unwrap(), 0);
    // Nothing older than an hour ago: nothing goes.
    assert_eq!(ds.prune_events(now() - 3600).await.unwrap(), 0);
    assert_eq!(ds.events_after(1, 0).await.unwrap().len(), 2);

    assert_eq!(ds.prune_events(now() + 10).await.unwrap(), 3);
    assert_eq!(ds.pruned_through().await.unwrap(), 3);
    assert_eq!(
        ds.latest_seq().await.unwrap(),
        3,
        "pruning never lowers the head"
    );
    for behind in [0, 1, 2] {
        match ds.events_after(behind, 0).await {
            Err(DatastoreError::BehindChangeLog {
                after,
                pruned_through,
            }) => assert_eq!((after, pruned_through), (behind, 3)),
            other => panic!("a reader at {behind} was not told to reload: {other:?}"),
        }
    }
    let err = ds.events_after(1, 0).await.unwrap_err().to_string();
    assert!(err.contains("reload the full state"), "{err}");
    // A reader at the head is current, and follows what comes next.
    assert!(ds.events_after(3, 0).await.unwrap().is_empty());
    ds.create_entry(entry("spiffe://example.org/next", PARENT, &["t:next"]))
        .await
        .unwrap();
    let next = ds.events_after(3, 0).await.unwrap();
    assert_eq!(next.iter().map(|e| e.seq).collect::<Vec<_>>(), [4]);

    // The mark only rises: pruning nothing leaves it.
    assert_eq!(ds.prune_events(now() - 3600).await.unwrap(), 0);
    assert_eq!(ds.pruned_through().await.unwrap(), 3);
}

/// Servers' clocks differ: an event written by a server whose clock is ahead carries a later
/// `at` than the events after it. Pruning by time alone would leave it as an island with a hole
/// before it; pruning takes the whole prefix up to the newest old event instead.
async fn the_log_is_pruned_as_a_prefix_whatever_the_clocks(h: &Harness) {
    let ds = &h.ds;
    for n in 0..3 {
        ds.create_entry(entry(
            &format!("spiffe://example.org/w{n}"),
            PARENT,
            &[&format!("t:{n}")],
        ))
        .await
        .unwrap();
    }
    set_event_at(h, 2, now() + 3600).await;
    assert_eq!(ds.prune_events(now() + 10).await.unwrap(), 3);
    assert!(matches!(
        ds.events_after(1, 0).await,
        Err(DatastoreError::BehindChangeLog { .. })
    ));

    // The newest old event decides: seq 4 written "in the future", seq 5 now; pruning what is
    // older than now + 10 s takes 4 and 5, pruning what is older than now takes neither.
    for n in 3..5 {
        ds.create_entry(entry(
            &format!("spiffe://example.org/w{n}"),
            PARENT,
            &[&format!("t:{n}")],
        ))
        .await
        .unwrap();
    }
    set_event_at(h, 4, now() + 3600).await;
    assert_eq!(ds.prune_events(now() - 60).await.unwrap(), 0);
    assert_eq!(ds.events_after(3, 0).await.unwrap().len(), 2);
}

/// A server not yet upgraded reads an event kind a newer server wrote as `Unknown` (and its
/// cache reloads) instead of failing on the whole log from there on.
async fn a_newer_servers_event_kind_is_read_as_unknown(h: &Harness) {
    let ds = &h.ds;
    for n in 0..2 {
        ds.create_entry(entry(
            &format!("spiffe://example.org/w{n}"),
            PARENT,
            &[&format!("t:{n}")],
        ))
        .await
        .unwrap();
    }
    let sql = "UPDATE events SET kind = $1 WHERE seq = $2";
    update_event(h, sql, "from_a_newer_server", 1).await;
    let events = ds.events_after(0, 0).await.unwrap();
    assert_eq!(
        events[0].kind,
        ChangeKind::Unknown {
            kind: "from_a_newer_server".into()
        }
    );
    assert!(
        matches!(&events[1].kind, ChangeKind::EntryUpserted { .. }),
        "the events after it still read: {events:?}"
    );
}

/// Rewrites one event's `at`, as a server with a skewed clock would have written it.
async fn set_event_at(h: &Harness, seq: i64, at: i64) {
    update_event(h, "UPDATE events SET at = $1 WHERE seq = $2", at, seq).await;
}

/// Runs `sql` (`$1` the value, `$2` the event's seq) on one event.
async fn update_event<T>(h: &Harness, sql: &'static str, value: T, seq: i64)
where
    T: for<'q> sqlx::Encode<'q, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>
        + for<'q> sqlx::Encode<'q, sqlx::Sqlite>
        + sqlx::Type<sqlx::Sqlite>
        + Send
        + Clone,
{
    use sqlx::Connection as _;
    let n = if h.is_postgres() {
        let mut c = sqlx::PgConnection::connect(&h.url).await.unwrap();
        let r = sqlx::query(sql).bind(value).bind(seq).execute(&mut c).await;
        r.unwrap().rows_affected()
    } else {
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", h.url))
            .await
            .unwrap();
        let r = sqlx::query(sql).bind(value).bind(seq).execute(&mut c).await;
        r.unwrap().rows_affected()
    };
    assert_eq!(n, 1, "no event {seq}");
}

/// Every server of a shared datastore runs the same pruner: each expired entry is deleted (and
/// audited) by exactly one of them, and the log's low-water mark ends where the last one put it.
async fn several_servers_prune_at_once(h: &Harness) {
    let t = now();
    let mut expired = BTreeSet::new();
    for n in 0..40 {
        let mut e = entry(
            &format!("spiffe://example.org/e{n}"),
            PARENT,
            &[&format!("t:{n}")],
        );
        e.expires_at = Some(t - 1);
        expired.insert(h.ds.create_entry(e).await.unwrap().id);
    }
    let head = h.ds.latest_seq().await.unwrap();
    let servers = [
        h.ds.clone(),
        h.connect_again().await,
        h.connect_again().await,
    ];
    let runs = servers.iter().map(|ds| {
        let ds = ds.clone();
        tokio::spawn(async move {
            let gone = ds.prune_expired_entries(t).await.unwrap();
            ds.prune_events(now() + 10).await.unwrap();
            gone
        })
    });
    let mut seen = Vec::new();
    for run in runs.collect::<Vec<_>>() {
        seen.extend(run.await.unwrap().into_iter().map(|e| e.id));
    }
    seen.sort();
    let expected: Vec<String> = expired.into_iter().collect();
    assert_eq!(seen, expected, "each expired entry pruned exactly once");

    // The deletions logged 40 events after `head`. The first server to prune the log did so
    // after its own deletions, so the mark is past `head`: a server still at `head` is told to
    // reload rather than skip the pruned range.
    assert_eq!(h.ds.latest_seq().await.unwrap(), head + 40);
    let mark = h.ds.pruned_through().await.unwrap();
    assert!(mark > head, "mark {mark}, head {head}");
    for ds in &servers {
        match ds.events_after(head, 0).await {
            Err(DatastoreError::BehindChangeLog { pruned_through, .. }) => {
                assert_eq!(pruned_through, mark);
            }
            other => panic!("a reader at {head} was not told to reload: {other:?}"),
        }
    }
}
