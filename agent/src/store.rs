//! [`SvidStore`]: what the agent currently holds for workloads, shared between the side that
//! talks to the server (sync, signing, rotation) and the side that talks to workloads (the
//! Workload API).
//!
//! The sync side publishes a complete [`Snapshot`] whenever anything changes (an entry added,
//! removed or re-signed, the bundle updated); the Workload API side watches it and sends every
//! affected stream the new full state. A snapshot is immutable and shared (`Arc`), so readers
//! never block the writer.

use std::sync::Arc;
use std::time::SystemTime;

use lanyard_id::{SpiffeId, TrustDomain};
use lanyard_x509::{BundleSet, CertDer};
use tokio::sync::watch;
use zeroize::Zeroizing;

/// A workload selector `type:value` (e.g. `unix:uid:1000`), as registration entries carry them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Selector {
    /// The selector type, e.g. `unix`.
    pub kind: String,
    /// The value, e.g. `uid:1000`.
    pub value: String,
}

impl Selector {
    /// A selector from its parts.
    pub fn new(kind: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            value: value.into(),
        }
    }
}

impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind, self.value)
    }
}

/// A private key's PKCS#8 DER, shared by every snapshot (and stream) that holds it and
/// zeroized when the last holder drops it.
pub type KeyDer = Arc<Zeroizing<Vec<u8>>>;

/// A [`KeyDer`] holding a copy of `pkcs8` (the caller wipes its own).
pub fn key_der(pkcs8: &[u8]) -> KeyDer {
    Arc::new(Zeroizing::new(pkcs8.to_vec()))
}

/// One identity the agent can hand to matching workloads: a signed X.509-SVID and its key.
#[derive(Clone, PartialEq, Eq)]
pub struct WorkloadSvid {
    /// The registration entry it was issued for.
    pub entry_id: String,
    /// The SPIFFE ID (from the entry).
    pub spiffe_id: SpiffeId,
    /// A workload gets this SVID when *all* these selectors are among its own.
    pub selectors: Vec<Selector>,
    /// The entry's hint (Workload API `hint`), possibly empty.
    pub hint: String,
    /// The chain, leaf first (Workload API `x509_svid`, concatenated DER on the wire).
    pub chain: Vec<CertDer>,
    /// The PKCS#8 DER private key (Workload API `x509_svid_key`), wiped when the last
    /// snapshot holding it is dropped.
    pub key_pkcs8: KeyDer,
    /// The leaf's NotAfter.
    pub not_after: SystemTime,
    /// The entry's creation time (Unix seconds), to order identities deterministically.
    pub created_at: i64,
    /// The foreign trust domains the entry federates with: a workload with this SVID is also
    /// handed their bundles (when the agent holds them), and only those.
    pub federates_with: Vec<TrustDomain>,
}

impl std::fmt::Debug for WorkloadSvid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkloadSvid")
            .field("entry_id", &self.entry_id)
            .field("spiffe_id", &self.spiffe_id)
            .field("selectors", &self.selectors)
            .field("not_after", &self.not_after)
            .field("federates_with", &self.federates_with)
            .finish_non_exhaustive()
    }
}

impl WorkloadSvid {
    /// Whether a workload with `workload_selectors` may have this SVID.
    pub fn matches(&self, workload_selectors: &[Selector]) -> bool {
        !self.selectors.is_empty()
            && self
                .selectors
                .iter()
                .all(|s| workload_selectors.contains(s))
    }
}

/// Everything workloads may be served, at one moment.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Signed SVIDs, one per authorized entry that has been signed, ordered by entry creation
    /// time then entry ID (the first matching one is a workload's default identity).
    pub svids: Vec<Arc<WorkloadSvid>>,
    /// The trust bundles: the agent's own trust domain and the foreign ones it holds. Each
    /// caller gets only its own trust domain's and those its entries federate with (see
    /// `workload::response`).
    pub bundles: BundleSet,
    /// False until the agent has synced with the server at least once (or loaded a cache):
    /// the Workload API answers `Unavailable` rather than "no identity" while it is false.
    pub ready: bool,
}

/// The shared, watchable holder of the current [`Snapshot`]. Cloning shares it.
#[derive(Debug, Clone)]
pub struct SvidStore {
    tx: Arc<watch::Sender<Arc<Snapshot>>>,
}

impl Default for SvidStore {
    fn default() -> Self {
        Self::new()
    }
}

impl SvidStore {
    /// An empty, not-ready store.
    pub fn new() -> Self {
        Self {
            tx: Arc::new(watch::Sender::new(Arc::new(Snapshot::default()))),
        }
    }

    /// The current snapshot.
    pub fn current(&self) -> Arc<Snapshot> {
        Arc::clone(&self.tx.borrow())
    }

    /// Publishes a new snapshot to every watcher.
    pub fn publish(&self, snapshot: Snapshot) {
        self.tx.send_replace(Arc::new(snapshot));
    }

    /// A receiver that wakes on every publish.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
impl WorkloadSvid {
    /// An SVID with no certificate or key, for tests of matching and indexing.
    #[allow(clippy::unwrap_used)]
    pub(crate) fn for_test(entry_id: &str, spiffe_id: &str, selectors: Vec<Selector>) -> Self {
        Self {
            entry_id: entry_id.to_owned(),
            spiffe_id: SpiffeId::parse(spiffe_id).unwrap(),
            selectors,
            hint: String::new(),
            chain: vec![],
            key_pkcs8: KeyDer::default(),
            not_after: SystemTime::now(),
            created_at: 0,
            federates_with: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svid(selectors: &[(&str, &str)]) -> WorkloadSvid {
        let selectors = selectors.iter().map(|(k, v)| Selector::new(*k, *v));
        WorkloadSvid::for_test("e1", "spiffe://example.org/w", selectors.collect())
    }

    #[test]
    fn all_entry_selectors_must_be_among_the_workloads() {
        let s = svid(&[("unix", "uid:1000"), ("unix", "gid:1000")]);
        let both = [
            Selector::new("unix", "uid:1000"),
            Selector::new("unix", "gid:1000"),
        ];
        assert!(s.matches(&both));
        assert!(!s.matches(&both[..1]));
        assert!(
            !svid(&[]).matches(&both),
            "an entry without selectors matches nothing"
        );
    }

    /// A workload key lives in a `ZeroizeOnDrop` buffer (behind the `Arc` the snapshots
    /// share): this stops compiling if the field's type stops being one.
    #[test]
    fn workload_keys_are_zeroized_on_drop() {
        fn zeroized_on_drop<T: zeroize::ZeroizeOnDrop>(_: &T) {}
        let mut s = svid(&[]);
        s.key_pkcs8 = key_der(&[7; 32]);
        zeroized_on_drop::<Zeroizing<Vec<u8>>>(&s.key_pkcs8);
        assert_eq!(s.key_pkcs8.as_slice(), [7; 32]);
    }

    #[tokio::test]
    async fn watchers_see_each_publish() {
        let store = SvidStore::new();
        let mut rx = store.subscribe();
        assert!(!store.current().ready);
        store.publish(Snapshot {
            ready: true,
            ..Snapshot::default()
        });
        rx.changed().await.unwrap();
        assert!(rx.borrow().ready);
    }
}
