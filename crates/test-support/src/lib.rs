//! Helpers shared by Lanyard's tests (never a dependency of a shipped binary).
//!
//! - [`python`]: a virtualenv with the pinned client packages of `tests/python/requirements.txt`
//!   (py-spiffe, PyJWT), created on first use under the cargo target directory so that the
//!   interoperability tests run the real Python SPIFFE client on a fresh machine.
//! - [`kube`]: [`kube::FakeKube`], a local stand-in for a Kubernetes API server speaking the real
//!   JSON (there is no cluster on the test machines).

pub mod kube;
mod python;

pub use python::{Python, python};
