//! The Sync stream against a real datastore and entry cache: snapshots and their parts, pushed
//! changes, heartbeats, the caller's checks (expiry, ban, eviction, revoked authority), resyncs
//! after falling behind, and which foreign bundles each agent is handed and when.

use tokio_stream::StreamExt;
use tonic::Code;

use super::*;

fn id(s: &str) -> SpiffeId {
    SpiffeId::parse(s).unwrap()
}

fn node_selectors() -> Vec<Selector> {
    vec![Selector::new("k8s_psat", "cluster:c1").unwrap()]
}

fn agent(spiffe_id: &str) -> AttestedAgent {
    super::super::test_agent(spiffe_id, "01", node_selectors())
}

/// Agent [`ME`] attested on a fresh server, and the API over its entry cache.
struct Fixture {
    _dir: tempfile::TempDir,
    ds: lanyard_datastore::Datastore,
    cache: EntryCache,
    api: AgentApi,
    agent: AttestedAgent,
}

const ME: &str = "spiffe://example.org/agent/a";

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (ds, td, state) = super::super::test_server(dir.path()).await;
    let agent = ds.upsert_agent(agent(ME)).await.unwrap();
    let cache = EntryCache::load(ds.clone(), td, state.server_id().clone())
        .await
        .unwrap();
    let api = AgentApi::new(state, cache.clone(), vec![]);
    Fixture {
        _dir: dir,
        ds,
        cache,
        api,
        agent,
    }
}

/// Publishes more events than the broadcast holds (another agent's entries): a stream not
/// polled meanwhile has fallen behind and missed whatever came before them.
async fn fall_behind(ds: &lanyard_datastore::Datastore, cache: &EntryCache) {
    let theirs: Vec<Entry> = (0..crate::cache::BROADCAST_CAPACITY + 10)
        .map(|n| {
            entry(
                &format!("spiffe://example.org/w{n}"),
                "spiffe://example.org/agent/b",
            )
        })
        .collect();
    ds.create_entries(theirs).await.unwrap();
    cache.catch_up().await.unwrap();
}

/// Asserts the stream's next item is an error with `code`, then that it ends; the status.
async fn ends_with<S>(s: &mut S, code: Code) -> Status
where
    S: Stream<Item = Result<pb::SyncMessage, Status>> + Unpin,
{
    let status = match next(s).await {
        Some(Err(status)) => status,
        other => panic!("expected {code:?}, got {other:?}"),
    };
    assert_eq!(status.code(), code, "{status:?}");
    assert!(next(s).await.is_none(), "the stream did not end");
    status
}

/// The SVID the agent's connection showed: serial 01 (as [`agent`] records), valid for an
/// hour, signed by the current CA.
fn svid(cache: &EntryCache) -> CallerSvid {
    let bundle = cache.bundle();
    let ca = lanyard_x509::CertInfo::from_der(bundle.x509_authorities[0].as_bytes()).unwrap();
    CallerSvid {
        serial: "01".to_owned(),
        not_after: std::time::SystemTime::now() + Duration::from_secs(3600),
        authority_key_id: ca.subject_key_id,
    }
}

fn entry(spiffe_id: &str, parent: &str) -> Entry {
    Entry::new(
        id(spiffe_id),
        id(parent),
        vec![Selector::new("unix", "uid:1000").unwrap()],
    )
}

async fn next<S>(s: &mut S) -> Option<Result<pb::SyncMessage, Status>>
where
    S: Stream<Item = Result<pb::SyncMessage, Status>> + Unpin,
{
    tokio::time::timeout(Duration::from_secs(10), s.next())
        .await
        .expect("the sync stream stalled")
}

/// The next message, heartbeats included.
async fn any_event<S>(s: &mut S) -> Event
where
    S: Stream<Item = Result<pb::SyncMessage, Status>> + Unpin,
{
    match next(s).await {
        Some(Ok(m)) => m.event.unwrap(),
        other => panic!("expected a message, got {other:?}"),
    }
}

/// The next message but heartbeats (a slow test run may see one anywhere).
async fn event<S>(s: &mut S) -> Event
where
    S: Stream<Item = Result<pb::SyncMessage, Status>> + Unpin,
{
    loop {
        match any_event(s).await {
            Event::Heartbeat(_) => {}
            other => return other,
        }
    }
}

