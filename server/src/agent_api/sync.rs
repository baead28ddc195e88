//! `Sync`: the push stream of an agent's authorized entries and the bundle.
//!
//! The stream subscribes to the [`crate::cache::EntryCache`] broadcast, then sends a snapshot,
//! then turns each cache event into the smallest message that keeps the agent's view equal to
//! its authorized set: upsert when an entry becomes (or stays) authorized, delete when it stops
//! being. A change to a node entry can change the agent's aliases, so it triggers a full
//! recomputation and diff, as does falling behind the broadcast.
//!
//! Memory per connected agent is what bounds how many agents a server holds, so the stream is a
//! state machine polled by the connection's response body: no task and no channel of its own.
//! It turns the next cache event into messages only once the previous ones have been taken, so
//! a slow agent is held back by HTTP/2 flow control (and, past the broadcast buffer, by a
//! resync) instead of making the server buffer for it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use lanyard_datastore::{AttestedAgent, Entry, Selector};
use lanyard_id::SpiffeId;
use lanyard_proto::lanyard::agent::v1 as pb;
use pb::sync_message::Event;
use tokio::sync::broadcast;
use tokio::time::{Interval, MissedTickBehavior};
use tokio_stream::Stream;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tonic::Status;

use super::{AgentApi, HEARTBEAT, unix};
use crate::cache::{CacheEvent, EntryCache, Tagged};
use crate::convert::{bundle_to_pb, entry_to_pb};

/// The server half of the Sync stream.
pub(crate) type SyncStream = Pin<Box<dyn Stream<Item = Result<pb::SyncMessage, Status>> + Send>>;

/// What the agent has been sent, and what decides what it may have.
struct View {
    agent: SpiffeId,
    /// The agent's node selectors: with the node entries, they give its aliases.
    selectors: Vec<Selector>,
    parents: BTreeSet<SpiffeId>,
    sent: BTreeMap<String, Arc<Entry>>,
    revision: u64,
}

pub(super) fn open(api: AgentApi, agent: AttestedAgent) -> SyncStream {
    Box::pin(PushStream::new(api, agent, HEARTBEAT))
}

/// Logs the end of a stream when it is dropped: ended by the server, or by the agent (or its
/// connection) going away, which the stream itself never sees.
struct CloseLog {
    agent: SpiffeId,
    reason: Option<&'static str>,
}

impl Drop for CloseLog {
    fn drop(&mut self) {
        let reason = self.reason.unwrap_or("agent went away");
        tracing::info!(agent = %self.agent, reason, "sync stream closed");
    }
}

/// One agent's Sync stream.
struct PushStream {
    phase: Phase,
    /// Messages computed but not yet taken by the connection: the snapshot, or the messages of
    /// one cache event (several after a resync).
    out: VecDeque<pb::SyncMessage>,
    /// Holds the close reason; logs when the stream is dropped.
    log: CloseLog,
}

impl PushStream {
    /// A stream that sends a heartbeat every `heartbeat` while idle.
    fn new(api: AgentApi, agent: AttestedAgent, heartbeat: Duration) -> Self {
        tracing::info!(agent = %agent.spiffe_id, "sync stream opened");
        let log = CloseLog {
            agent: agent.spiffe_id.clone(),
            reason: None,
        };
        Self {
            phase: Phase::Opening(Box::pin(start(api, agent, heartbeat))),
            out: VecDeque::new(),
            log,
        }
    }
}

/// `out` keeps its buffer between events up to this many messages; a resync's larger burst is
/// given back once sent.
const KEEP_QUEUED: usize = 4;

type Opening = Pin<Box<dyn Future<Output = (Live, pb::SyncMessage)> + Send>>;

enum Phase {
    /// Subscribing, waiting for the cache to catch up, taking the snapshot. Runs once; the
    /// future is freed when it is done.
    Opening(Opening),
    /// Following the cache.
    Live(Live),
    /// Over: once `out` is drained, the error (if any) ends the stream.
    Closed(Option<Box<Status>>),
}

