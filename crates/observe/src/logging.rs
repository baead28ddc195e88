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
}