/// Snapshot, pushed changes (own entries only, aliases through a node entry), heartbeat,
/// then eviction: `Evicted`, PermissionDenied, end of stream.
#[tokio::test]
async fn pushes_changes_heartbeats_and_ends_on_eviction() {
    let dir = tempfile::tempdir().unwrap();
    let (ds, td, state) = super::super::test_server(dir.path()).await;
    let me = ME;
    let a = ds.upsert_agent(agent(me)).await.unwrap();
    let first = ds
        .create_entry(entry("spiffe://example.org/first", me))
        .await
        .unwrap();
    let cache = EntryCache::load(ds.clone(), td, state.server_id().clone())
        .await
        .unwrap();
    let api = AgentApi::new(state.clone(), cache.clone(), vec![]);
    let beat = Duration::from_millis(300);
    let mut s = PushStream::new(api, a, svid(&cache), beat);

    let Event::Snapshot(snap) = event(&mut s).await else {
        panic!("no snapshot first");
    };
    assert_eq!(snap.entries.len(), 1, "{snap:?}");
    assert_eq!(snap.entries[0].id, first.id);
    assert_eq!(snap.bundles.len(), 1);

    // Another agent's entry is not pushed; the next message is our own.
    ds.create_entry(entry(
        "spiffe://example.org/theirs",
        "spiffe://example.org/agent/b",
    ))
    .await
    .unwrap();
    let mine = ds
        .create_entry(entry("spiffe://example.org/mine", me))
        .await
        .unwrap();
    cache.catch_up().await.unwrap();
    match event(&mut s).await {
        Event::EntryUpserted(e) => assert_eq!(e.id, mine.id),
        other => panic!("{other:?}"),
    }
    ds.delete_entry(&mine.id).await.unwrap();
    cache.catch_up().await.unwrap();
    match event(&mut s).await {
        Event::EntryDeleted(d) => assert_eq!(d.entry_id, mine.id),
        other => panic!("{other:?}"),
    }

    // A node entry matching the agent's selectors makes it an alias: resync sends the
    // entries parented by the alias.
    let alias = "spiffe://example.org/node/c1";
    let aliased = ds
        .create_entry(entry("spiffe://example.org/aliased", alias))
        .await
        .unwrap();
    let mut node = entry(alias, state.server_id().as_str());
    node.selectors = node_selectors();
    ds.create_entry(node).await.unwrap();
    cache.catch_up().await.unwrap();
    match event(&mut s).await {
        Event::EntryUpserted(e) => assert_eq!(e.id, aliased.id),
        other => panic!("{other:?}"),
    }

    // Idle: a heartbeat, and not a burst of the ones missed while nobody polled.
    tokio::time::sleep(beat * 4).await;
    assert!(
        matches!(any_event(&mut s).await, Event::Heartbeat(_)),
        "expected a heartbeat"
    );
    let t = tokio::time::Instant::now();
    assert!(matches!(any_event(&mut s).await, Event::Heartbeat(_)));
    assert!(t.elapsed() >= beat / 2, "heartbeats in a burst");

    ds.delete_agent(&id(me)).await.unwrap();
    cache.catch_up().await.unwrap();
    match event(&mut s).await {
        Event::Evicted(e) => assert_eq!(e.reason, pb::evicted::Reason::Evicted as i32),
        other => panic!("{other:?}"),
    }
    ends_with(&mut s, Code::PermissionDenied).await;
}

/// Nothing is computed ahead of the agent: while a message waits to be taken, further cache
/// events stay in the broadcast.
#[tokio::test]
async fn computes_nothing_ahead_of_the_agent() {
    let Fixture {
        _dir,
        ds,
        cache,
        api,
        agent: a,
    } = fixture().await;
    let mut s = PushStream::new(api, a, svid(&cache), HEARTBEAT);
    assert!(matches!(event(&mut s).await, Event::Snapshot(_)));
    let mut ids = Vec::new();
    for n in 0..3 {
        let e = ds
            .create_entry(entry(&format!("spiffe://example.org/w{n}"), ME))
            .await
            .unwrap();
        ids.push(e.id);
    }
    cache.catch_up().await.unwrap();
    for want in &ids {
        match event(&mut s).await {
            Event::EntryUpserted(e) => assert_eq!(&e.id, want),
            other => panic!("{other:?}"),
        }
        assert!(s.out.is_empty(), "computed ahead: {:?}", s.out);
    }
    drop(s);
}