/// The steady state of an open stream.
struct Live {
    cache: EntryCache,
    view: View,
    events: BroadcastStream<Arc<Tagged>>,
    heartbeat: Interval,
}

/// Why a stream ends, and the status it ends with (none: it ends cleanly).
struct End {
    reason: &'static str,
    status: Option<Status>,
}

fn msg(revision: u64, event: Event) -> pb::SyncMessage {
    pb::SyncMessage {
        revision,
        event: Some(event),
    }
}

/// How long a new stream waits for the entry cache to reach the change log's head.
const CATCH_UP_WAIT: Duration = Duration::from_secs(5);

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
        let woken = tokio::time::timeout(left.min(Duration::from_millis(20)), events.recv()).await;
        if let Ok(Err(broadcast::error::RecvError::Closed)) = woken {
            // The server is stopping; the stream ends as soon as it is live.
            return;
        }
    }
}

/// Subscribes (before the snapshot, so no change is missed), catches up, and takes the
/// snapshot: the live stream and its first message.
async fn start(api: AgentApi, agent: AttestedAgent, period: Duration) -> (Live, pb::SyncMessage) {
    let mut events = api.cache.subscribe();
    catch_up_to_head(&api, &mut events).await;
    let cache = api.cache;
    let parents = cache.authorized_parents(&agent.spiffe_id, &agent.selectors);
    let (sent, seq) = cache.authorized(&parents);
    let view = View {
        agent: agent.spiffe_id,
        selectors: agent.selectors,
        parents,
        sent,
        revision: u64::try_from(seq).unwrap_or(0),
    };
    let snapshot = pb::Snapshot {
        entries: view.sent.values().map(|e| entry_to_pb(e)).collect(),
        bundles: vec![bundle_to_pb(&cache.bundle(), &|_| false)],
    };
    let snapshot = msg(view.revision, Event::Snapshot(snapshot));
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    // The stream is polled only while the agent takes messages: after a stall, one heartbeat,
    // not a burst of the missed ones.
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let live = Live {
        cache,
        view,
        events: BroadcastStream::new(events),
        heartbeat,
    };
    (live, snapshot)
}

impl Stream for PushStream {
    type Item = Result<pb::SyncMessage, Status>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(m) = this.out.pop_front() {
                if this.out.is_empty() && this.out.capacity() > KEEP_QUEUED {
                    this.out = VecDeque::new();
                }
                return Poll::Ready(Some(Ok(m)));
            }
            match &mut this.phase {
                Phase::Opening(opening) => {
                    let (live, snapshot) = ready!(opening.as_mut().poll(cx));
                    this.out.push_back(snapshot);
                    this.phase = Phase::Live(live);
                }
                Phase::Live(live) => {
                    if let Err(end) = ready!(live.poll_step(cx, &mut this.out)) {
                        this.log.reason = Some(end.reason);
                        this.phase = Phase::Closed(end.status.map(Box::new));
                    }
                }
                Phase::Closed(status) => return Poll::Ready(status.take().map(|s| Err(*s))),
            }
        }
    }
}

impl Live {
    /// Waits for the next cache event or heartbeat and queues the messages it makes (maybe
    /// none). `Err`: the stream must end, after what is queued.
    fn poll_step(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut VecDeque<pb::SyncMessage>,
    ) -> Poll<Result<(), End>> {
        match Pin::new(&mut self.events).poll_next(cx) {
            Poll::Ready(Some(Ok(tagged))) => {
                if i64::try_from(self.view.revision).unwrap_or(i64::MAX) >= tagged.seq {
                    return Poll::Ready(Ok(()));
                }
                return Poll::Ready(self.handle(&tagged, out));
            }
            Poll::Ready(Some(Err(BroadcastStreamRecvError::Lagged(n)))) => {
                tracing::warn!(agent = %self.view.agent, missed = n, "sync stream fell behind; resynchronizing");
                let seq = u64::try_from(self.cache.seq()).unwrap_or(0);
                self.resync(seq, out);
                return Poll::Ready(Ok(()));
            }
            Poll::Ready(None) => {
                // The cache closed its broadcast: the server is stopping. `Unavailable` is what
                // the agent retries (with backoff, to whichever server answers the address).
                return Poll::Ready(Err(End {
                    reason: "server shutting down",
                    status: Some(Status::unavailable(lanyard_proto::SYNC_SERVER_STOPPING)),
                }));
            }
            Poll::Pending => {}
        }
        ready!(self.heartbeat.poll_tick(cx));
        let hb = pb::Heartbeat {
            server_time: unix(std::time::SystemTime::now()),
        };
        out.push_back(msg(self.view.revision, Event::Heartbeat(hb)));
        Poll::Ready(Ok(()))
    }

