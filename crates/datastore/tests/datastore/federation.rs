//! Federation relationships, entries' `federates_with`, and the rules that tie them together.

use lanyard_datastore::{
    BundleOrigin, ChangeKind, ConfigReconciled, Datastore, DatastoreError, EndpointProfile,
    EntryFilter, FederatedBundle, FederationRelationship, PageRequest,
};
use lanyard_id::TrustDomain;

use crate::common::{Harness, entry, id, now};

backend_tests!(
    relationships_are_created_updated_listed_and_deleted,
    relationship_rules_are_checked,
    entries_federate_only_with_known_trust_domains,
    federates_with_is_stored_sorted_and_filterable,
    trust_domains_in_use_cannot_be_deleted,
    config_relationships_are_reconciled,
    concurrent_entry_writes_and_deletes_keep_the_rule,
);

pub(crate) fn td(name: &str) -> TrustDomain {
    TrustDomain::new(name).unwrap()
}

/// An `https_spiffe` relationship with `name`, not declared in config.
pub(crate) fn relationship(name: &str) -> FederationRelationship {
    FederationRelationship {
        trust_domain: td(name),
        endpoint_url: format!("https://{name}:8443/"),
        profile: EndpointProfile::HttpsSpiffe,
        endpoint_spiffe_id: Some(id(&format!("spiffe://{name}/lanyard/server"))),
        declared_in_config: false,
        created_at: 0,
        updated_at: 0,
    }
}

/// A bundle document with the given key names: opaque text to the datastore.
pub(crate) fn bundle(name: &str, keys: &[&str], sequence: u64) -> FederatedBundle {
    FederatedBundle {
        trust_domain: td(name),
        bundle_json: doc(keys, sequence),
        sequence,
        origin: BundleOrigin::Operator,
        updated_at: 0,
    }
}

pub(crate) fn doc(keys: &[&str], sequence: u64) -> String {
    serde_json::json!({ "keys": keys, "spiffe_sequence": sequence }).to_string()
}

