//! The per-test harness and small builders.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lanyard_datastore::{Datastore, Entry, Selector};
use lanyard_id::SpiffeId;
use lanyard_test_support::pg::PgSchema;

/// The server ID node entries are parented by.
pub(crate) const SERVER_ID: &str = "spiffe://example.org/lanyard/server";

/// Guard for awaits that should complete at once; a hang fails the test instead of the run.
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

/// A datastore for one test: a SQLite file in a tempdir, or a fresh PostgreSQL schema.
pub(crate) struct Harness {
    pub(crate) ds: Datastore,
    /// The URL `ds` was opened with: connect again to get a second handle on the same data.
    pub(crate) url: String,
    _dir: Option<tempfile::TempDir>,
    /// PostgreSQL: the schema, dropped after `ds`.
    pg: Option<PgSchema>,
}

impl Harness {
    pub(crate) async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("lanyard.db").to_str().unwrap().to_owned();
        let ds = Datastore::connect(&url).await.unwrap();
        Self {
            ds,
            url,
            _dir: Some(dir),
            pg: None,
        }
    }

    /// `None` (after saying so) when `LANYARD_TEST_POSTGRES_URL` is unset.
    pub(crate) async fn postgres() -> Option<Self> {
        let pg = PgSchema::create("datastore").await?;
        let url = pg.url().to_owned();
        let ds = Datastore::connect(&url).await.unwrap();
        Some(Self {
            ds,
            url,
            _dir: None,
            pg: Some(pg),
        })
    }

    /// A second, independent handle on the same data (as another server, or after a restart).
    pub(crate) async fn connect_again(&self) -> Datastore {
        Datastore::connect(&self.url).await.unwrap()
    }

    pub(crate) fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }
}

pub(crate) fn id(s: &str) -> SpiffeId {
    SpiffeId::parse(s).unwrap()
}

pub(crate) fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

pub(crate) fn sels(list: &[&str]) -> Vec<Selector> {
    list.iter().map(|s| sel(s)).collect()
}

/// An entry with the given identity, parent and selectors.
pub(crate) fn entry(spiffe_id: &str, parent_id: &str, selectors: &[&str]) -> Entry {
    Entry::new(id(spiffe_id), id(parent_id), sels(selectors))
}

pub(crate) fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}
