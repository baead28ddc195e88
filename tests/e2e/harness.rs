//! Real `lanyard-server` processes and the admin CLI.
//!
//! - [`bin`]: the binaries, built once per test process with the same cargo, profile and target
//!   directory as this test and the test suite's feature set (`lanyard_test_support::process`;
//!   cargo's own build-directory lock serializes concurrent test processes), so they are never
//!   stale and no crate is compiled twice.
//! - [`Server`]: a server in a tempdir of its own (config, data_dir, admin socket, stderr log) on
//!   127.0.0.1:0, started by waiting for its one stdout line
//!   `lanyard-server ready agent_api=<addr> health=<addr> admin=<socket>` (and
//!   `bundle_endpoint=<addr>` when the config enables one); it can be killed with SIGKILL,
//!   stopped with SIGTERM and restarted on the same directories. Of trust domain `example.org`,
//!   or of the one [`Server::start_in`] names (two federating trust domains on one machine).
//! - [`Server::cli`]: `lanyard-server <admin command> --socket-path <its socket>` (see
//!   [`crate::cli`]).
//! - [`Server::start_peer`]: another server on the same PostgreSQL datastore, as servers of one
//!   trust domain run for high availability.
//! - [`json_events`] and [`await_event`]: the events of a process logging with
//!   `log_format = "json"`, and a guarded wait for one.

use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use lanyard_test_support::process::{
    Build, DEFAULT_TRUST_DOMAIN, Process, ProcessError, ServerFiles, build_binaries,
};
use serde_json::Value;

use crate::cli::{CliOutput, lanyard_server};
use crate::store::Store;

/// Guard for awaits that should complete promptly; a hang fails the test instead of the run.
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

/// The whole response (status line, headers, body) to `GET <path>` on a health listener.
pub(crate) async fn http_get(addr: SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    conn.write_all(req.as_bytes()).await.unwrap();
    let mut resp = String::new();
    tokio::time::timeout(PATIENCE, conn.read_to_string(&mut resp))
        .await
        .expect("the health endpoint did not answer")
        .unwrap();
    resp
}

/// Variables the server and CLI read that must not leak in from the caller's environment.
pub(crate) use lanyard_test_support::process::SERVER_ENV;

/// The path of binary `name` (`lanyard-server`, `lanyard-agent`), built and current: built once
/// per test process by [`build_binaries`] with the test suite's feature set, so after
/// `cargo test --workspace` this only links the two binaries and compiles no crate again.
pub(crate) fn bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        build_binaries(&exe, Build::TestSuite).map_err(|e| e.to_string())
    });
    match built {
        Ok(dir) => dir.join(name),
        Err(e) => panic!("{e}"),
    }
}

/// A `lanyard-server run` process and the directories it keeps across restarts.
pub(crate) struct Server {
    /// The agent API (mTLS) of the current process.
    pub(crate) agent_addr: SocketAddr,
    /// The health endpoint of the current process.
    pub(crate) health_addr: SocketAddr,
    /// The admin socket.
    pub(crate) socket: PathBuf,
    /// The federation bundle endpoint of the current process, when server.toml enables one
    /// (`[federation.bundle_endpoint]`): the ready line's `bundle_endpoint=<addr>`.
    pub(crate) bundle_endpoint: Option<SocketAddr>,
    /// The trust domain server.toml names, bare (`example.org`).
    trust_domain: String,
    files: ServerFiles,
    child: Running,
    /// Whether the admin socket refused connections right after the last ready line.
    admin_late: bool,
    /// Declared after `child`, which is killed when dropped: the schema is dropped once no
    /// server holds connections to it, and the tempdir last.
    store: Store,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Writes a server.toml into a fresh tempdir and starts the server on `store`.
    pub(crate) async fn start(store: Store) -> Server {
        Server::start_with(store, |_| String::new()).await
    }

