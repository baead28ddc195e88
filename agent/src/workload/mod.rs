//! The SPIFFE Workload API, served on a Unix socket to the workloads of this node.
//!
//! - [`serve_workload_api`]: socket setup and the gRPC server.
//! - [`WorkloadHandler`]: the `SpiffeWorkloadAPI` service (header check, attestation, streams).
//! - [`attestor`]: [`WorkloadAttestor`] and the built-in [`UnixAttestor`].
//! - [`PeerCred`], [`PeerProcess`]: who called, and the PID-reuse defence.
//!
//! The standards are spiffe/spiffe `standards/SPIFFE_Workload_API.md` and
//! `SPIFFE_Workload_Endpoint.md`; code that enforces a rule of theirs quotes it.

pub mod attestor;
mod conn;
mod handler;
mod index;
mod peer;
mod procfs;
mod response;
mod stream;

use std::future::Future;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use lanyard_proto::workload::spiffe_workload_api_server::SpiffeWorkloadApiServer;
use tokio::net::UnixListener;
use tokio::sync::{Semaphore, mpsc};
use tokio_stream::wrappers::ReceiverStream;

pub use attestor::{AttestError, UnixAttestor, UnixAttestorConfig, WorkloadAttestor};
pub use handler::{SECURITY_HEADER, WorkloadHandler};
pub use peer::{PeerCred, PeerError, PeerInfo, PeerProcess, ProcessChanged};
pub use procfs::ProcError;
#[cfg(test)]
pub(crate) use response::claims_struct;

use crate::jwt::JwtMinter;
use crate::store::SvidStore;
use conn::PeerStream;

/// Requests are empty messages: anything bigger is not a Workload API client.
const MAX_DECODING_MESSAGE_SIZE: usize = 64 * 1024;
/// Responses carry SVIDs, keys and bundles; this bounds what one message may grow to.
const MAX_ENCODING_MESSAGE_SIZE: usize = 16 * 1024 * 1024;
/// Open connections at once; further ones are closed at accept (load shedding) until some end.
const MAX_CONNECTIONS: usize = 1024;
/// Concurrent calls (streams included) per connection.
const MAX_CALLS_PER_CONNECTION: u32 = 32;

/// Why the Workload API could not be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkloadApiError {
    /// The socket's directory could not be created.
    #[error("cannot create the socket directory {}: {source}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Something that is not a socket is in the way; it is not removed.
    #[error("{} exists and is not a socket; remove it or choose another socket_path", path.display())]
    NotASocket {
        /// The path.
        path: PathBuf,
    },
    /// Another process is serving on the socket.
    #[error("{} is in use by a running process (another agent?)", path.display())]
    InUse {
        /// The path.
        path: PathBuf,
    },
    /// The socket could not be set up (stale socket removal, bind or chmod).
    #[error("cannot set up the socket {}: {source}", path.display())]
    Socket {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The gRPC server failed.
    #[error("Workload API server failed: {0}")]
    Serve(#[from] tonic::transport::Error),
}

/// Serves the SPIFFE Workload API on `socket_path` until `shutdown` completes, then removes the
/// socket.
///
/// The socket's directory is created (mode 0755) if missing; a stale socket left by an earlier
/// run is replaced, but a live one or a non-socket file is an error. The socket is mode 0777: any
/// user may connect, since callers are identified by their peer credentials, not by file
/// permissions (SPIFFE Workload Endpoint §5).
pub async fn serve_workload_api(
    socket_path: &Path,
    store: SvidStore,
    jwt: JwtMinter,
    attestor: Arc<dyn WorkloadAttestor>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), WorkloadApiError> {
    let listener = bind_workload_socket(socket_path)?;
    serve_workload_api_on(listener, socket_path, store, jwt, attestor, shutdown).await
}

/// [`serve_workload_api`] on a listener from [`bind_workload_socket`], so a caller can report
/// the socket as listening (or fail) before serving starts.
pub async fn serve_workload_api_on(
    listener: UnixListener,
    socket_path: &Path,
    store: SvidStore,
    jwt: JwtMinter,
    attestor: Arc<dyn WorkloadAttestor>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), WorkloadApiError> {
    tracing::info!(socket = %socket_path.display(), "serving the Workload API");

    let (tx, rx) = mpsc::channel(16);
    let accept = tokio::spawn(accept_loop(listener, tx));
    let handler = WorkloadHandler::new(store, jwt, attestor);
    let stop = handler.clone();
    let shutdown = async move {
        shutdown.await;
        stop.stop_streams();
    };
    let service = SpiffeWorkloadApiServer::new(handler)
        .max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_ENCODING_MESSAGE_SIZE);
    let result = tonic::transport::Server::builder()
        .max_concurrent_streams(MAX_CALLS_PER_CONNECTION)
        .concurrency_limit_per_connection(MAX_CALLS_PER_CONNECTION as usize)
        .add_service(service)
        .serve_with_incoming_shutdown(ReceiverStream::new(rx), shutdown)
        .await;
    accept.abort();
    if let Err(e) = std::fs::remove_file(socket_path) {
        tracing::warn!(socket = %socket_path.display(), error = %e, "cannot remove the socket");
    }
    tracing::info!(socket = %socket_path.display(), "Workload API stopped");
    Ok(result?)
}

/// Prepares the directory, clears a stale socket, binds and opens up the socket (see
/// [`serve_workload_api`]).
pub fn bind_workload_socket(path: &Path) -> Result<UnixListener, WorkloadApiError> {
    let socket_error = |source| WorkloadApiError::Socket {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(dir)
            .and_then(|()| {
                // The umask may have narrowed the mode; workloads of every uid must get through.
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
            })
            .map_err(|source| WorkloadApiError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_socket() => {
            return Err(WorkloadApiError::NotASocket {
                path: path.to_path_buf(),
            });
        }
        Ok(_) => {
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(WorkloadApiError::InUse {
                    path: path.to_path_buf(),
                });
            }
            std::fs::remove_file(path).map_err(socket_error)?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(socket_error(e)),
    }
    let listener = UnixListener::bind(path).map_err(socket_error)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o777)).map_err(socket_error)?;
    Ok(listener)
}

/// Accepts connections, records each peer at once (the earliest moment, for the PID-reuse
/// defence), and hands them to the server; sheds connections beyond [`MAX_CONNECTIONS`].
async fn accept_loop(listener: UnixListener, tx: mpsc::Sender<std::io::Result<PeerStream>>) {
    let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // E.g. EMFILE: back off instead of spinning on a listener that stays ready.
                tracing::warn!(error = %e, "accepting a Workload API connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&limit).try_acquire_owned() else {
            tracing::warn!(
                limit = MAX_CONNECTIONS,
                "too many Workload API connections; closing a new one"
            );
            continue;
        };
        if tx.send(Ok(PeerStream::new(stream, permit))).await.is_err() {
            return;
        }
    }
}
