//! `[k8s_bundle_configmap]` and `[k8s_leader_election]`: the cluster-wide work a server does in
//! Kubernetes besides attestation, and how several servers agree on who does it.
//!
//! Both reach the API server of one `[node_attestors.k8s_psat.clusters.<name>]` (its
//! `kube_config_file`, or in-cluster), as `[k8s_auto_registration]` does. Names are checked
//! against the API server's own rules here, so a typo fails at start rather than as a 422 on
//! every write.

use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, ServerConfig};

/// `[k8s_bundle_configmap]`: the server keeps the trust bundle (PEM of the X.509 authorities,
/// what `bundle show --format pem` prints and what agents' `trust_bundle_path` reads) in a
/// ConfigMap, so that new nodes attest after any number of CA rotations.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct K8sBundleConfigMapConfig {
    /// The cluster whose API server holds the ConfigMap: a
    /// `[node_attestors.k8s_psat.clusters.<name>]`. Required.
    pub cluster: String,
    /// The ConfigMap's namespace.
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// The ConfigMap's name; created if missing.
    #[serde(default = "default_configmap_name")]
    pub name: String,
    /// The key of the ConfigMap's `data` that holds the PEM.
    #[serde(default = "default_configmap_key")]
    pub key: String,
}

/// `[k8s_leader_election]`: servers sharing a datastore choose one of them, by a
/// `coordination.k8s.io/v1` Lease, to run the auto-registration controller and the bundle
/// ConfigMap writer. Without it every server runs them (right for a single server).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct K8sLeaderElectionConfig {
    /// The cluster whose API server holds the Lease: a
    /// `[node_attestors.k8s_psat.clusters.<name>]`. Required.
    pub cluster: String,
    /// The Lease's namespace.
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// The Lease's name; created if missing. Every server of one trust domain uses the same.
    #[serde(default = "default_lease_name")]
    pub lease_name: String,
    /// How long the Lease is the leader's after its last renewal: how long the others wait
    /// after a leader died before one takes over. Whole seconds (the Lease counts seconds).
    #[serde(default = "default_lease_duration", with = "humantime_serde")]
    pub lease_duration: Duration,
    /// How long the leader keeps leading while renewals fail; then it stops the work, before
    /// `lease_duration` lets another server start it.
    #[serde(default = "default_renew_deadline", with = "humantime_serde")]
    pub renew_deadline: Duration,
    /// How often the leader renews and the others try to acquire.
    #[serde(default = "default_retry_period", with = "humantime_serde")]
    pub retry_period: Duration,
}

fn default_namespace() -> String {
    "lanyard".to_owned()
}
fn default_configmap_name() -> String {
    "lanyard-bootstrap-bundle".to_owned()
}
fn default_configmap_key() -> String {
    "bundle.pem".to_owned()
}
fn default_lease_name() -> String {
    "lanyard-server-leader".to_owned()
}
/// client-go's defaults (15 s, 10 s, 2 s), which Kubernetes' own controllers use.
fn default_lease_duration() -> Duration {
    Duration::from_secs(15)
}
fn default_renew_deadline() -> Duration {
    Duration::from_secs(10)
}
fn default_retry_period() -> Duration {
    Duration::from_secs(2)
}

/// How much later than `retry_period` a try may come (the wait is jittered up to this factor,
/// as client-go's `JitterFactor`), which `renew_deadline` must leave room for.
pub const RETRY_JITTER: f64 = 1.2;

fn invalid<T>(field: &'static str, problem: String) -> Result<T, ConfigError> {
    Err(ConfigError::Invalid { field, problem })
}

