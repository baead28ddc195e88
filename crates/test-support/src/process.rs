//! Real `lanyard-server` and `lanyard-agent` processes for the end-to-end tests and the bench:
//! one way to build, start, await and stop them.
//!
//! - [`build_binaries`]: `cargo build` of the two binaries into the target directory and profile
//!   the calling executable was built in, with the feature set of the caller's [`Build`] (the
//!   test suite's, so that no crate is compiled twice, or the shipped one).
//! - [`ServerFiles`], [`AgentFiles`]: the config and paths of a server or an agent whose files
//!   all live in one directory, listening on 127.0.0.1:0, of trust domain `example.org` or of
//!   the one a test names (two federating trust domains on one machine).
//! - [`Process::start`]: spawns a command with stdin closed, stderr appended to a log file and
//!   the variables the binaries read ([`read_by_binaries`]) removed, then waits for the stdout line
//!   that starts with a ready prefix (stdout is drained afterwards, so the process never blocks
//!   on a full pipe). A process that exits first, or prints nothing within the patience it is
//!   given, is an error holding its log.
//! - [`Process::stop_within`]: SIGTERM and a bounded wait (SIGKILL after it); [`Process::kill9`]
//!   (also on drop); [`Process::wait_exit`] for a process that exits by itself. Each reaps the
//!   process; the pid stays readable.
//!
//! The API returns [`ProcessError`]: the tests panic with it, the bench returns it.

use std::fs::OpenOptions;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

mod files;
#[cfg(test)]
mod tests;

pub use files::{AgentFiles, DEFAULT_TRUST_DOMAIN, ServerFiles};

/// Variables the server and its CLI read that must not leak in from the caller's environment.
pub const SERVER_ENV: &[&str] = &[
    "LANYARD_SERVER_CONFIG",
    "LANYARD_SERVER_SOCKET_PATH",
    "LANYARD_SERVER_BIND_ADDRESS",
    "LANYARD_SERVER_DATA_DIR",
    "LANYARD_DATASTORE_URL",
    "LANYARD_SERVER_HEALTH_ADDRESS",
    "LANYARD_LOG_LEVEL",
];

/// Whether `lanyard-server` or `lanyard-agent` reads the variable `name`: one of [`SERVER_ENV`]
/// and [`AGENT_ENV`], or any with a binary's prefix (every config key has a variable there).
pub fn read_by_binaries(name: &str) -> bool {
    name.starts_with("LANYARD_SERVER_")
        || name.starts_with("LANYARD_AGENT_")
        || SERVER_ENV.contains(&name)
        || AGENT_ENV.contains(&name)
}

/// Variables the agent reads that must not leak in from the caller's environment.
pub const AGENT_ENV: &[&str] = &[
    "LANYARD_AGENT_CONFIG",
    "LANYARD_AGENT_SOCKET_PATH",
    "LANYARD_AGENT_SERVER_ADDRESS",
    "LANYARD_AGENT_DATA_DIR",
    "LANYARD_AGENT_HEALTH_ADDRESS",
    "LANYARD_LOG_LEVEL",
    "LANYARD_JOIN_TOKEN",
    "SPIFFE_ENDPOINT_SOCKET",
];

/// How many lines of a log an error message shows (the error holds all of it).
const TAIL_LINES: usize = 40;

/// What went wrong with a process; each variant that concerns a running process holds its log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessError {
    /// `cargo` could not be run, or the build failed.
    #[error("cargo build of lanyard-server and lanyard-agent failed: {0}")]
    Build(String),
    /// The log file could not be opened, or the program not started.
    #[error("cannot start {program}: {source}")]
    Spawn {
        /// The program (or log file) concerned.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// The process exited before it printed its ready line.
    #[error(
        "{name} exited before it was ready ({status}); last lines of its log:\n{}",
        tail(log)
    )]
    Exited {
        /// The binary's file name.
        name: String,
        /// How it exited.
        status: ExitStatus,
        /// Everything in its log file.
        log: String,
    },
    /// The process printed no ready line within the patience given; it was killed.
    #[error(
        "{name} not ready after {waited:?} (killed); last lines of its log:\n{}",
        tail(log)
    )]
    NotReady {
        /// The binary's file name.
        name: String,
        /// How long it was given.
        waited: Duration,
        /// Everything in its log file.
        log: String,
    },
    /// The process was still running when a bounded wait for its exit ended; it was killed.
    #[error(
        "{name} still running {waited:?} {after} (killed); last lines of its log:\n{}",
        tail(log)
    )]
    StillRunning {
        /// The binary's file name.
        name: String,
        /// How long the wait was.
        waited: Duration,
        /// What the wait followed: `after SIGTERM`, or `later` for a wait for a process's own
        /// exit.
        after: &'static str,
        /// Everything in its log file.
        log: String,
    },
    /// Signalling or waiting for the process failed.
    #[error("{name}: {what}: {source}")]
    Os {
        /// The binary's file name.
        name: String,
        /// The call that failed.
        what: &'static str,
        /// Why.
        source: std::io::Error,
    },
}