/// The connection's SVID expires while the stream is open: the stream ends with
/// `Unauthenticated` (a raw client could otherwise keep it past its identity's lifetime).
#[tokio::test]
async fn ends_when_the_connections_svid_expires() {
    let Fixture {
        _dir,
        cache,
        api,
        agent: a,
        ..
    } = fixture().await;
    let mut short = svid(&cache);
    short.not_after = std::time::SystemTime::now() + Duration::from_millis(500);
    let mut s = PushStream::new(api, a, short, HEARTBEAT);
    assert!(matches!(event(&mut s).await, Event::Snapshot(_)));
    let status = ends_with(&mut s, Code::Unauthenticated).await;
    assert!(status.message().contains("has expired"), "{status:?}");
}

/// An agent banned while its stream had fallen behind the broadcast (the ban event was
/// among those it missed) is found out at the resync.
#[tokio::test]
async fn a_ban_missed_while_behind_ends_the_stream_at_the_resync() {
    let Fixture {
        _dir,
        ds,
        cache,
        api,
        agent: a,
    } = fixture().await;
    let mut s = PushStream::new(api, a, svid(&cache), HEARTBEAT);
    assert!(matches!(event(&mut s).await, Event::Snapshot(_)));
    // Not polled meanwhile: the ban, then more events than the broadcast holds, so the ban
    // event is among those dropped.
    ds.ban_agent(&id(ME)).await.unwrap();
    fall_behind(&ds, &cache).await;
    let t = tokio::time::Instant::now();
    loop {
        match next(&mut s).await {
            Some(Ok(_)) => {}
            Some(Err(status)) => {
                assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
                assert!(status.message().contains("banned"), "{status:?}");
                break;
            }
            None => panic!("the stream ended without saying why"),
        }
    }
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "took {:?}",
        t.elapsed()
    );
}

/// A taint whose notice the stream missed (it fell behind the broadcast) still reaches the
/// agent: the resync ends with the bundle, which marks the authority tainted.
#[tokio::test]
async fn a_taint_missed_while_behind_arrives_as_bundle_state() {
    let Fixture {
        _dir,
        ds,
        cache,
        api,
        agent: a,
    } = fixture().await;
    let ca = api.state.ca().clone();
    let mut s = PushStream::new(api, a, svid(&cache), HEARTBEAT);
    let Event::Snapshot(snap) = event(&mut s).await else {
        panic!("no snapshot first");
    };
    assert!(snap.bundles[0].x509_authorities.iter().all(|x| !x.tainted));
    let old = ca.authorities().await.unwrap()[0].id.clone();
    ca.prepare(std::time::SystemTime::now()).await.unwrap();
    ca.activate().await.unwrap();
    ca.taint(&old).await.unwrap();
    fall_behind(&ds, &cache).await;
    loop {
        match event(&mut s).await {
            Event::Reissue(r) => panic!("the notice was not missed: {r:?}"),
            Event::BundleUpdated(b) if b.x509_authorities.iter().any(|x| x.tainted) => {
                assert_eq!(b.x509_authorities.len(), 2);
                break;
            }
            _ => {}
        }
    }
}

