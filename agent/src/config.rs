//! `agent.toml`: the agent's strict configuration.
//!
//! Parsing ([`AgentConfig::from_toml`]) is separate from file I/O ([`AgentConfig::load`]).
//! Unknown keys are errors naming the key. Every key is documented in `deploy/conf/agent.toml`.

use std::path::{Path, PathBuf};

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
    /// Malformed TOML, unknown key or wrong type.
    #[error("invalid config: {0}")]
    Toml(#[from] toml::de::Error),
    /// A value parsed but breaks a rule.
    #[error("invalid config: `{field}` {problem}")]
    Invalid {
        /// Dotted key name.
        field: &'static str,
        /// What is wrong and what to do.
        problem: String,
    },
}

/// The whole `agent.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// The trust domain, e.g. `example.org`. Required.
    #[serde(deserialize_with = "de_trust_domain")]
    pub trust_domain: TrustDomain,
    /// `host:port` of the server's agent API. Required.
    pub server_address: String,
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
    /// Join token for the first attestation (also `--join-token`).
    #[serde(default)]
    pub join_token: Option<String>,
    /// `tracing` filter.
    #[serde(default = "default_log_level")]
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
}

/// `[health]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthConfig {
    /// HTTP address serving `/live` and `/ready`.
    #[serde(default = "default_health_address")]
    pub bind_address: std::net::SocketAddr,
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self {
            bind_address: default_health_address(),
        }
    }
}

/// `[workload_attestors]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadAttestorsConfig {
    /// `[workload_attestors.unix]`.
    #[serde(default)]
    pub unix: UnixAttestorConfig,
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
    PathBuf::from("/tmp/lanyard-agent/public/api.sock")
}
fn default_log_level() -> String {
    "info".to_owned()
}
fn default_health_address() -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], 8088))
}
fn default_size_limit() -> u64 {
    128 * 1024 * 1024
}

fn de_trust_domain<'de, D: serde::Deserializer<'de>>(d: D) -> Result<TrustDomain, D::Error> {
    let s = String::deserialize(d)?;
    TrustDomain::new(&s).map_err(|e| serde::de::Error::custom(format!("{s:?}: {e}")))
}

impl AgentConfig {
    /// Parses and validates TOML text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let c: Self = toml::from_str(text)?;
        c.validate()?;
        Ok(c)
    }

    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Unreadable {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text)
    }

    /// Checks rules serde cannot express; call again after command-line overrides.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, problem: &str| {
            Err(ConfigError::Invalid {
                field,
                problem: problem.to_owned(),
            })
        };
        if self.server_address.parse::<std::net::SocketAddr>().is_err()
            && !self.server_address.contains(':')
        {
            return invalid(
                "server_address",
                "must be host:port of the server's agent API, e.g. 127.0.0.1:8081",
            );
        }
        if self.trust_bundle_path.is_none() && !self.insecure_bootstrap {
            return invalid(
                "trust_bundle_path",
                "is required to verify the server on first contact (or set insecure_bootstrap = true for development)",
            );
        }
        if self.socket_path.is_relative() {
            return invalid("socket_path", "must be an absolute path");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = "trust_domain = \"example.org\"\nserver_address = \"127.0.0.1:8081\"\ntrust_bundle_path = \"/etc/lanyard/bundle.pem\"\n";

    #[test]
    fn minimal_config_gets_documented_defaults() {
        let c = AgentConfig::from_toml(MIN).unwrap();
        assert_eq!(
            c.socket_path,
            Path::new("/tmp/lanyard-agent/public/api.sock")
        );
        assert!(!c.insecure_bootstrap);
        assert!(!c.workload_attestors.unix.discover_workload_path);
    }

    #[test]
    fn unknown_key_is_named() {
        let e = AgentConfig::from_toml(&format!("{MIN}sockt_path = \"/x\"\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("sockt_path"), "{e}");
    }

    #[test]
    fn bootstrap_trust_is_required() {
        let e = AgentConfig::from_toml(
            "trust_domain = \"example.org\"\nserver_address = \"127.0.0.1:8081\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("trust_bundle_path") && e.contains("insecure_bootstrap"),
            "{e}"
        );
    }

    #[test]
    fn bad_server_address_is_refused() {
        let e = AgentConfig::from_toml(&MIN.replace("127.0.0.1:8081", "localhost"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("server_address"), "{e}");
    }

    #[test]
    fn example_config_in_deploy_parses() {
        AgentConfig::from_toml(include_str!("../../deploy/conf/agent.toml")).unwrap();
    }
}
