//! `lanyard-agent run`: the node side, the Workload API and health, started and stopped together.
//!
//! When the Workload API socket, the health endpoint and the admin socket listen, one line goes
//! to stdout: `lanyard-agent listening socket=<path> health=<addr> admin=<path>`. Workloads may connect at once: until
//! the first sync they get `Unavailable` (retryable), then their SVIDs.
//!
//! A shutdown signal ends every Workload API stream with `Unavailable`, removes the socket and
//! returns within `shutdown_grace`, whatever clients still hold open.

use std::sync::Arc;

use lanyard_observe::metrics::Registry;
use lanyard_observe::{Health, Shutdown, serve_health};
use lanyard_x509::certificates_from_pem;
use tokio::net::TcpListener;

use crate::config::AgentConfig;
use crate::jwt::JwtMinter;
use crate::metrics::AgentMetrics;
use crate::node::x509pop::X509PopConfig;
use crate::node::{self, NodeConfig, NodeError, PsatConfig};
use crate::store::SvidStore;
use crate::workload::attestor::{
    CombinedAttestor, K8sAttestor, UnixAttestor, UnixAttestorConfig, WorkloadAttestor,
};
use crate::workload::{bind_workload_socket, serve_workload_api_on};

/// Why the agent could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The bootstrap bundle could not be read.
    #[error("trust_bundle_path {path}: {reason}")]
    Bundle {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A listener could not be bound.
    #[error("cannot listen on {what}: {reason}")]
    Bind {
        /// Which listener.
        what: String,
        /// Why.
        reason: String,
    },
    /// The node side failed.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// The k8s workload attestor could not be set up.
    #[error("workload_attestors.k8s: {0}")]
    K8sAttestor(String),
}