/// Events the cache applied before a node-entry resync (which moves the stream's revision
/// to the cache's) but that the stream had not read yet: the own bundle's change and an
/// eviction still reach the agent; a resync reflects entries, not those.
#[tokio::test]
async fn a_bundle_change_and_an_eviction_behind_a_node_entry_resync_still_arrive() {
    let Fixture {
        _dir,
        ds,
        cache,
        api,
        agent: a,
    } = fixture().await;
    let ca = api.state.ca().clone();
    let server_id = api.state.server_id().clone();
    let mut s = PushStream::new(api, a, svid(&cache), HEARTBEAT);
    assert!(matches!(event(&mut s).await, Event::Snapshot(_)));
    // Not polled meanwhile: a node entry that makes the agent an alias (a resync), then a
    // prepared authority (the bundle), then the eviction.
    let mut node = entry("spiffe://example.org/node/c1", server_id.as_str());
    node.selectors = node_selectors();
    ds.create_entry(node).await.unwrap();
    ca.prepare(std::time::SystemTime::now()).await.unwrap();
    ds.delete_agent(&id(ME)).await.unwrap();
    cache.catch_up().await.unwrap();
    match event(&mut s).await {
        Event::BundleUpdated(b) => assert_eq!(b.x509_authorities.len(), 2, "{b:?}"),
        other => panic!("expected the bundle with the prepared authority, got {other:?}"),
    }
    match event(&mut s).await {
        Event::Evicted(e) => assert_eq!(e.reason, pb::evicted::Reason::Evicted as i32),
        other => panic!("{other:?}"),
    }
    ends_with(&mut s, Code::PermissionDenied).await;
}

/// A big node's snapshot comes in parts under the message limit, the bundle in the first,
/// `more` on all but the last, every entry exactly once.
#[test]
fn a_large_snapshot_is_split_into_parts_of_at_most_1_mib() {
    let entries: Vec<_> = (0..30_000)
        .map(|n| {
            entry_to_pb(&entry(
                &format!("spiffe://example.org/workloads/w{n}"),
                "spiffe://example.org/agent/a",
            ))
        })
        .collect();
    let bundle = lanyard_proto::lanyard::types::v1::Bundle {
        trust_domain: "example.org".to_owned(),
        ..Default::default()
    };
    let parts = snapshot_parts(7, entries.clone().into_iter(), bundle, std::iter::empty());
    assert!(parts.len() > 1, "{} parts", parts.len());
    let mut seen = Vec::new();
    for (i, m) in parts.iter().enumerate() {
        assert_eq!(m.revision, 7);
        let Some(Event::Snapshot(s)) = &m.event else {
            panic!("part {i} is not a snapshot");
        };
        assert_eq!(s.more, i + 1 < parts.len(), "part {i}");
        assert_eq!(s.bundles.len(), usize::from(i == 0), "part {i}");
        assert!(prost::Message::encoded_len(m) <= SNAPSHOT_PART_BYTES + 4096);
        seen.extend(s.entries.iter().cloned());
    }
    assert_eq!(seen, entries);
    // A small one is one part.
    let one = snapshot_parts(
        1,
        entries.into_iter().take(3),
        Default::default(),
        std::iter::empty(),
    );
    assert_eq!(one.len(), 1);
}

/// Foreign bundles count against the part size like entries: large ones spread over parts,
/// each exactly once, the own bundle first in the first part.
#[test]
fn foreign_bundles_in_a_snapshot_count_against_the_part_size() {
    let big = |n: usize| lanyard_proto::lanyard::types::v1::Bundle {
        trust_domain: format!("td{n}.example"),
        x509_authorities: vec![lanyard_proto::lanyard::types::v1::X509Authority {
            asn1: vec![7; 300 * 1024],
            tainted: false,
        }],
        ..Default::default()
    };
    let foreign: Vec<_> = (0..8).map(big).collect();
    let own = lanyard_proto::lanyard::types::v1::Bundle {
        trust_domain: "example.org".to_owned(),
        ..Default::default()
    };
    let entries = vec![entry_to_pb(&entry(
        "spiffe://example.org/w",
        "spiffe://example.org/agent/a",
    ))];
    let parts = snapshot_parts(
        3,
        entries.clone().into_iter(),
        own,
        foreign.clone().into_iter(),
    );
    assert!(parts.len() >= 3, "{} parts", parts.len());
    let (mut bundles, mut seen) = (Vec::new(), Vec::new());
    for (i, m) in parts.iter().enumerate() {
        let Some(Event::Snapshot(s)) = &m.event else {
            panic!("part {i} is not a snapshot");
        };
        assert_eq!(s.more, i + 1 < parts.len(), "part {i}");
        assert!(
            prost::Message::encoded_len(m) <= SNAPSHOT_PART_BYTES + 4096,
            "part {i}"
        );
        bundles.extend(s.bundles.iter().map(|b| b.trust_domain.clone()));
        seen.extend(s.entries.iter().cloned());
    }
    assert_eq!(bundles[0], "example.org");
    let want: Vec<String> = foreign.iter().map(|b| b.trust_domain.clone()).collect();
    assert_eq!(bundles[1..], want[..]);
    assert_eq!(seen, entries);
}

