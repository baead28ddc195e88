//! Who is at the other end of a Workload API connection, and whether it is still the same
//! process after attestation.
//!
//! SPIFFE Workload Endpoint §5: the endpoint identifies callers out of band, here with the
//! socket's peer credentials (`SO_PEERCRED`: pid, uid, gid, as of `connect(2)`). A pid is only a
//! name: between `connect` and the moment the attestor reads `/proc/<pid>`, the caller may exit
//! and another process may get its pid, and would then be attested in its place. The defence
//! (SPIRE's `pkg/common/peertracker` does the start-time part; a pidfd goes further):
//!
//! - at accept, take a pidfd for the peer with `SO_PEERPIDFD` (Linux 6.5+). It refers to the
//!   process that called `connect`, not to whatever holds the pid later, and becomes readable
//!   when that process exits;
//! - the uid to hold it to is the effective uid `SO_PEERCRED` reported, i.e. the one it had at
//!   `connect`;
//!   The gid is held the same way to the effective gid `SO_PEERCRED` reported;
//! - without a pidfd, at accept also record the process start time (`/proc/<pid>/stat` field 22),
//!   which catches reuse on kernels without `SO_PEERPIDFD`. Only a kernel that lacks the option
//!   (`ENOPROTOOPT`, `EINVAL`) falls back to it; any other `SO_PEERPIDFD` error refuses the
//!   connection's calls ([`PeerError::PeerPidfd`]), since the pidfd is the stronger guard;
//! - at accept, record the identity of the executable the process runs (device and inode of the
//!   file `/proc/<pid>/exe` links to): a process that connects and then `execve`s another binary
//!   keeps its pid, its pidfd and its start time, but the attestor would describe the new binary
//!   (`unix:path`, `unix:sha256`, and a setuid/setgid binary's ids) to whoever holds the socket.
//!   Costs one `stat(2)` per connection;
//! - after attestation, [`PeerProcess::check_unchanged`]: the pid still exists, is not a zombie,
//!   runs the recorded executable and has the recorded effective uid and gid
//!   (`/proc/<pid>/status`), and then, with a pidfd, the pidfd has not signalled exit: the
//!   process was alive after every read, so its pid was not reused and each read (the
//!   attestor's included) described it. Without a pidfd the start time is compared instead.
//!   Otherwise the request is dropped.
//!
//! With a pidfd, accept reads no `/proc` file (one `stat` of the exe link), and one file after
//! attestation: `/proc` reads were the largest cost of a new connection after the kernel's own
//! socket work.
//!
//! What stays undetectable: everything that happens between `connect(2)` and the agent's
//! `accept`, because the agent's first look at the process is at accept. A caller that connects,
//! then `execve`s another binary before the agent accepts, is recorded as that binary (the
//! window is the listen backlog wait; the uid and gid are still held to those at `connect`).
//! Without `SO_PEERPIDFD`, a caller that exits and whose pid is reused before accept is likewise
//! not detectable; pid reuse also needs the pid space to wrap.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

use nix::errno::Errno;
use tokio::net::UnixStream;

use super::procfs::{self, ProcError};

/// The credentials of a Workload API caller, as the kernel reported them at accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeerCred {
    /// The process id (in the agent's pid namespace).
    pub pid: i32,
    /// The user id.
    pub uid: u32,
    /// The group id.
    pub gid: u32,
}

/// A caller's process as first seen at accept, to tell later whether it is still the same one.
#[derive(Debug)]
pub struct PeerProcess {
    cred: PeerCred,
    /// `SO_PEERPIDFD`, when the kernel offers it.
    pidfd: Option<OwnedFd>,
    /// The start time at accept: recorded only without a pidfd.
    start_time: Option<u64>,
    /// The executable it ran at accept.
    exe: ExeId,
}

/// Which file a process runs: `stat` of `/proc/<pid>/exe` (following the link), or that the
/// agent may not look (`EACCES`/`EPERM`: an agent that is neither root nor holds
/// `CAP_SYS_PTRACE` looking at another user's or a non-dumpable process).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExeId {
    /// `st_dev`, `st_ino`.
    File { dev: u64, ino: u64 },
    /// Not visible to the agent.
    Hidden,
}

