//! Attested agents and bundle authorities.

use lanyard_datastore::{
    AttestedAgent, Authority, AuthorityKind, AuthorityState, ChangeKind, DatastoreError,
    PageRequest,
};

use crate::common::{Harness, id, now, sels};

backend_tests!(agent_lifecycle, authority_lifecycle);

fn agent(path: &str) -> AttestedAgent {
    AttestedAgent {
        spiffe_id: id(&format!("spiffe://example.org/lanyard/agent/{path}")),
        attestation_type: "join_token".into(),
        serial: "01ab".into(),
        previous_serial: String::new(),
        expires_at: now() + 3600,
        banned: false,
        selectors: sels(&["join_token:n1"]),
        created_at: 0,
        last_seen_at: 0,
        can_reattest: false,
    }
}

async fn agent_lifecycle(h: &Harness) {
    let ds = &h.ds;
    let a = ds.upsert_agent(agent("n1")).await.unwrap();
    assert!(a.created_at > 0 && !a.banned);
    assert_eq!(ds.get_agent(&a.spiffe_id).await.unwrap().unwrap(), a);

    let renewed = ds
        .update_agent_serial(&a.spiffe_id, "02cd", a.expires_at + 60)
        .await
        .unwrap();
    assert_eq!(
        (renewed.serial.as_str(), renewed.created_at),
        ("02cd", a.created_at)
    );
    // The replaced serial stays accepted until the next renewal, then rolls off.
    assert_eq!(renewed.previous_serial, "01ab");
    let again = ds
        .update_agent_serial(&a.spiffe_id, "03ef", a.expires_at + 120)
        .await
        .unwrap();
    assert_eq!(
        (again.serial.as_str(), again.previous_serial.as_str()),
        ("03ef", "02cd")
    );
    // Re-attestation starts over: no previous serial.
    let reattested = ds.upsert_agent(agent("n1")).await.unwrap();
    assert_eq!(reattested.previous_serial, "");

    let reselected = ds
        .set_agent_selectors(
            &a.spiffe_id,
            sels(&["k8s_psat:cluster:prod", "join_token:n1"]),
        )
        .await
        .unwrap();
    assert_eq!(
        reselected.selectors,
        sels(&["join_token:n1", "k8s_psat:cluster:prod"])
    );

    for n in ["n2", "n3"] {
        ds.upsert_agent(agent(n)).await.unwrap();
    }
    let first = ds
        .list_agents(&PageRequest {
            page_size: 2,
            page_token: None,
        })
        .await
        .unwrap();
    assert_eq!(first.items.len(), 2);
    let rest = ds
        .list_agents(&PageRequest {
            page_size: 2,
            page_token: first.next_page_token,
        })
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert!(rest.next_page_token.is_none());

    // A ban sticks: re-attestation does not lift it, renewal is refused.
    let banned = ds.ban_agent(&a.spiffe_id).await.unwrap();
    assert!(banned.banned && banned.serial.is_empty());
    let again = ds.upsert_agent(agent("n1")).await.unwrap();
    assert!(again.banned, "upsert must not unban");
    assert!(matches!(
        ds.update_agent_serial(&a.spiffe_id, "03", now()).await,
        Err(DatastoreError::AgentBanned { .. })
    ));

    // Eviction deletes the record; the agent may attest afresh.
    ds.delete_agent(&a.spiffe_id).await.unwrap();
    assert!(ds.get_agent(&a.spiffe_id).await.unwrap().is_none());
    assert!(matches!(
        ds.delete_agent(&a.spiffe_id).await,
        Err(DatastoreError::NotFound { .. })
    ));
    assert!(!ds.upsert_agent(agent("n1")).await.unwrap().banned);

    let kinds: Vec<ChangeKind> = ds
        .events_after(0, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        vec![
            ChangeKind::AgentBanned {
                spiffe_id: a.spiffe_id.clone()
            },
            ChangeKind::AgentEvicted {
                spiffe_id: a.spiffe_id.clone()
            },
        ]
    );
}

async fn authority_lifecycle(h: &Harness) {
    let ds = &h.ds;
    let x509 = Authority {
        id: "a1b2c3".into(),
        kind: AuthorityKind::X509,
        public_der: vec![0x30, 0x82, 0x01, 0x00],
        state: AuthorityState::Prepared,
        tainted: false,
        not_after: now() + 86_400,
        created_at: 0,
    };
    let jwt = Authority {
        id: "kid-1".into(),
        kind: AuthorityKind::Jwt,
        state: AuthorityState::Active,
        ..x509.clone()
    };
    let stored = ds.upsert_authority(x509.clone()).await.unwrap();
    assert!(stored.created_at > 0);
    assert_eq!(stored.public_der, x509.public_der);
    ds.upsert_authority(jwt).await.unwrap();
    assert_eq!(ds.list_authorities().await.unwrap().len(), 2);

    let active = ds
        .set_authority_state("a1b2c3", AuthorityState::Active)
        .await
        .unwrap();
    assert_eq!(active.state, AuthorityState::Active);
    assert!(ds.taint_authority("a1b2c3").await.unwrap().tainted);
    ds.delete_authority("kid-1").await.unwrap();
    let left = ds.list_authorities().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!((left[0].id.as_str(), left[0].tainted), ("a1b2c3", true));
    assert!(matches!(
        ds.taint_authority("nope").await,
        Err(DatastoreError::NotFound { .. })
    ));

    let kinds: Vec<ChangeKind> = ds
        .events_after(0, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        vec![
            ChangeKind::BundleChanged,
            ChangeKind::BundleChanged,
            ChangeKind::BundleChanged,
            ChangeKind::AuthorityTainted {
                id: "a1b2c3".into()
            },
            ChangeKind::BundleChanged,
        ]
    );
}