/// A bundle of foreign trust domain `td` with one fresh CA certificate.
fn foreign_bundle(td: &str, sequence: u64) -> Bundle {
    use lanyard_x509::{CaParams, KeyPair, KeyType, Subject, self_signed_ca};
    let td = TrustDomain::new(td).unwrap();
    let now = std::time::SystemTime::now();
    let params = CaParams {
        trust_domain: td.clone(),
        subject: Subject {
            country: None,
            organization: Some("Foreign".into()),
            common_name: None,
        },
        not_before: now,
        not_after: now + Duration::from_secs(3600),
        path_len: None,
    };
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    let mut b = Bundle::new(td);
    b.add_x509_authority(self_signed_ca(&params, &key).unwrap());
    b.sequence_number = sequence;
    b
}

/// Stores `b` as an operator would (`bundle set`).
async fn set_bundle(ds: &lanyard_datastore::Datastore, b: &Bundle) {
    ds.set_federated_bundle(lanyard_datastore::FederatedBundle {
        trust_domain: b.trust_domain.clone(),
        bundle_json: b.to_jwks_json().unwrap(),
        sequence: b.sequence_number,
        origin: lanyard_datastore::BundleOrigin::Operator,
        updated_at: 0,
    })
    .await
    .unwrap();
}

/// An entry of `parent` that federates with `tds`.
fn federating(spiffe_id: &str, parent: &str, tds: &[&str]) -> Entry {
    let mut e = entry(spiffe_id, parent);
    e.federates_with = tds.iter().map(|t| TrustDomain::new(t).unwrap()).collect();
    e
}

/// Asserts `ev` is the bundle `want` (foreign: no authority tainted).
fn assert_bundle(ev: &Event, want: &Bundle) {
    match ev {
        Event::BundleUpdated(b) => {
            assert_eq!(b.trust_domain, want.trust_domain.name());
            assert_eq!(b.sequence_number, want.sequence_number);
            let got: Vec<&[u8]> = b.x509_authorities.iter().map(|a| &a.asn1[..]).collect();
            let want: Vec<&[u8]> = want.x509_authorities.iter().map(|c| c.as_bytes()).collect();
            assert_eq!(got, want);
            assert!(b.x509_authorities.iter().all(|a| !a.tainted));
        }
        other => panic!(
            "expected the bundle of {}, got {other:?}",
            want.trust_domain
        ),
    }
}

fn assert_upserted(ev: &Event, id: &str) {
    match ev {
        Event::EntryUpserted(e) => assert_eq!(e.id, id),
        other => panic!("expected entry {id}, got {other:?}"),
    }
}

fn assert_deleted(ev: &Event, id: &str) {
    match ev {
        Event::EntryDeleted(d) => assert_eq!(d.entry_id, id),
        other => panic!("expected entry {id} deleted, got {other:?}"),
    }
}

fn assert_bundle_deleted(ev: &Event, td: &str) {
    match ev {
        Event::BundleDeleted(d) => assert_eq!(d.trust_domain, td),
        other => panic!("expected the bundle of {td} deleted, got {other:?}"),
    }
}