impl ExeId {
    fn of(pid: i32) -> Result<ExeId, ProcError> {
        let file = procfs::proc_file(pid, "exe");
        match nix::sys::stat::stat(&file) {
            Ok(st) => Ok(ExeId::File {
                dev: st.st_dev,
                ino: st.st_ino,
            }),
            Err(Errno::EACCES | Errno::EPERM) => Ok(ExeId::Hidden),
            Err(e) => Err(ProcError::Read {
                pid,
                file,
                source: e.into(),
            }),
        }
    }
}

/// How a caller's process differs from the one that connected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessChanged {
    /// The process has exited (pidfd readable, `/proc/<pid>` gone, or a zombie).
    #[error("process {pid} has exited")]
    Exited {
        /// The pid.
        pid: i32,
    },
    /// The pid now names a process with another start time.
    #[error("pid {pid} was reused (start time {was} became {now})")]
    PidReused {
        /// The pid.
        pid: i32,
        /// The start time at accept.
        was: u64,
        /// The start time now.
        now: u64,
    },
    /// The process's effective uid changed.
    #[error("process {pid} changed uid from {was} to {now}")]
    UidChanged {
        /// The pid.
        pid: i32,
        /// The uid at accept.
        was: u32,
        /// The uid now.
        now: u32,
    },
    /// The process's effective gid changed.
    #[error("process {pid} changed gid from {was} to {now}")]
    GidChanged {
        /// The pid.
        pid: i32,
        /// The gid at accept.
        was: u32,
        /// The gid now.
        now: u32,
    },
    /// The process runs another executable than at accept: it called `execve`.
    #[error("process {pid} executed another program since it connected")]
    Exec {
        /// The pid.
        pid: i32,
    },
    /// The process could not be inspected.
    #[error("{0}")]
    Unreadable(String),
}

impl PeerProcess {
    /// Records the process `cred.pid` that connected with `cred`, guarded by `pidfd` if one was
    /// obtained, else by its start time as it is now, and the executable it runs now.
    pub fn record(cred: PeerCred, pidfd: Option<OwnedFd>) -> Result<PeerProcess, ProcError> {
        let start_time = match pidfd {
            Some(_) => None,
            None => Some(procfs::read_stat(cred.pid)?.start_time),
        };
        let exe = ExeId::of(cred.pid)?;
        Ok(PeerProcess {
            cred,
            pidfd,
            start_time,
            exe,
        })
    }

    /// Reads the peer of `stream`: `SO_PEERCRED`, and `SO_PEERPIDFD` if available (else the
    /// process's start time).
    pub fn from_stream(stream: &UnixStream) -> Result<PeerProcess, PeerError> {
        let ucred = stream.peer_cred().map_err(PeerError::PeerCred)?;
        let pid = ucred.pid().filter(|pid| *pid > 0).ok_or(PeerError::NoPid)?;
        let cred = PeerCred {
            pid,
            uid: ucred.uid(),
            gid: ucred.gid(),
        };
        let pidfd = pidfd_or_fallback(
            pid,
            nix::sys::socket::getsockopt(&stream.as_fd(), nix::sys::socket::sockopt::PeerPidfd),
        )?;
        PeerProcess::record(cred, pidfd).map_err(PeerError::Proc)
    }

    /// The credentials captured at accept.
    pub fn cred(&self) -> PeerCred {
        self.cred
    }

    /// Whether a pidfd guards this process.
    pub fn has_pidfd(&self) -> bool {
        self.pidfd.is_some()
    }

