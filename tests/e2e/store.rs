//! Which datastore a test server runs on: SQLite in the server's data_dir, or a PostgreSQL schema
//! of the test's own on `LANYARD_TEST_POSTGRES_URL`, dropped when the test ends (also when it
//! fails), so tests run in parallel threads and processes without seeing each other's rows.

use lanyard_test_support::pg::PgSchema;

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
        PgSchema::create("end-to-end").await.map(Store::Postgres)
    }

    /// The `--datastore-url` to pass, if any.
    pub(crate) fn url(&self) -> Option<&str> {
        match self {
            Store::Sqlite => None,
            Store::Postgres(pg) => Some(pg.url()),
            Store::Shared(url) => Some(url),
        }
    }
}
