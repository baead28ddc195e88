//! `lanyard-server run`: start every part of the server and stop them together.
//!
//! Order: data directory (0700) → datastore (migrations) → the federation relationships
//! server.toml declares → CA (create or reuse) → entry cache → metrics registry → the server's
//! own SVID → agent API (TCP, mTLS) + admin API (Unix socket) + health and `/metrics` + the
//! bundle endpoint when configured, and the federation refresher → ready.
//! The Kubernetes work of the whole cluster (auto-registration, the bundle ConfigMap) runs
//! while this server leads (`k8s::leader`), always when no election is configured.
//! When everything listens, one line goes to stdout:
//! `lanyard-server ready agent_api=<addr> health=<addr> admin=<socket>` (then
//! `bundle_endpoint=<addr>` when it serves one), which scripts and tests wait for. A shutdown signal stops accepting, ends streams and returns within `shutdown_grace`
//! (what is still open then is dropped).

use std::net::SocketAddr;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use lanyard_datastore::Datastore;
use lanyard_observe::metrics::Registry;
use lanyard_observe::{Health, Readiness, Shutdown, serve_health};
use lanyard_proto::lanyard::agent::v1::agent_service_server::AgentServiceServer;
use lanyard_tls::{Identity, TrustStore};
use lanyard_x509::{BundleSet, KeyPair, KeyType};
use tokio::net::TcpListener;

