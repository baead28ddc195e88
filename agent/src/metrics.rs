//! The agent's Prometheus metrics (served on the health listener's `/metrics`).
//!
//! Two holders, one per side of the agent, each recording through cached handles (an atomic
//! operation per event, no lock or allocation):
//! - [`WorkloadMetrics`]: Workload API calls by method and code, open calls and connections,
//!   connections refused by which limit, workload attestations by outcome and their latency.
//! - [`NodeMetrics`]: SVID signings (new and rotations) by outcome, whether the Sync stream is
//!   connected, and when it last changed something.
//!
//! What the agent holds is read from the [`SvidStore`] at each scrape ([`StoreCollector`]): the
//! number of X.509-SVIDs and the earliest `not_after` among them, the alert that matters.
//!
//! No label value comes from a caller: methods are the Workload API's five and Envoy SDS's three
//! (anything else is `unknown`), and the other labels are fixed lists.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use lanyard_observe::grpc::GrpcMetrics;
use lanyard_observe::metrics::prometheus_client::collector::Collector;
use lanyard_observe::metrics::prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use lanyard_observe::metrics::prometheus_client::metrics::counter::Counter;
use lanyard_observe::metrics::prometheus_client::metrics::family::Family;
use lanyard_observe::metrics::prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use lanyard_observe::metrics::{
    Histogram, LATENCY_BUCKETS, LazyCounters, Registry, StaticLabels, Unit, unix_seconds,
};

use crate::store::SvidStore;

/// The Workload API's methods and SDS's on the same socket: `(path, method label)` (the Workload
/// API standard's file declares no package).
pub const WORKLOAD_METHODS: &[(&str, &str)] = &[
    ("/SpiffeWorkloadAPI/FetchX509SVID", "FetchX509SVID"),
    ("/SpiffeWorkloadAPI/FetchX509Bundles", "FetchX509Bundles"),
    ("/SpiffeWorkloadAPI/FetchJWTSVID", "FetchJWTSVID"),
    ("/SpiffeWorkloadAPI/FetchJWTBundles", "FetchJWTBundles"),
    ("/SpiffeWorkloadAPI/ValidateJWTSVID", "ValidateJWTSVID"),
    // Envoy SDS, served on the same socket (`workload::sds`).
    (
        "/envoy.service.secret.v3.SecretDiscoveryService/StreamSecrets",
        "StreamSecrets",
    ),
    (
        "/envoy.service.secret.v3.SecretDiscoveryService/FetchSecrets",
        "FetchSecrets",
    ),
    (
        "/envoy.service.secret.v3.SecretDiscoveryService/DeltaSecrets",
        "DeltaSecrets",
    ),
];

/// Which Workload API connection limit refused a connection at accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// `[workload_api] max_connections`.
    Total = 0,
    /// `[workload_api] max_connections_per_uid`.
    PerUid = 1,
}

/// How a workload attestation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttestOutcome {
    /// The caller's selectors were found.
    Success = 0,
    /// An attestor failed (the process went away, the kubelet refused).
    Failed = 1,
    /// Slower than `[workload_api] attestation_timeout`.
    Timeout = 2,
    /// The caller's process changed (exited, exec'd, setuid) during attestation.
    ProcessChanged = 3,
}

/// Why an SVID was signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignReason {
    /// The entry had no SVID yet.
    New = 0,
    /// The entry's SVID was replaced (half-life, taint, a changed entry).
    Rotation = 1,
}

/// The agent's Workload API metrics. Cloning shares them; [`WorkloadMetrics::default`] records
/// into metrics nobody exports.
#[derive(Debug, Clone)]
pub struct WorkloadMetrics {
    inner: Arc<WorkloadInner>,
}

#[derive(Debug)]
struct WorkloadInner {
    calls: GrpcMetrics,
    connections: Gauge,
    refused: LazyCounters<1, 2>,
    attestations: LazyCounters<1, 4>,
    attestation_latency: Histogram,
}

impl Default for WorkloadMetrics {
    fn default() -> Self {
        WorkloadMetrics::new(&mut Registry::default())
    }
}

