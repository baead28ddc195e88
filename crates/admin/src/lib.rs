//! The local admin socket both binaries serve, and what they serve on it alike.
//!
//! - [`bind`]: the Unix socket in a directory private to the process's user (created 0700;
//!   a wider one, or another user's, is refused rather than changed), a stale socket from a
//!   previous run removed, a live one refused. Access to the socket is admin access.
//! - [`owner_or_root`]: a tonic interceptor admitting only callers whose uid (`SO_PEERCRED`) is
//!   the process's or root's (the agent's admin API).
//! - [`LoggerService`]: the `Logger` service of both admin APIs (`lanyard.admin.v1` and
//!   `lanyard.agent.admin.v1`), changing the log filter while the process runs; [`LoggerCommand`]
//!   is the `logger show|set|reset` CLI of both binaries.
//! - [`connect`]: a CLI's channel to an admin socket, with errors an operator can act on.

mod client;
mod logger;
mod peer;
mod socket;

pub use client::{ConnectError, connect};
pub use logger::{LoggerCommand, LoggerService, render_logger};
pub use peer::owner_or_root;
pub use socket::{AdminSocket, AdminSocketError, bind, remove};
