//! Prometheus metrics shared by both binaries: the `/metrics` encoding of a process's
//! [`Registry`], a lock-free latency [`Histogram`], a gauge held up while something is open
//! ([`OpenGuard`]), and a table of counters created on first use for fixed label values
//! ([`LazyCounters`]).
//!
//! Every metric here is recorded on hot paths (a signing call, a Workload API call), so a
//! recording is one or two atomic operations: no lock, no allocation, no label set built per call.
//! prometheus-client's own `Histogram` (0.25) takes a mutex per observation, hence [`Histogram`]; its
//! `Family::get_or_create` takes a read lock and hashes the labels, hence [`LazyCounters`],
//! which does that once per label value and keeps the handle.
//!
//! The exposition is OpenMetrics text ([`CONTENT_TYPE`]), which Prometheus negotiates; counters
//! are registered without `_total` and durations with [`Unit::Seconds`], and the encoder adds the
//! suffixes (`lanyard_x_total`, `lanyard_y_seconds`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use prometheus_client;
use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::{MetricType, TypedMetric};
pub use prometheus_client::registry::{Registry, Unit};

/// The `Content-Type` of `/metrics`.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Bucket bounds (seconds) for the latency of one signing or attestation: from 250 µs (a cached
/// attestation, an EC signature) to 10 s (beyond every default timeout).
pub const LATENCY_BUCKETS: &[f64] = &[
    0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    10.0,
];

/// `registry` in the OpenMetrics text format.
pub fn encode(registry: &Registry) -> Result<String, std::fmt::Error> {
    let mut out = String::with_capacity(8 * 1024);
    prometheus_client::encoding::text::encode(&mut out, registry)?;
    Ok(out)
}

