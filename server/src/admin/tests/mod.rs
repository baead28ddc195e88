//! The admin API and its CLI against a real server: `serve_admin` on a socket in a tempdir, a
//! real datastore (SQLite in the tempdir; PostgreSQL when `LANYARD_TEST_POSTGRES_URL` is set) and
//! a real CA, driven by the generated clients and by the CLI's `execute`.

mod agents_tokens;
mod authority;
mod entries;
mod entry_checks;
mod federates_with;
mod jwt;
mod socket;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hyper_util::rt::TokioIo;
use lanyard_datastore::Datastore;
use lanyard_id::TrustDomain;
use lanyard_test_support::pg::PgSchema;
use lanyard_x509::KeyType;
use tokio::sync::oneshot;
use tonic::transport::{Channel, Endpoint, Uri};

use super::{AdminServeError, serve_admin};
use crate::ca::Ca;
use crate::cli::{self, CliError};
use crate::state::ServerState;

/// The CA lifetime of test servers: entry TTLs above it are refused.
pub(super) const CA_TTL: Duration = Duration::from_secs(24 * 3600);

/// Guard for awaits that should complete at once.
const PATIENCE: Duration = Duration::from_secs(20);

/// A running admin API.
pub(super) struct TestServer {
    pub(super) socket: PathBuf,
    pub(super) state: ServerState,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), AdminServeError>>>,
    /// Dropped last: holds the socket, the CA keys and the SQLite file.
    _dir: tempfile::TempDir,
    _pg: Option<PgSchema>,
}

impl TestServer {
    /// A server on a SQLite datastore in its tempdir.
    pub(super) async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("ds.sqlite3").to_str().unwrap().to_owned();
        let ds = Datastore::connect(&url).await.unwrap();
        Self::start(dir, ds, None).await
    }

    /// A server on a fresh PostgreSQL schema; `None` (after saying so) without
    /// `LANYARD_TEST_POSTGRES_URL`.
    pub(super) async fn postgres() -> Option<Self> {
        let pg = PgSchema::create("admin API").await?;
        let ds = Datastore::connect(pg.url()).await.unwrap();
        Some(Self::start(tempfile::tempdir().unwrap(), ds, Some(pg)).await)
    }

    async fn start(dir: tempfile::TempDir, ds: Datastore, pg: Option<PgSchema>) -> Self {
        let td = TrustDomain::new("example.org").unwrap();
        let ca = Ca::open(
            td,
            KeyType::EcP256,
            CA_TTL,
            &dir.path().join("ca"),
            ds.clone(),
            SystemTime::now(),
        )
        .await
        .unwrap();
        let state = ServerState::new(
            ds,
            ca,
            Duration::from_secs(3600),
            Duration::from_secs(300),
            CA_TTL,
            Vec::new(),
        );
        let socket = dir.path().join("private").join("api.sock");
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn({
            let (state, socket) = (state.clone(), socket.clone());
            async move {
                serve_admin(state, &socket, async {
                    let _ = rx.await;
                })
                .await
            }
        });
        wait_for_socket(&socket).await;
        Self {
            socket,
            state,
            shutdown: Some(tx),
            task: Some(task),
            _dir: dir,
            _pg: pg,
        }
    }

    /// A channel to the admin socket.
    pub(super) async fn channel(&self) -> Channel {
        channel(&self.socket).await
    }

    /// Runs `lanyard-server <args> --socket-path <ours>` through the CLI; its output or error.
    pub(super) async fn cli(&self, args: &[&str]) -> Result<String, CliError> {
        let socket = self.socket.to_str().unwrap();
        let mut all = args.to_vec();
        all.extend(["--socket-path", socket]);
        let mut out = String::new();
        tokio::time::timeout(
            PATIENCE,
            cli::execute(cli::tests_support::parse(&all), &mut out),
        )
        .await
        .expect("CLI call hung")?;
        Ok(out)
    }

    /// As [`TestServer::cli`], for calls that must succeed.
    pub(super) async fn cli_ok(&self, args: &[&str]) -> String {
        self.cli(args)
            .await
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    /// `localauthority <kind> show --output json`: the authorities of `kind` (`x509`, `jwt`).
    pub(super) async fn authorities(&self, kind: &str) -> Vec<serde_json::Value> {
        let shown = self
            .cli_ok(&["localauthority", kind, "show", "--output", "json"])
            .await;
        json(&shown)["authorities"].as_array().unwrap().clone()
    }

    /// Stops the server and returns what `serve_admin` returned.
    pub(super) async fn stop(mut self) -> Result<(), AdminServeError> {
        let _ = self.shutdown.take().unwrap().send(());
        tokio::time::timeout(PATIENCE, self.task.take().unwrap())
            .await
            .expect("serve_admin did not stop")
            .unwrap()
    }
}

/// `serve_admin` has no ready signal; the socket file appears when it has bound.
async fn wait_for_socket(path: &Path) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !path.exists() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "admin socket never appeared"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A channel over the Unix socket at `path`, as the CLI connects.
pub(super) async fn channel(path: &Path) -> Channel {
    let path = path.to_owned();
    Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let path = path.clone();
            async move {
                Ok::<_, std::io::Error>(TokioIo::new(tokio::net::UnixStream::connect(path).await?))
            }
        }))
        .await
        .unwrap()
}

/// Parses what a `--output json` command printed.
pub(super) fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap()
}

pub(super) fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}
