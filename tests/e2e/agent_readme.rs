//! The README's first command, as a new user runs it: `./scripts/local-trust-domain.sh` brings
//! up a trust domain, the fetch command it prints returns the user's SPIFFE ID, and Ctrl-C
//! stops everything it started.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt as _, BufReader};

use crate::agent_client::run_guarded;
use crate::harness::{PATIENCE, bin};

/// How long the script may take to print its instructions (it runs `cargo build` first).
const STARTUP: Duration = Duration::from_secs(180);

/// Kills the script's whole process group if the test ends while the script runs.
struct Group(Option<Pid>);

impl Group {
    /// The script has exited: its process group ID may be reused from now on.
    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if let Some(pgid) = self.0 {
            let _ = killpg(pgid, Signal::SIGKILL);
        }
    }
}

/// `(ppid, starttime, comm)` of `pid`, from `/proc/<pid>/stat`; `None` once it is gone or a
/// zombie.
fn proc_stat(pid: i32) -> Option<(i32, u64, String)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (head, rest) = stat.rsplit_once(')')?;
    let comm = head.split_once('(')?.1.to_owned();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the comm: state(0) ppid(1) ... starttime(19).
    if fields.first() == Some(&"Z") {
        return None;
    }
    Some((
        fields.get(1)?.parse().ok()?,
        fields.get(19)?.parse().ok()?,
        comm,
    ))
}

/// The children of `parent`: `(pid, starttime, comm)`.
fn children(parent: i32) -> Vec<(i32, u64, String)> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let (ppid, start, comm) = proc_stat(pid)?;
            (ppid == parent).then_some((pid, start, comm))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_trust_domain_script_works_as_the_readme_says() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let script = root.join("scripts/local-trust-domain.sh");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(
        readme.contains("./scripts/local-trust-domain.sh"),
        "the README no longer names the script"
    );
    // The binaries the harness built with the test suite's features: the script's own
    // `cargo build -p ...` would resolve other features and compile ~77 units again.
    let bin_dir = bin("lanyard-agent").parent().unwrap().to_owned();

    let tmp = tempfile::tempdir().unwrap();
    let local = tmp.path().join("local");
    let shared = root.join(".lanyard-local");
    let private = std::fs::read_to_string(&script)
        .unwrap()
        .contains("LANYARD_LOCAL_DIR");
    // Without LANYARD_LOCAL_DIR the script deletes and reuses <repo>/.lanyard-local: take turns
    // with other test processes, and leave a developer's running trust domain alone.
    let _turn = if private {
        None
    } else {
        let shared_socket = shared.join("agent/public/api.sock");
        if std::os::unix::net::UnixStream::connect(&shared_socket).is_ok() {
            eprintln!(
                "SKIPPED: a local trust domain is running from this checkout ({}), and the \
                 script cannot be pointed elsewhere (no LANYARD_LOCAL_DIR)",
                shared_socket.display()
            );
            return;
        }
        let lock =
            std::fs::File::create(std::env::temp_dir().join("lanyard-local-trust-domain.lock"))
                .unwrap();
        Some(
            tokio::task::spawn_blocking(move || lock.lock().map(|()| lock))
                .await
                .unwrap()
                .unwrap(),
        )
    };

    let stderr = std::fs::File::create(tmp.path().join("script.err")).unwrap();
    let mut cmd = std::process::Command::new("bash");
    cmd.arg(&script)
        .current_dir(tmp.path())
        .env("LANYARD_LOCAL_DIR", &local)
        .env("LANYARD_BIN_DIR", &bin_dir)
        .env_remove("SPIFFE_ENDPOINT_SOCKET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        // Its own process group, as a terminal's foreground job: Ctrl-C goes to the group.
        .process_group(0);
    let mut child = tokio::process::Command::from(cmd)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let script_pid = i32::try_from(child.id().unwrap()).unwrap();
    let mut group = Group(Some(Pid::from_raw(script_pid)));
    let script_err = || std::fs::read_to_string(tmp.path().join("script.err")).unwrap_or_default();

    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let prompt = tokio::time::timeout(STARTUP, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let done = line.contains("Press Ctrl-C");
            printed.push(line);
            if done {
                return true;
            }
        }
        false
    })
    .await;
    let out = printed.join("\n");
    assert!(
        matches!(prompt, Ok(true)),
        "no \"Press Ctrl-C\" from the script ({prompt:?}):\n{out}\n--- stderr\n{}",
        script_err()
    );

    // "Fetch your X.509-SVID (<id>):" and, on the next line, the command to run.
    let at = printed
        .iter()
        .position(|l| l.starts_with("Fetch your X.509-SVID ("))
        .unwrap_or_else(|| panic!("no fetch instructions:\n{out}"));
    let id = printed[at]
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(id, _)| id.to_owned())
        .unwrap();
    assert!(id.starts_with("spiffe://example.org/local/"), "{out}");
    let command = printed[at + 1].trim().to_owned();
    assert!(
        command.starts_with("SPIFFE_ENDPOINT_SOCKET=unix://"),
        "{out}"
    );
    let socket = PathBuf::from(
        command
            .trim_start_matches("SPIFFE_ENDPOINT_SOCKET=unix://")
            .split_whitespace()
            .next()
            .unwrap(),
    );
    if private {
        assert!(
            socket.starts_with(&local),
            "LANYARD_LOCAL_DIR={} but the socket is {}",
            local.display(),
            socket.display()
        );
    } else {
        eprintln!(
            "NOTE: scripts/local-trust-domain.sh takes no LANYARD_LOCAL_DIR; it ran in {}",
            shared.display()
        );
    }

    let mut fetch = std::process::Command::new("sh");
    fetch.args(["-c", &command]).current_dir(tmp.path());
    let fetched = run_guarded(fetch, PATIENCE).await;
    let fetched_out = String::from_utf8_lossy(&fetched.stdout);
    assert!(
        fetched.status.success() && fetched_out.contains(&id),
        "`{command}` exited with {} and did not print {id}:\n{fetched_out}\n--- stderr\n{}",
        fetched.status,
        String::from_utf8_lossy(&fetched.stderr)
    );

    let started = children(script_pid);
    let names: Vec<&str> = started.iter().map(|(_, _, comm)| comm.as_str()).collect();
    assert!(
        names.contains(&"lanyard-server") && names.contains(&"lanyard-agent"),
        "the script's children are {names:?}"
    );

    // Ctrl-C.
    killpg(Pid::from_raw(script_pid), Signal::SIGINT).unwrap();
    let status = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .unwrap_or_else(|_| panic!("the script still runs {PATIENCE:?} after Ctrl-C"))
        .unwrap();
    group.disarm();
    let left: Vec<&(i32, u64, String)> = started
        .iter()
        .filter(|(pid, start, _)| proc_stat(*pid).is_some_and(|(_, s, _)| s == *start))
        .collect();
    for (pid, _, _) in &left {
        let _ = nix::sys::signal::kill(Pid::from_raw(*pid), Signal::SIGKILL);
    }
    assert!(
        left.is_empty(),
        "still running after Ctrl-C ended the script ({status}): {left:?}"
    );
    assert!(
        !socket.exists(),
        "the agent left its socket {} behind",
        socket.display()
    );
}