/// `t` as a timestamp gauge's value: whole Unix seconds (0 before the epoch).
pub fn unix_seconds(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A histogram of durations kept in atomics: one `fetch_add` on the bucket and one on the sum per
/// observation. Cloning shares it.
#[derive(Debug, Clone)]
pub struct Histogram(Arc<HistogramInner>);

#[derive(Debug)]
struct HistogramInner {
    /// Upper bounds in seconds, ascending; a last bucket (`+Inf`) follows them.
    bounds: &'static [f64],
    /// Observations per bucket (not cumulative): `bounds.len() + 1` of them.
    counts: Box<[AtomicU64]>,
    /// The sum of every observation, in nanoseconds.
    sum_nanos: AtomicU64,
}

impl Histogram {
    /// A histogram over `bounds` (seconds, ascending).
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram(Arc::new(HistogramInner {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_nanos: AtomicU64::new(0),
        }))
    }

    /// Records one duration.
    pub fn observe(&self, d: Duration) {
        let inner = &self.0;
        let secs = d.as_secs_f64();
        let bucket = inner
            .bounds
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(inner.bounds.len());
        inner.counts[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        inner.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

impl TypedMetric for Histogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for Histogram {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        let inner = &self.0;
        // prometheus-client's encoder takes per-bucket counts and writes them cumulated, the
        // bound `f64::INFINITY` as `+Inf`.
        let buckets: Vec<(f64, u64)> = inner
            .bounds
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .zip(inner.counts.iter().map(|c| c.load(Ordering::Relaxed)))
            .collect();
        let count = buckets.iter().map(|(_, n)| n).sum();
        // Nanoseconds to seconds: exact to the nanosecond up to 2^53 ns (104 days) of summed
        // latency, and a sum is only ever divided by a count.
        let sum = inner.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

/// Holds a gauge one higher for as long as it lives (an open connection, an open stream).
#[derive(Debug)]
pub struct OpenGuard(Gauge);

impl OpenGuard {
    /// Raises `gauge` by one until the guard is dropped.
    pub fn new(gauge: &Gauge) -> OpenGuard {
        gauge.inc();
        OpenGuard(gauge.clone())
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// A label set of fixed label names and values known at compile time.
pub type StaticLabels<const N: usize> = [(&'static str, &'static str); N];

/// The counters of one family for `N` fixed label values, each created in the family (and so
/// exported) on its first increment, then incremented through its cached handle: a series
/// appears only once something happened, and a hot path pays one atomic load and one
/// `fetch_add`.
#[derive(Debug)]
pub struct LazyCounters<const L: usize, const N: usize> {
    family: Family<StaticLabels<L>, Counter>,
    labels: [StaticLabels<L>; N],
    handles: [OnceLock<Counter>; N],
}

impl<const L: usize, const N: usize> LazyCounters<L, N> {
    /// The counters of `family` for each of `labels`.
    pub fn new(family: Family<StaticLabels<L>, Counter>, labels: [StaticLabels<L>; N]) -> Self {
        LazyCounters {
            family,
            labels,
            handles: std::array::from_fn(|_| OnceLock::new()),
        }
    }

    /// Adds one to the counter of `labels[i]`.
    ///
    /// # Panics
    ///
    /// If `i >= N`: callers index with their own enums' discriminants.
    pub fn inc(&self, i: usize) {
        self.handles[i]
            .get_or_init(|| self.family.get_or_create_owned(&self.labels[i]))
            .inc();
    }
}

/// The canonical names of the gRPC status codes, by code (`OK` is 0): the values of a `code`
/// label.
pub const GRPC_CODES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// The index of `code` in [`GRPC_CODES`]; `UNKNOWN` (2) for anything outside it.
pub fn grpc_code_index(code: i32) -> usize {
    usize::try_from(code)
        .ok()
        .filter(|c| *c < GRPC_CODES.len())
        .unwrap_or(2)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn histogram_and_lazy_counters_encode_as_openmetrics() {
        let mut registry = Registry::default();
        let latency = Histogram::new(&[0.001, 0.01]);
        registry.register_with_unit(
            "lanyard_test_latency",
            "How long a test thing took",
            Unit::Seconds,
            latency.clone(),
        );
        let family = Family::<StaticLabels<1>, Counter>::default();
        registry.register("lanyard_test_things", "Things, by outcome", family.clone());
        let things = LazyCounters::new(family, [[("outcome", "ok")], [("outcome", "failed")]]);
        let open = Gauge::default();
        registry.register("lanyard_test_open", "Open things", open.clone());

        latency.observe(Duration::from_micros(500));
        latency.observe(Duration::from_millis(5));
        latency.observe(Duration::from_secs(1));
        things.inc(0);
        things.inc(0);
        let guard = OpenGuard::new(&open);
        let text = encode(&registry).unwrap();
        drop(guard);

        for line in [
            "# TYPE lanyard_test_latency_seconds histogram",
            "# UNIT lanyard_test_latency_seconds seconds",
            "lanyard_test_latency_seconds_sum 1.0055",
            "lanyard_test_latency_seconds_count 3",
            "lanyard_test_latency_seconds_bucket{le=\"0.001\"} 1",
            "lanyard_test_latency_seconds_bucket{le=\"0.01\"} 2",
            "lanyard_test_latency_seconds_bucket{le=\"+Inf\"} 3",
            "# HELP lanyard_test_things Things, by outcome.",
            "# TYPE lanyard_test_things counter",
            "lanyard_test_things_total{outcome=\"ok\"} 2",
            "lanyard_test_open 1",
            "# EOF",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in:\n{text}"
            );
        }
        assert!(
            !text.contains("outcome=\"failed\""),
            "a label value nothing happened to is not exported yet:\n{text}"
        );
        assert!(encode(&registry).unwrap().contains("lanyard_test_open 0"));
    }

    #[test]
    fn unknown_grpc_codes_count_as_unknown() {
        assert_eq!(GRPC_CODES[grpc_code_index(0)], "OK");
        assert_eq!(GRPC_CODES[grpc_code_index(7)], "PERMISSION_DENIED");
        assert_eq!(GRPC_CODES[grpc_code_index(16)], "UNAUTHENTICATED");
        assert_eq!(GRPC_CODES[grpc_code_index(17)], "UNKNOWN");
        assert_eq!(GRPC_CODES[grpc_code_index(-1)], "UNKNOWN");
    }
}