    /// Checks that the process is still the one recorded: alive, the same executable, the same
    /// effective uid and gid as at `connect`, and (without a pidfd) the same start time. Call it
    /// after attestation; on `Err` the selectors describe some other process (or none).
    pub fn check_unchanged(&self) -> Result<(), ProcessChanged> {
        let pid = self.cred.pid;
        let compared = self.compare();
        // Last: if the process that connected is alive now, it was alive during every read
        // above and before (a pid is only reused after its process has exited and been reaped).
        // If it has exited, that explains any difference found, so it is what is reported.
        if let Some(pidfd) = &self.pidfd {
            // A pidfd polls readable once its process has exited (pidfd_open(2)).
            let mut fds = [nix::poll::PollFd::new(
                pidfd.as_fd(),
                nix::poll::PollFlags::POLLIN,
            )];
            match nix::poll::poll(&mut fds, nix::poll::PollTimeout::ZERO) {
                Ok(0) => {}
                Ok(_) => return Err(ProcessChanged::Exited { pid }),
                Err(e) => {
                    return Err(ProcessChanged::Unreadable(format!(
                        "poll pidfd of {pid}: {e}"
                    )));
                }
            }
        }
        compared
    }

    /// The `/proc` half of [`PeerProcess::check_unchanged`]: start time, executable, state and
    /// ids, in that order (a reused pid explains a new executable; an `execve` of a set-id
    /// binary explains new ids).
    fn compare(&self) -> Result<(), ProcessChanged> {
        let pid = self.cred.pid;
        if let Some(was) = self.start_time {
            let stat = procfs::read_stat(pid).map_err(|e| gone_or_unreadable(pid, e))?;
            if stat.has_exited() {
                return Err(ProcessChanged::Exited { pid });
            }
            if stat.start_time != was {
                return Err(ProcessChanged::PidReused {
                    pid,
                    was,
                    now: stat.start_time,
                });
            }
        }
        // Hidden then and now: the attestor cannot read the executable either (no path or
        // digest selectors), and the ids below still hold.
        if ExeId::of(pid).map_err(|e| gone_or_unreadable(pid, e))? != self.exe {
            return Err(ProcessChanged::Exec { pid });
        }
        let status = procfs::read_status(pid).map_err(|e| gone_or_unreadable(pid, e))?;
        if status.has_exited() {
            return Err(ProcessChanged::Exited { pid });
        }
        if status.effective_uid() != self.cred.uid {
            return Err(ProcessChanged::UidChanged {
                pid,
                was: self.cred.uid,
                now: status.effective_uid(),
            });
        }
        if status.effective_gid() != self.cred.gid {
            return Err(ProcessChanged::GidChanged {
                pid,
                was: self.cred.gid,
                now: status.effective_gid(),
            });
        }
        Ok(())
    }
}

/// The outcome of `getsockopt(SO_PEERPIDFD)`: the pidfd; `None` (fall back to the start time)
/// only when the kernel lacks the option; any other error refuses the peer.
fn pidfd_or_fallback(pid: i32, result: nix::Result<OwnedFd>) -> Result<Option<OwnedFd>, PeerError> {
    match result {
        Ok(fd) => Ok(Some(fd)),
        // Before Linux 6.5 the option does not exist: ENOPROTOOPT; EINVAL from kernels or
        // seccomp filters that reject the unknown option number.
        Err(e @ (Errno::ENOPROTOOPT | Errno::EINVAL)) => {
            tracing::debug!(pid, error = %e, "SO_PEERPIDFD unavailable; relying on start time");
            Ok(None)
        }
        Err(e) => Err(PeerError::PeerPidfd(e.into())),
    }
}

fn gone_or_unreadable(pid: i32, e: ProcError) -> ProcessChanged {
    match e {
        ProcError::Read { source, .. } if source.kind() == io::ErrorKind::NotFound => {
            ProcessChanged::Exited { pid }
        }
        other => ProcessChanged::Unreadable(other.to_string()),
    }
}

/// Why a connection's peer could not be identified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PeerError {
    /// `SO_PEERCRED` failed.
    #[error("cannot read the caller's peer credentials: {0}")]
    PeerCred(io::Error),
    /// `SO_PEERPIDFD` failed with something else than "not supported" (e.g. `EMFILE`).
    #[error("cannot take a pidfd for the caller (SO_PEERPIDFD): {0}")]
    PeerPidfd(io::Error),
    /// The kernel gave no pid, e.g. the caller is in a pid namespace the agent cannot see
    /// (run the agent in the host pid namespace).
    #[error(
        "the caller's pid is not visible to the agent (is the agent in the host pid namespace?)"
    )]
    NoPid,
    /// The caller's `/proc` entry could not be read.
    #[error(transparent)]
    Proc(ProcError),
}

