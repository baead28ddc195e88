//! The SPIFFE Workload API, served on a Unix socket to the workloads of this node.
//!
//! - [`serve_workload_api`]: socket setup and the gRPC server.
//! - [`WorkloadHandler`]: the `SpiffeWorkloadAPI` service (header check, attestation, streams).
//! - [`attestor`]: [`WorkloadAttestor`] and the built-in [`UnixAttestor`].
//! - [`PeerCred`], [`PeerProcess`]: who called, and the PID-reuse defence.
//! - [`SdsHandler`]: Envoy SDS v3 on the same socket, with the same attestation ([`sds`]).
//!
//! The standards are spiffe/spiffe `standards/SPIFFE_Workload_API.md` and
//! `SPIFFE_Workload_Endpoint.md`; code that enforces a rule of theirs quotes it.

pub mod attestor;
mod conn;
mod handler;
mod index;
mod limits;
mod peer;
mod procfs;
mod response;
pub mod sds;
mod stream;

use std::future::Future;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use envoy_types::pb::envoy::service::secret::v3::secret_discovery_service_server::SecretDiscoveryServiceServer;
use lanyard_observe::metrics::OpenGuard;
use lanyard_proto::workload::spiffe_workload_api_server::SpiffeWorkloadApiServer;
use tokio::net::UnixListener;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

pub use attestor::{AttestError, UnixAttestor, UnixAttestorConfig, WorkloadAttestor};
pub use handler::{SECURITY_HEADER, WorkloadHandler};
pub use limits::WorkloadApiLimits;
pub use peer::{PeerCred, PeerError, PeerInfo, PeerProcess, ProcessChanged};
pub use procfs::ProcError;
#[cfg(test)]
pub(crate) use response::claims_struct;
pub use sds::{SdsConfig, SdsHandler};

use crate::jwt::JwtMinter;
use crate::metrics::{Refused, WorkloadMetrics};
use crate::store::SvidStore;
use conn::{ConnSlots, PeerStream, TrackCallsLayer};

