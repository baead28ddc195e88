//! Workload API clients over a Unix socket (the generated `SpiffeWorkloadAPI` client, as
//! `tests/e2e/agent_client.rs` uses it) and [`Echo`], the latency baseline: the same generated
//! service, served by tonic on a Unix socket in this process, answering `FetchX509SVID` with a
//! canned response and nothing else (no header check, no attestation, no store).

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use hyper_util::rt::TokioIo;
use lanyard_proto::workload::spiffe_workload_api_client::SpiffeWorkloadApiClient;
use lanyard_proto::workload::spiffe_workload_api_server::{
    SpiffeWorkloadApi, SpiffeWorkloadApiServer,
};
use lanyard_proto::workload::{
    JwtBundlesRequest, JwtBundlesResponse, JwtsvidRequest, JwtsvidResponse, ValidateJwtsvidRequest,
    ValidateJwtsvidResponse, X509BundlesRequest, X509BundlesResponse, X509svidRequest,
    X509svidResponse,
};
use tokio::net::{UnixListener, UnixStream};
use tokio_stream::{Stream, StreamExt as _};
use tonic::transport::{Channel, Endpoint, Uri};
use tonic::{Request, Response, Status, Streaming};

/// The Workload API client type.
pub(crate) type Client = SpiffeWorkloadApiClient<Channel>;

/// A gRPC channel over the Unix socket at `socket`, connected now.
pub(crate) async fn unix_channel(socket: &Path) -> Result<Channel> {
    let socket = socket.to_path_buf();
    Ok(Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let socket = socket.clone();
            async move { Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(socket).await?)) }
        }))
        .await?)
}

/// A Workload API client on a new connection to `socket`.
pub(crate) async fn connect(socket: &Path) -> Result<Client> {
    Ok(SpiffeWorkloadApiClient::new(unix_channel(socket).await?))
}

/// `FetchX509SVID` with the security header `workload.spiffe.io: true`; the open stream.
pub(crate) async fn fetch(client: &mut Client) -> Result<Streaming<X509svidResponse>> {
    let mut request = Request::new(X509svidRequest {});
    request
        .metadata_mut()
        .insert("workload.spiffe.io", "true".parse()?);
    Ok(client.fetch_x509svid(request).await?.into_inner())
}

/// The next message of a stream; an error if it ends or fails.
pub(crate) async fn next(stream: &mut Streaming<X509svidResponse>) -> Result<X509svidResponse> {
    stream
        .message()
        .await?
        .ok_or_else(|| anyhow!("the FetchX509SVID stream ended"))
}

/// A new workload's view: connect to `socket`, call `FetchX509SVID`, receive the first
/// response. Returns the elapsed time of all three and the response; the connection is closed
/// when this returns.
pub(crate) async fn first_response_new_conn(socket: &Path) -> Result<(Duration, X509svidResponse)> {
    let start = Instant::now();
    let mut client = connect(socket).await?;
    let mut stream = fetch(&mut client).await?;
    let first = next(&mut stream).await?;
    Ok((start.elapsed(), first))
}

/// `FetchX509SVID` on an already-connected `client` until its first response; the call is
/// cancelled when this returns.
pub(crate) async fn first_response_on(client: &mut Client) -> Result<Duration> {
    let start = Instant::now();
    let mut stream = fetch(client).await?;
    next(&mut stream).await?;
    Ok(start.elapsed())
}

/// The SPIFFE IDs a response carries.
pub(crate) fn ids(resp: &X509svidResponse) -> impl Iterator<Item = &str> {
    resp.svids.iter().map(|s| s.spiffe_id.as_str())
}

type Boxed<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// The baseline service: `FetchX509SVID` answers `canned` at once and then stays open, like the
/// agent's streams; everything else is unimplemented.
struct EchoService {
    canned: X509svidResponse,
}

#[tonic::async_trait]
impl SpiffeWorkloadApi for EchoService {
    type FetchX509SVIDStream = Boxed<X509svidResponse>;
    type FetchX509BundlesStream = Boxed<X509BundlesResponse>;
    type FetchJWTBundlesStream = Boxed<JwtBundlesResponse>;

    async fn fetch_x509svid(
        &self,
        _request: Request<X509svidRequest>,
    ) -> Result<Response<Self::FetchX509SVIDStream>, Status> {
        let stream = tokio_stream::once(Ok(self.canned.clone())).chain(tokio_stream::pending());
        Ok(Response::new(Box::pin(stream)))
    }

    async fn fetch_x509_bundles(
        &self,
        _request: Request<X509BundlesRequest>,
    ) -> Result<Response<Self::FetchX509BundlesStream>, Status> {
        Err(Status::unimplemented("baseline"))
    }

    async fn fetch_jwtsvid(
        &self,
        _request: Request<JwtsvidRequest>,
    ) -> Result<Response<JwtsvidResponse>, Status> {
        Err(Status::unimplemented("baseline"))
    }

    async fn fetch_jwt_bundles(
        &self,
        _request: Request<JwtBundlesRequest>,
    ) -> Result<Response<Self::FetchJWTBundlesStream>, Status> {
        Err(Status::unimplemented("baseline"))
    }

    async fn validate_jwtsvid(
        &self,
        _request: Request<ValidateJwtsvidRequest>,
    ) -> Result<Response<ValidateJwtsvidResponse>, Status> {
        Err(Status::unimplemented("baseline"))
    }
}

/// The name of the baseline server's threads, to tell its CPU time apart.
pub(crate) const ECHO_THREADS: &str = "echo-baseline";

/// The baseline server, on a tokio runtime of its own with as many workers as the agent's
/// (`#[tokio::main]`: one per core), so it does not share the bench client's workers.
pub(crate) struct Echo {
    /// Its socket.
    pub(crate) socket: PathBuf,
    rt: Option<tokio::runtime::Runtime>,
    _dir: tempfile::TempDir,
}

impl Echo {
    /// Serves `canned` on a new socket in a tempdir.
    pub(crate) fn start(canned: X509svidResponse) -> Result<Echo> {
        let dir = tempfile::tempdir()?;
        let socket = dir.path().join("echo.sock");
        let workers = std::thread::available_parallelism().map_or(2, usize::from);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name(ECHO_THREADS)
            .enable_all()
            .build()?;
        let listener = {
            let _entered = rt.enter();
            UnixListener::bind(&socket)?
        };
        rt.spawn(async move {
            let incoming = tokio_stream::wrappers::UnixListenerStream::new(listener);
            let result = tonic::transport::Server::builder()
                .add_service(SpiffeWorkloadApiServer::new(EchoService { canned }))
                .serve_with_incoming(incoming)
                .await;
            if let Err(e) = result {
                eprintln!("echo baseline server failed: {e}");
            }
        });
        Ok(Echo {
            socket,
            rt: Some(rt),
            _dir: dir,
        })
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which an async caller must not do.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}
