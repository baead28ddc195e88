//! The server-facing side of the agent: attest once, keep the agent's identity, hold the Sync
//! stream, sign and rotate workload SVIDs, and publish snapshots to the Workload API.
//!
//! Outage behaviour: when the server is unreachable the agent keeps serving the SVIDs and
//! bundles it holds until they expire, reports `degraded` on `/ready`, reconnects with jittered
//! exponential backoff, and on reconnection re-syncs and catches up on every rotation it missed.
//! When the server says the agent is unknown, evicted or banned, the agent stops getting new
//! SVIDs, says why in its log and health status, and (unless banned) forgets its identity: a
//! re-attestable agent (k8s_psat, x509pop) attests again at once, a join-token agent works
//! again when restarted with a new token. When the agent's own SVID expires before the server is
//! back (an outage longer than the SVID's lifetime, or a server whose CA expired while it was
//! down), the server can no longer authenticate it: the agent stops retrying, reports
//! `not_ready` with what it needs (a re-attestable agent, k8s_psat or x509pop, attests again by
//! itself; a join-token agent needs a new token and the current bundle), and keeps serving what
//! it holds until it expires. When the server's certificate no longer verifies against the
//! agent's stored bundle (the authority it trusted was revoked while it was away), see
//! [`trust`]: a re-attestable agent attests again trusting `trust_bundle_path`, a join-token
//! agent says it needs a new token. [`Reattestable`] is the one place that decides which
//! agents can come back by themselves.
//!
//! Several servers (`server_address` listing several, or a name resolving to several; see
//! [`servers`]): a failed connection, handshake or Sync stream moves the agent to the next
//! server after the backoff step, and it attests, syncs, signs and renews through that one.
//! Workloads notice nothing: they are served from the agent's cache meanwhile.

pub mod client;
pub mod disk;
mod servers;
mod trust;
pub mod workloads;
pub mod x509pop;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use lanyard_id::TrustDomain;
use lanyard_observe::{Health, Readiness};
use lanyard_proto::lanyard::agent::v1 as pb;
use lanyard_tls::{Identity, TrustStore};
use lanyard_x509::{Bundle, BundleSet, CertDer, CertInfo};
use tonic::{Code, Status};

use crate::config::ServerAddresses;
use crate::jwt::JwtMinter;
use crate::metrics::NodeMetrics;
use crate::store::SvidStore;
use client::AgentSvid;
use disk::DataDir;
use servers::Servers;
use workloads::{Applied, Workloads, until};

/// Why the node side stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// An RPC failed.
    #[error("server call failed: {}", .0.message())]
    Rpc(Status),
    /// TLS setup failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// Key generation failed.
    #[error("key generation: {0}")]
    Key(String),
    /// The server sent an unusable SVID.
    #[error("unusable SVID: {0}")]
    BadSvid(String),
    /// The server broke the protocol.
    #[error("protocol: {0}")]
    Protocol(String),
    /// The data directory failed.
    #[error("data_dir: {0}")]
    Disk(#[from] std::io::Error),
    /// The agent has no identity and no way to get one.
    #[error("{0}")]
    CannotAttest(String),
    /// The identity stored in the data directory cannot work.
    #[error(transparent)]
    StoredIdentity(#[from] disk::StoredIdentityError),
}

/// What the node side needs to run.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The trust domain.
    pub trust_domain: TrustDomain,
    /// The server's agent API: one `host:port` or several, names resolved at every failover.
    pub server_address: ServerAddresses,
    /// Where the agent's identity lives.
    pub data_dir: PathBuf,
    /// The server's CA certificates for first contact.
    pub bootstrap_bundle: Option<Vec<CertDer>>,
    /// The file `bootstrap_bundle` was read from: read again when the agent must bootstrap its
    /// trust in the server anew (an operator may have updated it since the start).
    pub trust_bundle_path: Option<PathBuf>,
    /// Accept any server on first contact.
    pub insecure_bootstrap: bool,
    /// Join token for the first attestation.
    pub join_token: Option<String>,
    /// Kubernetes PSAT attestation instead of a join token: used for the first attestation and
    /// again at every renewal (re-attestation refreshes the node selectors) and after an
    /// eviction.
    pub k8s_psat: Option<PsatConfig>,
    /// x509pop attestation instead of a join token: the node certificate proves the node at
    /// the first attestation, whenever the agent has no valid identity at start, and again by
    /// itself when the server stops serving the agent (not when banned). Renewal uses
    /// `RenewAgent`.
    pub x509pop: Option<x509pop::X509PopConfig>,
}

