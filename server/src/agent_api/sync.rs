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

use lanyard_datastore::{AttestedAgent, Datastore, DatastoreError, Entry, Selector};
use lanyard_id::SpiffeId;
use lanyard_observe::metrics::OpenGuard;
use lanyard_proto::lanyard::agent::v1 as pb;
use lanyard_x509::Bundle;
use pb::sync_message::Event;
use tokio::sync::broadcast;
use tokio::time::{Interval, MissedTickBehavior, Sleep};
use tokio_stream::Stream;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tonic::Status;

use super::{AgentApi, AuthorityKeys, CallerSvid, HEARTBEAT, unix};
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

pub(super) fn open(api: AgentApi, agent: AttestedAgent, svid: CallerSvid) -> SyncStream {
    Box::pin(PushStream::new(api, agent, svid, HEARTBEAT))
}

/// Logs the end of a stream when it is dropped: ended by the server, or by the agent (or its
/// connection) going away, which the stream itself never sees. Holds the stream's place in
/// `lanyard_server_sync_streams` until then.
struct CloseLog {
    agent: SpiffeId,
    reason: Option<&'static str>,
    _open: OpenGuard,
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
    /// A stream for the connection authenticated with `svid` that sends a heartbeat every
    /// `heartbeat` while idle.
    fn new(api: AgentApi, agent: AttestedAgent, svid: CallerSvid, heartbeat: Duration) -> Self {
        tracing::info!(agent = %agent.spiffe_id, "sync stream opened");
        let log = CloseLog {
            agent: agent.spiffe_id.clone(),
            reason: None,
            _open: OpenGuard::new(api.metrics.sync_streams()),
        };
        Self {
            phase: Phase::Opening(Box::pin(start(api, agent, svid, heartbeat))),
            out: VecDeque::new(),
            log,
        }
    }
}

/// `out` keeps its buffer between events up to this many messages; a resync's larger burst is
/// given back once sent.
const KEEP_QUEUED: usize = 4;

type Opening = Pin<Box<dyn Future<Output = (Live, Vec<pb::SyncMessage>)> + Send>>;

enum Phase {
    /// Subscribing, waiting for the cache to catch up, taking the snapshot. Runs once; the
    /// future is freed when it is done.
    Opening(Opening),
    /// Following the cache. Boxed: the variant the stream spends its life in is the large one.
    Live(Box<Live>),
    /// Over: once `out` is drained, the error (if any) ends the stream.
    Closed(Option<Box<Status>>),
}

/// The steady state of an open stream.
struct Live {
    cache: EntryCache,
    view: View,
    events: BroadcastStream<Arc<Tagged>>,
    heartbeat: Interval,
    caller: Caller,
}

/// Reading the agent's record again.
type Recheck = Pin<Box<dyn Future<Output = Result<Option<AttestedAgent>, DatastoreError>> + Send>>;

/// Who the stream is for, checked for as long as it is open (issue 14): the SVID its connection
/// was authenticated with must stay unexpired and signed by an authority in the bundle, and the
/// agent's record must stay attested, unbanned and on that SVID.
struct Caller {
    svid: CallerSvid,
    /// Fires at the SVID's expiry.
    expiry: Pin<Box<Sleep>>,
    keys: Arc<AuthorityKeys>,
    ds: Datastore,
    /// The agent's record being read again: after the stream fell behind the broadcast, the
    /// ban or eviction events it missed are found here.
    recheck: Option<Recheck>,
}

impl Caller {
    /// `Err` once the stream must end for who its caller is now.
    fn poll_check(&mut self, agent: &SpiffeId, cx: &mut Context<'_>) -> Result<(), End> {
        if self.expiry.as_mut().poll(cx).is_ready() {
            return Err(End {
                reason: "agent SVID expired",
                status: Some(self.svid.expired(agent)),
            });
        }
        if let Some(recheck) = &mut self.recheck
            && let Poll::Ready(found) = recheck.as_mut().poll(cx)
        {
            self.recheck = None;
            let status = match found {
                Ok(Some(record)) => self.svid.check_record(&record).err(),
                Ok(None) => Some(Status::permission_denied(format!(
                    "agent {agent} is not attested (it was evicted): attest again"
                ))),
                Err(e) => {
                    // The stream goes on; the next resync reads again.
                    tracing::warn!(agent = %agent, error = %e, "cannot read the agent's record after a resync");
                    None
                }
            };
            if let Some(status) = status {
                return Err(End {
                    reason: "agent no longer served (found after a resync)",
                    status: Some(status),
                });
            }
        }
        Ok(())
    }

