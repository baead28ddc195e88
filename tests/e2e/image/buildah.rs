//! buildah as the image test drives it: vfs storage in a tempdir of its own, every command
//! bounded in time and run in a process group of its own (killed whole if it outlives its
//! patience: a `buildah run` leaves its container's process behind otherwise), and the two base
//! images the test makes because it has no registry to pull from.

use std::collections::BTreeSet;
use std::os::unix::fs::{PermissionsExt as _, symlink};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use lanyard_test_support::process::{Process, ProcessError};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::Value;

/// How long a buildah command other than a build may take: it copies whole images (vfs) while
/// the rest of the suite runs.
pub(super) const PATIENCE: Duration = Duration::from_secs(60);

/// An empty buildah store in a tempdir (`--root`, `--runroot`, vfs: no overlay mounts, so it
/// works in any container and needs no cleanup but its directory).
pub(super) struct Buildah {
    storage: tempfile::TempDir,
}

impl Buildah {
    /// A fresh store; `None` (after saying why) where buildah cannot run: not installed, or not
    /// root (chroot isolation needs it). In CI (`CI` set) that is a failure instead, so a
    /// missing install cannot pass as a green run.
    pub(super) fn new() -> Option<Buildah> {
        let why = match Command::new("buildah").arg("--version").output() {
            Ok(out) if out.status.success() && nix::unistd::geteuid().is_root() => None,
            Ok(out) if out.status.success() => Some(
                "buildah's chroot isolation needs root, and this test runs as uid ".to_owned()
                    + &nix::unistd::geteuid().to_string(),
            ),
            Ok(out) => panic!(
                "`buildah --version` failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(
                "buildah is not on the PATH (install it: `apt-get install buildah`; .ci/run does)"
                    .to_owned(),
            ),
            Err(e) => panic!("cannot run buildah: {e}"),
        };
        if let Some(why) = why {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must build the container images, but {why}"
            );
            eprintln!("SKIPPED: the container images were neither built nor run: {why}.");
            return None;
        }
        Some(Buildah {
            storage: tempfile::tempdir().unwrap(),
        })
    }

    /// `buildah` with this store's options, in a process group of its own.
    pub(super) fn command(&self) -> Command {
        let mut cmd = Command::new("buildah");
        cmd.arg("--root")
            .arg(self.storage.path().join("root"))
            .arg("--runroot")
            .arg(self.storage.path().join("runroot"))
            .args(["--storage-driver", "vfs"])
            .process_group(0);
        cmd
    }

    /// Runs `cmd` (from [`Buildah::command`]) to its end within `patience`; panics with what it
    /// printed unless it succeeds. Returns its stdout and its stderr.
    pub(super) async fn output(&self, cmd: Command, patience: Duration) -> (String, String) {
        let what = format!("{cmd:?}");
        let out = run_group(cmd, patience)
            .await
            .unwrap_or_else(|| panic!("{what} still running after {patience:?} (killed)"))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "{what} failed ({}):\n--- stdout\n{stdout}--- stderr\n{stderr}",
            out.status
        );
        (stdout, stderr)
    }

    /// `buildah <args>`, bounded by [`PATIENCE`]; returns its stdout, trimmed.
    pub(super) async fn run(&self, args: &[&str]) -> String {
        let mut cmd = self.command();
        cmd.args(args);
        self.output(cmd, PATIENCE).await.0.trim().to_owned()
    }

    /// A new working container from `image` (`scratch` for an empty one) and the directory of
    /// its root filesystem (vfs: a plain directory, nothing mounted).
    pub(super) async fn container(&self, image: &str) -> (String, PathBuf) {
        let name = self.run(&["from", "--pull=never", image]).await;
        let root = PathBuf::from(self.run(&["mount", &name]).await);
        (name, root)
    }

    /// The configuration of `image` (`buildah inspect`'s `OCIv1.config`).
    pub(super) async fn image_config(&self, image: &str) -> Value {
        let out = self.run(&["inspect", "--type", "image", image]).await;
        let v: Value = serde_json::from_str(&out).unwrap();
        v["OCIv1"]["config"].clone()
    }

    /// Starts `buildah run --isolation chroot` of `argv` in `container` with `volumes` mounted
    /// at their own paths, waiting for a stdout line starting with `ready`: the process (see
    /// [`Contained`]) and the rest of that line. chroot isolation shares the host's network and
    /// PID namespace, as the agent's DaemonSet does (hostNetwork, hostPID).
    pub(super) async fn start(
        &self,
        container: &str,
        volumes: &[&Path],
        argv: &[String],
        log: &Path,
        ready: &str,
    ) -> Result<(Contained, String), ProcessError> {
        let cmd = self.run_command(container, volumes, argv);
        let (process, line) = Process::start(cmd, log, ready, PATIENCE).await?;
        let group = Pid::from_raw(process.pid() as i32);
        Ok((
            Contained {
                process: Some(process),
                group,
            },
            line,
        ))
    }

    /// `buildah run --isolation chroot` of `argv` in `container` with `volumes`, to its end;
    /// returns what it printed on stdout.
    pub(super) async fn exec(&self, container: &str, volumes: &[&Path], argv: &[String]) -> String {
        let cmd = self.run_command(container, volumes, argv);
        self.output(cmd, PATIENCE).await.0
    }

    fn run_command(&self, container: &str, volumes: &[&Path], argv: &[String]) -> Command {
        let mut cmd = self.command();
        cmd.args(["run", "--isolation", "chroot"]);
        for v in volumes {
            cmd.arg("--volume").arg(format!("{0}:{0}", v.display()));
        }
        cmd.arg(container).arg("--").args(argv);
        cmd
    }

    /// Commits `container` as `image`.
    pub(super) async fn commit(&self, container: &str, image: &str) {
        self.run(&["commit", "--quiet", container, image]).await;
    }
}

