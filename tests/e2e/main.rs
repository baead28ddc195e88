//! End-to-end tests: real `lanyard-server` processes (built by the harness from this workspace)
//! in tempdirs on 127.0.0.1:0, driven by the admin CLI and by a minimal agent built from the
//! agent library's client pieces. Each test asserts what an operator or an agent would notice.
//!
//! Tests whose outcome depends on the datastore run twice, as `<module>::sqlite::<name>` and
//! `<module>::postgres::<name>`; the PostgreSQL half needs `LANYARD_TEST_POSTGRES_URL` (e.g.
//! `postgres://postgres@127.0.0.1:5432/test`) and prints `SKIPPED: ...` without it. Every test
//! has its own directories, ports and schema, so they run in parallel.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail by panicking, with the message of what broke"
)]

/// Instantiates each named `async fn(Store)` once per datastore, as `sqlite::NAME` and
/// `postgres::NAME`.
macro_rules! datastore_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::store::Store::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(store) = crate::store::Store::postgres().await else {
                        return;
                    };
                    super::$name(store).await;
                }
            )*
        }
    };
}

mod agent;
mod agent_client;
mod agent_harness;
mod cli;
mod harness;
mod store;

mod audit;
mod bad_input;
mod ban_evict;
mod config_env;
mod csr;
mod delegated_identity;
mod ha;
mod join_token;
mod k8s_bundle;
mod k8s_leader;
mod k8s_psat;
mod k8s_registration;
mod metrics;
mod operations;
mod persistence;
mod push;
mod renewal;
mod startup;
mod upstream_ca;
mod x509pop;

mod agent_interop;
mod agent_jwt;
mod agent_outage;
mod agent_readme;
mod agent_soak;
mod agent_workload_api;
mod deploy_manifests;
mod federation;
mod hostile_agent;
mod hostile_workload;
mod image;
mod sds;
