//! The change log: how events are stored, read back and pruned, and how subscribers wake.

use std::sync::Arc;
use std::time::Duration;

use lanyard_id::{SpiffeId, TrustDomain};
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::watch;

use crate::db::{DbRow, Stmt, Tx, stmt};
use crate::{ChangeEvent, ChangeKind, Datastore, DatastoreError};

/// The PostgreSQL channel every event-writing transaction notifies.
pub(crate) const CHANNEL: &str = "lanyard_events";

/// The `INSERT` for one event (called by `Tx::commit`, inside the writing transaction).
pub(crate) fn insert(seq: i64, kind: &ChangeKind, at: i64) -> Stmt {
    let (name, subject, parent) = match kind {
        ChangeKind::EntryUpserted { id } => ("entry_upserted", id.as_str(), ""),
        ChangeKind::EntryDeleted { id, parent_id } => {
            ("entry_deleted", id.as_str(), parent_id.as_str())
        }
        ChangeKind::AgentBanned { spiffe_id } => ("agent_banned", spiffe_id.as_str(), ""),
        ChangeKind::AgentEvicted { spiffe_id } => ("agent_evicted", spiffe_id.as_str(), ""),
        ChangeKind::BundleChanged => ("bundle_changed", "", ""),
        ChangeKind::AuthorityTainted { id } => ("authority_tainted", id.as_str(), ""),
        ChangeKind::FederatedBundleChanged { trust_domain } => {
            ("federated_bundle_changed", trust_domain.name(), "")
        }
        ChangeKind::RelationshipChanged { trust_domain } => {
            ("relationship_changed", trust_domain.name(), "")
        }
        // Read back as it was stored; this version records none of its own.
        ChangeKind::Unknown { kind } => (kind.as_str(), "", ""),
    };
    stmt("INSERT INTO events (seq, kind, subject, parent, at) VALUES ($1, $2, $3, $4, $5)")
        .bind(seq)
        .bind(name)
        .bind(subject)
        .bind(parent)
        .bind(at)
}

fn decode(row: &DbRow) -> Result<ChangeEvent, DatastoreError> {
    let seq: i64 = row.get("seq")?;
    let name: String = row.get("kind")?;
    let subject: String = row.get("subject")?;
    let parent: String = row.get("parent")?;
    let id = |s: &str| {
        SpiffeId::parse(s).map_err(|e| DatastoreError::corrupt(format!("event {seq}: {s:?}: {e}")))
    };
    let td = |s: &str| {
        TrustDomain::new(s).map_err(|e| DatastoreError::corrupt(format!("event {seq}: {s:?}: {e}")))
    };
    let kind = match name.as_str() {
        "entry_upserted" => ChangeKind::EntryUpserted { id: subject },
        "entry_deleted" => ChangeKind::EntryDeleted {
            parent_id: id(&parent)?,
            id: subject,
        },
        "agent_banned" => ChangeKind::AgentBanned {
            spiffe_id: id(&subject)?,
        },
        "agent_evicted" => ChangeKind::AgentEvicted {
            spiffe_id: id(&subject)?,
        },
        "bundle_changed" => ChangeKind::BundleChanged,
        "authority_tainted" => ChangeKind::AuthorityTainted { id: subject },
        "federated_bundle_changed" => ChangeKind::FederatedBundleChanged {
            trust_domain: td(&subject)?,
        },
        "relationship_changed" => ChangeKind::RelationshipChanged {
            trust_domain: td(&subject)?,
        },
        // A newer server's kind: the reader reloads (see `ChangeKind::Unknown`), so that a
        // server not yet upgraded keeps following the log instead of stopping at this event.
        other => ChangeKind::Unknown {
            kind: other.to_owned(),
        },
    };
    Ok(ChangeEvent {
        seq,
        kind,
        at: row.get("at")?,
    })
}

