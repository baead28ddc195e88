//! Process observability shared by `lanyard-server` and `lanyard-agent`.
//!
//! - [`init_logging`]: one `tracing` subscriber, `text` or `json`, filtered by a level string
//!   that [`LogLevel`] ([`installed_log_level`]) changes while the process runs.
//! - [`Health`] and [`serve_health`]: the `/live` and `/ready` HTTP endpoints. Readiness carries a
//!   reason (e.g. "degraded: server unreachable since ...") so operators and probes see *why*.
//! - [`Shutdown`]: one stop signal for every task, fired by SIGINT/SIGTERM.
//! - [`raise_open_files_limit`]: the soft open-files limit lifted to the hard one at start.

mod health;
mod limits;
mod logging;
mod shutdown;

pub use health::{Health, Readiness, serve_health};
pub use limits::{OpenFilesLimit, raise_open_files_limit};
pub use logging::{
    LOG_LEVELS, LogFormat, LogLevel, LoggingError, check_log_level, init_logging,
    installed_log_level,
};
pub use shutdown::{Shutdown, ShutdownTrigger};