    /// [`Server::start`] with more TOML in server.toml, after the top-level keys (so it may set
    /// top-level keys, then tables); `extra` gets the tempdir (for files the extra config names).
    pub(crate) async fn start_with(store: Store, extra: impl FnOnce(&Path) -> String) -> Server {
        Server::start_in(store, DEFAULT_TRUST_DOMAIN, extra).await
    }

    /// [`Server::start_with`] for a server of `trust_domain` (a bare name, `pay.example`).
    pub(crate) async fn start_in(
        store: Store,
        trust_domain: &str,
        extra: impl FnOnce(&Path) -> String,
    ) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let extra = extra(dir.path());
        let files = ServerFiles::write_for(dir.path(), trust_domain, &extra).unwrap();
        let mut server = Server {
            agent_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            health_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            socket: files.socket.clone(),
            bundle_endpoint: None,
            trust_domain: trust_domain.to_owned(),
            files,
            child: Running::new("the server"),
            admin_late: false,
            store,
            _dir: dir,
        };
        server.spawn().await;
        server
    }

    /// Starts the process (again) on the same config, data and datastore.
    async fn spawn(&mut self) {
        if let Err((status, log)) = self.spawn_with(&[]).await {
            panic!("lanyard-server exited before it was ready ({status}):\n{log}");
        }
    }

    /// [`Server::spawn`] with extra `run` arguments; `Err` holds the exit status and the log
    /// when the server exits before it is ready.
    async fn spawn_with(&mut self, args: &[&str]) -> Result<(), (ExitStatus, String)> {
        let mut cmd = Command::new(bin("lanyard-server"));
        cmd.arg("run")
            .arg("--config")
            .arg(&self.files.config)
            .args(args);
        if let Some(url) = self.store.url() {
            cmd.args(["--datastore-url", url]);
        }
        let ready = match self
            .child
            .start(cmd, &self.files.log, "lanyard-server ready ")
            .await
        {
            Ok(ready) => ready,
            Err(ProcessError::Exited { status, log, .. }) => return Err((status, log)),
            Err(e) => panic!("{e}"),
        };
        self.bundle_endpoint = None;
        for field in ready.split_whitespace() {
            match field.split_once('=') {
                Some(("agent_api", a)) => self.agent_addr = a.parse().unwrap(),
                Some(("health", a)) => self.health_addr = a.parse().unwrap(),
                Some(("bundle_endpoint", a)) => self.bundle_endpoint = Some(a.parse().unwrap()),
                Some(("admin", s)) => assert_eq!(Path::new(s), self.socket, "{ready}"),
                _ => {}
            }
        }
        assert_ne!(self.agent_addr.port(), 0, "{ready}");
        // The ready line promises that everything listens (server/src/run.rs): the admin socket
        // must accept at once. `startup.rs` fails if it ever did not.
        self.admin_late = std::os::unix::net::UnixStream::connect(&self.socket).is_err();
        Ok(())
    }

    /// Another server of this trust domain on this server's PostgreSQL datastore (panics on
    /// SQLite), as servers run for high availability (`docs/kubernetes.md`): with CA keys of its
    /// own, so its authorities join the shared bundle beside this server's and agents learn
    /// them over Sync. `extra` as in [`Server::start_with`]. Declare it after `self`, so that
    /// it is stopped before the schema `self` owns is dropped.
    pub(crate) async fn start_peer(&self, extra: impl FnOnce(&Path) -> String) -> Server {
        let url = match &self.store {
            Store::Postgres(pg) => pg.url().to_owned(),
            Store::Shared(url) => url.clone(),
            Store::Sqlite => panic!("servers share a PostgreSQL datastore, not SQLite"),
        };
        Server::start_in(Store::Shared(url), &self.trust_domain, extra).await
    }

    /// Stops the server gracefully (asserting a clean exit) and starts it again.
    pub(crate) async fn restart(&mut self) {
        self.child.stop_clean().await;
        self.spawn().await;
    }

    /// Starts the server again after [`Server::kill9`].
    pub(crate) async fn start_again(&mut self) {
        self.spawn().await;
    }

    /// Starts the server again with extra `run` arguments, for a start that may be refused:
    /// `Err` holds the exit status and the whole log.
    pub(crate) async fn try_start_again_with(
        &mut self,
        args: &[&str],
    ) -> Result<(), (ExitStatus, String)> {
        self.spawn_with(args).await
    }

    /// Whether the admin socket did not yet accept connections when the last ready line came.
    pub(crate) fn admin_was_late(&self) -> bool {
        self.admin_late
    }

    /// The trust domain server.toml names, bare (`example.org`).
    pub(crate) fn trust_domain(&self) -> &str {
        &self.trust_domain
    }

    /// The server's own SPIFFE ID, `spiffe://<trust domain>/lanyard/server`: the parent of node
    /// aliases, and the ID its agent API and `https_spiffe` bundle endpoint present.
    pub(crate) fn spiffe_id(&self) -> String {
        format!("spiffe://{}/lanyard/server", self.trust_domain)
    }

    /// The server's data_dir (its SQLite datastore, CA keys).
    pub(crate) fn data_dir(&self) -> PathBuf {
        self.files.data_dir.clone()
    }

    /// Everything the server has logged so far (all runs).
    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.files.log).unwrap_or_default()
    }

    /// The status line of `GET <path>` on the health endpoint, e.g. `HTTP/1.1 200 OK`.
    pub(crate) async fn health(&self, path: &str) -> String {
        let resp = http_get(self.health_addr, path).await;
        resp.lines().next().unwrap_or_default().to_owned()
    }

    /// `lanyard-server <args> --socket-path <socket>`.
    pub(crate) async fn cli(&self, args: &[&str]) -> CliOutput {
        let socket = self.socket.to_str().unwrap();
        let all: Vec<&str> = args
            .iter()
            .copied()
            .chain(["--socket-path", socket])
            .collect();
        lanyard_server(&all).await
    }

    /// The X.509 authorities of the bundle, as `bundle show --format pem` prints them.
    pub(crate) async fn bundle_pem(&self) -> String {
        self.cli(&["bundle", "show", "--format", "pem"])
            .await
            .ok()
            .stdout
    }

    /// `token generate --output json` with extra `args`: (token, agent SPIFFE ID, expires_at).
    pub(crate) async fn token(&self, args: &[&str]) -> (String, String, i64) {
        let all: Vec<&str> = ["token", "generate", "--output", "json"]
            .into_iter()
            .chain(args.iter().copied())
            .collect();
        let t = self.cli(&all).await.json();
        (
            t["token"].as_str().unwrap().to_owned(),
            t["agent_spiffe_id"].as_str().unwrap().to_owned(),
            t["expires_at"].as_str().unwrap().parse().unwrap(),
        )
    }

    /// `entry create --output json` for `spiffe_id` under `parent_id` with one selector (a
    /// node selector for a node alias, whose parent is the server); returns the created entry.
    pub(crate) async fn create_entry(&self, spiffe_id: &str, parent_id: &str) -> Value {
        let selector = if parent_id == self.spiffe_id() {
            "k8s_psat:cluster:test"
        } else {
            "unix:uid:1000"
        };
        let entry = self
            .cli(&[
                "entry",
                "create",
                "--spiffe-id",
                spiffe_id,
                "--parent-id",
                parent_id,
                "--selector",
                selector,
                "--output",
                "json",
            ])
            .await
            .json();
        self.await_entry_cache().await;
        entry
    }

    /// Waits until this server's entry cache has applied every change the server committed: its
    /// `lanyard_server_entry_cache_lag_events` gauge reads 0. The cache feeds Sync and signing
    /// follows it, so a real agent signs only entries the cache has sent it; a test agent that
    /// signs right after `entry create` must wait for the same, or race the cache on a busy
    /// machine ("entry ... does not exist").
    pub(crate) async fn await_entry_cache(&self) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let page = http_get(self.health_addr, "/metrics").await;
            let lag = page.lines().find_map(|l| {
                l.strip_prefix("lanyard_server_entry_cache_lag_events ")
                    .map(str::trim)
            });
            if lag == Some("0") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the entry cache did not catch up (lag {lag:?})"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Every entry, as `entry show --output json` lists them.
    pub(crate) async fn entries(&self) -> Vec<Value> {
        let list = self
            .cli(&["entry", "show", "--output", "json"])
            .await
            .json();
        list["entries"].as_array().unwrap().clone()
    }
}