/// What every request of a connection carries (tonic `ConnectInfo`): the peer recorded at
/// accept, or why it could not be.
#[derive(Debug, Clone)]
pub struct PeerInfo(pub Result<Arc<PeerProcess>, Arc<PeerError>>);

#[cfg(test)]
mod tests {
    use super::*;

    fn own_cred() -> PeerCred {
        PeerCred {
            pid: i32::try_from(std::process::id()).unwrap(),
            uid: nix::unistd::geteuid().as_raw(),
            gid: nix::unistd::getegid().as_raw(),
        }
    }

    #[tokio::test]
    async fn a_socket_peer_is_recorded_with_a_pidfd_and_passes_the_check() {
        // Both ends of a socketpair belong to this process, which is therefore the peer.
        let (a, _b) = UnixStream::pair().unwrap();
        let peer = PeerProcess::from_stream(&a).unwrap();
        assert_eq!(peer.cred(), own_cred());
        assert!(peer.has_pidfd(), "this kernel offers SO_PEERPIDFD");
        peer.check_unchanged().unwrap();
    }

    #[test]
    fn an_exited_and_reaped_child_is_reported_changed() {
        let mut child = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .unwrap();
        let cred = PeerCred {
            pid: i32::try_from(child.id()).unwrap(),
            ..own_cred()
        };
        let peer = PeerProcess::record(cred, None).unwrap();
        peer.check_unchanged().unwrap();

        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(
            peer.check_unchanged(),
            Err(ProcessChanged::Exited { pid: cred.pid })
        );
    }

    #[test]
    fn an_exited_but_unreaped_child_is_reported_changed() {
        let mut child = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .unwrap();
        let cred = PeerCred {
            pid: i32::try_from(child.id()).unwrap(),
            ..own_cred()
        };
        let peer = PeerProcess::record(cred, None).unwrap();
        child.kill().unwrap();
        // Wait for the exit without reaping: the pid stays a zombie.
        nix::sys::wait::waitid(
            nix::sys::wait::Id::Pid(nix::unistd::Pid::from_raw(cred.pid)),
            nix::sys::wait::WaitPidFlag::WEXITED | nix::sys::wait::WaitPidFlag::WNOWAIT,
        )
        .unwrap();
        assert_eq!(
            peer.check_unchanged(),
            Err(ProcessChanged::Exited { pid: cred.pid })
        );
        child.wait().unwrap();
    }

    #[test]
    fn a_different_start_time_or_uid_is_pid_reuse() {
        let mut peer = PeerProcess::record(own_cred(), None).unwrap();
        let recorded = peer.start_time.unwrap();
        peer.start_time = Some(recorded - 1);
        assert!(matches!(
            peer.check_unchanged(),
            Err(ProcessChanged::PidReused { .. })
        ));
        peer.start_time = Some(recorded);
        peer.check_unchanged().unwrap();
    }

    #[tokio::test]
    async fn the_uid_is_held_to_the_one_reported_at_connect() {
        // SO_PEERCRED's uid is the baseline, not what /proc says at accept: a process whose
        // effective uid differs from the one it connected with is refused, with or without a
        // pidfd.
        let (a, _b) = UnixStream::pair().unwrap();
        let mut with_pidfd = PeerProcess::from_stream(&a).unwrap();
        with_pidfd.check_unchanged().unwrap();
        with_pidfd.cred.uid = with_pidfd.cred.uid.wrapping_add(1);
        assert!(matches!(
            with_pidfd.check_unchanged(),
            Err(ProcessChanged::UidChanged { .. })
        ));
        let other_uid = PeerCred {
            uid: own_cred().uid.wrapping_add(1),
            ..own_cred()
        };
        assert!(matches!(
            PeerProcess::record(other_uid, None)
                .unwrap()
                .check_unchanged(),
            Err(ProcessChanged::UidChanged { .. })
        ));
    }