impl WorkloadMetrics {
    /// Registers the Workload API metrics in `registry`.
    pub fn new(registry: &mut Registry) -> WorkloadMetrics {
        let calls = GrpcMetrics::new(
            registry,
            "lanyard_agent_workload_api",
            "Workload API",
            WORKLOAD_METHODS,
        );
        let connections = Gauge::default();
        registry.register(
            "lanyard_agent_workload_api_connections",
            "Open Workload API connections",
            connections.clone(),
        );
        let refused = Family::<StaticLabels<1>, Counter>::default();
        registry.register(
            "lanyard_agent_workload_api_connections_refused",
            "Workload API connections closed at accept, by the [workload_api] limit reached (max_connections, max_connections_per_uid)",
            refused.clone(),
        );
        let attestations = Family::<StaticLabels<1>, Counter>::default();
        registry.register(
            "lanyard_agent_workload_attestations",
            "Workload attestations (one per Workload API call past the header check), by outcome (success, failed, timeout, process_changed)",
            attestations.clone(),
        );
        let attestation_latency = Histogram::new(LATENCY_BUCKETS);
        registry.register_with_unit(
            "lanyard_agent_workload_attestation_duration",
            "Time one workload attestation took (every outcome)",
            Unit::Seconds,
            attestation_latency.clone(),
        );
        WorkloadMetrics {
            inner: Arc::new(WorkloadInner {
                calls,
                connections,
                refused: LazyCounters::new(
                    refused,
                    [
                        [("limit", "max_connections")],
                        [("limit", "max_connections_per_uid")],
                    ],
                ),
                attestations: LazyCounters::new(
                    attestations,
                    [
                        [("outcome", "success")],
                        [("outcome", "failed")],
                        [("outcome", "timeout")],
                        [("outcome", "process_changed")],
                    ],
                ),
                attestation_latency,
            }),
        }
    }

    /// Calls by method and code, and open calls.
    pub fn calls(&self) -> &GrpcMetrics {
        &self.inner.calls
    }

    /// The gauge of open connections.
    pub fn connections(&self) -> &Gauge {
        &self.inner.connections
    }

    /// Counts a connection refused at accept.
    pub fn refused(&self, limit: Refused) {
        self.inner.refused.inc(limit as usize);
    }

    /// Counts a workload attestation that took `took`.
    pub fn attested(&self, outcome: AttestOutcome, took: Duration) {
        self.inner.attestations.inc(outcome as usize);
        self.inner.attestation_latency.observe(took);
    }
}

/// The node side's metrics. Cloning shares them; [`NodeMetrics::default`] records into metrics
/// nobody exports.
#[derive(Debug, Clone)]
pub struct NodeMetrics {
    inner: Arc<NodeInner>,
}

#[derive(Debug)]
struct NodeInner {
    signings: LazyCounters<2, 4>,
    sync_connected: Gauge,
    last_change: Gauge,
}

impl Default for NodeMetrics {
    fn default() -> Self {
        NodeMetrics::new(&mut Registry::default())
    }
}

impl NodeMetrics {
    /// Registers the node side's metrics in `registry`.
    pub fn new(registry: &mut Registry) -> NodeMetrics {
        let signings = Family::<StaticLabels<2>, Counter>::default();
        registry.register(
            "lanyard_agent_svid_signings",
            "Workload X.509-SVIDs the agent had the server sign, one per entry, by reason (new: the entry had none; rotation: replacing one at half-life, after a taint or an entry change) and outcome (success; failure: refused by the server, unusable, or the call failed; retried)",
            signings.clone(),
        );
        let sync_connected = Gauge::default();
        registry.register(
            "lanyard_agent_sync_connected",
            "1 while the agent's Sync stream with the server is open, else 0",
            sync_connected.clone(),
        );
        let last_change = Gauge::default();
        registry.register_with_unit(
            "lanyard_agent_sync_last_change_timestamp",
            "When a Sync message last changed what the agent holds (entries or bundle; Unix time; 0: never since start)",
            Unit::Seconds,
            last_change.clone(),
        );
        let l = |reason, outcome| [("reason", reason), ("outcome", outcome)];
        NodeMetrics {
            inner: Arc::new(NodeInner {
                signings: LazyCounters::new(
                    signings,
                    [
                        l("new", "success"),
                        l("new", "failure"),
                        l("rotation", "success"),
                        l("rotation", "failure"),
                    ],
                ),
                sync_connected,
                last_change,
            }),
        }
    }

