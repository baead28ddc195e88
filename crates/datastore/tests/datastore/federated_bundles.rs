//! Stored foreign bundles: set by hand, and the freshness rule for fetched ones.

use lanyard_datastore::{BundleOrigin, ChangeKind, Datastore, DatastoreError, StoreOutcome};

use crate::common::{Harness, now};
use crate::federation::{bundle, doc, kinds_after, relationship, td};

backend_tests!(
    operator_bundles_are_stored_as_given,
    fetched_bundles_follow_the_sequence_rule,
    an_operator_bundle_gives_way_to_the_next_refresh,
    fetched_bundles_need_a_relationship,
);

/// The `keys` member of a test document: what the test's `same_keys` compares.
fn keys(json: &str) -> serde_json::Value {
    serde_json::from_str::<serde_json::Value>(json).unwrap()["keys"].clone()
}

/// Stores a fetched document with `keys` and `sequence`, comparing keys as the server would.
async fn fetch(ds: &Datastore, keys_now: &[&str], sequence: u64) -> StoreOutcome {
    let json = doc(keys_now, sequence);
    let fresh = keys(&json);
    ds.store_fetched_bundle(&td("orders.example"), &json, sequence, move |stored| {
        keys(stored) == fresh
    })
    .await
    .unwrap()
}

/// The stored (document, sequence, origin) of orders.example.
async fn stored(ds: &Datastore) -> (String, u64, BundleOrigin) {
    let b = ds
        .get_federated_bundle(&td("orders.example"))
        .await
        .unwrap()
        .unwrap();
    (b.bundle_json, b.sequence, b.origin)
}

async fn operator_bundles_are_stored_as_given(h: &Harness) {
    let ds = &h.ds;
    let set = ds
        .set_federated_bundle(bundle("orders.example", &["a"], 12))
        .await
        .unwrap();
    assert_eq!(set.origin, BundleOrigin::Operator);
    assert!((set.updated_at - now()).abs() < 60);
    assert_eq!(
        ds.get_federated_bundle(&td("orders.example"))
            .await
            .unwrap(),
        Some(set)
    );
    // A lower sequence number from an operator still replaces it: the operator decides.
    ds.set_federated_bundle(bundle("orders.example", &["b"], 2))
        .await
        .unwrap();
    ds.set_federated_bundle(bundle("alpha.example", &["x"], 0))
        .await
        .unwrap();
    let all = ds.list_federated_bundles().await.unwrap();
    let names: Vec<String> = all.iter().map(|b| b.trust_domain.to_string()).collect();
    assert_eq!(names, ["alpha.example", "orders.example"]);
    assert_eq!(all[1].bundle_json, doc(&["b"], 2));
    let orders = td("orders.example");
    let changed = ChangeKind::FederatedBundleChanged {
        trust_domain: orders.clone(),
    };
    assert_eq!(
        kinds_after(ds, 0).await,
        vec![
            changed.clone(),
            changed,
            ChangeKind::FederatedBundleChanged {
                trust_domain: td("alpha.example")
            }
        ]
    );
    let err = ds
        .set_federated_bundle(bundle("orders.example", &["c"], u64::MAX))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("sequence number 18446744073709551615"),
        "{err}"
    );
    assert_eq!(
        ds.get_federated_bundle(&orders)
            .await
            .unwrap()
            .unwrap()
            .sequence,
        2
    );
}

