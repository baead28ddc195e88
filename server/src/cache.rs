//! [`EntryCache`]: every registration entry in memory, kept in step with the datastore's change
//! log, and fanned out to the push streams.
//!
//! One tailer task per server process follows the log ([`Datastore::subscribe`] wakes it on
//! this server's commits and, on PostgreSQL, on other servers' commits): no polling. For each
//! event it updates the index and broadcasts a [`CacheEvent`] tagged with the event's `seq`.
//! A push stream subscribes to the broadcast *before* it takes its snapshot, then ignores
//! events at or below the snapshot's `seq`, so it never misses a change. A stream that falls
//! behind the broadcast buffer recomputes its full authorized set and sends the difference.
//!
//! A tailer that finds the log pruned past its position ([`DatastoreError::BehindChangeLog`]:
//! another server pruned while this one lagged) reloads every entry and publishes
//! [`CacheEvent::Reloaded`], on which every stream recomputes its set: a pruned range is
//! resynchronized from a snapshot, never skipped.
//!
//! Authorization (the rule every RPC applies): an agent may have the entries whose `parent_id`
//! is its own ID or one of its node-alias IDs; a node alias is the SPIFFE ID of a node entry
//! (`parent_id` = the server's ID) whose selectors are all among the agent's node selectors.
//! An entry whose `expires_at` has passed is in effect for nothing: not sent, not an alias
//! (the pruner deletes it soon after, which tells the agents that still hold it).
//!
//! Foreign trust domains' bundles (federation) are held beside the own bundle, decoded once per
//! change, for the push streams and the federation refresher. They never enter the own bundle:
//! [`EntryCache::bundle`] is the server's own trust domain only, and so is every trust store
//! built from it (the server's TLS, the agents' connection to the server).
//!
//! When the server stops, [`EntryCache::run`] closes the broadcast: every stream ends (Sync
//! with `Unavailable`, so agents reconnect elsewhere), and a stream opened later ends at once.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use lanyard_datastore::{
    AuthorityKind, ChangeKind, Datastore, DatastoreError, Entry, EntryFilter, FederatedBundle,
    PageRequest, Selector,
};
use lanyard_id::{SpiffeId, TrustDomain};
use lanyard_x509::{Bundle, CertInfo};
use tokio::sync::broadcast;

use crate::ca::{CaError, load_bundle};
use crate::taint::Taint;

/// What changed, as a push stream needs to know it.
#[derive(Debug, Clone)]
pub enum CacheEvent {
    /// An entry was created, updated or deleted: `old` is what it was (if it existed), `new`
    /// what it is now (if it still exists).
    Entry {
        /// Before.
        old: Option<Arc<Entry>>,
        /// After.
        new: Option<Arc<Entry>>,
    },
    /// The trust bundle changed.
    Bundle(Arc<Bundle>),
    /// An authority was tainted; its Subject Key Identifier.
    Tainted(Vec<u8>),
    /// A JWT signing key was tainted; its `kid`.
    TaintedJwtKey(String),
    /// An agent was banned (`banned`) or evicted.
    AgentGone {
        /// The agent.
        spiffe_id: SpiffeId,
        /// Banned rather than evicted.
        banned: bool,
    },
    /// A foreign trust domain's stored bundle was set, replaced or deleted.
    FederatedBundle {
        /// The foreign trust domain.
        trust_domain: TrustDomain,
        /// The bundle now stored; `None` once deleted (or if the stored one cannot be decoded,
        /// which is logged).
        bundle: Option<Arc<Bundle>>,
    },
    /// A federation relationship was created, changed or deleted (read it from the datastore).
    Relationship {
        /// The foreign trust domain.
        trust_domain: TrustDomain,
    },
    /// The cache was reloaded from the datastore (the change log had been pruned past its
    /// position): any entry and the bundle may have changed without an event of their own, so
    /// every stream recomputes what it sends.
    Reloaded,
}

/// A [`CacheEvent`] with the change-log position it brings the cache to.
#[derive(Debug, Clone)]
pub struct Tagged {
    /// The change-log `seq` after this event.
    pub seq: i64,
    /// The change.
    pub event: CacheEvent,
}