/// Requests are empty messages: anything bigger is not a Workload API client.
const MAX_DECODING_MESSAGE_SIZE: usize = 64 * 1024;
/// Responses carry SVIDs, keys and bundles; this bounds what one message may grow to.
const MAX_ENCODING_MESSAGE_SIZE: usize = 16 * 1024 * 1024;
/// An SDS `DiscoveryRequest` carries Envoy's node description, whose list of built-in
/// extensions alone is tens of KiB; this bounds it (about four times what Envoy sends).
const MAX_SDS_DECODING_MESSAGE_SIZE: usize = 256 * 1024;
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
    /// The socket's directory, or one above it, could be changed by another user, who could then
    /// put their own socket in its place.
    #[error(
        "{}: {problem}; another user could replace the Workload API socket. Make it owned by root or the agent's user (uid {euid}) and not writable by group or others (chmod go-w), or choose another socket_path",
        path.display()
    )]
    UnsafeDir {
        /// The directory (or symbolic link) at fault.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
        /// The agent's effective uid.
        euid: u32,
    },
    /// A symbolic link is where the socket goes; it is not followed or removed.
    #[error("{} is a symbolic link; remove it or choose another socket_path (the agent never binds or changes modes through a link)", path.display())]
    Symlink {
        /// The path.
        path: PathBuf,
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

/// How long [`serve_workload_api`] waits for open connections once `shutdown` completes.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serves the SPIFFE Workload API on `socket_path` with the default [`WorkloadApiLimits`] until
/// `shutdown` completes (and open connections have closed, or [`DEFAULT_SHUTDOWN_GRACE`] has
/// passed), then removes the socket.
///
/// The socket's directory is created (mode 0755) if missing and must be safe from other users
/// (see [`bind_workload_socket`]); a stale socket left by an earlier run is replaced, but a live
/// one, a symbolic link or a non-socket file is an error. The socket is mode 0777: any user may
/// connect, since callers are identified by their peer credentials, not by file permissions
/// (SPIFFE Workload Endpoint §5). Envoy SDS is served on it too, with the default
/// [`SdsConfig`].
pub async fn serve_workload_api(
    socket_path: &Path,
    store: SvidStore,
    jwt: JwtMinter,
    attestor: Arc<dyn WorkloadAttestor>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), WorkloadApiError> {
    let listener = bind_workload_socket(socket_path)?;
    let limits = WorkloadApiLimits::default();
    serve_workload_api_on(
        listener,
        socket_path,
        &limits,
        &SdsConfig::default(),
        DEFAULT_SHUTDOWN_GRACE,
        store,
        jwt,
        attestor,
        WorkloadMetrics::default(),
        shutdown,
    )
    .await
}

/// [`serve_workload_api`] on a listener from [`bind_workload_socket`], so a caller can report
/// the socket as listening (or fail) before serving starts, with `limits` (SDS's calls count
/// against them too) and SDS's names from `sds`, recording into `metrics`, waiting at most
/// `grace` for open connections once `shutdown` completes.
///
/// At `shutdown` the socket stops accepting and every open stream ends with `Unavailable`
/// (clients reconnect, to the next agent on this node); a connection whose client still holds
/// a call open after `grace` (it never sent its request, say) is dropped. The socket is
/// removed either way.
#[expect(
    clippy::too_many_arguments,
    reason = "the serving parts a caller owns, each distinct; a struct would only rename them"
)]
pub async fn serve_workload_api_on(
    listener: UnixListener,
    socket_path: &Path,
    limits: &WorkloadApiLimits,
    sds: &SdsConfig,
    grace: Duration,
    store: SvidStore,
    jwt: JwtMinter,
    attestor: Arc<dyn WorkloadAttestor>,
    metrics: WorkloadMetrics,
    shutdown: impl Future<Output = ()>,
) -> Result<(), WorkloadApiError> {
    tracing::info!(socket = %socket_path.display(), "serving the Workload API");

    let (tx, rx) = mpsc::channel(16);
    let accept = tokio::spawn(accept_loop(listener, tx, limits.clone(), metrics.clone()));
    let stop_accepting = accept.abort_handle();
    let calls = metrics.calls().layer();
    let handler = WorkloadHandler::new(store.clone(), jwt, attestor)
        .with_attestation_timeout(limits.attestation_timeout)
        .with_metrics(metrics);
    let sds = SdsHandler::new(handler.clone(), store, sds.clone());
    let stop = handler.clone();
    let stop_sds = sds.clone();
    let (fired, grace_starts) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        shutdown.await;
        // The listener goes with the accept loop: a new caller is refused at once instead of
        // waiting in the backlog of a socket nobody serves any more.
        stop_accepting.abort();
        stop.stop_streams();
        stop_sds.stop_streams();
        let _ = fired.send(());
    };
    let grace_over = async move {
        match grace_starts.await {
            Ok(()) => tokio::time::sleep(grace).await,
            // The server ended on its own.
            Err(_) => std::future::pending().await,
        }
    };
    let service = SpiffeWorkloadApiServer::new(handler)
        .max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_ENCODING_MESSAGE_SIZE);
    let sds = SecretDiscoveryServiceServer::new(sds)
        .max_decoding_message_size(MAX_SDS_DECODING_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_ENCODING_MESSAGE_SIZE);
    let serve = tonic::transport::Server::builder()
        .max_concurrent_streams(MAX_CALLS_PER_CONNECTION)
        .concurrency_limit_per_connection(MAX_CALLS_PER_CONNECTION as usize)
        .layer(calls)
        .layer(TrackCallsLayer)
        .add_service(service)
        .add_service(sds)
        .serve_with_incoming_shutdown(ReceiverStream::new(rx), shutdown);
    // tonic's graceful shutdown waits for every connection to close; a client may hold one
    // open for ever, so the wait is bounded. Dropping `serve` leaves the remaining
    // connections' tasks to end with the process.
    let result = tokio::select! {
        result = serve => result,
        () = grace_over => {
            tracing::warn!(
                socket = %socket_path.display(),
                shutdown_grace = %humantime::format_duration(grace),
                "Workload API connections still open when shutdown_grace ran out; closing them"
            );
            Ok(())
        }
    };
    accept.abort();
    if let Err(e) = std::fs::remove_file(socket_path) {
        tracing::warn!(socket = %socket_path.display(), error = %e, "cannot remove the socket");
    }
    tracing::info!(socket = %socket_path.display(), "Workload API stopped");
    Ok(result?)
}

