//! Helpers shared by Lanyard's tests (never a dependency of a shipped binary).
//!
//! - [`python`]: a virtualenv with the pinned client packages of `tests/python/requirements.txt`
//!   (py-spiffe, PyJWT), created on first use under the cargo target directory so that the
//!   interoperability tests run the real Python SPIFFE client on a fresh machine.
//! - [`kube`]: [`kube::FakeKube`], a local stand-in for a Kubernetes API server speaking the real
//!   JSON (there is no cluster on the test machines).
//! - [`process`]: real `lanyard-server` / `lanyard-agent` processes (build, start on a ready
//!   line, stop with SIGTERM and a bounded wait), for the end-to-end tests and the bench.
//! - `pg` (feature `postgres`): [`pg::PgSchema`], a PostgreSQL schema of one test on
//!   `LANYARD_TEST_POSTGRES_URL`, dropped with it.

pub mod kube;
#[cfg(feature = "postgres")]
pub mod pg;
pub mod process;
mod python;

pub use python::{Python, python};
