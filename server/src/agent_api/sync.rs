//! `Sync`: the push stream of an agent's authorized entries and the bundle.
//!
//! The stream subscribes to the [`crate::cache::EntryCache`] broadcast, then sends a snapshot,
//! then turns each cache event into the smallest message that keeps the agent's view equal to
//! its authorized set: upsert when an entry becomes (or stays) authorized, delete when it stops
//! being. A change to a node entry can change the agent's aliases, so it triggers a full
//! recomputation and diff, as does falling behind the broadcast.
//!
//! Foreign trust domains' bundles (federation) go to exactly the agents holding an entry that
//! federates with them: the stream counts, over the entries it has sent, how many name each
//! foreign domain, sends a domain's bundle before the first entry that needs it and deletes it
//! after the last such entry is gone, and passes on a change to a bundle only to the agents
//! that need it. What the agent holds is compared with the cache's current bundle, never with
//! an event's, so a late or repeated event cannot send an older bundle. The caller's own checks
//! (`Caller::check_bundle`) use the own trust domain's bundle only.
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
use lanyard_id::{SpiffeId, TrustDomain};
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
use crate::convert::{bundle_to_pb, entry_to_pb, federated_bundle_to_pb};

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
    /// The foreign trust domains the `sent` entries federate with, each with how many of them
    /// name it.
    fed_refs: BTreeMap<TrustDomain, u32>,
    /// The foreign bundles the agent holds: the cache's, as they were when sent (compared by
    /// pointer: the cache decodes a new `Arc` for every change). Only domains in `fed_refs`.
    bundles_sent: BTreeMap<TrustDomain, Arc<Bundle>>,
}

impl View {
    /// Counts `e`'s foreign trust domains in; those no sent entry named before.
    fn refs_add(&mut self, e: &Entry) -> Vec<TrustDomain> {
        let mut first = Vec::new();
        for td in &e.federates_with {
            let n = self.fed_refs.entry(td.clone()).or_insert(0);
            *n += 1;
            if *n == 1 {
                first.push(td.clone());
            }
        }
        first
    }

    /// Counts `e`'s foreign trust domains out; those no sent entry names any more.
    fn refs_remove(&mut self, e: &Entry) -> Vec<TrustDomain> {
        let mut last = Vec::new();
        for td in &e.federates_with {
            if let Some(n) = self.fed_refs.get_mut(td) {
                *n -= 1;
                if *n == 0 {
                    self.fed_refs.remove(td);
                    last.push(td.clone());
                }
            }
        }
        last
    }

    /// Brings the agent's copy of `td`'s bundle in line with the cache: sent (again, if
    /// `resend`) while a sent entry needs it and the cache has it, deleted otherwise.
    fn follow_bundle(
        &mut self,
        cache: &EntryCache,
        td: &TrustDomain,
        resend: bool,
        out: &mut VecDeque<pb::SyncMessage>,
    ) {
        let current = if self.fed_refs.contains_key(td) {
            cache.federated_bundle(td)
        } else {
            None
        };
        match (current, self.bundles_sent.get(td)) {
            (Some(b), Some(sent)) if !resend && Arc::ptr_eq(&b, sent) => {}
            (Some(b), _) => {
                let update = federated_bundle_to_pb(&b);
                out.push_back(msg(self.revision, Event::BundleUpdated(update)));
                self.bundles_sent.insert(td.clone(), b);
            }
            (None, Some(_)) => {
                self.bundles_sent.remove(td);
                let del = pb::BundleDeleted {
                    trust_domain: td.name().to_owned(),
                };
                out.push_back(msg(self.revision, Event::BundleDeleted(del)));
            }
            (None, None) => {}
        }
    }
}

