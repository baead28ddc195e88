//! The pruner: what would otherwise grow forever is deleted on a schedule (`[prune]`).
//!
//! Each round deletes join tokens that have expired, registration entries whose `expires_at`
//! has passed (one audit line each; their deletion goes through the change log, so every
//! server's cache and every agent drops them), and change-log events older than
//! `event_retention`. Every server of a shared PostgreSQL datastore runs it: each row is deleted
//! by one of them, and the log is pruned as a prefix with a low-water mark, so a server or
//! stream left behind reloads from a snapshot instead of skipping (see
//! `lanyard_datastore::Datastore::prune_events` and [`crate::cache`]).

use std::time::{Duration, SystemTime};

use lanyard_datastore::{Datastore, DatastoreError};
use tokio::time::MissedTickBehavior;

use crate::admin::audit;
use crate::config::PruneConfig;

/// What one round deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    /// Expired join tokens.
    pub join_tokens: u64,
    /// Expired registration entries.
    pub entries: u64,
    /// Change-log events older than the retention window.
    pub events: u64,
}

fn unix(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// One round at `now`, keeping events for `event_retention`.
pub async fn prune_once(
    ds: &Datastore,
    now: SystemTime,
    event_retention: Duration,
) -> Result<Pruned, DatastoreError> {
    let at = unix(now);
    let join_tokens = ds.prune_join_tokens(at).await?;
    let gone = ds.prune_expired_entries(at).await?;
    for e in &gone {
        audit!(
            "lanyard-server pruner",
            "entry.expire",
            entry_id = %e.id,
            spiffe_id = %e.spiffe_id,
            parent_id = %e.parent_id,
            expires_at = e.expires_at.unwrap_or_default(),
            "expired registration entry deleted"
        );
    }
    // After the entries: the events their deletions just logged are inside the window and stay.
    let before = unix(
        now.checked_sub(event_retention)
            .unwrap_or(SystemTime::UNIX_EPOCH),
    );
    let events = ds.prune_events(before).await?;
    Ok(Pruned {
        join_tokens,
        entries: gone.len() as u64,
        events,
    })
}

/// Prunes at start and then every `config.interval` until `shutdown` resolves. A failed round
/// is logged and retried at the next interval.
pub async fn run(
    ds: Datastore,
    config: PruneConfig,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut every = tokio::time::interval(config.interval);
    every.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            _ = every.tick() => {}
        }
        match prune_once(&ds, SystemTime::now(), config.event_retention).await {
            Ok(p) if p == Pruned::default() => {
                tracing::debug!("nothing to prune");
            }
            Ok(p) => tracing::info!(
                join_tokens = p.join_tokens,
                entries = p.entries,
                events = p.events,
                "pruned expired join tokens and entries and old change-log events"
            ),
            Err(e) => tracing::warn!(
                error = %e,
                retry_in = %humantime::format_duration(config.interval),
                "pruning failed; retrying at the next interval"
            ),
        }
    }
}
