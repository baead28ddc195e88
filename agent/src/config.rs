//! `agent.toml`: the agent's strict configuration.
//!
//! Parsing ([`AgentConfig::from_toml`]) is separate from file I/O ([`AgentConfig::load`]); both,
//! the error type and the keys the server's file has too come from `lanyard-config`. Unknown keys
//! are errors naming the key. Every key is documented in `deploy/conf/agent.toml`; the flags and
//! environment variables that override some are `lanyard_config::AGENT`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lanyard_config::{ConfigFile, FileArgs, Overridable};
use lanyard_id::TrustDomain;
use lanyard_observe::LogFormat;
use serde::Deserialize;

use crate::workload::WorkloadApiLimits;
use crate::workload::attestor::{self, KubeletUrl, KubeletVerification};

pub use lanyard_config::ConfigError;
pub use server_address::{MAX_SERVER_ADDRESSES, ServerAddress, ServerAddresses};

mod server_address;

/// `[health]`: `/live` and `/ready`, on `127.0.0.1:8088` by default.
pub type HealthConfig = lanyard_config::HealthConfig<8088>;

/// The whole `agent.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// The trust domain, e.g. `example.org`. Required.
    #[serde(deserialize_with = "lanyard_config::trust_domain")]
    pub trust_domain: TrustDomain,
    /// `host:port` of the server's agent API, or several (a TOML array, or a comma-separated
    /// string): the agent syncs with one and fails over to the next. Required.
    pub server_address: ServerAddresses,
    /// Directory for the agent's own SVID and key (0600) and its bootstrap state.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Unix socket of the Workload API.
    #[serde(default = "default_socket_path")]
    pub socket_path: PathBuf,
    /// PEM file with the server's trust bundle, used to verify the server before attesting.
    #[serde(default)]
    pub trust_bundle_path: Option<PathBuf>,
    /// Trust the server without a bundle on first contact (development only; logs a warning).
    #[serde(default)]
    pub insecure_bootstrap: bool,
    /// Join token for the first attestation (also `--join-token`); not shown by `{:?}`.
    #[serde(default)]
    pub join_token: Option<lanyard_config::Secret>,
    /// `tracing` filter.
    #[serde(default = "lanyard_config::default_log_level")]
    pub log_level: String,
    /// `text` or `json`.
    #[serde(default)]
    pub log_format: LogFormat,
    /// `[health]`.
    #[serde(default)]
    pub health: HealthConfig,
    /// `[workload_attestors]`.
    #[serde(default)]
    pub workload_attestors: WorkloadAttestorsConfig,
    /// `[node_attestor]`: how the agent proves its node, besides a join token.
    #[serde(default)]
    pub node_attestor: NodeAttestorConfig,
    /// `[workload_api]`: connection, time and attestation limits of the Workload API socket.
    #[serde(default)]
    pub workload_api: WorkloadApiLimits,
    /// `[sds]`: Envoy SDS on the Workload API socket (resource names, validation contexts).
    #[serde(default)]
    pub sds: crate::workload::SdsConfig,
    /// `[admin]`: the agent's admin API (`lanyard-agent logger ...`).
    #[serde(default)]
    pub admin: AdminConfig,
    /// `[delegated_identity]`: SPIRE's Delegated Identity API for trusted delegates. Absent: off.
    #[serde(default)]
    pub delegated_identity: Option<DelegatedIdentityConfig>,
    /// How long a stopping agent (SIGTERM, SIGINT) waits for open Workload API connections
    /// and calls before it exits anyway.
    #[serde(
        default = "lanyard_config::shutdown_grace::default",
        with = "humantime_serde"
    )]
    pub shutdown_grace: Duration,
}

/// `[admin]`: the agent's admin socket, for its operators only: its directory is created 0700
/// and must be owned by the agent's uid, and a caller of another uid than the agent's or root's
/// is refused.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// The admin API's Unix socket.
    #[serde(default = "default_admin_socket_path")]
    pub socket_path: PathBuf,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            socket_path: default_admin_socket_path(),
        }
    }
}