/// A DNS-1123 label (namespaces): at most 63 of `a-z`, `0-9`, `-`, starting and ending
/// alphanumeric.
fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// A DNS-1123 subdomain (ConfigMap and Lease names): at most 253 characters, dot-separated
/// labels.
fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// A ConfigMap key: at most 253 of `A-Z a-z 0-9 - _ .`, not `.` or `..`.
fn is_configmap_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// `field` names a `[node_attestors.k8s_psat.clusters.<name>]`.
pub(super) fn check_cluster(
    c: &ServerConfig,
    field: &'static str,
    cluster: &str,
    why: &str,
) -> Result<(), ConfigError> {
    if c.k8s_psat_cluster(cluster).is_some() {
        return Ok(());
    }
    invalid(
        field,
        format!("is {cluster:?}, which is not a [node_attestors.k8s_psat.clusters.<name>]: {why}"),
    )
}

fn check_namespace(field: &'static str, ns: &str) -> Result<(), ConfigError> {
    if is_dns_label(ns) {
        return Ok(());
    }
    invalid(
        field,
        format!(
            "is {ns:?}, not a Kubernetes namespace name: at most 63 lowercase letters, digits and '-', e.g. \"lanyard\""
        ),
    )
}

fn check_object_name(field: &'static str, name: &str, example: &str) -> Result<(), ConfigError> {
    if is_dns_subdomain(name) {
        return Ok(());
    }
    invalid(
        field,
        format!(
            "is {name:?}, not a Kubernetes object name: lowercase letters, digits, '-' and '.', e.g. \"{example}\""
        ),
    )
}

/// Validates both tables.
pub(super) fn validate(c: &ServerConfig) -> Result<(), ConfigError> {
    if let Some(b) = &c.k8s_bundle_configmap {
        check_cluster(
            c,
            "k8s_bundle_configmap.cluster",
            &b.cluster,
            "the ConfigMap is written through that cluster's API access",
        )?;
        check_namespace("k8s_bundle_configmap.namespace", &b.namespace)?;
        check_object_name(
            "k8s_bundle_configmap.name",
            &b.name,
            "lanyard-bootstrap-bundle",
        )?;
        if !is_configmap_key(&b.key) {
            return invalid(
                "k8s_bundle_configmap.key",
                format!(
                    "is {:?}, not a ConfigMap key: letters, digits, '-', '_' and '.', e.g. \"bundle.pem\" (the file name agents see where the ConfigMap is mounted)",
                    b.key
                ),
            );
        }
    }
    if let Some(l) = &c.k8s_leader_election {
        check_cluster(
            c,
            "k8s_leader_election.cluster",
            &l.cluster,
            "the Lease is held through that cluster's API access",
        )?;
        check_namespace("k8s_leader_election.namespace", &l.namespace)?;
        check_object_name(
            "k8s_leader_election.lease_name",
            &l.lease_name,
            "lanyard-server-leader",
        )?;
        validate_timing(l)?;
    }
    Ok(())
}