/// Kubernetes PSAT attestation settings.
#[derive(Debug, Clone)]
pub struct PsatConfig {
    /// The cluster name the server knows.
    pub cluster: String,
    /// The projected service-account token file.
    pub token_path: PathBuf,
}

impl PsatConfig {
    /// The attestation payload: `{"cluster", "token"}` with the token read now (the kubelet
    /// rotates the file).
    fn payload(&self) -> Result<Vec<u8>, NodeError> {
        let token = std::fs::read_to_string(&self.token_path).map_err(|e| {
            NodeError::CannotAttest(format!(
                "k8s_psat token_path {}: {e}; mount the projected service-account token there",
                self.token_path.display()
            ))
        })?;
        Ok(
            serde_json::json!({"cluster": self.cluster, "token": token.trim()})
                .to_string()
                .into_bytes(),
        )
    }
}

/// Evidence the agent can present again by itself, proving the same node as the same agent:
/// a PSAT (the kubelet keeps it fresh) or a node certificate and its key. A join token is
/// single-use, so a join-token agent is not re-attestable.
#[derive(Debug, Clone, Copy)]
enum Reattestable<'a> {
    /// `[node_attestor.k8s_psat]`.
    K8sPsat(&'a PsatConfig),
    /// `[node_attestor.x509pop]`.
    X509Pop(&'a x509pop::X509PopConfig),
}

impl<'a> Reattestable<'a> {
    /// The evidence `cfg` attests with, when the agent can attest again by itself.
    fn of(cfg: &'a NodeConfig) -> Option<Self> {
        match (&cfg.k8s_psat, &cfg.x509pop) {
            (Some(psat), _) => Some(Self::K8sPsat(psat)),
            (None, Some(pop)) => Some(Self::X509Pop(pop)),
            (None, None) => None,
        }
    }

    /// The attestor's name, for messages and the `attestation_type`.
    fn attestor(self) -> &'static str {
        match self {
            Self::K8sPsat(_) => "k8s_psat",
            Self::X509Pop(_) => x509pop::ATTESTATION_TYPE,
        }
    }
}

/// The attestor of `cfg` when the agent can attest again by itself.
fn reattestable(cfg: &NodeConfig) -> Option<&'static str> {
    Reattestable::of(cfg).map(Reattestable::attestor)
}

/// Attests with `evidence` (read now: a rotated token, a renewed certificate) over a new
/// connection that trusts `trust` (no client certificate).
async fn attest_again(
    evidence: Reattestable<'_>,
    addr: SocketAddr,
    td: &TrustDomain,
    trust: &TrustStore,
) -> Result<(AgentSvid, Bundle), NodeError> {
    match evidence {
        Reattestable::K8sPsat(psat) => {
            let payload = psat.payload()?;
            let mut c = client::connect(addr, td, Identity::new(), trust.clone())?;
            client::attest(&mut c, "k8s_psat", payload).await
        }
        Reattestable::X509Pop(pop) => {
            let mut c = client::connect(addr, td, Identity::new(), trust.clone())?;
            x509pop::attest(&mut c, pop).await
        }
    }
}

struct Backoff {
    next: Duration,
}

impl Backoff {
    const MIN: Duration = Duration::from_millis(250);
    const MAX: Duration = Duration::from_secs(30);

    fn new() -> Self {
        Self { next: Self::MIN }
    }
    fn reset(&mut self) {
        self.next = Self::MIN;
    }
    /// The next delay, ±20 % jitter.
    fn step(&mut self) -> Duration {
        let mut b = [0u8; 1];
        let r = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b)
            .map(|()| b[0])
            .unwrap_or(128);
        let d = self.next.mul_f64(0.8 + 0.4 * f64::from(r) / 255.0);
        self.next = (self.next * 2).min(Self::MAX);
        d
    }
}

/// Resolves `server_address`, again with backoff while nothing resolves (`not_ready` says
/// why); `None` at shutdown.
async fn first_servers(
    cfg: &NodeConfig,
    health: &Health,
    shutdown: &mut (impl std::future::Future<Output = ()> + Unpin),
) -> Option<Servers> {
    let mut backoff = Backoff::new();
    loop {
        match Servers::resolve(&cfg.server_address).await {
            Ok(servers) => return Some(servers),
            Err(why) => {
                let d = backoff.step();
                tracing::warn!(retry_in = ?d, "{why}");
                health.set(Readiness::NotReady(format!("{why}; retrying")));
                tokio::select! {
                    () = &mut *shutdown => return None,
                    () = tokio::time::sleep(d) => {}
                }
            }
        }
    }
}