use crate::agent_api::AgentApi;
use crate::attest::join_token::JoinTokenAttestor;
use crate::attest::k8s_psat::{K8sPsatAttestor, kube_client};
use crate::attest::x509pop::X509PopAttestor;
use crate::ca::{Ca, CaError};
use crate::cache::{CacheEvent, EntryCache};
use crate::config::{CaKeyType, ServerConfig};
use crate::federation::endpoint::EndpointConfig;
use crate::federation::fetch::FetchLimits;
use crate::federation::refresher::{Refresher, RefresherSettings};
use crate::k8s::bundle_writer::BundleConfigMap;
use crate::k8s::controller::AutoRegistration;
use crate::k8s::leader::{Election, Leadership, process_identity, run_while_leading};
use crate::metrics::{ServerMetrics, StateCollector};
use crate::state::ServerState;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The data directory could not be created.
    #[error("cannot create data_dir {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The datastore did not open.
    #[error(transparent)]
    Datastore(#[from] lanyard_datastore::DatastoreError),
    /// The CA did not open.
    #[error("certificate authority: {0}")]
    Ca(#[from] CaError),
    /// A listener could not be bound.
    #[error("cannot listen on {what} {addr}: {source}")]
    Bind {
        /// Which listener.
        what: &'static str,
        /// Where.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The admin API failed.
    #[error("admin API: {0}")]
    Admin(String),
    /// The agent API failed.
    #[error("agent API: {0}")]
    Serve(String),
    /// A node attestor could not be set up.
    #[error(transparent)]
    NodeAttestor(#[from] crate::attest::k8s_psat::ClusterSetupError),
    /// The x509pop attestor's CA bundle is unusable.
    #[error(transparent)]
    X509Pop(#[from] crate::attest::x509pop::X509PopSetupError),
    /// `[federation]` could not be set up (a file it names, the declared relationships).
    #[error("federation: {0}")]
    Federation(String),
}

/// Concurrent HTTP/2 streams per agent API connection.
const MAX_STREAMS_PER_CONNECTION: u32 = 128;

/// Most bytes of request headers (HPACK-decoded) per agent API request.
const MAX_HEADER_LIST_SIZE: u32 = 16 * 1024;

fn key_type(k: CaKeyType) -> KeyType {
    match k {
        CaKeyType::EcP256 => KeyType::EcP256,
        CaKeyType::EcP384 => KeyType::EcP384,
        CaKeyType::Rsa2048 => KeyType::Rsa2048,
    }
}

/// Issues the server's own SVID from the active CA into `identity`; returns the CA's ID and the
/// time the SVID should be renewed.
fn issue_server_svid(
    state: &ServerState,
    identity: &Identity,
) -> Result<(Option<String>, SystemTime), CaError> {
    let now = SystemTime::now();
    let key = KeyPair::generate(KeyType::EcP256)?;
    let svid = state.ca().sign_x509_svid(
        &key.public_key_spki_der(),
        state.server_id().clone(),
        Vec::new(),
        state.default_x509_ttl(),
        now,
    )?;
    // Cross-signed authorities after the leaf: agents that missed a rotation still verify it.
    let cross = state.ca().cross_chain(now)?;
    let chain: Vec<Vec<u8>> = svid
        .chain
        .iter()
        .chain(&cross)
        .map(|c| c.as_bytes().to_vec())
        .collect();
    identity
        .set(&chain, key.pkcs8_der())
        .map_err(|e| CaError::Io(std::io::Error::other(e.to_string())))?;
    let life = svid.not_after.duration_since(now).unwrap_or_default();
    Ok((state.ca().active_id(), now + life / 2))
}

/// Keeps the server SVID fresh and the TLS trust store equal to the bundle.
async fn maintain_tls(
    state: ServerState,
    cache: EntryCache,
    identity: Identity,
    trust: TrustStore,
    mut signed_by: Option<String>,
    mut renew_at: SystemTime,
    shutdown: Shutdown,
) {
    let mut events = cache.subscribe();
    let stop = shutdown.wait();
    tokio::pin!(stop);
    // The authorities the current SVID's cross-signed chain was built from: a revoked one must
    // leave the chain at once, or an agent that trusts only it keeps trusting this server.
    let mut authorities = cache.bundle().x509_authorities.clone();
    loop {
        let wait = renew_at
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO);
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(wait) => {}
            ev = events.recv() => {
                match ev {
                    Ok(t) if matches!(t.event, CacheEvent::Bundle(_) | CacheEvent::Reloaded) => {}
                    Ok(_) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
                let bundle = cache.bundle();
                trust.set(BundleSet::from_iter([(*bundle).clone()]));
                if state.ca().active_id() == signed_by && bundle.x509_authorities == authorities {
                    continue;
                }
                authorities = bundle.x509_authorities.clone();
            }
        }
        match issue_server_svid(&state, &identity) {
            Ok((by, at)) => {
                signed_by = by;
                renew_at = at;
                tracing::info!(authority = ?signed_by, "server SVID renewed");
            }
            Err(e) => {
                tracing::error!(error = %e, "server SVID renewal failed; retrying in 5s");
                renew_at = SystemTime::now() + Duration::from_secs(5);
            }
        }
    }
}

/// Entries stored before IDs under [`crate::state::RESERVED_PATH`] were refused: reported, not
/// deleted (an operator decides), once per start.
fn report_reserved_entries(cache: &EntryCache) {
    for e in cache.find(|e| crate::state::is_reserved_path(e.spiffe_id.path())) {
        tracing::error!(
            entry_id = %e.id,
            spiffe_id = %e.spiffe_id,
            parent_id = %e.parent_id,
            "entry gives an ID under the reserved path {}/ (the server's and the agents' own IDs): delete it with `lanyard-server entry delete --id {}`",
            crate::state::RESERVED_PATH,
            e.id
        );
    }
}

/// An API client of the `[node_attestors.k8s_psat.clusters.<name>]` `name` (validation made
/// sure the tables that name one name a configured one); `watching` for watch streams.
async fn cluster_client(
    config: &ServerConfig,
    name: &str,
    watching: bool,
) -> Result<Option<kube::Client>, RunError> {
    match config.k8s_psat_cluster(name) {
        Some(cluster) => Ok(Some(kube_client(name, cluster, watching).await?)),
        None => Ok(None),
    }
}

/// Start-up choices made on the command line rather than in server.toml.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// `--force-new-ca`: see [`crate::ca::OpenOptions::force_new_ca`].
    pub force_new_ca: bool,
}

/// Runs the server until `shutdown` fires.
pub async fn run(config: ServerConfig, shutdown: Shutdown) -> Result<(), RunError> {
    run_with(config, RunOptions::default(), shutdown).await
}

/// [`run`] with the command line's [`RunOptions`].
pub async fn run_with(
    config: ServerConfig,
    options: RunOptions,
    shutdown: Shutdown,
) -> Result<(), RunError> {
    let health = Health::new();
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&config.data_dir)
        .map_err(|source| RunError::DataDir {
            path: config.data_dir.clone(),
            source,
        })?;
    let ds = Datastore::connect(&config.datastore_url()).await?;
    tracing::info!(backend = ?ds.backend(), "datastore open");
    crate::federation::start::reconcile_declared(&ds, &config.federation)
        .await
        .map_err(RunError::Federation)?;
    let web_tls =
        crate::federation::start::web_tls(&config.federation).map_err(RunError::Federation)?;
    let ca = Ca::open_with(
        config.trust_domain.clone(),
        key_type(config.ca.key_type),
        key_type(config.jwt.key_type),
        config.ca.ttl,
        &config.data_dir.join("ca"),
        ds.clone(),
        SystemTime::now(),
        crate::ca::OpenOptions {
            force_new_ca: options.force_new_ca,
            upstream: config
                .ca
                .upstream
                .as_ref()
                .map(|up| crate::ca::UpstreamFiles {
                    cert_path: up.cert_path.clone(),
                    key_path: up.key_path.clone(),
                    bundle_path: up.bundle_path.clone(),
                }),
        },
    )
    .await?;
    let state = ServerState::new(
        ds.clone(),
        ca.clone(),
        config.svid.default_x509_ttl,
        config.svid.default_jwt_ttl,
        config.ca.ttl,
        config.entries.extra_selector_types.clone(),
    );
    let cache = EntryCache::load(
        ds.clone(),
        config.trust_domain.clone(),
        state.server_id().clone(),
    )
    .await?;
    report_reserved_entries(&cache);
    let refresher = Refresher::new(
        ds.clone(),
        cache.clone(),
        config.trust_domain.clone(),
        RefresherSettings {
            refresh_floor: config.federation.refresh_floor,
            limits: FetchLimits {
                fetch_timeout: config.federation.fetch_timeout,
                ..FetchLimits::default()
            },
            web_tls,
        },
    );
    let state = state.with_federation(refresher.handle());
    // One registry per process, complete before /metrics serves it.
    let mut registry = Registry::default();
    let metrics = ServerMetrics::new(&mut registry);
    StateCollector::new(cache.clone(), ds.subscribe()).register(&mut registry);
    let registry = Arc::new(registry);

    let identity = Identity::new();
    let (signed_by, renew_at) = issue_server_svid(&state, &identity)?;
    let trust = TrustStore::new(BundleSet::from_iter([(*cache.bundle()).clone()]));
    let tls = lanyard_tls::server_config(identity.clone(), trust.clone())
        .map_err(|e| RunError::Serve(e.to_string()))?;

    let bind = |what, addr: SocketAddr| async move {
        TcpListener::bind(addr)
            .await
            .map_err(|source| RunError::Bind {
                what,
                addr: addr.to_string(),
                source,
            })
    };
    let agent_listener = bind("agent API", config.bind_address).await?;
    let health_listener = bind("health", config.health.bind_address).await?;
    let agent_addr = agent_listener.local_addr().ok();
    let health_addr = health_listener.local_addr().ok();
    let bundle_endpoint = match &config.federation.bundle_endpoint {
        Some(e) => {
            let tls = crate::federation::start::endpoint_tls(e, &identity)
                .map_err(RunError::Federation)?;
            let listener = bind("bundle endpoint", e.bind_address).await?;
            Some((e, tls, listener))
        }
        None => None,
    };
    let bundle_endpoint_addr = bundle_endpoint
        .as_ref()
        .and_then(|(_, _, l)| l.local_addr().ok());

    let mut attestors: Vec<Arc<dyn crate::attest::NodeAttestor>> = vec![Arc::new(
        JoinTokenAttestor::new(ds.clone(), config.trust_domain.clone()),
    )];
    if let Some(psat) = &config.node_attestors.k8s_psat {
        let attestor = K8sPsatAttestor::new(config.trust_domain.clone(), psat).await?;
        attestors.push(Arc::new(attestor));
    }
    if let Some(pop) = &config.node_attestors.x509pop {
        let attestor = X509PopAttestor::new(config.trust_domain.clone(), pop)?;
        attestors.push(Arc::new(attestor));
    }
    let agent_api = AgentApi::new(state.clone(), cache.clone(), attestors)
        .with_limits(crate::agent_api::AgentApiLimits {
            max_concurrent_signs_per_agent: config.agent_api.max_concurrent_signs_per_agent,
            attestation_timeout: config.agent_api.attestation_timeout,
            max_attestations_per_ip: config.agent_api.max_attestations_per_ip,
            max_attestations: config.agent_api.max_attestations,
        })
        .with_metrics(metrics.clone());
    let auto_registration = match &config.k8s_auto_registration {
        Some(auto) => cluster_client(&config, &auto.cluster, true)
            .await?
            .map(|client| {
                AutoRegistration::new(
                    ds.clone(),
                    config.trust_domain.clone(),
                    auto.cluster.clone(),
                    client,
                )
            }),
        None => None,
    };
    let bundle_writer = match &config.k8s_bundle_configmap {
        Some(b) => cluster_client(&config, &b.cluster, false)
            .await?
            .map(|client| BundleConfigMap::new(client, b)),
        None => None,
    };
    let election = match &config.k8s_leader_election {
        Some(l) => cluster_client(&config, &l.cluster, false)
            .await?
            .map(|client| Election::new(client, l, process_identity())),
        None => None,
    };

    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(cache.clone().run(shutdown.wait()));
    // The cluster-wide work runs on the leader only (on every server without an election).
    let leadership = match election {
        Some(election) => {
            let (leadership, elect) = election.start(shutdown.clone());
            tasks.spawn(elect);
            leadership
        }
        None => Leadership::Always,
    };
    if let Some(controller) = auto_registration {
        tasks.spawn(run_while_leading(
            leadership.clone(),
            shutdown.clone(),
            "Kubernetes auto-registration",
            move |stop| controller.clone().run(stop),
        ));
    }
    if let Some(writer) = bundle_writer {
        let cache = cache.clone();
        tasks.spawn(run_while_leading(
            leadership,
            shutdown.clone(),
            "the bundle ConfigMap writer",
            move |stop| writer.clone().run(cache.clone(), stop),
        ));
    }
    tasks.spawn(ca.clone().run_rotation(shutdown.wait()));
    tasks.spawn(crate::prune::run(
        ds.clone(),
        config.prune.clone(),
        shutdown.wait(),
    ));
    tasks.spawn(refresher.run(shutdown.wait()));
    if let Some((e, tls, listener)) = bundle_endpoint {
        let (bundles, follow) =
            crate::federation::start::own_bundle(cache.clone(), shutdown.wait());
        tasks.spawn(follow);
        if let Some(files) = tls.cert_files {
            let (interval, stop) = (e.reload_interval, shutdown.wait());
            tasks.spawn(async move { files.watch(interval, stop).await });
        }
        tasks.spawn(crate::federation::endpoint::serve(
            listener,
            tls.config,
            bundles,
            EndpointConfig {
                path: e.path.clone(),
                refresh_hint: e.refresh_hint,
                ..EndpointConfig::default()
            },
            shutdown.wait(),
        ));
    }
    tasks.spawn(maintain_tls(
        state.clone(),
        cache.clone(),
        identity,
        trust,
        signed_by,
        renew_at,
        shutdown.clone(),
    ));
    let h = health.clone();
    let stop = shutdown.wait();
    tasks.spawn(async move {
        if let Err(e) = serve_health(health_listener, h, registry, stop).await {
            tracing::error!(error = %e, "health endpoint failed");
        }
    });

    let incoming = crate::agent_api::connections::cap_connections(
        lanyard_tls::transport::incoming(
            agent_listener,
            tls,
            lanyard_tls::transport::HandshakeLimits::default(),
        ),
        config.agent_api.max_connections,
        metrics.agent_connections().clone(),
    );
    // HTTP/2 bounds per connection (tonic's own defaults leave streams unbounded):
    // - 128 concurrent streams: an agent holds one Sync stream and a few signing calls (its
    //   signing calls run `max_concurrent_signs_per_agent` at a time anyway); the client waits
    //   for a free stream rather than failing.
    // - 16 KiB of request headers (hyper's default, stated here so it stays): agents send a
    //   few hundred bytes.
    // - 20 pending-accept reset streams (h2's default against "rapid reset", stated here).
    // The keepalive ping, unanswered for 20 s (tonic's default timeout), closes a dead peer's
    // connection and so ends its streams.
    let agent_server = tonic::transport::Server::builder()
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .max_concurrent_streams(MAX_STREAMS_PER_CONNECTION)
        .http2_max_header_list_size(MAX_HEADER_LIST_SIZE)
        .http2_max_pending_accept_reset_streams(Some(20))
        .add_service(AgentServiceServer::new(agent_api))
        .serve_with_incoming_shutdown(incoming, shutdown.wait());
    let admin_listener = crate::admin::bind_admin(&config.socket_path)
        .await
        .map_err(|e| RunError::Admin(e.to_string()))?;
    let admin_server = crate::admin::serve_admin_on(
        admin_listener,
        state.clone(),
        &config.socket_path,
        metrics.admin().clone(),
        shutdown.wait(),
    );

    health.set(Readiness::Ready);
    let addr = |a: Option<SocketAddr>| a.map(|a| a.to_string()).unwrap_or_default();
    let endpoint_field = bundle_endpoint_addr
        .map(|a| format!(" bundle_endpoint={a}"))
        .unwrap_or_default();
    println!(
        "lanyard-server ready agent_api={} health={} admin={}{endpoint_field}",
        addr(agent_addr),
        addr(health_addr),
        config.socket_path.display()
    );
    tracing::info!(
        trust_domain = %config.trust_domain,
        agent_api = ?agent_addr,
        health = ?health_addr,
        admin = %config.socket_path.display(),
        bundle_endpoint = ?bundle_endpoint_addr,
        "lanyard-server ready"
    );

    // At the signal both servers stop accepting (the agent API's port is released at once) and
    // wait for their connections to finish; Sync streams end with `Unavailable` when the entry
    // cache stops (`EntryCache::run`), so agents reconnect elsewhere. Whatever is still open
    // when `shutdown_grace` has passed (a peer that holds its connection, a call stuck in the
    // datastore) is dropped: the process exits on time.
    let grace = config.shutdown_grace;
    let grace_over = shutdown.grace_over(grace);
    tokio::pin!(grace_over);
    let stopping = async {
        let (agent_res, admin_res) = tokio::join!(agent_server, admin_server);
        health.set(Readiness::NotReady("shutting down".into()));
        while tasks.join_next().await.is_some() {}
        (agent_res, admin_res)
    };
    let (agent_res, admin_res, in_time) = tokio::select! {
        (agent_res, admin_res) = stopping => (agent_res, admin_res, true),
        () = &mut grace_over => {
            tracing::warn!(
                shutdown_grace = %humantime::format_duration(grace),
                "connections or tasks still open when shutdown_grace ran out; closing them"
            );
            (Ok(()), Ok(()), false)
        }
    };
    // Tasks still running after the grace period are aborted, returning their datastore
    // connections.
    drop(tasks);
    if in_time {
        tokio::select! {
            () = ds.close() => {}
            () = &mut grace_over => {
                tracing::warn!("datastore connections still busy when shutdown_grace ran out");
            }
        }
    }
    tracing::info!("lanyard-server stopped");
    agent_res.map_err(|e| RunError::Serve(e.to_string()))?;
    admin_res.map_err(|e| RunError::Admin(e.to_string()))?;
    Ok(())
}
