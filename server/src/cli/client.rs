//! Connecting to the admin socket (`lanyard_admin::connect`, shared with the agent's CLI), with
//! the server's words for what to do when it fails.

use std::path::Path;

use lanyard_admin::ConnectError;
use tonic::transport::Channel;

use super::CliError;

/// A gRPC channel over the Unix socket at `path`.
pub(super) async fn connect(path: &Path) -> Result<Channel, CliError> {
    lanyard_admin::connect(path).await.map_err(|e| match e {
        ConnectError::PermissionDenied { path } => CliError::PermissionDenied { path },
        ConnectError::Unreachable { path, detail } => CliError::Unreachable { path, detail },
        other => CliError::Unreachable {
            path: path.to_owned(),
            detail: format!(" ({other})"),
        },
    })
}
