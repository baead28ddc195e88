//! `server.toml`: the server's strict configuration.
//!
//! Parsing (`ServerConfig::from_toml`) is separate from file I/O (`ServerConfig::load`) so tests
//! feed strings. Unknown keys are errors naming the key (`deny_unknown_fields`); durations are
//! human strings (`"90s"`, `"1h"`). Every key is documented in `deploy/conf/server.toml`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lanyard_id::TrustDomain;
use lanyard_observe::LogFormat;
use serde::Deserialize;

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Unreadable {
        /// The path given.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML is malformed, has an unknown key or a value of the wrong type.
    #[error("invalid config: {0}")]
    Toml(#[from] toml::de::Error),
    /// A value parsed but breaks a rule.
    #[error("invalid config: `{field}` {problem}")]
    Invalid {
        /// Dotted key name, e.g. `svid.default_x509_ttl`.
        field: &'static str,
        /// What is wrong and what to do.
        problem: String,
    },
}

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
    #[serde(deserialize_with = "de_trust_domain")]
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
    #[serde(default = "default_log_level")]
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
}

impl Default for CaConfig {
    fn default() -> Self {
        Self {
            key_type: CaKeyType::default(),
            ttl: default_ca_ttl(),
        }
    }
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

/// `[health]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthConfig {
    /// HTTP address serving `/live` and `/ready`.
    #[serde(default = "default_health_address")]
    pub bind_address: SocketAddr,
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self {
            bind_address: default_health_address(),
        }
    }
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
fn default_log_level() -> String {
    "info".to_owned()
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
fn default_health_address() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn de_trust_domain<'de, D: serde::Deserializer<'de>>(d: D) -> Result<TrustDomain, D::Error> {
    let s = String::deserialize(d)?;
    TrustDomain::new(&s).map_err(|e| serde::de::Error::custom(format!("{s:?}: {e}")))
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

impl ServerConfig {
    /// Parses and validates a config from TOML text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Unreadable {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text)
    }

    /// Checks the rules serde cannot express. Call again after applying command-line overrides.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, problem: String| Err(ConfigError::Invalid { field, problem });
        if let Err(e) = lanyard_observe::check_log_level(&self.log_level) {
            return invalid("log_level", e.to_string());
        }
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
        if let Some(auto) = &self.k8s_auto_registration {
            let known = self
                .node_attestors
                .k8s_psat
                .as_ref()
                .is_some_and(|p| p.clusters.contains_key(&auto.cluster));
            if !known {
                return invalid(
                    "k8s_auto_registration.cluster",
                    format!(
                        "is {:?}, which is not a [node_attestors.k8s_psat.clusters.<name>]: auto-registered entries are parented by that cluster's k8s_psat agents",
                        auto.cluster
                    ),
                );
            }
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn minimal_config_gets_documented_defaults() {
        let c = ServerConfig::from_toml("trust_domain = \"example.org\"").unwrap();
        assert_eq!(c.trust_domain.name(), "example.org");
        assert_eq!(c.bind_address.to_string(), "0.0.0.0:8081");
        assert_eq!(
            c.socket_path,
            Path::new("/tmp/lanyard-server/private/api.sock")
        );
        assert_eq!(c.ca.key_type, CaKeyType::EcP256);
        assert_eq!(c.ca.ttl, Duration::from_secs(86400));
        assert_eq!(c.svid.default_x509_ttl, Duration::from_secs(3600));
        assert_eq!(c.svid.default_jwt_ttl, Duration::from_secs(300));
        assert_eq!(c.jwt.key_type, CaKeyType::EcP256);
        assert_eq!(c.log_format, LogFormat::Text);
        assert!(c.datastore_url().ends_with("datastore.sqlite3?mode=rwc"));
        assert_eq!(c.agent_api.max_concurrent_signs_per_agent, 2);
        assert_eq!(c.agent_api.attestation_timeout, Duration::from_secs(30));
        assert_eq!(c.agent_api.max_attestations_per_ip, 64);
        assert_eq!(c.agent_api.max_attestations, 1024);
        assert_eq!(c.agent_api.max_connections, 20_000);
    }

    #[test]
    fn agent_api_bounds_are_configurable_and_checked() {
        let base = "trust_domain = \"example.org\"\n[agent_api]\n";
        let c = ServerConfig::from_toml(&format!(
            "{base}max_concurrent_signs_per_agent = 4\nattestation_timeout = \"2s\"\nmax_attestations_per_ip = 3\nmax_attestations = 10\nmax_connections = 50\n"
        ))
        .unwrap();
        assert_eq!(c.agent_api.max_concurrent_signs_per_agent, 4);
        assert_eq!(c.agent_api.attestation_timeout, Duration::from_secs(2));
        assert_eq!(c.agent_api.max_attestations_per_ip, 3);
        assert_eq!(c.agent_api.max_attestations, 10);
        assert_eq!(c.agent_api.max_connections, 50);
        for (toml, expect) in [
            (
                "max_concurrent_signs_per_agent = 0",
                "`agent_api.max_concurrent_signs_per_agent` is 0",
            ),
            (
                "max_attestations_per_ip = 0",
                "`agent_api.max_attestations_per_ip` is 0",
            ),
            (
                "max_attestations_per_ip = 2000",
                "exceeds agent_api.max_attestations (1024)",
            ),
            ("attestation_timeout = \"500ms\"", "at least 1s"),
            ("max_connections = 0", "`agent_api.max_connections` is 0"),
            ("max_attestation = 3", "max_attestation"),
        ] {
            let e = ServerConfig::from_toml(&format!("{base}{toml}\n"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(expect), "{toml}: {e}");
        }
    }

    #[test]
    fn k8s_psat_clusters_are_validated_with_a_way_out() {
        let base = "trust_domain = \"example.org\"\n";
        let c = ServerConfig::from_toml(&format!(
            "{base}[node_attestors.k8s_psat.clusters.prod]\nservice_account_allow_list = [\"lanyard:lanyard-agent\"]\n"
        ))
        .unwrap();
        let prod = &c.node_attestors.k8s_psat.unwrap().clusters["prod"];
        assert_eq!(prod.audience, "lanyard-server");
        assert!(prod.kube_config_file.is_none());
        for (toml, expect) in [
            (
                "[node_attestors.k8s_psat]\nclusters = {}\n",
                "add a [node_attestors.k8s_psat.clusters.<name>]",
            ),
            (
                "[node_attestors.k8s_psat.clusters.prod]\nservice_account_allow_list = []\n",
                "namespace:name",
            ),
            (
                "[node_attestors.k8s_psat.clusters.prod]\nservice_account_allow_list = [\"lanyard-agent\"]\n",
                "\"lanyard:lanyard-agent\"",
            ),
            (
                "[node_attestors.k8s_psat.clusters.\"a/b\"]\nservice_account_allow_list = [\"a:b\"]\n",
                "letters, digits",
            ),
            (
                "[node_attestors.k8s_psat.clusters.prod]\nservice_account_allow_list = [\"a:b\"]\naudience = \" \"\n",
                "audience",
            ),
            (
                "[node_attestors.k8s_psat.clusters.prod]\nservice_account_allow_lst = [\"a:b\"]\n",
                "service_account_allow_lst",
            ),
            (
                "[k8s_auto_registration]\ncluster = \"prod\"\n",
                "not a [node_attestors.k8s_psat.clusters.<name>]",
            ),
            (
                "[entries]\nextra_selector_types = [\"docker:label\"]\n",
                "entries.extra_selector_types",
            ),
        ] {
            let e = ServerConfig::from_toml(&format!("{base}{toml}"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(expect), "{toml}: {e}");
        }
    }

    #[test]
    fn durations_are_human_strings() {
        let c = ServerConfig::from_toml(
            "trust_domain = \"example.org\"\n[ca]\nttl = \"48h\"\nkey_type = \"ec-p384\"\n[svid]\ndefault_x509_ttl = \"90s\"\n",
        )
        .unwrap();
        assert_eq!(c.ca.ttl, Duration::from_secs(48 * 3600));
        assert_eq!(c.ca.key_type, CaKeyType::EcP384);
        assert_eq!(c.svid.default_x509_ttl, Duration::from_secs(90));
    }

    #[test]
    fn jwt_key_type_is_configurable_and_strict() {
        let c = ServerConfig::from_toml(
            "trust_domain = \"example.org\"\n[jwt]\nkey_type = \"rsa-2048\"\n[svid]\ndefault_jwt_ttl = \"10m\"\n",
        )
        .unwrap();
        assert_eq!(c.jwt.key_type, CaKeyType::Rsa2048);
        assert_eq!(c.svid.default_jwt_ttl, Duration::from_secs(600));
        let e =
            ServerConfig::from_toml("trust_domain = \"example.org\"\n[jwt]\nkey_typ = \"ec-p384\"")
                .unwrap_err()
                .to_string();
        assert!(e.contains("key_typ"), "{e}");
        let e =
            ServerConfig::from_toml("trust_domain = \"example.org\"\n[jwt]\nkey_type = \"hs256\"")
                .unwrap_err()
                .to_string();
        assert!(e.contains("ec-p256"), "{e}");
    }

    #[test]
    fn unknown_key_is_named() {
        let e = ServerConfig::from_toml("trust_domain = \"example.org\"\nbind_adress = \"x\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("bind_adress"), "{e}");
    }

    #[test]
    fn unknown_key_in_section_is_named() {
        let e = ServerConfig::from_toml("trust_domain = \"example.org\"\n[ca]\nttll = \"1h\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("ttll"), "{e}");
    }

    #[test]
    fn missing_trust_domain_is_refused() {
        let e = ServerConfig::from_toml("").unwrap_err().to_string();
        assert!(e.contains("trust_domain"), "{e}");
    }

    #[test]
    fn invalid_trust_domain_says_why() {
        let e = ServerConfig::from_toml("trust_domain = \"Example.org\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("uppercase"), "{e}");
    }

    #[test]
    fn zero_ttl_is_refused() {
        let e = ServerConfig::from_toml(
            "trust_domain = \"example.org\"\n[svid]\ndefault_x509_ttl = \"0s\"",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("svid.default_x509_ttl") && e.contains("zero"),
            "{e}"
        );
    }

    #[test]
    fn ttl_beyond_ca_lifetime_is_refused() {
        let e = ServerConfig::from_toml(
            "trust_domain = \"example.org\"\n[ca]\nttl = \"1h\"\n[svid]\ndefault_x509_ttl = \"2h\"",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("exceeds the CA lifetime"), "{e}");
    }

    #[test]
    fn bad_duration_is_refused() {
        let e = ServerConfig::from_toml("trust_domain = \"example.org\"\n[ca]\nttl = \"soon\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("ttl"), "{e}");
    }

    #[test]
    fn unknown_key_type_is_refused() {
        let e = ServerConfig::from_toml("trust_domain = \"example.org\"\n[ca]\nkey_type = \"dsa\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("ec-p256"), "{e}");
    }

    #[test]
    fn unreadable_file_names_the_path() {
        let e = ServerConfig::load(Path::new("/nonexistent/server.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/server.toml"), "{e}");
    }

    #[test]
    fn example_config_in_deploy_parses() {
        let text = include_str!("../../deploy/conf/server.toml");
        ServerConfig::from_toml(text).unwrap();
    }

    #[test]
    fn the_datastore_password_is_not_printed() {
        let c = ServerConfig::from_toml(
            "trust_domain = \"example.org\"\n[datastore]\nurl = \"postgres://lanyard:s3cret@db:5432/lanyard\"\n",
        )
        .unwrap();
        let shown = format!("{c:#?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("postgres://lanyard:"), "{shown}");
    }

    #[test]
    fn commented_examples_in_deploy_parse_when_uncommented() {
        let text = include_str!("../../deploy/conf/server.toml");
        let is_key = |t: &str| {
            t.split_once(" = ").is_some_and(|(k, _)| {
                !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
        };
        let uncommented: Vec<&str> = text
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(t) if t.starts_with('[') || is_key(t) => t,
                _ => l,
            })
            .collect();
        let c = ServerConfig::from_toml(&uncommented.join("\n")).unwrap();
        let psat = c.node_attestors.k8s_psat.unwrap();
        assert_eq!(
            psat.clusters["prod"].service_account_allow_list,
            ["lanyard:lanyard-agent"]
        );
        assert_eq!(c.k8s_auto_registration.unwrap().cluster, "prod");
    }
}
