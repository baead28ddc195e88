//! What `run` does for federation at start: store the relationships `server.toml` declares
//! (with their bootstrap bundles), prepare the refresher's `https_web` roots, and set up the
//! bundle endpoint (its TLS per profile, and the own bundle it serves, kept current from the
//! entry cache). Files named in the config are read here, and a failure names the file.

use std::future::Future;
use std::sync::Arc;
use std::time::SystemTime;

use lanyard_datastore::{BundleOrigin, Datastore, FederatedBundle, FederationRelationship};
use lanyard_tls::Identity;
use lanyard_x509::Bundle;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

use super::certfiles::CertFiles;
use super::input::{InputFormat, parse_bundle};
use crate::cache::{CacheEvent, EntryCache};
use crate::config::{BundleEndpointConfig, FederatesWithConfig, FederationConfig, ProfileName};

/// The relationship `server.toml` declares in `rel`, with its bootstrap bundle read from
/// `bootstrap_bundle_path`.
fn declared(
    rel: &FederatesWithConfig,
) -> Result<(FederationRelationship, Option<FederatedBundle>), String> {
    let td = &rel.trust_domain;
    let bootstrap = match &rel.bootstrap_bundle_path {
        None => None,
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| {
                format!(
                    "{}: cannot read the bootstrap bundle of {td} (federation.federates_with): {e}",
                    path.display()
                )
            })?;
            let bundle = parse_bundle(td, &bytes, InputFormat::Auto).map_err(|e| {
                format!(
                    "{}: the bootstrap bundle of {td} (federation.federates_with) is {e}",
                    path.display()
                )
            })?;
            let bundle_json = bundle
                .to_jwks_json()
                .map_err(|e| format!("{}: {e}", path.display()))?;
            Some(FederatedBundle {
                trust_domain: td.clone(),
                bundle_json,
                sequence: bundle.sequence_number,
                origin: BundleOrigin::Operator,
                updated_at: 0,
            })
        }
    };
    let relationship = FederationRelationship {
        trust_domain: td.clone(),
        endpoint_url: rel.bundle_endpoint_url.clone(),
        profile: rel.profile.profile(),
        endpoint_spiffe_id: rel.endpoint_id(),
        declared_in_config: true,
        created_at: 0,
        updated_at: 0,
    };
    Ok((relationship, bootstrap))
}

/// Makes the stored relationships declared in server.toml those of `config` (a bootstrap
/// bundle only where no bundle is stored yet), and logs what changed.
pub async fn reconcile_declared(ds: &Datastore, config: &FederationConfig) -> Result<(), String> {
    let declared = config
        .federates_with
        .iter()
        .map(declared)
        .collect::<Result<Vec<_>, _>>()?;
    let report = ds
        .reconcile_config_relationships(&declared)
        .await
        .map_err(|e| format!("storing the relationships of [[federation.federates_with]]: {e}"))?;
    for td in &report.upserted {
        tracing::info!(trust_domain = %td, "federation relationship declared in server.toml stored");
    }
    for td in &report.bootstrapped {
        tracing::info!(trust_domain = %td, "bootstrap bundle of {td} stored (no bundle of it was stored)");
    }
    for td in &report.removed {
        tracing::info!(trust_domain = %td, "federation relationship no longer declared in server.toml: deleted with its bundle");
    }
    for (td, entries) in &report.kept_in_use {
        tracing::warn!(
            trust_domain = %td,
            entries,
            "the federation relationship with {td} is no longer declared in server.toml, but {entries} entries federate with it: kept, now managed with the admin API; `federation delete --trust-domain {td}` once no entry needs it (`entry show --federates-with {td}`)"
        );
    }
    Ok(())
}

/// The `https_web` client config from `https_web_ca_path`, read now; `None` when it is unset
/// (the refresher loads the system's roots at its first `https_web` fetch).
pub fn web_tls(config: &FederationConfig) -> Result<Option<Arc<rustls::ClientConfig>>, String> {
    let Some(path) = &config.https_web_ca_path else {
        return Ok(None);
    };
    let roots = super::fetch::web_roots(Some(path))
        .map_err(|e| format!("federation.https_web_ca_path: {e}"))?;
    lanyard_tls::web_pki_client_config(roots)
        .map(Some)
        .map_err(|e| format!("federation.https_web_ca_path: {e}"))
}

/// The bundle endpoint's TLS, per its profile.
pub struct EndpointTls {
    /// The server config handshakes use.
    pub config: Arc<rustls::ServerConfig>,
    /// `https_web`: the certificate files, to be watched for changes.
    pub cert_files: Option<Arc<CertFiles>>,
}

/// The TLS of the bundle endpoint of `config`: `https_spiffe` presents `server_identity` (the
/// server's own X.509-SVID, renewed with it); `https_web` the certificate and key files, read
/// now.
pub fn endpoint_tls(
    config: &BundleEndpointConfig,
    server_identity: &Identity,
) -> Result<EndpointTls, String> {
    let (identity, cert_files) = match config.profile {
        ProfileName::HttpsSpiffe => (server_identity.clone(), None),
        ProfileName::HttpsWeb => {
            let (Some(cert), Some(key)) = (&config.cert_path, &config.key_path) else {
                return Err(
                    "federation.bundle_endpoint: profile \"https_web\" needs cert_path and key_path"
                        .to_owned(),
                );
            };
            let files = CertFiles::load(cert, key, SystemTime::now())
                .map_err(|e| format!("federation.bundle_endpoint: {e}"))?;
            let identity = files.identity();
            (identity, Some(Arc::new(files)))
        }
    };
    let config = lanyard_tls::bundle_endpoint_server_config(Arc::new(identity))
        .map_err(|e| format!("federation.bundle_endpoint TLS: {e}"))?;
    Ok(EndpointTls { config, cert_files })
}

/// The own bundle for the endpoint to serve, and the task that keeps it current from `cache`
/// (every bundle change and reload) until `shutdown`.
pub fn own_bundle(
    cache: EntryCache,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> (
    watch::Receiver<Arc<Bundle>>,
    impl Future<Output = ()> + Send + 'static,
) {
    // Subscribed before the first read, so no change in between is missed.
    let mut events = cache.subscribe();
    let (tx, rx) = watch::channel(cache.bundle());
    let follow = async move {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                event = events.recv() => match event {
                    Ok(t) if !matches!(t.event, CacheEvent::Bundle(_) | CacheEvent::Reloaded) => {}
                    Ok(_) | Err(RecvError::Lagged(_)) => {
                        tx.send_replace(cache.bundle());
                    }
                    Err(RecvError::Closed) => return,
                },
            }
        }
    };
    (rx, follow)
}
