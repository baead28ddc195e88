//! The workload side of sync: authorized entries, their keys and SVIDs, and when to rotate.
//!
//! One EC P-256 key per entry, generated here and never sent anywhere; the server signs a CSR
//! for it. An SVID is re-signed at half its lifetime ± 10 % jitter (so a fleet does not renew in
//! lockstep), at once when its signing authority is tainted, and when the entry's ID, DNS names
//! or TTL change. Selector and hint changes need no re-signing: snapshots take them from the
//! current entry.
//!
//! Bundles: the agent's own trust domain's bundle (with its taint) is kept apart from the
//! foreign ones its entries federate with. Only the own one feeds the agent's trust store for
//! the server connection and `bundle.der` ([`Workloads::take_own_bundle_update`]); foreign
//! bundles live in memory and reach workloads through the snapshot. A message about one trust
//! domain never replaces another's bundle.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use lanyard_id::{SpiffeId, TrustDomain};
use lanyard_proto::lanyard::agent::v1 as pb;
use lanyard_proto::lanyard::agent::v1::agent_service_client::AgentServiceClient;
use lanyard_proto::lanyard::types::v1 as types;
use lanyard_x509::{Bundle, BundleSet, CertDer, CertInfo, KeyPair, KeyType, build_csr};
use tonic::transport::Channel;

use super::NodeError;
use super::client::bundle_from_pb;
use crate::metrics::{NodeMetrics, SignReason};
use crate::store::{KeyDer, Selector, Snapshot, WorkloadSvid, key_der};

/// Most CSRs per signing call (the server's limit).
const BATCH: usize = 500;

/// What an entry's SVID was signed for; a change forces re-signing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SignedFor {
    spiffe_id: String,
    dns_names: Vec<String>,
    ttl: u32,
}

impl SignedFor {
    fn of(e: &types::Entry) -> Self {
        Self {
            spiffe_id: e.spiffe_id.clone(),
            dns_names: e.dns_names.clone(),
            ttl: e.x509_svid_ttl_seconds,
        }
    }
}

#[derive(Clone)]
struct Held {
    spiffe_id: SpiffeId,
    chain: Vec<CertDer>,
    /// Shared with the snapshots; zeroized when the last one lets go.
    key: KeyDer,
    not_after: SystemTime,
    rotate_at: SystemTime,
    authority_key_id: Option<Vec<u8>>,
    signed_for: SignedFor,
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Held")
            .field("spiffe_id", &self.spiffe_id)
            .field("not_after", &self.not_after)
            .field("rotate_at", &self.rotate_at)
            .finish_non_exhaustive()
    }
}

/// What a Sync message meant for the run loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// State changed: re-check signing and publish.
    Changed,
    /// Nothing to do (heartbeat).
    Nothing,
    /// The server tainted an authority; the agent's own SVID must be renewed if it matches.
    Tainted(Vec<u8>),
    /// The JWT key with this `kid` was tainted: cached JWT-SVIDs it signed must be minted again.
    JwtTainted(String),
    /// The agent was banned or evicted.
    Evicted {
        /// Banned rather than evicted.
        banned: bool,
        /// The server's message.
        message: String,
    },
}

/// Authorized entries and their SVIDs.
#[derive(Debug)]
pub struct Workloads {
    /// The agent's own trust domain: its bundle is [`Workloads::own`], any other is foreign.
    trust_domain: TrustDomain,
    entries: BTreeMap<String, types::Entry>,
    held: HashMap<String, Held>,
    /// The own trust domain's bundle from the server, once received.
    own: Option<Bundle>,
    /// Set when `own` was received since the last [`Workloads::take_own_bundle_update`].
    own_updated: bool,
    /// The bundles of foreign trust domains the server sent (for entries federating with
    /// them). Memory only: never the trust store, never the disk.
    federated: BTreeMap<TrustDomain, Bundle>,
    /// The tainted authorities of the last own bundle received (taint is state: an agent that
    /// missed the `Reissue` notice learns it from the bundle). Foreign bundles' taint flags
    /// are not ours to act on and are ignored.
    taint: Taint,
    revision: u64,
    /// The parts of a snapshot received so far, while more are to come (`Snapshot.more`).
    partial: Option<pb::Snapshot>,
    metrics: NodeMetrics,
}

