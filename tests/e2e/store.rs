//! Which datastore a test server runs on: SQLite in the server's data_dir, or a PostgreSQL schema
//! of the test's own on `LANYARD_TEST_POSTGRES_URL`, dropped when the test ends (also when it
//! fails), so tests run in parallel threads and processes without seeing each other's rows.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{Connection as _, Executor as _, PgConnection};

/// The variable naming the PostgreSQL server, e.g. `postgres://postgres@127.0.0.1:5432/test`.
pub(crate) const PG_ENV: &str = "LANYARD_TEST_POSTGRES_URL";

/// The datastore of a test server.
pub(crate) enum Store {
    /// The server's default: `<data_dir>/datastore.sqlite3`.
    Sqlite,
    /// A fresh schema, passed to the server with `--datastore-url`.
    Postgres(PgSchema),
    /// Another server's PostgreSQL datastore (its URL), for several servers on one database;
    /// the schema is dropped with that server's store.
    Shared(String),
}

impl Store {
    /// A fresh PostgreSQL schema; `None` (after saying so) when `LANYARD_TEST_POSTGRES_URL` is
    /// unset.
    pub(crate) async fn postgres() -> Option<Store> {
        let Ok(base) = std::env::var(PG_ENV) else {
            println!("SKIPPED: {PG_ENV} is not set; PostgreSQL end-to-end tests did not run");
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
        // As the datastore crate's tests do: every pooled connection gets the schema as its
        // search_path, so the server's unqualified tables land in it.
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        Some(Store::Postgres(PgSchema { base, schema, url }))
    }

    /// The `--datastore-url` to pass, if any.
    pub(crate) fn url(&self) -> Option<&str> {
        match self {
            Store::Sqlite => None,
            Store::Postgres(pg) => Some(&pg.url),
            Store::Shared(url) => Some(url),
        }
    }
}

/// A PostgreSQL schema that is dropped with this value.
pub(crate) struct PgSchema {
    base: String,
    schema: String,
    url: String,
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let base = std::mem::take(&mut self.base);
        let schema = std::mem::take(&mut self.schema);
        // A thread of its own with its own runtime: works inside the test's runtime and while a
        // failed test unwinds.
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

/// `lanyard_e2e_<pid>_<nanos>_<n>`: unique across threads and processes.
fn unique_schema() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "lanyard_e2e_{}_{}_{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    )
}
