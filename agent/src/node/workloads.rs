//! The workload side of sync: authorized entries, their keys and SVIDs, and when to rotate.
//!
//! One EC P-256 key per entry, generated here and never sent anywhere; the server signs a CSR
//! for it. An SVID is re-signed at half its lifetime ± 10 % jitter (so a fleet does not renew in
//! lockstep), at once when its signing authority is tainted, and when the entry's ID, DNS names
//! or TTL change. Selector and hint changes need no re-signing: snapshots take them from the
//! current entry.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use lanyard_id::SpiffeId;
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
#[derive(Debug, Default)]
pub struct Workloads {
    entries: BTreeMap<String, types::Entry>,
    held: HashMap<String, Held>,
    bundle: Option<Bundle>,
    /// The tainted authorities of the last bundle received (taint is state: an agent that
    /// missed the `Reissue` notice learns it from the bundle).
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

impl Workloads {
    /// Nothing held yet; signings are counted in `metrics`.
    pub fn new(metrics: NodeMetrics) -> Workloads {
        Workloads {
            metrics,
            ..Workloads::default()
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

    /// The bundle from the server, if any yet.
    pub fn bundle(&self) -> Option<&Bundle> {
        self.bundle.as_ref()
    }

    /// A new Sync stream begins: a snapshot left incomplete by the last one is dropped.
    pub fn stream_opened(&mut self) {
        self.partial = None;
    }

    /// The tainted authorities of the last bundle received.
    pub fn taint(&self) -> &Taint {
        &self.taint
    }

    /// Takes the bundle `b` and its taint: SVIDs signed by a tainted authority rotate now.
    fn set_bundle(&mut self, b: &types::Bundle, now: SystemTime) -> Result<(), NodeError> {
        self.bundle = Some(bundle_from_pb(b)?);
        self.taint = Taint::of(b);
        for h in self.held.values_mut() {
            if h.authority_key_id
                .as_ref()
                .is_some_and(|aki| self.taint.x509.contains(aki))
            {
                h.rotate_at = h.rotate_at.min(now);
            }
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
                self.entries = s.entries.into_iter().map(|e| (e.id.clone(), e)).collect();
                self.held.retain(|id, _| self.entries.contains_key(id));
                if let Some(b) = s.bundles.first() {
                    self.set_bundle(b, now)?;
                }
                Applied::Changed
            }
            Event::Resumed(_) | Event::Heartbeat(_) => Applied::Nothing,
            Event::EntryUpserted(e) => {
                self.entries.insert(e.id.clone(), e);
                Applied::Changed
            }
            Event::EntryDeleted(d) => {
                self.entries.remove(&d.entry_id);
                self.held.remove(&d.entry_id);
                Applied::Changed
            }
            Event::BundleUpdated(b) => {
                self.set_bundle(&b, now)?;
                Applied::Changed
            }
            Event::BundleDeleted(_) => Applied::Nothing,
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
                }))
            })
            .collect();
        svids.sort_by(|a, b| (a.created_at, &a.entry_id).cmp(&(b.created_at, &b.entry_id)));
        Snapshot {
            svids,
            bundles: self.bundle.iter().cloned().collect::<BundleSet>(),
            ready: self.bundle.is_some(),
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
        let mut w = Workloads::default();
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
}
