//! Process observability shared by `lanyard-server` and `lanyard-agent`.
//!
//! - [`init_logging`]: one `tracing` subscriber, `text` or `json`, filtered by a level string.
//! - [`Health`] and [`serve_health`]: the `/live` and `/ready` HTTP endpoints. Readiness carries a
//!   reason (e.g. "degraded: server unreachable since ...") so operators and probes see *why*.
//! - [`Shutdown`]: one stop signal for every task, fired by SIGINT/SIGTERM.

mod health;
mod logging;
mod shutdown;

pub use health::{Health, Readiness, serve_health};
pub use logging::{LogFormat, LoggingError, init_logging};
pub use shutdown::{Shutdown, ShutdownTrigger};
