//! Workload attestation: turning a caller's peer credentials into the selectors registration
//! entries are matched against.
//!
//! The seam is [`WorkloadAttestor`]; [`UnixAttestor`] is the built-in implementation (SPIRE's
//! `unix` workload attestor: uid, gid, names, supplementary groups, and optionally the binary's
//! path and SHA-256).

mod unix;

pub use unix::{UnixAttestor, UnixAttestorConfig};

use std::path::PathBuf;

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
}