    /// Applies one cache event. `Err`: the stream must end.
    fn handle(&mut self, tagged: &Tagged, out: &mut VecDeque<pb::SyncMessage>) -> Result<(), End> {
        let view = &mut self.view;
        let seq = u64::try_from(tagged.seq).unwrap_or(0);
        match &tagged.event {
            CacheEvent::Entry { old, new } => {
                let node_change = old
                    .iter()
                    .chain(new.iter())
                    .any(|e| self.cache.is_node_entry(e));
                if node_change {
                    self.resync(seq, out);
                    return Ok(());
                }
                view.revision = seq;
                let Some(id) = old.as_ref().or(new.as_ref()).map(|e| &e.id) else {
                    return Ok(());
                };
                match new {
                    // An expired entry is not sent (an update may set a passed expiry).
                    Some(e)
                        if view.parents.contains(&e.parent_id) && self.cache.is_in_effect(e) =>
                    {
                        view.sent.insert(id.clone(), Arc::clone(e));
                        out.push_back(msg(seq, Event::EntryUpserted(entry_to_pb(e))));
                    }
                    _ if view.sent.remove(id).is_some() => {
                        let del = pb::EntryDeleted {
                            entry_id: id.clone(),
                        };
                        out.push_back(msg(seq, Event::EntryDeleted(del)));
                    }
                    _ => {}
                }
            }
            CacheEvent::Bundle(b) => {
                view.revision = seq;
                out.push_back(msg(seq, Event::BundleUpdated(bundle_to_pb(b, &|_| false))));
            }
            CacheEvent::Tainted(ski) => {
                let reissue = pb::Reissue {
                    authority: Some(pb::reissue::Authority::X509SubjectKeyId(ski.clone())),
                };
                out.push_back(msg(view.revision, Event::Reissue(reissue)));
            }
            CacheEvent::TaintedJwtKey(kid) => {
                let reissue = pb::Reissue {
                    authority: Some(pb::reissue::Authority::JwtKeyId(kid.clone())),
                };
                out.push_back(msg(view.revision, Event::Reissue(reissue)));
            }
            CacheEvent::AgentGone { spiffe_id, banned } if *spiffe_id == view.agent => {
                let (reason, what) = if *banned {
                    (pb::evicted::Reason::Banned, "banned")
                } else {
                    (pb::evicted::Reason::Evicted, "evicted")
                };
                let ev = pb::Evicted {
                    reason: reason as i32,
                    message: format!("agent {spiffe_id} was {what} by an operator"),
                };
                out.push_back(msg(view.revision, Event::Evicted(ev)));
                return Err(End {
                    reason: if *banned {
                        "agent banned"
                    } else {
                        "agent evicted"
                    },
                    status: Some(Status::permission_denied(format!(
                        "agent {spiffe_id} was {what}"
                    ))),
                });
            }
            CacheEvent::AgentGone { .. } => {}
            CacheEvent::Reloaded => {
                // Anything may have changed without an event: the full difference, and the
                // bundle.
                self.resync(seq, out);
                let bundle = bundle_to_pb(&self.cache.bundle(), &|_| false);
                out.push_back(msg(self.view.revision, Event::BundleUpdated(bundle)));
            }
        }
        Ok(())
    }