async fn fetched_bundles_follow_the_sequence_rule(h: &Harness) {
    let ds = &h.ds;
    ds.create_relationship(relationship("orders.example"), None)
        .await
        .unwrap();
    let changed = vec![ChangeKind::FederatedBundleChanged {
        trust_domain: td("orders.example"),
    }];

    // Nothing stored: the first fetch is stored.
    let seq = ds.latest_seq().await.unwrap();
    assert_eq!(fetch(ds, &["k1"], 10).await, StoreOutcome::Updated);
    assert_eq!(
        stored(ds).await,
        (doc(&["k1"], 10), 10, BundleOrigin::Endpoint)
    );
    assert_eq!(kinds_after(ds, seq).await, changed);

    // Same keys: unchanged and silent; a higher sequence number is remembered, a lower one not.
    let seq = ds.latest_seq().await.unwrap();
    assert_eq!(fetch(ds, &["k1"], 15).await, StoreOutcome::Unchanged);
    assert_eq!(stored(ds).await.1, 15);
    assert_eq!(fetch(ds, &["k1"], 11).await, StoreOutcome::Unchanged);
    assert_eq!(
        stored(ds).await,
        (doc(&["k1"], 15), 15, BundleOrigin::Endpoint)
    );
    assert_eq!(
        ds.latest_seq().await.unwrap(),
        seq,
        "no event for the same keys"
    );

    // Other keys at a sequence number not above the stored one: refused, stored one kept. The
    // raise above is what refuses 12 here (a lagging copy with older keys).
    for stale in [12, 15] {
        assert_eq!(
            fetch(ds, &["k0"], stale).await,
            StoreOutcome::Stale { stored: 15 },
            "sequence {stale}"
        );
    }
    assert_eq!(stored(ds).await.0, doc(&["k1"], 15));
    assert_eq!(ds.latest_seq().await.unwrap(), seq);

    // Other keys, fresher: stored, with an event.
    assert_eq!(fetch(ds, &["k1", "k2"], 16).await, StoreOutcome::Updated);
    assert_eq!(
        stored(ds).await,
        (doc(&["k1", "k2"], 16), 16, BundleOrigin::Endpoint)
    );
    assert_eq!(kinds_after(ds, seq).await, changed);

    // No sequence number (0): the most recently retrieved bundle is current.
    let seq = ds.latest_seq().await.unwrap();
    assert_eq!(fetch(ds, &["k2"], 0).await, StoreOutcome::Updated);
    assert_eq!(stored(ds).await.1, 0);
    assert_eq!(fetch(ds, &["k3"], 0).await, StoreOutcome::Updated);
    assert_eq!(kinds_after(ds, seq).await.len(), 2);

    // A sequence number the column cannot hold is refused before anything is read.
    let err = ds
        .store_fetched_bundle(&td("orders.example"), "{}", u64::MAX, |_| false)
        .await
        .unwrap_err();
    assert!(
        matches!(err, DatastoreError::SequenceTooLarge { .. }),
        "{err:?}"
    );
    assert_eq!(stored(ds).await.0, doc(&["k3"], 0));
}

async fn an_operator_bundle_gives_way_to_the_next_refresh(h: &Harness) {
    let ds = &h.ds;
    // Bootstrapped with a high sequence number; the endpoint counts from far lower.
    ds.create_relationship(
        relationship("orders.example"),
        Some(bundle("orders.example", &["k1"], 1000)),
    )
    .await
    .unwrap();
    // Same keys: the endpoint's copy takes over, sequence number included, silently.
    let seq = ds.latest_seq().await.unwrap();
    assert_eq!(fetch(ds, &["k1"], 5).await, StoreOutcome::Unchanged);
    assert_eq!(
        stored(ds).await,
        (doc(&["k1"], 5), 5, BundleOrigin::Endpoint)
    );
    assert_eq!(ds.latest_seq().await.unwrap(), seq);
    // From then on the endpoint's sequence numbers count.
    assert_eq!(fetch(ds, &["k2"], 6).await, StoreOutcome::Updated);

    // Set by hand again, other keys: the next refresh replaces it whatever the numbers.
    ds.set_federated_bundle(bundle("orders.example", &["manual"], 9999))
        .await
        .unwrap();
    assert_eq!(fetch(ds, &["k3"], 7).await, StoreOutcome::Updated);
    assert_eq!(
        stored(ds).await,
        (doc(&["k3"], 7), 7, BundleOrigin::Endpoint)
    );
    assert_eq!(
        fetch(ds, &["k2"], 6).await,
        StoreOutcome::Stale { stored: 7 },
        "and then the rule holds again"
    );
}

async fn fetched_bundles_need_a_relationship(h: &Harness) {
    let ds = &h.ds;
    // A bundle set by hand without a relationship is not refreshed: a fetch that finishes after
    // the relationship was deleted must not bring its bundle back (§6.3).
    ds.set_federated_bundle(bundle("orders.example", &["k1"], 1))
        .await
        .unwrap();
    let seq = ds.latest_seq().await.unwrap();
    let err = ds
        .store_fetched_bundle(&td("orders.example"), &doc(&["k2"], 2), 2, |_| false)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            DatastoreError::NotFound {
                what: "federation relationship",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(stored(ds).await.0, doc(&["k1"], 1));
    assert_eq!(ds.latest_seq().await.unwrap(), seq);
}
