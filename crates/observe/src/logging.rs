//! `tracing` subscriber setup, and the filter changed while the process runs ([`LogLevel`]).
//!
//! The filter is a `reload` layer over the registry, under the text or JSON formatter, so that
//! `lanyard-server logger set --level debug` takes effect at once without a restart; the level
//! the process started with is kept for `logger reset`.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Registry, reload};

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (for log pipelines).
    Json,
}

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoggingError {
    /// The level string is not a valid filter.
    #[error(
        "invalid log_level {level:?}: {reason}; use e.g. \"info\" or \"lanyard_server=debug,info\""
    )]
    BadLevel {
        /// The rejected filter.
        level: String,
        /// The parser's complaint.
        reason: String,
    },
    /// The filter could not be swapped (the subscriber it belongs to is gone).
    #[error("cannot change the log level: {0}")]
    Reload(String),
}

/// The levels a `log_level` may name.
pub const LOG_LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// Checks a `log_level` value: a level (`info`), or comma-separated `target=level` directives
/// with at most one bare level (`lanyard_server=debug,info`). `tracing`'s own parser takes any
/// bare word as a target name, so `"warning"` or `"inof"` would silence every log line; those,
/// and an empty value, are refused here with the valid levels named.
pub fn check_log_level(value: &str) -> Result<(), LoggingError> {
    let bad = |reason: String| LoggingError::BadLevel {
        level: value.to_owned(),
        reason,
    };
    if value.trim().is_empty() {
        return Err(bad(format!(
            "it is empty; name a level: {}",
            LOG_LEVELS.join(", ")
        )));
    }
    for directive in value.split(',').map(str::trim) {
        let level = match directive.rsplit_once('=') {
            Some((target, level)) if !target.is_empty() => level,
            Some(_) => return Err(bad(format!("{directive:?} has no target before '='"))),
            None => directive,
        };
        if !LOG_LEVELS.contains(&level.to_ascii_lowercase().as_str()) {
            return Err(bad(format!(
                "{level:?} is not a level; the levels are {}",
                LOG_LEVELS.join(", ")
            )));
        }
    }
    EnvFilter::try_new(value).map_err(|e| bad(e.to_string()))?;
    Ok(())
}

/// Installs the global subscriber writing to stderr, filtered by `level` (`RUST_LOG`, when set,
/// wins), and returns the handle that changes the filter while the process runs.
///
/// Calling it twice is harmless: the second call keeps the first subscriber, and the handle it
/// returns changes nothing ([`LogLevel::set`] then fails with [`LoggingError::Reload`]).
pub fn init_logging(level: &str, format: LogFormat) -> Result<LogLevel, LoggingError> {
    let launch = match std::env::var("RUST_LOG") {
        Ok(env) if !env.is_empty() => env,
        _ => level.to_owned(),
    };
    let filter = EnvFilter::try_new(&launch).map_err(|e| LoggingError::BadLevel {
        level: launch.clone(),
        reason: e.to_string(),
    })?;
    let (filter, handle) = reload::Layer::new(filter);
    let text = (format == LogFormat::Text)
        .then(|| tracing_subscriber::fmt::layer().with_writer(std::io::stderr));
    let json = (format == LogFormat::Json).then(|| {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_writer(std::io::stderr)
    });
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(text)
        .with(json)
        .try_init()
        .is_ok();
    let level = LogLevel {
        current: Arc::new(Mutex::new(launch.clone())),
        launch,
        handle,
    };
    if installed {
        let _ = INSTALLED.set(level.clone());
    }
    Ok(level)
}

/// The filter of the subscriber [`init_logging`] installed, for [`installed_log_level`].
static INSTALLED: OnceLock<LogLevel> = OnceLock::new();

/// The process's log filter, once [`init_logging`] has installed its subscriber (the admin
/// APIs' `Logger` service changes it); `None` before, or in a process that never did.
pub fn installed_log_level() -> Option<LogLevel> {
    INSTALLED.get().cloned()
}

