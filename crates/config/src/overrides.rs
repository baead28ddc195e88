//! Flags and environment variables over a config file's values.
//!
//! **Every key** of a config file has an environment variable, derived from the key by one rule
//! ([`variable`]): the binary's prefix (`LANYARD_SERVER_`, `LANYARD_AGENT_`), then the dotted key
//! in upper case with `.` as `_` (`workload_api.max_connections`:
//! `LANYARD_AGENT_WORKLOAD_API_MAX_CONNECTIONS`). The keys are read from the config type itself
//! ([`crate::keys`]), so a new key has its variable without a line here. A value is parsed as the
//! TOML type its key has: strings (paths, addresses, durations such as `90s`) as they are,
//! numbers and `true`/`false` as TOML, arrays and free-form tables as TOML inline arrays and
//! tables (`["a", "b"]`).
//!
//! A few keys also have a flag ([`FileArgs::flags`]), named after the variable listed with it:
//! the variable without `LANYARD_` and the binary's `SERVER_` or `AGENT_`, in kebab case
//! (`LANYARD_AGENT_SOCKET_PATH`: `--socket-path`). Where that variable is not the rule's
//! (`LANYARD_DATASTORE_URL`, `LANYARD_LOG_LEVEL`, `LANYARD_*_HEALTH_ADDRESS`, older names kept
//! working) it is an alias of the rule's variable; setting both to different values is refused.
//! For each key a flag wins over its variable and the variable over the file (an empty variable
//! counts as set).
//!
//! A variable with the binary's prefix that names no key is most likely a typo, which must not
//! silently do nothing: [`Overrides::unknown_variables`] lists them (`check-config` refuses them,
//! `run` logs a warning for each).
//!
//! The values are checked as the file's are: set into the file's table, which is then
//! deserialized into the config type and validated once. An error about an overridden key names
//! the flag or variable that set it. Keys without a default stay required in the file.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use clap::{Arg, ArgMatches, Command};

use crate::keys::{Key, Kind, keys};
use crate::{ConfigError, ConfigFile, read};

/// A key of a config file that also has a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Override {
    /// The dotted key (`health.bind_address`), as [`ConfigError::Invalid`] names it.
    pub key: &'static str,
    /// The variable the flag is named after (`LANYARD_SERVER_HEALTH_ADDRESS`): the key's own
    /// ([`variable`]), or an alias of it.
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
    /// What every key's variable starts with (`LANYARD_SERVER_`).
    pub prefix: &'static str,
    /// The keys that also have a flag.
    pub flags: &'static [Override],
}

/// The environment variable of `key` under `prefix`: `LANYARD_AGENT_` and
/// `workload_api.max_connections` give `LANYARD_AGENT_WORKLOAD_API_MAX_CONNECTIONS`.
pub fn variable(prefix: &str, key: &str) -> String {
    format!("{prefix}{}", key.replace('.', "_").to_ascii_uppercase())
}

