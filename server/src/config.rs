//! `server.toml`: the server's strict configuration.
//!
//! Parsing (`ServerConfig::from_toml`) is separate from file I/O (`ServerConfig::load`) so tests
//! feed strings; both, the error type and the keys the agent's file has too come from
//! `lanyard-config`. Unknown keys are errors naming the key (`deny_unknown_fields`); durations
//! are human strings (`"90s"`, `"1h"`). Every key is documented in `deploy/conf/server.toml`;
//! the flags and environment variables that override some are `lanyard_config::SERVER`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lanyard_config::{ConfigFile, FileArgs, Overridable};
use lanyard_id::TrustDomain;
use lanyard_observe::LogFormat;
use serde::Deserialize;

pub use lanyard_config::ConfigError;

mod federation;
mod kubernetes;
pub use federation::{BundleEndpointConfig, FederatesWithConfig, FederationConfig, ProfileName};
pub use kubernetes::{K8sBundleConfigMapConfig, K8sLeaderElectionConfig, RETRY_JITTER};

/// `[health]`: `/live` and `/ready`, on `127.0.0.1:8080` by default.
pub type HealthConfig = lanyard_config::HealthConfig<8080>;

/// Key algorithm of the CA (and of the keys it signs with).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum CaKeyType {
    /// ECDSA P-256 with SHA-256 (default, as SPIRE).
    #[default]
    #[serde(rename = "ec-p256")]
    EcP256,
    /// ECDSA P-384 with SHA-384.
    #[serde(rename = "ec-p384")]
    EcP384,
    /// RSA 2048 with PKCS#1 v1.5 SHA-256.
    #[serde(rename = "rsa-2048")]
    Rsa2048,
}

/// The whole `server.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// The trust domain this server is the authority for, e.g. `example.org`. Required.
    #[serde(deserialize_with = "lanyard_config::trust_domain")]
    pub trust_domain: TrustDomain,
    /// Directory for the CA keys and the default SQLite datastore.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// TCP address of the agent API (mTLS).
    #[serde(default = "default_bind_address")]
    pub bind_address: SocketAddr,
    /// Unix socket of the admin API; its directory is created with mode 0700.
    #[serde(default = "default_socket_path")]
    pub socket_path: PathBuf,
    /// `tracing` filter, e.g. `info` or `lanyard_server=debug,info`.
    #[serde(default = "lanyard_config::default_log_level")]
    pub log_level: String,
    /// `text` or `json`.
    #[serde(default)]
    pub log_format: LogFormat,
    /// `[datastore]`.
    #[serde(default)]
    pub datastore: DatastoreConfig,
    /// `[ca]`.
    #[serde(default)]
    pub ca: CaConfig,
    /// `[svid]`.
    #[serde(default)]
    pub svid: SvidConfig,
    /// `[jwt]`.
    #[serde(default)]
    pub jwt: JwtConfig,
    /// `[health]`.
    #[serde(default)]
    pub health: HealthConfig,
    /// `[agent_api]`: what one caller of the agent API may take.
    #[serde(default)]
    pub agent_api: AgentApiConfig,
    /// `[node_attestors]`: attestation methods besides join tokens (always on).
    #[serde(default)]
    pub node_attestors: NodeAttestorsConfig,
    /// `[entries]`: what registration entries may hold beyond the built-in rules.
    #[serde(default)]
    pub entries: EntriesConfig,
    /// `[k8s_auto_registration]`: registration entries from `ClusterSPIFFEID` resources; off if
    /// absent.
    pub k8s_auto_registration: Option<K8sAutoRegistrationConfig>,
    /// `[k8s_bundle_configmap]`: the trust bundle kept in a ConfigMap; off if absent.
    pub k8s_bundle_configmap: Option<K8sBundleConfigMapConfig>,
    /// `[k8s_leader_election]`: one server at a time runs the cluster-wide work; off (every
    /// server runs it) if absent.
    pub k8s_leader_election: Option<K8sLeaderElectionConfig>,
    /// How long a stopping server (SIGTERM, SIGINT) waits for open connections and streams
    /// before it exits anyway.
    #[serde(
        default = "lanyard_config::shutdown_grace::default",
        with = "humantime_serde"
    )]
    pub shutdown_grace: Duration,
    /// `[prune]`: what is deleted on a schedule, so that nothing grows forever.
    #[serde(default)]
    pub prune: PruneConfig,
    /// `[federation]`: the bundle endpoint, declared relationships with other trust domains and
    /// the bounds of fetching their bundles.
    #[serde(default)]
    pub federation: FederationConfig,
}

