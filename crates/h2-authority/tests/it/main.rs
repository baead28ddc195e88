//! Tests of `NormalizeAuthority` through its public API: byte-level round trips, and a real h2
//! server fed the bytes a grpcio client sends on a Unix socket.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod h2_server;
mod limits;
mod roundtrip;
mod support;