/// Where `lanyard-agent logger` looks for the admin socket unless told otherwise.
pub const DEFAULT_ADMIN_SOCKET_PATH: &str = "/run/lanyard-agent/admin/api.sock";

fn default_admin_socket_path() -> PathBuf {
    PathBuf::from(DEFAULT_ADMIN_SOCKET_PATH)
}

/// `[delegated_identity]`: SPIRE's Delegated Identity API (`crate::delegated`) on a socket of
/// its own, in a directory created 0700 (so a delegate runs as the agent's user or root), for
/// the callers listed here only.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DelegatedIdentityConfig {
    /// The API's Unix socket.
    #[serde(default = "default_delegated_socket_path")]
    pub socket_path: PathBuf,
    /// SPIFFE IDs a delegate may hold (it is attested like a workload).
    #[serde(default)]
    pub authorized_delegates: Vec<String>,
    /// Uids a delegate may run as (`SO_PEERCRED`).
    #[serde(default)]
    pub authorized_uids: Vec<u32>,
}

/// The most delegates `authorized_delegates` and `authorized_uids` may list, each.
pub const MAX_AUTHORIZED_DELEGATES: usize = 1024;

fn default_delegated_socket_path() -> PathBuf {
    PathBuf::from("/run/lanyard-agent/delegated/api.sock")
}

impl DelegatedIdentityConfig {
    fn validate(&self, workload_socket: &Path, admin_socket: &Path) -> Result<(), ConfigError> {
        let invalid = |field, problem: String| Err(ConfigError::Invalid { field, problem });
        if self.socket_path.is_relative() {
            return invalid(
                "delegated_identity.socket_path",
                "must be an absolute path".into(),
            );
        }
        if self.socket_path.parent() == workload_socket.parent() {
            return invalid(
                "delegated_identity.socket_path",
                "is in the Workload API socket's directory, which every workload may enter; \
                 give it a directory of its own (mode 0700): e.g. \
                 /run/lanyard-agent/delegated/api.sock"
                    .into(),
            );
        }
        if self.socket_path == admin_socket {
            return invalid(
                "delegated_identity.socket_path",
                "is the admin socket's path; give it another".into(),
            );
        }
        if self.authorized_delegates.is_empty() && self.authorized_uids.is_empty() {
            return invalid(
                "delegated_identity.authorized_delegates",
                "and authorized_uids are both empty, so no delegate could call: list the \
                 delegates' SPIFFE IDs or uids (or remove [delegated_identity] to switch it off)"
                    .into(),
            );
        }
        if self.authorized_delegates.len() > MAX_AUTHORIZED_DELEGATES
            || self.authorized_uids.len() > MAX_AUTHORIZED_DELEGATES
        {
            return invalid(
                "delegated_identity.authorized_delegates",
                format!("and authorized_uids may list at most {MAX_AUTHORIZED_DELEGATES} each"),
            );
        }
        for id in &self.authorized_delegates {
            if let Err(e) = lanyard_id::SpiffeId::parse(id) {
                return invalid(
                    "delegated_identity.authorized_delegates",
                    format!("{id:?} is not a SPIFFE ID: {e}"),
                );
            }
        }
        Ok(())
    }
}

/// `[node_attestor]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeAttestorConfig {
    /// `[node_attestor.k8s_psat]`: attest with the pod's projected service-account token.
    #[serde(default)]
    pub k8s_psat: Option<K8sPsatConfig>,
    /// `[node_attestor.x509pop]`: prove possession of a node certificate's key.
    #[serde(default)]
    pub x509pop: Option<X509PopConfig>,
}

