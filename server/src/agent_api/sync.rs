//! `Sync`: the push stream of an agent's authorized entries and the bundle.
//!
//! The stream task subscribes to the [`crate::cache::EntryCache`] broadcast, then sends a
//! snapshot, then turns each cache event into the smallest message that keeps the agent's view
//! equal to its authorized set: upsert when an entry becomes (or stays) authorized, delete when
//! it stops being. A change to a node entry can change the agent's aliases, so it triggers a full
//! recomputation and diff, as does falling behind the broadcast.

use std::collections::{BTreeMap, BTreeSet};
use std::pin::Pin;
use std::sync::Arc;

use lanyard_datastore::{AttestedAgent, Entry};
use lanyard_id::SpiffeId;
use lanyard_proto::lanyard::agent::v1 as pb;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use super::{AgentApi, HEARTBEAT, unix};
use crate::cache::{CacheEvent, Tagged};
use crate::convert::{bundle_to_pb, entry_to_pb};

/// The server half of the Sync stream.
pub(crate) type SyncStream = Pin<Box<dyn Stream<Item = Result<pb::SyncMessage, Status>> + Send>>;

type Tx = mpsc::Sender<Result<pb::SyncMessage, Status>>;

struct View {
    agent: AttestedAgent,
    parents: BTreeSet<SpiffeId>,
    sent: BTreeMap<String, Arc<Entry>>,
    revision: u64,
}

pub(super) fn open(api: AgentApi, agent: AttestedAgent) -> SyncStream {
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(async move {
        let id = agent.spiffe_id.clone();
        tracing::info!(agent = %id, "sync stream opened");
        let reason = run(api, agent, tx).await;
        tracing::info!(agent = %id, reason, "sync stream closed");
    });
    Box::pin(ReceiverStream::new(rx))
}

fn msg(revision: u64, event: pb::sync_message::Event) -> Result<pb::SyncMessage, Status> {
    Ok(pb::SyncMessage {
        revision,
        event: Some(event),
    })
}

/// How long a new stream waits for the entry cache to reach the change log's head.
const CATCH_UP_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Read-your-writes: whatever the datastore acknowledged before the agent connected is in its
/// snapshot. Waits (bounded by [`CATCH_UP_WAIT`]) until the cache has applied the change log up
/// to its current head; events received meanwhile are in the snapshot taken next.
async fn catch_up_to_head(api: &AgentApi, events: &mut broadcast::Receiver<Arc<Tagged>>) {
    let head = match api.state.datastore().latest_seq().await {
        Ok(head) => head,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the change log head; snapshot may lag behind");
            return;
        }
    };
    let deadline = tokio::time::Instant::now() + CATCH_UP_WAIT;
    while api.cache.seq() < head {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            tracing::warn!(
                head,
                cache = api.cache.seq(),
                "entry cache behind the change log; the snapshot lags, later events follow"
            );
            return;
        }
        // Woken by each applied event; the short bound covers events the cache applies
        // without publishing.
        let _ = tokio::time::timeout(
            left.min(std::time::Duration::from_millis(20)),
            events.recv(),
        )
        .await;
    }
}