/// The filter of a running process's log: what it is, what it started as, and a way to change
/// it. Cloned handles change the same filter.
#[derive(Clone)]
pub struct LogLevel {
    handle: reload::Handle<EnvFilter, Registry>,
    launch: String,
    /// The filter as last set, in the words it was set with (`EnvFilter`'s `Display` reorders).
    current: Arc<Mutex<String>>,
}

impl std::fmt::Debug for LogLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogLevel")
            .field("launch", &self.launch)
            .field("current", &self.current())
            .finish()
    }
}

impl LogLevel {
    /// The filter in effect, e.g. `debug` or `lanyard_server=debug,info`.
    pub fn current(&self) -> String {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The filter the process started with (its config's `log_level`, or `RUST_LOG`).
    pub fn launch(&self) -> &str {
        &self.launch
    }

    /// Filters by `level` from now on, after checking it as the `log_level` key is checked.
    pub fn set(&self, level: &str) -> Result<(), LoggingError> {
        check_log_level(level)?;
        self.install(level)
    }

    /// Back to [`LogLevel::launch`]. (Not checked again: it was parsed at start, and `RUST_LOG`
    /// may hold what `check_log_level` refuses.)
    pub fn reset(&self) -> Result<(), LoggingError> {
        self.install(&self.launch)
    }

    /// Swaps the filter for `level`'s.
    fn install(&self, level: &str) -> Result<(), LoggingError> {
        let filter = EnvFilter::try_new(level).map_err(|e| LoggingError::BadLevel {
            level: level.to_owned(),
            reason: e.to_string(),
        })?;
        // Held across the swap, so that `current` names the filter in effect.
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        self.handle
            .reload(filter)
            .map_err(|e| LoggingError::Reload(e.to_string()))?;
        level.clone_into(&mut current);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_level_is_refused_with_the_value() {
        // RUST_LOG must not mask the check; the test environment does not set it for this crate.
        if std::env::var_os("RUST_LOG").is_some() {
            return;
        }
        let e = init_logging("info,=[", LogFormat::Text).unwrap_err();
        assert!(e.to_string().contains("info,=["), "{e}");
    }

    #[test]
    fn the_level_changes_and_resets_while_running() {
        if std::env::var_os("RUST_LOG").is_some() {
            return;
        }
        let level = init_logging("warn", LogFormat::Text).unwrap();
        assert_eq!(
            (level.current(), level.launch()),
            ("warn".to_owned(), "warn")
        );
        level.set("lanyard_observe=debug,info").unwrap();
        assert_eq!(level.current(), "lanyard_observe=debug,info");
        assert!(tracing::enabled!(tracing::Level::DEBUG));
        let e = level.set("verbose").unwrap_err().to_string();
        assert!(e.contains("\"verbose\" is not a level"), "{e}");
        assert_eq!(level.current(), "lanyard_observe=debug,info", "unchanged");
        level.reset().unwrap();
        assert_eq!(level.current(), "warn");
        assert!(!tracing::enabled!(tracing::Level::INFO));
    }

    #[test]
    fn a_misspelt_or_empty_level_is_refused_naming_the_levels() {
        for (value, needle) in [
            (
                "warning",
                "\"warning\" is not a level; the levels are trace, debug, info, warn, error, off",
            ),
            ("inof", "\"inof\" is not a level"),
            ("", "it is empty"),
            ("  ", "it is empty"),
            ("lanyard_server=verbose,info", "\"verbose\" is not a level"),
            ("=debug", "has no target"),
        ] {
            let e = check_log_level(value).unwrap_err().to_string();
            assert!(e.contains(needle), "{value:?}: {e}");
        }
        for ok in [
            "info",
            "WARN",
            "off",
            "lanyard_server=debug,info",
            "lanyard_agent::workload=trace",
        ] {
            check_log_level(ok).unwrap();
        }
    }
}