/// `[node_attestor.x509pop]`: a node certificate (issued by a CA of the server's
/// `[node_attestors.x509pop] ca_bundle_path`) and its key, read afresh at every attestation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct X509PopConfig {
    /// PEM file: the node certificate first, then any intermediates. Required.
    pub certificate_path: PathBuf,
    /// PEM file: the certificate's private key (PKCS#8 `PRIVATE KEY`, or `RSA PRIVATE KEY`).
    /// Required.
    pub private_key_path: PathBuf,
    /// PEM file of more intermediates, sent after those of `certificate_path`.
    #[serde(default)]
    pub intermediates_path: Option<PathBuf>,
}

impl X509PopConfig {
    fn validate(&self, join_token: bool, psat: bool) -> Result<(), ConfigError> {
        let invalid = |field, problem: &str| {
            Err(ConfigError::Invalid {
                field,
                problem: problem.to_owned(),
            })
        };
        let paths = [
            (
                "node_attestor.x509pop.certificate_path",
                Some(&self.certificate_path),
            ),
            (
                "node_attestor.x509pop.private_key_path",
                Some(&self.private_key_path),
            ),
            (
                "node_attestor.x509pop.intermediates_path",
                self.intermediates_path.as_ref(),
            ),
        ];
        for (field, path) in paths {
            if path.is_some_and(|p| p.is_relative()) {
                return invalid(field, "must be an absolute path");
            }
        }
        if join_token {
            return invalid(
                "join_token",
                "is set together with [node_attestor.x509pop]: an agent attests one way; remove one",
            );
        }
        if psat {
            return invalid(
                "node_attestor.x509pop",
                "is set together with [node_attestor.k8s_psat]: an agent attests one way; remove one",
            );
        }
        Ok(())
    }
}

/// `[node_attestor.k8s_psat]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct K8sPsatConfig {
    /// The cluster name, as the server's `[node_attestors.k8s_psat.clusters.<name>]` has it.
    pub cluster: String,
    /// The projected service-account token (read afresh for every attestation).
    #[serde(default = "default_psat_token_path")]
    pub token_path: PathBuf,
}

fn default_psat_token_path() -> PathBuf {
    PathBuf::from("/var/run/secrets/tokens/lanyard-agent")
}

/// `[workload_attestors]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadAttestorsConfig {
    /// `[workload_attestors.unix]`.
    #[serde(default)]
    pub unix: UnixAttestorConfig,
    /// `[workload_attestors.k8s]`: when present, the k8s attestor runs after the unix one and
    /// its selectors are added to the unix ones. Absent: off.
    #[serde(default)]
    pub k8s: Option<K8sAttestorConfig>,
}

/// `[workload_attestors.unix]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnixAttestorConfig {
    /// Also emit `unix:path` and `unix:sha256` of the workload's executable.
    #[serde(default)]
    pub discover_workload_path: bool,
    /// Executables larger than this are not hashed (bytes).
    #[serde(default = "default_size_limit")]
    pub workload_size_limit: u64,
}

