//! Real `lanyard-server` and `lanyard-agent` processes, each in a tempdir of its own, and what
//! `/proc` says about them (CPU time, resident memory).
//!
//! The processes are `lanyard_test_support::process`'s, as the end-to-end tests start them. The
//! binaries are the workspace's own, built by [`Bins::locate`] as they ship
//! (`cargo build --bins -p lanyard-server -p lanyard-agent`) with the bench's cargo profile, so a
//! release bench measures release binaries; CI passes `--bin-dir` with the test suite's.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use lanyard_test_support::process::{AgentFiles, Build, Process, ServerFiles, build_binaries};
use tempfile::TempDir;

/// How long a process may take to print its ready line, or to exit after SIGTERM.
const STARTUP: Duration = Duration::from_secs(30);

/// The paths of the two binaries.
#[derive(Debug, Clone)]
pub(crate) struct Bins {
    server: PathBuf,
    agent: PathBuf,
    /// The cargo profile they were built with (`release`, `dev`), or `prebuilt`.
    pub(crate) profile: String,
}

impl Bins {
    /// The binaries in `dir` as they are, or (without `dir`) built now as they ship into the
    /// target directory and profile this bench binary was built with.
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
        eprintln!("building lanyard-server and lanyard-agent ...");
        let dir = build_binaries(&exe, Build::Shipped)
            .context("or pass --bin-dir with prebuilt binaries")?;
        let profile = match dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => "dev",
            Some(other) => other,
        };
        Ok(Bins {
            server: dir.join("lanyard-server"),
            agent: dir.join("lanyard-agent"),
            profile: profile.to_owned(),
        })
    }
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
    files: ServerFiles,
    child: Process,
    dir: TempDir,
}

impl Server {
    /// Writes server.toml into a fresh tempdir and starts the server.
    pub(crate) async fn start(bins: &Bins) -> Result<Server> {
        let dir = tempfile::tempdir()?;
        let files = ServerFiles::write(dir.path(), "")?;
        let (child, agent_addr) = Self::spawn(&bins.server, &files).await?;
        Ok(Server {
            agent_addr,
            socket: files.socket.clone(),
            bin: bins.server.clone(),
            files,
            child,
            dir,
        })
    }

    /// `lanyard-server run --config <config>` until it prints its ready line (datastore open,
    /// CA loaded, every entry in its cache, listening); the child and its agent API address.
    async fn spawn(bin: &Path, files: &ServerFiles) -> Result<(Process, SocketAddr)> {
        let mut cmd = Command::new(bin);
        cmd.arg("run").arg("--config").arg(&files.config);
        let (child, line) =
            Process::start(cmd, &files.log, "lanyard-server ready ", STARTUP).await?;
        Ok((child, field(&line, "agent_api")?.parse()?))
    }

    /// Stops the server as an operator's restart does (SIGTERM, then waits for it to exit) and
    /// starts it again on the same data: returns how long the new process took from spawn to
    /// ready. The agent API address changes (port 0).
    pub(crate) async fn restart(&mut self) -> Result<Duration> {
        self.child.stop_within(STARTUP).await?;
        // The log of the first run is kept next to the new one.
        std::fs::rename(&self.files.log, self.dir.path().join("server.1.log"))?;
        let started = std::time::Instant::now();
        let (child, agent_addr) = Self::spawn(&self.bin, &self.files).await?;
        let ready = started.elapsed();
        self.child = child;
        self.agent_addr = agent_addr;
        Ok(ready)
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.pid()
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

/// A `lanyard-agent run` process attesting to a [`Server`] with a join token.
pub(crate) struct Agent {
    /// The Workload API socket.
    pub(crate) socket: PathBuf,
    child: Process,
    _dir: TempDir,
}

impl Agent {
    /// Writes agent.toml (the deploy/conf defaults but paths in a tempdir) and starts the agent
    /// with `token`; returns once it listens on its Workload API socket.
    pub(crate) async fn start(bins: &Bins, server: &Server, token: &str) -> Result<Agent> {
        let dir = tempfile::tempdir()?;
        // The node's streams and the bench's clients are all one uid here, unlike workloads
        // on a real node: the per-uid share is the total, so the bench measures the cost of a
        // connection, not the share.
        let files = AgentFiles::write(
            dir.path(),
            server.agent_addr,
            &server.bundle_pem().await?,
            "[workload_api]\nmax_connections_per_uid = 4096\n",
        )?;
        let mut cmd = Command::new(&bins.agent);
        cmd.arg("run")
            .arg("--config")
            .arg(&files.config)
            .args(["--join-token", token]);
        let (child, _line) =
            Process::start(cmd, &files.log, "lanyard-agent listening ", STARTUP).await?;
        Ok(Agent {
            socket: files.socket,
            child,
            _dir: dir,
        })
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.pid()
    }

    /// The end of the agent's log, for error messages.
    pub(crate) fn log_tail(&self) -> String {
        self.child.log_tail()
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
