//! The `k8s` workload attestor: selectors from the pod and container a caller runs in.
//!
//! Two steps, after SPIRE's `k8s` plugin:
//! 1. [`cgroup`]: `/proc/<pid>/cgroup` names the pod UID and container ID. A process outside a
//!    pod's container gets no `k8s` selectors (not an error).
//! 2. [`kubelet`]: the node's kubelet lists its pods (`GET /pods`); the pod with that UID and the
//!    status with that container ID give the selectors ([`pods`] lists them).
//!
//! The pod list is cached for `pod_list_cache_ttl` and fetched at most once at a time: when many
//! workloads attest at once (a rollout), callers share one fetch instead of each hitting the
//! kubelet. The fetch runs in a task of its own and no lock is held while it runs: a caller
//! that gives up (the Workload API's attestation deadline) does not cancel it, and the callers
//! after it wait for the same fetch rather than start another. Pod UIDs and container IDs never change meaning, so a cached list can only be stale
//! in pod labels, by at most the TTL. A pod or container missing from the list is normal for a
//! moment after it starts (the kubelet's status lags the runtime), so the lookup is retried
//! `max_poll_attempts` times, `poll_retry_interval` apart, each retry with a list fetched after
//! the one that missed, cache or not.

mod cgroup;
mod kubelet;
mod pods;

pub use cgroup::{PodContainer, parse_cgroup_file};
pub use kubelet::{KubeletError, KubeletUrl, KubeletVerification};

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::{AttestError, WorkloadAttestor};
use crate::store::Selector;
use crate::workload::PeerCred;
use kubelet::KubeletClient;
use pods::{Lookup, PodList};

/// Configuration of [`K8sAttestor`]. [`Default`] gives the documented defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct K8sAttestorConfig {
    /// The kubelet (default `https://127.0.0.1:10250`, which needs the agent on the host network).
    pub kubelet_url: KubeletUrl,
    /// How the kubelet's certificate is checked (default: against the cluster CA a pod's service
    /// account carries).
    pub verification: KubeletVerification,
    /// The bearer token sent to the kubelet, read on every fetch (default: the pod's
    /// service-account token).
    pub token_path: PathBuf,
    /// This node's name. When known, the kubelet's certificate is checked for it (kubelet serving
    /// certificates name the node, not 127.0.0.1); otherwise for the host of `kubelet_url`. It
    /// also stands in for a pod's empty `spec.nodeName` in `k8s:node-name`.
    pub node_name: Option<String>,
    /// How long a fetched pod list is reused (default 1 s; zero: every attestation fetches).
    pub pod_list_cache_ttl: Duration,
    /// Lookups of a pod or container not (yet) in the list, in all (default 5, at least 1).
    pub max_poll_attempts: u32,
    /// The pause between lookups (default 250 ms).
    pub poll_retry_interval: Duration,
    /// Where `/proc` is (default `/proc`; tests point it at a directory of sample files).
    pub proc_root: PathBuf,
    /// Where the host's cgroup filesystem is mounted (default `/sys/fs/cgroup`): a caller's pod
    /// is only believed if its cgroup directories there are owned by root ([`cgroup`]).
    pub cgroup_root: PathBuf,
    /// Who must own a pod's and a container's cgroup directories: root (0), as the kubelet and
    /// the container runtime run. Not a configuration key: tests that do not run as root set
    /// their own uid.
    pub cgroup_owner: u32,
    /// The agent's own pid as `cgroup.procs` files list it (default: `std::process::id()`, the
    /// host's pid with hostPID). Not a configuration key: tests set it.
    pub agent_pid: u32,
    /// The text of the agent's own `/proc/self/cgroup`, whose path is relative to the agent's
    /// cgroup namespace (default `None`: read `<proc_root>/self/cgroup` when needed). Not a
    /// configuration key: tests set it.
    pub agent_cgroup: Option<String>,
    /// At most how many directories of `cgroup_root` are searched for the agent's own cgroup
    /// (default 100,000). Not a configuration key: tests lower it.
    pub cgroup_walk_limit: usize,
}

