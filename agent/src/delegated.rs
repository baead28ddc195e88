//! SPIRE's Delegated Identity API (`spire.api.agent.delegatedidentity.v1`, the `.proto` files
//! under `proto/spire/`) on a Unix socket of its own, `[delegated_identity] socket_path`: a
//! trusted delegate (a CNI, a node-wide proxy) gets the SVIDs and bundles of *other* workloads
//! on this node, named by their selectors or by a PID the agent attests.
//!
//! Who may call: the socket's directory is private to the agent's user (created 0700, refused
//! when wider or another user's: `lanyard_admin::bind`), and every call is authorized afresh:
//! the caller's uid from `SO_PEERCRED` is in `authorized_uids`, or the caller, attested with the
//! agent's workload attestors like a Workload API caller (and checked to be the same process
//! after attestation), holds one of the SPIFFE IDs in `authorized_delegates`. Anyone else gets
//! `PermissionDenied` saying which key to add them to.
//!
//! What it answers (as SPIRE's agent does, `pkg/agent/api/delegatedidentity/v1`):
//! - `SubscribeToX509SVIDs`: the SVIDs (with keys) of the entries whose selectors are all among
//!   the given ones, or among those the agent attests for `pid`; the full set again whenever it
//!   changes (rotation, entry change). Selectors and pid together, or neither: `InvalidArgument`.
//! - `SubscribeToX509Bundles`, `SubscribeToJWTBundles`: every bundle the agent holds, its own
//!   trust domain's and the federated ones, keyed `spiffe://<td>`; again on every change.
//! - `FetchJWTSVIDs`: JWT-SVIDs for the same identities and the audience (required, bounded as
//!   on the Workload API).
//!
//! Bounds: at most [`MAX_CONNECTIONS`] connections (beyond that closed at accept),
//! [`MAX_CALLS_PER_CONNECTION`] calls each, requests of at most 64 KiB with at most
//! [`MAX_SELECTORS`] selectors, attestation within the Workload API's `attestation_timeout`.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, UNIX_EPOCH};

use lanyard_admin::{AdminSocket, AdminSocketError};
use lanyard_id::SpiffeId;
use lanyard_proto::spire::api::agent::delegatedidentity::v1 as api;
use lanyard_proto::spire::api::types;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::Connected;
use tonic::{Request, Response, Status};

use api::delegated_identity_server::{DelegatedIdentity, DelegatedIdentityServer};

use crate::config::DelegatedIdentityConfig;
use crate::jwt::JwtMinter;
use crate::store::{Selector, Snapshot, SvidStore, WorkloadSvid};
use crate::workload::attestor::WorkloadAttestor;
use crate::workload::{PeerCred, PeerInfo, PeerProcess};

/// The delegated identity socket, for `lanyard_admin`'s messages.
pub const DELEGATED_SOCKET: AdminSocket = AdminSocket {
    binary: "lanyard-agent",
    key: "delegated_identity.socket_path",
};

/// Open connections on the socket; one more is closed at accept.
pub const MAX_CONNECTIONS: usize = 64;
/// Concurrent calls (streams included) per connection.
pub const MAX_CALLS_PER_CONNECTION: u32 = 16;
/// Selectors in one request.
pub const MAX_SELECTORS: usize = 64;
/// Bytes of one selector's type or value.
pub const MAX_SELECTOR_LEN: usize = 1024;
/// Requests carry selectors and audiences only.
const MAX_DECODING_MESSAGE_SIZE: usize = 64 * 1024;
/// Responses carry SVIDs, keys and bundles.
const MAX_ENCODING_MESSAGE_SIZE: usize = 16 * 1024 * 1024;

/// Who may call: delegates by SPIFFE ID or by uid.
#[derive(Debug, Clone, Default)]
pub struct Authorized {
    /// SPIFFE IDs a delegate may hold (attested like a workload).
    pub delegates: HashSet<SpiffeId>,
    /// Uids a delegate may run as (`SO_PEERCRED`).
    pub uids: HashSet<u32>,
}

impl Authorized {
    /// The lists of `config` (already validated).
    pub fn from_config(config: &DelegatedIdentityConfig) -> Authorized {
        Authorized {
            delegates: config
                .authorized_delegates
                .iter()
                .filter_map(|id| SpiffeId::parse(id).ok())
                .collect(),
            uids: config.authorized_uids.iter().copied().collect(),
        }
    }
}

