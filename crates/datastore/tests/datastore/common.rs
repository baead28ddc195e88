//! The per-test harness and small builders.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lanyard_datastore::{Datastore, Entry, Selector};
use lanyard_id::SpiffeId;
use sqlx::{Connection as _, Executor as _, PgConnection};

/// The variable naming the PostgreSQL server for the PostgreSQL half of the suite.
pub(crate) const PG_ENV: &str = "LANYARD_TEST_POSTGRES_URL";

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
    /// PostgreSQL: (server URL, schema to drop).
    pg: Option<(String, String)>,
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
        let Ok(base) = std::env::var(PG_ENV) else {
            println!("SKIPPED: {PG_ENV} is not set; PostgreSQL datastore tests did not run");
            return None;
        };
        let schema = unique_schema();
        let mut admin = PgConnection::connect(&base)
            .await
            .unwrap_or_else(|e| panic!("{PG_ENV}={base}: {e}"));
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .await
            .unwrap();
        admin.close().await.unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        let ds = Datastore::connect(&url).await.unwrap();
        Some(Self {
            ds,
            url,
            _dir: None,
            pg: Some((base, schema)),
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

impl Drop for Harness {
    fn drop(&mut self) {
        let Some((base, schema)) = self.pg.take() else {
            return;
        };
        // Runs on a thread of its own so it also works while a failed test unwinds.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let mut admin = PgConnection::connect(&base).await?;
                admin
                    .execute(sqlx::AssertSqlSafe(format!(
                        "SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS {schema} CASCADE"
                    )))
                    .await?;
                admin.close().await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: could not drop a PostgreSQL test schema: {dropped:?}");
        }
    }
}

/// `lanyard_test_<pid>_<nanos>_<n>`: unique across threads and processes.
fn unique_schema() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "lanyard_test_{}_{}_{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    )
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
