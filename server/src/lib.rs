//! The Lanyard server library: everything `lanyard-server` does, so the binary stays thin and
//! tests and benchmarks can drive the same code paths in-process.
//!
//! Modules:
//! - [`config`]: the strict `server.toml`.
//! - [`state`]: [`state::ServerState`], shared by every handler.
//! - [`convert`]: datastore model <-> protobuf, and entry validation.
//! - [`cache`]: every entry in memory, following the datastore's change log.
//! - [`attest`]: node attestors (join token, Kubernetes PSAT).
//! - [`k8s`]: the `ClusterSPIFFEID` resource and the auto-registration controller.
//! - [`agent_api`]: the agent API: attest, renew, the Sync push stream, signing.
//! - [`ca`]: the X.509 CA: key custody, rotation, signing.
//! - [`admin`]: the admin API (gRPC on the Unix admin socket): [`admin::serve_admin`].
//! - [`metrics`]: the Prometheus metrics served on the health listener's `/metrics`.
//! - [`prune`]: deletes expired join tokens and entries and old change-log events on a schedule.
//! - [`run`]: starts everything: `lanyard-server run`.
//! - [`cli`]: the admin CLI, a client of that socket: [`cli::AdminCommand`], [`cli::run`].

pub mod admin;
pub mod agent_api;
pub mod attest;
pub mod ca;
pub mod cache;
pub mod cli;
pub mod config;
pub mod convert;
pub mod federation;
pub mod k8s;
pub mod metrics;
pub mod prune;
pub mod run;
pub mod selectors;
pub mod state;
pub mod taint;