/// `[workload_attestors.k8s]`: the caller's pod and container, from its cgroups and the kubelet.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct K8sAttestorConfig {
    /// The kubelet's HTTPS endpoint, `https://<host>:<port>`.
    #[serde(default)]
    pub kubelet_url: KubeletUrl,
    /// File holding the bearer token sent to the kubelet (re-read on every fetch).
    #[serde(default = "default_k8s_token_path")]
    pub token_path: PathBuf,
    /// PEM file with the CA(s) the kubelet's serving certificate must chain to (default: the
    /// cluster CA mounted beside the service-account token).
    #[serde(default)]
    pub kubelet_ca_path: Option<PathBuf>,
    /// Do not check the kubelet's certificate (insecure; logs a warning).
    #[serde(default)]
    pub kubelet_skip_verify: bool,
    /// This node's name; the kubelet's certificate is checked for it. Overrides `node_name_env`.
    #[serde(default)]
    pub node_name: Option<String>,
    /// Environment variable holding the node name when `node_name` is not set (set it from the
    /// Downward API's `spec.nodeName`).
    #[serde(default = "default_node_name_env")]
    pub node_name_env: String,
    /// How long a fetched pod list is reused; "0s" fetches on every attestation.
    #[serde(default = "default_pod_list_cache_ttl", with = "humantime_serde")]
    pub pod_list_cache_ttl: Duration,
    /// Lookups of a pod or container the kubelet does not list yet, in all.
    #[serde(default = "default_max_poll_attempts")]
    pub max_poll_attempts: u32,
    /// Pause between those lookups.
    #[serde(default = "default_poll_retry_interval", with = "humantime_serde")]
    pub poll_retry_interval: Duration,
    /// Where the host's cgroup filesystem is mounted: a caller's pod is believed only if the
    /// pod's and container's cgroup directories there are owned by root. An agent in its own
    /// cgroup namespace (a container on cgroup v2) needs the host's tree here (hostPath) to
    /// locate callers' namespace-relative (`..`) cgroups.
    #[serde(default = "default_cgroup_root")]
    pub cgroup_root: PathBuf,
}

impl K8sAttestorConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, problem: String| Err(ConfigError::Invalid { field, problem });
        if self.token_path.is_relative() {
            return invalid(
                "workload_attestors.k8s.token_path",
                "must be an absolute path".into(),
            );
        }
        if let Some(ca) = &self.kubelet_ca_path {
            if self.kubelet_skip_verify {
                return invalid(
                    "workload_attestors.k8s.kubelet_ca_path",
                    "is set while kubelet_skip_verify = true skips the check it is for: remove one of the two".into(),
                );
            }
            if ca.is_relative() {
                return invalid(
                    "workload_attestors.k8s.kubelet_ca_path",
                    "must be an absolute path".into(),
                );
            }
        }
        if let Some(name) = &self.node_name
            && let Err(problem) = check_node_name(name)
        {
            return invalid("workload_attestors.k8s.node_name", problem);
        }
        let env = &self.node_name_env;
        let mut chars = env.chars();
        if !chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return invalid(
                "workload_attestors.k8s.node_name_env",
                format!(
                    "{env:?} is not an environment variable name (letters, digits, _; not starting with a digit)"
                ),
            );
        }
        if self.cgroup_root.is_relative() {
            return invalid(
                "workload_attestors.k8s.cgroup_root",
                "must be an absolute path".into(),
            );
        }
        if self.pod_list_cache_ttl > MAX_POD_LIST_CACHE_TTL {
            return invalid(
                "workload_attestors.k8s.pod_list_cache_ttl",
                format!(
                    "may be at most {}: pod labels (and so k8s:pod-label selectors) would be that stale",
                    humantime::format_duration(MAX_POD_LIST_CACHE_TTL)
                ),
            );
        }
        if !(1..=MAX_POLL_ATTEMPTS).contains(&self.max_poll_attempts) {
            return invalid(
                "workload_attestors.k8s.max_poll_attempts",
                format!("must be 1 to {MAX_POLL_ATTEMPTS} (1: no retry)"),
            );
        }
        if self.max_poll_attempts > 1
            && !(MIN_POLL_RETRY_INTERVAL..=MAX_POLL_RETRY_INTERVAL)
                .contains(&self.poll_retry_interval)
        {
            return invalid(
                "workload_attestors.k8s.poll_retry_interval",
                format!(
                    "must be {} to {}",
                    humantime::format_duration(MIN_POLL_RETRY_INTERVAL),
                    humantime::format_duration(MAX_POLL_RETRY_INTERVAL)
                ),
            );
        }
        let longest_wait = self.poll_retry_interval * (self.max_poll_attempts - 1);
        if longest_wait > MAX_POLL_WAIT {
            return invalid(
                "workload_attestors.k8s.max_poll_attempts",
                format!(
                    "with poll_retry_interval = {} would hold a Workload API call for {} (more than {}): lower one of them",
                    humantime::format_duration(self.poll_retry_interval),
                    humantime::format_duration(longest_wait),
                    humantime::format_duration(MAX_POLL_WAIT)
                ),
            );
        }
        Ok(())
    }

    /// This node's name: `node_name`, else the value of the variable `node_name_env` names (unset
    /// or empty: none). `env` looks a variable up (`|n| std::env::var(n).ok()`).
    pub fn resolve_node_name(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<String>, ConfigError> {
        if let Some(name) = &self.node_name {
            return Ok(Some(name.clone()));
        }
        let Some(name) = env(&self.node_name_env).filter(|n| !n.is_empty()) else {
            return Ok(None);
        };
        check_node_name(&name).map_err(|problem| ConfigError::Invalid {
            field: "workload_attestors.k8s.node_name_env",
            problem: format!("names ${}: {problem}", self.node_name_env),
        })?;
        Ok(Some(name))
    }

    /// The attestor's configuration, the node name resolved through `env`.
    pub fn attestor_config(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<attestor::K8sAttestorConfig, ConfigError> {
        let verification = if self.kubelet_skip_verify {
            KubeletVerification::SkipVerify
        } else {
            KubeletVerification::CaFile(
                self.kubelet_ca_path
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(attestor::DEFAULT_KUBELET_CA_PATH)),
            )
        };
        Ok(attestor::K8sAttestorConfig {
            kubelet_url: self.kubelet_url.clone(),
            verification,
            token_path: self.token_path.clone(),
            node_name: self.resolve_node_name(env)?,
            pod_list_cache_ttl: self.pod_list_cache_ttl,
            max_poll_attempts: self.max_poll_attempts,
            poll_retry_interval: self.poll_retry_interval,
            cgroup_root: self.cgroup_root.clone(),
            ..attestor::K8sAttestorConfig::default()
        })
    }
}

