//! Reaching the Workload API from the command line: where the socket is, connecting to it, and
//! saying what went wrong in words an operator can act on.

use std::path::{Path, PathBuf};

use hyper_util::rt::TokioIo;
use lanyard_proto::workload::spiffe_workload_api_client::SpiffeWorkloadApiClient;
use tokio::net::UnixStream;
use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint, Uri};
use tonic::{Request, Status};

use crate::workload::SECURITY_HEADER;

/// The socket used when neither `--socket-path` nor `SPIFFE_ENDPOINT_SOCKET` names one.
pub const DEFAULT_SOCKET_PATH: &str = "/run/lanyard-agent/public/api.sock";

/// The environment variable SPIFFE clients read the Workload API address from
/// (SPIFFE Workload Endpoint §4).
pub const ENDPOINT_SOCKET_ENV: &str = "SPIFFE_ENDPOINT_SOCKET";

/// A Workload API client that adds the security header to every request.
pub(crate) type WorkloadClient =
    SpiffeWorkloadApiClient<InterceptedService<Channel, SecurityHeader>>;

/// Adds `workload.spiffe.io: true` (SPIFFE Workload Endpoint §3) to every request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SecurityHeader;

impl Interceptor for SecurityHeader {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request
            .metadata_mut()
            .insert(SECURITY_HEADER, MetadataValue::from_static("true"));
        Ok(request)
    }
}

/// The socket path: `flag` (`--socket-path`), else `$SPIFFE_ENDPOINT_SOCKET`, else
/// [`DEFAULT_SOCKET_PATH`]. Accepts `unix:///abs`, `unix:/abs` and `/abs`.
pub fn resolve_socket_path(flag: Option<&str>) -> Result<PathBuf, String> {
    let env = std::env::var(ENDPOINT_SOCKET_ENV).ok();
    socket_path_from(flag, env.as_deref().filter(|v| !v.is_empty()))
}

fn socket_path_from(flag: Option<&str>, env: Option<&str>) -> Result<PathBuf, String> {
    let (value, source) = match (flag, env) {
        (Some(flag), _) => (flag, "--socket-path"),
        (None, Some(env)) => (env, ENDPOINT_SOCKET_ENV),
        (None, None) => return Ok(PathBuf::from(DEFAULT_SOCKET_PATH)),
    };
    parse_socket_address(value).map_err(|why| format!("{source} {value:?}: {why}"))
}

/// Parses a Workload API address into a socket path (SPIFFE Workload Endpoint §4: `unix`
/// URIs name an absolute path; this CLI does not speak `tcp`).
fn parse_socket_address(value: &str) -> Result<PathBuf, String> {
    let path = if let Some(rest) = value.strip_prefix("unix://") {
        if !rest.starts_with('/') {
            return Err("a unix URI takes no host; write unix:///absolute/path".into());
        }
        rest
    } else if let Some(rest) = value.strip_prefix("unix:") {
        rest
    } else if value.starts_with("tcp:") {
        return Err(format!(
            "TCP endpoints are not supported by this CLI; use the agent's Unix socket, \
             e.g. unix://{DEFAULT_SOCKET_PATH}"
        ));
    } else if let Some((scheme, _)) = value.split_once("://") {
        return Err(format!(
            "unsupported scheme {scheme:?}; use unix:///absolute/path"
        ));
    } else {
        value
    };
    if !path.starts_with('/') {
        return Err("the socket path must be absolute, e.g. unix:///run/lanyard/api.sock".into());
    }
    if path.contains(['?', '#']) {
        return Err("a unix URI takes no query or fragment".into());
    }
    Ok(PathBuf::from(path))
}

/// Connects to the Workload API on the Unix socket `path`.
pub(crate) async fn connect(path: &Path) -> Result<WorkloadClient, String> {
    let socket = path.to_path_buf();
    let channel = Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let socket = socket.clone();
            async move { Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(socket).await?)) }
        }))
        .await
        .map_err(|e| {
            format!(
                "cannot connect to the Workload API at {}: {} (is lanyard-agent running? \
                 set --socket-path or {ENDPOINT_SOCKET_ENV})",
                path.display(),
                error_chain(&e)
            )
        })?;
    Ok(SpiffeWorkloadApiClient::with_interceptor(
        channel,
        SecurityHeader,
    ))
}

/// An error and its sources, joined with `: `.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// What a status from the agent means for the person at the terminal.
pub(crate) fn explain_status(status: &Status) -> String {
    let hint = match status.code() {
        tonic::Code::PermissionDenied => {
            " (no registration entry matches this process; check the entry's selectors, \
             e.g. unix:uid:<uid>)"
        }
        tonic::Code::Unavailable => " (the agent may still be starting; try again shortly)",
        _ => "",
    };
    format!(
        "the agent answered {:?}: {}{hint}",
        status.code(),
        status.message()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_addresses() {
        let ok = |v: &str| parse_socket_address(v).unwrap();
        assert_eq!(ok("unix:///run/a.sock"), PathBuf::from("/run/a.sock"));
        assert_eq!(ok("unix:/run/a.sock"), PathBuf::from("/run/a.sock"));
        assert_eq!(ok("/run/a.sock"), PathBuf::from("/run/a.sock"));
        let err = |v: &str| parse_socket_address(v).unwrap_err();
        assert!(err("tcp://127.0.0.1:8081").contains("not supported"));
        assert!(err("tcp:127.0.0.1:8081").contains("unix://"));
        assert!(err("run/a.sock").contains("absolute"));
        assert!(err("unix:a.sock").contains("absolute"));
        assert!(err("unix://host/a.sock").contains("no host"));
        assert!(err("http://x/a").contains("unsupported scheme"));
    }

    #[test]
    fn flag_beats_env_beats_default() {
        assert_eq!(
            socket_path_from(Some("/a"), Some("unix:///b")).unwrap(),
            PathBuf::from("/a")
        );
        assert_eq!(
            socket_path_from(None, Some("unix:///b")).unwrap(),
            PathBuf::from("/b")
        );
        assert_eq!(
            socket_path_from(None, None).unwrap(),
            PathBuf::from(DEFAULT_SOCKET_PATH)
        );
        let err = socket_path_from(None, Some("tcp://1.2.3.4:5")).unwrap_err();
        assert!(err.starts_with(ENDPOINT_SOCKET_ENV), "{err}");
    }
}
