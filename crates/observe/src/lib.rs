//! Process observability shared by `lanyard-server` and `lanyard-agent`.
//!
//! - [`init_logging`]: one `tracing` subscriber, `text` or `json`, filtered by a level string
//!   that [`LogLevel`] ([`installed_log_level`]) changes while the process runs.
//! - [`Health`] and [`serve_health`]: the `/live`, `/ready` and `/metrics` HTTP endpoints.
//!   Readiness carries a reason (e.g. "degraded: server unreachable since ...") so operators and
//!   probes see *why*.
//! - [`metrics`]: the Prometheus pieces both binaries record with (a lock-free histogram, cached
//!   counters for fixed label values, the OpenMetrics encoding) and [`grpc`], a tower layer that
//!   counts a tonic server's calls by method and status code.
//! - [`Shutdown`]: one stop signal for every task, fired by SIGINT/SIGTERM.
//! - [`raise_open_files_limit`]: the soft open-files limit lifted to the hard one at start.

pub mod grpc;
mod health;
mod limits;
mod logging;
pub mod metrics;
mod shutdown;

pub use health::{Health, Readiness, serve_health};
pub use limits::{OpenFilesLimit, raise_open_files_limit};
pub use logging::{
    LOG_LEVELS, LogFormat, LogLevel, LoggingError, check_log_level, init_logging,
    installed_log_level,
};
pub use shutdown::{Shutdown, ShutdownTrigger};
