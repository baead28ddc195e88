//! Node attestation: how an agent proves which node it runs on.
//!
//! A [`NodeAttestor`] checks the evidence an agent sends (`AttestParams.payload`), may run any
//! number of challenge/response rounds through a [`Challenger`], and answers with the agent's
//! SPIFFE ID and node selectors. The agent API then signs the agent's SVID and records it.
//! Contract for implementations: evidence that fails must give an [`AttestError`] whose message
//! tells the operator what to fix; the failures of the server's own dependencies (datastore,
//! Kubernetes API) go in [`AttestError::Datastore`] or [`AttestError::Unavailable`], whose text
//! the unauthenticated caller never sees; the agent ID must be derived from verified evidence only and
//! must never contain a secret (e.g. a join token).

pub mod join_token;
pub mod k8s_psat;
pub mod x509pop;

use lanyard_datastore::Selector;
use lanyard_id::SpiffeId;

/// The outcome of a successful node attestation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attested {
    /// The agent's SPIFFE ID.
    pub agent_id: SpiffeId,
    /// Node selectors (used to resolve node aliases).
    pub selectors: Vec<Selector>,
    /// Whether the agent may attest again with fresh evidence of the same kind.
    pub reattestable: bool,
}

/// Why attestation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttestError {
    /// The evidence is malformed (InvalidArgument).
    #[error("{0}")]
    InvalidEvidence(String),
    /// The evidence is well-formed but not accepted (PermissionDenied).
    #[error("{0}")]
    Rejected(String),
    /// The datastore failed (Unavailable; the caller sees only an error id, the text goes to
    /// the server log).
    #[error(transparent)]
    Datastore(#[from] lanyard_datastore::DatastoreError),
    /// A service the attestor depends on failed, e.g. the Kubernetes API server (Unavailable;
    /// the caller sees only an error id, the text goes to the server log).
    #[error("{0}")]
    Unavailable(String),
    /// The agent went away during a challenge round.
    #[error("the agent closed the attestation stream")]
    Aborted,
}

/// Runs challenge rounds with the agent.
#[tonic::async_trait]
pub trait Challenger: Send {
    /// Sends `challenge` to the agent and returns its response.
    async fn challenge(&mut self, challenge: Vec<u8>) -> Result<Vec<u8>, AttestError>;

    /// The CSR (DER) of this attestation, whose key the agent's SVID will certify: a challenge
    /// response that covers it cannot be relayed to obtain an SVID for another key.
    fn csr(&self) -> &[u8];
}

/// A node attestation method.
#[tonic::async_trait]
pub trait NodeAttestor: Send + Sync + std::fmt::Debug {
    /// The `attestation_type` name agents use, e.g. `join_token`.
    fn name(&self) -> &'static str;

    /// Verifies `payload` (and challenge responses). `now` is Unix seconds.
    async fn attest(
        &self,
        payload: &[u8],
        challenger: &mut dyn Challenger,
        now: i64,
    ) -> Result<Attested, AttestError>;
}