/// The authorities a bundle from the server marks tainted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Taint {
    /// Subject key IDs of tainted X.509 authorities.
    pub x509: BTreeSet<Vec<u8>>,
    /// `kid`s of tainted JWT keys.
    pub jwt: BTreeSet<String>,
}

impl Taint {
    fn of(b: &types::Bundle) -> Taint {
        Taint {
            x509: b
                .x509_authorities
                .iter()
                .filter(|a| a.tainted)
                .filter_map(|a| CertInfo::from_der(&a.asn1).ok()?.subject_key_id)
                .collect(),
            jwt: b
                .jwt_authorities
                .iter()
                .filter(|a| a.tainted)
                .map(|a| a.key_id.clone())
                .collect(),
        }
    }
}

/// A random point in [0.4, 0.6] of the lifetime: half-life ± 10 %.
fn rotation_point(not_before: SystemTime, not_after: SystemTime) -> SystemTime {
    let mut b = [0u8; 2];
    let r = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b)
        .map(|()| u16::from_le_bytes(b))
        .unwrap_or(u16::MAX / 2);
    point_of_life(not_before, not_after, r)
}

/// The point `0.4 + 0.2 × r / u16::MAX` of the lifetime: half-life ± 10 % as `r` spans u16.
pub(crate) fn point_of_life(not_before: SystemTime, not_after: SystemTime, r: u16) -> SystemTime {
    let life = not_after.duration_since(not_before).unwrap_or_default();
    let fraction = 0.4 + 0.2 * f64::from(r) / f64::from(u16::MAX);
    not_before + life.mul_f64(fraction)
}