/// A foreign bundle arrives just before the first entry that federates with it, stays while
/// one does, and is deleted just after the last one goes (or stops federating).
#[tokio::test]
async fn a_foreign_bundle_comes_before_the_first_entry_needing_it_and_goes_after_the_last() {
    let Fixture {
        _dir,
        ds,
        cache,
        api,
        agent: a,
    } = fixture().await;
    let orders = foreign_bundle("orders.example", 5);
    let pay = foreign_bundle("pay.example", 1);
    set_bundle(&ds, &orders).await;
    set_bundle(&ds, &pay).await;
    cache.catch_up().await.unwrap();
    let mut s = PushStream::new(api, a, svid(&cache), HEARTBEAT);
    let Event::Snapshot(snap) = event(&mut s).await else {
        panic!("no snapshot first");
    };
    assert_eq!(snap.bundles.len(), 1, "no entry needs a foreign bundle yet");

    let first = ds
        .create_entry(federating(
            "spiffe://example.org/a",
            ME,
            &["spiffe://orders.example"],
        ))
        .await
        .unwrap();
    cache.catch_up().await.unwrap();
    assert_bundle(&event(&mut s).await, &orders);
    assert_upserted(&event(&mut s).await, &first.id);

    // A second entry needing it: no second copy.
    let second = ds
        .create_entry(federating(
            "spiffe://example.org/b",
            ME,
            &["orders.example"],
        ))
        .await
        .unwrap();
    cache.catch_up().await.unwrap();
    assert_upserted(&event(&mut s).await, &second.id);

    // The first stops federating with orders and starts with pay: pay's bundle before it;
    // orders stays, the second entry still needs it.
    let mut changed = federating("spiffe://example.org/a", ME, &["pay.example"]);
    changed.id = first.id.clone();
    ds.update_entry(changed, None).await.unwrap();
    cache.catch_up().await.unwrap();
    assert_bundle(&event(&mut s).await, &pay);
    assert_upserted(&event(&mut s).await, &first.id);

    // The last entry federating with orders goes: orders' bundle is deleted after it.
    ds.delete_entry(&second.id).await.unwrap();
    cache.catch_up().await.unwrap();
    assert_deleted(&event(&mut s).await, &second.id);
    assert_bundle_deleted(&event(&mut s).await, "orders.example");

    // The last one needing pay stops federating at all: deleted after the upsert.
    let mut plain = entry("spiffe://example.org/a", ME);
    plain.id = first.id.clone();
    ds.update_entry(plain, None).await.unwrap();
    cache.catch_up().await.unwrap();
    assert_upserted(&event(&mut s).await, &first.id);
    assert_bundle_deleted(&event(&mut s).await, "pay.example");
    assert!(s.out.is_empty(), "{:?}", s.out);
}

/// A foreign bundle set, replaced or deleted reaches exactly the agents whose entries
/// federate with it; a domain nobody needs reaches nobody; none of it touches the own
/// bundle the stream checks its caller against.
#[tokio::test]
async fn a_foreign_bundle_change_reaches_only_the_agents_that_need_it() {
    let Fixture {
        _dir,
        ds,
        cache,
        api,
        agent: a,
    } = fixture().await;
    const THEM: &str = "spiffe://example.org/agent/b";
    let b = ds.upsert_agent(agent(THEM)).await.unwrap();
    // A relationship names orders.example; no bundle fetched yet.
    ds.create_relationship(
        lanyard_datastore::FederationRelationship {
            trust_domain: TrustDomain::new("orders.example").unwrap(),
            endpoint_url: "https://orders.example/".into(),
            profile: lanyard_datastore::EndpointProfile::HttpsWeb,
            endpoint_spiffe_id: None,
            declared_in_config: false,
            created_at: 0,
            updated_at: 0,
        },
        None,
    )
    .await
    .unwrap();
    let mine = ds
        .create_entry(federating(
            "spiffe://example.org/mine",
            ME,
            &["orders.example"],
        ))
        .await
        .unwrap();
    cache.catch_up().await.unwrap();
    let mut s = PushStream::new(api.clone(), a, svid(&cache), HEARTBEAT);
    let mut them = PushStream::new(api, b, svid(&cache), HEARTBEAT);
    let Event::Snapshot(snap) = event(&mut s).await else {
        panic!("no snapshot first");
    };
    assert_eq!(snap.entries.len(), 1);
    assert_eq!(snap.bundles.len(), 1, "no orders.example bundle stored yet");
    assert!(matches!(event(&mut them).await, Event::Snapshot(_)));

    // The first bundle arrives: to us only.
    let v1 = foreign_bundle("orders.example", 1);
    set_bundle(&ds, &v1).await;
    // A domain nobody federates with.
    set_bundle(&ds, &foreign_bundle("pay.example", 1)).await;
    let theirs = ds
        .create_entry(entry("spiffe://example.org/theirs", THEM))
        .await
        .unwrap();
    // A marker: the next thing each stream sees after the bundles.
    let marker = ds
        .create_entry(entry("spiffe://example.org/marker", ME))
        .await
        .unwrap();
    cache.catch_up().await.unwrap();
    assert_bundle(&event(&mut s).await, &v1);
    assert_upserted(&event(&mut s).await, &marker.id);
    assert_upserted(&event(&mut them).await, &theirs.id);

    // Replaced: the new one, and the stream goes on (the own bundle still holds the
    // caller's authority).
    let v2 = foreign_bundle("orders.example", 2);
    set_bundle(&ds, &v2).await;
    cache.catch_up().await.unwrap();
    assert_bundle(&event(&mut s).await, &v2);

    // Deleted while the relationship stays: the agent drops it; a new one comes back.
    ds.delete_federated_bundle(&TrustDomain::new("orders.example").unwrap())
        .await
        .unwrap();
    cache.catch_up().await.unwrap();
    assert_bundle_deleted(&event(&mut s).await, "orders.example");
    let v3 = foreign_bundle("orders.example", 3);
    set_bundle(&ds, &v3).await;
    ds.delete_entry(&theirs.id).await.unwrap();
    cache.catch_up().await.unwrap();
    assert_bundle(&event(&mut s).await, &v3);
    // The other agent saw none of it.
    assert_deleted(&event(&mut them).await, &theirs.id);

    // Our entry goes: the bundle goes after it.
    ds.delete_entry(&mine.id).await.unwrap();
    cache.catch_up().await.unwrap();
    assert_deleted(&event(&mut s).await, &mine.id);
    assert_bundle_deleted(&event(&mut s).await, "orders.example");
}