/// The `DelegatedIdentity` service over the agent's store, JWT minter and workload attestors.
#[derive(Clone)]
pub struct DelegatedIdentityService {
    store: SvidStore,
    jwt: JwtMinter,
    attestor: Arc<dyn WorkloadAttestor>,
    authorized: Arc<Authorized>,
    attestation_timeout: Duration,
    /// Turns true at shutdown, ending every open stream.
    stop: Arc<watch::Sender<bool>>,
}

impl std::fmt::Debug for DelegatedIdentityService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DelegatedIdentityService")
            .field("authorized", &self.authorized)
            .finish_non_exhaustive()
    }
}

type ResponseStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

impl DelegatedIdentityService {
    /// A service answering `authorized` delegates from `store` and `jwt`, attesting with
    /// `attestor` within `attestation_timeout`.
    pub fn new(
        store: SvidStore,
        jwt: JwtMinter,
        attestor: Arc<dyn WorkloadAttestor>,
        authorized: Authorized,
        attestation_timeout: Duration,
    ) -> DelegatedIdentityService {
        DelegatedIdentityService {
            store,
            jwt,
            attestor,
            authorized: Arc::new(authorized),
            attestation_timeout,
            stop: Arc::new(watch::Sender::new(false)),
        }
    }

    /// Ends every open stream with `Unavailable`.
    pub fn stop_streams(&self) {
        self.stop.send_replace(true);
    }

    /// The selectors of `cred`'s process, attested within the deadline, the process checked
    /// to be unchanged afterwards.
    async fn attest(&self, process: &PeerProcess, who: &str) -> Result<Vec<Selector>, Status> {
        let cred = process.cred();
        let selectors = match tokio::time::timeout(
            self.attestation_timeout,
            self.attestor.attest(&cred),
        )
        .await
        {
            Ok(Ok(selectors)) => selectors,
            Ok(Err(e)) => {
                tracing::warn!(pid = cred.pid, error = %e, "delegated identity: {who} attestation failed");
                return Err(Status::unavailable(format!(
                    "{who} attestation failed: {e}"
                )));
            }
            Err(_) => {
                return Err(Status::unavailable(format!("{who} attestation timed out")));
            }
        };
        if let Err(changed) = process.check_unchanged() {
            return Err(Status::permission_denied(format!(
                "{who} process (pid {}) changed during attestation: {changed}",
                cred.pid
            )));
        }
        Ok(selectors)
    }

    /// Authorizes the caller of `request`: its uid is listed, or it holds a listed SPIFFE ID.
    async fn authorize<T>(&self, request: &Request<T>, method: &str) -> Result<(), Status> {
        let process = match request.extensions().get::<PeerInfo>() {
            Some(PeerInfo(Ok(process))) => Arc::clone(process),
            Some(PeerInfo(Err(e))) => {
                return Err(Status::permission_denied(format!(
                    "cannot identify the caller: {e}"
                )));
            }
            None => return Err(Status::internal("caller credentials unavailable")),
        };
        let cred = process.cred();
        if self.authorized.uids.contains(&cred.uid) {
            return Ok(());
        }
        if !self.authorized.delegates.is_empty() {
            let selectors = self.attest(&process, "caller").await?;
            let snapshot = self.store.current();
            if let Some(svid) = snapshot
                .svids
                .iter()
                .find(|s| s.matches(&selectors) && self.authorized.delegates.contains(&s.spiffe_id))
            {
                tracing::debug!(
                    method,
                    pid = cred.pid,
                    delegate = svid.spiffe_id.as_str(),
                    "delegated identity: authorized by SPIFFE ID"
                );
                return Ok(());
            }
        }
        tracing::warn!(
            method,
            pid = cred.pid,
            uid = cred.uid,
            "delegated identity: denied an unauthorized caller"
        );
        Err(Status::permission_denied(format!(
            "caller (pid {}, uid {}) is not an authorized delegate: add its SPIFFE ID to \
             [delegated_identity] authorized_delegates or its uid to authorized_uids",
            cred.pid, cred.uid
        )))
    }

