//! The pinned Python environment used by interoperability tests.
//!
//! The first caller creates `target/lanyard-pyenv` with `python3 -m venv` and installs
//! `tests/python/requirements.txt` into it; concurrent test processes wait on a file lock. The
//! environment is reused while the requirements file is unchanged (a stamp holds a copy of it).
//!
//! When the package registry cannot be reached, the interop tests are skipped with a message that
//! says so — except under CI (`CI` set), where an unreachable registry is a failure: CI must
//! never pass by skipping the users' reality check.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A ready Python interpreter with the interop packages installed.
#[derive(Debug, Clone)]
pub struct Python {
    interpreter: PathBuf,
    scripts: PathBuf,
}

impl Python {
    /// Runs `tests/python/<script>` with `args`, returning its output (whatever the exit code).
    pub fn run(&self, script: &str, args: &[&str]) -> Output {
        self.command(script, args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {script} with {:?}: {e}", self.interpreter))
    }

    /// A `Command` for `tests/python/<script>` with `args`, for callers that need to stream.
    pub fn command(&self, script: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.interpreter);
        cmd.arg(self.scripts.join(script)).args(args);
        cmd.env("PYTHONDONTWRITEBYTECODE", "1");
        cmd
    }

    /// Path of the interpreter inside the virtualenv.
    pub fn interpreter(&self) -> &Path {
        &self.interpreter
    }
}

fn workspace_root() -> PathBuf {
    // crates/test-support -> workspace root
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// Returns the pinned Python environment, creating it if needed.
///
/// Returns `None` (after printing why) when the package registry is unreachable and `CI` is not
/// set; panics on any other failure, because a broken interop setup must not look like a pass.
#[allow(
    clippy::expect_used,
    reason = "test helper: a failure here must fail the test"
)]
pub fn python() -> Option<Python> {
    let root = workspace_root();
    let scripts = root.join("tests/python");
    let requirements = scripts.join("requirements.txt");
    let wanted = fs::read_to_string(&requirements).expect("read tests/python/requirements.txt");
    let target = target_dir(&root);
    fs::create_dir_all(&target).expect("create target dir");
    let venv = target.join("lanyard-pyenv");
    let interpreter = venv.join("bin/python");
    let stamp = venv.join("lanyard-requirements.txt");

    let lock = File::create(target.join("lanyard-pyenv.lock")).expect("create venv lock file");
    lock.lock().expect("lock venv");

    let ready = fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) && interpreter.exists();
    if !ready {
        let _ = fs::remove_dir_all(&venv);
        let out = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .output()
            .expect("python3 must be installed to run the interop tests");
        assert!(
            out.status.success(),
            "python3 -m venv failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = Command::new(&interpreter)
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "-q",
                "-r",
            ])
            .arg(&requirements)
            .output()
            .expect("run pip");
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let _ = fs::remove_dir_all(&venv);
            if registry_unreachable(&stderr) && std::env::var_os("CI").is_none() {
                eprintln!(
                    "SKIPPED: the Python package registry is unreachable, so the py-spiffe \
                     interop test cannot run here ({}). Run it where PyPI is reachable; CI \
                     treats this as a failure.",
                    stderr.lines().last().unwrap_or("pip failed")
                );
                return None;
            }
            panic!("pip install -r tests/python/requirements.txt failed:\n{stderr}");
        }
        fs::write(&stamp, &wanted).expect("write venv stamp");
    }
    Some(Python {
        interpreter,
        scripts,
    })
}

fn registry_unreachable(pip_stderr: &str) -> bool {
    [
        "Failed to establish a new connection",
        "Temporary failure in name resolution",
        "Network is unreachable",
        "No matching distribution found",
        "Could not fetch URL",
        "ConnectTimeout",
    ]
    .iter()
    .any(|needle| pip_stderr.contains(needle))
}
