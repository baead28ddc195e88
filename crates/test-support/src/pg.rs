//! A PostgreSQL schema of one test (feature `postgres`): created on the server that
//! `LANYARD_TEST_POSTGRES_URL` names, selected through the connection's `search_path` (so the
//! datastore's unqualified tables land in it), and dropped with the value, also when the test
//! fails. Tests in parallel threads and processes never see each other's rows.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{Connection as _, Executor as _, PgConnection};

/// The variable naming the PostgreSQL server, e.g. `postgres://postgres@127.0.0.1:5432/test`.
pub const PG_ENV: &str = "LANYARD_TEST_POSTGRES_URL";

/// A fresh PostgreSQL schema, dropped when this value is.
#[derive(Debug)]
pub struct PgSchema {
    base: String,
    schema: String,
    url: String,
}

impl PgSchema {
    /// Creates a schema of its own; `None`, after printing that the PostgreSQL `suite` tests were
    /// skipped, when `LANYARD_TEST_POSTGRES_URL` is unset. Panics, naming the variable, when the
    /// server cannot be reached: a set variable means the caller wants these tests to run.
    pub async fn create(suite: &str) -> Option<PgSchema> {
        let Ok(base) = std::env::var(PG_ENV) else {
            println!("SKIPPED: {PG_ENV} is not set; PostgreSQL {suite} tests did not run");
            return None;
        };
        let schema = unique_schema();
        let mut admin = PgConnection::connect(&base).await.unwrap_or_else(|e| {
            panic!(
                "{PG_ENV}={base}: cannot connect ({e}); start PostgreSQL there or unset {PG_ENV}"
            )
        });
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .await
            .unwrap_or_else(|e| panic!("{PG_ENV}={base}: CREATE SCHEMA {schema}: {e}"));
        let _ = admin.close().await;
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        Some(PgSchema { base, schema, url })
    }

    /// The URL whose connections use this schema.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The schema's name.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The URL of the database the schema is in (`LANYARD_TEST_POSTGRES_URL`), for tools that
    /// name the schema themselves (`pg_dump --schema`, `psql`).
    pub fn database_url(&self) -> &str {
        &self.base
    }
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
