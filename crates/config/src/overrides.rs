//! Flags and environment variables over a config file's values.
//!
//! Each binary's overridable keys are listed here, once ([`SERVER`], [`AGENT`]), each with its
//! variable; its flag is the variable's name without `LANYARD_` and the binary's `SERVER_` or
//! `AGENT_`, in kebab case (`LANYARD_AGENT_SOCKET_PATH`: `--socket-path`). For each key a flag
//! wins over its variable and the variable over the file (an empty variable counts as set).
//!
//! The values are checked as the file's are: set as TOML strings into the file's table, which is
//! then deserialized into the config type and validated once. An error about an overridden key
//! names the flag or variable that set it. Keys without a default stay required in the file.

use std::fmt;
use std::path::{Path, PathBuf};

use clap::{Arg, ArgMatches, Command};

use crate::{ConfigError, ConfigFile, read};

/// A key of a config file that a flag, or else an environment variable, may set. Its value is a
/// TOML string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Override {
    /// The dotted key (`health.bind_address`), as [`ConfigError::Invalid`] names it.
    pub key: &'static str,
    /// The environment variable (`LANYARD_SERVER_HEALTH_ADDRESS`).
    pub env: &'static str,
}

impl Override {
    /// The long flag, without `--`: the variable without `LANYARD_` and `SERVER_`/`AGENT_`, in
    /// kebab case.
    pub fn flag(&self) -> String {
        let name = self.env.trim_start_matches("LANYARD_");
        let name = ["SERVER_", "AGENT_"]
            .iter()
            .find_map(|binary| name.strip_prefix(binary))
            .unwrap_or(name);
        name.to_ascii_lowercase().replace('_', "-")
    }
}

/// How a binary is pointed at its file and overrides keys of it.
#[derive(Debug)]
pub struct FileArgs {
    /// The file's usual name, for `--help`.
    pub file_name: &'static str,
    /// The variable naming the file when `--config` is not given.
    pub config_env: &'static str,
    /// The keys flags and variables may set.
    pub overrides: &'static [Override],
}

/// `lanyard-server run` and `check-config`.
pub const SERVER: FileArgs = FileArgs {
    file_name: "server.toml",
    config_env: "LANYARD_SERVER_CONFIG",
    overrides: &[
        Override {
            key: "socket_path",
            env: "LANYARD_SERVER_SOCKET_PATH",
        },
        Override {
            key: "bind_address",
            env: "LANYARD_SERVER_BIND_ADDRESS",
        },
        Override {
            key: "data_dir",
            env: "LANYARD_SERVER_DATA_DIR",
        },
        Override {
            key: "datastore.url",
            env: "LANYARD_DATASTORE_URL",
        },
        Override {
            key: "health.bind_address",
            env: "LANYARD_SERVER_HEALTH_ADDRESS",
        },
        Override {
            key: "log_level",
            env: "LANYARD_LOG_LEVEL",
        },
    ],
};

/// `lanyard-agent run` and `check-config`.
pub const AGENT: FileArgs = FileArgs {
    file_name: "agent.toml",
    config_env: "LANYARD_AGENT_CONFIG",
    overrides: &[
        Override {
            key: "socket_path",
            env: "LANYARD_AGENT_SOCKET_PATH",
        },
        Override {
            key: "server_address",
            env: "LANYARD_AGENT_SERVER_ADDRESS",
        },
        Override {
            key: "data_dir",
            env: "LANYARD_AGENT_DATA_DIR",
        },
        Override {
            key: "health.bind_address",
            env: "LANYARD_AGENT_HEALTH_ADDRESS",
        },
        Override {
            key: "log_level",
            env: "LANYARD_LOG_LEVEL",
        },
    ],
};

/// A config type whose keys flags and environment variables may set.
pub trait Overridable: ConfigFile {
    /// Its binary's [`SERVER`] or [`AGENT`].
    const ARGS: &'static FileArgs;
}

/// The command-line arguments of a process that reads a `C`: `--config/-c` (or its variable)
/// and a flag per key of `C::ARGS`, with their variables. A clap `#[command(flatten)]` field or
/// a subcommand's arguments.
#[derive(Debug)]
pub struct ConfigArgs<C> {
    /// The config file.
    pub path: PathBuf,
    /// The values given by flag or environment.
    pub overrides: Overrides<C>,
}

impl<C: Overridable> ConfigArgs<C> {
    /// Reads the file, sets the overridden keys, validates the result.
    pub fn load(&self) -> Result<C, ConfigError> {
        self.overrides.load(&self.path)
    }
}

/// The override values one process was given, each with the flag or variable it came from.
pub struct Overrides<C> {
    given: Vec<(Override, String, String)>,
    config: std::marker::PhantomData<fn() -> C>,
}

impl<C: Overridable> Overrides<C> {
    /// For each key of `C::ARGS`, the value of its flag (`flag` looks one up by its name), else
    /// that of its variable (`env` looks one up), else none.
    pub fn resolve(
        flag: impl Fn(&str) -> Option<String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let given = C::ARGS
            .overrides
            .iter()
            .filter_map(|o| {
                let flag_name = o.flag();
                match flag(&flag_name) {
                    Some(v) => Some((*o, format!("--{flag_name}"), v)),
                    None => env(o.env).map(|v| (*o, o.env.to_owned(), v)),
                }
            })
            .collect();
        Self {
            given,
            config: std::marker::PhantomData,
        }
    }

