//! Real `lanyard-agent run` processes next to a [`Server`].
//!
//! - [`Agent`]: an agent in a tempdir of its own (agent.toml, bundle.pem, data_dir, the Workload
//!   API socket, a stderr log), attested with a fresh join token and started by waiting for its
//!   one stdout line `lanyard-agent listening socket=<path> health=<addr>`. It can be killed with
//!   SIGKILL, stopped with SIGTERM and restarted on the same data_dir without a token. Its trust
//!   domain is its server's ([`Server::trust_domain`]).
//! - The agent reaches the server through a [`Relay`] (a TCP forwarder in the test) because
//!   [`Server`] restarts on a new port (`127.0.0.1:0`) while an agent's `server_address` is fixed
//!   for its lifetime: [`Agent::follow`] points the relay at the restarted server, which to the
//!   agent looks like its server coming back at the same address. [`Agent::start_of`] starts an
//!   agent of several servers instead, which it reaches directly at the addresses given.
//! - [`Agent::wait_readiness`]: polls `GET /ready` until it reports a status (a guarded await:
//!   the agent publishes no event a test could subscribe to).

use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lanyard_test_support::process::{AgentFiles, ProcessError};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::harness::{PATIENCE, Running, Server, await_event, bin, http_get};

/// A TCP forwarder from a fixed local port to a target that can change, which can also cut
/// the agent off (a network outage the server does not see coming).
pub(crate) struct Relay {
    /// Where the relay listens.
    pub(crate) addr: SocketAddr,
    target: Arc<Mutex<SocketAddr>>,
    links: Arc<Mutex<Links>>,
    task: JoinHandle<()>,
}

/// The relay's forwarding connections, and whether it forwards at all.
#[derive(Default)]
struct Links {
    cut: bool,
    open: Vec<tokio::task::AbortHandle>,
    /// When the first connection after [`Relay::restore`] arrived.
    first_after_restore: Option<tokio::time::Instant>,
}