    /// The workload a request names: its selectors, or those the agent attests for its pid.
    async fn target(
        &self,
        selectors: &[types::Selector],
        pid: i32,
    ) -> Result<Vec<Selector>, Status> {
        match (selectors.is_empty(), pid) {
            (false, 0) => parse_selectors(selectors),
            (true, 0) => Err(Status::invalid_argument(
                "name the workload: give its selectors or its pid",
            )),
            (false, _) => Err(Status::invalid_argument(
                "selectors and pid are mutually exclusive: give one of them",
            )),
            (true, pid) if pid < 0 => Err(Status::invalid_argument(format!(
                "pid {pid} is not a process id"
            ))),
            (true, pid) => {
                let cred = process_cred(pid)?;
                let process = PeerProcess::record(cred, None).map_err(|e| {
                    Status::invalid_argument(format!("pid {pid}: cannot inspect the process: {e}"))
                })?;
                self.attest(&process, "workload").await
            }
        }
    }

    /// A stream of `make(snapshot)` for every published snapshot once the agent is ready, each
    /// sent only when it differs from the last one sent.
    fn watch<T, F>(&self, method: &'static str, make: F) -> ResponseStream<T>
    where
        T: Clone + PartialEq + Send + 'static,
        F: Fn(&Snapshot) -> T + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(1);
        let mut snapshots = self.store.subscribe();
        let mut stop = self.stop.subscribe();
        tokio::spawn(async move {
            let mut last: Option<T> = None;
            loop {
                let snapshot = Arc::clone(&snapshots.borrow_and_update());
                if snapshot.ready {
                    let message = make(&snapshot);
                    if last.as_ref() != Some(&message) {
                        if tx.send(Ok(message.clone())).await.is_err() {
                            return;
                        }
                        last = Some(message);
                    }
                }
                tokio::select! {
                    changed = snapshots.changed() => if changed.is_err() { return },
                    () = tx.closed() => return,
                    () = async { drop(stop.wait_for(|stopped| *stopped).await) } => {
                        let _ = tx.send(Err(Status::unavailable("agent shutting down"))).await;
                        return;
                    }
                }
            }
        });
        tracing::debug!(method, "delegated identity: stream opened");
        Box::pin(ReceiverStream::new(rx))
    }
}

/// Checks and converts the request's selectors.
fn parse_selectors(selectors: &[types::Selector]) -> Result<Vec<Selector>, Status> {
    if selectors.len() > MAX_SELECTORS {
        return Err(Status::invalid_argument(format!(
            "{} selectors given; at most {MAX_SELECTORS} are accepted",
            selectors.len()
        )));
    }
    selectors
        .iter()
        .map(|s| {
            if s.r#type.is_empty() || s.value.is_empty() {
                return Err(Status::invalid_argument(format!(
                    "selector {:?}:{:?} needs both a type and a value (e.g. unix:uid:1000)",
                    s.r#type, s.value
                )));
            }
            if s.r#type.len() > MAX_SELECTOR_LEN || s.value.len() > MAX_SELECTOR_LEN {
                return Err(Status::invalid_argument(format!(
                    "a selector's type and value may be at most {MAX_SELECTOR_LEN} bytes each"
                )));
            }
            Ok(Selector::new(s.r#type.clone(), s.value.clone()))
        })
        .collect()
}

/// The effective uid and gid of `pid` from `/proc/<pid>/status`.
fn process_cred(pid: i32) -> Result<PeerCred, Status> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| {
        Status::invalid_argument(format!(
            "pid {pid}: no such process visible to the agent ({e})"
        ))
    })?;
    let effective = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|rest| rest.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u32>().ok())
    };
    match (effective("Uid:"), effective("Gid:")) {
        (Some(uid), Some(gid)) => Ok(PeerCred { pid, uid, gid }),
        _ => Err(Status::internal(format!(
            "pid {pid}: /proc/{pid}/status has no Uid/Gid line"
        ))),
    }
}

/// The SVIDs of the entries whose selectors are all among `selectors`.
fn matching(snapshot: &Snapshot, selectors: &[Selector]) -> Vec<Arc<WorkloadSvid>> {
    snapshot
        .svids
        .iter()
        .filter(|s| s.matches(selectors))
        .cloned()
        .collect()
}

fn spiffe_id(id: &SpiffeId) -> types::Spiffeid {
    types::Spiffeid {
        trust_domain: id.trust_domain_name().to_owned(),
        path: id.path().to_owned(),
    }
}

