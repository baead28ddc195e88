//! Entry create/get/update/delete and the uniqueness rule.

use lanyard_datastore::{DatastoreError, EntryFilter};

use crate::common::{Harness, entry, sels};

backend_tests!(
    entry_crud,
    duplicate_entry_is_already_exists,
    concurrent_identical_creates_yield_one_entry,
    batch_create_reports_each_entry,
    entry_without_selectors_is_invalid,
);

async fn entry_crud(h: &Harness) {
    let ds = &h.ds;
    let mut e = entry(
        "spiffe://example.org/web",
        "spiffe://example.org/agent/a",
        &["unix:uid:1000", "k8s:pod-label:app:web", "unix:uid:1000"],
    );
    e.dns_names = vec!["web.example.org".into()];
    e.x509_svid_ttl = 3600;
    e.hint = "web".into();
    e.expires_at = Some(4_000_000_000);
    let created = ds.create_entry(e).await.unwrap();
    assert_eq!(created.id.len(), 32, "generated IDs are 128-bit hex");
    assert_eq!(created.revision, 1);
    assert_eq!(
        created.selectors,
        sels(&["k8s:pod-label:app:web", "unix:uid:1000"]),
        "selectors are stored sorted and deduplicated"
    );

    let got = ds.get_entry(&created.id).await.unwrap().unwrap();
    assert_eq!(got, created);

    let mut changed = got.clone();
    changed.admin = true;
    changed.selectors = sels(&["unix:uid:1001"]);
    let updated = ds.update_entry(changed.clone(), Some(1)).await.unwrap();
    assert_eq!(updated.revision, 2);
    assert_eq!(updated.created_at, created.created_at);
    assert_eq!(ds.get_entry(&created.id).await.unwrap().unwrap(), updated);

    // An update based on a stale revision is refused.
    match ds.update_entry(changed.clone(), Some(1)).await {
        Err(DatastoreError::RevisionMismatch {
            expected, actual, ..
        }) => assert_eq!((expected, actual), (1, 2)),
        other => panic!("expected RevisionMismatch, got {other:?}"),
    }
    // Unconditional update still works.
    assert_eq!(ds.update_entry(changed, None).await.unwrap().revision, 3);

    let deleted = ds.delete_entry(&created.id).await.unwrap();
    assert_eq!(deleted.id, created.id);
    assert!(ds.get_entry(&created.id).await.unwrap().is_none());
    assert!(matches!(
        ds.delete_entry(&created.id).await,
        Err(DatastoreError::NotFound { .. })
    ));
    let mut ghost = deleted;
    ghost.description = "gone".into();
    assert!(matches!(
        ds.update_entry(ghost, None).await,
        Err(DatastoreError::NotFound { .. })
    ));
    assert_eq!(ds.count_entries(&EntryFilter::default()).await.unwrap(), 0);
}

async fn duplicate_entry_is_already_exists(h: &Harness) {
    let ds = &h.ds;
    let parent = "spiffe://example.org/agent/a";
    let first = ds
        .create_entry(entry(
            "spiffe://example.org/web",
            parent,
            &["unix:uid:1", "unix:gid:2"],
        ))
        .await
        .unwrap();
    // Same set in another order, with a duplicate: still the same entry.
    let dup = entry(
        "spiffe://example.org/web",
        parent,
        &["unix:gid:2", "unix:uid:1", "unix:gid:2"],
    );
    match ds.create_entry(dup).await {
        Err(DatastoreError::AlreadyExists { id }) => assert_eq!(id, first.id),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    // Reusing an ID is a duplicate too.
    let mut same_id = entry("spiffe://example.org/other", parent, &["unix:uid:9"]);
    same_id.id = first.id.clone();
    assert!(matches!(
        ds.create_entry(same_id).await,
        Err(DatastoreError::AlreadyExists { .. })
    ));
    // A different selector set is a different entry; updating it into the first one's key clashes.
    let second = ds
        .create_entry(entry("spiffe://example.org/web", parent, &["unix:uid:1"]))
        .await
        .unwrap();
    let mut clash = second.clone();
    clash.selectors = first.selectors.clone();
    match ds.update_entry(clash, None).await {
        Err(DatastoreError::AlreadyExists { id }) => assert_eq!(id, first.id),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert_eq!(ds.count_entries(&EntryFilter::default()).await.unwrap(), 2);
}

async fn concurrent_identical_creates_yield_one_entry(h: &Harness) {
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let ds = h.ds.clone();
            tokio::spawn(async move {
                ds.create_entry(entry(
                    "spiffe://example.org/race",
                    "spiffe://example.org/agent/a",
                    &["unix:uid:7"],
                ))
                .await
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut existing = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(e) => winners.push(e.id),
            Err(DatastoreError::AlreadyExists { id }) => existing.push(id),
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one create succeeds");
    assert_eq!(existing.len(), 19);
    assert!(existing.iter().all(|id| *id == winners[0]));
    assert_eq!(
        h.ds.count_entries(&EntryFilter::default()).await.unwrap(),
        1
    );
    assert_eq!(
        h.ds.latest_seq().await.unwrap(),
        1,
        "only the winner logged an event"
    );
}

async fn batch_create_reports_each_entry(h: &Harness) {
    let parent = "spiffe://example.org/agent/a";
    let results =
        h.ds.create_entries(vec![
            entry("spiffe://example.org/a", parent, &["unix:uid:1"]),
            entry("spiffe://example.org/b", parent, &["unix:uid:2"]),
            entry("spiffe://example.org/a", parent, &["unix:uid:1"]),
            entry("spiffe://example.org/c", parent, &[]),
        ])
        .await
        .unwrap();
    assert_eq!(results.len(), 4);
    let a = results[0].as_ref().unwrap();
    assert!(results[1].is_ok());
    match &results[2] {
        Err(DatastoreError::AlreadyExists { id }) => assert_eq!(id, &a.id),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert!(matches!(
        results[3],
        Err(DatastoreError::InvalidEntry { .. })
    ));
    assert_eq!(
        h.ds.count_entries(&EntryFilter::default()).await.unwrap(),
        2
    );
    assert_eq!(h.ds.events_after(0, 0).await.unwrap().len(), 2);
}

async fn entry_without_selectors_is_invalid(h: &Harness) {
    let err =
        h.ds.create_entry(entry(
            "spiffe://example.org/a",
            "spiffe://example.org/agent/a",
            &[],
        ))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at least one selector"), "{err}");
}
