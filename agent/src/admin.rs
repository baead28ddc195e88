//! The agent's admin API (`proto/lanyard/agent/admin/v1/admin.proto`) on its own Unix socket,
//! `[admin] socket_path`: today the `Logger` service (`lanyard-agent logger ...`).
//!
//! Two locks keep it to the agent's operators: the socket's directory is private to the agent's
//! user (created 0700, refused when wider or another user's: `lanyard_admin::bind`, as the
//! server's admin socket), and every call is checked against the caller's uid from
//! `SO_PEERCRED` (the agent's own or root, `lanyard_admin::owner_or_root`). The Workload API
//! socket, which every local process may reach, serves none of this.

use std::future::Future;
use std::path::Path;

use lanyard_admin::{AdminSocket, AdminSocketError, LoggerService, owner_or_root};
use lanyard_proto::lanyard::agent::admin::v1::logger_server::LoggerServer;
use tokio::net::UnixListener;
use tokio_stream::wrappers::UnixListenerStream;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Server;

/// The agent's admin socket, for `lanyard_admin`'s messages.
pub const AGENT_SOCKET: AdminSocket = AdminSocket {
    binary: "lanyard-agent",
    key: "admin.socket_path",
};

/// Prepares the socket's directory, clears a stale socket and binds it.
pub async fn bind_admin(socket_path: &Path) -> Result<UnixListener, AdminSocketError> {
    lanyard_admin::bind(socket_path, AGENT_SOCKET).await
}

/// Serves the admin API on `listener` until `shutdown` resolves, then removes the socket file.
pub async fn serve_admin_on(
    listener: UnixListener,
    socket_path: &Path,
    shutdown: impl Future<Output = ()>,
) -> Result<(), AdminSocketError> {
    let served = Server::builder()
        .add_service(InterceptedService::new(
            LoggerServer::new(LoggerService),
            owner_or_root,
        ))
        .serve_with_incoming_shutdown(UnixListenerStream::new(listener), shutdown)
        .await;
    lanyard_admin::remove(socket_path);
    Ok(served?)
}