/// An entry held by the index, hashed and ordered by its ID, so that sets of them can be looked
/// up by `&str` without a second copy of every ID as a key.
#[derive(Debug, Clone)]
struct ById(Arc<Entry>);

impl std::borrow::Borrow<str> for ById {
    fn borrow(&self) -> &str {
        &self.0.id
    }
}

impl std::hash::Hash for ById {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // As `str` hashes, which `Borrow<str>` requires.
        self.0.id.as_str().hash(state);
    }
}

impl PartialEq for ById {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}

impl Eq for ById {}

impl PartialOrd for ById {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ById {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.id.cmp(&other.0.id)
    }
}

/// Memory per entry is what a server with many entries holds most of, so every entry is stored
/// once (`Arc<Entry>`) and both maps refer to it; parent IDs are shared between the entries of
/// one parent ([`Index::share_parent`]).
#[derive(Debug, Default)]
struct Index {
    seq: i64,
    entries: HashSet<ById>,
    by_parent: HashMap<SpiffeId, BTreeSet<ById>>,
    bundle: Option<Arc<Bundle>>,
    /// Which of the bundle's authorities are tainted (sent with every bundle).
    taint: Arc<Taint>,
    /// Foreign trust domains' stored bundles.
    federated: BTreeMap<TrustDomain, Arc<Bundle>>,
}

impl Index {
    /// Makes `e.parent_id` share its text with the other entries of that parent, if any.
    fn share_parent(&self, e: &mut Entry) {
        if let Some((shared, _)) = self.by_parent.get_key_value(&e.parent_id) {
            e.parent_id = shared.clone();
        }
    }

    /// Inserts (or replaces) an entry; returns the one it replaced.
    fn insert(&mut self, mut e: Entry) -> (Option<Arc<Entry>>, Arc<Entry>) {
        let old = self.remove(&e.id);
        self.share_parent(&mut e);
        let e = Arc::new(e);
        self.by_parent
            .entry(e.parent_id.clone())
            .or_default()
            .insert(ById(Arc::clone(&e)));
        self.entries.insert(ById(Arc::clone(&e)));
        (old, e)
    }

    fn remove(&mut self, id: &str) -> Option<Arc<Entry>> {
        let ById(old) = self.entries.take(id)?;
        if let Some(set) = self.by_parent.get_mut(&old.parent_id) {
            set.remove(id);
            if set.is_empty() {
                self.by_parent.remove(&old.parent_id);
            }
        }
        Some(old)
    }

    fn get(&self, id: &str) -> Option<&Arc<Entry>> {
        self.entries.get(id).map(|e| &e.0)
    }
}

/// Whether `e` is in effect at `now` (Unix seconds): it has no expiry, or it has not passed
/// (the rule signing applies too).
pub fn in_effect(e: &Entry, now: i64) -> bool {
    e.expires_at.is_none_or(|t| t > now)
}

/// Now as Unix seconds.
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

type Sender = broadcast::Sender<Arc<Tagged>>;

/// The in-memory entry index and bundle. Cloning shares it.
#[derive(Debug, Clone)]
pub struct EntryCache {
    index: Arc<RwLock<Index>>,
    /// `None` once closed ([`EntryCache::close`]): dropping the only sender ends every
    /// subscriber's stream after what it has not read yet.
    events: Arc<RwLock<Option<Sender>>>,
    server_id: SpiffeId,
    td: TrustDomain,
    ds: Datastore,
}

/// Broadcast buffer per stream before it must resynchronize.
pub(crate) const BROADCAST_CAPACITY: usize = 4096;
/// Page size of the initial load. Each page's rows are decoded and dropped while the entries
/// built from them stay, so smaller pages leave fewer holes in the heap: at 100,000 entries,
/// 1,000 instead of 5,000 took the server's idle RSS from 96 to 78 MiB at the same start time
/// (docs/benchmarks.md, `scale`); 250 gained nothing more and started slower.
const LOAD_PAGE: u32 = 1000;