    /// Starts reading the agent's record again.
    fn recheck(&mut self, agent: &SpiffeId) {
        let (ds, agent) = (self.ds.clone(), agent.clone());
        self.recheck = Some(Box::pin(async move { ds.get_agent(&agent).await }));
    }

    /// `Err` when `bundle` no longer holds the authority of the caller's SVID.
    fn check_bundle(&self, agent: &SpiffeId, bundle: &Arc<Bundle>) -> Result<(), End> {
        self.svid
            .check_authority(agent, &self.keys.of(bundle))
            .map_err(|status| End {
                reason: "agent SVID's authority revoked",
                status: Some(status),
            })
    }
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
            // The server is stopping (`EntryCache::close` dropped the sender at SIGTERM): the
            // stream ends as soon as it is live. Without this, `recv` would return at once on
            // every turn and the loop would spin until CATCH_UP_WAIT.
            return;
        }
    }
}

/// Most bytes of entries in one snapshot part (`Snapshot.more`): well under gRPC's default
/// 4 MiB message limit, whatever the agent's node holds.
const SNAPSHOT_PART_BYTES: usize = 1 << 20;

/// The snapshot of `entries` at `revision` in parts of at most [`SNAPSHOT_PART_BYTES`] of
/// entries (one part at least; the bundle in the first).
fn snapshot_parts(
    revision: u64,
    entries: impl Iterator<Item = lanyard_proto::lanyard::types::v1::Entry>,
    bundle: lanyard_proto::lanyard::types::v1::Bundle,
) -> Vec<pb::SyncMessage> {
    let mut parts = vec![pb::Snapshot {
        bundles: vec![bundle],
        ..pb::Snapshot::default()
    }];
    let mut size = 0;
    for e in entries {
        // The entry, its field tag and its length prefix (at most 3 bytes below 2 MiB).
        let len = prost::Message::encoded_len(&e) + 4;
        if let Some(part) = parts.last_mut()
            && size + len > SNAPSHOT_PART_BYTES
            && !part.entries.is_empty()
        {
            part.more = true;
            parts.push(pb::Snapshot::default());
            size = 0;
        }
        size += len;
        if let Some(part) = parts.last_mut() {
            part.entries.push(e);
        }
    }
    parts
        .into_iter()
        .map(|p| msg(revision, Event::Snapshot(p)))
        .collect()
}