/// The snapshot carries the foreign bundles the agent's entries need, and only those; after
/// falling behind, the resync sends every needed one again (changes it missed included).
#[tokio::test]
async fn snapshot_and_resync_carry_the_needed_foreign_bundles() {
    let Fixture {
        _dir,
        ds,
        cache,
        api,
        agent: a,
    } = fixture().await;
    let orders = foreign_bundle("orders.example", 1);
    set_bundle(&ds, &orders).await;
    set_bundle(&ds, &foreign_bundle("pay.example", 1)).await;
    ds.create_entry(federating(
        "spiffe://example.org/f",
        ME,
        &["orders.example"],
    ))
    .await
    .unwrap();
    // Another agent's entry federating with pay: not ours to need.
    ds.create_entry(federating(
        "spiffe://example.org/p",
        "spiffe://example.org/agent/b",
        &["pay.example"],
    ))
    .await
    .unwrap();
    cache.catch_up().await.unwrap();
    let mut s = PushStream::new(api, a, svid(&cache), HEARTBEAT);
    let Event::Snapshot(snap) = event(&mut s).await else {
        panic!("no snapshot first");
    };
    let tds: Vec<&str> = snap
        .bundles
        .iter()
        .map(|b| b.trust_domain.as_str())
        .collect();
    assert_eq!(tds, ["example.org", "orders.example"]);
    assert_eq!(
        snap.bundles[1].x509_authorities[0].asn1,
        orders.x509_authorities[0].as_bytes()
    );

    // Missed while behind: a new orders bundle. The resync brings it, before the own bundle
    // that ends it.
    let v2 = foreign_bundle("orders.example", 2);
    set_bundle(&ds, &v2).await;
    fall_behind(&ds, &cache).await;
    let mut got = None;
    loop {
        match event(&mut s).await {
            Event::BundleUpdated(b) if b.trust_domain == "orders.example" => got = Some(b),
            Event::BundleUpdated(b) if b.trust_domain == "example.org" => break,
            Event::BundleUpdated(b) => panic!("a bundle nobody needs: {b:?}"),
            Event::BundleDeleted(d) => panic!("{d:?}"),
            _ => {}
        }
    }
    let got = got.expect("the resync did not send the needed foreign bundle");
    assert_bundle(&Event::BundleUpdated(got), &v2);
}
