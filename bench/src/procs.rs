//! Real `lanyard-server` and `lanyard-agent` processes, each in a tempdir of its own, and what
//! `/proc` says about them (CPU time, resident memory).
//!
//! The binaries are the workspace's own, built by [`Bins::locate`] with the bench's cargo
//! profile (as `tests/e2e/harness.rs` does), so a release bench measures release binaries.

use std::fs::File;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use tempfile::TempDir;

/// How long a process may take to print its ready line.
const STARTUP: Duration = Duration::from_secs(30);

/// Variables the binaries read that must not leak in from the caller's environment.
const ENV: &[&str] = &[
    "LANYARD_SERVER_CONFIG",
    "LANYARD_SERVER_SOCKET_PATH",
    "LANYARD_SERVER_BIND_ADDRESS",
    "LANYARD_SERVER_DATA_DIR",
    "LANYARD_DATASTORE_URL",
    "LANYARD_SERVER_HEALTH_ADDRESS",
    "LANYARD_LOG_LEVEL",
    "LANYARD_AGENT_CONFIG",
    "LANYARD_JOIN_TOKEN",
    "SPIFFE_ENDPOINT_SOCKET",
];

/// The paths of the two binaries.
#[derive(Debug, Clone)]
pub(crate) struct Bins {
    server: PathBuf,
    agent: PathBuf,
    /// The cargo profile they were built with (`release`, `dev`), or `prebuilt`.
    pub(crate) profile: String,
}

impl Bins {
    /// The binaries in `dir` as they are, or (without `dir`) built now with
    /// `cargo build --bins -p lanyard-server -p lanyard-agent` into the target directory and
    /// profile this bench binary was built with.
    pub(crate) fn locate(dir: Option<&Path>) -> Result<Bins> {
        if let Some(dir) = dir {
            let bins = Bins {
                server: dir.join("lanyard-server"),
                agent: dir.join("lanyard-agent"),
                profile: "prebuilt".to_owned(),
            };
            for b in [&bins.server, &bins.agent] {
                if !b.is_file() {
                    bail!("{} does not exist", b.display());
                }
            }
            return Ok(bins);
        }
        let exe = std::env::current_exe().context("current_exe")?;
        let profile_dir = exe
            .parent()
            .ok_or_else(|| anyhow!("{} has no parent", exe.display()))?;
        let target_dir = profile_dir
            .parent()
            .ok_or_else(|| anyhow!("{} is not in <target>/<profile>", exe.display()))?;
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => "dev",
            Some(other) => other,
        };
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        eprintln!("building lanyard-server and lanyard-agent (profile {profile}) ...");
        let status = Command::new(cargo)
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
            .status()
            .context("cannot run cargo (or pass --bin-dir with prebuilt binaries)")?;
        if !status.success() {
            bail!("cargo build of lanyard-server and lanyard-agent failed ({status})");
        }
        Ok(Bins {
            server: profile_dir.join("lanyard-server"),
            agent: profile_dir.join("lanyard-agent"),
            profile: profile.to_owned(),
        })
    }
}

/// Starts `cmd` with stderr into `log` and waits for a stdout line starting with `prefix`;
/// returns the child and the rest of that line. Stdout is drained afterwards so the process never
/// blocks on a full pipe.
async fn spawn_until(
    mut cmd: Command,
    log: &Path,
    prefix: &'static str,
) -> Result<(Child, String)> {
    for v in ENV {
        cmd.env_remove(v);
    }
    let stderr = File::create(log).with_context(|| format!("create {}", log.display()))?;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .with_context(|| format!("spawn {cmd:?}"))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow!("no stdout pipe"))?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.strip_prefix(prefix)
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(rest.to_owned());
            }
        }
    });
    match tokio::time::timeout(STARTUP, rx).await {
        Ok(Ok(line)) => Ok((child, line)),
        other => {
            let _ = child.kill();
            let _ = child.wait();
            let why = if other.is_err() {
                "timed out"
            } else {
                "exited"
            };
            bail!(
                "{prefix}... never came ({why}); log {}:\n{}",
                log.display(),
                tail(log)
            )
        }
    }
}

