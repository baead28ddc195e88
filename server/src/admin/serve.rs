//! [`serve_admin`]: binds the Unix admin socket and serves every admin service on it.
//!
//! The socket's directory must be private to the server's user (created 0700; a wider one or
//! another user's is refused), a stale socket is cleared and a live one refused: see
//! `lanyard_admin::bind`, which the agent's admin socket shares.

use std::future::Future;
use std::path::Path;

use lanyard_admin::{AdminSocket, LoggerService};
use lanyard_observe::grpc::GrpcMetrics;
use lanyard_proto::lanyard::admin::v1 as api;
use tokio::net::UnixListener;
use tokio_stream::wrappers::UnixListenerStream;
use tonic::transport::Server;

use super::agents::AgentsService;
use super::authority::LocalAuthorityService;
use super::bundles::BundlesService;
use super::entries::EntriesService;
use super::federation::FederationService;
use super::tokens::JoinTokensService;
use crate::state::ServerState;

/// Why the admin API could not be served.
pub type AdminServeError = lanyard_admin::AdminSocketError;

/// The server's admin socket, for `lanyard_admin`'s messages.
const SERVER_SOCKET: AdminSocket = AdminSocket {
    binary: "lanyard-server",
    key: "socket_path",
};

/// Binds the admin socket at `socket_path` (preparing its directory as the module docs say) and
/// serves the `Entries`, `Agents`, `JoinTokens`, `Bundles`, `Federation`, `LocalAuthority`, `Jwt`
/// and `Logger` services until `shutdown` resolves; then removes the socket file.
pub async fn serve_admin(
    state: ServerState,
    socket_path: &Path,
    shutdown: impl Future<Output = ()>,
) -> Result<(), AdminServeError> {
    let listener = bind_admin(socket_path).await?;
    let calls = GrpcMetrics::unregistered(crate::metrics::ADMIN_METHODS);
    serve_admin_on(listener, state, socket_path, calls, shutdown).await
}

/// Prepares the directory, clears a stale socket and binds the admin socket, so that a caller
/// can announce readiness only once the socket accepts connections.
pub async fn bind_admin(socket_path: &Path) -> Result<UnixListener, AdminServeError> {
    lanyard_admin::bind(socket_path, SERVER_SOCKET).await
}

/// [`serve_admin`] on a listener from [`bind_admin`], counting calls by method and code in
/// `calls` ([`crate::metrics::ServerMetrics::admin`]).
pub async fn serve_admin_on(
    listener: UnixListener,
    state: ServerState,
    socket_path: &Path,
    calls: GrpcMetrics,
    shutdown: impl Future<Output = ()>,
) -> Result<(), AdminServeError> {
    let authority = LocalAuthorityService {
        state: state.clone(),
    };
    let served = Server::builder()
        .layer(calls.layer())
        .add_service(api::entries_server::EntriesServer::new(EntriesService {
            state: state.clone(),
        }))
        .add_service(api::agents_server::AgentsServer::new(AgentsService {
            state: state.clone(),
        }))
        .add_service(api::join_tokens_server::JoinTokensServer::new(
            JoinTokensService {
                state: state.clone(),
            },
        ))
        .add_service(api::bundles_server::BundlesServer::new(BundlesService {
            state: state.clone(),
        }))
        .add_service(api::federation_server::FederationServer::new(
            FederationService { state },
        ))
        .add_service(api::local_authority_server::LocalAuthorityServer::new(
            authority.clone(),
        ))
        .add_service(api::jwt_server::JwtServer::new(authority))
        .add_service(api::logger_server::LoggerServer::new(LoggerService))
        .serve_with_incoming_shutdown(UnixListenerStream::new(listener), shutdown)
        .await;
    lanyard_admin::remove(socket_path);
    served?;
    Ok(())
}