impl Default for K8sAttestorConfig {
    fn default() -> Self {
        K8sAttestorConfig {
            kubelet_url: KubeletUrl::default(),
            verification: KubeletVerification::CaFile(PathBuf::from(DEFAULT_KUBELET_CA_PATH)),
            token_path: PathBuf::from(DEFAULT_TOKEN_PATH),
            node_name: None,
            pod_list_cache_ttl: Duration::from_secs(1),
            max_poll_attempts: 5,
            poll_retry_interval: Duration::from_millis(250),
            proc_root: PathBuf::from("/proc"),
            cgroup_root: PathBuf::from(DEFAULT_CGROUP_ROOT),
            cgroup_owner: 0,
            agent_pid: std::process::id(),
            agent_cgroup: None,
            cgroup_walk_limit: DEFAULT_CGROUP_WALK_LIMIT,
        }
    }
}

/// At most how many cgroup directories are searched for the agent's own, once.
pub(crate) const DEFAULT_CGROUP_WALK_LIMIT: usize = 100_000;
/// Where the cgroup filesystem is usually mounted.
pub const DEFAULT_CGROUP_ROOT: &str = "/sys/fs/cgroup";
/// The service-account token every pod gets mounted.
pub const DEFAULT_TOKEN_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";
/// The cluster CA every pod gets mounted beside its token.
pub const DEFAULT_KUBELET_CA_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";

/// The `k8s` workload attestor. Cheap to clone; clones share the pod-list cache.
#[derive(Debug, Clone)]
pub struct K8sAttestor {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: KubeletClient,
    node_name: Option<String>,
    ttl: Duration,
    max_poll_attempts: u32,
    poll_retry_interval: Duration,
    proc_root: PathBuf,
    cgroup_root: PathBuf,
    cgroup_owner: u32,
    agent_pid: u32,
    agent_cgroup: Option<String>,
    cgroup_walk_limit: usize,
    /// Where the agent's cgroup namespace root is in the host's cgroup v2 hierarchy (segments
    /// below it), found on first need; the lock is held while it is searched for, so one caller
    /// searches and the others wait for it.
    ns_root: std::sync::Mutex<Option<Vec<String>>>,
    cache: std::sync::Mutex<Cache>,
    /// Lookups answered from the cache, fetches started, and callers that joined a fetch in
    /// flight (logged at debug; no metrics yet).
    hits: AtomicU64,
    fetches: AtomicU64,
    coalesced: AtomicU64,
}

#[derive(Debug, Default)]
struct Cache {
    list: Option<Arc<Fetched>>,
    /// The last failed fetch and when it ended, shared with the callers that waited on it.
    failure: Option<(Instant, KubeletError)>,
    /// The fetch running now: when it started, and a channel that turns `true` when it ends.
    in_flight: Option<(Instant, watch::Receiver<bool>)>,
}

#[derive(Debug)]
struct Fetched {
    started: Instant,
    finished: Instant,
    pods: PodList,
}

impl K8sAttestor {
    /// An attestor with `config`. Reads the CA file and checks the token file now.
    pub fn new(config: K8sAttestorConfig) -> Result<K8sAttestor, KubeletError> {
        let tls_name = config
            .node_name
            .clone()
            .unwrap_or_else(|| config.kubelet_url.host().to_owned());
        if config.verification == KubeletVerification::SkipVerify {
            tracing::warn!(
                kubelet = %config.kubelet_url,
                "kubelet_skip_verify = true: the kubelet's certificate is not checked; whoever can intercept that connection can claim any pod's identity"
            );
        }
        let client = KubeletClient::new(
            config.kubelet_url,
            &tls_name,
            config.verification,
            config.token_path,
        )?;
        Ok(K8sAttestor {
            inner: Arc::new(Inner {
                client,
                node_name: config.node_name,
                ttl: config.pod_list_cache_ttl,
                max_poll_attempts: config.max_poll_attempts.max(1),
                poll_retry_interval: config.poll_retry_interval,
                proc_root: config.proc_root,
                cgroup_root: config.cgroup_root,
                cgroup_owner: config.cgroup_owner,
                agent_pid: config.agent_pid,
                agent_cgroup: config.agent_cgroup,
                cgroup_walk_limit: config.cgroup_walk_limit,
                ns_root: std::sync::Mutex::default(),
                cache: std::sync::Mutex::default(),
                hits: AtomicU64::new(0),
                fetches: AtomicU64::new(0),
                coalesced: AtomicU64::new(0),
            }),
        })
    }