/// The last lines of a log file, for error messages.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

fn field<'a>(line: &'a str, key: &str) -> Result<&'a str> {
    line.split_whitespace()
        .find_map(|f| f.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .ok_or_else(|| anyhow!("no {key}= in {line:?}"))
}

/// A `lanyard-server run` process (SQLite datastore, the default) on 127.0.0.1:0.
pub(crate) struct Server {
    /// The agent API (mTLS).
    pub(crate) agent_addr: SocketAddr,
    /// The admin socket.
    pub(crate) socket: PathBuf,
    bin: PathBuf,
    config: PathBuf,
    child: Child,
    dir: TempDir,
}

impl Server {
    /// Writes server.toml into a fresh tempdir and starts the server.
    pub(crate) async fn start(bins: &Bins) -> Result<Server> {
        let dir = tempfile::tempdir()?;
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
                 \n[health]\nbind_address = \"127.0.0.1:0\"\n",
                dir.path().join("data").display(),
                socket.display()
            ),
        )?;
        let (child, agent_addr) = Self::spawn(&bins.server, &config, dir.path()).await?;
        Ok(Server {
            agent_addr,
            socket,
            bin: bins.server.clone(),
            config,
            child,
            dir,
        })
    }

    /// `lanyard-server run --config <config>` until it prints its ready line (datastore open,
    /// CA loaded, every entry in its cache, listening); the child and its agent API address.
    async fn spawn(bin: &Path, config: &Path, dir: &Path) -> Result<(Child, SocketAddr)> {
        let mut cmd = Command::new(bin);
        cmd.arg("run").arg("--config").arg(config);
        let log = dir.join("server.log");
        let (child, line) = spawn_until(cmd, &log, "lanyard-server ready ").await?;
        Ok((child, field(&line, "agent_api")?.parse()?))
    }

    /// Stops the server as an operator's restart does (SIGTERM, then waits for it to exit) and
    /// starts it again on the same data: returns how long the new process took from spawn to
    /// ready. The agent API address changes (port 0).
    pub(crate) async fn restart(&mut self) -> Result<Duration> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .context("run kill")?;
        if !status.success() {
            bail!("kill -TERM {} failed", self.child.id());
        }
        let deadline = std::time::Instant::now() + STARTUP;
        while self.child.try_wait()?.is_none() {
            if std::time::Instant::now() > deadline {
                bail!("the server did not exit within {STARTUP:?} of SIGTERM");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // The log of the first run is kept next to the new one.
        let log = self.dir.path().join("server.log");
        std::fs::rename(&log, self.dir.path().join("server.1.log"))?;
        let started = std::time::Instant::now();
        let (child, agent_addr) = Self::spawn(&self.bin, &self.config, self.dir.path()).await?;
        let ready = started.elapsed();
        self.child = child;
        self.agent_addr = agent_addr;
        Ok(ready)
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `lanyard-server <args> --socket-path <socket>`: its stdout, or an error with everything
    /// it printed.
    pub(crate) async fn cli(&self, args: &[&str]) -> Result<String> {
        let out = tokio::process::Command::new(&self.bin)
            .args(args)
            .arg("--socket-path")
            .arg(&self.socket)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output()
            .await?;
        if !out.status.success() {
            bail!(
                "lanyard-server {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8(out.stdout)?)
    }

    /// `token generate --output json`: (token, the agent's SPIFFE ID).
    pub(crate) async fn join_token(&self) -> Result<(String, String)> {
        let out = self.cli(&["token", "generate", "--output", "json"]).await?;
        let v: serde_json::Value = serde_json::from_str(&out)?;
        let s = |k: &str| {
            v[k].as_str()
                .map(str::to_owned)
                .ok_or_else(|| anyhow!("no {k} in {out}"))
        };
        Ok((s("token")?, s("agent_spiffe_id")?))
    }

    /// `bundle show --format pem`: what an operator copies to a node.
    pub(crate) async fn bundle_pem(&self) -> Result<String> {
        self.cli(&["bundle", "show", "--format", "pem"]).await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `lanyard-agent run` process attesting to a [`Server`] with a join token.
pub(crate) struct Agent {
    /// The Workload API socket.
    pub(crate) socket: PathBuf,
    child: Child,
    log: PathBuf,
    _dir: TempDir,
}

impl Agent {
    /// Writes agent.toml (the deploy/conf defaults but paths in a tempdir) and starts the agent
    /// with `token`; returns once it listens on its Workload API socket.
    pub(crate) async fn start(bins: &Bins, server: &Server, token: &str) -> Result<Agent> {
        let dir = tempfile::tempdir()?;
        let bundle = dir.path().join("bundle.pem");
        std::fs::write(&bundle, server.bundle_pem().await?)?;
        let socket = dir.path().join("public").join("api.sock");
        let config = dir.path().join("agent.toml");
        std::fs::write(
            &config,
            format!(
                "trust_domain = \"example.org\"\n\
                 server_address = \"{}\"\n\
                 data_dir = \"{}\"\n\
                 socket_path = \"{}\"\n\
                 trust_bundle_path = \"{}\"\n\
                 log_level = \"info\"\n\
                 \n[health]\nbind_address = \"127.0.0.1:0\"\n\
                 \n[workload_api]\n\
                 # The node's streams and the bench's clients are all one uid here, unlike\n\
                 # workloads on a real node: the per-uid share is the total, so the bench measures\n\
                 # the cost of a connection, not the share.\n\
                 max_connections_per_uid = 4096\n",
                server.agent_addr,
                dir.path().join("data").display(),
                socket.display(),
                bundle.display(),
            ),
        )?;
        let mut cmd = Command::new(&bins.agent);
        cmd.arg("run")
            .arg("--config")
            .arg(&config)
            .args(["--join-token", token]);
        let log = dir.path().join("agent.log");
        let (child, _line) = spawn_until(cmd, &log, "lanyard-agent listening ").await?;
        Ok(Agent {
            socket,
            child,
            log,
            _dir: dir,
        })
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The end of the agent's log, for error messages.
    pub(crate) fn log_tail(&self) -> String {
        tail(&self.log)
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// User + system CPU seconds `pid` has used so far (all threads), from `/proc/<pid>/stat`.
pub(crate) fn cpu_seconds(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may hold spaces; the fields after it do not.
    let after = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| anyhow!("odd /proc/{pid}/stat"))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // proc(5): utime and stime are fields 14 and 15; `after` starts at field 3 (state).
    let ticks = |i: usize| -> Result<f64> {
        Ok(fields
            .get(i)
            .ok_or_else(|| anyhow!("short /proc/{pid}/stat"))?
            .parse::<f64>()?)
    };
    // USER_HZ, the unit of these fields, is 100 on every Linux ABI this runs on.
    Ok((ticks(11)? + ticks(12)?) / 100.0)
}

/// A `kB` line of `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in MiB.
pub(crate) fn status_mib(pid: u32, key: &str) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
        .and_then(|r| r.split_whitespace().next())
        .ok_or_else(|| anyhow!("no {key} in /proc/{pid}/status"))?
        .parse()?;
    Ok(kib / 1024.0)
}

/// On-CPU seconds of the live threads of `pid` (all of them, or those named `comm`), from
/// `/proc/<pid>/task/*/schedstat` (nanoseconds, so short windows measure well; threads that
/// have exited are not counted).
pub(crate) fn threads_cpu_seconds(pid: u32, comm: Option<&str>) -> Result<f64> {
    let mut ns: u64 = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let dir = task?.path();
        if let Some(comm) = comm {
            let name = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
            if name.trim_end() != comm {
                continue;
            }
        }
        // A thread may exit between read_dir and here.
        let Ok(stat) = std::fs::read_to_string(dir.join("schedstat")) else {
            continue;
        };
        ns += stat
            .split_whitespace()
            .next()
            .ok_or_else(|| anyhow!("empty {}/schedstat", dir.display()))?
            .parse::<u64>()?;
    }
    Ok(ns as f64 / 1e9)
}