    /// [`Overrides::resolve`] from lists of `(flag, value)` and `(variable, value)`.
    pub fn from_pairs(flags: &[(&str, &str)], env: &[(&str, &str)]) -> Self {
        let lookup = |pairs: &[(&str, &str)], name: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        };
        Self::resolve(|f| lookup(flags, f), |v| lookup(env, v))
    }

    /// Reads the config file at `path` and [`Overrides::from_toml`]s it.
    pub fn load(&self, path: &Path) -> Result<C, ConfigError> {
        self.from_toml(&read(path)?)
            .map_err(|e| crate::in_file(e, path))
    }

    /// Parses TOML text, sets the overridden keys, and validates the result.
    pub fn from_toml(&self, text: &str) -> Result<C, ConfigError> {
        // The file alone first, so that its errors carry its line and column.
        let mut config: C = toml::from_str(text)?;
        if !self.given.is_empty() {
            // Then one key after the other: the value that makes it fail is the culprit.
            let mut table: toml::Table = toml::from_str(text)?;
            for given in &self.given {
                set(&mut table, given.0.key, &given.2)
                    .and_then(|()| table.clone().try_into())
                    .map(|c| config = c)
                    .map_err(|e| overridden(given, format!("{:?}: {}", given.2, e.message())))?;
            }
        }
        config.validate().map_err(|e| self.attribute(e))?;
        Ok(config)
    }

    /// A validation error about a key set here names the flag or variable that set it.
    fn attribute(&self, e: ConfigError) -> ConfigError {
        let ConfigError::Invalid { field, problem } = e else {
            return e;
        };
        match self.given.iter().find(|(o, ..)| o.key == field) {
            Some(given) => overridden(given, problem),
            None => ConfigError::Invalid { field, problem },
        }
    }
}

/// Sets the dotted `key` of `table` to the string `value`.
fn set(table: &mut toml::Table, key: &str, value: &str) -> Result<(), toml::de::Error> {
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().unwrap_or_default();
    let mut t = table;
    for part in parts {
        let slot = t
            .entry(part)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        t = slot.as_table_mut().ok_or_else(|| {
            serde::de::Error::custom(format!("`{part}` is not a table in the file"))
        })?;
    }
    t.insert(last.to_owned(), toml::Value::String(value.to_owned()));
    Ok(())
}

fn overridden((o, origin, _): &(Override, String, String), problem: String) -> ConfigError {
    ConfigError::Override {
        origin: origin.clone(),
        field: o.key,
        problem,
    }
}

/// Names the keys set and where from, not the values (a datastore URL may hold a password).
impl<C> fmt::Debug for Overrides<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.given.iter().map(|(o, origin, _)| (o.key, origin)))
            .finish()
    }
}

const CONFIG: &str = "config";

impl<C: Overridable> clap::Args for ConfigArgs<C> {
    fn augment_args(cmd: Command) -> Command {
        let config = Arg::new(CONFIG)
            .long(CONFIG)
            .short('c')
            .env(C::ARGS.config_env)
            .value_name("PATH")
            .value_parser(clap::value_parser!(PathBuf))
            .required(true)
            .help(format!("Path to {}", C::ARGS.file_name));
        cmd.arg(config).args(C::ARGS.overrides.iter().map(|o| {
            let flag = o.flag();
            Arg::new(flag.clone())
                .long(flag.clone())
                .value_name(flag.to_ascii_uppercase().replace('-', "_"))
                .help(format!("Overrides `{}` [env: {}]", o.key, o.env))
        }))
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl<C: Overridable> clap::FromArgMatches for ConfigArgs<C> {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let Some(path) = m.get_one::<PathBuf>(CONFIG).cloned() else {
            return Err(clap::Error::raw(
                clap::error::ErrorKind::MissingRequiredArgument,
                format!(
                    "give the config file with --config or {}\n",
                    C::ARGS.config_env
                ),
            ));
        };
        let not_utf8 = std::cell::Cell::new(None);
        let overrides = Overrides::resolve(
            |flag| m.get_one::<String>(flag).cloned(),
            |var| match std::env::var(var) {
                Ok(v) => Some(v),
                Err(std::env::VarError::NotPresent) => None,
                Err(std::env::VarError::NotUnicode(_)) => {
                    not_utf8.set(Some(var.to_owned()));
                    None
                }
            },
        );
        match not_utf8.take() {
            Some(var) => Err(clap::Error::raw(
                clap::error::ErrorKind::InvalidUtf8,
                format!("{var} is not valid UTF-8: set it to a UTF-8 value or unset it\n"),
            )),
            None => Ok(Self { path, overrides }),
        }
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_named_after_their_variables() {
        let flags = |args: &FileArgs| {
            args.overrides
                .iter()
                .map(Override::flag)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            flags(&SERVER),
            [
                "socket-path",
                "bind-address",
                "data-dir",
                "datastore-url",
                "health-address",
                "log-level"
            ]
        );
        assert_eq!(
            flags(&AGENT),
            [
                "socket-path",
                "server-address",
                "data-dir",
                "health-address",
                "log-level"
            ]
        );
    }
}
