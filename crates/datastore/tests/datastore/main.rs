//! The datastore test suite: every test in `backend_tests!` runs against SQLite (a file in a
//! tempdir) and against PostgreSQL when `LANYARD_TEST_POSTGRES_URL` is set, e.g.
//! `LANYARD_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test`. Each PostgreSQL test
//! runs in a schema of its own, dropped at the end, so tests may run in parallel (threads under
//! `cargo test`, processes under nextest).

#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Instantiates each named `async fn(&Harness)` once per backend, as `sqlite::NAME` and
/// `postgres::NAME`.
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let h = crate::common::Harness::sqlite().await;
                    super::$name(&h).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(h) = crate::common::Harness::postgres().await else {
                        return;
                    };
                    super::$name(&h).await;
                }
            )*
        }
    };
}

mod agents_authorities;
mod common;
mod connect;
mod entries;
mod events;
mod federated_bundles;
mod federation;
mod pruning;
mod queries;
mod tokens;
