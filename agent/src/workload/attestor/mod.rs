//! Workload attestation: turning a caller's peer credentials into the selectors registration
//! entries are matched against.
//!
//! The seam is [`WorkloadAttestor`]. Built in: [`UnixAttestor`] (SPIRE's `unix` workload
//! attestor: uid, gid, names, supplementary groups, and optionally the binary's path and
//! SHA-256) and [`K8sAttestor`] (SPIRE's `k8s`: the caller's pod and container, from its cgroups
//! and the kubelet). [`CombinedAttestor`] runs several and concatenates their selectors.

mod digest;
mod k8s;
mod unix;

pub use k8s::{
    DEFAULT_CGROUP_ROOT, DEFAULT_KUBELET_CA_PATH, DEFAULT_TOKEN_PATH, K8sAttestor,
    K8sAttestorConfig, KubeletError, KubeletUrl, KubeletVerification, PodContainer,
    parse_cgroup_file,
};
pub use unix::{UnixAttestor, UnixAttestorConfig};

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::store::Selector;
use crate::workload::PeerCred;
use crate::workload::procfs::ProcError;

/// Derives the selectors of the process that called the Workload API.
///
/// Contract (after SPIRE's `workloadattestor.WorkloadAttestor`):
///
/// - `attest` is called once per Workload API call, with the credentials the kernel reported for
///   the caller's socket at accept. The workload says nothing about itself: everything comes from
///   the kernel (`/proc`, cgroups, ...) or from an orchestrator, never from the request.
/// - It returns every selector it can derive; an empty list is a valid answer (the caller then
///   matches no entry). It returns `Err` only when the process could not be inspected at all (it
///   exited, `/proc` is unreadable); the call is then answered `Unavailable`.
/// - It may be called concurrently and must not block the async runtime: blocking reads belong in
///   `tokio::task::spawn_blocking`.
/// - It must read the process afresh on each call and must not cache by pid. It needs no
///   PID-reuse defence of its own: the Workload API re-checks after `attest` returns that the
///   pid still names the process that connected, and drops the call otherwise.
#[tonic::async_trait]
pub trait WorkloadAttestor: Send + Sync {
    /// The selectors of the process `peer.pid`.
    async fn attest(&self, peer: &PeerCred) -> Result<Vec<Selector>, AttestError>;
}

/// Why a caller could not be attested. Every variant names the pid.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttestError {
    /// A `/proc/<pid>` file could not be read or parsed.
    #[error(transparent)]
    Proc(#[from] ProcError),
    /// The executable could not be hashed.
    #[error("pid {pid}: cannot hash the executable {}: {source}", file.display())]
    Hash {
        /// The process.
        pid: i32,
        /// The file that failed.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The attestation task failed (panicked or was cancelled).
    #[error("pid {pid}: attestation task failed: {reason}")]
    Task {
        /// The process.
        pid: i32,
        /// What happened.
        reason: String,
    },
    /// The caller's cgroups name a pod, but its cgroup directory could not be inspected.
    #[error(
        "pid {pid}: cannot inspect its pod's cgroup directory {}: {source} (the process may have exited; otherwise check that cgroup_root is the host's cgroup filesystem)",
        dir.display()
    )]
    CgroupDir {
        /// The process.
        pid: i32,
        /// The directory.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The caller's cgroup path is relative to the agent's cgroup namespace, and it could not
    /// be located on the host's cgroup filesystem to check who made it.
    #[error(
        "pid {pid}: its cgroup path {path:?} is relative to the agent's cgroup namespace and cannot be located on the host's cgroup filesystem: {reason}"
    )]
    CgroupNamespace {
        /// The process.
        pid: i32,
        /// The path as the agent sees it.
        path: String,
        /// Why it could not be located, and what to do about it.
        reason: String,
    },
    /// The caller runs in a pod, but the kubelet's pod list could not be fetched.
    #[error("pid {pid}: {source}")]
    Kubelet {
        /// The process.
        pid: i32,
        /// Why.
        source: KubeletError,
    },
    /// The caller's cgroups name a pod the kubelet does not list.
    #[error(
        "pid {pid} runs in pod {pod_uid} (container {container_id}), but the kubelet listed no pod with that UID in {attempts} fetches over {}: check that kubelet_url is this node's kubelet; a pod that has just started may need a larger max_poll_attempts or poll_retry_interval",
        humantime::format_duration(*waited)
    )]
    PodNotFound {
        /// The process.
        pid: i32,
        /// The pod UID its cgroups name.
        pod_uid: String,
        /// The container ID its cgroups name.
        container_id: String,
        /// How many pod lists were searched.
        attempts: u32,
        /// For how long.
        waited: Duration,
    },
    /// The pod is listed, but none of its container statuses has the caller's container ID.
    #[error(
        "pid {pid} runs in container {container_id} of pod {pod} ({pod_uid}), but the kubelet reported no such container in that pod in {attempts} fetches over {}: the container may still be starting (raise max_poll_attempts or poll_retry_interval) or it is not one of the pod's containers",
        humantime::format_duration(*waited)
    )]
    ContainerNotFound {
        /// The process.
        pid: i32,
        /// `namespace/name` of the pod.
        pod: String,
        /// The pod's UID.
        pod_uid: String,
        /// The container ID its cgroups name.
        container_id: String,
        /// How many pod lists were searched.
        attempts: u32,
        /// For how long.
        waited: Duration,
    },
}

/// Runs several attestors on each call and concatenates their selectors, in order.
///
/// If any attestor fails, the call fails (the Workload API answers `Unavailable`, which clients
/// retry), as in SPIRE: serving identities from a partial picture of the caller is not an answer
/// any attestor gave.
#[derive(Clone)]
pub struct CombinedAttestor {
    attestors: Vec<Arc<dyn WorkloadAttestor>>,
}

impl CombinedAttestor {
    /// Runs `attestors`, in this order.
    pub fn new(attestors: Vec<Arc<dyn WorkloadAttestor>>) -> CombinedAttestor {
        CombinedAttestor { attestors }
    }
}

impl std::fmt::Debug for CombinedAttestor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CombinedAttestor")
            .field("attestors", &self.attestors.len())
            .finish()
    }
}

#[tonic::async_trait]
impl WorkloadAttestor for CombinedAttestor {
    async fn attest(&self, peer: &PeerCred) -> Result<Vec<Selector>, AttestError> {
        let mut selectors = Vec::new();
        for attestor in &self.attestors {
            selectors.extend(attestor.attest(peer).await?);
        }
        Ok(selectors)
    }
}
