//! [`TrustStore`]: the bundle set that new handshakes verify against.

use std::sync::{Arc, RwLock};

use lanyard_x509::BundleSet;

/// A shared, replaceable [`BundleSet`]. Cloning shares the cell.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    current: Arc<RwLock<Arc<BundleSet>>>,
}

impl TrustStore {
    /// A store holding `bundles`.
    pub fn new(bundles: BundleSet) -> Self {
        Self {
            current: Arc::new(RwLock::new(Arc::new(bundles))),
        }
    }

    /// The bundles in force now.
    pub fn get(&self) -> Arc<BundleSet> {
        match self.current.read() {
            Ok(g) => Arc::clone(&g),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Replaces the bundles; handshakes that start afterwards use the new ones.
    pub fn set(&self, bundles: BundleSet) {
        let new = Arc::new(bundles);
        match self.current.write() {
            Ok(mut g) => *g = new,
            Err(poisoned) => *poisoned.into_inner() = new,
        }
    }
}
