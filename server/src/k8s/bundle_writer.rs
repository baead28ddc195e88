//! The bootstrap bundle, kept current: the PEM of the trust bundle's X.509 authorities (what
//! `bundle show --format pem` prints, and what an agent's `trust_bundle_path` reads) in a
//! ConfigMap the agents' DaemonSet mounts, so a node that joins after any number of CA
//! rotations attests without a person refreshing it.
//!
//! SPIRE's `k8sbundle` notifier is the model: written at start and on every bundle change
//! (prepare, activate, taint, revoke, rotation by any server of a shared datastore, all of
//! which reach this server's entry cache), created if missing, patched on the
//! `resourceVersion` read so a concurrent writer is detected (`409`) and the write done again
//! on a fresh read, other keys of the ConfigMap left alone. Failures are retried with
//! exponential backoff; a newer bundle replaces the one being retried.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use tokio::sync::broadcast::error::RecvError;

use crate::cache::{CacheEvent, EntryCache};
use crate::config::K8sBundleConfigMapConfig;

/// First wait after a failed write; doubled per failure up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Longest wait between two tries.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The ConfigMap is read again this often, so an edit by hand (or a deleted ConfigMap) is
/// repaired without a bundle change.
const RESYNC: Duration = Duration::from_secs(300);

/// Why one write of the ConfigMap did not happen.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleWriteError {
    /// The ConfigMap changed (or was created) between our read and our write.
    #[error("the ConfigMap changed while we wrote it")]
    Conflict,
    /// The API server failed, refused, or could not be reached.
    #[error("Kubernetes API: {0}")]
    Api(#[from] kube::Error),
}

/// What a successful write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The ConfigMap did not exist; it does now.
    Created,
    /// The key held another bundle (or nothing).
    Updated,
    /// The key held this bundle already: nothing was written.
    Unchanged,
}

/// Writes the bundle to one ConfigMap key.
#[derive(Clone)]
pub struct BundleConfigMap {
    api: Api<ConfigMap>,
    namespace: String,
    name: String,
    key: String,
}

impl std::fmt::Debug for BundleConfigMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BundleConfigMap")
            .field("namespace", &self.namespace)
            .field("name", &self.name)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl BundleConfigMap {
    /// The ConfigMap `config` names, reached through `client`.
    pub fn new(client: kube::Client, config: &K8sBundleConfigMapConfig) -> Self {
        Self {
            api: Api::namespaced(client, &config.namespace),
            namespace: config.namespace.clone(),
            name: config.name.clone(),
            key: config.key.clone(),
        }
    }

    /// One try: makes the key hold `pem`.
    pub async fn write(&self, pem: &str) -> Result<Written, BundleWriteError> {
        let Some(current) = self.api.get_opt(&self.name).await? else {
            let cm = ConfigMap {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    namespace: Some(self.namespace.clone()),
                    ..ObjectMeta::default()
                },
                data: Some(BTreeMap::from([(self.key.clone(), pem.to_owned())])),
                ..ConfigMap::default()
            };
            return match self.api.create(&PostParams::default(), &cm).await {
                Ok(_) => Ok(Written::Created),
                Err(kube::Error::Api(s)) if s.is_already_exists() || s.is_conflict() => {
                    Err(BundleWriteError::Conflict)
                }
                Err(e) => Err(e.into()),
            };
        };
        let held = current.data.as_ref().and_then(|d| d.get(&self.key));
        if held.map(String::as_str) == Some(pem) {
            return Ok(Written::Unchanged);
        }
        // A merge patch with the resourceVersion read is conditional on it (409 otherwise), as
        // SPIRE's notifier does; it sets only our key.
        let mut data = serde_json::Map::new();
        data.insert(self.key.clone(), pem.into());
        let patch = serde_json::json!({
            "metadata": { "resourceVersion": current.metadata.resource_version },
            "data": data,
        });
        match self
            .api
            .patch(&self.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => Ok(Written::Updated),
            Err(kube::Error::Api(s)) if s.is_conflict() => Err(BundleWriteError::Conflict),
            Err(e) => Err(e.into()),
        }
    }

    /// Keeps the ConfigMap equal to `cache`'s bundle until `stop` resolves: at start, on every
    /// bundle change, every [`RESYNC`], retrying failures with backoff.
    pub async fn run(self, cache: EntryCache, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        // Subscribed before the first read, so no change falls between them.
        let mut events = cache.subscribe();
        let mut backoff = FIRST_BACKOFF;
        // The PEM last found in place, and whether it must be checked again.
        let mut in_place: Option<String> = None;
        let mut check = true;
        loop {
            let pem = cache.bundle().x509_authorities_pem();
            let wait = if !check && in_place.as_deref() == Some(pem.as_str()) {
                RESYNC
            } else {
                match self.write(&pem).await {
                    Ok(written) => {
                        if written != Written::Unchanged {
                            tracing::info!(
                                configmap = %format_args!("{}/{}", self.namespace, self.name),
                                key = %self.key,
                                authorities = cache.bundle().x509_authorities.len(),
                                written = ?written,
                                "trust bundle written to the ConfigMap"
                            );
                        }
                        in_place = Some(pem);
                        check = false;
                        backoff = FIRST_BACKOFF;
                        RESYNC
                    }
                    Err(e) => {
                        tracing::warn!(
                            configmap = %format_args!("{}/{}", self.namespace, self.name),
                            error = %e,
                            retry_in = %humantime::format_duration(backoff),
                            "cannot write the trust bundle to the ConfigMap; retrying"
                        );
                        let wait = backoff;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                        wait
                    }
                }
            };
            let sleep = tokio::time::sleep(wait);
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    () = &mut stop => return,
                    () = &mut sleep => {
                        check = true;
                        break;
                    }
                    ev = events.recv() => match ev {
                        Ok(t) if matches!(t.event, CacheEvent::Bundle(_) | CacheEvent::Reloaded) => {
                            // While backing off, the wait stands; a newer bundle is what the
                            // next try writes.
                            if backoff == FIRST_BACKOFF {
                                break;
                            }
                        }
                        Ok(_) => {}
                        Err(RecvError::Lagged(_)) => {
                            if backoff == FIRST_BACKOFF {
                                break;
                            }
                        }
                        Err(RecvError::Closed) => return,
                    },
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "bundle_writer_tests.rs"]
mod tests;