impl EntryCache {
    /// Loads every entry and the bundle. Call [`EntryCache::run`] to follow changes.
    pub async fn load(
        ds: Datastore,
        td: TrustDomain,
        server_id: SpiffeId,
    ) -> Result<Self, CaError> {
        let index = load_index(&ds, &td).await?;
        let (events, _) = broadcast::channel(BROADCAST_CAPACITY);
        Ok(Self {
            index: Arc::new(RwLock::new(index)),
            events: Arc::new(RwLock::new(Some(events))),
            server_id,
            td,
            ds,
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        self.index
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Index> {
        self.index
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Subscribes to changes. Subscribe before reading a snapshot. After [`EntryCache::close`]
    /// the receiver is closed from the start.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Tagged>> {
        let events = self
            .events
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match &*events {
            Some(tx) => tx.subscribe(),
            None => broadcast::channel(1).1,
        }
    }

    /// Closes the broadcast: each subscriber reads what it has not read yet, then its end.
    /// Publishing after this is a no-op.
    pub fn close(&self) {
        self.events
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
    }

    /// The change-log position the cache reflects.
    pub fn seq(&self) -> i64 {
        self.read().seq
    }

    /// How many entries the cache holds.
    pub fn len(&self) -> usize {
        self.read().entries.len()
    }

    /// Whether the cache holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The current trust bundle.
    pub fn bundle(&self) -> Arc<Bundle> {
        self.read()
            .bundle
            .clone()
            .unwrap_or_else(|| Arc::new(Bundle::new(self.td.clone())))
    }

    /// Which of the bundle's authorities are tainted.
    pub fn taint(&self) -> Arc<Taint> {
        Arc::clone(&self.read().taint)
    }

    /// The stored bundle of foreign trust domain `td`, if any. Never the own bundle.
    pub fn federated_bundle(&self, td: &TrustDomain) -> Option<Arc<Bundle>> {
        self.read().federated.get(td).cloned()
    }

    /// Every stored foreign bundle, ordered by trust domain.
    pub fn federated_bundles(&self) -> Vec<Arc<Bundle>> {
        self.read().federated.values().cloned().collect()
    }

    /// Every entry for which `pred` holds (a scan: for start-up checks, not for hot paths).
    pub fn find(&self, pred: impl Fn(&Entry) -> bool) -> Vec<Arc<Entry>> {
        let index = self.read();
        let mut found: Vec<_> = index
            .entries
            .iter()
            .filter(|e| pred(&e.0))
            .map(|e| Arc::clone(&e.0))
            .collect();
        found.sort_by(|a, b| a.id.cmp(&b.id));
        found
    }

    /// One entry by ID.
    pub fn get(&self, id: &str) -> Option<Arc<Entry>> {
        self.read().get(id).cloned()
    }

    /// The IDs under which `agent` with `node_selectors` is authorized: itself and its aliases.
    pub fn authorized_parents(
        &self,
        agent: &SpiffeId,
        node_selectors: &[Selector],
    ) -> BTreeSet<SpiffeId> {
        let now = unix_now();
        let index = self.read();
        let mut parents = BTreeSet::from([agent.clone()]);
        if let Some(node_entries) = index.by_parent.get(&self.server_id) {
            for ById(e) in node_entries {
                if in_effect(e, now) && e.selectors.iter().all(|s| node_selectors.contains(s)) {
                    parents.insert(e.spiffe_id.clone());
                }
            }
        }
        parents
    }

    /// The entries authorized for an agent whose authorized parents are `parents`, by ID, and
    /// the cache position they reflect. Expired entries are left out.
    pub fn authorized(&self, parents: &BTreeSet<SpiffeId>) -> (BTreeMap<String, Arc<Entry>>, i64) {
        let now = unix_now();
        let index = self.read();
        let mut out = BTreeMap::new();
        for p in parents {
            for ById(e) in index.by_parent.get(p).into_iter().flatten() {
                if in_effect(e, now) {
                    out.insert(e.id.clone(), Arc::clone(e));
                }
            }
        }
        (out, index.seq)
    }

    /// Whether `e` is in effect now (see [`in_effect`]).
    pub fn is_in_effect(&self, e: &Entry) -> bool {
        in_effect(e, unix_now())
    }

    /// Whether `e` is a node entry (parented by the server), which changes aliases.
    pub fn is_node_entry(&self, e: &Entry) -> bool {
        e.parent_id == self.server_id
    }

    /// Follows the change log until `shutdown` resolves, then closes the broadcast
    /// ([`EntryCache::close`]), which ends every stream.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        self.follow(shutdown).await;
        self.close();
    }

    async fn follow(&self, shutdown: impl std::future::Future<Output = ()>) {
        let mut wake = self.ds.subscribe();
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.catch_up().await {
                tracing::error!(error = %e, "following the datastore change log failed; retrying");
                tokio::select! {
                    () = &mut shutdown => return,
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
            tokio::select! {
                () = &mut shutdown => return,
                changed = wake.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// Applies every event after the cache's position; reloads everything if the log was
    /// pruned past it.
    pub async fn catch_up(&self) -> Result<(), CaError> {
        loop {
            let after = self.seq();
            let events = match self.ds.events_after(after, 1000).await {
                Ok(events) => events,
                Err(DatastoreError::BehindChangeLog { pruned_through, .. }) => {
                    tracing::warn!(
                        after,
                        pruned_through,
                        "the entry cache is behind the pruned change log; reloading every entry"
                    );
                    self.reload().await?;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            if events.is_empty() {
                return Ok(());
            }
            for ev in events {
                if let ChangeKind::Unknown { kind } = &ev.kind {
                    tracing::warn!(
                        seq = ev.seq,
                        kind,
                        "a change-log event of a kind this server does not know (a newer lanyard-server shares the datastore); reloading every entry and bundle: upgrade this server"
                    );
                    // The reload reads the log's position before loading, so the cache moves
                    // past this event; the rest of this batch is read again from there.
                    self.reload().await?;
                    break;
                }
                self.apply(ev.seq, ev.kind).await?;
            }
        }
    }

    /// Replaces the index with a fresh load and tells the streams to recompute.
    async fn reload(&self) -> Result<(), CaError> {
        let index = load_index(&self.ds, &self.td).await?;
        let seq = index.seq;
        *self.write() = index;
        self.publish(seq, CacheEvent::Reloaded);
        Ok(())
    }

    async fn apply(&self, seq: i64, kind: ChangeKind) -> Result<(), CaError> {
        let event = match kind {
            ChangeKind::EntryUpserted { id } => {
                let new = self.ds.get_entry(&id).await?;
                let mut index = self.write();
                let (old, new) = match new {
                    Some(e) => {
                        let (old, new) = index.insert(e);
                        (old, Some(new))
                    }
                    None => (index.remove(&id), None),
                };
                index.seq = seq;
                drop(index);
                Some(CacheEvent::Entry { old, new })
            }
            ChangeKind::EntryDeleted { id, .. } => {
                let mut index = self.write();
                let old = index.remove(&id);
                index.seq = seq;
                drop(index);
                old.map(|old| CacheEvent::Entry {
                    old: Some(old),
                    new: None,
                })
            }
            ChangeKind::BundleChanged => {
                let bundle = Arc::new(load_bundle(&self.ds, &self.td).await?);
                let taint = Arc::new(Taint::load(&self.ds).await?);
                let mut index = self.write();
                index.bundle = Some(Arc::clone(&bundle));
                index.taint = taint;
                index.seq = seq;
                Some(CacheEvent::Bundle(bundle))
            }
            ChangeKind::AuthorityTainted { id } => {
                let taint = Arc::new(Taint::load(&self.ds).await?);
                {
                    let mut index = self.write();
                    index.seq = seq;
                    index.taint = taint;
                }
                let row = self
                    .ds
                    .list_authorities()
                    .await?
                    .into_iter()
                    .find(|a| a.id == id);
                match row {
                    Some(a) if a.kind == AuthorityKind::Jwt => {
                        Some(CacheEvent::TaintedJwtKey(a.id))
                    }
                    Some(a) => CertInfo::from_der(&a.public_der)
                        .ok()
                        .and_then(|i| i.subject_key_id)
                        .map(CacheEvent::Tainted),
                    None => None,
                }
            }
            ChangeKind::AgentBanned { spiffe_id } => {
                self.write().seq = seq;
                Some(CacheEvent::AgentGone {
                    spiffe_id,
                    banned: true,
                })
            }
            ChangeKind::AgentEvicted { spiffe_id } => {
                self.write().seq = seq;
                Some(CacheEvent::AgentGone {
                    spiffe_id,
                    banned: false,
                })
            }
            ChangeKind::FederatedBundleChanged { trust_domain } => {
                let bundle = self
                    .ds
                    .get_federated_bundle(&trust_domain)
                    .await?
                    .and_then(decode_federated)
                    .map(Arc::new);
                let mut index = self.write();
                match &bundle {
                    Some(b) => index.federated.insert(trust_domain.clone(), Arc::clone(b)),
                    None => index.federated.remove(&trust_domain),
                };
                index.seq = seq;
                drop(index);
                Some(CacheEvent::FederatedBundle {
                    trust_domain,
                    bundle,
                })
            }
            ChangeKind::RelationshipChanged { trust_domain } => {
                self.write().seq = seq;
                Some(CacheEvent::Relationship { trust_domain })
            }
            // `catch_up` reloads at an unknown kind instead of applying it.
            ChangeKind::Unknown { .. } => {
                self.reload().await?;
                None
            }
        };
        if let Some(event) = event {
            self.publish(seq, event);
        }
        Ok(())
    }

    fn publish(&self, seq: i64, event: CacheEvent) {
        let events = self
            .events
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(tx) = &*events {
            // No receivers is fine: no agent is connected.
            let _ = tx.send(Arc::new(Tagged { seq, event }));
        }
    }
}

/// Every entry and the bundle, at the change-log position read first: events after it are
/// replayed by the tailer, and replaying an upsert or delete that the load already saw is
/// harmless.
async fn load_index(ds: &Datastore, td: &TrustDomain) -> Result<Index, CaError> {
    let seq = ds.latest_seq().await?;
    let mut index = Index {
        seq,
        ..Index::default()
    };
    let mut page = PageRequest {
        page_size: LOAD_PAGE,
        page_token: None,
    };
    loop {
        let p = ds.list_entries(&EntryFilter::default(), &page).await?;
        for e in p.items {
            index.insert(e);
        }
        match p.next_page_token {
            Some(t) => page.page_token = Some(t),
            None => break,
        }
    }
    index.bundle = Some(Arc::new(load_bundle(ds, td).await?));
    index.taint = Arc::new(Taint::load(ds).await?);
    for stored in ds.list_federated_bundles().await? {
        let trust_domain = stored.trust_domain.clone();
        if let Some(b) = decode_federated(stored) {
            index.federated.insert(trust_domain, Arc::new(b));
        }
    }
    Ok(index)
}

/// Decodes a stored foreign bundle, with the stored sequence number (which a refresh may raise
/// past the document's). `None`, logged, when the document does not decode: the datastore holds
/// only documents the server encoded, so that is a corrupt row, and workloads are better served
/// without that trust domain than by a stream that fails.
fn decode_federated(stored: FederatedBundle) -> Option<Bundle> {
    match Bundle::from_jwks_json(stored.trust_domain.clone(), stored.bundle_json.as_bytes()) {
        Ok(mut b) => {
            b.sequence_number = stored.sequence;
            Some(b)
        }
        Err(error) => {
            tracing::error!(
                trust_domain = %stored.trust_domain,
                %error,
                "the stored bundle of a federated trust domain does not decode; ignoring it"
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn entry(id: &str, parent: &str) -> Entry {
        let mut e = Entry::new(
            SpiffeId::parse(&format!("spiffe://example.org/w/{id}")).unwrap(),
            SpiffeId::parse(parent).unwrap(),
            vec![Selector::parse("unix:uid:1000").unwrap()],
        );
        e.id = id.to_owned();
        e
    }

    fn ids_under(index: &Index, parent: &str) -> Vec<String> {
        let parent = SpiffeId::parse(parent).unwrap();
        let set = index.by_parent.get(&parent);
        set.into_iter().flatten().map(|e| e.0.id.clone()).collect()
    }

    #[test]
    fn moves_replaces_and_removes_entries_between_parents() {
        let (a, b) = (
            "spiffe://example.org/agent/a",
            "spiffe://example.org/agent/b",
        );
        let mut index = Index::default();
        assert!(index.insert(entry("1", a)).0.is_none());
        index.insert(entry("2", a));
        assert_eq!(ids_under(&index, a), ["1", "2"]);

        // An update that moves entry 1 to another parent returns the old version and leaves
        // nothing of it under the old parent.
        let (old, new) = index.insert(entry("1", b));
        assert_eq!(old.unwrap().parent_id.as_str(), a);
        assert_eq!(new.parent_id.as_str(), b);
        assert_eq!(ids_under(&index, a), ["2"]);
        assert_eq!(ids_under(&index, b), ["1"]);
        assert_eq!(index.get("1").unwrap().parent_id.as_str(), b);

        assert_eq!(index.remove("2").unwrap().id, "2");
        assert!(index.remove("2").is_none());
        assert!(
            !index.by_parent.contains_key(&SpiffeId::parse(a).unwrap()),
            "an emptied parent is dropped"
        );
        assert_eq!(index.entries.len(), 1);
    }

    /// A SPIFFE bundle document for `td` with one fresh CA certificate.
    fn foreign_bundle(td: &TrustDomain, sequence: u64) -> Bundle {
        use lanyard_x509::{CaParams, KeyPair, KeyType, Subject, self_signed_ca};
        let now = SystemTime::now();
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
        let mut b = Bundle::new(td.clone());
        b.add_x509_authority(self_signed_ca(&params, &key).unwrap());
        b.sequence_number = sequence;
        b
    }

    fn stored(b: &Bundle) -> FederatedBundle {
        FederatedBundle {
            trust_domain: b.trust_domain.clone(),
            bundle_json: b.to_jwks_json().unwrap(),
            sequence: b.sequence_number,
            origin: lanyard_datastore::BundleOrigin::Operator,
            updated_at: 0,
        }
    }

    /// The next event the cache published, without waiting (the caller has caught up).
    fn next_event(rx: &mut broadcast::Receiver<Arc<Tagged>>) -> CacheEvent {
        rx.try_recv().unwrap().event.clone()
    }

    #[tokio::test]
    async fn follows_foreign_bundles_and_relationships_beside_the_own_bundle() {
        let dir = tempfile::tempdir().unwrap();
        let ds = Datastore::connect(dir.path().join("ds.db").to_str().unwrap())
            .await
            .unwrap();
        let own = TrustDomain::new("example.org").unwrap();
        let orders = TrustDomain::new("orders.example").unwrap();
        let other = TrustDomain::new("other.example").unwrap();
        // Stored before the cache starts: loaded; a row that does not decode is skipped.
        let v1 = foreign_bundle(&orders, 3);
        ds.set_federated_bundle(stored(&v1)).await.unwrap();
        ds.set_federated_bundle(FederatedBundle {
            bundle_json: "not a bundle".into(),
            ..stored(&foreign_bundle(&other, 1))
        })
        .await
        .unwrap();
        let server_id = SpiffeId::parse("spiffe://example.org/lanyard/server").unwrap();
        let cache = EntryCache::load(ds.clone(), own.clone(), server_id)
            .await
            .unwrap();
        assert_eq!(cache.federated_bundle(&orders).as_deref(), Some(&v1));
        assert_eq!(cache.federated_bundle(&other), None);
        assert_eq!(cache.federated_bundles().len(), 1);
        assert_eq!(
            cache.federated_bundle(&own),
            None,
            "the own bundle is not foreign"
        );

        // A replaced bundle is decoded once and published with its trust domain.
        let mut rx = cache.subscribe();
        let v2 = foreign_bundle(&orders, 4);
        ds.set_federated_bundle(stored(&v2)).await.unwrap();
        cache.catch_up().await.unwrap();
        match next_event(&mut rx) {
            CacheEvent::FederatedBundle {
                trust_domain,
                bundle: Some(b),
            } => {
                assert_eq!(trust_domain, orders);
                assert_eq!(*b, v2);
            }
            other => panic!("expected the new orders.example bundle, got {other:?}"),
        }
        assert_eq!(cache.federated_bundle(&orders).as_deref(), Some(&v2));
        // The own bundle, which every own trust store is built from, holds none of it.
        let own_bundle = cache.bundle();
        assert_eq!(own_bundle.trust_domain, own);
        assert!(
            !own_bundle
                .x509_authorities
                .iter()
                .any(|c| v2.x509_authorities.contains(c))
        );

        // Relationship changes are passed on for the refresher; deleting one deletes its bundle.
        let rel = lanyard_datastore::FederationRelationship {
            trust_domain: orders.clone(),
            endpoint_url: "https://orders.example/".into(),
            profile: lanyard_datastore::EndpointProfile::HttpsWeb,
            endpoint_spiffe_id: None,
            declared_in_config: false,
            created_at: 0,
            updated_at: 0,
        };
        ds.create_relationship(rel, None).await.unwrap();
        ds.delete_relationship(&orders).await.unwrap();
        cache.catch_up().await.unwrap();
        let events: Vec<String> = std::iter::from_fn(|| rx.try_recv().ok())
            .map(|t| match &t.event {
                CacheEvent::Relationship { trust_domain } => format!("relationship {trust_domain}"),
                CacheEvent::FederatedBundle {
                    trust_domain,
                    bundle,
                } => format!("bundle {trust_domain} {}", bundle.is_some()),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            events,
            [
                "relationship orders.example",
                "bundle orders.example false",
                "relationship orders.example"
            ]
        );
        assert_eq!(cache.federated_bundle(&orders), None);
        assert!(cache.federated_bundles().is_empty());
        assert_eq!(cache.seq(), ds.latest_seq().await.unwrap());
    }

    #[tokio::test]
    async fn an_event_kind_of_a_newer_server_reloads_instead_of_stopping() {
        use sqlx::Connection as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ds.db");
        let ds = Datastore::connect(path.to_str().unwrap()).await.unwrap();
        let td = TrustDomain::new("example.org").unwrap();
        let server_id = SpiffeId::parse("spiffe://example.org/lanyard/server").unwrap();
        let cache = EntryCache::load(ds.clone(), td, server_id).await.unwrap();
        let mut rx = cache.subscribe();
        let parent = "spiffe://example.org/agent/a";
        let first = ds.create_entry(entry("1", parent)).await.unwrap();
        let second = ds.create_entry(entry("2", parent)).await.unwrap();
        // The first create's event as a newer server would have written it.
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let seq = ds.latest_seq().await.unwrap() - 1;
        sqlx::query("UPDATE events SET kind = 'from_a_newer_server' WHERE seq = $1")
            .bind(seq)
            .execute(&mut c)
            .await
            .unwrap();

        cache.catch_up().await.unwrap();
        assert!(
            matches!(next_event(&mut rx), CacheEvent::Reloaded),
            "streams are told to recompute"
        );
        assert_eq!(cache.seq(), ds.latest_seq().await.unwrap());
        for e in [&first, &second] {
            assert!(cache.get(&e.id).is_some(), "entry {} is served", e.id);
        }
        // And it keeps following the log.
        let third = ds.create_entry(entry("3", parent)).await.unwrap();
        cache.catch_up().await.unwrap();
        assert!(cache.get(&third.id).is_some());
    }

    #[test]
    fn entries_of_one_parent_share_its_id_text() {
        let a = "spiffe://example.org/agent/a";
        let mut index = Index::default();
        let (_, first) = index.insert(entry("1", a));
        let (_, second) = index.insert(entry("2", a));
        assert_eq!(
            first.parent_id.as_str().as_ptr(),
            second.parent_id.as_str().as_ptr(),
            "the second entry's parent ID should reuse the first's allocation"
        );
    }
}