/// `[k8s_auto_registration]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct K8sAutoRegistrationConfig {
    /// The cluster to watch: a `[node_attestors.k8s_psat.clusters.<name>]` (its API access
    /// and name are reused; entries are parented by its agents).
    pub cluster: String,
}

/// `[node_attestors]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeAttestorsConfig {
    /// `[node_attestors.k8s_psat]`: Kubernetes projected service-account tokens; off if absent.
    pub k8s_psat: Option<K8sPsatConfig>,
    /// `[node_attestors.x509pop]`: node certificates from the operator's PKI; off if absent.
    pub x509pop: Option<X509PopConfig>,
}

/// `[node_attestors.x509pop]`: agents prove they hold the key of a node certificate issued by
/// a CA of `ca_bundle_path` (`attest/x509pop.rs`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct X509PopConfig {
    /// PEM file of the CA certificates node certificates must chain to (read at start).
    /// Required.
    pub ca_bundle_path: PathBuf,
    /// The agent ID's path below `/lanyard/agent/x509pop/`, from `{fingerprint}` (SHA-1 of the
    /// leaf), `{subject_cn}` and `{serial}` and literal path characters.
    #[serde(default = "default_x509pop_agent_path_template")]
    pub agent_path_template: String,
}

fn default_x509pop_agent_path_template() -> String {
    crate::attest::x509pop::DEFAULT_AGENT_PATH_TEMPLATE.to_owned()
}

fn validate_x509pop(pop: &X509PopConfig) -> Result<(), ConfigError> {
    if pop.ca_bundle_path.is_relative() {
        return Err(ConfigError::Invalid {
            field: "node_attestors.x509pop.ca_bundle_path",
            problem: "must be an absolute path".to_owned(),
        });
    }
    crate::attest::x509pop::AgentPathTemplate::parse(&pop.agent_path_template)
        .map(|_| ())
        .map_err(|problem| ConfigError::Invalid {
            field: "node_attestors.x509pop.agent_path_template",
            problem,
        })
}

/// `[node_attestors.k8s_psat]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct K8sPsatConfig {
    /// `[node_attestors.k8s_psat.clusters.<name>]`: the clusters whose agents may attest, by the
    /// name agents send (and that appears in their SPIFFE IDs).
    pub clusters: std::collections::BTreeMap<String, K8sClusterConfig>,
}

/// `[node_attestors.k8s_psat.clusters.<name>]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct K8sClusterConfig {
    /// Service accounts whose tokens may attest, as `namespace:name`. Required, non-empty.
    pub service_account_allow_list: Vec<String>,
    /// The audience the agents' tokens must be issued for.
    #[serde(default = "default_psat_audience")]
    pub audience: String,
    /// A kubeconfig file for reaching this cluster's API server; unset means the in-cluster
    /// configuration (the server runs in this cluster).
    pub kube_config_file: Option<PathBuf>,
    /// Node labels to turn into `k8s_psat:agent_node_label:<key>:<value>` selectors.
    #[serde(default)]
    pub allowed_node_label_keys: Vec<String>,
    /// Pod labels to turn into `k8s_psat:agent_pod_label:<key>:<value>` selectors.
    #[serde(default)]
    pub allowed_pod_label_keys: Vec<String>,
}

fn default_psat_audience() -> String {
    "lanyard-server".to_owned()
}

/// `[datastore]`.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatastoreConfig {
    /// `sqlite://...` or `postgres://...`; unset means `<data_dir>/datastore.sqlite3`.
    pub url: Option<String>,
}

/// `check-config` prints the configuration with `{:#?}`: the URL's password must not show.
impl std::fmt::Debug for DatastoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatastoreConfig")
            .field(
                "url",
                &self.url.as_deref().map(lanyard_datastore::redact_url),
            )
            .finish()
    }
}

/// `[ca]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaConfig {
    /// `ec-p256` (default), `ec-p384` or `rsa-2048`.
    #[serde(default)]
    pub key_type: CaKeyType,
    /// Lifetime of each CA certificate.
    #[serde(default = "default_ca_ttl", with = "humantime_serde")]
    pub ttl: Duration,
    /// `[ca.upstream]`: the operator's CA signs this server's CAs.
    #[serde(default)]
    pub upstream: Option<CaUpstreamConfig>,
}