    /// The selectors of container `found.container_id` in pod `found.pod_uid`.
    async fn selectors_for(
        &self,
        pid: i32,
        found: &PodContainer,
    ) -> Result<Vec<Selector>, AttestError> {
        let inner = &self.inner;
        let began = Instant::now();
        let mut newer_than = None;
        let mut missing_from: Option<String> = None;
        for attempt in 1..=inner.max_poll_attempts {
            let list = self
                .pod_list(newer_than)
                .await
                .map_err(|source| AttestError::Kubelet { pid, source })?;
            match list.pods.lookup(&found.pod_uid, &found.container_id) {
                Lookup::Found(pod, container) => {
                    return Ok(pods::selectors(pod, container, inner.node_name.as_deref()));
                }
                Lookup::NoPod => missing_from = None,
                Lookup::NoContainer(pod) => {
                    missing_from =
                        Some(format!("{}/{}", pod.metadata.namespace, pod.metadata.name));
                }
            }
            if attempt < inner.max_poll_attempts {
                tracing::debug!(
                    pid,
                    pod_uid = %found.pod_uid,
                    container_id = %found.container_id,
                    attempt,
                    "container not in the kubelet's pod list yet; retrying"
                );
                newer_than = Some(list.started);
                tokio::time::sleep(inner.poll_retry_interval).await;
            }
        }
        let attempts = inner.max_poll_attempts;
        let waited =
            Duration::from_millis(u64::try_from(began.elapsed().as_millis()).unwrap_or(u64::MAX));
        Err(match missing_from {
            None => AttestError::PodNotFound {
                pid,
                pod_uid: found.pod_uid.clone(),
                container_id: found.container_id.clone(),
                attempts,
                waited,
            },
            Some(pod) => AttestError::ContainerNotFound {
                pid,
                pod,
                pod_uid: found.pod_uid.clone(),
                container_id: found.container_id.clone(),
                attempts,
                waited,
            },
        })
    }

    /// A pod list fresh enough: cached if younger than the TTL (and, when `newer_than` is given,
    /// fetched after it), else the outcome of a fetch that ends after this call began: the one
    /// in flight if it qualifies, else a new one. Concurrent callers share one fetch; the lock
    /// is only held to look at the cache, never across the fetch.
    async fn pod_list(&self, newer_than: Option<Instant>) -> Result<Arc<Fetched>, KubeletError> {
        let asked = Instant::now();
        loop {
            let mut done = {
                let mut cache = self.inner.lock();
                if let Some(list) = &cache.list {
                    let newer = newer_than.is_none_or(|t| list.started > t);
                    let fresh = list.started.elapsed() < self.inner.ttl || list.finished >= asked;
                    if newer && fresh {
                        self.inner.count(&self.inner.hits, "pod list from cache");
                        return Ok(Arc::clone(list));
                    }
                }
                if let Some((ended, error)) = &cache.failure
                    && *ended >= asked
                {
                    return Err(error.clone());
                }
                match &cache.in_flight {
                    Some((started, done)) => {
                        // One that started before `newer_than` cannot answer this call; waiting
                        // for it keeps fetches one at a time, and the loop then starts the next.
                        if newer_than.is_none_or(|t| *started > t) {
                            self.inner.count(
                                &self.inner.coalesced,
                                "waiting for the pod-list fetch in flight",
                            );
                        }
                        done.clone()
                    }
                    None => {
                        let (tx, rx) = watch::channel(false);
                        cache.in_flight = Some((Instant::now(), rx.clone()));
                        self.inner
                            .count(&self.inner.fetches, "fetching the pod list");
                        tokio::spawn(fetch(Arc::clone(&self.inner), tx));
                        rx
                    }
                }
            };
            if done.wait_for(|ended| *ended).await.is_err() {
                // The fetch task ended without saying so (it panicked): clear it, try again.
                let mut cache = self.inner.lock();
                if cache
                    .in_flight
                    .as_ref()
                    .is_some_and(|(_, rx)| rx.same_channel(&done))
                {
                    cache.in_flight = None;
                }
            }
        }
    }
}

/// Fetches the pod list, stores the outcome in the cache, and says so on `done`.
async fn fetch(inner: Arc<Inner>, done: watch::Sender<bool>) {
    let started = Instant::now();
    let result = inner.client.fetch_pods().await;
    {
        let mut cache = inner.lock();
        match result {
            Ok(pods) => {
                cache.list = Some(Arc::new(Fetched {
                    started,
                    finished: Instant::now(),
                    pods,
                }));
                cache.failure = None;
            }
            Err(error) => cache.failure = Some((Instant::now(), error)),
        }
        cache.in_flight = None;
    }
    done.send_replace(true);
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn count(&self, counter: &AtomicU64, what: &'static str) {
        counter.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(
            hits = self.hits.load(Ordering::Relaxed),
            fetches = self.fetches.load(Ordering::Relaxed),
            coalesced = self.coalesced.load(Ordering::Relaxed),
            "{what}"
        );
    }
}

