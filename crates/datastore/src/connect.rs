//! Opening a datastore from a URL, connection settings, and the embedded schema migrations.

use std::str::FromStr as _;
use std::time::Duration;

use sqlx::migrate::{MigrateError, Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection as _, SqlSafeStr as _};

use crate::{DatastoreError, redact_url};

/// How long a SQLite writer waits for the write lock before failing with "database is locked".
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(15);
/// How long to wait for a PostgreSQL server before giving up on `connect`.
const PG_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The backend a URL names.
pub(crate) enum Target {
    Sqlite(SqliteConnectOptions),
    Postgres(PgConnectOptions),
}

/// Classifies `url`: `sqlite:...` or a plain path → SQLite, `postgres(ql)://` → PostgreSQL.
pub(crate) fn parse_url(url: &str) -> Result<Target, DatastoreError> {
    let invalid = |reason: String| DatastoreError::InvalidUrl {
        url: redact_url(url),
        reason,
    };
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        return PgConnectOptions::from_str(url)
            .map(Target::Postgres)
            .map_err(|e| invalid(format!("cannot parse PostgreSQL URL: {e}")));
    }
    if lower.starts_with("sqlite:") {
        return SqliteConnectOptions::from_str(url)
            .map(Target::Sqlite)
            .map_err(|e| invalid(format!("cannot parse SQLite URL: {e}")));
    }
    if url.is_empty() {
        return Err(invalid(format!("the URL is empty; {ACCEPTED}")));
    }
    if let Some(scheme) = scheme(url) {
        return Err(invalid(format!(
            "unsupported scheme \"{scheme}\"; {ACCEPTED}"
        )));
    }
    // A plain path: the embedded default, created on first start.
    Ok(Target::Sqlite(
        SqliteConnectOptions::new()
            .filename(url)
            .create_if_missing(true),
    ))
}

const ACCEPTED: &str = "accepted are sqlite://PATH?mode=rwc, a plain file path (SQLite), \
    postgres://USER@HOST/DB and postgresql://USER@HOST/DB";

/// The scheme of `scheme:...` (RFC 3986 scheme characters before the first `:`, so `./a:b.db`
/// stays a path).
fn scheme(url: &str) -> Option<&str> {
    let (scheme, _) = url.split_once(':')?;
    let mut chars = scheme.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    ok.then_some(scheme)
}

/// Opens a SQLite pool with the durability settings this crate promises, then migrates.
///
/// - `journal_mode=WAL`: readers never block the writer and a crash mid-write leaves the
///   database as of the last commit.
/// - `synchronous=FULL`: in WAL mode `NORMAL` may lose the last commits on power loss, which
///   would break "a write returns `Ok` only when durable"; `FULL` syncs the WAL on every commit.
/// - `busy_timeout`: writers queue for the write lock instead of failing at once.
pub(crate) async fn sqlite(
    url: &str,
    opts: SqliteConnectOptions,
) -> Result<SqlitePool, DatastoreError> {
    let lower = url.to_ascii_lowercase();
    let in_memory = lower.contains(":memory:") || lower.contains("mode=memory");
    let opts = opts
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        // An in-memory database lives in one connection; a file is shared by a few.
        .max_connections(if in_memory { 1 } else { 4 })
        .acquire_timeout(SQLITE_BUSY_TIMEOUT * 2)
        .connect_with(opts)
        .await
        .map_err(|source| DatastoreError::Connect {
            url: redact_url(url),
            source,
        })?;
    migrate(SQLITE_MIGRATIONS, &pool).await?;
    Ok(pool)
}

/// Opens a PostgreSQL pool, then migrates (the migrator takes an advisory lock, so servers
/// starting together do not race).
pub(crate) async fn postgres(url: &str, opts: PgConnectOptions) -> Result<PgPool, DatastoreError> {
    let connect_err = |source| DatastoreError::Connect {
        url: redact_url(url),
        source,
    };
    // Probe with one plain connection first: the pool retries "connection refused" until its
    // acquire timeout and then reports only "pool timed out", hiding the cause.
    let probe = tokio::time::timeout(PG_CONNECT_TIMEOUT, PgConnection::connect_with(&opts))
        .await
        .map_err(|_| {
            connect_err(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {PG_CONNECT_TIMEOUT:?}"),
            )))
        })?
        .map_err(connect_err)?;
    let _ = probe.close().await;
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(opts)
        .await
        .map_err(connect_err)?;
    migrate(POSTGRES_MIGRATIONS, &pool).await?;
    Ok(pool)
}

/// One schema migration: version, description, SQL.
type Embedded = (i64, &'static str, &'static str);

const SQLITE_MIGRATIONS: &[Embedded] = &[
    (
        1,
        "init",
        include_str!("../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "previous_serial",
        include_str!("../migrations/sqlite/0002_previous_serial.sql"),
    ),
    (
        3,
        "pruned_through",
        include_str!("../migrations/sqlite/0003_pruned_through.sql"),
    ),
    (
        4,
        "federation",
        include_str!("../migrations/sqlite/0004_federation.sql"),
    ),
];

const POSTGRES_MIGRATIONS: &[Embedded] = &[
    (
        1,
        "init",
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "previous_serial",
        include_str!("../migrations/postgres/0002_previous_serial.sql"),
    ),
    (
        3,
        "pruned_through",
        include_str!("../migrations/postgres/0003_pruned_through.sql"),
    ),
    (
        4,
        "federation",
        include_str!("../migrations/postgres/0004_federation.sql"),
    ),
];

/// Applies the migrations of `embedded` that the database lacks. A database migrated further
/// than this build knows (a newer server has run against it) is refused as
/// [`DatastoreError::SchemaNewer`] before anything is applied: this server's queries were
/// written for an older schema.
async fn migrate<'a, A>(embedded: &[Embedded], pool: A) -> Result<(), DatastoreError>
where
    A: sqlx::Acquire<'a>,
    <A::Connection as std::ops::Deref>::Target: sqlx::migrate::Migrate,
{
    let supported = embedded.iter().map(|m| m.0).max().unwrap_or_default();
    migrator(embedded).run(pool).await.map_err(|e| match e {
        MigrateError::VersionMissing(found) if found > supported => {
            DatastoreError::SchemaNewer { found, supported }
        }
        e => DatastoreError::Migrate(e),
    })
}

/// Builds sqlx's migrator from the embedded SQL (each migration runs in its own transaction and
/// is recorded in `_sqlx_migrations` with its checksum, as `sqlx migrate` would).
fn migrator(embedded: &[Embedded]) -> Migrator {
    Migrator::with_migrations(
        embedded
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    description.into(),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_urls() {
        assert!(matches!(
            parse_url("/var/lib/lanyard/ds.db"),
            Ok(Target::Sqlite(_))
        ));
        assert!(matches!(parse_url("ds.db"), Ok(Target::Sqlite(_))));
        assert!(matches!(parse_url("./a:b.db"), Ok(Target::Sqlite(_))));
        assert!(matches!(
            parse_url("sqlite://ds.db?mode=rwc"),
            Ok(Target::Sqlite(_))
        ));
        assert!(matches!(
            parse_url("postgres://u@h/db"),
            Ok(Target::Postgres(_))
        ));
        assert!(matches!(
            parse_url("postgresql://u@h/db"),
            Ok(Target::Postgres(_))
        ));
        for bad in ["mysql://u:pw@h/db", "", "http://x"] {
            let err = parse_url(bad)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains("postgres://USER@HOST/DB"), "{bad}: {err}");
            assert!(!err.contains("pw@"), "{err}");
        }
    }
}
