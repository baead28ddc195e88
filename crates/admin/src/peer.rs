//! Who may call an admin API beyond reaching its socket.

use tonic::transport::server::UdsConnectInfo;
use tonic::{Request, Status};

/// A tonic interceptor admitting only callers whose uid (`SO_PEERCRED`, taken at accept) is
/// this process's effective uid or root; everyone else gets `PermissionDenied` saying who may.
/// The socket's private directory keeps others out already; this holds even if the directory's
/// mode is loosened later, or the socket is passed to another process.
pub fn owner_or_root(request: Request<()>) -> Result<Request<()>, Status> {
    let own = nix::unistd::geteuid().as_raw();
    let caller = request
        .extensions()
        .get::<UdsConnectInfo>()
        .and_then(|info| info.peer_cred)
        .map(|cred| cred.uid());
    match caller {
        Some(uid) if uid == own || uid == 0 => Ok(request),
        Some(uid) => Err(Status::permission_denied(format!(
            "uid {uid} may not use this admin API: run the command as the process's user \
             (uid {own}) or as root"
        ))),
        None => Err(Status::permission_denied(
            "the caller's uid is unknown (no peer credentials): connect over the admin socket",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_without_peer_credentials_is_refused() {
        let refused = owner_or_root(Request::new(())).unwrap_err();
        assert_eq!(refused.code(), tonic::Code::PermissionDenied);
        assert!(
            refused.message().contains("no peer credentials"),
            "{refused:?}"
        );
    }
}
