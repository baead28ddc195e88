//! The Lanyard server library: everything `lanyard-server` does, so the binary stays thin and
//! tests and benchmarks can drive the same code paths in-process.
//!
//! Modules:
//! - [`config`]: the strict `server.toml`.
//! - [`ca`]: the X.509 CA: key custody, rotation, signing.

pub mod ca;
pub mod config;
