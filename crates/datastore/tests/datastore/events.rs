//! The change log, the commit waker, and durability across reopen.

use lanyard_datastore::{Backend, ChangeKind, EntryFilter, JoinToken, PageRequest};

use crate::common::{Harness, PATIENCE, entry, id, now};

backend_tests!(
    events_are_appended_per_write_in_order,
    subscribe_fires_after_commit,
    everything_survives_reopen,
    another_handle_sees_commits,
);

async fn events_are_appended_per_write_in_order(h: &Harness) {
    let ds = &h.ds;
    assert_eq!(ds.latest_seq().await.unwrap(), 0);
    let parent = "spiffe://example.org/agent/a";
    let a = ds
        .create_entry(entry("spiffe://example.org/a", parent, &["t:a"]))
        .await
        .unwrap();
    let mut b = ds
        .create_entry(entry("spiffe://example.org/b", parent, &["t:b"]))
        .await
        .unwrap();
    b.hint = "b".into();
    ds.update_entry(b.clone(), None).await.unwrap();
    ds.delete_entry(&a.id).await.unwrap();
    // Reads and failed writes log nothing.
    ds.get_entry(&b.id).await.unwrap();
    assert!(ds.delete_entry(&a.id).await.is_err());

    let events = ds.events_after(0, 0).await.unwrap();
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4], "seq is gap-free and ordered");
    let kinds: Vec<ChangeKind> = events.iter().map(|e| e.kind.clone()).collect();
    assert_eq!(
        kinds,
        vec![
            ChangeKind::EntryUpserted { id: a.id.clone() },
            ChangeKind::EntryUpserted { id: b.id.clone() },
            ChangeKind::EntryUpserted { id: b.id.clone() },
            ChangeKind::EntryDeleted {
                id: a.id.clone(),
                parent_id: id(parent)
            },
        ]
    );
    assert!(events.iter().all(|e| (e.at - now()).abs() < 60));
    assert_eq!(ds.latest_seq().await.unwrap(), 4);
    let tail = ds.events_after(2, 1).await.unwrap();
    assert_eq!(tail.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3]);

    // Pruning drops old events but never lowers latest_seq; a reader at the head follows on.
    assert_eq!(ds.prune_events(now() + 10).await.unwrap(), 4);
    assert!(ds.events_after(4, 0).await.unwrap().is_empty());
    assert_eq!(ds.latest_seq().await.unwrap(), 4);
    ds.create_entry(entry("spiffe://example.org/c", parent, &["t:c"]))
        .await
        .unwrap();
    assert_eq!(ds.events_after(4, 0).await.unwrap()[0].seq, 5);
}

async fn subscribe_fires_after_commit(h: &Harness) {
    let mut rx = h.ds.subscribe();
    let before = *rx.borrow_and_update();
    let writer = h.ds.clone();
    let created = tokio::spawn(async move {
        writer
            .create_entry(entry(
                "spiffe://example.org/w",
                "spiffe://example.org/agent/a",
                &["t:w"],
            ))
            .await
            .unwrap()
    });
    tokio::time::timeout(PATIENCE, rx.changed())
        .await
        .unwrap()
        .unwrap();
    let seq = *rx.borrow_and_update();
    assert!(seq > before);
    // The change is visible once the waker fires: it fires only after the commit.
    let events = h.ds.events_after(before, 0).await.unwrap();
    let created = created.await.unwrap();
    assert_eq!(events[0].kind, ChangeKind::EntryUpserted { id: created.id });
    assert_eq!(events.last().unwrap().seq, seq);
}

async fn everything_survives_reopen(h: &Harness) {
    let e =
        h.ds.create_entry(entry(
            "spiffe://example.org/keep",
            "spiffe://example.org/agent/a",
            &["t:k"],
        ))
        .await
        .unwrap();
    let token = JoinToken {
        token: "persisted".into(),
        spiffe_id: None,
        expires_at: now() + 600,
    };
    h.ds.create_join_token(&token).await.unwrap();
    let seq = h.ds.latest_seq().await.unwrap();
    h.ds.close().await;

    let reopened = h.connect_again().await;
    assert_eq!(reopened.get_entry(&e.id).await.unwrap(), Some(e));
    assert_eq!(
        *reopened.subscribe().borrow(),
        seq,
        "the waker starts at the stored seq"
    );
    assert_eq!(reopened.events_after(0, 0).await.unwrap().len(), 1);
    assert_eq!(
        reopened
            .consume_join_token("persisted", now())
            .await
            .unwrap(),
        token
    );
    let all = reopened
        .list_entries(&EntryFilter::default(), &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(all.items.len(), 1);
    reopened.close().await;
}

/// PostgreSQL: a second server's commit wakes this one (LISTEN/NOTIFY). SQLite: a second handle
/// on the same file sees the data (its waker is in-process only).
async fn another_handle_sees_commits(h: &Harness) {
    let other = h.connect_again().await;
    let mut rx = other.subscribe();
    rx.borrow_and_update();
    let e =
        h.ds.create_entry(entry(
            "spiffe://example.org/x",
            "spiffe://example.org/agent/a",
            &["t:x"],
        ))
        .await
        .unwrap();
    if h.is_postgres() {
        assert_eq!(other.backend(), Backend::Postgres);
        tokio::time::timeout(PATIENCE, rx.changed())
            .await
            .expect("a commit on another handle wakes subscribers via NOTIFY")
            .unwrap();
        // Never hold a watch borrow across an await: it blocks the sender.
        let latest = h.ds.latest_seq().await.unwrap();
        assert_eq!(*rx.borrow(), latest);
    } else {
        assert_eq!(other.backend(), Backend::Sqlite);
    }
    assert_eq!(other.get_entry(&e.id).await.unwrap(), Some(e));
    other.close().await;
}