impl Default for CaConfig {
    fn default() -> Self {
        Self {
            key_type: CaKeyType::default(),
            ttl: default_ca_ttl(),
            upstream: None,
        }
    }
}

/// `[ca.upstream]`: an upstream CA from disk. The server's CAs become intermediates signed by
/// it and the trust bundle carries the roots of `bundle_path` (see `ca::upstream`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaUpstreamConfig {
    /// PEM: the upstream CA certificate, then any intermediates between it and the root.
    pub cert_path: PathBuf,
    /// PEM PKCS#8: the upstream CA's private key (mode 0600).
    pub key_path: PathBuf,
    /// PEM: the upstream root certificates, published as the trust bundle.
    pub bundle_path: PathBuf,
}

fn validate_upstream(up: &CaUpstreamConfig) -> Result<(), ConfigError> {
    for (field, path) in [
        ("ca.upstream.cert_path", &up.cert_path),
        ("ca.upstream.key_path", &up.key_path),
        ("ca.upstream.bundle_path", &up.bundle_path),
    ] {
        if path.as_os_str().is_empty() || path.is_relative() {
            return Err(ConfigError::Invalid {
                field,
                problem: format!("{path:?} must be an absolute path to a PEM file"),
            });
        }
    }
    Ok(())
}

/// `[svid]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SvidConfig {
    /// X.509-SVID lifetime for entries that set none.
    #[serde(default = "default_x509_ttl", with = "humantime_serde")]
    pub default_x509_ttl: Duration,
    /// JWT-SVID lifetime for entries that set none.
    #[serde(default = "default_jwt_ttl", with = "humantime_serde")]
    pub default_jwt_ttl: Duration,
}

impl Default for SvidConfig {
    fn default() -> Self {
        Self {
            default_x509_ttl: default_x509_ttl(),
            default_jwt_ttl: default_jwt_ttl(),
        }
    }
}

/// `[jwt]`: the JWT-SVID signing keys (their lifetime and rotation follow `[ca] ttl`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtConfig {
    /// Key algorithm of the signing keys: `ec-p256` (default, ES256), `ec-p384` (ES384) or
    /// `rsa-2048` (RS256).
    #[serde(default)]
    pub key_type: CaKeyType,
}

/// `[agent_api]`: bounds that keep one agent, or one unauthenticated caller, from taking what
/// the others need.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentApiConfig {
    /// Signing calls (`BatchSignX509Svids`, `MintJwtSvids`) of one agent that run at once; more
    /// wait their turn (a bounded number; beyond it `ResourceExhausted`).
    #[serde(default = "default_max_concurrent_signs_per_agent")]
    pub max_concurrent_signs_per_agent: usize,
    /// How long one attestation may take, from the stream's opening until its evidence is
    /// verified; then it ends with `DeadlineExceeded` and nothing is stored.
    #[serde(default = "default_attestation_timeout", with = "humantime_serde")]
    pub attestation_timeout: Duration,
    /// Attestations in flight from one source IP address; more are refused at once.
    #[serde(default = "default_max_attestations_per_ip")]
    pub max_attestations_per_ip: usize,
    /// Attestations in flight in total; more are refused at once.
    #[serde(default = "default_max_attestations")]
    pub max_attestations: usize,
    /// Established agent API connections open at once (TLS handshake done, with or without a
    /// client certificate); one beyond it is closed on arrival.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
}

impl Default for AgentApiConfig {
    fn default() -> Self {
        Self {
            max_concurrent_signs_per_agent: default_max_concurrent_signs_per_agent(),
            attestation_timeout: default_attestation_timeout(),
            max_attestations_per_ip: default_max_attestations_per_ip(),
            max_attestations: default_max_attestations(),
            max_connections: default_max_connections(),
        }
    }
}

/// `[entries]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntriesConfig {
    /// Selector types accepted besides those this server's attestors produce (`unix`, `k8s`,
    /// `k8s_psat`), for entries matched by other attestors; their values are not checked.
    #[serde(default)]
    pub extra_selector_types: Vec<String>,
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("/var/lib/lanyard/server")
}
fn default_bind_address() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 8081))
}
fn default_socket_path() -> PathBuf {
    PathBuf::from("/tmp/lanyard-server/private/api.sock")
}
fn default_ca_ttl() -> Duration {
    Duration::from_secs(24 * 3600)
}
fn default_x509_ttl() -> Duration {
    Duration::from_secs(3600)
}
fn default_jwt_ttl() -> Duration {
    Duration::from_secs(300)
}
/// 2, so that one agent's signing calls leave the signing threads to the others: with it, an
/// agent looping batches of 500 slows another agent's batch at most 2x (the `sign_fairness` row
/// of docs/benchmarks.md). A server with few agents and many cores can raise it, so one busy
/// agent uses more of them.
fn default_max_concurrent_signs_per_agent() -> usize {
    2
}
fn default_attestation_timeout() -> Duration {
    Duration::from_secs(30)
}
fn default_max_attestations_per_ip() -> usize {
    64
}
fn default_max_attestations() -> usize {
    1024
}
fn default_max_connections() -> usize {
    20_000
}