/// `lanyard-server run` and `check-config`.
pub const SERVER: FileArgs = FileArgs {
    file_name: "server.toml",
    config_env: "LANYARD_SERVER_CONFIG",
    prefix: "LANYARD_SERVER_",
    flags: &[
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
    prefix: "LANYARD_AGENT_",
    flags: &[
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

/// One environment variable that sets a key of `C`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// The variable's name.
    pub name: String,
    /// The key it sets.
    pub key: Key,
    /// Whether it is an alias kept for an older name rather than the rule's ([`variable`]).
    pub alias: bool,
}

/// Every variable that sets a key of `C`: the rule's for each key, then the aliases.
pub fn variables<C: Overridable>() -> Vec<Variable> {
    let keys = keys::<C>();
    let mut vars: Vec<Variable> = keys
        .iter()
        .map(|key| Variable {
            name: variable(C::ARGS.prefix, &key.path),
            key: key.clone(),
            alias: false,
        })
        .collect();
    for o in C::ARGS.flags {
        if o.env != variable(C::ARGS.prefix, o.key)
            && let Some(key) = keys.iter().find(|k| k.path == o.key)
        {
            vars.push(Variable {
                name: o.env.to_owned(),
                key: key.clone(),
                alias: true,
            });
        }
    }
    vars
}

/// The command-line arguments of a process that reads a `C`: `--config/-c` (or its variable)
/// and a flag per key of `C::ARGS.flags`; the environment's variables over every key. A clap
/// `#[command(flatten)]` field or a subcommand's arguments.
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

    /// [`ConfigArgs::load`], also refusing a variable with the binary's prefix that names no
    /// key (`check-config`: a typo must not pass as a valid configuration).
    pub fn load_strict(&self) -> Result<C, ConfigError> {
        self.overrides.refuse_unknown()?;
        self.load()
    }
}

/// A value given by flag or variable for a key.
#[derive(Clone)]
struct Given {
    key: Key,
    /// `--log-level` or `LANYARD_LOG_LEVEL`.
    origin: String,
    value: String,
}

/// The override values one process was given, each with the flag or variable it came from.
pub struct Overrides<C> {
    given: Vec<Given>,
    /// A key set by two variables (its own and an alias) to different values.
    conflict: Option<(Key, String, String)>,
    /// Variables with the binary's prefix that name no key.
    unknown: Vec<String>,
    config: std::marker::PhantomData<fn() -> C>,
}

impl<C: Overridable> Overrides<C> {
    /// For each key of `C`, the value of its flag (`flag` looks one up by its name), else that
    /// of its variable among `vars` (the process's environment, or those starting with
    /// `LANYARD_`), else none.
    pub fn resolve(
        flag: impl Fn(&str) -> Option<String>,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        let known = variables::<C>();
        let by_name: BTreeMap<&str, &Variable> =
            known.iter().map(|v| (v.name.as_str(), v)).collect();
        let mut given: BTreeMap<String, Given> = BTreeMap::new();
        let mut conflict = None;
        let mut unknown = Vec::new();
        let mut vars: Vec<(String, String)> = vars.into_iter().collect();
        // The rule's variable before an alias, whatever the environment's order.
        vars.sort_by_key(|(name, _)| by_name.get(name.as_str()).is_some_and(|v| v.alias));
        for (name, value) in vars {
            let Some(var) = by_name.get(name.as_str()) else {
                if name.starts_with(C::ARGS.prefix) && name != C::ARGS.config_env {
                    unknown.push(name);
                }
                continue;
            };
            match given.get(&var.key.path) {
                Some(first) if first.value != value => {
                    conflict.get_or_insert((
                        var.key.clone(),
                        format!("{} and {name}", first.origin),
                        value,
                    ));
                }
                Some(_) => {}
                None => {
                    given.insert(
                        var.key.path.clone(),
                        Given {
                            key: var.key.clone(),
                            origin: name,
                            value,
                        },
                    );
                }
            }
        }
        for o in C::ARGS.flags {
            let flag_name = o.flag();
            if let (Some(value), Some(var)) = (flag(&flag_name), by_name.get(o.env)) {
                given.insert(
                    o.key.to_owned(),
                    Given {
                        key: var.key.clone(),
                        origin: format!("--{flag_name}"),
                        value,
                    },
                );
            }
        }
        // A flag settles what two disagreeing variables would have.
        conflict = conflict.filter(|(key, ..): &(Key, String, String)| {
            given
                .get(&key.path)
                .is_none_or(|g| !g.origin.starts_with("--"))
        });
        unknown.sort();
        Self {
            given: given.into_values().collect(),
            conflict,
            unknown,
            config: std::marker::PhantomData,
        }
    }

    /// [`Overrides::resolve`] from lists of `(flag, value)` and `(variable, value)`.
    pub fn from_pairs(flags: &[(&str, &str)], env: &[(&str, &str)]) -> Self {
        Self::resolve(
            |f| {
                flags
                    .iter()
                    .find(|(n, _)| *n == f)
                    .map(|(_, v)| (*v).to_owned())
            },
            env.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
        )
    }

    /// The variables with the binary's prefix (`LANYARD_SERVER_`) that name no key, sorted.
    pub fn unknown_variables(&self) -> &[String] {
        &self.unknown
    }

    /// Refuses the first of [`Overrides::unknown_variables`], naming the nearest variable that
    /// exists.
    pub fn refuse_unknown(&self) -> Result<(), ConfigError> {
        let Some(name) = self.unknown.first() else {
            return Ok(());
        };
        let nearest = variables::<C>()
            .into_iter()
            .min_by_key(|v| edit_distance(&v.name, name))
            .map(|v| v.name)
            .unwrap_or_default();
        Err(ConfigError::UnknownVariable {
            name: name.clone(),
            file: C::ARGS.file_name,
            nearest,
        })
    }

    /// Reads the config file at `path` and [`Overrides::from_toml`]s it.
    pub fn load(&self, path: &Path) -> Result<C, ConfigError> {
        self.from_toml(&read(path)?)
            .map_err(|e| crate::in_file(e, path))
    }

    /// Parses TOML text, sets the overridden keys, and validates the result.
    pub fn from_toml(&self, text: &str) -> Result<C, ConfigError> {
        if let Some((key, origin, _)) = &self.conflict {
            return Err(ConfigError::Override {
                origin: origin.clone(),
                field: key.path.clone(),
                problem: "both are set, to different values: unset one (they name the same key)"
                    .to_owned(),
            });
        }
        // The file alone first, so that its errors carry its line and column.
        let mut config: C = toml::from_str(text)?;
        if !self.given.is_empty() {
            // Then one key after the other: the value that makes it fail is the culprit.
            let mut table: toml::Table = toml::from_str(text)?;
            for given in &self.given {
                let value = parse(given.key.kind, &given.value)
                    .map_err(|problem| overridden(given, problem))?;
                set(&mut table, &given.key.path, value)
                    .and_then(|()| table.clone().try_into())
                    .map(|c| config = c)
                    .map_err(|e| {
                        overridden(given, format!("{:?}: {}", given.value, e.message()))
                    })?;
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
        match self.given.iter().find(|g| g.key.path == field) {
            Some(given) => overridden(given, problem),
            None => ConfigError::Invalid { field, problem },
        }
    }
}

/// A variable's or flag's text as a value of `kind`: a string as it is, anything else as TOML.
fn parse(kind: Kind, raw: &str) -> Result<toml::Value, String> {
    let as_toml = || -> Option<toml::Value> {
        let mut table: toml::Table = toml::from_str(&format!("v = {raw}")).ok()?;
        let value = table.remove("v")?;
        // `1\nother = 2` is not one value.
        table.is_empty().then_some(value)
    };
    match kind {
        Kind::String => Ok(toml::Value::String(raw.to_owned())),
        Kind::Any => Ok(as_toml().unwrap_or_else(|| toml::Value::String(raw.to_owned()))),
        _ => as_toml().ok_or_else(|| format!("{raw:?} is not {}", kind.example())),
    }
}

/// Sets the dotted `key` of `table` to `value`.
fn set(table: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), toml::de::Error> {
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
    t.insert(last.to_owned(), value);
    Ok(())
}

fn overridden(given: &Given, problem: String) -> ConfigError {
    ConfigError::Override {
        origin: given.origin.clone(),
        field: given.key.path.clone(),
        problem,
    }
}

/// Levenshtein distance, to name the variable a misspelt one most likely meant.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Names the keys set and where from, not the values (a datastore URL may hold a password).
impl<C> fmt::Debug for Overrides<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.given.iter().map(|g| (&g.key.path, &g.origin)))
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
        cmd.arg(config)
            .args(C::ARGS.flags.iter().map(|o| {
                let flag = o.flag();
                let own = variable(C::ARGS.prefix, o.key);
                let env = if own == o.env {
                    own
                } else {
                    format!("{own} or {}", o.env)
                };
                Arg::new(flag.clone())
                    .long(flag.clone())
                    .value_name(flag.to_ascii_uppercase().replace('-', "_"))
                    .help(format!("Overrides `{}` [env: {env}]", o.key))
            }))
            .after_help(format!(
                "Every key of {} can also be set by an environment variable: {}, then the dotted \
                 key in upper case with `.` as `_` (`[health] bind_address`: {}). \
                 `check-config` refuses a {}* variable that names no key.",
                C::ARGS.file_name,
                C::ARGS.prefix,
                variable(C::ARGS.prefix, "health.bind_address"),
                C::ARGS.prefix,
            ))
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
        let mut vars = Vec::new();
        for (name, value) in std::env::vars_os() {
            // Only Lanyard's variables: others are none of this process's business.
            let Some(name) = name.to_str().filter(|n| n.starts_with("LANYARD_")) else {
                continue;
            };
            let Some(value) = value.to_str() else {
                return Err(clap::Error::raw(
                    clap::error::ErrorKind::InvalidUtf8,
                    format!("{name} is not valid UTF-8: set it to a UTF-8 value or unset it\n"),
                ));
            };
            vars.push((name.to_owned(), value.to_owned()));
        }
        let overrides = Overrides::resolve(|flag| m.get_one::<String>(flag).cloned(), vars);
        Ok(Self { path, overrides })
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
        let flags = |args: &FileArgs| args.flags.iter().map(Override::flag).collect::<Vec<_>>();
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

    #[test]
    fn a_key_s_variable_is_the_prefix_and_the_key_in_upper_case() {
        assert_eq!(
            variable("LANYARD_AGENT_", "workload_api.max_connections"),
            "LANYARD_AGENT_WORKLOAD_API_MAX_CONNECTIONS"
        );
        assert_eq!(
            variable("LANYARD_SERVER_", "log_level"),
            "LANYARD_SERVER_LOG_LEVEL"
        );
    }

    #[test]
    fn values_are_parsed_as_the_type_of_their_key() {
        assert_eq!(
            parse(Kind::String, "007").unwrap(),
            toml::Value::String("007".into())
        );
        assert_eq!(
            parse(Kind::Integer, "4096").unwrap(),
            toml::Value::Integer(4096)
        );
        assert_eq!(
            parse(Kind::Bool, "true").unwrap(),
            toml::Value::Boolean(true)
        );
        assert_eq!(
            parse(Kind::Array, r#"["a", "b"]"#).unwrap(),
            toml::Value::Array(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            parse(Kind::Any, "127.0.0.1:8081").unwrap(),
            toml::Value::String("127.0.0.1:8081".into())
        );
        assert_eq!(
            parse(Kind::Any, r#"["a:1", "b:2"]"#).unwrap(),
            toml::Value::Array(vec!["a:1".into(), "b:2".into()])
        );
        for (kind, raw, says) in [
            (
                Kind::Integer,
                "many",
                "\"many\" is not an integer, e.g. 4096",
            ),
            (
                Kind::Integer,
                "1\nsocket_path = \"/x\"",
                "is not an integer",
            ),
            (Kind::Bool, "yes", "is not true or false"),
            (Kind::Array, "a,b", "is not a TOML inline array"),
        ] {
            let e = parse(kind, raw).unwrap_err();
            assert!(e.contains(says), "{raw:?}: {e}");
        }
    }

    #[test]
    fn misspellings_are_near_their_variable() {
        assert_eq!(
            edit_distance("LANYARD_SERVER_DATA_DIR", "LANYARD_SERVER_DATA_DIR"),
            0
        );
        assert_eq!(
            edit_distance("LANYARD_SERVER_DATA_DIR", "LANYARD_SERVER_DATADIR"),
            1
        );
        assert_eq!(edit_distance("abc", "xbcd"), 2);
    }
}
