//! [`serve_admin`]: binds the Unix admin socket and serves every admin service on it.
//!
//! # The socket directory
//!
//! Access to the socket is full admin access, so its directory must be private to the server's
//! user. If the directory does not exist it is created (with any missing parents) with mode
//! 0700. If it exists with group or other permission bits set, the server **refuses to start**
//! rather than `chmod` it: the directory may be shared (a socket configured as `/tmp/api.sock`
//! has `/tmp` as its directory, and tightening that would break the machine), so only the
//! operator can decide. The error says what to run. A directory owned by another uid is refused
//! too: its owner could replace the socket with one of their own and read every admin call.
//!
//! # The socket file
//!
//! A leftover socket from a previous run (nobody accepts on it) is removed before binding. A
//! socket someone still accepts on means another server is running: refused. A path that is not a
//! socket at all is never deleted: refused. The socket file is removed again on shutdown.

use std::future::Future;
use std::io;
use std::os::unix::fs::{
    DirBuilderExt as _, FileTypeExt as _, MetadataExt as _, PermissionsExt as _,
};
use std::path::{Path, PathBuf};

use lanyard_observe::grpc::GrpcMetrics;
use lanyard_proto::lanyard::admin::v1 as api;
use tokio::net::UnixListener;
use tokio_stream::wrappers::UnixListenerStream;
use tonic::transport::Server;

use super::agents::AgentsService;
use super::authority::LocalAuthorityService;
use super::bundles::BundlesService;
use super::entries::EntriesService;
use super::tokens::JoinTokensService;
use crate::state::ServerState;

/// Why the admin API could not be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminServeError {
    /// A file-system operation on the socket or its directory failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was attempted, e.g. "create the admin socket directory".
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The socket's directory is accessible to group or others.
    #[error(
        "the admin socket directory {path} has mode {mode:04o}, but whoever can reach the socket is \
         a full admin: run `chmod 700 {path}`, or set socket_path to a file in a directory of its own"
    )]
    DirectoryTooOpen {
        /// The directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The socket's directory belongs to another user.
    #[error(
        "the admin socket directory {path} is owned by uid {owner}, not by this server's uid {server}: \
         its owner could replace the socket; run `chown {server} {path}` or set socket_path to a file \
         in a directory of the server's own"
    )]
    DirectoryNotOwned {
        /// The directory.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// The server's effective uid.
        server: u32,
    },
    /// The socket's parent exists and is not a directory.
    #[error("{path} is not a directory; set socket_path to a file in a directory")]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// Something other than a socket exists at the socket path.
    #[error(
        "{path} exists and is not a socket; refusing to delete it: remove it yourself or set another socket_path"
    )]
    NotASocket {
        /// The path.
        path: PathBuf,
    },
    /// Another process accepts connections on the socket.
    #[error(
        "another process is serving {path} (is lanyard-server already running?); stop it or set another socket_path"
    )]
    InUse {
        /// The socket path.
        path: PathBuf,
    },
    /// The gRPC server failed.
    #[error("the admin API server failed: {0}")]
    Serve(#[from] tonic::transport::Error),
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> AdminServeError {
    let path = path.to_owned();
    move |source| AdminServeError::Io {
        action,
        path,
        source,
    }
}

/// Makes sure `dir` exists, is a directory and is private (see the module docs).
fn prepare_dir(dir: &Path) -> Result<(), AdminServeError> {
    match std::fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => {
            return Err(AdminServeError::NotADirectory {
                path: dir.to_owned(),
            });
        }
        Ok(meta) => {
            let server = nix::unistd::geteuid().as_raw();
            if meta.uid() != server {
                return Err(AdminServeError::DirectoryNotOwned {
                    path: dir.to_owned(),
                    owner: meta.uid(),
                    server,
                });
            }
            let mode = meta.permissions().mode() & 0o7777;
            if mode & 0o077 != 0 {
                return Err(AdminServeError::DirectoryTooOpen {
                    path: dir.to_owned(),
                    mode,
                });
            }
            return Ok(());
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err("inspect the admin socket directory", dir)(e)),
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io_err("create the admin socket directory", dir))?;
    // The umask may have cleared owner bits of the mode above; set it exactly.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(io_err("set the mode of the admin socket directory", dir))
}

/// Removes a stale socket at `path`; refuses a live one or a non-socket.
async fn clear_stale_socket(path: &Path) -> Result<(), AdminServeError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err("inspect the admin socket", path)(e)),
    };
    if !meta.file_type().is_socket() {
        return Err(AdminServeError::NotASocket {
            path: path.to_owned(),
        });
    }
    if tokio::net::UnixStream::connect(path).await.is_ok() {
        return Err(AdminServeError::InUse {
            path: path.to_owned(),
        });
    }
    tracing::info!(socket = %path.display(), "removing stale admin socket");
    std::fs::remove_file(path).map_err(io_err("remove the stale admin socket", path))
}

/// Binds the admin socket at `socket_path` (preparing its directory as the module docs say) and
/// serves the `Entries`, `Agents`, `JoinTokens`, `Bundles`, `LocalAuthority` and `Jwt` services
/// until `shutdown` resolves; then removes the socket file.
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
    let dir = socket_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    prepare_dir(dir)?;
    clear_stale_socket(socket_path).await?;
    let listener =
        UnixListener::bind(socket_path).map_err(io_err("bind the admin socket", socket_path))?;
    tracing::info!(socket = %socket_path.display(), "admin API listening");
    Ok(listener)
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
            state,
        }))
        .add_service(api::local_authority_server::LocalAuthorityServer::new(
            authority.clone(),
        ))
        .add_service(api::jwt_server::JwtServer::new(authority))
        .serve_with_incoming_shutdown(UnixListenerStream::new(listener), shutdown)
        .await;
    if let Err(e) = std::fs::remove_file(socket_path) {
        tracing::warn!(socket = %socket_path.display(), error = %e, "could not remove the admin socket");
    }
    served?;
    Ok(())
}