async fn run(api: AgentApi, agent: AttestedAgent, tx: Tx) -> &'static str {
    let cache = &api.cache;
    let mut events = cache.subscribe();
    catch_up_to_head(&api, &mut events).await;
    let parents = cache.authorized_parents(&agent.spiffe_id, &agent.selectors);
    let (sent, seq) = cache.authorized(&parents);
    let mut view = View {
        agent,
        parents,
        sent,
        revision: u64::try_from(seq).unwrap_or(0),
    };
    let snapshot = pb::Snapshot {
        entries: view.sent.values().map(|e| entry_to_pb(e)).collect(),
        bundles: vec![bundle_to_pb(&cache.bundle(), &|_| false)],
    };
    if tx
        .send(msg(
            view.revision,
            pb::sync_message::Event::Snapshot(snapshot),
        ))
        .await
        .is_err()
    {
        return "agent went away";
    }
    let mut heartbeat =
        tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
    loop {
        tokio::select! {
            () = tx.closed() => return "agent went away",
            ev = events.recv() => match ev {
                Ok(tagged) => {
                    if i64::try_from(view.revision).unwrap_or(i64::MAX) >= tagged.seq {
                        continue;
                    }
                    match handle(&api, &mut view, &tx, &tagged).await {
                        Ok(true) => {}
                        Ok(false) => return "agent went away",
                        Err(reason) => return reason,
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(agent = %view.agent.spiffe_id, missed = n, "sync stream fell behind; resynchronizing");
                    let seq = u64::try_from(cache.seq()).unwrap_or(0);
                    if !resync(&api, &mut view, &tx, seq).await {
                        return "agent went away";
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return "server shutting down",
            },
            _ = heartbeat.tick() => {
                let hb = pb::Heartbeat { server_time: unix(std::time::SystemTime::now()) };
                if tx.send(msg(view.revision, pb::sync_message::Event::Heartbeat(hb))).await.is_err() {
                    return "agent went away";
                }
            }
        }
    }
}

/// Applies one cache event. `Ok(false)`: the agent went away; `Err`: the stream must end.
async fn handle(
    api: &AgentApi,
    view: &mut View,
    tx: &Tx,
    tagged: &Tagged,
) -> Result<bool, &'static str> {
    use pb::sync_message::Event;
    let seq = u64::try_from(tagged.seq).unwrap_or(0);
    match &tagged.event {
        CacheEvent::Entry { old, new } => {
            let node_change = old
                .iter()
                .chain(new.iter())
                .any(|e| api.cache.is_node_entry(e));
            if node_change {
                return Ok(resync(api, view, tx, seq).await);
            }
            view.revision = seq;
            let id = old.as_ref().or(new.as_ref()).map(|e| e.id.clone());
            let Some(id) = id else { return Ok(true) };
            match new {
                Some(e) if view.parents.contains(&e.parent_id) => {
                    view.sent.insert(id, Arc::clone(e));
                    Ok(send(tx, seq, Event::EntryUpserted(entry_to_pb(e))).await)
                }
                _ if view.sent.remove(&id).is_some() => {
                    let del = pb::EntryDeleted { entry_id: id };
                    Ok(send(tx, seq, Event::EntryDeleted(del)).await)
                }
                _ => Ok(true),
            }
        }
        CacheEvent::Bundle(b) => {
            view.revision = seq;
            Ok(send(tx, seq, Event::BundleUpdated(bundle_to_pb(b, &|_| false))).await)
        }
        CacheEvent::Tainted(ski) => {
            let reissue = pb::Reissue {
                authority: Some(pb::reissue::Authority::X509SubjectKeyId(ski.clone())),
            };
            Ok(send(tx, view.revision, Event::Reissue(reissue)).await)
        }
        CacheEvent::TaintedJwtKey(kid) => {
            let reissue = pb::Reissue {
                authority: Some(pb::reissue::Authority::JwtKeyId(kid.clone())),
            };
            Ok(send(tx, view.revision, Event::Reissue(reissue)).await)
        }
        CacheEvent::AgentGone { spiffe_id, banned } if *spiffe_id == view.agent.spiffe_id => {
            let (reason, what) = if *banned {
                (pb::evicted::Reason::Banned, "banned")
            } else {
                (pb::evicted::Reason::Evicted, "evicted")
            };
            let ev = pb::Evicted {
                reason: reason as i32,
                message: format!("agent {spiffe_id} was {what} by an operator"),
            };
            let _ = send(tx, view.revision, Event::Evicted(ev)).await;
            let _ = tx
                .send(Err(Status::permission_denied(format!(
                    "agent {spiffe_id} was {what}"
                ))))
                .await;
            Err(if *banned {
                "agent banned"
            } else {
                "agent evicted"
            })
        }
        CacheEvent::AgentGone { .. } => Ok(true),
    }
}

async fn send(tx: &Tx, revision: u64, event: pb::sync_message::Event) -> bool {
    tx.send(msg(revision, event)).await.is_ok()
}

/// Recomputes the authorized set and sends the difference. Returns false if the agent left.
async fn resync(api: &AgentApi, view: &mut View, tx: &Tx, seq: u64) -> bool {
    use pb::sync_message::Event;
    view.parents = api
        .cache
        .authorized_parents(&view.agent.spiffe_id, &view.agent.selectors);
    let (now, at) = api.cache.authorized(&view.parents);
    let seq = seq.max(u64::try_from(at).unwrap_or(0));
    view.revision = seq;
    let gone: Vec<String> = view
        .sent
        .keys()
        .filter(|id| !now.contains_key(*id))
        .cloned()
        .collect();
    for id in gone {
        view.sent.remove(&id);
        if !send(
            tx,
            seq,
            Event::EntryDeleted(pb::EntryDeleted { entry_id: id }),
        )
        .await
        {
            return false;
        }
    }
    for (id, e) in now {
        let changed = view.sent.get(&id).is_none_or(|old| old != &e);
        if changed {
            if !send(tx, seq, Event::EntryUpserted(entry_to_pb(&e))).await {
                return false;
            }
            view.sent.insert(id, e);
        }
    }
    true
}
