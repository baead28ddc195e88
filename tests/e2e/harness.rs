//! Real `lanyard-server` processes and the admin CLI.
//!
//! - [`bin`]: the binaries, built once per test process with the same cargo, profile and target
//!   directory as this test (cargo's own build-directory lock serializes concurrent test
//!   processes), so they are never stale.
//! - [`Server`]: a server in a tempdir of its own (config, data_dir, admin socket, stderr log) on
//!   127.0.0.1:0, started by waiting for its one stdout line
//!   `lanyard-server ready agent_api=<addr> health=<addr> admin=<socket>`; it can be killed with
//!   SIGKILL, stopped with SIGTERM and restarted on the same directories.
//! - [`Server::cli`]: `lanyard-server <admin command> --socket-path <its socket>` (see
//!   [`crate::cli`]).

use std::fs::OpenOptions;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use crate::cli::{CliOutput, lanyard_server};
use crate::store::Store;

/// Guard for awaits that should complete promptly; a hang fails the test instead of the run.
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

/// Variables the server and CLI read that must not leak in from the caller's environment.
pub(crate) const SERVER_ENV: &[&str] = &[
    "LANYARD_SERVER_CONFIG",
    "LANYARD_SERVER_SOCKET_PATH",
    "LANYARD_SERVER_BIND_ADDRESS",
    "LANYARD_SERVER_DATA_DIR",
    "LANYARD_DATASTORE_URL",
    "LANYARD_SERVER_HEALTH_ADDRESS",
    "LANYARD_LOG_LEVEL",
];

/// The path of binary `name` (`lanyard-server`, `lanyard-agent`), built and current.
pub(crate) fn bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BUILT.get_or_init(build) {
        Ok(dir) => dir.join(name),
        Err(e) => panic!("{e}"),
    }
}

/// Runs `cargo build -p lanyard-server -p lanyard-agent --bins` into the target directory this
/// test binary lives in (`<target>/<profile>/deps/e2e-<hash>`); returns `<target>/<profile>`.
fn build() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| format!("{} is not in <target>/<profile>/deps", exe.display()))?;
    let target_dir = profile_dir
        .parent()
        .ok_or_else(|| format!("{} has no parent", profile_dir.display()))?;
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev",
        Some(other) => other,
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let out = Command::new(cargo)
        .args(["build", "--quiet", "--bins", "-p", "lanyard-server"])
        .args([
            "-p",
            "lanyard-agent",
            "--profile",
            profile,
            "--manifest-path",
        ])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", target_dir)
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo build of the binaries failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(profile_dir.to_path_buf())
}