impl Drop for Buildah {
    fn drop(&mut self) {
        // Deleting a directory with something mounted below it would delete what is mounted.
        // vfs mounts nothing and `buildah run` mounts in a namespace of its own; should that
        // ever change, the store is left behind rather than the host's files deleted.
        let root = self.storage.path().to_string_lossy().into_owned();
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        if mounts
            .lines()
            .any(|l| l.split(' ').nth(4).is_some_and(|at| at.starts_with(&root)))
        {
            eprintln!("leaving {root} behind: something is mounted below it");
            self.storage.disable_cleanup(true);
        }
    }
}

/// A process started by `buildah run` (buildah, its chroot helper and the image's binary, one
/// process group): SIGKILLed whole when dropped.
pub(super) struct Contained {
    process: Option<Process>,
    group: Pid,
}

impl Contained {
    /// SIGTERM to the whole group (the image's binary gets it as from a container runtime),
    /// a wait of at most [`PATIENCE`] for buildah's exit, then SIGKILL to what is left.
    pub(super) async fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = killpg(self.group, Signal::SIGTERM);
            let _ = process.wait_exit(PATIENCE).await;
            let _ = killpg(self.group, Signal::SIGKILL);
        }
    }
}

impl Drop for Contained {
    fn drop(&mut self) {
        if let Some(process) = self.process.take() {
            // The leader is not reaped yet, so the group ID is still this group's.
            let _ = killpg(self.group, Signal::SIGKILL);
            drop(process);
        }
    }
}

/// Runs `cmd` (in a process group of its own) to its end; `None` if it outlived `patience`,
/// after killing its whole group.
async fn run_group(cmd: Command, patience: Duration) -> Option<std::io::Result<Output>> {
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => return Some(Err(e)),
    };
    let group = child.id().map(|id| Pid::from_raw(id as i32));
    match tokio::time::timeout(patience, child.wait_with_output()).await {
        Ok(out) => Some(out),
        Err(_) => {
            if let Some(group) = group {
                let _ = killpg(group, Signal::SIGKILL);
            }
            None
        }
    }
}

/// The runtime base: what distroless's `cc` image gives the binaries, taken from this host — the
/// shared libraries `binaries` load (`ldd`) at their paths, and `/tmp` (mode 1777, for the
/// server's default admin socket). No shell, no package manager, like the real one.
pub(super) async fn make_runtime_base(b: &Buildah, image: &str, binaries: &[PathBuf]) {
    let (container, root) = b.container("scratch").await;
    for lib in shared_libraries(binaries) {
        let to = root.join(lib.strip_prefix("/").unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&lib, &to).unwrap_or_else(|e| panic!("copy {}: {e}", lib.display()));
    }
    make_tmp(&root);
    let path = "PATH=/usr/local/bin:/usr/bin:/bin";
    b.run(&["config", "--env", path, "--user", "65532:65532", &container])
        .await;
    b.commit(&container, image).await;
}

/// The builder base: an empty root filesystem with `/usr`'s mount point and the host's merged
/// /usr links (`/bin -> usr/bin`, ...), whose `PATH` starts with the toolchain's `bin`. The
/// build bind-mounts the host's `/usr` (shell, C compiler, linker), the toolchain and
/// `CARGO_HOME` into it; copying them in would cost gigabytes of vfs layers per run.
/// `CARGO_NET_OFFLINE`: the build must need nothing that is not on this machine already.
pub(super) async fn make_builder_base(
    b: &Buildah,
    image: &str,
    toolchain_bin: &Path,
    cargo_home: &Path,
) {
    let (container, root) = b.container("scratch").await;
    std::fs::create_dir(root.join("usr")).unwrap();
    for link in ["bin", "lib", "lib64", "sbin"] {
        let at = Path::new("/").join(link);
        let target = std::fs::read_link(&at).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; the builder image mounts the host's /usr and expects merged-/usr links",
                at.display()
            )
        });
        symlink(target, root.join(link)).unwrap();
    }
    make_tmp(&root);
    let path = format!(
        "PATH={}:/usr/local/bin:/usr/bin:/bin",
        toolchain_bin.display()
    );
    let cargo_home = format!("CARGO_HOME={}", cargo_home.display());
    let env = [path.as_str(), cargo_home.as_str(), "CARGO_NET_OFFLINE=true"];
    let mut args = vec!["config"];
    for e in env {
        args.extend(["--env", e]);
    }
    args.push(&container);
    b.run(&args).await;
    b.commit(&container, image).await;
}

fn make_tmp(root: &Path) {
    let tmp = root.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o1777)).unwrap();
}

/// The shared libraries (and the dynamic loader) that `binaries` load, as `ldd` resolves them.
fn shared_libraries(binaries: &[PathBuf]) -> BTreeSet<PathBuf> {
    let mut libs = BTreeSet::new();
    for bin in binaries {
        let out = Command::new("ldd").arg(bin).output().unwrap();
        assert!(out.status.success(), "ldd {}: {:?}", bin.display(), out);
        // `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)`, `/lib64/ld-linux-x86-64.so.2 (0x...)`
        for word in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            if word.starts_with('/') {
                libs.insert(PathBuf::from(word));
            }
        }
    }
    assert!(
        !libs.is_empty(),
        "ldd found no shared library in {binaries:?}"
    );
    libs
}

/// Every path below `root` that is not a directory, relative to it.
pub(super) fn files_below(root: &Path) -> BTreeSet<PathBuf> {
    let mut files = BTreeSet::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                dirs.push(entry.path());
            } else {
                files.insert(entry.path().strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    files
}