impl Relay {
    /// Listens on 127.0.0.1:0 and forwards every connection to `target`.
    pub(crate) async fn start(target: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let target = Arc::new(Mutex::new(target));
        let to = Arc::clone(&target);
        let links = Arc::new(Mutex::new(Links::default()));
        let tracked = Arc::clone(&links);
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = *to.lock().unwrap();
                let mut links = tracked.lock().unwrap();
                if links.cut {
                    // Cut off: the connection is dropped as it arrives.
                    continue;
                }
                links
                    .first_after_restore
                    .get_or_insert_with(tokio::time::Instant::now);
                links.open.retain(|h| !h.is_finished());
                let forward = tokio::spawn(async move {
                    // A refused upstream (server down) drops the inbound connection: the agent
                    // sees what it would see without the relay, a failed connection.
                    if let Ok(mut upstream) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut upstream).await;
                    }
                });
                links.open.push(forward.abort_handle());
            }
        });
        Relay {
            addr,
            target,
            links,
            task,
        }
    }

    /// Drops every forwarded connection and every new one until [`Relay::restore`].
    pub(crate) fn cut(&self) {
        let mut links = self.links.lock().unwrap();
        links.cut = true;
        for h in links.open.drain(..) {
            h.abort();
        }
    }

    /// Forwards again; [`Relay::reconnected_at`] records the first connection from now on.
    pub(crate) fn restore(&self) {
        let mut links = self.links.lock().unwrap();
        links.cut = false;
        links.first_after_restore = None;
    }

    /// When the first connection since the last [`Relay::restore`] arrived, if one has.
    pub(crate) fn reconnected_at(&self) -> Option<tokio::time::Instant> {
        self.links.lock().unwrap().first_after_restore
    }

    /// Forwards new connections to `target` from now on.
    pub(crate) fn retarget(&self, target: SocketAddr) {
        *self.target.lock().unwrap() = target;
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A `lanyard-agent run` process and the directory it keeps across restarts.
pub(crate) struct Agent {
    /// The agent's SPIFFE ID, as `token generate` announced it.
    pub(crate) id: String,
    /// The Workload API socket.
    pub(crate) socket: PathBuf,
    /// The health endpoint of the current process.
    pub(crate) health_addr: SocketAddr,
    files: AgentFiles,
    child: Running,
    /// `None` for an agent that reaches its servers directly ([`Agent::start_of`]).
    relay: Option<Relay>,
    _dir: tempfile::TempDir,
}

impl Agent {
    /// Writes agent.toml (trust bundle from `bundle show --format pem`, the server reached
    /// through a [`Relay`]) into a fresh tempdir and starts the agent with a new join token.
    pub(crate) async fn start(server: &Server) -> Agent {
        let (token, id, _) = server.token(&[]).await;
        Agent::start_with(server, id, Some(token), |_| String::new()).await
    }

    /// [`Agent::start`] with more TOML in agent.toml, as [`Agent::start_with`] takes it: an
    /// agent of `server`'s trust domain, whatever that is (`pay.example` beside
    /// `orders.example` in the federation tests).
    pub(crate) async fn start_in(server: &Server, extra: impl FnOnce(&Path) -> String) -> Agent {
        let (token, id, _) = server.token(&[]).await;
        Agent::start_with(server, id, Some(token), extra).await
    }

    /// [`Agent::start`] with the agent's expected `id`, an optional join token, and more TOML in
    /// agent.toml after the top-level keys (so it may set top-level keys, then tables; `extra`
    /// gets the tempdir, for files the config names).
    pub(crate) async fn start_with(
        server: &Server,
        id: String,
        token: Option<String>,
        extra: impl FnOnce(&Path) -> String,
    ) -> Agent {
        Agent::try_start_with(server, id, token, extra)
            .await
            .unwrap_or_else(|why| panic!("{why}"))
    }

    /// [`Agent::start_with`] for an agent that may refuse to start: `Err` holds how it exited
    /// and its log.
    pub(crate) async fn try_start_with(
        server: &Server,
        id: String,
        token: Option<String>,
        extra: impl FnOnce(&Path) -> String,
    ) -> Result<Agent, String> {
        let bundle = server.bundle_pem().await;
        Agent::try_start_trusting(server, id, token, &bundle, extra).await
    }

    /// [`Agent::try_start_with`] with `bundle_pem` in the `trust_bundle_path` file instead of
    /// what `bundle show` prints now (e.g. the bootstrap ConfigMap's content).
    pub(crate) async fn try_start_trusting(
        server: &Server,
        id: String,
        token: Option<String>,
        bundle_pem: &str,
        extra: impl FnOnce(&Path) -> String,
    ) -> Result<Agent, String> {
        let relay = Relay::start(server.agent_addr).await;
        let addresses = [relay.addr.to_string()];
        let td = server.trust_domain();
        Agent::launch(td, id, token, Some(relay), &addresses, bundle_pem, extra).await
    }

    /// An agent of several servers, which it reaches directly: `server_address` lists
    /// `addresses` (`host:port`, a TOML array) in order. Attested with a new join token of
    /// `server`, with `extra` as in [`Agent::start_with`].
    pub(crate) async fn start_of(
        server: &Server,
        addresses: &[String],
        extra: impl FnOnce(&Path) -> String,
    ) -> Agent {
        let (token, id, _) = server.token(&[]).await;
        let bundle = server.bundle_pem().await;
        let td = server.trust_domain();
        Agent::launch(td, id, Some(token), None, addresses, &bundle, extra)
            .await
            .unwrap_or_else(|why| panic!("{why}"))
    }

    /// Writes the files of an agent of `trust_domain` (`bundle_pem` as the trust bundle) into a
    /// fresh tempdir and starts the agent.
    async fn launch(
        trust_domain: &str,
        id: String,
        token: Option<String>,
        relay: Option<Relay>,
        addresses: &[String],
        bundle_pem: &str,
        extra: impl FnOnce(&Path) -> String,
    ) -> Result<Agent, String> {
        let dir = tempfile::tempdir().unwrap();
        let extra = extra(dir.path());
        // Workloads of other uids must reach the socket inside (tempdirs are 0700).
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let files =
            AgentFiles::write_in(dir.path(), trust_domain, addresses, bundle_pem, &extra).unwrap();
        let mut agent = Agent {
            id,
            socket: files.socket.clone(),
            health_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            files,
            child: Running::new("the agent"),
            relay,
            _dir: dir,
        };
        agent.spawn(token.as_deref()).await?;
        Ok(agent)
    }

    /// The relay between the agent and its server.
    pub(crate) fn relay(&self) -> &Relay {
        self.relay
            .as_ref()
            .expect("this agent reaches its servers directly, without a relay")
    }

    /// The socket as `SPIFFE_ENDPOINT_SOCKET` names it: `unix:///...`.
    pub(crate) fn endpoint(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// Points the agent's server address at `server`'s current agent API (after a restart).
    pub(crate) fn follow(&self, server: &Server) {
        self.relay().retarget(server.agent_addr);
    }

    /// Starts the process on the same config and data_dir, with `token` if given.
    async fn spawn(&mut self, token: Option<&str>) -> Result<(), String> {
        let mut cmd = Command::new(bin("lanyard-agent"));
        cmd.arg("run").arg("--config").arg(&self.files.config);
        if let Some(token) = token {
            cmd.args(["--join-token", token]);
        }
        let listening = self
            .child
            .start(cmd, &self.files.log, "lanyard-agent listening ");
        let line = match listening.await {
            Ok(line) => line,
            Err(ProcessError::Exited { status, log, .. }) => {
                return Err(format!(
                    "lanyard-agent exited before it listened ({status}):\n{log}"
                ));
            }
            Err(e) => panic!("{e}"),
        };
        for field in line.split_whitespace() {
            match field.split_once('=') {
                Some(("socket", s)) => assert_eq!(Path::new(s), self.socket, "{line}"),
                Some(("health", a)) => self.health_addr = a.parse().unwrap(),
                _ => {}
            }
        }
        assert_ne!(self.health_addr.port(), 0, "{line}");
        Ok(())
    }

    /// Stops the agent with SIGTERM (asserting a clean exit) and starts it again on the same
    /// data_dir without a join token.
    pub(crate) async fn restart(&mut self) {
        self.child.stop_clean().await;
        self.spawn(None).await.unwrap_or_else(|why| panic!("{why}"));
    }

    /// Starts the agent again (after [`Agent::stop`]) on its data_dir, without a token.
    pub(crate) async fn start_again(&mut self) {
        self.spawn(None).await.unwrap_or_else(|why| panic!("{why}"));
    }

    /// Starts the agent again on the same data_dir (after [`Agent::stop`]), with `token` if
    /// given; `Err` holds how it exited and its log if it never listened.
    pub(crate) async fn try_start_again(&mut self, token: Option<&str>) -> Result<(), String> {
        self.spawn(token).await
    }

    /// The agent's data_dir (its SVID, key and bundle).
    pub(crate) fn data_dir(&self) -> PathBuf {
        self.files.data_dir.clone()
    }

    /// The agent's admin socket (`[admin] socket_path`).
    pub(crate) fn admin_socket(&self) -> PathBuf {
        self.files.admin_socket.clone()
    }

    /// The trust bundle file agent.toml names (`trust_bundle_path`).
    pub(crate) fn trust_bundle_path(&self) -> PathBuf {
        self.files.bundle.clone()
    }

    /// Everything the agent has logged so far (all runs).
    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.files.log).unwrap_or_default()
    }

    /// `GET /ready`: the `status` of its JSON body (`starting`, `ready`, `degraded`, ...) and
    /// the whole body.
    pub(crate) async fn readiness(&self) -> (String, String) {
        let resp = http_get(self.health_addr, "/ready").await;
        let body = resp
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        let status = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v["status"].as_str().map(str::to_owned))
            .unwrap_or_default();
        (status, body)
    }

    /// Polls `GET /ready` until its status is `want`; panics with the log after [`PATIENCE`].
    pub(crate) async fn wait_readiness(&self, want: &str) -> String {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let (status, body) = self.readiness().await;
            if status == want {
                return body;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "/ready still says {body} after {PATIENCE:?}, expected {want:?}:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits at most [`PATIENCE`] for an event saying `message` for which `also` holds, in the
    /// log of an agent started with `log_format = "json"`; returns it.
    pub(crate) async fn logged(&self, message: &str, also: impl Fn(&Value) -> bool) -> Value {
        let what = format!("the agent's {message:?}");
        let found = |e: &Value| e["message"] == message && also(e);
        await_event(&what, PATIENCE, || self.log_text(), found).await
    }

    /// Waits until the agent has synced with the server (`/ready` says `ready`).
    pub(crate) async fn wait_ready(&self) {
        self.wait_readiness("ready").await;
    }
}

impl Deref for Agent {
    type Target = Running;

    fn deref(&self) -> &Running {
        &self.child
    }
}

impl DerefMut for Agent {
    fn deref_mut(&mut self) -> &mut Running {
        &mut self.child
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        // Before the relay and the directory go.
        self.kill9();
    }
}

/// `entry create --output json` for `spiffe_id` under `parent_id`, selecting `unix:uid:<uid>`,
/// with extra flags; returns the entry's ID.
pub(crate) async fn create_uid_entry(
    server: &Server,
    spiffe_id: &str,
    parent_id: &str,
    uid: u32,
    extra: &[&str],
) -> String {
    let selector = format!("unix:uid:{uid}");
    let mut args = vec![
        "entry",
        "create",
        "--spiffe-id",
        spiffe_id,
        "--parent-id",
        parent_id,
        "--selector",
        &selector,
        "--output",
        "json",
    ];
    args.extend_from_slice(extra);
    let entry = server.cli(&args).await.json();
    entry["id"].as_str().unwrap().to_owned()
}

/// The uid of this test process: the workload the Rust clients in the tests are.
pub(crate) fn my_uid() -> u32 {
    nix::unistd::getuid().as_raw()
}