/// Prepares the directory, clears a stale socket, binds and opens up the socket (see
/// [`serve_workload_api`]).
///
/// Every directory from `/` down to the socket's, and every symbolic link on the way, must be
/// owned by root or the agent's effective uid, and a directory writable by group or others
/// must have the sticky bit (as `/tmp` has): otherwise another user could rename the socket's
/// directory away and put one of their own, with their own socket, in its place. Missing
/// directories are created one at a time inside checked ones. Because no other user can change
/// the directory, the socket's mode is then set by its path without a race.
pub fn bind_workload_socket(path: &Path) -> Result<UnixListener, WorkloadApiError> {
    let socket_error = |source| WorkloadApiError::Socket {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        prepare_socket_dir(dir)?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(WorkloadApiError::Symlink {
                path: path.to_path_buf(),
            });
        }
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

/// Checks `dir` and everything above it (see [`bind_workload_socket`]), creating what is
/// missing.
fn prepare_socket_dir(dir: &Path) -> Result<(), WorkloadApiError> {
    let euid = nix::unistd::geteuid().as_raw();
    let create_error = |path: &Path, source| WorkloadApiError::CreateDir {
        path: path.to_path_buf(),
        source,
    };
    // Top down, so that each directory is created inside one already checked.
    let mut prefix = PathBuf::new();
    for component in dir.components() {
        prefix.push(component);
        let meta = match std::fs::symlink_metadata(&prefix) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::DirBuilder::new()
                    .mode(0o755)
                    .create(&prefix)
                    .map_err(|e| create_error(&prefix, e))?;
                // The umask may have narrowed the mode; workloads of every uid must get through.
                std::fs::set_permissions(&prefix, std::fs::Permissions::from_mode(0o755))
                    .map_err(|e| create_error(&prefix, e))?;
                std::fs::symlink_metadata(&prefix).map_err(|e| create_error(&prefix, e))?
            }
            Err(e) => return Err(create_error(&prefix, e)),
        };
        check_trusted(&prefix, &meta, euid)?;
    }
    // A symbolic link on the way leads elsewhere: check where it leads too.
    let real = std::fs::canonicalize(dir).map_err(|e| create_error(dir, e))?;
    if real != dir {
        let mut prefix = PathBuf::new();
        for component in real.components() {
            prefix.push(component);
            let meta = std::fs::metadata(&prefix).map_err(|e| create_error(&prefix, e))?;
            check_trusted(&prefix, &meta, euid)?;
        }
    }
    if !std::fs::metadata(dir)
        .map_err(|e| create_error(dir, e))?
        .is_dir()
    {
        return Err(create_error(
            dir,
            std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory"),
        ));
    }
    Ok(())
}

/// Whether no user but root and the agent's can change what `path` leads to.
fn check_trusted(path: &Path, meta: &std::fs::Metadata, euid: u32) -> Result<(), WorkloadApiError> {
    let unsafe_dir = |problem: String| WorkloadApiError::UnsafeDir {
        path: path.to_path_buf(),
        problem,
        euid,
    };
    if meta.uid() != 0 && meta.uid() != euid {
        return Err(unsafe_dir(format!("owned by uid {}", meta.uid())));
    }
    let mode = meta.mode();
    if meta.is_dir() && mode & 0o022 != 0 && mode & 0o1000 == 0 {
        return Err(unsafe_dir(format!(
            "writable by {} (mode {:o}) without the sticky bit",
            if mode & 0o002 != 0 {
                "others"
            } else {
                "its group"
            },
            mode & 0o7777
        )));
    }
    Ok(())
}

/// Accepts connections, records each peer at once (the earliest moment, for the PID-reuse
/// defence), and hands them to the server; closes connections beyond `limits`' total or per-uid
/// share at once.
async fn accept_loop(
    listener: UnixListener,
    tx: mpsc::Sender<std::io::Result<PeerStream>>,
    limits: WorkloadApiLimits,
    metrics: WorkloadMetrics,
) {
    let slots = ConnSlots::new(limits.max_connections, limits.max_connections_per_uid);
    let mut shed = ShedLog::default();
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
        let cred = match stream.peer_cred() {
            Ok(cred) => cred,
            Err(e) => {
                tracing::debug!(error = %e, "closing a Workload API connection: no peer credentials");
                continue;
            }
        };
        let slot = match slots.acquire(cred.uid()) {
            Ok(slot) => slot,
            Err(why) => {
                tracing::debug!(
                    pid = cred.pid(),
                    uid = cred.uid(),
                    reason = %why,
                    "closing a new Workload API connection"
                );
                shed.refused(cred.uid(), why);
                metrics.refused(match why {
                    conn::NoSlot::Total(_) => Refused::Total,
                    conn::NoSlot::Uid(_) => Refused::PerUid,
                });
                continue;
            }
        };
        let conn = PeerStream::new(
            stream,
            slot,
            OpenGuard::new(metrics.connections()),
            limits.idle_timeout,
            limits.handshake_timeout,
        );
        if tx.send(Ok(conn)).await.is_err() {
            return;
        }
    }
}

/// At most one warning per [`SHED_WARN_EVERY`] about connections closed at accept, with how many.
#[derive(Default)]
struct ShedLog {
    last: Option<tokio::time::Instant>,
    since_last: u64,
}