/// A `lanyard-server run` process and the directories it keeps across restarts.
pub(crate) struct Server {
    /// The agent API (mTLS) of the current process.
    pub(crate) agent_addr: SocketAddr,
    /// The health endpoint of the current process.
    pub(crate) health_addr: SocketAddr,
    /// The admin socket.
    pub(crate) socket: PathBuf,
    config: PathBuf,
    log: PathBuf,
    child: Option<Child>,
    /// Whether the admin socket refused connections right after the last ready line.
    admin_late: bool,
    /// Declared after `child`, which `Drop` kills first: the schema is dropped once no server
    /// holds connections to it, and the tempdir last.
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
        let dir = tempfile::tempdir().unwrap();
        let extra = extra(dir.path());
        let config = dir.path().join("server.toml");
        let socket = dir.path().join("admin").join("api.sock");
        std::fs::write(
            &config,
            format!(
                "trust_domain = \"example.org\"\n\
                 data_dir = \"{}\"\n\
                 bind_address = \"127.0.0.1:0\"\n\
                 socket_path = \"{}\"\n\
                 log_level = \"info\"\n\
                 {extra}\n\
                 \n[health]\nbind_address = \"127.0.0.1:0\"\n",
                dir.path().join("data").display(),
                socket.display()
            ),
        )
        .unwrap();
        let mut server = Server {
            agent_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            health_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            socket,
            config,
            log: dir.path().join("server.log"),
            child: None,
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
        assert!(self.child.is_none(), "the server is already running");
        let mut cmd = Command::new(bin("lanyard-server"));
        cmd.arg("run").arg("--config").arg(&self.config).args(args);
        if let Some(url) = self.store.url() {
            cmd.args(["--datastore-url", url]);
        }
        for v in SERVER_ENV {
            cmd.env_remove(v);
        }
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        // Reads the ready line, then drains stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix("lanyard-server ready ")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(rest.to_owned());
                }
            }
        });
        self.child = Some(child);
        let ready = match tokio::time::timeout(PATIENCE, rx).await {
            Ok(Ok(line)) => line,
            Ok(Err(_)) => {
                let mut child = self.child.take().expect("spawned above");
                let status = child.wait().unwrap();
                return Err((status, self.log_text()));
            }
            Err(_) => {
                self.kill9();
                panic!(
                    "lanyard-server not ready after {PATIENCE:?}:\n{}",
                    self.log_text()
                );
            }
        };
        for field in ready.split_whitespace() {
            match field.split_once('=') {
                Some(("agent_api", a)) => self.agent_addr = a.parse().unwrap(),
                Some(("health", a)) => self.health_addr = a.parse().unwrap(),
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

    /// `kill -9`: no chance to flush or clean up.
    pub(crate) fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            // `Child::kill` sends SIGKILL.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits for the exit; returns its status.
    pub(crate) async fn stop(&mut self) -> ExitStatus {
        self.stop_within(PATIENCE).await.0
    }

    /// SIGTERM, then waits at most `limit` for the exit (SIGKILL and a panic after it); returns
    /// its status and how long it took.
    pub(crate) async fn stop_within(&mut self, limit: Duration) -> (ExitStatus, Duration) {
        let mut child = self.child.take().expect("the server is not running");
        let pid = child.id().to_string();
        let signal = |sig: &str| Command::new("kill").args([sig, &pid]).status();
        let started = std::time::Instant::now();
        assert!(signal("-TERM").unwrap().success(), "kill -TERM failed");
        let exit = tokio::task::spawn_blocking(move || child.wait());
        match tokio::time::timeout(limit, exit).await {
            Ok(status) => (status.unwrap().unwrap(), started.elapsed()),
            Err(_) => {
                let _ = signal("-KILL");
                panic!(
                    "lanyard-server still running {limit:?} after SIGTERM:\n{}",
                    self.log_text()
                );
            }
        }
    }

    /// Stops the server gracefully (asserting a clean exit) and starts it again.
    pub(crate) async fn restart(&mut self) {
        let status = self.stop().await;
        assert!(
            status.success(),
            "SIGTERM exit: {status}\n{}",
            self.log_text()
        );
        self.spawn().await;
    }

    /// Starts the server again after [`Server::kill9`].
    pub(crate) async fn start_again(&mut self) {
        self.spawn().await;
    }

    /// The pid of the running process.
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().expect("the server is not running").id()
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

    /// The server's data_dir (its SQLite datastore, CA keys).
    pub(crate) fn data_dir(&self) -> PathBuf {
        self._dir.path().join("data")
    }

    /// Everything the server has logged so far (all runs).
    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The status line of `GET <path>` on the health endpoint, e.g. `HTTP/1.1 200 OK`.
    pub(crate) async fn health(&self, path: &str) -> String {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let mut conn = tokio::net::TcpStream::connect(self.health_addr)
            .await
            .unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        conn.write_all(req.as_bytes()).await.unwrap();
        let mut resp = String::new();
        tokio::time::timeout(PATIENCE, conn.read_to_string(&mut resp))
            .await
            .expect("the health endpoint did not answer")
            .unwrap();
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
        let selector = if parent_id == "spiffe://example.org/lanyard/server" {
            "k8s_psat:cluster:test"
        } else {
            "unix:uid:1000"
        };
        self.cli(&[
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
        .json()
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

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}
