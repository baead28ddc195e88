//! Fixtures: a test CA that mints real SVIDs, and a Workload API server on a socket in a tempdir
//! with the real handler and the real unix attestor. The test process is the workload.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, SystemTime};

use hyper_util::rt::TokioIo;
use lanyard_agent::jwt::JwtMinter;
use lanyard_agent::store::{Selector, Snapshot, SvidStore, WorkloadSvid};
use lanyard_agent::workload::{
    UnixAttestor, UnixAttestorConfig, WorkloadApiError, serve_workload_api,
};
use lanyard_id::TrustDomain;
use lanyard_proto::workload::spiffe_workload_api_client::SpiffeWorkloadApiClient;
use lanyard_x509::{
    Bundle, BundleSet, CaParams, KeyPair, KeyType, SigningCa, Subject, SvidParams, self_signed_ca,
};
use tokio::net::UnixStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::Request;
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint, Uri};

/// How long a test waits for an event before failing (a guard, never a delay).
pub(crate) const GUARD: Duration = Duration::from_secs(10);

/// Awaits `fut`, failing the test if it takes longer than [`GUARD`].
pub(crate) async fn within<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(GUARD, fut)
        .await
        .expect("timed out waiting for an event")
}

/// A root CA of one trust domain.
pub(crate) struct Ca {
    signing: SigningCa,
}

impl Ca {
    pub(crate) fn new(trust_domain: &str) -> Ca {
        let now = SystemTime::now();
        let key = KeyPair::generate(KeyType::EcP256).unwrap();
        let params = CaParams {
            trust_domain: TrustDomain::new(trust_domain).unwrap(),
            subject: Subject {
                organization: Some("Lanyard test".into()),
                ..Subject::default()
            },
            not_before: now,
            not_after: now + Duration::from_secs(24 * 3600),
            path_len: None,
        };
        let cert = self_signed_ca(&params, &key).unwrap();
        Ca {
            signing: SigningCa::new(cert, key, Vec::new()).unwrap(),
        }
    }

    pub(crate) fn bundle(&self) -> Bundle {
        let mut bundle = Bundle::new(self.signing.trust_domain().clone());
        bundle.add_x509_authority(self.signing.certificate().clone());
        bundle
    }

    /// A freshly signed SVID (new key, new serial) for entry `entry_id`.
    pub(crate) fn svid(
        &self,
        entry_id: &str,
        path: &str,
        selectors: &[Selector],
        hint: &str,
    ) -> Arc<WorkloadSvid> {
        let key = KeyPair::generate(KeyType::EcP256).unwrap();
        let spiffe_id = self.signing.trust_domain().id_with_path(path).unwrap();
        let issued = self
            .signing
            .issue_x509_svid(
                &key.public_key_spki_der(),
                &SvidParams {
                    spiffe_id: spiffe_id.clone(),
                    dns_names: Vec::new(),
                    not_before: SystemTime::now(),
                    not_after: SystemTime::now() + Duration::from_secs(3600),
                    backdate: Duration::from_secs(10),
                },
            )
            .unwrap();
        Arc::new(WorkloadSvid {
            entry_id: entry_id.into(),
            spiffe_id,
            selectors: selectors.to_vec(),
            hint: hint.into(),
            chain: issued.chain,
            key_pkcs8: lanyard_agent::store::key_der(key.pkcs8_der()),
            not_after: issued.not_after,
            created_at: 0,
            federates_with: Vec::new(),
        })
    }
}

/// `svid` with its entry federating with `trust_domains`.
pub(crate) fn federating(svid: &Arc<WorkloadSvid>, trust_domains: &[&str]) -> Arc<WorkloadSvid> {
    Arc::new(WorkloadSvid {
        federates_with: trust_domains
            .iter()
            .map(|td| TrustDomain::new(td).unwrap())
            .collect(),
        ..(**svid).clone()
    })
}

/// `unix:uid:<this process's effective uid>`: what the attestor derives for the test.
pub(crate) fn my_uid() -> Selector {
    Selector::new("unix", format!("uid:{}", nix::unistd::geteuid()))
}

/// A uid selector that is not ours.
pub(crate) fn other_uid() -> Selector {
    Selector::new(
        "unix",
        format!("uid:{}", nix::unistd::geteuid().as_raw().wrapping_add(1)),
    )
}

/// A ready snapshot with `svids` and the bundles of `cas`.
pub(crate) fn snapshot(svids: Vec<Arc<WorkloadSvid>>, cas: &[&Ca]) -> Snapshot {
    Snapshot {
        svids,
        bundles: cas.iter().map(|ca| ca.bundle()).collect::<BundleSet>(),
        ready: true,
    }
}

/// A Workload API server on `<tempdir>/sockets/api.sock`.
pub(crate) struct Agent {
    pub(crate) socket: PathBuf,
    pub(crate) store: SvidStore,
    pub(crate) dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), WorkloadApiError>>>,
}

impl Agent {
    pub(crate) async fn start() -> Agent {
        Agent::start_with(UnixAttestorConfig::default()).await
    }

    pub(crate) async fn start_with(config: UnixAttestorConfig) -> Agent {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("sockets").join("api.sock");
        let store = SvidStore::new();
        let (task, shutdown) = serve(&socket, &store, config).await.unwrap();
        Agent {
            socket,
            store,
            dir,
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    /// A generated client that adds no security header by itself.
    pub(crate) async fn raw_client(&self) -> SpiffeWorkloadApiClient<Channel> {
        let socket = self.socket.clone();
        let channel =
            Endpoint::from_static("http://localhost")
                .connect_with_connector(tower::service_fn(move |_: Uri| {
                    let socket = socket.clone();
                    async move {
                        Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(socket).await?))
                    }
                }))
                .await
                .unwrap();
        SpiffeWorkloadApiClient::new(channel)
    }

    /// `unix:///...` for this agent's socket.
    pub(crate) fn uri(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// Shuts the server down and returns its result.
    pub(crate) async fn stop(mut self) -> Result<(), WorkloadApiError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        within(self.task.take().unwrap()).await.unwrap()
    }
}

/// Starts `serve_workload_api` and returns once the socket is listening: everything up to and
/// including `bind` + `chmod` runs before the server's first `.await`, so one poll suffices (no
/// waiting on the file system).
pub(crate) async fn serve(
    socket: &Path,
    store: &SvidStore,
    config: UnixAttestorConfig,
) -> Result<
    (
        JoinHandle<Result<(), WorkloadApiError>>,
        oneshot::Sender<()>,
    ),
    WorkloadApiError,
> {
    let (tx, rx) = oneshot::channel::<()>();
    let socket = socket.to_path_buf();
    let store = store.clone();
    let mut server: Pin<Box<dyn Future<Output = Result<(), WorkloadApiError>> + Send>> =
        Box::pin(async move {
            let attestor = Arc::new(UnixAttestor::new(config));
            serve_workload_api(&socket, store, JwtMinter::new(), attestor, async {
                let _ = rx.await;
            })
            .await
        });
    let first = std::future::poll_fn(|cx| Poll::Ready(server.as_mut().poll(cx))).await;
    if let Poll::Ready(result) = first {
        result?;
        panic!("the server stopped at once");
    }
    Ok((tokio::spawn(server), tx))
}

/// `msg` with the security header.
pub(crate) fn with_header<T>(msg: T) -> Request<T> {
    let mut request = Request::new(msg);
    request
        .metadata_mut()
        .insert("workload.spiffe.io", MetadataValue::from_static("true"));
    request
}
