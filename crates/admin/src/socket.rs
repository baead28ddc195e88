//! Binding an admin socket.
//!
//! # The socket directory
//!
//! Access to the socket is admin access, so its directory must be private to the process's
//! user. If the directory does not exist it is created (with any missing parents) with mode
//! 0700. If it exists with group or other permission bits set, the process **refuses to start**
//! rather than `chmod` it: the directory may be shared (a socket configured as `/tmp/api.sock`
//! has `/tmp` as its directory, and tightening that would break the machine), so only the
//! operator can decide. The error says what to run. A directory owned by another uid is refused
//! too: its owner could replace the socket with one of their own and read every admin call.
//!
//! # The socket file
//!
//! A leftover socket from a previous run (nobody accepts on it) is removed before binding. A
//! socket someone still accepts on means another process is serving it: refused. A path that is
//! not a socket at all is never deleted: refused. [`remove`] deletes the socket file on shutdown.

use std::io;
use std::os::unix::fs::{
    DirBuilderExt as _, FileTypeExt as _, MetadataExt as _, PermissionsExt as _,
};
use std::path::{Path, PathBuf};

use tokio::net::UnixListener;

/// Whose admin socket, for messages: the binary and the config key naming the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminSocket {
    /// `lanyard-server` or `lanyard-agent`.
    pub binary: &'static str,
    /// The config key of the socket's path: `socket_path` or `admin.socket_path`.
    pub key: &'static str,
}

/// Why an admin socket could not be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminSocketError {
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
         an admin: run `chmod 700 {path}`, or set {key} to a file in a directory of its own"
    )]
    DirectoryTooOpen {
        /// The directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
        /// The config key naming the socket.
        key: &'static str,
    },
    /// The socket's directory belongs to another user.
    #[error(
        "the admin socket directory {path} is owned by uid {owner}, not by this process's uid {server}: \
         its owner could replace the socket; run `chown {server} {path}` or set {key} to a file \
         in a directory of the process's own"
    )]
    DirectoryNotOwned {
        /// The directory.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// The process's effective uid.
        server: u32,
        /// The config key naming the socket.
        key: &'static str,
    },
    /// The socket's parent exists and is not a directory.
    #[error("{path} is not a directory; set {key} to a file in a directory")]
    NotADirectory {
        /// The path.
        path: PathBuf,
        /// The config key naming the socket.
        key: &'static str,
    },
    /// Something other than a socket exists at the socket path.
    #[error(
        "{path} exists and is not a socket; refusing to delete it: remove it yourself or set another {key}"
    )]
    NotASocket {
        /// The path.
        path: PathBuf,
        /// The config key naming the socket.
        key: &'static str,
    },
    /// Another process accepts connections on the socket.
    #[error(
        "another process is serving {path} (is {binary} already running?); stop it or set another {key}"
    )]
    InUse {
        /// The socket path.
        path: PathBuf,
        /// The binary that would be serving it.
        binary: &'static str,
        /// The config key naming the socket.
        key: &'static str,
    },
    /// The gRPC server failed.
    #[error("the admin API server failed: {0}")]
    Serve(#[from] tonic::transport::Error),
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> AdminSocketError {
    let path = path.to_owned();
    move |source| AdminSocketError::Io {
        action,
        path,
        source,
    }
}

/// Makes sure `dir` exists, is a directory and is private (see the module docs).
fn prepare_dir(dir: &Path, key: &'static str) -> Result<(), AdminSocketError> {
    match std::fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => {
            return Err(AdminSocketError::NotADirectory {
                path: dir.to_owned(),
                key,
            });
        }
        Ok(meta) => {
            let server = nix::unistd::geteuid().as_raw();
            if meta.uid() != server {
                return Err(AdminSocketError::DirectoryNotOwned {
                    path: dir.to_owned(),
                    owner: meta.uid(),
                    server,
                    key,
                });
            }
            let mode = meta.permissions().mode() & 0o7777;
            if mode & 0o077 != 0 {
                return Err(AdminSocketError::DirectoryTooOpen {
                    path: dir.to_owned(),
                    mode,
                    key,
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
async fn clear_stale_socket(path: &Path, whose: AdminSocket) -> Result<(), AdminSocketError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err("inspect the admin socket", path)(e)),
    };
    if !meta.file_type().is_socket() {
        return Err(AdminSocketError::NotASocket {
            path: path.to_owned(),
            key: whose.key,
        });
    }
    if tokio::net::UnixStream::connect(path).await.is_ok() {
        return Err(AdminSocketError::InUse {
            path: path.to_owned(),
            binary: whose.binary,
            key: whose.key,
        });
    }
    tracing::info!(socket = %path.display(), "removing stale admin socket");
    std::fs::remove_file(path).map_err(io_err("remove the stale admin socket", path))
}

/// Prepares the directory, clears a stale socket and binds the admin socket at `socket_path`,
/// so that a caller can announce readiness only once the socket accepts connections.
pub async fn bind(
    socket_path: &Path,
    whose: AdminSocket,
) -> Result<UnixListener, AdminSocketError> {
    let dir = socket_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    prepare_dir(dir, whose.key)?;
    clear_stale_socket(socket_path, whose).await?;
    let listener =
        UnixListener::bind(socket_path).map_err(io_err("bind the admin socket", socket_path))?;
    tracing::info!(socket = %socket_path.display(), "admin API listening");
    Ok(listener)
}

/// Removes the socket file after serving (a warning if that fails: the next start clears it).
pub fn remove(socket_path: &Path) {
    if let Err(e) = std::fs::remove_file(socket_path) {
        tracing::warn!(socket = %socket_path.display(), error = %e, "could not remove the admin socket");
    }
}
