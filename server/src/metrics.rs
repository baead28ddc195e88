//! The server's Prometheus metrics (served on the health listener's `/metrics`).
//!
//! [`ServerMetrics`] holds what is counted as it happens, each recorded through a cached handle
//! (an atomic operation, no lock or allocation per call): SVID signings by kind and outcome and
//! their latency, node attestations by attestor and outcome, open agent API connections and
//! Sync streams, and admin calls by method and code ([`ADMIN_METHODS`]). What is state rather
//! than events is read when Prometheus scrapes ([`StateCollector`]): the number of entries, the
//! change log's head and the entry cache's lag behind it, and each authority's `not_after`.
//!
//! Every label value comes from a fixed list, except an authority's `id`, bounded by the
//! authorities in the bundle: nothing a caller sends becomes a label.

use std::sync::Arc;
use std::time::Duration;

use lanyard_observe::grpc::GrpcMetrics;
use lanyard_observe::metrics::prometheus_client::collector::Collector;
use lanyard_observe::metrics::prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use lanyard_observe::metrics::prometheus_client::metrics::MetricType;
use lanyard_observe::metrics::prometheus_client::metrics::counter::Counter;
use lanyard_observe::metrics::prometheus_client::metrics::family::Family;
use lanyard_observe::metrics::prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use lanyard_observe::metrics::{
    Histogram, LATENCY_BUCKETS, LazyCounters, Registry, StaticLabels, Unit, unix_seconds,
};
use lanyard_x509::CertInfo;
use tokio::sync::watch;
use tonic::Code;

use crate::cache::EntryCache;

/// What kind of SVID a signing was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SvidKind {
    /// `BatchSignX509Svids`, one per item.
    X509 = 0,
    /// `MintJwtSvids`, one per entry.
    Jwt = 1,
}

/// How one SVID signing request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignOutcome {
    /// Signed.
    Issued = 0,
    /// The entry does not exist, has expired or is not the agent's.
    Denied = 1,
    /// The request was unusable (a CSR that does not verify, a refused audience).
    Invalid = 2,
    /// The CA failed.
    Failed = 3,
}

const SIGN_LABELS: [StaticLabels<2>; 8] = {
    const fn l(kind: &'static str, outcome: &'static str) -> StaticLabels<2> {
        [("kind", kind), ("outcome", outcome)]
    }
    [
        l("x509", "issued"),
        l("x509", "denied"),
        l("x509", "invalid"),
        l("x509", "failed"),
        l("jwt", "issued"),
        l("jwt", "denied"),
        l("jwt", "invalid"),
        l("jwt", "failed"),
    ]
};

/// The `attestor` label values: the node attestors there are, and `none` for an attestation
/// that ended before one took its evidence (refused at admission, no or unknown type).
const ATTESTORS: [&str; 4] = ["join_token", "k8s_psat", "x509pop", "none"];
/// The index of `none` in [`ATTESTORS`].
const NO_ATTESTOR: usize = ATTESTORS.len() - 1;

/// The `outcome` label values of an attestation, from the status it ended with.
const ATTEST_OUTCOMES: [&str; 6] = [
    "success", "denied", "timeout", "refused", "aborted", "error",
];

fn attest_outcome(code: Option<Code>) -> usize {
    match code {
        None => 0,
        Some(Code::DeadlineExceeded) => 2,
        Some(Code::ResourceExhausted) => 3,
        Some(Code::Cancelled) => 4,
        Some(Code::Unavailable | Code::Internal | Code::Unknown) => 5,
        Some(_) => 1,
    }
}

const ATTEST_LABELS: [StaticLabels<2>; 24] = {
    let mut labels = [[("attestor", ""), ("outcome", "")]; 24];
    let mut i = 0;
    while i < 24 {
        labels[i] = [
            ("attestor", ATTESTORS[i / ATTEST_OUTCOMES.len()]),
            ("outcome", ATTEST_OUTCOMES[i % ATTEST_OUTCOMES.len()]),
        ];
        i += 1;
    }
    labels
};