/// How many of `entries` federate with each foreign trust domain.
fn count_refs<'a>(entries: impl Iterator<Item = &'a Arc<Entry>>) -> BTreeMap<TrustDomain, u32> {
    let mut refs = BTreeMap::new();
    for e in entries {
        for td in &e.federates_with {
            *refs.entry(td.clone()).or_insert(0) += 1;
        }
    }
    refs
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

/// Most bytes of entries and foreign bundles in one snapshot part (`Snapshot.more`): well under
/// gRPC's default 4 MiB message limit, whatever the agent's node holds.
const SNAPSHOT_PART_BYTES: usize = 1 << 20;

/// The snapshot at `revision` in parts of at most [`SNAPSHOT_PART_BYTES`] of foreign bundles
/// and entries (one part at least): the own `bundle` first in the first part, then the foreign
/// bundles the entries need, then the entries.
fn snapshot_parts(
    revision: u64,
    entries: impl Iterator<Item = lanyard_proto::lanyard::types::v1::Entry>,
    bundle: lanyard_proto::lanyard::types::v1::Bundle,
    federated: impl Iterator<Item = lanyard_proto::lanyard::types::v1::Bundle>,
) -> Vec<pb::SyncMessage> {
    let mut parts = vec![pb::Snapshot {
        bundles: vec![bundle],
        ..pb::Snapshot::default()
    }];
    let mut size = 0;
    // Items in the last part, the own bundle aside: a part holds one at least, however large.
    let mut items = 0;
    let mut room_for = |len: usize, parts: &mut Vec<pb::Snapshot>| {
        // The item, its field tag and its length prefix.
        let len = len + 1 + prost::encoding::encoded_len_varint(len as u64);
        if let Some(part) = parts.last_mut()
            && size + len > SNAPSHOT_PART_BYTES
            && items > 0
        {
            part.more = true;
            parts.push(pb::Snapshot::default());
            size = 0;
            items = 0;
        }
        size += len;
        items += 1;
    };
    for b in federated {
        room_for(prost::Message::encoded_len(&b), &mut parts);
        if let Some(part) = parts.last_mut() {
            part.bundles.push(b);
        }
    }
    for e in entries {
        room_for(prost::Message::encoded_len(&e), &mut parts);
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
    let fed_refs = count_refs(sent.values());
    // Read after the entries: at least as new as their revision, so the events up to it, which
    // the stream skips, are in.
    let bundles_sent: BTreeMap<TrustDomain, Arc<Bundle>> = fed_refs
        .keys()
        .filter_map(|td| Some((td.clone(), cache.federated_bundle(td)?)))
        .collect();
    let view = View {
        agent: agent.spiffe_id,
        selectors: agent.selectors,
        parents,
        sent,
        revision: u64::try_from(seq).unwrap_or(0),
        fed_refs,
        bundles_sent,
    };
    let snapshot = snapshot_parts(
        view.revision,
        view.sent.values().map(|e| entry_to_pb(e)),
        bundle_to_pb(&cache.bundle(), &cache.taint()),
        view.bundles_sent
            .values()
            .map(|b| federated_bundle_to_pb(b)),
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
                // The snapshot or resync at `revision` read the entries and foreign bundles as
                // they were then: their events up to it are in. The own bundle, taints and
                // evictions are not read by a resync, so their events always apply (a late one
                // re-sends the current bundle or ends a stream that must end).
                let reflected = matches!(
                    tagged.event,
                    CacheEvent::Entry { .. }
                        | CacheEvent::FederatedBundle { .. }
                        | CacheEvent::Relationship { .. }
                );
                if reflected && i64::try_from(self.view.revision).unwrap_or(i64::MAX) >= tagged.seq
                {
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
                    self.resync(seq, false, out);
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
                        // The bundles it is the first to need, before it.
                        for td in view.refs_add(e) {
                            view.follow_bundle(&self.cache, &td, false, out);
                        }
                        let replaced = view.sent.insert(id.clone(), Arc::clone(e));
                        out.push_back(msg(seq, Event::EntryUpserted(entry_to_pb(e))));
                        // The bundles only its old version needed, after it.
                        for td in replaced.map(|r| view.refs_remove(&r)).unwrap_or_default() {
                            view.follow_bundle(&self.cache, &td, false, out);
                        }
                    }
                    _ => {
                        if let Some(gone) = view.sent.remove(id) {
                            let del = pb::EntryDeleted {
                                entry_id: id.clone(),
                            };
                            out.push_back(msg(seq, Event::EntryDeleted(del)));
                            for td in view.refs_remove(&gone) {
                                view.follow_bundle(&self.cache, &td, false, out);
                            }
                        }
                    }
                }
            }
            CacheEvent::Bundle(_) => {
                // The cache's bundle, at least as new as the event's: a late event never sends
                // an older bundle than the snapshot or an earlier event did.
                let b = self.cache.bundle();
                self.caller.check_bundle(&view.agent, &b)?;
                view.revision = view.revision.max(seq);
                let taint = self.cache.taint();
                out.push_back(msg(
                    view.revision,
                    Event::BundleUpdated(bundle_to_pb(&b, &taint)),
                ));
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
            // Only to agents that need the domain (`follow_bundle` reads the cache's bundle,
            // which is at least as new as the event's).
            CacheEvent::FederatedBundle { trust_domain, .. } => {
                if view.fed_refs.contains_key(trust_domain) {
                    view.revision = seq;
                    view.follow_bundle(&self.cache, trust_domain, false, out);
                }
            }
            // For the refresher; agents see only the bundles a relationship brings.
            CacheEvent::Relationship { .. } => {}
            CacheEvent::Reloaded => self.resync_missed(seq, out),
        }
        Ok(())
    }

    /// After events were missed (the stream fell behind the broadcast, or the cache reloaded
    /// past a pruned change log): the full difference, every needed foreign bundle again; the
    /// bundle, whose taint flags stand in for any missed taint notice; and the agent's record
    /// read again, for a missed ban or eviction.
    fn resync_missed(&mut self, seq: u64, out: &mut VecDeque<pb::SyncMessage>) {
        self.resync(seq, true, out);
        let bundle = bundle_to_pb(&self.cache.bundle(), &self.cache.taint());
        out.push_back(msg(self.view.revision, Event::BundleUpdated(bundle)));
        self.caller.recheck(&self.view.agent);
    }

    /// Recomputes the authorized set and queues the difference: first the foreign bundles the
    /// new set needs (changed ones, or all of them if `resend_bundles`), then the entries, then
    /// the deletion of foreign bundles no entry needs any more.
    fn resync(&mut self, seq: u64, resend_bundles: bool, out: &mut VecDeque<pb::SyncMessage>) {
        let view = &mut self.view;
        view.parents = self.cache.authorized_parents(&view.agent, &view.selectors);
        let (now, at) = self.cache.authorized(&view.parents);
        let seq = seq.max(u64::try_from(at).unwrap_or(0));
        view.revision = seq;
        // Every needed bundle is compared with the cache's (read after `at`): the events up to
        // `at`, which the stream now skips, are in.
        view.fed_refs = count_refs(now.values());
        let needed: Vec<TrustDomain> = view.fed_refs.keys().cloned().collect();
        for td in &needed {
            view.follow_bundle(&self.cache, td, resend_bundles, out);
        }
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
        let unneeded: Vec<TrustDomain> = view
            .bundles_sent
            .keys()
            .filter(|td| !view.fed_refs.contains_key(*td))
            .cloned()
            .collect();
        for td in &unneeded {
            view.follow_bundle(&self.cache, td, false, out);
        }
    }
}

#[cfg(test)]
#[path = "sync_tests.rs"]
mod tests;
