//! The Lanyard agent library: everything `lanyard-agent` does, so the binary stays thin and
//! tests drive the same code in-process.
//!
//! Modules:
//! - [`config`]: the strict `agent.toml`.
//! - [`store`]: the current SVIDs and bundles, published to the Workload API as snapshots.
//! - [`node`]: the server-facing side: node attestation, the agent's own identity on disk,
//!   the Sync stream, workload key generation, signing and rotation.
//! - [`jwt`]: JWT-SVIDs for workloads, minted by the server and cached per identity and
//!   audience set.
//! - [`workload`]: the SPIFFE Workload API server on the Unix socket, workload attestation and
//!   the PID-reuse defence.
//! - [`admin`]: the agent's admin API on its private admin socket (`Logger`).
//! - [`delegated`]: SPIRE's Delegated Identity API for trusted delegates, on its own socket.
//! - [`metrics`]: the Prometheus metrics served on the health listener's `/metrics`.
//! - [`cli`]: the workload-side CLI (`api fetch x509`, `api watch`, `healthcheck`), a Workload
//!   API client, and `logger`, an admin API client.
//! - [`run`]: starts everything: `lanyard-agent run`.

pub mod admin;
pub mod cli;
pub mod config;
pub mod delegated;
pub mod jwt;
pub mod metrics;
pub mod node;
pub mod run;
pub mod store;
pub mod workload;