/// Subscribes (before the snapshot, so no change is missed), catches up, and takes the
/// snapshot: the live stream and its first messages (the snapshot's parts).
async fn start(
    api: AgentApi,
    agent: AttestedAgent,
    svid: CallerSvid,
    period: Duration,
) -> (Live, Vec<pb::SyncMessage>) {
    let mut events = api.cache.subscribe();
    catch_up_to_head(&api, &mut events).await;
    let left = svid
        .not_after
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    let caller = Caller {
        expiry: Box::pin(tokio::time::sleep(left)),
        svid,
        keys: Arc::clone(&api.authority_keys),
        ds: api.state.datastore().clone(),
        recheck: None,
    };
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
    let snapshot = snapshot_parts(
        view.revision,
        view.sent.values().map(|e| entry_to_pb(e)),
        bundle_to_pb(&cache.bundle(), &cache.taint()),
    );
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    // The stream is polled only while the agent takes messages: after a stall, one heartbeat,
    // not a burst of the missed ones.
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let live = Live {
        cache,
        view,
        events: BroadcastStream::new(events),
        heartbeat,
        caller,
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
                    this.out.extend(snapshot);
                    this.phase = Phase::Live(Box::new(live));
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
        if let Err(end) = self.caller.poll_check(&self.view.agent, cx) {
            return Poll::Ready(Err(end));
        }
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
                self.resync_missed(seq, out);
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
                self.caller.check_bundle(&view.agent, b)?;
                view.revision = seq;
                let taint = self.cache.taint();
                out.push_back(msg(seq, Event::BundleUpdated(bundle_to_pb(b, &taint))));
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
            // Federation: delivering foreign bundles to the agents that need them is not wired
            // up yet.
            CacheEvent::FederatedBundle { .. } | CacheEvent::Relationship { .. } => {}
            CacheEvent::Reloaded => self.resync_missed(seq, out),
        }
        Ok(())
    }

    /// After events were missed (the stream fell behind the broadcast, or the cache reloaded
    /// past a pruned change log): the full difference; the bundle, whose taint flags stand in
    /// for any missed taint notice; and the agent's record read again, for a missed ban or
    /// eviction.
    fn resync_missed(&mut self, seq: u64, out: &mut VecDeque<pb::SyncMessage>) {
        self.resync(seq, out);
        let bundle = bundle_to_pb(&self.cache.bundle(), &self.cache.taint());
        out.push_back(msg(self.view.revision, Event::BundleUpdated(bundle)));
        self.caller.recheck(&self.view.agent);
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
        super::super::test_agent(spiffe_id, "01", node_selectors())
    }

    /// Agent [`ME`] attested on a fresh server, and the API over its entry cache.
    struct Fixture {
        _dir: tempfile::TempDir,
        ds: lanyard_datastore::Datastore,
        cache: EntryCache,
        api: AgentApi,
        agent: AttestedAgent,
    }

    const ME: &str = "spiffe://example.org/agent/a";

    async fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let (ds, td, state) = super::super::test_server(dir.path()).await;
        let agent = ds.upsert_agent(agent(ME)).await.unwrap();
        let cache = EntryCache::load(ds.clone(), td, state.server_id().clone())
            .await
            .unwrap();
        let api = AgentApi::new(state, cache.clone(), vec![]);
        Fixture {
            _dir: dir,
            ds,
            cache,
            api,
            agent,
        }
    }

    /// Publishes more events than the broadcast holds (another agent's entries): a stream not
    /// polled meanwhile has fallen behind and missed whatever came before them.
    async fn fall_behind(ds: &lanyard_datastore::Datastore, cache: &EntryCache) {
        let theirs: Vec<Entry> = (0..crate::cache::BROADCAST_CAPACITY + 10)
            .map(|n| {
                entry(
                    &format!("spiffe://example.org/w{n}"),
                    "spiffe://example.org/agent/b",
                )
            })
            .collect();
        ds.create_entries(theirs).await.unwrap();
        cache.catch_up().await.unwrap();
    }

    /// Asserts the stream's next item is an error with `code`, then that it ends; the status.
    async fn ends_with<S>(s: &mut S, code: Code) -> Status
    where
        S: Stream<Item = Result<pb::SyncMessage, Status>> + Unpin,
    {
        let status = match next(s).await {
            Some(Err(status)) => status,
            other => panic!("expected {code:?}, got {other:?}"),
        };
        assert_eq!(status.code(), code, "{status:?}");
        assert!(next(s).await.is_none(), "the stream did not end");
        status
    }

    /// The SVID the agent's connection showed: serial 01 (as [`agent`] records), valid for an
    /// hour, signed by the current CA.
    fn svid(cache: &EntryCache) -> CallerSvid {
        let bundle = cache.bundle();
        let ca = lanyard_x509::CertInfo::from_der(bundle.x509_authorities[0].as_bytes()).unwrap();
        CallerSvid {
            serial: "01".to_owned(),
            not_after: std::time::SystemTime::now() + Duration::from_secs(3600),
            authority_key_id: ca.subject_key_id,
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
        let me = ME;
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
        let mut s = PushStream::new(api, a, svid(&cache), beat);

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
        ends_with(&mut s, Code::PermissionDenied).await;
    }

    /// Nothing is computed ahead of the agent: while a message waits to be taken, further cache
    /// events stay in the broadcast.
    #[tokio::test]
    async fn computes_nothing_ahead_of_the_agent() {
        let Fixture {
            _dir,
            ds,
            cache,
            api,
            agent: a,
        } = fixture().await;
        let mut s = PushStream::new(api, a, svid(&cache), HEARTBEAT);
        assert!(matches!(event(&mut s).await, Event::Snapshot(_)));
        let mut ids = Vec::new();
        for n in 0..3 {
            let e = ds
                .create_entry(entry(&format!("spiffe://example.org/w{n}"), ME))
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

    /// The connection's SVID expires while the stream is open: the stream ends with
    /// `Unauthenticated` (a raw client could otherwise keep it past its identity's lifetime).
    #[tokio::test]
    async fn ends_when_the_connections_svid_expires() {
        let Fixture {
            _dir,
            cache,
            api,
            agent: a,
            ..
        } = fixture().await;
        let mut short = svid(&cache);
        short.not_after = std::time::SystemTime::now() + Duration::from_millis(500);
        let mut s = PushStream::new(api, a, short, HEARTBEAT);
        assert!(matches!(event(&mut s).await, Event::Snapshot(_)));
        let status = ends_with(&mut s, Code::Unauthenticated).await;
        assert!(status.message().contains("has expired"), "{status:?}");
    }

    /// An agent banned while its stream had fallen behind the broadcast (the ban event was
    /// among those it missed) is found out at the resync.
    #[tokio::test]
    async fn a_ban_missed_while_behind_ends_the_stream_at_the_resync() {
        let Fixture {
            _dir,
            ds,
            cache,
            api,
            agent: a,
        } = fixture().await;
        let mut s = PushStream::new(api, a, svid(&cache), HEARTBEAT);
        assert!(matches!(event(&mut s).await, Event::Snapshot(_)));
        // Not polled meanwhile: the ban, then more events than the broadcast holds, so the ban
        // event is among those dropped.
        ds.ban_agent(&id(ME)).await.unwrap();
        fall_behind(&ds, &cache).await;
        let t = tokio::time::Instant::now();
        loop {
            match next(&mut s).await {
                Some(Ok(_)) => {}
                Some(Err(status)) => {
                    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
                    assert!(status.message().contains("banned"), "{status:?}");
                    break;
                }
                None => panic!("the stream ended without saying why"),
            }
        }
        assert!(
            t.elapsed() < Duration::from_secs(1),
            "took {:?}",
            t.elapsed()
        );
    }

    /// A taint whose notice the stream missed (it fell behind the broadcast) still reaches the
    /// agent: the resync ends with the bundle, which marks the authority tainted.
    #[tokio::test]
    async fn a_taint_missed_while_behind_arrives_as_bundle_state() {
        let Fixture {
            _dir,
            ds,
            cache,
            api,
            agent: a,
        } = fixture().await;
        let ca = api.state.ca().clone();
        let mut s = PushStream::new(api, a, svid(&cache), HEARTBEAT);
        let Event::Snapshot(snap) = event(&mut s).await else {
            panic!("no snapshot first");
        };
        assert!(snap.bundles[0].x509_authorities.iter().all(|x| !x.tainted));
        let old = ca.authorities().await.unwrap()[0].id.clone();
        ca.prepare(std::time::SystemTime::now()).await.unwrap();
        ca.activate().await.unwrap();
        ca.taint(&old).await.unwrap();
        fall_behind(&ds, &cache).await;
        loop {
            match event(&mut s).await {
                Event::Reissue(r) => panic!("the notice was not missed: {r:?}"),
                Event::BundleUpdated(b) if b.x509_authorities.iter().any(|x| x.tainted) => {
                    assert_eq!(b.x509_authorities.len(), 2);
                    break;
                }
                _ => {}
            }
        }
    }

    /// A big node's snapshot comes in parts under the message limit, the bundle in the first,
    /// `more` on all but the last, every entry exactly once.
    #[test]
    fn a_large_snapshot_is_split_into_parts_of_at_most_1_mib() {
        let entries: Vec<_> = (0..30_000)
            .map(|n| {
                entry_to_pb(&entry(
                    &format!("spiffe://example.org/workloads/w{n}"),
                    "spiffe://example.org/agent/a",
                ))
            })
            .collect();
        let bundle = lanyard_proto::lanyard::types::v1::Bundle {
            trust_domain: "example.org".to_owned(),
            ..Default::default()
        };
        let parts = snapshot_parts(7, entries.clone().into_iter(), bundle);
        assert!(parts.len() > 1, "{} parts", parts.len());
        let mut seen = Vec::new();
        for (i, m) in parts.iter().enumerate() {
            assert_eq!(m.revision, 7);
            let Some(Event::Snapshot(s)) = &m.event else {
                panic!("part {i} is not a snapshot");
            };
            assert_eq!(s.more, i + 1 < parts.len(), "part {i}");
            assert_eq!(s.bundles.len(), usize::from(i == 0), "part {i}");
            assert!(prost::Message::encoded_len(m) <= SNAPSHOT_PART_BYTES + 4096);
            seen.extend(s.entries.iter().cloned());
        }
        assert_eq!(seen, entries);
        // A small one is one part.
        let one = snapshot_parts(1, entries.into_iter().take(3), Default::default());
        assert_eq!(one.len(), 1);
    }
}
