//! Connecting to the admin socket.

use std::path::Path;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tonic::transport::{Channel, Endpoint, Uri};

use super::CliError;

/// How long one call may take before the CLI gives up.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// A gRPC channel over the Unix socket at `path`.
pub(super) async fn connect(path: &Path) -> Result<Channel, CliError> {
    let unreachable = |detail: String| CliError::Unreachable {
        path: path.to_owned(),
        detail,
    };
    if std::fs::symlink_metadata(path).is_err() {
        return Err(unreachable(" (no such file)".to_owned()));
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
        .map_err(|e| unreachable(format!(" ({})", innermost(&e))))
}

/// The deepest cause of `e` (tonic's own message is just "transport error").
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}