    /// Counts one entry's signing.
    pub fn signed(&self, reason: SignReason, success: bool) {
        self.inner
            .signings
            .inc(reason as usize * 2 + usize::from(!success));
    }

    /// Records whether the Sync stream is open.
    pub fn sync_connected(&self, connected: bool) {
        self.inner.sync_connected.set(i64::from(connected));
    }

    /// Records that a Sync message changed what the agent holds, `at`.
    pub fn changed(&self, at: SystemTime) {
        self.inner.last_change.set(unix_seconds(at));
    }
}

/// Both sides' metrics and the store collector, registered in one registry.
#[derive(Debug, Clone)]
pub struct AgentMetrics {
    /// The Workload API's.
    pub workload: WorkloadMetrics,
    /// The node side's.
    pub node: NodeMetrics,
}

impl AgentMetrics {
    /// Registers every agent metric in `registry`, reading `store` at each scrape.
    pub fn new(registry: &mut Registry, store: SvidStore) -> AgentMetrics {
        let metrics = AgentMetrics {
            workload: WorkloadMetrics::new(registry),
            node: NodeMetrics::new(registry),
        };
        registry.register_collector(Box::new(StoreCollector { store }));
        metrics
    }
}

/// Reads the current snapshot at each scrape: the X.509-SVIDs held and the earliest expiry.
#[derive(Debug)]
struct StoreCollector {
    store: SvidStore,
}

impl Collector for StoreCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let snapshot = self.store.current();
        let held = ConstGauge::new(i64::try_from(snapshot.svids.len()).unwrap_or(i64::MAX));
        held.encode(encoder.encode_descriptor(
            "lanyard_agent_svids",
            "Workload X.509-SVIDs the agent holds (one per authorized entry signed)",
            None,
            held.metric_type(),
        )?)?;
        // Absent while none is held: an alert on it then has nothing to fire on, as it should.
        if let Some(earliest) = snapshot.svids.iter().map(|s| s.not_after).min() {
            let unit = Unit::Seconds;
            let g = ConstGauge::new(unix_seconds(earliest));
            g.encode(encoder.encode_descriptor(
                "lanyard_agent_svid_earliest_expiry_timestamp",
                "The earliest not_after among the workload X.509-SVIDs the agent holds (Unix time): alert when it comes near",
                Some(&unit),
                g.metric_type(),
            )?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;
    use crate::store::{Snapshot, WorkloadSvid};

    #[test]
    fn the_store_is_read_at_each_scrape() {
        let mut registry = Registry::default();
        let store = SvidStore::new();
        let m = AgentMetrics::new(&mut registry, store.clone());
        let text = lanyard_observe::metrics::encode(&registry).unwrap();
        assert!(text.contains("\nlanyard_agent_svids 0\n"), "{text}");
        assert!(!text.contains("earliest_expiry"), "nothing held:\n{text}");

        let at = |secs| UNIX_EPOCH + Duration::from_secs(secs);
        let mut a = WorkloadSvid::for_test("a", "spiffe://example.org/a", vec![]);
        a.not_after = at(2_000_000_000);
        let mut b = WorkloadSvid::for_test("b", "spiffe://example.org/b", vec![]);
        b.not_after = at(1_900_000_000);
        store.publish(Snapshot {
            svids: vec![Arc::new(a), Arc::new(b)],
            ready: true,
            ..Snapshot::default()
        });
        m.node.sync_connected(true);
        m.node.changed(at(1_800_000_000));
        m.node.signed(SignReason::Rotation, false);
        m.workload.refused(Refused::PerUid);
        m.workload
            .attested(AttestOutcome::Timeout, Duration::from_secs(5));
        let text = lanyard_observe::metrics::encode(&registry).unwrap();
        for line in [
            "lanyard_agent_svids 2",
            "lanyard_agent_svid_earliest_expiry_timestamp_seconds 1900000000",
            "lanyard_agent_sync_connected 1",
            "lanyard_agent_sync_last_change_timestamp_seconds 1800000000",
            "lanyard_agent_svid_signings_total{reason=\"rotation\",outcome=\"failure\"} 1",
            "lanyard_agent_workload_api_connections_refused_total{limit=\"max_connections_per_uid\"} 1",
            "lanyard_agent_workload_attestations_total{outcome=\"timeout\"} 1",
            "lanyard_agent_workload_attestation_duration_seconds_count 1",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?}:\n{text}");
        }
    }
}