const SHED_WARN_EVERY: Duration = Duration::from_secs(10);

impl ShedLog {
    fn refused(&mut self, uid: u32, why: conn::NoSlot) {
        self.since_last += 1;
        let now = tokio::time::Instant::now();
        if self.last.is_none_or(|last| now - last >= SHED_WARN_EVERY) {
            tracing::warn!(
                uid,
                reason = %why,
                closed = self.since_last,
                "Workload API connection limit reached; closing new connections"
            );
            self.last = Some(now);
            self.since_last = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A uid that is neither root nor this process's.
    const OTHER_UID: u32 = 65534;

    fn chown(path: &Path, uid: u32) {
        std::os::unix::fs::lchown(path, Some(uid), None).unwrap();
    }

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[tokio::test]
    async fn missing_directories_are_created_and_the_socket_is_open_to_all() {
        let tmp = tempfile::tempdir().unwrap();
        let socket = tmp.path().join("a/b/api.sock");
        let _listener = bind_workload_socket(&socket).unwrap();
        for dir in ["a", "a/b"] {
            let mode = std::fs::metadata(tmp.path().join(dir)).unwrap().mode() & 0o7777;
            assert_eq!(mode, 0o755, "{dir}");
        }
        assert_eq!(std::fs::metadata(&socket).unwrap().mode() & 0o777, 0o777);
    }

    #[tokio::test]
    async fn a_directory_of_another_user_is_refused_with_what_to_fix() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("public");
        std::fs::create_dir(&dir).unwrap();
        chown(&dir, OTHER_UID);
        let err = bind_workload_socket(&dir.join("api.sock")).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, WorkloadApiError::UnsafeDir { ref path, .. } if *path == dir),
            "{text}"
        );
        assert!(text.contains("owned by uid 65534"), "{text}");
        assert!(text.contains("chmod go-w"), "{text}");
        assert!(!dir.join("api.sock").exists(), "nothing bound there");
    }

    #[tokio::test]
    async fn a_directory_writable_by_others_needs_the_sticky_bit() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("public");
        std::fs::create_dir(&dir).unwrap();
        chmod(&dir, 0o777);
        let err = bind_workload_socket(&dir.join("api.sock")).unwrap_err();
        assert!(
            err.to_string()
                .contains("writable by others (mode 777) without the sticky bit"),
            "{err}"
        );
        chmod(&dir, 0o775);
        let err = bind_workload_socket(&dir.join("api.sock")).unwrap_err();
        assert!(err.to_string().contains("writable by its group"), "{err}");
        // Sticky, as /tmp: others cannot rename or remove what the agent puts there.
        chmod(&dir, 0o1777);
        bind_workload_socket(&dir.join("api.sock")).unwrap();
    }

    #[tokio::test]
    async fn an_ancestor_of_another_user_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let above = tmp.path().join("above");
        std::fs::create_dir(&above).unwrap();
        chown(&above, OTHER_UID);
        let err = bind_workload_socket(&above.join("public/api.sock")).unwrap_err();
        assert!(
            matches!(err, WorkloadApiError::UnsafeDir { ref path, .. } if *path == above),
            "{err}"
        );
        assert!(
            !above.join("public").exists(),
            "nothing is created under it"
        );
    }

    #[tokio::test]
    async fn a_link_to_a_directory_of_another_user_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let foreign = tmp.path().join("foreign");
        std::fs::create_dir(&foreign).unwrap();
        chown(&foreign, OTHER_UID);
        let link = tmp.path().join("public");
        std::os::unix::fs::symlink(&foreign, &link).unwrap();
        let err = bind_workload_socket(&link.join("api.sock")).unwrap_err();
        assert!(
            matches!(err, WorkloadApiError::UnsafeDir { ref path, .. } if *path == foreign),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_symlink_at_the_socket_path_is_neither_followed_nor_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("target");
        std::fs::write(&target, b"keep").unwrap();
        chmod(&target, 0o600);
        let socket = tmp.path().join("api.sock");
        std::os::unix::fs::symlink(&target, &socket).unwrap();
        let err = bind_workload_socket(&socket).unwrap_err();
        assert!(matches!(err, WorkloadApiError::Symlink { .. }), "{err}");
        assert!(err.to_string().contains("is a symbolic link"), "{err}");
        assert!(
            std::fs::symlink_metadata(&socket)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let meta = std::fs::metadata(&target).unwrap();
        assert_eq!(
            meta.mode() & 0o777,
            0o600,
            "the link's target keeps its mode"
        );
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");
    }
}