const MAX_POD_LIST_CACHE_TTL: Duration = Duration::from_secs(60);
const MAX_POLL_ATTEMPTS: u32 = 60;
const MIN_POLL_RETRY_INTERVAL: Duration = Duration::from_millis(10);
const MAX_POLL_RETRY_INTERVAL: Duration = Duration::from_secs(10);
const MAX_POLL_WAIT: Duration = Duration::from_secs(30);

/// A Kubernetes node name is a DNS subdomain (RFC 1123): at most 253 characters, lowercase
/// letters, digits, `-` and `.`, starting and ending with a letter or digit.
fn check_node_name(name: &str) -> Result<(), String> {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let ok = !name.is_empty()
        && name.len() <= 253
        && name.chars().all(|c| alnum(c) || c == '-' || c == '.')
        && name.starts_with(alnum)
        && name.ends_with(alnum);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a Kubernetes node name (lowercase letters, digits, '-', '.'; at most 253)"
        ))
    }
}

impl Default for UnixAttestorConfig {
    fn default() -> Self {
        Self {
            discover_workload_path: false,
            workload_size_limit: default_size_limit(),
        }
    }
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("/var/lib/lanyard/agent")
}
fn default_socket_path() -> PathBuf {
    PathBuf::from("/run/lanyard-agent/public/api.sock")
}
fn default_size_limit() -> u64 {
    128 * 1024 * 1024
}
fn default_k8s_token_path() -> PathBuf {
    PathBuf::from(attestor::DEFAULT_TOKEN_PATH)
}
fn default_node_name_env() -> String {
    "MY_NODE_NAME".to_owned()
}
fn default_cgroup_root() -> PathBuf {
    PathBuf::from(attestor::DEFAULT_CGROUP_ROOT)
}
fn default_pod_list_cache_ttl() -> Duration {
    Duration::from_secs(1)
}
fn default_max_poll_attempts() -> u32 {
    5
}
fn default_poll_retry_interval() -> Duration {
    Duration::from_millis(250)
}