fn validate_psat(psat: &K8sPsatConfig) -> Result<(), ConfigError> {
    let invalid = |field, problem: String| Err(ConfigError::Invalid { field, problem });
    if psat.clusters.is_empty() {
        return invalid(
            "node_attestors.k8s_psat.clusters",
            "is empty: add a [node_attestors.k8s_psat.clusters.<name>] table per cluster"
                .to_owned(),
        );
    }
    for (name, cluster) in &psat.clusters {
        // The name becomes a path segment of agent IDs (SPIFFE-ID §2.2 characters only).
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            || name == "."
            || name == ".."
        {
            return invalid(
                "node_attestors.k8s_psat.clusters",
                format!(
                    "has the name {name:?}; use letters, digits, '-', '_' or '.' (it becomes part of agent SPIFFE IDs)"
                ),
            );
        }
        if cluster.service_account_allow_list.is_empty() {
            return invalid(
                "node_attestors.k8s_psat.clusters.<name>.service_account_allow_list",
                format!(
                    "of cluster {name:?} is empty: list the agents' service accounts as \"namespace:name\""
                ),
            );
        }
        for sa in &cluster.service_account_allow_list {
            let ok = sa
                .split_once(':')
                .is_some_and(|(ns, n)| !ns.is_empty() && !n.is_empty() && !n.contains(':'));
            if !ok {
                return invalid(
                    "node_attestors.k8s_psat.clusters.<name>.service_account_allow_list",
                    format!(
                        "of cluster {name:?} holds {sa:?}; write \"namespace:name\", e.g. \"lanyard:lanyard-agent\""
                    ),
                );
            }
        }
        if cluster.audience.trim().is_empty() {
            return invalid(
                "node_attestors.k8s_psat.clusters.<name>.audience",
                format!("of cluster {name:?} is empty; the default is \"lanyard-server\""),
            );
        }
    }
    Ok(())
}

// Shutdown and pruning (issue 21): `shutdown_grace` and `[prune]`.

/// `[prune]`: expired join tokens and registration entries, and change-log events older than
/// `event_retention`, are deleted every `interval` (by every server of a shared datastore; each
/// row goes once).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PruneConfig {
    /// How often to prune; the first round runs at start.
    #[serde(default = "default_prune_interval", with = "humantime_serde")]
    pub interval: Duration,
    /// How long change-log events are kept. A server whose entry cache falls further behind
    /// than this reloads every entry (and its agents' Sync streams resynchronize).
    #[serde(default = "default_event_retention", with = "humantime_serde")]
    pub event_retention: Duration,
}

impl Default for PruneConfig {
    fn default() -> Self {
        Self {
            interval: default_prune_interval(),
            event_retention: default_event_retention(),
        }
    }
}

fn default_prune_interval() -> Duration {
    Duration::from_secs(60)
}
fn default_event_retention() -> Duration {
    Duration::from_secs(24 * 3600)
}

fn validate_lifecycle(c: &ServerConfig) -> Result<(), ConfigError> {
    let invalid = |field, problem: String| Err(ConfigError::Invalid { field, problem });
    let show = |d: Duration| humantime::format_duration(d).to_string();
    lanyard_config::shutdown_grace::check(c.shutdown_grace, "a server")?;
    let p = &c.prune;
    if p.interval < Duration::from_secs(1) || p.interval > Duration::from_secs(24 * 3600) {
        return invalid(
            "prune.interval",
            format!(
                "is {}; give it between 1s and 24h, e.g. \"1m\"",
                show(p.interval)
            ),
        );
    }
    if p.event_retention < Duration::from_secs(1) {
        return invalid(
            "prune.event_retention",
            format!(
                "is {}; keep events at least 1s (a server lagging longer reloads every entry), e.g. \"24h\"",
                show(p.event_retention)
            ),
        );
    }
    Ok(())
}