impl Datastore {
    /// Events with `seq > after`, oldest first, at most `limit` (0 = all).
    ///
    /// [`DatastoreError::BehindChangeLog`] when events after `after` were pruned
    /// ([`Datastore::prune_events`]): the reader must reload the full state, then follow the
    /// log from [`Datastore::latest_seq`] read before that reload. Otherwise the events returned
    /// are exactly `after + 1, after + 2, ...`: `seq` has no gaps, and pruning removes only a
    /// prefix of the log.
    pub async fn events_after(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<ChangeEvent>, DatastoreError> {
        let limit = if limit == 0 {
            i64::MAX
        } else {
            i64::from(limit)
        };
        // One snapshot for both statements (REPEATABLE READ on PostgreSQL, a read transaction on
        // SQLite): a prune committing in between cannot make an empty answer look current.
        let mut tx = Tx::read(self).await?;
        let rows = tx
            .fetch_all(
                stmt(
                    "SELECT seq, kind, subject, parent, at FROM events \
                     WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .bind(after)
                .bind(limit),
            )
            .await?;
        let events = rows.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
        let contiguous = events.first().is_some_and(|e| e.seq == after + 1);
        if !contiguous {
            // Nothing new, or a hole: the low-water mark tells which.
            let pruned_through = pruned_through(&mut tx).await?;
            if pruned_through > after || !events.is_empty() {
                return Err(DatastoreError::BehindChangeLog {
                    after,
                    pruned_through,
                });
            }
        }
        tx.commit().await?;
        Ok(events)
    }

    /// The `seq` of the last committed event (0 when nothing was ever logged). Pruning does not
    /// lower it.
    pub async fn latest_seq(&self) -> Result<i64, DatastoreError> {
        let mut tx = Tx::read(self).await?;
        let row = tx
            .fetch_optional(stmt("SELECT value FROM event_counter WHERE id = 1"))
            .await?
            .ok_or_else(|| DatastoreError::corrupt("event_counter row is missing"))?;
        tx.commit().await?;
        row.get("value")
    }

    /// The last pruned `seq` (0 when nothing was ever pruned): readers behind it reload.
    pub async fn pruned_through(&self) -> Result<i64, DatastoreError> {
        let mut tx = Tx::read(self).await?;
        let n = pruned_through(&mut tx).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Deletes the events committed before `before` (Unix seconds) as a prefix of the log: every
    /// event up to the newest one older than `before`, whatever the clocks of the servers that
    /// wrote the ones in between. Raises the low-water mark in the same transaction, so a reader
    /// behind it is told to reload ([`DatastoreError::BehindChangeLog`]) instead of skipping
    /// what was pruned. Returns how many events went.
    ///
    /// Safe to run from several servers at once: the deletes of a range wait for each other,
    /// and the mark only rises.
    pub async fn prune_events(&self, before: i64) -> Result<u64, DatastoreError> {
        let mut tx = Tx::write(self).await?;
        let upto: Option<i64> = tx
            .fetch_optional(stmt("SELECT MAX(seq) AS upto FROM events WHERE at < $1").bind(before))
            .await?
            .map(|row| row.get("upto"))
            .transpose()?
            .flatten();
        let Some(upto) = upto else {
            return Ok(0);
        };
        let n = tx
            .execute(stmt("DELETE FROM events WHERE seq <= $1").bind(upto))
            .await?;
        // The counter row last, as `Tx::commit` takes it: event writers wait on it only for
        // this statement and the commit, and no lock is taken after it (no deadlock).
        tx.execute(
            stmt(
                "UPDATE event_counter SET pruned_through = $1 WHERE id = 1 AND pruned_through < $1",
            )
            .bind(upto),
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }
}

/// The low-water mark, read in `tx`.
async fn pruned_through(tx: &mut Tx<'_>) -> Result<i64, DatastoreError> {
    tx.fetch_optional(stmt(
        "SELECT pruned_through FROM event_counter WHERE id = 1",
    ))
    .await?
    .ok_or_else(|| DatastoreError::corrupt("event_counter row is missing"))?
    .get("pruned_through")
}

/// Moves the watch to `seq` if that is newer, waking receivers only then.
pub(crate) fn advance(tx: &watch::Sender<i64>, seq: i64) {
    tx.send_if_modified(|cur| {
        if seq > *cur {
            *cur = seq;
            true
        } else {
            false
        }
    });
}

/// Opens the `LISTEN` connection (one pooled connection, held for the datastore's lifetime).
pub(crate) async fn listen(pool: &PgPool) -> Result<PgListener, DatastoreError> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Wakes subscribers on every notification. The payload is not trusted: several schemas may
/// share the channel, so the counter is re-read from this datastore's own schema. A lost
/// connection (`Ok(None)`) may have dropped notifications, so it re-reads then too.
pub(crate) async fn listen_loop(
    mut listener: PgListener,
    pool: PgPool,
    seq: Arc<watch::Sender<i64>>,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match listener.try_recv().await {
            Ok(_) => {
                backoff = Duration::from_millis(100);
                let latest =
                    sqlx::query_scalar::<_, i64>("SELECT value FROM event_counter WHERE id = 1")
                        .fetch_one(&pool)
                        .await;
                match latest {
                    Ok(latest) => advance(&seq, latest),
                    Err(error) => tracing::warn!(%error, "cannot read the change-log counter"),
                }
            }
            Err(error) => {
                tracing::warn!(%error, retry_in = ?backoff, "datastore LISTEN connection failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
}