/// Runs the agent until `shutdown` fires or the node side fails for good.
pub async fn run(
    config: AgentConfig,
    join_token: Option<String>,
    shutdown: Shutdown,
) -> Result<(), RunError> {
    let bootstrap_bundle = match &config.trust_bundle_path {
        Some(path) => {
            let text = std::fs::read(path).map_err(|e| RunError::Bundle {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            let certs = certificates_from_pem(&text).map_err(|e| RunError::Bundle {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            if certs.is_empty() {
                return Err(RunError::Bundle {
                    path: path.display().to_string(),
                    reason: "holds no CERTIFICATE block: write it with `lanyard-server bundle show --format pem`".into(),
                });
            }
            Some(certs)
        }
        None => None,
    };
    let health = Health::new();
    let store = SvidStore::new();
    let jwt = JwtMinter::new();
    // One registry per process, complete before /metrics serves it.
    let mut registry = Registry::default();
    let metrics = AgentMetrics::new(&mut registry, store.clone());
    let registry = Arc::new(registry);

    let health_listener = TcpListener::bind(config.health.bind_address)
        .await
        .map_err(|e| RunError::Bind {
            what: format!("health {}", config.health.bind_address),
            reason: e.to_string(),
        })?;
    let health_addr = health_listener.local_addr().ok();
    let h = health.clone();
    let stop = shutdown.wait();
    let health_task = tokio::spawn(async move {
        if let Err(e) = serve_health(health_listener, h, registry, stop).await {
            tracing::error!(error = %e, "health endpoint failed");
        }
    });

    let unix = &config.workload_attestors.unix;
    let mut attestor: Arc<dyn WorkloadAttestor> = Arc::new(UnixAttestor::new(UnixAttestorConfig {
        discover_workload_path: unix.discover_workload_path,
        workload_size_limit: unix.workload_size_limit,
    }));
    if let Some(k8s) = &config.workload_attestors.k8s {
        let k8s = k8s
            .attestor_config(|name| std::env::var(name).ok())
            .map_err(|e| RunError::K8sAttestor(e.to_string()))
            .and_then(|c| K8sAttestor::new(c).map_err(|e| RunError::K8sAttestor(e.to_string())))?;
        attestor = Arc::new(CombinedAttestor::new(vec![attestor, Arc::new(k8s)]));
    }
    // The admin socket before the Workload API socket: a refusal here leaves nothing behind
    // (one left by a failure after it is cleared as stale at the next start).
    let admin_listener = crate::admin::bind_admin(&config.admin.socket_path)
        .await
        .map_err(|e| RunError::Bind {
            what: format!("admin socket {}", config.admin.socket_path.display()),
            reason: e.to_string(),
        })?;
    let admin_socket = config.admin.socket_path.clone();
    let stop = shutdown.wait();
    let admin_task = tokio::spawn(async move {
        if let Err(e) = crate::admin::serve_admin_on(admin_listener, &admin_socket, stop).await {
            tracing::error!(error = %e, "admin API failed");
        }
    });
    // `[delegated_identity]`: off unless configured; bound before the Workload API socket
    // for the same reason as the admin socket.
    let delegated_task = match &config.delegated_identity {
        Some(delegated) => {
            let listener = crate::delegated::bind_delegated(&delegated.socket_path)
                .await
                .map_err(|e| RunError::Bind {
                    what: format!(
                        "delegated identity socket {}",
                        delegated.socket_path.display()
                    ),
                    reason: e.to_string(),
                })?;
            let service = crate::delegated::DelegatedIdentityService::new(
                store.clone(),
                jwt.clone(),
                Arc::clone(&attestor),
                crate::delegated::Authorized::from_config(delegated),
                config.workload_api.attestation_timeout,
            );
            let socket = delegated.socket_path.clone();
            let stop = shutdown.wait();
            Some(tokio::spawn(async move {
                if let Err(e) =
                    crate::delegated::serve_delegated_on(listener, &socket, service, stop).await
                {
                    tracing::error!(error = %e, "Delegated Identity API failed");
                }
            }))
        }
        None => None,
    };
    let listener = bind_workload_socket(&config.socket_path).map_err(|e| RunError::Bind {
        what: format!("Workload API socket {}", config.socket_path.display()),
        reason: e.to_string(),
    })?;
    let socket = config.socket_path.clone();
    let limits = config.workload_api.clone();
    let sds = config.sds.clone();
    let grace = config.shutdown_grace;
    let workload_store = store.clone();
    let workload_jwt = jwt.clone();
    let workload_metrics = metrics.workload.clone();
    let stop = shutdown.wait();
    let workload_task = tokio::spawn(async move {
        if let Err(e) = serve_workload_api_on(
            listener,
            &socket,
            &limits,
            &sds,
            grace,
            workload_store,
            workload_jwt,
            attestor,
            workload_metrics,
            stop,
        )
        .await
        {
            tracing::error!(error = %e, "Workload API failed");
        }
    });
    println!(
        "lanyard-agent listening socket={} health={} admin={}",
        config.socket_path.display(),
        health_addr.map(|a| a.to_string()).unwrap_or_default(),
        config.admin.socket_path.display()
    );

    let node_config = NodeConfig {
        trust_domain: config.trust_domain.clone(),
        server_address: config.server_address.clone(),
        data_dir: config.data_dir.clone(),
        bootstrap_bundle,
        trust_bundle_path: config.trust_bundle_path.clone(),
        insecure_bootstrap: config.insecure_bootstrap,
        join_token: join_token
            .or_else(|| config.join_token.as_ref().map(|t| t.expose().to_owned())),
        k8s_psat: config.node_attestor.k8s_psat.as_ref().map(|p| PsatConfig {
            cluster: p.cluster.clone(),
            token_path: p.token_path.clone(),
        }),
        x509pop: config
            .node_attestor
            .x509pop
            .as_ref()
            .map(|p| X509PopConfig {
                certificate_path: p.certificate_path.clone(),
                private_key_path: p.private_key_path.clone(),
                intermediates_path: p.intermediates_path.clone(),
            }),
    };
    // At the signal the node side returns at its next await point; one that waits on the
    // server (a signing call to a server that does not answer) is given up when the grace
    // period is over. The Workload API bounds its own wait by the same period and removes its
    // socket.
    let grace_over = shutdown.grace_over(grace);
    tokio::pin!(grace_over);
    let (result, in_time) = tokio::select! {
        result = node::run(node_config, store, jwt, health, metrics.node, shutdown.wait()) => (result, true),
        () = &mut grace_over => {
            tracing::warn!("a call to the server was still running when shutdown_grace ran out");
            (Ok(()), false)
        }
    };
    if result.is_err() {
        // Nothing more will be issued; stop serving so supervisors restart us.
        workload_task.abort();
        health_task.abort();
        admin_task.abort();
        lanyard_admin::remove(&config.admin.socket_path);
        if let (Some(task), Some(delegated)) = (&delegated_task, &config.delegated_identity) {
            task.abort();
            lanyard_admin::remove(&delegated.socket_path);
        }
    } else {
        let _ = workload_task.await;
        let _ = admin_task.await;
        if let Some(task) = delegated_task {
            let _ = task.await;
        }
        if in_time {
            tokio::select! {
                _ = health_task => {}
                () = &mut grace_over => {}
            }
        }
        tracing::info!("lanyard-agent stopped");
    }
    Ok(result?)
}