impl ServerConfig {
    /// Parses and validates a config from TOML text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        lanyard_config::from_toml(text)
    }

    /// Reads, parses and validates a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        lanyard_config::load(path)
    }

    /// The `[node_attestors.k8s_psat.clusters.<name>]` table `name`, if configured: the API
    /// access of every Kubernetes feature that names the cluster.
    pub fn k8s_psat_cluster(&self, name: &str) -> Option<&K8sClusterConfig> {
        self.node_attestors
            .k8s_psat
            .as_ref()
            .and_then(|p| p.clusters.get(name))
    }

    /// The datastore URL: the configured one, or an SQLite file in `data_dir`.
    pub fn datastore_url(&self) -> String {
        match &self.datastore.url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("datastore.sqlite3").display()
            ),
        }
    }
}

/// `lanyard-server run` and `check-config`: a flag wins over its variable, which wins over the
/// file.
impl Overridable for ServerConfig {
    const ARGS: &'static FileArgs = &lanyard_config::SERVER;
}

impl ConfigFile for ServerConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, problem: String| Err(ConfigError::Invalid { field, problem });
        lanyard_config::check_log_level(&self.log_level)?;
        if self.ca.ttl < Duration::from_secs(60) {
            return invalid(
                "ca.ttl",
                format!(
                    "is {}; a CA must live at least 1m",
                    humantime::format_duration(self.ca.ttl)
                ),
            );
        }
        for (field, ttl) in [
            ("svid.default_x509_ttl", self.svid.default_x509_ttl),
            ("svid.default_jwt_ttl", self.svid.default_jwt_ttl),
        ] {
            if ttl.is_zero() {
                return invalid(field, "must be greater than zero, e.g. \"1h\"".to_owned());
            }
            if ttl > self.ca.ttl {
                return invalid(
                    field,
                    format!(
                        "({}) exceeds the CA lifetime ca.ttl ({}); lower it or raise ca.ttl",
                        humantime::format_duration(ttl),
                        humantime::format_duration(self.ca.ttl)
                    ),
                );
            }
        }
        let api = &self.agent_api;
        for (field, n) in [
            (
                "agent_api.max_concurrent_signs_per_agent",
                api.max_concurrent_signs_per_agent,
            ),
            (
                "agent_api.max_attestations_per_ip",
                api.max_attestations_per_ip,
            ),
            ("agent_api.max_attestations", api.max_attestations),
            ("agent_api.max_connections", api.max_connections),
        ] {
            if n == 0 {
                return invalid(
                    field,
                    "is 0, which would refuse every call; the smallest useful value is 1"
                        .to_owned(),
                );
            }
        }
        if api.max_attestations_per_ip > api.max_attestations {
            return invalid(
                "agent_api.max_attestations_per_ip",
                format!(
                    "({}) exceeds agent_api.max_attestations ({}); lower it or raise the total",
                    api.max_attestations_per_ip, api.max_attestations
                ),
            );
        }
        if api.attestation_timeout < Duration::from_secs(1) {
            return invalid(
                "agent_api.attestation_timeout",
                format!(
                    "is {}; give an attestation at least 1s",
                    humantime::format_duration(api.attestation_timeout)
                ),
            );
        }
        if self.socket_path.is_relative() {
            return invalid("socket_path", "must be an absolute path".to_owned());
        }
        if let Some(up) = &self.ca.upstream {
            validate_upstream(up)?;
        }
        for t in &self.entries.extra_selector_types {
            if t.is_empty() || t.contains(':') || t.chars().any(char::is_whitespace) {
                return invalid(
                    "entries.extra_selector_types",
                    format!(
                        "{t:?} is not a selector type: give the part before the first ':', e.g. \"docker\""
                    ),
                );
            }
        }
        if let Some(psat) = &self.node_attestors.k8s_psat {
            validate_psat(psat)?;
        }
        if let Some(pop) = &self.node_attestors.x509pop {
            validate_x509pop(pop)?;
        }
        validate_lifecycle(self)?;
        federation::validate(self)?;
        if let Some(auto) = &self.k8s_auto_registration {
            kubernetes::check_cluster(
                self,
                "k8s_auto_registration.cluster",
                &auto.cluster,
                "auto-registered entries are parented by that cluster's k8s_psat agents",
            )?;
        }
        kubernetes::validate(self)
    }
}

#[cfg(test)]
mod tests;