fn unix_seconds(t: std::time::SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `SubscribeToX509SVIDsResponse` for `selectors`: each SVID with its chain and key, and the
/// trust domains their entries federate with.
fn x509_svids(snapshot: &Snapshot, selectors: &[Selector]) -> api::SubscribeToX509sviDsResponse {
    let svids = matching(snapshot, selectors);
    let federates_with: BTreeSet<String> = svids
        .iter()
        .flat_map(|s| s.federates_with.iter().map(|td| td.name().to_owned()))
        .collect();
    api::SubscribeToX509sviDsResponse {
        x509_svids: svids
            .iter()
            .filter(|s| !s.chain.is_empty() && !s.key_pkcs8.is_empty())
            .map(|s| api::X509svidWithKey {
                x509_svid: Some(types::X509svid {
                    cert_chain: s.chain.iter().map(|c| c.as_bytes().to_vec()).collect(),
                    id: Some(spiffe_id(&s.spiffe_id)),
                    expires_at: unix_seconds(s.not_after),
                    hint: s.hint.clone(),
                }),
                x509_svid_key: s.key_pkcs8.to_vec(),
            })
            .collect(),
        federates_with: federates_with.into_iter().collect(),
    }
}

/// Every bundle's X.509 authorities, keyed `spiffe://<td>`.
fn x509_bundles(snapshot: &Snapshot) -> api::SubscribeToX509BundlesResponse {
    api::SubscribeToX509BundlesResponse {
        ca_certificates: snapshot
            .bundles
            .iter()
            .filter(|b| !b.x509_authorities.is_empty())
            .map(|b| (b.trust_domain.id_string(), b.x509_authorities_der()))
            .collect(),
    }
}

/// Every bundle's JWT authorities as a JWKS document, keyed `spiffe://<td>`.
fn jwt_bundles(snapshot: &Snapshot) -> api::SubscribeToJwtBundlesResponse {
    let mut bundles = HashMap::new();
    for bundle in snapshot.bundles.iter() {
        let mut jwt_only = bundle.clone();
        jwt_only.x509_authorities.clear();
        match jwt_only.to_jwks_json() {
            Ok(jwks) => {
                bundles.insert(bundle.trust_domain.id_string(), jwks.into_bytes());
            }
            Err(e) => {
                tracing::error!(trust_domain = %bundle.trust_domain, error = %e, "JWT bundle left out")
            }
        }
    }
    api::SubscribeToJwtBundlesResponse { bundles }
}

#[tonic::async_trait]
impl DelegatedIdentity for DelegatedIdentityService {
    type SubscribeToX509SVIDsStream = ResponseStream<api::SubscribeToX509sviDsResponse>;
    type SubscribeToX509BundlesStream = ResponseStream<api::SubscribeToX509BundlesResponse>;
    type SubscribeToJWTBundlesStream = ResponseStream<api::SubscribeToJwtBundlesResponse>;

    async fn subscribe_to_x509svi_ds(
        &self,
        request: Request<api::SubscribeToX509sviDsRequest>,
    ) -> Result<Response<Self::SubscribeToX509SVIDsStream>, Status> {
        self.authorize(&request, "SubscribeToX509SVIDs").await?;
        let req = request.get_ref();
        let selectors = self.target(&req.selectors, req.pid).await?;
        Ok(Response::new(
            self.watch("SubscribeToX509SVIDs", move |s| x509_svids(s, &selectors)),
        ))
    }

    async fn subscribe_to_x509_bundles(
        &self,
        request: Request<api::SubscribeToX509BundlesRequest>,
    ) -> Result<Response<Self::SubscribeToX509BundlesStream>, Status> {
        self.authorize(&request, "SubscribeToX509Bundles").await?;
        Ok(Response::new(
            self.watch("SubscribeToX509Bundles", x509_bundles),
        ))
    }

    async fn fetch_jwtsvi_ds(
        &self,
        request: Request<api::FetchJwtsviDsRequest>,
    ) -> Result<Response<api::FetchJwtsviDsResponse>, Status> {
        let req = request.get_ref();
        if req.audience.is_empty() {
            return Err(Status::invalid_argument("audience must be specified"));
        }
        lanyard_jwt::check_audiences(&req.audience)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        self.authorize(&request, "FetchJWTSVIDs").await?;
        let req = request.get_ref();
        let selectors = self.target(&req.selectors, req.pid).await?;
        let snapshot = self.store.current();
        if !snapshot.ready {
            return Err(Status::unavailable(
                "the agent has not synced with the server yet",
            ));
        }
        let svids = matching(&snapshot, &selectors);
        if svids.is_empty() {
            return Ok(Response::new(api::FetchJwtsviDsResponse {
                svids: Vec::new(),
            }));
        }
        let tokens = self
            .jwt
            .tokens(&svids, &req.audience)
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        let svids = svids
            .iter()
            .filter_map(|svid| {
                let token = tokens.iter().find(|t| t.entry_id == svid.entry_id)?;
                let claims = lanyard_jwt::unverified_claims(&token.token).unwrap_or_default();
                let time = |name: &str| {
                    claims
                        .get(name)
                        .and_then(serde_json::Value::as_i64)
                        .unwrap_or(0)
                };
                Some(types::Jwtsvid {
                    token: token.token.to_string(),
                    id: Some(spiffe_id(&svid.spiffe_id)),
                    expires_at: time("exp"),
                    issued_at: time("iat"),
                    hint: svid.hint.clone(),
                })
            })
            .collect();
        Ok(Response::new(api::FetchJwtsviDsResponse { svids }))
    }

    async fn subscribe_to_jwt_bundles(
        &self,
        request: Request<api::SubscribeToJwtBundlesRequest>,
    ) -> Result<Response<Self::SubscribeToJWTBundlesStream>, Status> {
        self.authorize(&request, "SubscribeToJWTBundles").await?;
        Ok(Response::new(
            self.watch("SubscribeToJWTBundles", jwt_bundles),
        ))
    }
}

/// One accepted connection: the stream, its caller recorded at accept, and its connection slot.
struct DelegateConn {
    stream: UnixStream,
    peer: PeerInfo,
    _slot: OwnedSemaphorePermit,
}

impl Connected for DelegateConn {
    type ConnectInfo = PeerInfo;

    fn connect_info(&self) -> PeerInfo {
        self.peer.clone()
    }
}

impl AsyncRead for DelegateConn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for DelegateConn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Accepts connections while a slot is free, recording each caller before any byte is read.
async fn accept_loop(listener: UnixListener, tx: mpsc::Sender<std::io::Result<DelegateConn>>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "delegated identity: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::warn!(
                max = MAX_CONNECTIONS,
                "delegated identity: connection limit reached; closed a new connection"
            );
            continue;
        };
        let peer = PeerInfo(
            PeerProcess::from_stream(&stream)
                .map(Arc::new)
                .map_err(Arc::new),
        );
        let conn = DelegateConn {
            stream,
            peer,
            _slot: slot,
        };
        if tx.send(Ok(conn)).await.is_err() {
            return;
        }
    }
}