/// The events of a log written with `log_format = "json"`: one object per line, holding
/// `message`, `level`, `target` and the event's fields (lines that are not JSON are skipped).
pub(crate) fn json_events(log: &str) -> Vec<Value> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect()
}

/// Polls `log` (a process's whole log so far, JSON lines) until an event satisfies `found`;
/// returns it. Panics after `patience` with what was awaited and the log.
pub(crate) async fn await_event(
    what: &str,
    patience: Duration,
    log: impl Fn() -> String,
    found: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        let text = log();
        if let Some(event) = json_events(&text).into_iter().find(|e| found(e)) {
            return event;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not logged within {patience:?}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl Deref for Server {
    type Target = Running;

    fn deref(&self) -> &Running {
        &self.child
    }
}

impl DerefMut for Server {
    fn deref_mut(&mut self) -> &mut Running {
        &mut self.child
    }
}

/// The current process of a [`Server`] or an agent, if one runs (killed when dropped): the
/// start and stop half both harnesses share, panicking as tests do. Both deref to it, so
/// `server.stop()`, `agent.kill9()`, `server.pid()` ... are these methods.
pub(crate) struct Running {
    /// What runs, for messages: `the server`, `the agent`.
    what: &'static str,
    process: Option<Process>,
}

impl Running {
    /// Nothing running yet.
    pub(crate) fn new(what: &'static str) -> Running {
        Running {
            what,
            process: None,
        }
    }

    /// [`Process::start`] with [`PATIENCE`]; panics if a process already runs.
    pub(crate) async fn start(
        &mut self,
        cmd: Command,
        log: &Path,
        ready: &str,
    ) -> Result<String, ProcessError> {
        assert!(self.process.is_none(), "{} is already running", self.what);
        let (process, line) = Process::start(cmd, log, ready, PATIENCE).await?;
        self.process = Some(process);
        Ok(line)
    }

    /// The running process; panics if none runs.
    fn take(&mut self) -> Process {
        self.process
            .take()
            .unwrap_or_else(|| panic!("{} is not running", self.what))
    }

    /// The pid of the running process.
    pub(crate) fn pid(&self) -> u32 {
        self.process
            .as_ref()
            .map(Process::pid)
            .unwrap_or_else(|| panic!("{} is not running", self.what))
    }

    /// `kill -9` (no chance to flush or clean up), if a process runs.
    pub(crate) fn kill9(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill9();
        }
    }

    /// SIGTERM, then waits for the exit; returns its status.
    pub(crate) async fn stop(&mut self) -> ExitStatus {
        self.stop_within(PATIENCE).await.0
    }

    /// SIGTERM, then waits at most `limit` for the exit (SIGKILL and a panic with the log after
    /// it); returns its status and how long it took.
    pub(crate) async fn stop_within(&mut self, limit: Duration) -> (ExitStatus, Duration) {
        let mut process = self.take();
        process
            .stop_within(limit)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// SIGTERM and a wait of at most [`PATIENCE`], asserting a clean exit.
    pub(crate) async fn stop_clean(&mut self) {
        let mut process = self.take();
        let (status, _) = process
            .stop_within(PATIENCE)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            status.success(),
            "SIGTERM exit: {status}\n{}",
            process.log_text()
        );
    }

    /// Waits at most [`PATIENCE`] for the process to exit by itself (a panic with the log
    /// after it); returns its status.
    pub(crate) async fn wait_exit(&mut self) -> ExitStatus {
        let mut process = self.take();
        process
            .wait_exit(PATIENCE)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }
}