/// The trust domains an entry federates with (bare names or `spiffe://` IDs on the wire);
/// names that do not parse are left out (and logged when the entry arrives, see
/// [`check_federates_with`]).
fn federates_with(e: &types::Entry) -> Vec<TrustDomain> {
    e.federates_with
        .iter()
        .filter_map(|name| TrustDomain::new(name).ok())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Logs each `federates_with` name of `e` that is not a trust domain (the server checks them,
/// so this is a server bug or a newer server's syntax): the entry is served without it.
fn check_federates_with(e: &types::Entry) {
    for name in &e.federates_with {
        if let Err(error) = TrustDomain::new(name) {
            tracing::warn!(entry = %e.id, federates_with = %name, %error, "entry federates with a name that is not a trust domain; ignored");
        }
    }
}

impl Workloads {
    /// Nothing held yet for an agent of `trust_domain`; signings are counted in `metrics`.
    pub fn new(trust_domain: TrustDomain, metrics: NodeMetrics) -> Workloads {
        Workloads {
            trust_domain,
            entries: BTreeMap::new(),
            held: HashMap::new(),
            own: None,
            own_updated: false,
            federated: BTreeMap::new(),
            taint: Taint::default(),
            revision: 0,
            partial: None,
            metrics,
        }
    }

    /// Why `entry_id` is signed now: it has an SVID already, or not.
    fn reason(&self, entry_id: &str) -> SignReason {
        if self.held.contains_key(entry_id) {
            SignReason::Rotation
        } else {
            SignReason::New
        }
    }

    /// The own trust domain's bundle from the server, if any yet.
    pub fn own_bundle(&self) -> Option<&Bundle> {
        self.own.as_ref()
    }

    /// The own trust domain's bundle if one was received since the last call: what the agent's
    /// trust store for the server and its stored `bundle.der` take. Foreign bundles never
    /// come out of here.
    pub fn take_own_bundle_update(&mut self) -> Option<&Bundle> {
        if std::mem::take(&mut self.own_updated) {
            self.own.as_ref()
        } else {
            None
        }
    }

    /// The foreign bundles held, by trust domain.
    pub fn federated_bundles(&self) -> &BTreeMap<TrustDomain, Bundle> {
        &self.federated
    }

    /// A new Sync stream begins: a snapshot left incomplete by the last one is dropped.
    pub fn stream_opened(&mut self) {
        self.partial = None;
    }

    /// The tainted authorities of the last bundle received.
    pub fn taint(&self) -> &Taint {
        &self.taint
    }

    /// Takes a bundle of the own trust domain, `bundle` decoded from `b`, and its taint: SVIDs
    /// signed by a tainted authority rotate now.
    fn set_own_bundle(&mut self, bundle: Bundle, b: &types::Bundle, now: SystemTime) {
        self.own = Some(bundle);
        self.own_updated = true;
        self.taint = Taint::of(b);
        for h in self.held.values_mut() {
            if h.authority_key_id
                .as_ref()
                .is_some_and(|aki| self.taint.x509.contains(aki))
            {
                h.rotate_at = h.rotate_at.min(now);
            }
        }
    }

    /// Takes a bundle from the server: the own trust domain's replaces the own one (a bundle
    /// that does not decode is a protocol error, as it always was); a foreign one replaces
    /// only that trust domain's (one that does not decode is logged and the old one kept: one
    /// foreign domain's bad bundle must not stop the agent).
    fn take_bundle(&mut self, b: &types::Bundle, now: SystemTime) -> Result<(), NodeError> {
        let bundle = match bundle_from_pb(b) {
            Ok(bundle) => bundle,
            Err(e) if TrustDomain::new(&b.trust_domain).is_ok_and(|td| td != self.trust_domain) => {
                tracing::error!(trust_domain = %b.trust_domain, error = %e, "foreign bundle from the server is unusable; keeping the one held");
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if bundle.trust_domain == self.trust_domain {
            self.set_own_bundle(bundle, b, now);
        } else {
            self.federated.insert(bundle.trust_domain.clone(), bundle);
        }
        Ok(())
    }

    /// The last applied revision.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Applies one message of the Sync stream.
    pub fn apply(&mut self, msg: pb::SyncMessage, now: SystemTime) -> Result<Applied, NodeError> {
        use pb::sync_message::Event;
        self.revision = msg.revision;
        let Some(event) = msg.event else {
            return Ok(Applied::Nothing);
        };
        Ok(match event {
            Event::Snapshot(mut s) => {
                if let Some(mut earlier) = self.partial.take() {
                    earlier.entries.append(&mut s.entries);
                    earlier.bundles.append(&mut s.bundles);
                    earlier.more = s.more;
                    s = earlier;
                }
                if s.more {
                    self.partial = Some(s);
                    return Ok(Applied::Nothing);
                }
                s.entries.iter().for_each(check_federates_with);
                self.entries = s.entries.into_iter().map(|e| (e.id.clone(), e)).collect();
                self.held.retain(|id, _| self.entries.contains_key(id));
                // The snapshot's foreign bundles are the whole foreign set now; the own one
                // is kept when the snapshot has none.
                let before = std::mem::take(&mut self.federated);
                for b in &s.bundles {
                    self.take_bundle(b, now)?;
                }
                // A foreign bundle the snapshot names but that did not decode: the one held
                // before stays.
                for (td, old) in before {
                    let named = s
                        .bundles
                        .iter()
                        .any(|b| TrustDomain::new(&b.trust_domain).is_ok_and(|n| n == td));
                    if named && !self.federated.contains_key(&td) {
                        self.federated.insert(td, old);
                    }
                }
                Applied::Changed
            }
            Event::Resumed(_) | Event::Heartbeat(_) => Applied::Nothing,
            Event::EntryUpserted(e) => {
                check_federates_with(&e);
                self.entries.insert(e.id.clone(), e);
                Applied::Changed
            }
            Event::EntryDeleted(d) => {
                self.entries.remove(&d.entry_id);
                self.held.remove(&d.entry_id);
                Applied::Changed
            }
            Event::BundleUpdated(b) => {
                self.take_bundle(&b, now)?;
                Applied::Changed
            }
            Event::BundleDeleted(d) => match TrustDomain::new(&d.trust_domain) {
                Ok(td) if td == self.trust_domain => {
                    tracing::warn!(trust_domain = %td, "the server asked to delete the agent's own trust domain bundle; ignored");
                    Applied::Nothing
                }
                Ok(td) => {
                    if self.federated.remove(&td).is_some() {
                        tracing::info!(trust_domain = %td, "foreign bundle deleted");
                        Applied::Changed
                    } else {
                        Applied::Nothing
                    }
                }
                Err(error) => {
                    tracing::warn!(trust_domain = %d.trust_domain, %error, "the server asked to delete the bundle of a name that is not a trust domain; ignored");
                    Applied::Nothing
                }
            },
            Event::Reissue(r) => match r.authority {
                Some(pb::reissue::Authority::X509SubjectKeyId(ski)) => {
                    for h in self.held.values_mut() {
                        if h.authority_key_id.as_deref() == Some(ski.as_slice()) {
                            h.rotate_at = now;
                        }
                    }
                    Applied::Tainted(ski)
                }
                Some(pb::reissue::Authority::JwtKeyId(kid)) => Applied::JwtTainted(kid),
                None => Applied::Nothing,
            },
            Event::Evicted(ev) => Applied::Evicted {
                banned: ev.reason == pb::evicted::Reason::Banned as i32,
                message: ev.message,
            },
        })
    }

    /// Entries whose SVID is missing, due for rotation, or signed for outdated parameters.
    pub fn due(&self, now: SystemTime) -> Vec<String> {
        self.entries
            .values()
            .filter(|e| match self.held.get(&e.id) {
                None => true,
                Some(h) => h.rotate_at <= now || h.signed_for != SignedFor::of(e),
            })
            .map(|e| e.id.clone())
            .collect()
    }

    /// Signs `ids` in batches. Items the server refuses are logged and retried later.
    pub async fn sign(
        &mut self,
        client: &mut AgentServiceClient<Channel>,
        ids: &[String],
    ) -> Result<usize, NodeError> {
        let mut signed = 0;
        for chunk in ids.chunks(BATCH) {
            let mut keys = HashMap::new();
            let mut items = Vec::with_capacity(chunk.len());
            for id in chunk {
                let key = KeyPair::generate(KeyType::EcP256)
                    .map_err(|e| NodeError::Key(e.to_string()))?;
                let csr = build_csr(&key).map_err(|e| NodeError::Key(e.to_string()))?;
                items.push(pb::SignX509SvidItem {
                    entry_id: id.clone(),
                    csr,
                });
                keys.insert(id.clone(), key);
            }
            let resp = match client
                .batch_sign_x509_svids(pb::BatchSignX509SvidsRequest { items })
                .await
            {
                Ok(resp) => resp.into_inner(),
                Err(s) => {
                    for id in chunk {
                        self.metrics.signed(self.reason(id), false);
                    }
                    return Err(NodeError::Rpc(s));
                }
            };
            for r in resp.results {
                let reason = self.reason(&r.entry_id);
                match r.result {
                    Some(pb::sign_x509_svid_result::Result::Svid(svid)) => {
                        let Some(entry) = self.entries.get(&r.entry_id) else {
                            continue;
                        };
                        let Some(key) = keys.remove(&r.entry_id) else {
                            continue;
                        };
                        match self.hold(entry, svid, key) {
                            Ok(h) => {
                                tracing::info!(entry = %r.entry_id, spiffe_id = %h.spiffe_id, "workload SVID signed");
                                self.held.insert(r.entry_id.clone(), h);
                                signed += 1;
                                self.metrics.signed(reason, true);
                            }
                            Err(e) => {
                                self.metrics.signed(reason, false);
                                tracing::error!(entry = %r.entry_id, error = %e, "server returned an unusable SVID");
                            }
                        }
                    }
                    Some(pb::sign_x509_svid_result::Result::Error(s)) => {
                        self.metrics.signed(reason, false);
                        tracing::warn!(entry = %r.entry_id, code = s.code, reason = %s.message, "server refused to sign");
                    }
                    None => {}
                }
            }
        }
        Ok(signed)
    }

    fn hold(
        &self,
        entry: &types::Entry,
        svid: types::X509Svid,
        key: KeyPair,
    ) -> Result<Held, NodeError> {
        let chain = svid
            .cert_chain
            .into_iter()
            .map(|c| CertDer::from_der(c).map_err(|e| NodeError::BadSvid(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let parsed =
            lanyard_x509::parse_x509_svid(&chain).map_err(|e| NodeError::BadSvid(e.to_string()))?;
        if parsed.spiffe_id.as_str() != entry.spiffe_id {
            return Err(NodeError::BadSvid(format!(
                "SVID for {} carries {}",
                entry.spiffe_id, parsed.spiffe_id
            )));
        }
        let aki = chain
            .first()
            .and_then(|leaf| CertInfo::from_der(leaf.as_bytes()).ok())
            .and_then(|i| i.authority_key_id);
        Ok(Held {
            spiffe_id: parsed.spiffe_id,
            rotate_at: rotation_point(parsed.not_before, parsed.not_after),
            not_after: parsed.not_after,
            chain,
            // `key` (dropped at the end of this call) wipes its own copy.
            key: key_der(key.pkcs8_der()),
            authority_key_id: aki,
            signed_for: SignedFor::of(entry),
        })
    }

    /// Drops SVIDs that have expired (served until then, even while the server is down).
    pub fn prune_expired(&mut self, now: SystemTime) -> bool {
        let before = self.held.len();
        self.held.retain(|id, h| {
            let keep = h.not_after > now;
            if !keep {
                tracing::warn!(entry = %id, spiffe_id = %h.spiffe_id, "workload SVID expired before it could be renewed");
            }
            keep
        });
        before != self.held.len()
    }

    /// The next moment something is due: a rotation or an expiry.
    pub fn next_wake(&self) -> Option<SystemTime> {
        self.held
            .values()
            .flat_map(|h| [h.rotate_at, h.not_after])
            .min()
    }

    /// The snapshot for the Workload API.
    pub fn snapshot(&self) -> Snapshot {
        let mut svids: Vec<Arc<WorkloadSvid>> = self
            .entries
            .values()
            .filter_map(|e| {
                let h = self.held.get(&e.id)?;
                Some(Arc::new(WorkloadSvid {
                    entry_id: e.id.clone(),
                    spiffe_id: h.spiffe_id.clone(),
                    selectors: e
                        .selectors
                        .iter()
                        .map(|s| Selector::new(s.r#type.clone(), s.value.clone()))
                        .collect(),
                    hint: e.hint.clone(),
                    chain: h.chain.clone(),
                    key_pkcs8: Arc::clone(&h.key),
                    not_after: h.not_after,
                    created_at: e.created_at,
                    federates_with: federates_with(e),
                }))
            })
            .collect();
        svids.sort_by(|a, b| (a.created_at, &a.entry_id).cmp(&(b.created_at, &b.entry_id)));
        Snapshot {
            svids,
            bundles: self
                .own
                .iter()
                .chain(self.federated.values())
                .cloned()
                .collect::<BundleSet>(),
            ready: self.own.is_some(),
        }
    }
}

/// How long until `t` (zero if past).
pub fn until(t: SystemTime) -> Duration {
    t.duration_since(SystemTime::now()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use lanyard_tls::TrustStore;

    use super::super::disk::DataDir;
    use super::super::keep_own_trust;
    use super::*;

    #[test]
    fn renewal_points_spread_over_half_life_plus_or_minus_ten_percent() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let end = start + Duration::from_secs(3600);
        let at = |r| point_of_life(start, end, r).duration_since(start).unwrap();
        assert!((at(0).as_secs_f64() - 1440.0).abs() < 0.001, "{:?}", at(0));
        let last = at(u16::MAX).as_secs_f64();
        assert!((last - 2160.0).abs() < 0.001, "{last}");
        // Different certificates (different bytes) renew at different times.
        assert!(at(0x1234) < at(0x8000) && at(0x8000) < at(0xf00d));
    }

    fn snapshot(ids: &[&str], more: bool) -> pb::SyncMessage {
        pb::SyncMessage {
            revision: 1,
            event: Some(pb::sync_message::Event::Snapshot(pb::Snapshot {
                entries: ids
                    .iter()
                    .map(|id| types::Entry {
                        id: (*id).to_owned(),
                        ..Default::default()
                    })
                    .collect(),
                bundles: Vec::new(),
                more,
            })),
        }
    }

    #[test]
    fn a_snapshot_in_parts_takes_effect_with_its_last_part() {
        let now = SystemTime::now();
        let mut w = workloads();
        assert_eq!(
            w.apply(snapshot(&["a", "b"], true), now).unwrap(),
            Applied::Nothing
        );
        assert!(w.entries.is_empty(), "applied before the last part");
        assert_eq!(
            w.apply(snapshot(&["c"], false), now).unwrap(),
            Applied::Changed
        );
        assert_eq!(w.entries.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
        // A stream that broke after a first part: the next stream's snapshot stands alone.
        w.apply(snapshot(&["x"], true), now).unwrap();
        w.stream_opened();
        w.apply(snapshot(&["d"], false), now).unwrap();
        assert_eq!(w.entries.keys().collect::<Vec<_>>(), ["d"]);
    }

    /// The agent's workloads, in trust domain `example.org`.
    fn workloads() -> Workloads {
        Workloads::new(
            TrustDomain::new("example.org").unwrap(),
            NodeMetrics::default(),
        )
    }

    /// A real self-signed CA certificate of `td` (bundles are decoded, so it must parse).
    fn ca_cert(td: &str) -> CertDer {
        let now = SystemTime::now();
        let params = lanyard_x509::CaParams {
            trust_domain: TrustDomain::new(td).unwrap(),
            subject: lanyard_x509::Subject {
                organization: Some("Test".into()),
                ..lanyard_x509::Subject::default()
            },
            not_before: now,
            not_after: now + Duration::from_secs(3600),
            path_len: None,
        };
        lanyard_x509::self_signed_ca(&params, &KeyPair::generate(KeyType::EcP256).unwrap()).unwrap()
    }

    /// A bundle message of `td` (as the server names it) with `certs`, the ones in `tainted`
    /// marked tainted.
    fn pb_bundle(td: &str, certs: &[&CertDer], tainted: &[&CertDer]) -> types::Bundle {
        types::Bundle {
            trust_domain: td.to_owned(),
            x509_authorities: certs
                .iter()
                .map(|c| types::X509Authority {
                    asn1: c.as_bytes().to_vec(),
                    tainted: tainted.contains(c),
                })
                .collect(),
            ..Default::default()
        }
    }

    fn message(event: pb::sync_message::Event) -> pb::SyncMessage {
        pb::SyncMessage {
            revision: 1,
            event: Some(event),
        }
    }

    fn full_snapshot(bundles: Vec<types::Bundle>) -> pb::SyncMessage {
        message(pb::sync_message::Event::Snapshot(pb::Snapshot {
            entries: Vec::new(),
            bundles,
            more: false,
        }))
    }

    fn deleted(td: &str) -> pb::SyncMessage {
        message(pb::sync_message::Event::BundleDeleted(pb::BundleDeleted {
            trust_domain: td.to_owned(),
        }))
    }

    fn td(name: &str) -> TrustDomain {
        TrustDomain::new(name).unwrap()
    }

    fn foreign(w: &Workloads) -> Vec<&str> {
        w.federated_bundles()
            .keys()
            .map(TrustDomain::name)
            .collect()
    }

    #[test]
    fn a_foreign_bundle_update_never_touches_the_own_bundle_or_its_taint() {
        let now = SystemTime::now();
        let mut w = workloads();
        let (own, other) = (ca_cert("example.org"), ca_cert("other.org"));
        w.apply(
            full_snapshot(vec![
                pb_bundle("example.org", &[&own], &[]),
                pb_bundle("other.org", &[&other], &[]),
            ]),
            now,
        )
        .unwrap();
        let taken = w.take_own_bundle_update().unwrap();
        assert_eq!(taken.trust_domain, td("example.org"));
        assert_eq!(taken.x509_authorities, std::slice::from_ref(&own));
        assert!(w.take_own_bundle_update().is_none(), "taken once");
        assert_eq!(foreign(&w), ["other.org"]);

        // A foreign update, even one that marks an authority tainted and names the domain as
        // an ID: only that domain's bundle changes.
        let rotated = ca_cert("other.org");
        let update = pb_bundle("spiffe://other.org", &[&other, &rotated], &[&other]);
        let applied = w
            .apply(message(pb::sync_message::Event::BundleUpdated(update)), now)
            .unwrap();
        assert_eq!(applied, Applied::Changed);
        assert!(
            w.take_own_bundle_update().is_none(),
            "a foreign bundle is never the agent's trust store or bundle.der"
        );
        assert_eq!(
            w.own_bundle().unwrap().x509_authorities,
            std::slice::from_ref(&own)
        );
        assert_eq!(w.taint(), &Taint::default(), "foreign taint is not ours");
        assert_eq!(
            w.federated_bundles()[&td("other.org")].x509_authorities,
            [other.clone(), rotated]
        );
        let third = ca_cert("third.org");
        w.apply(
            message(pb::sync_message::Event::BundleUpdated(pb_bundle(
                "third.org",
                &[&third],
                &[],
            ))),
            now,
        )
        .unwrap();
        assert_eq!(foreign(&w), ["other.org", "third.org"]);
        let snap = w.snapshot();
        let mut held: Vec<&str> = snap.bundles.iter().map(|b| b.trust_domain.name()).collect();
        held.sort_unstable();
        assert_eq!(held, ["example.org", "other.org", "third.org"]);

        // The own domain's update still replaces the own bundle and its taint.
        let next = ca_cert("example.org");
        w.apply(
            message(pb::sync_message::Event::BundleUpdated(pb_bundle(
                "example.org",
                &[&own, &next],
                &[&own],
            ))),
            now,
        )
        .unwrap();
        assert_eq!(
            w.take_own_bundle_update().unwrap().x509_authorities,
            [own.clone(), next]
        );
        let own_ski = CertInfo::from_der(own.as_bytes())
            .unwrap()
            .subject_key_id
            .unwrap();
        assert_eq!(w.taint().x509, BTreeSet::from([own_ski]));
        assert_eq!(foreign(&w), ["other.org", "third.org"]);
    }

    #[test]
    fn bundle_deleted_drops_a_foreign_domain_and_never_the_own() {
        let now = SystemTime::now();
        let mut w = workloads();
        let own = ca_cert("example.org");
        w.apply(
            full_snapshot(vec![
                pb_bundle("example.org", &[&own], &[]),
                pb_bundle("other.org", &[&ca_cert("other.org")], &[]),
                pb_bundle("third.org", &[&ca_cert("third.org")], &[]),
            ]),
            now,
        )
        .unwrap();
        w.take_own_bundle_update();

        for own_name in ["example.org", "spiffe://example.org"] {
            assert_eq!(w.apply(deleted(own_name), now).unwrap(), Applied::Nothing);
        }
        assert_eq!(w.own_bundle().unwrap().x509_authorities, [own]);
        assert!(w.take_own_bundle_update().is_none());
        assert!(w.snapshot().ready, "still serving");

        assert_eq!(
            w.apply(deleted("spiffe://other.org"), now).unwrap(),
            Applied::Changed
        );
        assert_eq!(foreign(&w), ["third.org"]);
        for nothing in ["other.org", "unknown.org", "Not A Domain"] {
            assert_eq!(w.apply(deleted(nothing), now).unwrap(), Applied::Nothing);
        }
        assert_eq!(foreign(&w), ["third.org"]);
        w.apply(deleted("third.org"), now).unwrap();
        assert!(foreign(&w).is_empty());
        assert_eq!(w.snapshot().bundles.len(), 1);
    }

    #[test]
    fn a_snapshot_replaces_the_foreign_set_wholesale() {
        let now = SystemTime::now();
        let mut w = workloads();
        let own = ca_cert("example.org");
        w.apply(
            full_snapshot(vec![
                pb_bundle("other.org", &[&ca_cert("other.org")], &[]),
                pb_bundle("example.org", &[&own], &[]),
                pb_bundle("third.org", &[&ca_cert("third.org")], &[]),
            ]),
            now,
        )
        .unwrap();
        assert_eq!(foreign(&w), ["other.org", "third.org"]);
        assert_eq!(
            w.own_bundle().unwrap().x509_authorities,
            std::slice::from_ref(&own)
        );

        // A snapshot without the own bundle keeps it; its foreign set is the whole set now.
        w.take_own_bundle_update();
        w.apply(
            full_snapshot(vec![pb_bundle(
                "fourth.org",
                &[&ca_cert("fourth.org")],
                &[],
            )]),
            now,
        )
        .unwrap();
        assert_eq!(foreign(&w), ["fourth.org"]);
        assert_eq!(w.own_bundle().unwrap().x509_authorities, [own]);
        assert!(w.take_own_bundle_update().is_none());
    }

    #[test]
    fn an_unusable_foreign_bundle_is_skipped_and_the_held_one_kept() {
        let now = SystemTime::now();
        let mut w = workloads();
        let (own, other) = (ca_cert("example.org"), ca_cert("other.org"));
        w.apply(
            full_snapshot(vec![
                pb_bundle("example.org", &[&own], &[]),
                pb_bundle("other.org", &[&other], &[]),
            ]),
            now,
        )
        .unwrap();
        let mut garbage = pb_bundle("other.org", &[], &[]);
        garbage.x509_authorities.push(types::X509Authority {
            asn1: b"not a certificate".to_vec(),
            tainted: false,
        });
        let update = |b: types::Bundle| message(pb::sync_message::Event::BundleUpdated(b));
        w.apply(update(garbage.clone()), now).unwrap();
        assert_eq!(
            w.federated_bundles()[&td("other.org")].x509_authorities,
            std::slice::from_ref(&other)
        );
        // In a snapshot too: that domain keeps its held bundle.
        w.apply(
            full_snapshot(vec![
                pb_bundle("example.org", &[&own], &[]),
                garbage.clone(),
            ]),
            now,
        )
        .unwrap();
        assert_eq!(
            w.federated_bundles()[&td("other.org")].x509_authorities,
            [other]
        );
        // The own domain's unusable bundle is a protocol error, as before.
        garbage.trust_domain = "example.org".into();
        assert!(matches!(
            w.apply(update(garbage), now),
            Err(NodeError::Protocol(_))
        ));
    }

    #[test]
    fn each_svid_carries_its_entrys_federated_trust_domains() {
        let now = SystemTime::now();
        let mut w = workloads();
        let entry = types::Entry {
            id: "e1".into(),
            spiffe_id: "spiffe://example.org/w".into(),
            federates_with: vec![
                "spiffe://other.org".into(),
                "third.org".into(),
                "other.org".into(),
                "Not A Domain".into(),
            ],
            ..Default::default()
        };
        w.apply(
            message(pb::sync_message::Event::EntryUpserted(entry.clone())),
            now,
        )
        .unwrap();
        w.held.insert(
            "e1".into(),
            Held {
                spiffe_id: SpiffeId::parse("spiffe://example.org/w").unwrap(),
                chain: Vec::new(),
                key: KeyDer::default(),
                not_after: now + Duration::from_secs(60),
                rotate_at: now + Duration::from_secs(30),
                authority_key_id: None,
                signed_for: SignedFor::of(&entry),
            },
        );
        let snap = w.snapshot();
        assert_eq!(snap.svids.len(), 1);
        assert_eq!(
            snap.svids[0].federates_with,
            [td("other.org"), td("third.org")],
            "both spellings, once each; a bad name left out"
        );
    }

    /// What `node::run` does with each change: the agent's trust store for the server and
    /// `bundle.der` follow the own trust domain's bundle, and a foreign one never reaches them.
    #[test]
    fn only_the_own_bundle_reaches_the_trust_store_and_the_disk() {
        let now = SystemTime::now();
        let dir = tempfile::tempdir().unwrap();
        let dd = DataDir::open(dir.path()).unwrap();
        let stored = dir.path().join("bundle.der");
        let trust = TrustStore::new(BundleSet::new());
        let mut w = workloads();
        let own = ca_cert("example.org");
        w.apply(
            full_snapshot(vec![
                pb_bundle("example.org", &[&own], &[]),
                pb_bundle("other.org", &[&ca_cert("other.org")], &[]),
            ]),
            now,
        )
        .unwrap();
        keep_own_trust(&mut w, &trust, &dd).unwrap();
        let trusted = |trust: &TrustStore| -> Vec<(String, Vec<CertDer>)> {
            trust
                .get()
                .iter()
                .map(|b| (b.trust_domain.name().to_owned(), b.x509_authorities.clone()))
                .collect()
        };
        assert_eq!(
            trusted(&trust),
            [("example.org".to_owned(), vec![own.clone()])]
        );
        assert_eq!(std::fs::read(&stored).unwrap(), own.as_bytes());

        // A foreign update: the file is not even written again (removed here to show it).
        std::fs::remove_file(&stored).unwrap();
        let update = pb_bundle("other.org", &[&ca_cert("other.org")], &[]);
        w.apply(message(pb::sync_message::Event::BundleUpdated(update)), now)
            .unwrap();
        keep_own_trust(&mut w, &trust, &dd).unwrap();
        assert_eq!(
            trusted(&trust),
            [("example.org".to_owned(), vec![own.clone()])]
        );
        assert!(!stored.exists(), "bundle.der written for a foreign bundle");

        // The own domain's update reaches both.
        let next = ca_cert("example.org");
        let update = pb_bundle("example.org", &[&own, &next], &[]);
        w.apply(message(pb::sync_message::Event::BundleUpdated(update)), now)
            .unwrap();
        keep_own_trust(&mut w, &trust, &dd).unwrap();
        assert_eq!(
            trusted(&trust),
            [("example.org".to_owned(), vec![own.clone(), next.clone()])]
        );
        assert_eq!(
            std::fs::read(&stored).unwrap(),
            lanyard_x509::join_der_certificates(&[own, next])
        );
    }
}