/// Prepares the socket's directory (0700, the agent's), clears a stale socket and binds it.
pub async fn bind_delegated(socket_path: &Path) -> Result<UnixListener, AdminSocketError> {
    lanyard_admin::bind(socket_path, DELEGATED_SOCKET).await
}

/// Serves the Delegated Identity API on `listener` until `shutdown` resolves (open streams then
/// end with `Unavailable`), then removes the socket file.
pub async fn serve_delegated_on(
    listener: UnixListener,
    socket_path: &Path,
    service: DelegatedIdentityService,
    shutdown: impl Future<Output = ()>,
) -> Result<(), AdminSocketError> {
    tracing::info!(socket = %socket_path.display(), "serving the Delegated Identity API");
    let (tx, rx) = mpsc::channel(16);
    let accept = tokio::spawn(accept_loop(listener, tx));
    let stop_accepting = accept.abort_handle();
    let stop = service.clone();
    let shutdown = async move {
        shutdown.await;
        stop_accepting.abort();
        stop.stop_streams();
    };
    let served = tonic::transport::Server::builder()
        .max_concurrent_streams(MAX_CALLS_PER_CONNECTION)
        .concurrency_limit_per_connection(MAX_CALLS_PER_CONNECTION as usize)
        .add_service(
            DelegatedIdentityServer::new(service)
                .max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE)
                .max_encoding_message_size(MAX_ENCODING_MESSAGE_SIZE),
        )
        .serve_with_incoming_shutdown(ReceiverStream::new(rx), shutdown)
        .await;
    accept.abort();
    lanyard_admin::remove(socket_path);
    Ok(served?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(t: &str, v: &str) -> types::Selector {
        types::Selector {
            r#type: t.into(),
            value: v.into(),
        }
    }

    #[test]
    fn selectors_are_checked() {
        assert_eq!(
            parse_selectors(&[sel("unix", "uid:1")]).unwrap(),
            [Selector::new("unix", "uid:1")]
        );
        let e = parse_selectors(&[sel("", "uid:1")]).unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument);
        assert!(e.message().contains("type and a value"), "{e:?}");
        let many = vec![sel("unix", "uid:1"); MAX_SELECTORS + 1];
        assert!(
            parse_selectors(&many)
                .unwrap_err()
                .message()
                .contains("at most 64")
        );
        let long = "x".repeat(MAX_SELECTOR_LEN + 1);
        assert_eq!(
            parse_selectors(&[sel("unix", &long)]).unwrap_err().code(),
            tonic::Code::InvalidArgument
        );
    }

    #[test]
    fn own_process_credentials_are_read() {
        let pid = i32::try_from(std::process::id()).unwrap();
        let cred = process_cred(pid).unwrap();
        assert_eq!(cred.uid, nix::unistd::geteuid().as_raw());
        assert_eq!(cred.gid, nix::unistd::getegid().as_raw());
        let gone = process_cred(i32::MAX).unwrap_err();
        assert_eq!(gone.code(), tonic::Code::InvalidArgument);
    }

    #[tokio::test]
    async fn the_workload_is_named_by_selectors_or_pid_never_both() {
        let service = DelegatedIdentityService::new(
            SvidStore::new(),
            JwtMinter::new(),
            Arc::new(crate::workload::UnixAttestor::new(
                crate::workload::UnixAttestorConfig::default(),
            )),
            Authorized::default(),
            Duration::from_secs(5),
        );
        let both = service
            .target(&[sel("unix", "uid:1")], 1)
            .await
            .unwrap_err();
        assert!(both.message().contains("mutually exclusive"), "{both:?}");
        let neither = service.target(&[], 0).await.unwrap_err();
        assert!(
            neither.message().contains("selectors or its pid"),
            "{neither:?}"
        );
        let negative = service.target(&[], -4).await.unwrap_err();
        assert_eq!(negative.code(), tonic::Code::InvalidArgument);
        let own = i32::try_from(std::process::id()).unwrap();
        let selectors = service.target(&[], own).await.unwrap();
        let uid = format!("uid:{}", nix::unistd::geteuid().as_raw());
        assert!(
            selectors.contains(&Selector::new("unix", uid)),
            "{selectors:?}"
        );
    }

    /// The table as deploy/conf/agent.toml shows it, and the mistakes it refuses.
    #[test]
    fn the_config_table_is_checked() {
        const MIN: &str = "trust_domain = \"example.org\"\nserver_address = \"127.0.0.1:8081\"\ninsecure_bootstrap = true\n";
        let parse = |table: &str| {
            crate::config::AgentConfig::from_toml(&format!("{MIN}[delegated_identity]\n{table}\n"))
        };
        let ok = parse(
            "authorized_delegates = [\"spiffe://example.org/cilium\"]\nauthorized_uids = [0]",
        )
        .unwrap();
        let delegated = ok.delegated_identity.unwrap();
        assert_eq!(
            delegated.socket_path,
            Path::new("/run/lanyard-agent/delegated/api.sock")
        );
        let authorized = Authorized::from_config(&delegated);
        assert!(authorized.uids.contains(&0));
        assert!(
            authorized
                .delegates
                .contains(&SpiffeId::parse("spiffe://example.org/cilium").unwrap())
        );
        assert!(
            crate::config::AgentConfig::from_toml(MIN)
                .unwrap()
                .delegated_identity
                .is_none(),
            "off unless configured"
        );
        let refused = |table: &str| parse(table).unwrap_err().to_string();
        assert!(refused("").contains("both empty"), "{}", refused(""));
        let bad_id = refused("authorized_delegates = [\"cilium\"]");
        assert!(bad_id.contains("is not a SPIFFE ID"), "{bad_id}");
        let shared =
            refused("socket_path = \"/run/lanyard-agent/public/x.sock\"\nauthorized_uids = [0]");
        assert!(
            shared.contains("Workload API socket's directory"),
            "{shared}"
        );
        let relative = refused("socket_path = \"api.sock\"\nauthorized_uids = [0]");
        assert!(relative.contains("absolute"), "{relative}");
    }
}
