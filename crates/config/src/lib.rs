//! The configuration vocabulary `lanyard-server` and `lanyard-agent` share, so that both read
//! their file, refuse it and let flags and the environment override it in one way.
//!
//! - [`load`] / [`from_toml`]: a strict TOML file (each config type is `deny_unknown_fields`;
//!   TOML errors carry line and column) checked by [`ConfigFile::validate`], refused with a
//!   [`ConfigError`] that names the key.
//! - The keys both files have: [`trust_domain`] (deserializer), [`default_log_level`] and
//!   [`check_log_level`], [`HealthConfig`] (`[health]`), [`shutdown_grace`]; [`Secret`] for a
//!   value `check-config` must not print.
//! - [`ConfigArgs`] and [`Overrides`]: `--config`, an environment variable for every key of a
//!   config type ([`Overridable`], the keys read from the type by [`keys`]) and the flags of a
//!   few, over the file's values; [`example`] checks an example file against the same keys.
//!
//! Shared sections are whole types used as fields, never `#[serde(flatten)]`ed: flattening
//! would switch off `deny_unknown_fields`.

pub mod example;
pub mod keys;
mod overrides;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use lanyard_id::TrustDomain;
use serde::Deserialize;
use serde::de::DeserializeOwned;

pub use overrides::{
    AGENT, ConfigArgs, FileArgs, Overridable, Override, Overrides, SERVER, Variable, variable,
    variables,
};

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
    /// [`ConfigError::Toml`] in a file: the message names the file, then the line and column.
    #[error("invalid config file {path}: {source}")]
    TomlFile {
        /// The path given.
        path: PathBuf,
        /// The parse error, with its line and column.
        source: toml::de::Error,
    },
    /// A value parsed but breaks a rule.
    #[error("invalid config: `{field}` {problem}")]
    Invalid {
        /// Dotted key name, e.g. `svid.default_x509_ttl`.
        field: &'static str,
        /// What is wrong and what to do.
        problem: String,
    },
    /// A flag or environment variable that overrides a key holds a value the key refuses.
    #[error("invalid {origin} (overrides `{field}`): {problem}")]
    Override {
        /// The flag (`--log-level`) or the variable (`LANYARD_LOG_LEVEL`).
        origin: String,
        /// The dotted key it overrides.
        field: String,
        /// What is wrong and what to do.
        problem: String,
    },
    /// A variable with the binary's prefix (`LANYARD_SERVER_`) names no key of its file.
    #[error(
        "{name} names no key of {file}, so it would change nothing: check its spelling \
         (the nearest variable is {nearest}) or unset it"
    )]
    UnknownVariable {
        /// The variable.
        name: String,
        /// `server.toml` or `agent.toml`.
        file: &'static str,
        /// The variable of a key nearest to it in spelling.
        nearest: String,
    },
}

/// A configuration file's type: strict TOML, then the rules serde cannot express.
pub trait ConfigFile: DeserializeOwned {
    /// Checks the rules serde cannot express, naming the key that breaks one.
    fn validate(&self) -> Result<(), ConfigError>;
}

/// Parses and validates TOML text.
pub fn from_toml<C: ConfigFile>(text: &str) -> Result<C, ConfigError> {
    let config: C = toml::from_str(text)?;
    config.validate()?;
    Ok(config)
}

/// Reads, parses and validates a config file.
pub fn load<C: ConfigFile>(path: &Path) -> Result<C, ConfigError> {
    from_toml(&read(path)?).map_err(|e| in_file(e, path))
}

/// A TOML error in the file at `path` names the file.
pub(crate) fn in_file(e: ConfigError, path: &Path) -> ConfigError {
    match e {
        ConfigError::Toml(source) => ConfigError::TomlFile {
            path: path.to_owned(),
            source,
        },
        other => other,
    }
}

pub(crate) fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Unreadable {
        path: path.to_owned(),
        source,
    })
}

/// `trust_domain = "example.org"`: for `#[serde(deserialize_with = "lanyard_config::trust_domain")]`.
pub fn trust_domain<'de, D: serde::Deserializer<'de>>(d: D) -> Result<TrustDomain, D::Error> {
    let s = String::deserialize(d)?;
    TrustDomain::new(&s).map_err(|e| serde::de::Error::custom(format!("{s:?}: {e}")))
}

/// The default `log_level`.
pub fn default_log_level() -> String {
    "info".to_owned()
}

/// Checks a `log_level` (a `tracing` filter), as the `log_level` key.
pub fn check_log_level(level: &str) -> Result<(), ConfigError> {
    lanyard_observe::check_log_level(level).map_err(|e| ConfigError::Invalid {
        field: "log_level",
        problem: e.to_string(),
    })
}

/// A string `{:?}` does not show (a join token): `check-config` prints whole configurations.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The string itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// `[health]`: the HTTP listener of `/live` and `/ready`, on `127.0.0.1:PORT` by default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthConfig<const PORT: u16> {
    /// HTTP address serving `/live` and `/ready`.
    #[serde(default = "default_health_address::<PORT>")]
    pub bind_address: SocketAddr,
}

impl<const PORT: u16> Default for HealthConfig<PORT> {
    fn default() -> Self {
        Self {
            bind_address: default_health_address::<PORT>(),
        }
    }
}

fn default_health_address<const PORT: u16>() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], PORT))
}

/// `shutdown_grace`: how long a stopping process waits for open calls before it exits anyway.
pub mod shutdown_grace {
    use std::time::Duration;

    use crate::ConfigError;

    /// The longest `shutdown_grace`: supervisors kill long before (Kubernetes after 30 s).
    pub const MAX: Duration = Duration::from_secs(600);

    /// The default, 5 s.
    pub fn default() -> Duration {
        Duration::from_secs(5)
    }

    /// Refuses a grace above [`MAX`]; `who` is the process as the message names it ("a
    /// server", "an agent").
    pub fn check(grace: Duration, who: &str) -> Result<(), ConfigError> {
        if grace > MAX {
            return Err(ConfigError::Invalid {
                field: "shutdown_grace",
                problem: format!(
                    "is {}; at most {} (a supervisor kills {who} that takes longer anyway): lower it, e.g. \"5s\"",
                    humantime::format_duration(grace),
                    humantime::format_duration(MAX),
                ),
            });
        }
        Ok(())
    }
}
