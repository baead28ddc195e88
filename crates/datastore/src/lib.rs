//! Everything the Lanyard server must not lose: registration entries, attested agents, join
//! tokens, the trust bundle's authorities, federation relationships and foreign bundles, and a
//! change log that drives the push stream to agents.
//!
//! # Backends
//!
//! [`Datastore::connect`] takes a URL: a plain file path or `sqlite://PATH?mode=rwc` opens the
//! embedded SQLite default (WAL, `synchronous=FULL`, busy timeout); `postgres://` or
//! `postgresql://` opens PostgreSQL, which several servers may share. The schema migrations are
//! embedded (`migrations/sqlite`, `migrations/postgres`) and applied at connect.
//!
//! # Design: one struct, one code path per query
//!
//! [`Datastore`] is a struct wrapping an enum of the two sqlx pools, not a trait with two impls:
//! a trait would have every query written twice. Each operation is written once against a private
//! transaction type (`db::Tx`) that takes SQL with `$1, $2, ...` placeholders (which SQLite accepts
//! too) and binds them to the native driver; only the schema DDL, `BEGIN IMMEDIATE` (SQLite) and
//! `NOTIFY` (PostgreSQL) differ. sqlx's `Any` driver would also give one code path, but it drops
//! native types (no SQLite booleans) and per-driver connect options (WAL, `synchronous`), and is
//! another feature to build. All statements are runtime-checked `sqlx::query()`: no macros, no
//! database at build time.
//!
//! # Invariants
//!
//! - **Nothing acknowledged is lost**: every operation runs in one transaction and returns `Ok`
//!   only after the commit is durable (SQLite `synchronous=FULL`; PostgreSQL's commit). `kill -9`
//!   at any point leaves the last committed state.
//! - **Every write and its change event commit together**: a mutating operation appends its
//!   [`ChangeEvent`]s in the same transaction, so the log never misses or invents a change.
//!   Events take their `seq` from a counter row locked until commit, so `seq` is gap-free and in
//!   commit order across servers: a reader that has seen `seq` N has seen every change up to N.
//! - **Pruning leaves no hole a reader could fall into**: [`Datastore::prune_events`] deletes
//!   only a prefix of the log (by `seq`, up to the newest event old enough, whatever the writers'
//!   clocks) and raises a low-water mark in the same transaction; [`Datastore::events_after`]
//!   from a position behind the mark is [`DatastoreError::BehindChangeLog`]: reload the full
//!   state. Several servers may prune at once.
//! - **Join tokens are single use**: [`Datastore::consume_join_token`] is one
//!   `DELETE ... RETURNING`, so of any number of concurrent consumers exactly one gets the token.
//! - **Entries federate only with known trust domains**: every trust domain in an entry's
//!   `federates_with` is named by a federation relationship or a stored foreign bundle, checked
//!   in the writing transaction; neither can be deleted while entries need it
//!   ([`DatastoreError::FederationInUse`]). A fetched foreign bundle replaces the stored one only
//!   when it is fresher ([`Datastore::store_fetched_bundle`]).
//! - **One entry per (SPIFFE ID, parent ID, selector set)**: a unique index on a hash of the three
//!   enforces it on both backends whatever the concurrency; a duplicate gives
//!   [`DatastoreError::AlreadyExists`] with the existing entry's ID.
//!
//! Operations that do not change what agents are served log nothing: join tokens, agent
//! registration, renewal and selector updates.
//!
//! # Waking on changes
//!
//! [`Datastore::subscribe`] returns a `watch` receiver of the latest committed `seq`. It moves on
//! this handle's own commits and, on PostgreSQL, on other servers' commits too (`LISTEN
//! lanyard_events`; every event-writing transaction runs `pg_notify` before it commits). Readers
//! tail the log with [`Datastore::events_after`] when it changes: no polling.

mod agents;
mod authorities;
mod connect;
mod db;
mod entries;
mod entry_query;
mod error;
mod events;
mod federation;
mod model;
mod selector;
mod tokens;

use std::sync::Arc;

use sqlx::{PgPool, SqlitePool};
use tokio::sync::watch;