/// The admin API's methods: `(path, method label)`. A test checks the list against the
/// `.proto` file, so a new RPC cannot be left out (it would count as `unknown`).
pub const ADMIN_METHODS: &[(&str, &str)] = &[
    ("/lanyard.admin.v1.Entries/CreateEntry", "CreateEntry"),
    (
        "/lanyard.admin.v1.Entries/BatchCreateEntries",
        "BatchCreateEntries",
    ),
    ("/lanyard.admin.v1.Entries/UpdateEntry", "UpdateEntry"),
    ("/lanyard.admin.v1.Entries/DeleteEntry", "DeleteEntry"),
    ("/lanyard.admin.v1.Entries/GetEntry", "GetEntry"),
    ("/lanyard.admin.v1.Entries/ListEntries", "ListEntries"),
    ("/lanyard.admin.v1.Entries/CountEntries", "CountEntries"),
    ("/lanyard.admin.v1.Agents/ListAgents", "ListAgents"),
    ("/lanyard.admin.v1.Agents/GetAgent", "GetAgent"),
    ("/lanyard.admin.v1.Agents/EvictAgent", "EvictAgent"),
    ("/lanyard.admin.v1.Agents/BanAgent", "BanAgent"),
    (
        "/lanyard.admin.v1.JoinTokens/GenerateJoinToken",
        "GenerateJoinToken",
    ),
    ("/lanyard.admin.v1.Bundles/GetBundle", "GetBundle"),
    (
        "/lanyard.admin.v1.Bundles/ListFederatedBundles",
        "ListFederatedBundles",
    ),
    (
        "/lanyard.admin.v1.Bundles/SetFederatedBundle",
        "SetFederatedBundle",
    ),
    (
        "/lanyard.admin.v1.Bundles/DeleteFederatedBundle",
        "DeleteFederatedBundle",
    ),
    (
        "/lanyard.admin.v1.Federation/CreateFederationRelationship",
        "CreateFederationRelationship",
    ),
    (
        "/lanyard.admin.v1.Federation/UpdateFederationRelationship",
        "UpdateFederationRelationship",
    ),
    (
        "/lanyard.admin.v1.Federation/DeleteFederationRelationship",
        "DeleteFederationRelationship",
    ),
    (
        "/lanyard.admin.v1.Federation/ListFederationRelationships",
        "ListFederationRelationships",
    ),
    (
        "/lanyard.admin.v1.Federation/GetFederationRelationship",
        "GetFederationRelationship",
    ),
    (
        "/lanyard.admin.v1.Federation/RefreshBundle",
        "RefreshBundle",
    ),
    (
        "/lanyard.admin.v1.LocalAuthority/GetX509Authorities",
        "GetX509Authorities",
    ),
    (
        "/lanyard.admin.v1.LocalAuthority/PrepareX509Authority",
        "PrepareX509Authority",
    ),
    (
        "/lanyard.admin.v1.LocalAuthority/ActivateX509Authority",
        "ActivateX509Authority",
    ),
    (
        "/lanyard.admin.v1.LocalAuthority/TaintX509Authority",
        "TaintX509Authority",
    ),
    (
        "/lanyard.admin.v1.LocalAuthority/RevokeX509Authority",
        "RevokeX509Authority",
    ),
    (
        "/lanyard.admin.v1.LocalAuthority/GetJwtAuthorities",
        "GetJwtAuthorities",
    ),
    (
        "/lanyard.admin.v1.LocalAuthority/PrepareJwtAuthority",
        "PrepareJwtAuthority",
    ),
    (
        "/lanyard.admin.v1.LocalAuthority/ActivateJwtAuthority",
        "ActivateJwtAuthority",
    ),
    (
        "/lanyard.admin.v1.LocalAuthority/TaintJwtAuthority",
        "TaintJwtAuthority",
    ),
    (
        "/lanyard.admin.v1.LocalAuthority/RevokeJwtAuthority",
        "RevokeJwtAuthority",
    ),
    ("/lanyard.admin.v1.Jwt/MintJwtSvid", "MintJwtSvid"),
    ("/lanyard.admin.v1.Logger/GetLogger", "GetLogger"),
    ("/lanyard.admin.v1.Logger/SetLogLevel", "SetLogLevel"),
    ("/lanyard.admin.v1.Logger/ResetLogLevel", "ResetLogLevel"),
];

/// The server's event metrics. Cloning shares them; [`ServerMetrics::default`] records into
/// metrics nobody exports (unit tests).
#[derive(Debug, Clone)]
pub struct ServerMetrics {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    signings: LazyCounters<2, 8>,
    /// By [`SvidKind`].
    signing_latency: [Histogram; 2],
    attestations: LazyCounters<2, 24>,
    agent_connections: Gauge,
    sync_streams: Gauge,
    admin: GrpcMetrics,
}

impl Default for ServerMetrics {
    fn default() -> Self {
        ServerMetrics::new(&mut Registry::default())
    }
}

