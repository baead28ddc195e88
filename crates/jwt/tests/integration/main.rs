//! Integration tests of lanyard-jwt, in one binary (one link). Every token is minted at test
//! time with our own keys; the only fixture is an RSA key (generating RSA keys is slow).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub,
    reason = "tests: a failed unwrap is a failed test"
)]

mod interop;
mod props;
mod rejections;
mod round_trip;
mod support;