pub use error::{DatastoreError, redact_url};
pub use model::{
    AttestedAgent, Authority, AuthorityKind, AuthorityState, AuthorizedEntries, BundleOrigin,
    ChangeEvent, ChangeKind, ConfigReconciled, EndpointProfile, Entry, EntryFilter,
    FederatedBundle, FederationRelationship, JoinToken, MatchMode, Page, PageRequest,
    SelectorMatch, StoreOutcome,
};
pub use selector::{Selector, SelectorError};

/// Which database a [`Datastore`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file (or `sqlite::memory:`), this process only.
    Sqlite,
    /// A PostgreSQL database, possibly shared by several servers.
    Postgres,
}

pub(crate) enum Pools {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

struct Inner {
    pools: Pools,
    /// Latest committed `seq` known to this handle.
    seq: Arc<watch::Sender<i64>>,
    /// The PostgreSQL `LISTEN` task; aborted when the last handle is dropped.
    listener: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(task) = self.listener.take() {
            task.abort();
        }
    }
}

/// A connection pool to the datastore. Cheap to clone; clones share the pool and the waker.
#[derive(Clone)]
pub struct Datastore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Datastore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Datastore")
            .field("backend", &self.backend())
            .field("latest_seq", &*self.inner.seq.borrow())
            .finish()
    }
}

impl Datastore {
    /// Opens the datastore named by `url` and applies pending schema migrations.
    ///
    /// Accepted: a plain file path (SQLite, created if missing), `sqlite://PATH?mode=rwc`,
    /// `sqlite::memory:`, `postgres://...` and `postgresql://...`. Anything else is
    /// [`DatastoreError::InvalidUrl`]; a database that cannot be opened or reached is
    /// [`DatastoreError::Connect`] (passwords redacted).
    pub async fn connect(url: &str) -> Result<Self, DatastoreError> {
        let seq = Arc::new(watch::channel(0).0);
        let (pools, listener) = match connect::parse_url(url)? {
            connect::Target::Sqlite(opts) => {
                (Pools::Sqlite(connect::sqlite(url, opts).await?), None)
            }
            connect::Target::Postgres(opts) => {
                let pool = connect::postgres(url, opts).await?;
                // LISTEN before reading the initial seq below, so no commit falls in between.
                let listener = events::listen(&pool).await?;
                let task = tokio::spawn(events::listen_loop(
                    listener,
                    pool.clone(),
                    Arc::clone(&seq),
                ));
                (Pools::Postgres(pool), Some(task))
            }
        };
        let ds = Self {
            inner: Arc::new(Inner {
                pools,
                seq,
                listener,
            }),
        };
        let latest = ds.latest_seq().await?;
        ds.advance(latest);
        tracing::info!(backend = ?ds.backend(), url = %redact_url(url), latest_seq = latest, "datastore opened");
        Ok(ds)
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        match self.inner.pools {
            Pools::Sqlite(_) => Backend::Sqlite,
            Pools::Postgres(_) => Backend::Postgres,
        }
    }

    /// A receiver of the latest committed change-log `seq`. It changes after every commit that
    /// logged events through this handle (or a clone) and, on PostgreSQL, after other servers'
    /// commits. Await `changed()`, then read [`Datastore::events_after`] from your last `seq`.
    ///
    /// Copy the value out (`*rx.borrow_and_update()`); never hold the borrow across an `.await`,
    /// as that blocks the datastore's writers from publishing.
    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.inner.seq.subscribe()
    }

    /// Closes all connections, waiting for running statements. Other clones stop working.
    pub async fn close(&self) {
        if let Some(task) = &self.inner.listener {
            task.abort();
        }
        match &self.inner.pools {
            Pools::Sqlite(p) => p.close().await,
            Pools::Postgres(p) => p.close().await,
        }
    }

    pub(crate) fn pools(&self) -> &Pools {
        &self.inner.pools
    }

    /// Records that `seq` is committed, waking subscribers if it is news.
    pub(crate) fn advance(&self, seq: i64) {
        events::advance(&self.inner.seq, seq);
    }
}

/// Now as Unix seconds.
pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// SHA-256 of `data` in hex.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, data))
}

/// A new random entry ID: 128 bits from the system CSPRNG, as 32 hex digits.
pub(crate) fn new_id() -> Result<String, DatastoreError> {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| DatastoreError::Random)?;
    Ok(hex::encode(bytes))
}