fn bundle_set(b: &Bundle) -> BundleSet {
    BundleSet::from_iter([b.clone()])
}

/// Gets the agent's identity: from disk, or by attesting with the join token.
async fn identity(
    cfg: &NodeConfig,
    dd: &DataDir,
    servers: &mut Servers,
    health: &Health,
    shutdown: &mut (impl std::future::Future<Output = ()> + Unpin),
) -> Result<Option<(AgentSvid, Bundle)>, NodeError> {
    if let Some(stored) = dd.load()? {
        // Refused here rather than resumed: a broken identity only fails TLS with the server,
        // over and over, as a "transport error".
        stored.check(&cfg.data_dir, &cfg.trust_domain, SystemTime::now())?;
        let svid = AgentSvid::new(stored.chain, stored.key_pkcs8)?;
        if svid.not_after > SystemTime::now() {
            let mut bundle = Bundle::new(cfg.trust_domain.clone());
            for a in stored.bundle {
                bundle.add_x509_authority(a);
            }
            tracing::info!(agent = %svid.spiffe_id, "resuming with the stored agent identity");
            return Ok(Some((svid, bundle)));
        }
        tracing::warn!(agent = %svid.spiffe_id, "stored agent SVID has expired; attesting again");
    }
    let evidence = match (&cfg.k8s_psat, &cfg.join_token) {
        (Some(psat), _) => ("k8s_psat", None, Some(psat)),
        (None, Some(token)) => ("join_token", Some(token.clone()), None),
        (None, None) if cfg.x509pop.is_some() => (x509pop::ATTESTATION_TYPE, None, None),
        (None, None) => {
            return Err(NodeError::CannotAttest(format!(
                "no stored identity in {} and no join token: start with --join-token (from `lanyard-server token generate`)",
                cfg.data_dir.display()
            )));
        }
    };
    let mut tls = if cfg.insecure_bootstrap && cfg.bootstrap_bundle.is_none() {
        tracing::warn!(
            "INSECURE BOOTSTRAP: the server is not authenticated on first contact; set trust_bundle_path in production"
        );
        lanyard_tls::insecure_client_config().map_err(|e| NodeError::Tls(e.to_string()))?
    } else {
        let mut b = Bundle::new(cfg.trust_domain.clone());
        for a in cfg.bootstrap_bundle.clone().unwrap_or_default() {
            b.add_x509_authority(a);
        }
        lanyard_tls::client_config(
            Identity::new(),
            TrustStore::new(bundle_set(&b)),
            client::server_id(&cfg.trust_domain),
        )
        .map_err(|e| NodeError::Tls(e.to_string()))?
    };
    let mut backoff = Backoff::new();
    loop {
        let mut c = pb::agent_service_client::AgentServiceClient::new(
            lanyard_tls::transport::connect(servers.current(), tls.clone()),
        );
        let attested = match evidence {
            (_, _, Some(psat)) => client::attest(&mut c, "k8s_psat", psat.payload()?).await,
            (_, Some(ref token), None) => client::attest_join_token(&mut c, token).await,
            (_, None, None) => match &cfg.x509pop {
                Some(pop) => x509pop::attest(&mut c, pop).await,
                None => unreachable!("evidence has a token, a PSAT or a node certificate"),
            },
        };
        match attested {
            Ok((svid, bundle)) => {
                dd.save_identity(&svid.chain, &svid.key_pkcs8)?;
                dd.save_bundle(&bundle.x509_authorities)?;
                tracing::info!(agent = %svid.spiffe_id, attestation_type = evidence.0, "node attested");
                return Ok(Some((svid, bundle)));
            }
            // The bootstrap bundle does not verify the server: only the operator can fix that
            // (by updating trust_bundle_path, read again before the next try).
            Err(e) if trust::untrusted(&e).is_some() => {
                let d = backoff.step();
                let (message, _) = trust::rebootstrap_failed(cfg, evidence.0, &e, d);
                tracing::error!("{message}");
                health.set(Readiness::NotReady(message));
                // Another server may be the right one (an address of another trust domain in
                // the list): the next try goes to it.
                servers.fail_over().await;
                if let Ok(b) = trust::bootstrap_bundle(cfg) {
                    tls = lanyard_tls::client_config(
                        Identity::new(),
                        TrustStore::new(bundle_set(&b)),
                        client::server_id(&cfg.trust_domain),
                    )
                    .map_err(|e| NodeError::Tls(e.to_string()))?;
                }
                tokio::select! {
                    () = &mut *shutdown => return Ok(None),
                    () = tokio::time::sleep(d) => {}
                }
            }
            // No server answered, or it was too busy: its turn comes after a backoff like an
            // outage's.
            Err(NodeError::Rpc(s)) if unreachable_or_busy(&s) => {
                let d = backoff.step();
                tracing::warn!(server = %servers.current(), reason = %s.message(), retry_in = ?d, "server unreachable or busy for attestation");
                servers.fail_over().await;
                tokio::select! {
                    () = &mut *shutdown => return Ok(None),
                    () = tokio::time::sleep(d) => {}
                }
            }
            Err(NodeError::Rpc(s)) => {
                return Err(NodeError::CannotAttest(format!(
                    "attestation refused: {}",
                    s.message()
                )));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Runs the node side until `shutdown` resolves, recording into `metrics`.
pub async fn run(
    cfg: NodeConfig,
    store: SvidStore,
    jwt: JwtMinter,
    health: Health,
    metrics: NodeMetrics,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), NodeError> {
    tokio::pin!(shutdown);
    let dd = DataDir::open(&cfg.data_dir)?;
    let Some(mut servers) = first_servers(&cfg, &health, &mut shutdown).await else {
        return Ok(());
    };
    let Some((mut me, bundle)) = identity(&cfg, &dd, &mut servers, &health, &mut shutdown).await?
    else {
        return Ok(());
    };
    let tls_identity = Identity::new();
    me.install(&tls_identity)?;
    let trust = TrustStore::new(bundle_set(&bundle));
    let connect = |addr: SocketAddr| {
        client::connect(addr, &cfg.trust_domain, tls_identity.clone(), trust.clone())
    };
    let mut api = connect(servers.current())?;
    jwt.set_server(Some(api.clone()));
    let mut workloads = Workloads::new(cfg.trust_domain.clone(), metrics.clone());
    let mut stream: Option<tonic::Streaming<pb::SyncMessage>> = None;
    let mut backoff = Backoff::new();
    let mut next_connect = tokio::time::Instant::now();
    let mut renew_at = me.renew_at();
    let mut sign_retry: Option<SystemTime> = None;
    let mut stopped: Option<String> = None;
    // Set when the server's certificate stopped verifying against the stored bundle and the
    // agent can prove its node again (k8s_psat, x509pop): the next connection attempt attests anew,
    // trusting trust_bundle_path, instead of syncing.
    let mut rebootstrap = false;
    // The server the last Sync stream was opened with, to log a move to another one.
    let mut synced_with: Option<SocketAddr> = None;
    // Servers in a row whose certificate did not verify against the stored bundle: with several
    // servers, trust is taken as lost only when none verifies (one address may lead to a server
    // of another trust domain).
    let mut untrusted_in_a_row = 0;
    // When a re-attestation failed because no server answered (the agent's SVID expired during
    // an outage that is not over): the next try, with backoff, instead of staying stopped.
    let mut reattest_retry: Option<tokio::time::Instant> = None;

    loop {
        // Set when the server stopped serving this agent (not banned) and it can prove its
        // node again (k8s_psat, x509pop): it re-attests instead of staying stopped.
        let mut reattest = false;
        let connect_due =
            stream.is_none() && stopped.is_none() && tokio::time::Instant::now() >= next_connect;
        if connect_due
            && rebootstrap
            && let Some(evidence) = Reattestable::of(&cfg)
        {
            match trust::rebootstrap(&cfg, evidence, servers.current()).await {
                Ok((new, bundle)) => {
                    dd.save_bundle(&bundle.x509_authorities)?;
                    trust.set(bundle_set(&bundle));
                    renew_at = adopt(new, &dd, &tls_identity, &mut me)?;
                    tracing::info!(agent = %me.spiffe_id, attestor = evidence.attestor(), "re-attested with {} trusting trust_bundle_path: the agent trusts the server again", evidence.attestor());
                    api = connect(servers.current())?;
                    jwt.set_server(Some(api.clone()));
                    rebootstrap = false;
                    backoff.reset();
                }
                Err(e) => {
                    let d = backoff.step();
                    let (message, not_ready) =
                        trust::rebootstrap_failed(&cfg, evidence.attestor(), &e, d);
                    if not_ready {
                        tracing::error!("{message}");
                        health.set(Readiness::NotReady(message));
                    } else {
                        tracing::warn!("{message}");
                        health.set(Readiness::Degraded(message));
                    }
                    servers.fail_over().await;
                    next_connect = tokio::time::Instant::now() + d;
                }
            }
        } else if connect_due {
            match api.sync(pb::SyncRequest { resume_revision: 0 }).await {
                Ok(s) => {
                    stream = Some(s.into_inner());
                    workloads.stream_opened();
                    backoff.reset();
                    untrusted_in_a_row = 0;
                    let server = servers.current();
                    match synced_with.replace(server) {
                        None => tracing::info!(%server, "syncing with the server"),
                        Some(previous) if previous != server => tracing::info!(
                            %server,
                            %previous,
                            "failed over: syncing with another server"
                        ),
                        Some(_) => {}
                    }
                }
                Err(s) if s.code() == Code::PermissionDenied => {
                    jwt.set_server(None);
                    stopped = Some(stop(&dd, &health, false, s.message().to_owned()));
                    reattest = reattestable(&cfg).is_some();
                }
                // The agent's own SVID expired while the server was unreachable: the server
                // cannot authenticate it any more, so retrying only repeats a TLS failure.
                Err(_) if me.not_after <= SystemTime::now() => {
                    jwt.set_server(None);
                    let message = own_svid_expired(&me, reattestable(&cfg));
                    tracing::error!("{message}");
                    health.set(Readiness::NotReady(message.clone()));
                    stopped = Some(message);
                    reattest = reattestable(&cfg).is_some();
                }
                // One server's certificate does not verify, but others are left to try.
                Err(s)
                    if trust::untrusted_server(&s).is_some()
                        && untrusted_in_a_row + 1 < servers.count() =>
                {
                    untrusted_in_a_row += 1;
                    let d = backoff.step();
                    tracing::warn!(server = %servers.current(), reason = %s.message(), retry_in = ?d, "the server's certificate does not verify against the agent's bundle; trying the other servers");
                    api = connect(servers.fail_over().await)?;
                    jwt.set_server(Some(api.clone()));
                    next_connect = tokio::time::Instant::now() + d;
                }
                // The server's certificate no longer chains to the stored bundle: retrying only
                // repeats the same verdict.
                Err(s) if trust::untrusted_server(&s).is_some() => {
                    let Some(why) = trust::untrusted_server(&s) else {
                        unreachable!("the guard found it")
                    };
                    if let Some(attestor) = reattestable(&cfg) {
                        let message = trust::rebootstrapping(&cfg, attestor, why);
                        tracing::warn!("{message}");
                        health.set(Readiness::Degraded(message));
                        rebootstrap = true;
                    } else {
                        jwt.set_server(None);
                        let message = trust::join_token_trust_lost(&me, &cfg, why);
                        tracing::error!("{message}");
                        if let Err(e) = dd.forget_identity() {
                            tracing::error!(error = %e, "could not forget the stored identity");
                        }
                        health.set(Readiness::NotReady(message.clone()));
                        stopped = Some(message);
                    }
                }
                Err(s) => {
                    let d = backoff.step();
                    let server = servers.current();
                    health.set(Readiness::Degraded(format!(
                        "server {server} unreachable ({}); serving cached SVIDs",
                        s.message()
                    )));
                    tracing::warn!(%server, reason = %s.message(), retry_in = ?d, "sync stream unavailable");
                    api = connect(servers.fail_over().await)?;
                    jwt.set_server(Some(api.clone()));
                    next_connect = tokio::time::Instant::now() + d;
                }
            }
        }

        let now = SystemTime::now();
        let mut wake = [workloads.next_wake(), Some(renew_at), sign_retry]
            .into_iter()
            .flatten()
            .map(until)
            .min()
            .unwrap_or(Duration::from_secs(3600));
        if stream.is_none() && stopped.is_none() {
            wake = wake.min(next_connect.saturating_duration_since(tokio::time::Instant::now()));
        }
        if let Some(at) = reattest_retry {
            wake = wake.min(at.saturating_duration_since(tokio::time::Instant::now()));
        }
        metrics.sync_connected(stream.is_some());
        let mut changed = false;
        let mut renew_now = false;
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            () = tokio::time::sleep(wake) => {}
            msg = async { match stream.as_mut() { Some(s) => s.message().await, None => std::future::pending().await } } => {
                match msg {
                    Ok(Some(m)) => match workloads.apply(m, now)? {
                        Applied::Changed => {
                            changed = true;
                            metrics.changed(SystemTime::now());
                            keep_own_trust(&mut workloads, &trust, &dd)?;
                            // Taint as state: whatever the bundle marks tainted is rotated away
                            // from, even if the notice itself was missed.
                            let taint = workloads.taint();
                            let mine = me.chain.first().and_then(|l| CertInfo::from_der(l.as_bytes()).ok()).and_then(|i| i.authority_key_id);
                            renew_now = mine.is_some_and(|aki| taint.x509.contains(&aki));
                            for kid in &taint.jwt {
                                let n = jwt.forget_key(kid);
                                if n > 0 {
                                    tracing::info!(kid, dropped = n, "JWT key tainted; cached JWT-SVIDs it signed will be minted again");
                                }
                            }
                            if health.get() != Readiness::Ready {
                                health.set(Readiness::Ready);
                            }
                        }
                        Applied::Nothing => {}
                        Applied::Tainted(ski) => {
                            changed = true;
                            metrics.changed(SystemTime::now());
                            let mine = me.chain.first().and_then(|l| CertInfo::from_der(l.as_bytes()).ok()).and_then(|i| i.authority_key_id);
                            renew_now = mine.as_deref() == Some(ski.as_slice());
                        }
                        Applied::JwtTainted(kid) => {
                            let n = jwt.forget_key(&kid);
                            tracing::info!(kid, dropped = n, "JWT key tainted; cached JWT-SVIDs it signed will be minted again");
                        }
                        Applied::Evicted { banned, message } => {
                            jwt.set_server(None);
                            stream = None;
                            stopped = Some(stop(&dd, &health, banned, message));
                            reattest = !banned && reattestable(&cfg).is_some();
                        }
                    },
                    Ok(None) | Err(_) => {
                        let reason = match &msg { Err(s) => s.message().to_owned(), _ => "stream ended".into() };
                        if let Err(s) = &msg && s.code() == Code::PermissionDenied {
                            jwt.set_server(None);
                            stopped = Some(stop(&dd, &health, false, reason));
                            reattest = reattestable(&cfg).is_some();
                        } else if let Err(s) = &msg
                            && s.code() == Code::Unavailable
                            && s.message() == lanyard_proto::SYNC_SERVER_STOPPING
                        {
                            // Routine (a rollout, a restart): not a fault worth a warning.
                            health.set(Readiness::Degraded("the server is shutting down; reconnecting, serving cached SVIDs".into()));
                            let d = backoff.step();
                            tracing::info!(server = %servers.current(), retry_in = ?d, "the server is shutting down; reconnecting");
                            next_connect = tokio::time::Instant::now() + d;
                        } else {
                            health.set(Readiness::Degraded(format!("lost the server ({reason}); serving cached SVIDs")));
                            tracing::warn!(server = %servers.current(), %reason, "sync stream lost; reconnecting");
                            next_connect = tokio::time::Instant::now() + backoff.step();
                        }
                        if stopped.is_none() {
                            api = connect(servers.fail_over().await)?;
                            jwt.set_server(Some(api.clone()));
                        }
                        stream = None;
                    }
                }
            }
        }

        let retry_due = reattest_retry.is_some_and(|at| tokio::time::Instant::now() >= at);
        if (reattest || retry_due)
            && let Some(evidence) = Reattestable::of(&cfg)
        {
            reattest_retry = None;
            let attestor = evidence.attestor();
            match attest_again(evidence, servers.current(), &cfg.trust_domain, &trust).await {
                Ok((new, _bundle)) => {
                    renew_at = adopt(new, &dd, &tls_identity, &mut me)?;
                    tracing::info!(agent = %me.spiffe_id, attestor, "re-attested with {attestor} after the server stopped serving the agent");
                    api = connect(servers.current())?;
                    jwt.set_server(Some(api.clone()));
                    stream = None;
                    stopped = None;
                    next_connect = tokio::time::Instant::now();
                }
                // The stored bundle no longer verifies the server: bootstrap trust anew.
                Err(e) if trust::untrusted(&e).is_some() => {
                    tracing::warn!(error = %e, attestor, "re-attestation with {attestor} failed: the server's certificate no longer verifies against the stored bundle; attesting again trusting trust_bundle_path");
                    stopped = None;
                    rebootstrap = true;
                    next_connect = tokio::time::Instant::now();
                }
                Err(NodeError::Rpc(s)) if unreachable_or_busy(&s) => {
                    let d = backoff.step();
                    tracing::warn!(server = %servers.current(), reason = %s.message(), retry_in = ?d, attestor, "server unreachable or busy for re-attestation with {attestor}; retrying");
                    servers.fail_over().await;
                    reattest_retry = Some(tokio::time::Instant::now() + d);
                }
                Err(e) => {
                    tracing::error!(error = %e, attestor, "re-attestation with {attestor} failed; the agent stays stopped (restart it to retry)");
                }
            }
        }

        let now = SystemTime::now();
        if stopped.is_none() && stream.is_some() && (renew_now || now >= renew_at) {
            let renewed = match Reattestable::of(&cfg) {
                // A PSAT is short-lived: attest again with a fresh token (node selectors refresh
                // too). A node certificate renews with RenewAgent, as a join token does.
                Some(psat @ Reattestable::K8sPsat(_)) => {
                    attest_again(psat, servers.current(), &cfg.trust_domain, &trust)
                        .await
                        .map(|(svid, _)| svid)
                }
                Some(Reattestable::X509Pop(_)) | None => client::renew(&mut api).await,
            };
            match renewed {
                Ok(new) => {
                    renew_at = adopt(new, &dd, &tls_identity, &mut me)?;
                    tracing::info!(agent = %me.spiffe_id, server = %servers.current(), "agent SVID renewed");
                    // Connections authenticate once: open new ones with the new SVID.
                    api = connect(servers.current())?;
                    jwt.set_server(Some(api.clone()));
                    stream = None;
                    next_connect = tokio::time::Instant::now();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "agent SVID renewal failed; retrying");
                    renew_at = now + backoff.step();
                }
            }
        }
        if stopped.is_none() && stream.is_some() {
            let due = workloads.due(now);
            if !due.is_empty() {
                match workloads.sign(&mut api, &due).await {
                    Ok(n) => {
                        changed |= n > 0;
                        sign_retry = (n < due.len()).then(|| now + Duration::from_secs(5));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "signing failed; retrying");
                        sign_retry = Some(now + Duration::from_secs(1));
                    }
                }
            } else {
                sign_retry = None;
            }
        }
        changed |= workloads.prune_expired(now);
        if changed {
            store.publish(workloads.snapshot());
        }
    }
}

/// Hands a newly received own trust domain bundle to the agent's trust store for the server
/// connection and to `bundle.der`. Only the own trust domain's: foreign bundles (federation)
/// never authenticate the agent's server and are never stored on disk.
fn keep_own_trust(
    workloads: &mut Workloads,
    trust: &TrustStore,
    dd: &DataDir,
) -> std::io::Result<()> {
    if let Some(b) = workloads.take_own_bundle_update() {
        trust.set(bundle_set(b));
        dd.save_bundle(&b.x509_authorities)?;
    }
    Ok(())
}

/// Whether an attestation failed because no server answered it or the server was too busy: a
/// later try may work. ResourceExhausted: the server is attesting too many nodes at once (a
/// fleet that restarted together). Cancelled: the connection was closed under the call (a server
/// at its connection limit closes new ones at accept; hyper reports that as Unavailable, Unknown
/// or Cancelled depending on when it sees it).
fn unreachable_or_busy(s: &Status) -> bool {
    matches!(
        s.code(),
        Code::Unavailable | Code::Unknown | Code::ResourceExhausted | Code::Cancelled
    )
}

/// Takes `new` as the agent's identity: stored, presented on connections opened from now on.
/// Returns when to renew it.
fn adopt(
    new: AgentSvid,
    dd: &DataDir,
    tls: &Identity,
    me: &mut AgentSvid,
) -> Result<SystemTime, NodeError> {
    dd.save_identity(&new.chain, &new.key_pkcs8)?;
    new.install(tls)?;
    *me = new;
    Ok(me.renew_at())
}

/// What an agent whose own SVID expired must be given to come back.
/// `attestor` is the re-attestable attestor the agent uses, if any.
fn own_svid_expired(me: &AgentSvid, attestor: Option<&str>) -> String {
    let id = &me.spiffe_id;
    let when = humantime::format_rfc3339_seconds(me.not_after);
    let bundle =
        "trust_bundle_path holding the current bundle (`lanyard-server bundle show --format pem`)";
    if let Some(attestor) = attestor {
        format!(
            "the agent's own SVID ({id}) expired at {when} while the server was unreachable, so \
             the server can no longer authenticate it; it attests again with {attestor}, and if \
             that fails it must be restarted with {bundle}"
        )
    } else {
        format!(
            "the agent's own SVID ({id}) expired at {when} while the server was unreachable, so \
             the server can no longer authenticate it: restart the agent with {bundle} and a new \
             join token for its ID (`lanyard-server agent evict --spiffe-id {id}`, then \
             `lanyard-server token generate --spiffe-id {id}`)"
        )
    }
}

/// Records that the server no longer serves this agent; returns the reason.
fn stop(dd: &DataDir, health: &Health, banned: bool, message: String) -> String {
    tracing::error!(banned, reason = %message, "the server no longer serves this agent; no new SVIDs will be issued");
    if !banned && let Err(e) = dd.forget_identity() {
        tracing::error!(error = %e, "could not forget the stored identity");
    }
    let what = if banned {
        "agent banned"
    } else {
        "agent not attested"
    };
    health.set(Readiness::NotReady(format!("{what}: {message}")));
    message
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use lanyard_id::SpiffeId;
    use zeroize::Zeroizing;

    use super::*;

    fn config(join_token: bool, psat: bool, pop: bool) -> NodeConfig {
        NodeConfig {
            trust_domain: TrustDomain::new("example.org").unwrap(),
            server_address: ServerAddresses::parse(&["127.0.0.1:1"]).unwrap(),
            data_dir: PathBuf::from("/nonexistent/data"),
            bootstrap_bundle: None,
            trust_bundle_path: Some(PathBuf::from("/nonexistent/bundle.pem")),
            insecure_bootstrap: false,
            join_token: join_token.then(|| "token".to_owned()),
            k8s_psat: psat.then(|| PsatConfig {
                cluster: "c".into(),
                token_path: PathBuf::from("/nonexistent/token"),
            }),
            x509pop: pop.then(|| x509pop::X509PopConfig {
                certificate_path: PathBuf::from("/nonexistent/node.pem"),
                private_key_path: PathBuf::from("/nonexistent/node.key"),
                intermediates_path: None,
            }),
        }
    }

    fn svid() -> AgentSvid {
        AgentSvid {
            spiffe_id: SpiffeId::parse("spiffe://example.org/lanyard/agent/x509pop/ab12").unwrap(),
            chain: Vec::new(),
            key_pkcs8: Zeroizing::new(Vec::new()),
            not_before: SystemTime::UNIX_EPOCH,
            not_after: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        }
    }

    #[test]
    fn psat_and_x509pop_agents_attest_again_by_themselves_join_token_ones_do_not() {
        assert_eq!(reattestable(&config(false, true, false)), Some("k8s_psat"));
        assert_eq!(reattestable(&config(false, false, true)), Some("x509pop"));
        assert_eq!(reattestable(&config(true, false, false)), None);
        assert!(matches!(
            Reattestable::of(&config(false, false, true)),
            Some(Reattestable::X509Pop(_))
        ));
    }

    #[test]
    fn an_expired_own_svid_message_names_the_attestor_and_asks_no_token_of_reattestable_agents() {
        let me = svid();
        let pop = own_svid_expired(&me, reattestable(&config(false, false, true)));
        assert!(pop.contains("it attests again with x509pop"), "{pop}");
        assert!(!pop.contains("join token"), "{pop}");
        let token = own_svid_expired(&me, reattestable(&config(true, false, false)));
        assert!(token.contains("a new join token"), "{token}");
    }

    #[test]
    fn a_reattestation_no_server_answered_is_retried_a_refused_one_is_not() {
        assert!(unreachable_or_busy(&Status::unavailable(
            "connection refused"
        )));
        assert!(unreachable_or_busy(&Status::resource_exhausted("busy")));
        assert!(!unreachable_or_busy(&Status::permission_denied("banned")));
        assert!(!unreachable_or_busy(&Status::invalid_argument("bad chain")));
    }

    #[tokio::test]
    async fn attesting_again_with_x509pop_reads_the_node_certificate_now() {
        let cfg = config(false, false, true);
        let evidence = Reattestable::of(&cfg).unwrap();
        let trust = TrustStore::new(BundleSet::from_iter([Bundle::new(
            cfg.trust_domain.clone(),
        )]));
        let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let e = attest_again(evidence, addr, &cfg.trust_domain, &trust)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("x509pop: /nonexistent/node.pem"), "{e}");
        // Trust lost: the bundle is read from trust_bundle_path, and its absence is named.
        let e = trust::rebootstrap(&cfg, evidence, addr)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("trust_bundle_path /nonexistent/bundle.pem"),
            "{e}"
        );
        let (message, not_ready) = trust::rebootstrap_failed(
            &cfg,
            evidence.attestor(),
            &NodeError::CannotAttest(e),
            Duration::from_secs(2),
        );
        assert!(not_ready);
        assert!(
            message.contains("attesting again with x509pop"),
            "{message}"
        );
    }
}
