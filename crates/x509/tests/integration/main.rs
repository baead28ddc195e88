//! Integration tests of lanyard-x509, in one binary (one link). Every certificate is minted at
//! test time; the only fixture is an RSA key (generating RSA keys is slow).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

mod bundle;
mod csr;
mod interop;
mod issue;
mod profile_rules;
mod props;
mod support;
mod validation_rules;