/// client-go's rules: `lease_duration > renew_deadline > retry_period * 1.2`, so a leader stops
/// before another may start, and retries at least once before it stops.
fn validate_timing(l: &K8sLeaderElectionConfig) -> Result<(), ConfigError> {
    let show = |d: Duration| humantime::format_duration(d).to_string();
    let d = l.lease_duration;
    if d.subsec_nanos() != 0 || d < Duration::from_secs(1) || d > Duration::from_secs(3600) {
        return invalid(
            "k8s_leader_election.lease_duration",
            format!(
                "is {}; give whole seconds between 1s and 1h (a Lease counts seconds), e.g. \"15s\"",
                show(d)
            ),
        );
    }
    if l.renew_deadline >= d {
        return invalid(
            "k8s_leader_election.renew_deadline",
            format!(
                "({}) must be shorter than lease_duration ({}): a leader that cannot renew must stop before another server may start; e.g. \"10s\" with \"15s\"",
                show(l.renew_deadline),
                show(d)
            ),
        );
    }
    if l.retry_period < Duration::from_millis(100) {
        return invalid(
            "k8s_leader_election.retry_period",
            format!("is {}; at least 100ms, e.g. \"2s\"", show(l.retry_period)),
        );
    }
    if l.retry_period.mul_f64(RETRY_JITTER) >= l.renew_deadline {
        return invalid(
            "k8s_leader_election.retry_period",
            format!(
                "({}) times {RETRY_JITTER} must be shorter than renew_deadline ({}): the leader must be able to retry a failed renewal before it stops; e.g. \"2s\" with \"10s\"",
                show(l.retry_period),
                show(l.renew_deadline)
            ),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const BASE: &str = "trust_domain = \"example.org\"\n\
        [node_attestors.k8s_psat.clusters.prod]\n\
        service_account_allow_list = [\"lanyard:lanyard-agent\"]\n";

    fn parse(extra: &str) -> Result<ServerConfig, String> {
        ServerConfig::from_toml(&format!("{BASE}{extra}")).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_match_the_manifests() {
        let c = parse("[k8s_bundle_configmap]\ncluster = \"prod\"\n[k8s_leader_election]\ncluster = \"prod\"\n")
            .unwrap();
        let b = c.k8s_bundle_configmap.unwrap();
        assert_eq!(
            (b.namespace.as_str(), b.name.as_str(), b.key.as_str()),
            ("lanyard", "lanyard-bootstrap-bundle", "bundle.pem")
        );
        let l = c.k8s_leader_election.unwrap();
        assert_eq!(l.lease_name, "lanyard-server-leader");
        assert_eq!(
            (l.lease_duration, l.renew_deadline, l.retry_period),
            (
                Duration::from_secs(15),
                Duration::from_secs(10),
                Duration::from_secs(2)
            )
        );
    }

    #[test]
    fn bad_values_are_refused_with_what_to_do() {
        for (extra, says) in [
            (
                "[k8s_bundle_configmap]\ncluster = \"dev\"\n",
                "k8s_bundle_configmap.cluster",
            ),
            (
                "[k8s_bundle_configmap]\ncluster = \"prod\"\nnamespace = \"Lanyard\"\n",
                "not a Kubernetes namespace name",
            ),
            (
                "[k8s_bundle_configmap]\ncluster = \"prod\"\nname = \"bundle_cm\"\n",
                "not a Kubernetes object name",
            ),
            (
                "[k8s_bundle_configmap]\ncluster = \"prod\"\nkey = \"a/b\"\n",
                "not a ConfigMap key",
            ),
            (
                "[k8s_bundle_configmap]\ncluster = \"prod\"\nkeys = \"x\"\n",
                "unknown field",
            ),
            (
                "[k8s_leader_election]\ncluster = \"x\"\n",
                "k8s_leader_election.cluster",
            ),
            (
                "[k8s_leader_election]\ncluster = \"prod\"\nlease_duration = \"1500ms\"\n",
                "whole seconds",
            ),
            (
                "[k8s_leader_election]\ncluster = \"prod\"\nlease_duration = \"10s\"\n",
                "must be shorter than lease_duration",
            ),
            (
                "[k8s_leader_election]\ncluster = \"prod\"\nretry_period = \"9s\"\n",
                "must be shorter than renew_deadline",
            ),
            (
                "[k8s_leader_election]\ncluster = \"prod\"\nretry_period = \"10ms\"\n",
                "at least 100ms",
            ),
            (
                "[k8s_leader_election]\ncluster = \"prod\"\nlease_name = \"-x\"\n",
                "k8s_leader_election.lease_name",
            ),
        ] {
            let e = parse(extra).unwrap_err();
            assert!(e.contains(says), "{extra:?}: {e}");
        }
        let c = parse(
            "[k8s_leader_election]\ncluster = \"prod\"\nlease_duration = \"3s\"\nrenew_deadline = \"2s\"\nretry_period = \"500ms\"\n",
        )
        .unwrap();
        assert_eq!(
            c.k8s_leader_election.unwrap().retry_period,
            Duration::from_millis(500)
        );
    }
}