#[tonic::async_trait]
impl WorkloadAttestor for K8sAttestor {
    async fn attest(&self, peer: &PeerCred) -> Result<Vec<Selector>, AttestError> {
        let pid = peer.pid;
        let inner = Arc::clone(&self.inner);
        let found = tokio::task::spawn_blocking(move || pod_container(&inner, pid))
            .await
            .map_err(|e| AttestError::Task {
                pid,
                reason: e.to_string(),
            })??;
        match found {
            None => Ok(Vec::new()),
            Some(found) => self.selectors_for(pid, &found).await,
        }
    }
}

/// The pod and container `pid` runs in, if its cgroups name one and the kubelet made that
/// cgroup (see [`cgroup`]).
fn pod_container(inner: &Inner, pid: i32) -> Result<Option<PodContainer>, AttestError> {
    let Some((found, lines)) = cgroup::read_pod_container(&inner.proc_root, pid)? else {
        return Ok(None);
    };
    let verdict = cgroup::verify(
        &inner.cgroup_root,
        inner.cgroup_owner,
        pid,
        &found,
        &lines,
        |hierarchy| inner.ns_root(hierarchy),
    );
    let (dir, why) = match verdict {
        Ok(None) => return Ok(Some(found)),
        Ok(Some(cgroup::Refusal::NotRoot { dir, owner })) => (
            dir,
            format!(
                "the cgroup is owned by uid {owner}, not {}, so the kubelet did not make it (a forged cgroup in a delegated subtree?)",
                inner.cgroup_owner
            ),
        ),
        Ok(Some(cgroup::Refusal::NotMember { dir })) => (
            dir,
            "the caller is not in that cgroup's cgroup.procs (it moved, or its cgroup was located wrongly)".to_owned(),
        ),
        Ok(Some(cgroup::Refusal::Elsewhere { dir })) => (
            dir,
            "located on the host, the cgroup is not that pod's container (pod-like names below another cgroup)".to_owned(),
        ),
        Err(cgroup::Unverifiable::Stat(dir, source)) => {
            return Err(AttestError::CgroupDir { pid, dir, source });
        }
        Err(cgroup::Unverifiable::Namespaced { path, reason }) => {
            return Err(AttestError::CgroupNamespace { pid, path, reason });
        }
    };
    tracing::warn!(
        pid,
        pod_uid = %found.pod_uid,
        container_id = %found.container_id,
        dir = %dir.display(),
        "refused: the caller's cgroup names a pod, but {why}; no k8s selectors"
    );
    Ok(None)
}

impl Inner {
    /// The agent's cgroup namespace root below the v2 hierarchy at `hierarchy`: cached, searched
    /// for again if its directory is gone (see [`cgroup::resolve_ns_root`]).
    fn ns_root(&self, hierarchy: &std::path::Path) -> Result<Vec<String>, String> {
        let mut cached = self
            .ns_root
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(root) = cached.as_ref()
            && root
                .iter()
                .fold(hierarchy.to_path_buf(), |dir, s| dir.join(s))
                .is_dir()
        {
            return Ok(root.clone());
        }
        let own = match &self.agent_cgroup {
            Some(text) => text.clone(),
            None => {
                let file = self.proc_root.join("self/cgroup");
                std::fs::read_to_string(&file).map_err(|e| {
                    format!(
                        "cannot read the agent's own cgroup file {}: {e}",
                        file.display()
                    )
                })?
            }
        };
        let began = Instant::now();
        let root = cgroup::resolve_ns_root(
            hierarchy,
            self.cgroup_owner,
            self.agent_pid,
            &own,
            self.cgroup_walk_limit,
        )?;
        tracing::info!(
            ns_root = %root.iter().fold(hierarchy.to_path_buf(), |dir, s| dir.join(s)).display(),
            took_ms = began.elapsed().as_millis(),
            "located the agent's cgroup namespace root on the host's cgroup filesystem"
        );
        *cached = Some(root.clone());
        Ok(root)
    }
}