impl AgentConfig {
    /// Parses and validates TOML text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        lanyard_config::from_toml(text)
    }

    /// Reads, parses and validates a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        lanyard_config::load(path)
    }
}

/// `lanyard-agent run` and `check-config`: a flag wins over its variable, which wins over the
/// file.
impl Overridable for AgentConfig {
    const ARGS: &'static FileArgs = &lanyard_config::AGENT;
}

impl ConfigFile for AgentConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, problem: &str| {
            Err(ConfigError::Invalid {
                field,
                problem: problem.to_owned(),
            })
        };
        lanyard_config::check_log_level(&self.log_level)?;
        if self.trust_bundle_path.is_none() && !self.insecure_bootstrap {
            return invalid(
                "trust_bundle_path",
                "is required to verify the server on first contact (or set insecure_bootstrap = true for development)",
            );
        }
        if self.socket_path.is_relative() {
            return invalid("socket_path", "must be an absolute path");
        }
        if self.admin.socket_path.is_relative() {
            return invalid("admin.socket_path", "must be an absolute path");
        }
        if self.admin.socket_path.parent() == self.socket_path.parent() {
            return invalid(
                "admin.socket_path",
                "is in the Workload API socket's directory, which every workload may enter, but \
                 the admin socket needs a directory of its own (mode 0700): e.g. \
                 /run/lanyard-agent/admin/api.sock",
            );
        }
        if let Some(k8s) = &self.workload_attestors.k8s {
            k8s.validate()?;
        }
        if let Some(delegated) = &self.delegated_identity {
            delegated.validate(&self.socket_path, &self.admin.socket_path)?;
        }
        self.workload_api
            .validate()
            .map_err(|(field, problem)| ConfigError::Invalid { field, problem })?;
        self.sds
            .validate()
            .map_err(|(field, problem)| ConfigError::Invalid { field, problem })?;
        if let Some(k8s) = &self.workload_attestors.k8s {
            // The attestation deadline would cut the k8s attestor's retries short: every call
            // for a pod the kubelet does not list yet would fail before its last lookup.
            let longest_wait = k8s.poll_retry_interval * (k8s.max_poll_attempts - 1);
            if longest_wait >= self.workload_api.attestation_timeout {
                return Err(ConfigError::Invalid {
                    field: "workload_api.attestation_timeout",
                    problem: format!(
                        "is {}, but the k8s attestor may wait {} for a new pod (max_poll_attempts x poll_retry_interval): raise attestation_timeout or lower those",
                        humantime::format_duration(self.workload_api.attestation_timeout),
                        humantime::format_duration(longest_wait)
                    ),
                });
            }
        }
        lanyard_config::shutdown_grace::check(self.shutdown_grace, "an agent")?;
        if let Some(pop) = &self.node_attestor.x509pop {
            pop.validate(
                self.join_token.is_some(),
                self.node_attestor.k8s_psat.is_some(),
            )?;
        }
        if let Some(psat) = &self.node_attestor.k8s_psat {
            if psat.cluster.trim().is_empty() {
                return invalid(
                    "node_attestor.k8s_psat.cluster",
                    "must name the cluster as the server's [node_attestors.k8s_psat.clusters.<name>] does",
                );
            }
            if psat.token_path.is_relative() {
                return invalid(
                    "node_attestor.k8s_psat.token_path",
                    "must be an absolute path",
                );
            }
            if self.join_token.is_some() {
                return invalid(
                    "join_token",
                    "is set together with [node_attestor.k8s_psat]: an agent attests one way; remove one",
                );
            }
            if self.insecure_bootstrap {
                return invalid(
                    "insecure_bootstrap",
                    "is true with [node_attestor.k8s_psat]: the agent would send its Kubernetes service-account token to a server it has not authenticated, and whoever answered could replay it; set trust_bundle_path (insecure bootstrap is only for single-use join tokens)",
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
