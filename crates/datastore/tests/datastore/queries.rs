//! Listing with filters and pagination, and what an agent is authorized for.

use std::collections::BTreeSet;

use lanyard_datastore::{
    DatastoreError, Entry, EntryFilter, MatchMode, PageRequest, SelectorMatch,
};

use crate::common::{Harness, SERVER_ID, entry, id, sels};

backend_tests!(
    selector_filters_match_by_mode,
    pagination_visits_every_entry_once,
    authorized_entries_follow_node_aliases,
);

fn by_selectors(list: &[&str], mode: MatchMode) -> EntryFilter {
    EntryFilter {
        selectors: Some(SelectorMatch {
            selectors: sels(list),
            mode,
        }),
        ..EntryFilter::default()
    }
}

async fn spiffe_ids(h: &Harness, filter: &EntryFilter) -> BTreeSet<String> {
    let page =
        h.ds.list_entries(filter, &PageRequest::default())
            .await
            .unwrap();
    assert!(page.next_page_token.is_none());
    let n = h.ds.count_entries(filter).await.unwrap();
    assert_eq!(n as usize, page.items.len(), "count agrees with list");
    page.items
        .iter()
        .map(|e| e.spiffe_id.path().to_owned())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

async fn selector_filters_match_by_mode(h: &Harness) {
    let p1 = "spiffe://example.org/agent/1";
    let p2 = "spiffe://example.org/agent/2";
    for e in [
        entry("spiffe://example.org/ab", p1, &["t:a", "t:b"]),
        entry("spiffe://example.org/a", p1, &["t:a"]),
        entry("spiffe://example.org/abc", p2, &["t:a", "t:b", "t:c"]),
        entry("spiffe://example.org/c", p2, &["t:c"]),
        entry("spiffe://example.org/colon", p2, &["k8s:pod-label:app:web"]),
    ] {
        h.ds.create_entry(e).await.unwrap();
    }
    let f = |list: &[&str], mode| by_selectors(list, mode);
    assert_eq!(
        spiffe_ids(h, &f(&["t:b", "t:a"], MatchMode::Exact)).await,
        set(&["/ab"])
    );
    assert_eq!(
        spiffe_ids(h, &f(&["t:a", "t:b"], MatchMode::Subset)).await,
        set(&["/ab", "/a"])
    );
    assert_eq!(
        spiffe_ids(h, &f(&["t:a", "t:b"], MatchMode::Superset)).await,
        set(&["/ab", "/abc"])
    );
    assert_eq!(
        spiffe_ids(h, &f(&["t:b", "t:c"], MatchMode::Any)).await,
        set(&["/ab", "/abc", "/c"])
    );
    assert_eq!(
        spiffe_ids(h, &f(&["k8s:pod-label:app:web"], MatchMode::Exact)).await,
        set(&["/colon"]),
        "values containing ':' match"
    );
    assert!(spiffe_ids(h, &f(&[], MatchMode::Any)).await.is_empty());
    assert_eq!(spiffe_ids(h, &f(&[], MatchMode::Superset)).await.len(), 5);

    let by_parent = EntryFilter {
        parent_id: Some(id(p2)),
        ..by_selectors(&["t:c"], MatchMode::Superset)
    };
    assert_eq!(spiffe_ids(h, &by_parent).await, set(&["/abc", "/c"]));
    let by_id = EntryFilter {
        spiffe_id: Some(id("spiffe://example.org/a")),
        ..EntryFilter::default()
    };
    assert_eq!(spiffe_ids(h, &by_id).await, set(&["/a"]));
}

async fn pagination_visits_every_entry_once(h: &Harness) {
    let parent = "spiffe://example.org/agent/1";
    let batch: Vec<Entry> = (0..7)
        .map(|i| entry(&format!("spiffe://example.org/w{i}"), parent, &["t:x"]))
        .collect();
    for r in h.ds.create_entries(batch).await.unwrap() {
        r.unwrap();
    }
    let mut seen = Vec::new();
    let mut req = PageRequest {
        page_size: 3,
        page_token: None,
    };
    let mut pages = 0;
    loop {
        let page =
            h.ds.list_entries(&EntryFilter::default(), &req)
                .await
                .unwrap();
        pages += 1;
        assert!(page.items.len() <= 3);
        seen.extend(page.items.into_iter().map(|e| e.id));
        match page.next_page_token {
            Some(t) => req.page_token = Some(t),
            None => break,
        }
    }
    assert_eq!(pages, 3, "7 entries in pages of 3");
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "pages are in ID order with no repeats");
    assert_eq!(seen.len(), 7);

    let bad = PageRequest {
        page_size: 3,
        page_token: Some("'; DROP TABLE entries; --".into()),
    };
    assert!(matches!(
        h.ds.list_entries(&EntryFilter::default(), &bad).await,
        Err(DatastoreError::InvalidPageToken)
    ));
}

async fn authorized_entries_follow_node_aliases(h: &Harness) {
    let agent = "spiffe://example.org/lanyard/agent/join_token/n1";
    let ds = &h.ds;
    // Node entries: one the agent satisfies, one it does not.
    let cluster = ds
        .create_entry(entry(
            "spiffe://example.org/cluster/prod",
            SERVER_ID,
            &["k8s_psat:cluster:prod"],
        ))
        .await
        .unwrap();
    ds.create_entry(entry(
        "spiffe://example.org/cluster/dev",
        SERVER_ID,
        &["k8s_psat:cluster:dev", "k8s_psat:cluster:prod"],
    ))
    .await
    .unwrap();
    let direct = ds
        .create_entry(entry("spiffe://example.org/direct", agent, &["unix:uid:1"]))
        .await
        .unwrap();
    let via_alias = ds
        .create_entry(entry(
            "spiffe://example.org/via-alias",
            "spiffe://example.org/cluster/prod",
            &["k8s:ns:prod"],
        ))
        .await
        .unwrap();
    ds.create_entry(entry(
        "spiffe://example.org/other-agent",
        "spiffe://example.org/lanyard/agent/join_token/n2",
        &["unix:uid:1"],
    ))
    .await
    .unwrap();
    ds.create_entry(entry(
        "spiffe://example.org/dev-only",
        "spiffe://example.org/cluster/dev",
        &["k8s:ns:dev"],
    ))
    .await
    .unwrap();

    let node = sels(&["k8s_psat:cluster:prod", "k8s_psat:agent_ns:lanyard"]);
    let aliases = ds.node_aliases(&id(SERVER_ID), &node).await.unwrap();
    assert_eq!(aliases, vec![cluster.clone()]);

    let auth = ds
        .authorized_entries(&id(SERVER_ID), &id(agent), &node)
        .await
        .unwrap();
    assert_eq!(auth.aliases, vec![cluster.clone()]);
    let got: BTreeSet<String> = auth.entries.iter().map(|e| e.id.clone()).collect();
    let want: BTreeSet<String> = [direct.id.clone(), via_alias.id.clone()].into();
    assert_eq!(got, want);

    let by_parents = ds
        .entries_by_parents(&[id(agent), cluster.spiffe_id.clone(), id(agent)])
        .await
        .unwrap();
    assert_eq!(by_parents, auth.entries);

    // Without node selectors the agent has no aliases, only its own entries.
    let bare = ds
        .authorized_entries(&id(SERVER_ID), &id(agent), &[])
        .await
        .unwrap();
    assert!(bare.aliases.is_empty());
    assert_eq!(bare.entries, vec![direct]);
}