impl ServerMetrics {
    /// Registers the event metrics in `registry`.
    pub fn new(registry: &mut Registry) -> ServerMetrics {
        let signings = Family::<StaticLabels<2>, Counter>::default();
        registry.register(
            "lanyard_server_svid_signings",
            "Workload SVID signing requests (one per entry of a BatchSignX509Svids or MintJwtSvids call), by kind (x509, jwt) and outcome (issued; denied: entry missing, expired or not the agent's; invalid: CSR or audience refused; failed: CA error)",
            signings.clone(),
        );
        let latency =
            Family::<StaticLabels<1>, Histogram, fn() -> Histogram>::new_with_constructor(|| {
                Histogram::new(LATENCY_BUCKETS)
            });
        registry.register_with_unit(
            "lanyard_server_svid_signing_duration",
            "Time the CA took to sign one workload SVID, by kind (x509, jwt)",
            Unit::Seconds,
            latency.clone(),
        );
        let attestations = Family::<StaticLabels<2>, Counter>::default();
        registry.register(
            "lanyard_server_attestations",
            "Node attestations (the agent API's Attest), by attestor (join_token, k8s_psat, x509pop; none: ended before an attestor took the evidence) and outcome (success, denied, timeout, refused: over max_attestations, aborted: the agent went away, error: the server failed)",
            attestations.clone(),
        );
        let agent_connections = Gauge::default();
        registry.register(
            "lanyard_server_agent_api_connections",
            "Open agent API connections (TLS established; at most [agent_api] max_connections)",
            agent_connections.clone(),
        );
        let sync_streams = Gauge::default();
        registry.register(
            "lanyard_server_sync_streams",
            "Open Sync streams: the agents connected to this server",
            sync_streams.clone(),
        );
        let admin = GrpcMetrics::new(registry, "lanyard_server_admin", "Admin API", ADMIN_METHODS);
        let kind = |k: &'static str| latency.get_or_create_owned(&[("kind", k)]);
        ServerMetrics {
            inner: Arc::new(Inner {
                signings: LazyCounters::new(signings, SIGN_LABELS),
                signing_latency: [kind("x509"), kind("jwt")],
                attestations: LazyCounters::new(attestations, ATTEST_LABELS),
                agent_connections,
                sync_streams,
                admin,
            }),
        }
    }

    /// Counts one SVID signing request; `took` is the CA's time when it was asked to sign.
    pub fn signed(&self, kind: SvidKind, outcome: SignOutcome, took: Option<Duration>) {
        let inner = &self.inner;
        inner.signings.inc(kind as usize * 4 + outcome as usize);
        if let Some(took) = took {
            inner.signing_latency[kind as usize].observe(took);
        }
    }

    /// Counts one attestation that ended with `code` (`None`: success) with the attestor named
    /// `attestor` (`None`: before one took the evidence).
    pub fn attested(&self, attestor: Option<&str>, code: Option<Code>) {
        let a = attestor
            .and_then(|name| ATTESTORS[..NO_ATTESTOR].iter().position(|n| *n == name))
            .unwrap_or(NO_ATTESTOR);
        self.inner
            .attestations
            .inc(a * ATTEST_OUTCOMES.len() + attest_outcome(code));
    }

    /// The gauge of open agent API connections.
    pub fn agent_connections(&self) -> &Gauge {
        &self.inner.agent_connections
    }

    /// The gauge of open Sync streams.
    pub fn sync_streams(&self) -> &Gauge {
        &self.inner.sync_streams
    }

    /// The admin API's call metrics.
    pub fn admin(&self) -> &GrpcMetrics {
        &self.inner.admin
    }
}

/// The server's state, read at each scrape: entries, the change log's head and the entry
/// cache's lag, and each authority's `not_after` (from the bundle the cache holds).
#[derive(Debug)]
pub struct StateCollector {
    cache: EntryCache,
    /// The datastore's latest committed `seq` ([`lanyard_datastore::Datastore::subscribe`]).
    head: watch::Receiver<i64>,
}

impl StateCollector {
    /// Reads `cache`; `head` is the datastore's committed-`seq` receiver.
    pub fn new(cache: EntryCache, head: watch::Receiver<i64>) -> StateCollector {
        StateCollector { cache, head }
    }

    /// Registers the collector in `registry`.
    pub fn register(self, registry: &mut Registry) {
        registry.register_collector(Box::new(self));
    }
}

/// Encodes one unlabelled gauge.
fn gauge(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    value: i64,
) -> Result<(), std::fmt::Error> {
    let g = ConstGauge::new(value);
    g.encode(encoder.encode_descriptor(name, help, None, g.metric_type())?)
}