    /// Recomputes the authorized set and queues the difference.
    fn resync(&mut self, seq: u64, out: &mut VecDeque<pb::SyncMessage>) {
        let view = &mut self.view;
        view.parents = self.cache.authorized_parents(&view.agent, &view.selectors);
        let (now, at) = self.cache.authorized(&view.parents);
        let seq = seq.max(u64::try_from(at).unwrap_or(0));
        view.revision = seq;
        view.sent.retain(|id, _| {
            let keep = now.contains_key(id);
            if !keep {
                let del = pb::EntryDeleted {
                    entry_id: id.clone(),
                };
                out.push_back(msg(seq, Event::EntryDeleted(del)));
            }
            keep
        });
        for (id, e) in now {
            let changed = view.sent.get(&id).is_none_or(|old| old != &e);
            if changed {
                out.push_back(msg(seq, Event::EntryUpserted(entry_to_pb(&e))));
                view.sent.insert(id, e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio_stream::StreamExt;
    use tonic::Code;

    use super::*;

    fn id(s: &str) -> SpiffeId {
        SpiffeId::parse(s).unwrap()
    }

    fn node_selectors() -> Vec<Selector> {
        vec![Selector::new("k8s_psat", "cluster:c1").unwrap()]
    }

    fn agent(spiffe_id: &str) -> AttestedAgent {
        AttestedAgent {
            spiffe_id: id(spiffe_id),
            attestation_type: "join_token".to_owned(),
            serial: "01".to_owned(),
            previous_serial: String::new(),
            expires_at: i64::MAX,
            banned: false,
            selectors: node_selectors(),
            created_at: 0,
            last_seen_at: 0,
            can_reattest: false,
        }
    }

    fn entry(spiffe_id: &str, parent: &str) -> Entry {
        Entry::new(
            id(spiffe_id),
            id(parent),
            vec![Selector::new("unix", "uid:1000").unwrap()],
        )
    }

    async fn next<S>(s: &mut S) -> Option<Result<pb::SyncMessage, Status>>
    where
        S: Stream<Item = Result<pb::SyncMessage, Status>> + Unpin,
    {
        tokio::time::timeout(Duration::from_secs(10), s.next())
            .await
            .expect("the sync stream stalled")
    }

    /// The next message, heartbeats included.
    async fn any_event<S>(s: &mut S) -> Event
    where
        S: Stream<Item = Result<pb::SyncMessage, Status>> + Unpin,
    {
        match next(s).await {
            Some(Ok(m)) => m.event.unwrap(),
            other => panic!("expected a message, got {other:?}"),
        }
    }

    /// The next message but heartbeats (a slow test run may see one anywhere).
    async fn event<S>(s: &mut S) -> Event
    where
        S: Stream<Item = Result<pb::SyncMessage, Status>> + Unpin,
    {
        loop {
            match any_event(s).await {
                Event::Heartbeat(_) => {}
                other => return other,
            }
        }
    }

    /// Snapshot, pushed changes (own entries only, aliases through a node entry), heartbeat,
    /// then eviction: `Evicted`, PermissionDenied, end of stream.
    #[tokio::test]
    async fn pushes_changes_heartbeats_and_ends_on_eviction() {
        let dir = tempfile::tempdir().unwrap();
        let (ds, td, state) = super::super::test_server(dir.path()).await;
        let me = "spiffe://example.org/agent/a";
        let a = ds.upsert_agent(agent(me)).await.unwrap();
        let first = ds
            .create_entry(entry("spiffe://example.org/first", me))
            .await
            .unwrap();
        let cache = EntryCache::load(ds.clone(), td, state.server_id().clone())
            .await
            .unwrap();
        let api = AgentApi::new(state.clone(), cache.clone(), vec![]);
        let beat = Duration::from_millis(300);
        let mut s = PushStream::new(api, a, beat);

        let Event::Snapshot(snap) = event(&mut s).await else {
            panic!("no snapshot first");
        };
        assert_eq!(snap.entries.len(), 1, "{snap:?}");
        assert_eq!(snap.entries[0].id, first.id);
        assert_eq!(snap.bundles.len(), 1);

        // Another agent's entry is not pushed; the next message is our own.
        ds.create_entry(entry(
            "spiffe://example.org/theirs",
            "spiffe://example.org/agent/b",
        ))
        .await
        .unwrap();
        let mine = ds
            .create_entry(entry("spiffe://example.org/mine", me))
            .await
            .unwrap();
        cache.catch_up().await.unwrap();
        match event(&mut s).await {
            Event::EntryUpserted(e) => assert_eq!(e.id, mine.id),
            other => panic!("{other:?}"),
        }
        ds.delete_entry(&mine.id).await.unwrap();
        cache.catch_up().await.unwrap();
        match event(&mut s).await {
            Event::EntryDeleted(d) => assert_eq!(d.entry_id, mine.id),
            other => panic!("{other:?}"),
        }

        // A node entry matching the agent's selectors makes it an alias: resync sends the
        // entries parented by the alias.
        let alias = "spiffe://example.org/node/c1";
        let aliased = ds
            .create_entry(entry("spiffe://example.org/aliased", alias))
            .await
            .unwrap();
        let mut node = entry(alias, state.server_id().as_str());
        node.selectors = node_selectors();
        ds.create_entry(node).await.unwrap();
        cache.catch_up().await.unwrap();
        match event(&mut s).await {
            Event::EntryUpserted(e) => assert_eq!(e.id, aliased.id),
            other => panic!("{other:?}"),
        }

        // Idle: a heartbeat, and not a burst of the ones missed while nobody polled.
        tokio::time::sleep(beat * 4).await;
        assert!(
            matches!(any_event(&mut s).await, Event::Heartbeat(_)),
            "expected a heartbeat"
        );
        let t = tokio::time::Instant::now();
        assert!(matches!(any_event(&mut s).await, Event::Heartbeat(_)));
        assert!(t.elapsed() >= beat / 2, "heartbeats in a burst");

        ds.delete_agent(&id(me)).await.unwrap();
        cache.catch_up().await.unwrap();
        match event(&mut s).await {
            Event::Evicted(e) => assert_eq!(e.reason, pb::evicted::Reason::Evicted as i32),
            other => panic!("{other:?}"),
        }
        match next(&mut s).await {
            Some(Err(status)) => assert_eq!(status.code(), Code::PermissionDenied),
            other => panic!("expected PermissionDenied, got {other:?}"),
        }
        assert!(next(&mut s).await.is_none(), "the stream did not end");
    }

    /// Nothing is computed ahead of the agent: while a message waits to be taken, further cache
    /// events stay in the broadcast.
    #[tokio::test]
    async fn computes_nothing_ahead_of_the_agent() {
        let dir = tempfile::tempdir().unwrap();
        let (ds, td, state) = super::super::test_server(dir.path()).await;
        let me = "spiffe://example.org/agent/a";
        let a = ds.upsert_agent(agent(me)).await.unwrap();
        let cache = EntryCache::load(ds.clone(), td, state.server_id().clone())
            .await
            .unwrap();
        let api = AgentApi::new(state, cache.clone(), vec![]);
        let mut s = PushStream::new(api, a, HEARTBEAT);
        assert!(matches!(event(&mut s).await, Event::Snapshot(_)));
        let mut ids = Vec::new();
        for n in 0..3 {
            let e = ds
                .create_entry(entry(&format!("spiffe://example.org/w{n}"), me))
                .await
                .unwrap();
            ids.push(e.id);
        }
        cache.catch_up().await.unwrap();
        for want in &ids {
            match event(&mut s).await {
                Event::EntryUpserted(e) => assert_eq!(&e.id, want),
                other => panic!("{other:?}"),
            }
            assert!(s.out.is_empty(), "computed ahead: {:?}", s.out);
        }
        drop(s);
    }
}