/// The last [`TAIL_LINES`] lines of `log`.
fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}

/// The feature set `cargo build` resolves the binaries with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// `cargo build --workspace --tests --bin lanyard-server --bin lanyard-agent`: exactly the
    /// units `cargo test --workspace` builds (dev-dependencies unify features such as nix's
    /// `signal`), so after the test build this only links the two binaries, and a test build
    /// after it compiles nothing again.
    TestSuite,
    /// `cargo build --bins -p lanyard-server -p lanyard-agent`: the binaries as they ship (what
    /// a release bench should measure).
    Shipped,
}

/// Builds `lanyard-server` and `lanyard-agent` with the cargo, profile and target directory
/// `exe` (the calling test or bench executable, in `<target>/<profile>/` or its `deps/`) was
/// built with, so they are never stale; returns `<target>/<profile>`, the directory holding
/// them. Concurrent callers are serialized by cargo's own build-directory lock.
pub fn build_binaries(exe: &Path, build: Build) -> Result<PathBuf, ProcessError> {
    let mut profile_dir = exe
        .parent()
        .ok_or_else(|| ProcessError::Build(format!("{} has no parent", exe.display())))?;
    if profile_dir.file_name().is_some_and(|n| n == "deps") {
        profile_dir = profile_dir.parent().unwrap_or(profile_dir);
    }
    let target_dir = profile_dir.parent().ok_or_else(|| {
        ProcessError::Build(format!("{} is not in <target>/<profile>", exe.display()))
    })?;
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev",
        Some(other) => other,
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--quiet"]);
    match build {
        Build::TestSuite => cmd.args(["--workspace", "--tests"]).args([
            "--bin",
            "lanyard-server",
            "--bin",
            "lanyard-agent",
        ]),
        Build::Shipped => cmd.args(["--bins", "-p", "lanyard-server", "-p", "lanyard-agent"]),
    };
    // What cargo sets for the test process that calls this (`CARGO_PKG_NAME`,
    // `CARGO_MANIFEST_DIR`, ...) is not the caller's configuration. Build scripts list some of
    // these in `rerun-if-env-changed` (ring does), and cargo compares them with its own
    // environment: passed on, they would make this build differ from the `cargo test` build that
    // started the caller, and from a build in a clean environment (the container image test's),
    // and compile ring and everything above it again each time.
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(set_by_cargo_for_tests) {
            cmd.env_remove(key);
        }
    }
    let out = cmd
        .args(["--profile", profile, "--manifest-path"])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", target_dir)
        .output()
        .map_err(|e| ProcessError::Build(format!("cannot run cargo: {e}")))?;
    if !out.status.success() {
        return Err(ProcessError::Build(format!(
            "{}:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(profile_dir.to_path_buf())
}

/// Whether `var` is one cargo sets for the crate it runs (a test) rather than one a person set:
/// <https://doc.rust-lang.org/cargo/reference/environment-variables.html#environment-variables-cargo-sets-for-crates>.
fn set_by_cargo_for_tests(var: &str) -> bool {
    var.starts_with("CARGO_PKG_")
        || var.starts_with("CARGO_MANIFEST_")
        || [
            "CARGO_CRATE_NAME",
            "CARGO_BIN_NAME",
            "CARGO_PRIMARY_PACKAGE",
            "CARGO_TARGET_TMPDIR",
            "CARGO_RUSTC_CURRENT_DIR",
            "OUT_DIR",
        ]
        .contains(&var)
}

/// A running child process, its name and its log file; killed with SIGKILL when dropped.
#[derive(Debug)]
pub struct Process {
    name: String,
    log: PathBuf,
    /// `None` once reaped (or handed to a waiting thread).
    child: Option<Child>,
    pid: u32,
}

impl Process {
    /// Starts `cmd` with stdin closed, stderr appended to `log` (created if need be) and the
    /// variables the binaries read ([`read_by_binaries`]) removed, and waits at most `patience` for
    /// a stdout line starting with `ready`: returns the process and the rest of that line.
    pub async fn start(
        mut cmd: Command,
        log: &Path,
        ready: &str,
        patience: Duration,
    ) -> Result<(Process, String), ProcessError> {
        let name = Path::new(cmd.get_program())
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        for v in SERVER_ENV.iter().chain(AGENT_ENV) {
            cmd.env_remove(v);
        }
        for (v, _) in std::env::vars_os() {
            if v.to_str().is_some_and(read_by_binaries) {
                cmd.env_remove(v);
            }
        }
        let stderr = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|source| ProcessError::Spawn {
                program: log.display().to_string(),
                source,
            })?;
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|source| ProcessError::Spawn {
                program: format!("{cmd:?}"),
                source,
            })?;
        let stdout = child.stdout.take();
        let mut process = Process {
            name,
            log: log.to_owned(),
            pid: child.id(),
            child: Some(child),
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        let ready = ready.to_owned();
        // Reads the ready line, then drains stdout; the sender drops (and `rx` fails) at EOF.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in stdout.into_iter().flat_map(|s| BufReader::new(s).lines()) {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix(&ready)
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(rest.to_owned());
                }
            }
        });
        match tokio::time::timeout(patience, rx).await {
            Ok(Ok(line)) => Ok((process, line)),
            Ok(Err(_)) => {
                let status = process.reap()?;
                Err(ProcessError::Exited {
                    name: process.name.clone(),
                    status,
                    log: process.log_text(),
                })
            }
            Err(_) => {
                process.kill9();
                Err(ProcessError::NotReady {
                    name: process.name.clone(),
                    waited: patience,
                    log: process.log_text(),
                })
            }
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The log file stderr goes to.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Everything in the log file so far (all runs that appended to it).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last lines of the log file, for error messages.
    pub fn log_tail(&self) -> String {
        tail(&self.log_text())
    }

    /// `kill -9` and reap: no chance to flush or clean up.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            // `Child::kill` sends SIGKILL.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits at most `limit` for the exit; returns its status and how long it
    /// took. After `limit` the process is killed and the error holds its log.
    pub async fn stop_within(
        &mut self,
        limit: Duration,
    ) -> Result<(ExitStatus, Duration), ProcessError> {
        let started = Instant::now();
        self.signal(Signal::SIGTERM, "kill -TERM")?;
        let status = self.wait_within(limit, "after SIGTERM").await?;
        Ok((status, started.elapsed()))
    }

    /// Waits at most `limit` for the process to exit by itself; after it, the process is
    /// killed and the error holds its log.
    pub async fn wait_exit(&mut self, limit: Duration) -> Result<ExitStatus, ProcessError> {
        self.wait_within(limit, "later").await
    }

    /// Waits for the exit on a thread of its own (`waitpid` blocks), at most `limit`, then
    /// SIGKILL; `after` says what the wait followed, for the error.
    async fn wait_within(
        &mut self,
        limit: Duration,
        after: &'static str,
    ) -> Result<ExitStatus, ProcessError> {
        let Some(mut child) = self.child.take() else {
            return Err(self.os_error("wait", std::io::ErrorKind::NotFound.into()));
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        match tokio::time::timeout(limit, rx).await {
            Ok(Ok(Ok(status))) => Ok(status),
            Ok(Ok(Err(e))) => Err(self.os_error("wait", e)),
            Ok(Err(_)) => Err(self.os_error("wait", std::io::ErrorKind::Interrupted.into())),
            Err(_) => {
                // Not reaped yet (the waiting thread holds it), so the pid is still ours; the
                // thread reaps it once killed.
                let _ = self.signal(Signal::SIGKILL, "kill -KILL");
                Err(ProcessError::StillRunning {
                    name: self.name.clone(),
                    waited: limit,
                    after,
                    log: self.log_text(),
                })
            }
        }
    }

    /// Reaps a process that has exited (or is exiting).
    fn reap(&mut self) -> Result<ExitStatus, ProcessError> {
        let Some(mut child) = self.child.take() else {
            return Err(self.os_error("wait", std::io::ErrorKind::NotFound.into()));
        };
        child.wait().map_err(|e| self.os_error("wait", e))
    }

    fn signal(&self, signal: Signal, what: &'static str) -> Result<(), ProcessError> {
        let pid = i32::try_from(self.pid)
            .map_err(|_| self.os_error(what, std::io::ErrorKind::InvalidInput.into()))?;
        kill(Pid::from_raw(pid), signal).map_err(|e| self.os_error(what, e.into()))
    }

    fn os_error(&self, what: &'static str, source: std::io::Error) -> ProcessError {
        ProcessError::Os {
            name: self.name.clone(),
            what,
            source,
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill9();
    }
}
