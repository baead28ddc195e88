//! `tracing` subscriber setup.

use tracing_subscriber::EnvFilter;

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

/// Installs the global subscriber writing to stderr. `RUST_LOG`, when set, wins over `level`.
///
/// Calling it twice is harmless (the second call keeps the first subscriber).
pub fn init_logging(level: &str, format: LogFormat) -> Result<(), LoggingError> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(env) if !env.is_empty() => EnvFilter::try_new(&env),
        _ => EnvFilter::try_new(level),
    }
    .map_err(|e| LoggingError::BadLevel {
        level: level.to_owned(),
        reason: e.to_string(),
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    Ok(())
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