/// Events logged after `after`, as kinds.
pub(crate) async fn kinds_after(ds: &Datastore, after: i64) -> Vec<ChangeKind> {
    ds.events_after(after, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

fn federating(spiffe_id: &str, tds: &[&str]) -> lanyard_datastore::Entry {
    let mut e = entry(
        spiffe_id,
        "spiffe://example.org/agent/a",
        &["unix:uid:1000"],
    );
    e.federates_with = tds.iter().map(|n| td(n)).collect();
    e
}

fn by_federation(name: &str) -> EntryFilter {
    EntryFilter {
        federates_with: Some(td(name)),
        ..EntryFilter::default()
    }
}

async fn relationships_are_created_updated_listed_and_deleted(h: &Harness) {
    let ds = &h.ds;
    let orders = td("orders.example");
    let created = ds
        .create_relationship(
            relationship("orders.example"),
            Some(bundle("orders.example", &["a"], 4)),
        )
        .await
        .unwrap();
    assert!((created.created_at - now()).abs() < 60);
    assert_eq!(created.updated_at, created.created_at);
    assert_eq!(
        ds.get_relationship(&orders).await.unwrap().as_ref(),
        Some(&created)
    );
    let stored = ds.get_federated_bundle(&orders).await.unwrap().unwrap();
    assert_eq!(stored.bundle_json, doc(&["a"], 4));
    assert_eq!(stored.sequence, 4);
    assert_eq!(stored.origin, BundleOrigin::Operator, "a bootstrap bundle");
    // The bundle's event comes first, so whoever reacts to the relationship finds the bundle.
    assert_eq!(
        kinds_after(ds, 0).await,
        vec![
            ChangeKind::FederatedBundleChanged {
                trust_domain: orders.clone()
            },
            ChangeKind::RelationshipChanged {
                trust_domain: orders.clone()
            },
        ]
    );

    let dup = ds
        .create_relationship(relationship("orders.example"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&dup, DatastoreError::RelationshipAlreadyExists { trust_domain } if *trust_domain == orders),
        "{dup:?}"
    );

    let web = FederationRelationship {
        endpoint_url: "https://bundles.orders.example/".into(),
        profile: EndpointProfile::HttpsWeb,
        endpoint_spiffe_id: None,
        ..relationship("orders.example")
    };
    let seq = ds.latest_seq().await.unwrap();
    let updated = ds.update_relationship(web.clone(), None).await.unwrap();
    assert_eq!(updated.created_at, created.created_at, "kept");
    assert_eq!(updated.profile, EndpointProfile::HttpsWeb);
    assert_eq!(ds.get_relationship(&orders).await.unwrap(), Some(updated));
    assert_eq!(
        kinds_after(ds, seq).await,
        vec![ChangeKind::RelationshipChanged {
            trust_domain: orders.clone()
        }],
        "no bundle given, no bundle event"
    );
    let missing = ds
        .update_relationship(relationship("nowhere.example"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            missing,
            DatastoreError::NotFound {
                what: "federation relationship",
                ..
            }
        ),
        "{missing:?}"
    );

    ds.create_relationship(relationship("pay.example"), None)
        .await
        .unwrap();
    let names: Vec<String> = ds
        .list_relationships()
        .await
        .unwrap()
        .iter()
        .map(|r| r.trust_domain.to_string())
        .collect();
    assert_eq!(names, ["orders.example", "pay.example"]);

    // Ending a relationship deletes its bundle (SPIFFE Federation §6.3).
    let seq = ds.latest_seq().await.unwrap();
    let gone = ds.delete_relationship(&orders).await.unwrap();
    assert_eq!(gone.endpoint_url, web.endpoint_url);
    assert_eq!(ds.get_relationship(&orders).await.unwrap(), None);
    assert_eq!(ds.get_federated_bundle(&orders).await.unwrap(), None);
    assert_eq!(
        kinds_after(ds, seq).await,
        vec![
            ChangeKind::FederatedBundleChanged {
                trust_domain: orders.clone()
            },
            ChangeKind::RelationshipChanged {
                trust_domain: orders.clone()
            },
        ]
    );
    assert!(matches!(
        ds.delete_relationship(&orders).await,
        Err(DatastoreError::NotFound { .. })
    ));
    // Without a bundle there is no bundle event.
    let seq = ds.latest_seq().await.unwrap();
    ds.delete_relationship(&td("pay.example")).await.unwrap();
    assert_eq!(
        kinds_after(ds, seq).await,
        vec![ChangeKind::RelationshipChanged {
            trust_domain: td("pay.example")
        }]
    );
}

async fn relationship_rules_are_checked(h: &Harness) {
    let ds = &h.ds;
    let no_id = FederationRelationship {
        endpoint_spiffe_id: None,
        ..relationship("orders.example")
    };
    let web_with_id = FederationRelationship {
        profile: EndpointProfile::HttpsWeb,
        ..relationship("orders.example")
    };
    let no_url = FederationRelationship {
        endpoint_url: String::new(),
        ..relationship("orders.example")
    };
    for (rel, needle) in [
        (no_id, "https_spiffe needs the endpoint's SPIFFE ID"),
        (web_with_id, "https_web takes no endpoint SPIFFE ID"),
        (no_url, "URL is empty"),
    ] {
        let err = ds.create_relationship(rel, None).await.unwrap_err();
        assert!(
            matches!(err, DatastoreError::InvalidRelationship { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains(needle), "{err}");
    }
    let err = ds
        .create_relationship(
            relationship("orders.example"),
            Some(bundle("pay.example", &["a"], 1)),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("the bootstrap bundle is for trust domain pay.example"),
        "{err}"
    );
    let err = ds
        .create_relationship(
            relationship("orders.example"),
            Some(bundle("orders.example", &["a"], u64::MAX)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            DatastoreError::SequenceTooLarge {
                sequence: u64::MAX,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(ds.list_relationships().await.unwrap().is_empty());
    assert!(ds.list_federated_bundles().await.unwrap().is_empty());
    assert_eq!(ds.latest_seq().await.unwrap(), 0, "refusals log nothing");
}

async fn entries_federate_only_with_known_trust_domains(h: &Harness) {
    let ds = &h.ds;
    let unknown = ds
        .create_entry(federating("spiffe://example.org/w", &["orders.example"]))
        .await
        .unwrap_err();
    assert!(
        matches!(&unknown, DatastoreError::UnknownFederatedTrustDomain { trust_domain } if trust_domain.name() == "orders.example"),
        "{unknown:?}"
    );
    assert!(
        unknown
            .to_string()
            .contains("create the relationship (or set its bundle)"),
        "{unknown}"
    );
    assert_eq!(ds.count_entries(&EntryFilter::default()).await.unwrap(), 0);

    // A relationship alone, or a bundle alone, makes the trust domain known.
    ds.create_relationship(relationship("orders.example"), None)
        .await
        .unwrap();
    ds.set_federated_bundle(bundle("other.example", &["x"], 0))
        .await
        .unwrap();
    let e = ds
        .create_entry(federating(
            "spiffe://example.org/w",
            &["orders.example", "other.example"],
        ))
        .await
        .unwrap();

    // An update that adds an unknown trust domain is refused and changes nothing.
    let mut bad = e.clone();
    bad.federates_with.push(td("nowhere.example"));
    let err = ds.update_entry(bad, None).await.unwrap_err();
    assert!(
        matches!(err, DatastoreError::UnknownFederatedTrustDomain { .. }),
        "{err:?}"
    );
    assert_eq!(ds.get_entry(&e.id).await.unwrap().unwrap(), e);

    // In a batch each entry is checked on its own.
    let results = ds
        .create_entries(vec![
            federating("spiffe://example.org/b1", &["nowhere.example"]),
            federating("spiffe://example.org/b2", &["other.example"]),
        ])
        .await
        .unwrap();
    assert!(matches!(
        &results[0],
        Err(DatastoreError::UnknownFederatedTrustDomain { trust_domain }) if trust_domain.name() == "nowhere.example"
    ));
    let b2 = results[1].as_ref().unwrap();
    assert_eq!(b2.federates_with, vec![td("other.example")]);
    assert_eq!(ds.count_entries(&EntryFilter::default()).await.unwrap(), 2);
}

async fn federates_with_is_stored_sorted_and_filterable(h: &Harness) {
    let ds = &h.ds;
    for name in ["a.example", "b.example", "c.example"] {
        ds.create_relationship(relationship(name), None)
            .await
            .unwrap();
    }
    let mut e = ds
        .create_entry(federating(
            "spiffe://example.org/w",
            &["c.example", "a.example", "c.example"],
        ))
        .await
        .unwrap();
    assert_eq!(e.federates_with, vec![td("a.example"), td("c.example")]);
    assert_eq!(ds.get_entry(&e.id).await.unwrap().unwrap(), e, "read back");
    let plain = ds
        .create_entry(federating("spiffe://example.org/plain", &[]))
        .await
        .unwrap();
    assert!(plain.federates_with.is_empty());

    let ids = |page: lanyard_datastore::Page<lanyard_datastore::Entry>| {
        page.items.into_iter().map(|e| e.id).collect::<Vec<_>>()
    };
    let page = PageRequest::default();
    assert_eq!(
        ids(ds
            .list_entries(&by_federation("a.example"), &page)
            .await
            .unwrap()),
        vec![e.id.clone()]
    );
    assert_eq!(
        ds.count_entries(&by_federation("b.example")).await.unwrap(),
        0
    );

    // An update replaces the set, and the filter follows.
    e.federates_with = vec![td("b.example")];
    let e = ds.update_entry(e, None).await.unwrap();
    assert_eq!(
        ds.count_entries(&by_federation("a.example")).await.unwrap(),
        0
    );
    assert_eq!(
        ids(ds
            .list_entries(&by_federation("b.example"), &page)
            .await
            .unwrap()),
        vec![e.id.clone()]
    );
    // Combined with another condition, both must hold.
    let both = EntryFilter {
        spiffe_id: Some(id("spiffe://example.org/plain")),
        ..by_federation("b.example")
    };
    assert_eq!(ds.count_entries(&both).await.unwrap(), 0);

    // What expiry pruning returns carries the column too.
    let mut expiring = federating("spiffe://example.org/expiring", &["c.example"]);
    expiring.expires_at = Some(now() - 10);
    ds.create_entry(expiring).await.unwrap();
    let pruned = ds.prune_expired_entries(now()).await.unwrap();
    assert_eq!(pruned.len(), 1);
    assert_eq!(pruned[0].federates_with, vec![td("c.example")]);
    assert_eq!(
        ds.count_entries(&by_federation("c.example")).await.unwrap(),
        0,
        "its rows went with it"
    );
}

async fn trust_domains_in_use_cannot_be_deleted(h: &Harness) {
    let ds = &h.ds;
    let (orders, other) = (td("orders.example"), td("other.example"));
    ds.create_relationship(
        relationship("orders.example"),
        Some(bundle("orders.example", &["a"], 1)),
    )
    .await
    .unwrap();
    ds.set_federated_bundle(bundle("other.example", &["x"], 0))
        .await
        .unwrap();
    let e1 = ds
        .create_entry(federating(
            "spiffe://example.org/w1",
            &["orders.example", "other.example"],
        ))
        .await
        .unwrap();
    let e2 = ds
        .create_entry(federating("spiffe://example.org/w2", &["orders.example"]))
        .await
        .unwrap();

    let seq = ds.latest_seq().await.unwrap();
    let err = ds.delete_relationship(&orders).await.unwrap_err();
    assert!(
        matches!(&err, DatastoreError::FederationInUse { trust_domain, entries: 2 } if *trust_domain == orders),
        "{err:?}"
    );
    assert!(err.to_string().contains("2 registration entries"), "{err}");
    // A bundle-only trust domain: its bundle is what makes it known.
    let err = ds.delete_federated_bundle(&other).await.unwrap_err();
    assert!(
        matches!(err, DatastoreError::FederationInUse { entries: 1, .. }),
        "{err:?}"
    );
    assert_eq!(ds.latest_seq().await.unwrap(), seq, "refusals log nothing");
    assert!(ds.get_federated_bundle(&other).await.unwrap().is_some());

    // With a relationship, the bundle alone may go (the refresher fetches it again).
    let gone = ds.delete_federated_bundle(&orders).await.unwrap();
    assert_eq!(gone.sequence, 1);
    assert_eq!(
        kinds_after(ds, seq).await,
        vec![ChangeKind::FederatedBundleChanged {
            trust_domain: orders.clone()
        }]
    );
    assert!(matches!(
        ds.delete_federated_bundle(&orders).await,
        Err(DatastoreError::NotFound {
            what: "federated bundle",
            ..
        })
    ));

    // Once no entry needs them, both go.
    let mut e1 = e1;
    e1.federates_with.clear();
    ds.update_entry(e1, None).await.unwrap();
    ds.delete_federated_bundle(&other).await.unwrap();
    assert!(matches!(
        ds.delete_relationship(&orders).await,
        Err(DatastoreError::FederationInUse { entries: 1, .. })
    ));
    ds.delete_entry(&e2.id).await.unwrap();
    ds.delete_relationship(&orders).await.unwrap();
    assert!(ds.list_relationships().await.unwrap().is_empty());
}

async fn config_relationships_are_reconciled(h: &Harness) {
    let ds = &h.ds;
    let (a, b, c) = (td("a.example"), td("b.example"), td("c.example"));
    let declared = vec![
        (
            relationship("a.example"),
            Some(bundle("a.example", &["a1"], 3)),
        ),
        (relationship("b.example"), None),
    ];
    let report = ds.reconcile_config_relationships(&declared).await.unwrap();
    assert_eq!(
        report,
        ConfigReconciled {
            upserted: vec![a.clone(), b.clone()],
            bootstrapped: vec![a.clone()],
            ..ConfigReconciled::default()
        }
    );
    assert!(
        ds.list_relationships()
            .await
            .unwrap()
            .iter()
            .all(|r| r.declared_in_config)
    );

    // A restart with the same file changes nothing and logs nothing; a bundle fetched since is
    // not rolled back to the bootstrap one.
    ds.set_federated_bundle(bundle("a.example", &["a2"], 9))
        .await
        .unwrap();
    let seq = ds.latest_seq().await.unwrap();
    let report = ds.reconcile_config_relationships(&declared).await.unwrap();
    assert_eq!(report, ConfigReconciled::default());
    assert_eq!(ds.latest_seq().await.unwrap(), seq);
    assert_eq!(
        ds.get_federated_bundle(&a).await.unwrap().unwrap().sequence,
        9
    );

    // Only the file changes a declared relationship.
    for err in [
        ds.update_relationship(relationship("a.example"), None)
            .await
            .unwrap_err(),
        ds.delete_relationship(&a).await.unwrap_err(),
    ] {
        assert!(
            matches!(err, DatastoreError::DeclaredInConfig { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("edit the file"), "{err}");
    }

    // An operator-made relationship that the file now declares becomes declared.
    ds.create_relationship(relationship("c.example"), None)
        .await
        .unwrap();
    let e = ds
        .create_entry(federating("spiffe://example.org/w", &["a.example"]))
        .await
        .unwrap();
    let moved_b = FederationRelationship {
        endpoint_url: "https://b.example:9443/".into(),
        ..relationship("b.example")
    };
    let seq = ds.latest_seq().await.unwrap();
    // a.example is no longer declared but an entry needs it; b.example moved; c.example joins.
    let report = ds
        .reconcile_config_relationships(&[(moved_b, None), (relationship("c.example"), None)])
        .await
        .unwrap();
    assert_eq!(
        report,
        ConfigReconciled {
            upserted: vec![b.clone(), c.clone()],
            kept_in_use: vec![(a.clone(), 1)],
            ..ConfigReconciled::default()
        }
    );
    let rels = ds.list_relationships().await.unwrap();
    let declared_flags: Vec<(String, bool)> = rels
        .iter()
        .map(|r| (r.trust_domain.to_string(), r.declared_in_config))
        .collect();
    assert_eq!(
        declared_flags,
        [
            ("a.example".to_owned(), false),
            ("b.example".to_owned(), true),
            ("c.example".to_owned(), true)
        ]
    );
    assert_eq!(rels[1].endpoint_url, "https://b.example:9443/");
    assert_eq!(
        kinds_after(ds, seq).await,
        vec![
            ChangeKind::RelationshipChanged {
                trust_domain: b.clone()
            },
            ChangeKind::RelationshipChanged {
                trust_domain: c.clone()
            },
            ChangeKind::RelationshipChanged {
                trust_domain: a.clone()
            },
        ]
    );

    // Kept relationships are the admin API's now; unused undeclared ones go with their bundles.
    ds.delete_entry(&e.id).await.unwrap();
    ds.delete_relationship(&a).await.unwrap();
    ds.set_federated_bundle(bundle("b.example", &["b1"], 1))
        .await
        .unwrap();
    let report = ds
        .reconcile_config_relationships(&[(relationship("c.example"), None)])
        .await
        .unwrap();
    assert_eq!(report.removed, vec![b.clone()]);
    assert_eq!(ds.get_federated_bundle(&b).await.unwrap(), None);

    // A trust domain declared twice is refused before anything is stored.
    let seq = ds.latest_seq().await.unwrap();
    let err = ds
        .reconcile_config_relationships(&[
            (relationship("d.example"), None),
            (relationship("d.example"), None),
        ])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("declared more than once"), "{err}");
    assert_eq!(ds.latest_seq().await.unwrap(), seq);
}

/// An entry write naming a trust domain races the deletion of the relationship that names it:
/// whichever commits first wins, and no entry is ever left federating with a trust domain that
/// nothing names (on PostgreSQL this relies on the row locks; on SQLite on `BEGIN IMMEDIATE`).
async fn concurrent_entry_writes_and_deletes_keep_the_rule(h: &Harness) {
    let other = h.connect_again().await;
    let orders = td("orders.example");
    for round in 0..20 {
        h.ds.create_relationship(relationship("orders.example"), None)
            .await
            .unwrap();
        let e = federating(
            &format!("spiffe://example.org/race/{round}"),
            &["orders.example"],
        );
        let (created, deleted) =
            tokio::join!(h.ds.create_entry(e), other.delete_relationship(&orders));
        match (created, deleted) {
            (Ok(e), Err(DatastoreError::FederationInUse { .. })) => {
                h.ds.delete_entry(&e.id).await.unwrap();
                h.ds.delete_relationship(&orders).await.unwrap();
            }
            (Err(DatastoreError::UnknownFederatedTrustDomain { .. }), Ok(_)) => {}
            other => panic!("round {round}: both or neither won: {other:?}"),
        }
        assert_eq!(
            h.ds.count_entries(&by_federation("orders.example"))
                .await
                .unwrap(),
            0
        );
        assert!(h.ds.list_relationships().await.unwrap().is_empty());
    }
}
