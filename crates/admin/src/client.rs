//! A CLI's connection to an admin socket.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tonic::transport::{Channel, Endpoint, Uri};

/// How long one call may take before the CLI gives up.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a CLI could not reach an admin socket.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The socket is missing or nobody accepts on it.
    #[error("cannot reach the admin socket at {path}{detail}")]
    Unreachable {
        /// The socket path tried.
        path: PathBuf,
        /// The cause, as `" (cause)"`, or empty.
        detail: String,
    },
    /// The file system refused this user the socket or its directory.
    #[error("permission denied on the admin socket at {path}")]
    PermissionDenied {
        /// The socket path tried.
        path: PathBuf,
    },
}

/// A gRPC channel over the Unix socket at `path`.
pub async fn connect(path: &Path) -> Result<Channel, ConnectError> {
    let unreachable = |detail: String| ConnectError::Unreachable {
        path: path.to_owned(),
        detail,
    };
    let denied = || ConnectError::PermissionDenied {
        path: path.to_owned(),
    };
    match std::fs::symlink_metadata(path) {
        Ok(_) => {}
        // A private directory of another user hides the socket: not "no such file".
        Err(e) if e.kind() == ErrorKind::PermissionDenied => return Err(denied()),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(unreachable(" (no such file)".to_owned()));
        }
        Err(e) => return Err(unreachable(format!(" ({e})"))),
    }
    let socket = path.to_owned();
    Endpoint::from_static("http://localhost")
        .timeout(CALL_TIMEOUT)
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let socket = socket.clone();
            async move {
                Ok::<_, std::io::Error>(TokioIo::new(
                    tokio::net::UnixStream::connect(socket).await?,
                ))
            }
        }))
        .await
        .map_err(|e| {
            if permission_denied(&e) {
                denied()
            } else {
                unreachable(format!(" ({})", innermost(&e)))
            }
        })
}

/// Whether `connect(2)` was refused by the socket file's mode.
fn permission_denied(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == ErrorKind::PermissionDenied)
        {
            return true;
        }
        cur = err.source();
    }
    false
}

/// The deepest cause of `e` (tonic's own message is just "transport error").
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}