    #[test]
    fn only_a_missing_so_peerpidfd_falls_back_to_the_start_time() {
        for absent in [Errno::ENOPROTOOPT, Errno::EINVAL] {
            assert!(
                pidfd_or_fallback(1, Err(absent)).unwrap().is_none(),
                "{absent}"
            );
        }
        for other in [Errno::EMFILE, Errno::ENOMEM, Errno::ESRCH] {
            let err = pidfd_or_fallback(1, Err(other)).unwrap_err();
            assert!(matches!(err, PeerError::PeerPidfd(_)), "{other}: {err:?}");
            assert!(err.to_string().contains("SO_PEERPIDFD"), "{err}");
        }
    }

    #[tokio::test]
    async fn the_gid_is_held_to_the_one_reported_at_connect() {
        let (a, _b) = UnixStream::pair().unwrap();
        let mut with_pidfd = PeerProcess::from_stream(&a).unwrap();
        with_pidfd.cred.gid = with_pidfd.cred.gid.wrapping_add(1);
        assert!(matches!(
            with_pidfd.check_unchanged(),
            Err(ProcessChanged::GidChanged { .. })
        ));
        let other_gid = PeerCred {
            gid: own_cred().gid.wrapping_add(1),
            ..own_cred()
        };
        assert!(matches!(
            PeerProcess::record(other_gid, None)
                .unwrap()
                .check_unchanged(),
            Err(ProcessChanged::GidChanged { .. })
        ));
    }

    #[test]
    fn a_process_that_executes_another_program_is_reported_changed() {
        use std::io::Write as _;
        // sh waits for a line, then replaces itself with sleep: same pid, same start time.
        let mut child = std::process::Command::new("/bin/sh")
            .args(["-c", "read line; exec sleep 60"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = i32::try_from(child.id()).unwrap();
        let peer = PeerProcess::record(PeerCred { pid, ..own_cred() }, None).unwrap();
        peer.check_unchanged().unwrap();
        let before = std::fs::read_link(procfs::proc_file(pid, "exe")).unwrap();

        child.stdin.take().unwrap().write_all(b"go\n").unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::fs::read_link(procfs::proc_file(pid, "exe")).unwrap() == before {
            assert!(
                std::time::Instant::now() < deadline,
                "sh did not exec sleep"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(peer.check_unchanged(), Err(ProcessChanged::Exec { pid }));
        // A fresh record of the same process (what accept would see now) is unchanged.
        PeerProcess::record(PeerCred { pid, ..own_cred() }, None)
            .unwrap()
            .check_unchanged()
            .unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        // Gone is reported as gone, not as an exec.
        assert_eq!(peer.check_unchanged(), Err(ProcessChanged::Exited { pid }));
    }

    /// The child side of the next test: connect to the socket and wait to be killed.
    #[test]
    fn child_connects_and_waits() {
        if let Some(path) = std::env::var_os("LANYARD_TEST_PEER_SOCKET") {
            let _conn = std::os::unix::net::UnixStream::connect(path).unwrap();
            std::thread::sleep(std::time::Duration::from_secs(60));
        }
    }

    #[test]
    fn with_a_pidfd_an_exited_peer_is_reported_and_accept_reads_no_proc() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("peer.sock");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "workload::peer::tests::child_connects_and_waits"])
            .env("LANYARD_TEST_PEER_SOCKET", &path)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let (conn, _) = listener.accept().unwrap();
        let pidfd =
            nix::sys::socket::getsockopt(&conn, nix::sys::socket::sockopt::PeerPidfd).unwrap();
        let pid = i32::try_from(child.id()).unwrap();
        let peer = PeerProcess::record(PeerCred { pid, ..own_cred() }, Some(pidfd)).unwrap();
        assert_eq!(peer.start_time, None, "the pidfd guards it; no stat read");
        peer.check_unchanged().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(peer.check_unchanged(), Err(ProcessChanged::Exited { pid }));
    }
}