impl Collector for StateCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let head = *self.head.borrow();
        let applied = self.cache.seq();
        gauge(
            &mut encoder,
            "lanyard_server_entries",
            "Registration entries (node entries included) in the server's entry cache",
            i64::try_from(self.cache.len()).unwrap_or(i64::MAX),
        )?;
        gauge(
            &mut encoder,
            "lanyard_server_change_log_head_seq",
            "The seq of the last change-log event committed to the datastore, as this server knows it",
            head,
        )?;
        gauge(
            &mut encoder,
            "lanyard_server_entry_cache_lag_events",
            "Change-log events committed but not yet applied to this server's entry cache (and so not yet pushed to agents)",
            (head - applied).max(0),
        )?;
        let bundle = self.cache.bundle();
        let unit = Unit::Seconds;
        let mut family = encoder.encode_descriptor(
            "lanyard_server_authority_not_after_timestamp",
            "When each authority of the trust bundle expires (Unix time), by kind (x509: id is its Subject Key Identifier in hex; jwt: id is its key ID)",
            Some(&unit),
            MetricType::Gauge,
        )?;
        for cert in &bundle.x509_authorities {
            let Ok(info) = CertInfo::from_der(cert.as_bytes()) else {
                continue;
            };
            let id = info
                .subject_key_id
                .as_deref()
                .map(hex::encode)
                .unwrap_or_default();
            let labels = [("kind", "x509"), ("id", id.as_str())];
            ConstGauge::new(unix_seconds(info.not_after)).encode(family.encode_family(&labels)?)?;
        }
        for (kid, key) in &bundle.jwt_authorities {
            let Some(expires_at) = key.expires_at else {
                continue;
            };
            let labels = [("kind", "jwt"), ("id", kid.as_str())];
            ConstGauge::new(unix_seconds(expires_at)).encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_admin_rpc_of_the_proto_is_listed() {
        let proto = include_str!("../../proto/lanyard/admin/v1/admin.proto");
        let mut service = "";
        let mut rpcs = Vec::new();
        for line in proto.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("service ") {
                service = rest.split_whitespace().next().unwrap();
            } else if let Some(rest) = line.strip_prefix("rpc ") {
                let method = rest.split('(').next().unwrap().trim();
                rpcs.push((
                    format!("/lanyard.admin.v1.{service}/{method}"),
                    method.to_owned(),
                ));
            }
        }
        let listed: Vec<_> = ADMIN_METHODS
            .iter()
            .map(|(p, m)| ((*p).to_owned(), (*m).to_owned()))
            .collect();
        assert_eq!(listed, rpcs);
    }

    #[test]
    fn label_tables_match_the_recording_indices() {
        assert_eq!(
            SIGN_LABELS[SvidKind::Jwt as usize * 4 + SignOutcome::Denied as usize],
            [("kind", "jwt"), ("outcome", "denied")]
        );
        assert_eq!(
            ATTEST_LABELS[6 + attest_outcome(Some(Code::DeadlineExceeded))],
            [("attestor", "k8s_psat"), ("outcome", "timeout")]
        );
        assert_eq!(
            ATTEST_LABELS[12 + attest_outcome(Some(Code::PermissionDenied))],
            [("attestor", "x509pop"), ("outcome", "denied")]
        );
        assert_eq!(
            ATTEST_LABELS[18 + attest_outcome(None)],
            [("attestor", "none"), ("outcome", "success")]
        );
    }

    #[test]
    fn events_are_exported_with_their_labels() {
        let mut registry = Registry::default();
        let m = ServerMetrics::new(&mut registry);
        m.signed(
            SvidKind::X509,
            SignOutcome::Issued,
            Some(Duration::from_millis(1)),
        );
        m.signed(SvidKind::Jwt, SignOutcome::Denied, None);
        m.attested(Some("join_token"), None);
        m.attested(Some("someone's own type"), Some(Code::InvalidArgument));
        let text = lanyard_observe::metrics::encode(&registry).unwrap();
        for line in [
            "lanyard_server_svid_signings_total{kind=\"x509\",outcome=\"issued\"} 1",
            "lanyard_server_svid_signings_total{kind=\"jwt\",outcome=\"denied\"} 1",
            "lanyard_server_svid_signing_duration_seconds_count{kind=\"x509\"} 1",
            "lanyard_server_svid_signing_duration_seconds_count{kind=\"jwt\"} 0",
            "lanyard_server_attestations_total{attestor=\"join_token\",outcome=\"success\"} 1",
            "lanyard_server_attestations_total{attestor=\"none\",outcome=\"denied\"} 1",
            "lanyard_server_sync_streams 0",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?}:\n{text}");
        }
    }
}
