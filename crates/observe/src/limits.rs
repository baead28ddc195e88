//! [`raise_open_files_limit`]: one file descriptor per connection is the server's and the agent's
//! scaling unit, so both lift their soft `RLIMIT_NOFILE` to the hard limit at start, as the Go
//! runtime does for SPIRE (Go 1.19+). The soft default is often 1,024, which a server with a
//! thousand agents or an agent with a thousand workload streams would hit; the hard limit is the
//! operator's choice and is left alone.

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// The open-files limit after [`raise_open_files_limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenFilesLimit {
    /// The soft limit in force now.
    pub soft: u64,
    /// The hard limit (unchanged).
    pub hard: u64,
}

/// Raises this process's soft open-files limit to its hard limit. Children inherit it.
///
/// # Errors
///
/// The limit could not be read or set; the message says which.
pub fn raise_open_files_limit() -> Result<OpenFilesLimit, String> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)
        .map_err(|e| format!("cannot read the open-files limit (RLIMIT_NOFILE): {e}"))?;
    if soft < hard {
        setrlimit(Resource::RLIMIT_NOFILE, hard, hard).map_err(|e| {
            format!("cannot raise the open-files limit from {soft} to the hard limit {hard}: {e}")
        })?;
    }
    Ok(OpenFilesLimit { soft: hard, hard })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn soft_limit_ends_at_the_hard_limit() {
        // Lower the soft limit first so the call has something to raise (a process may always
        // lower its own soft limit), then check the kernel's view afterwards.
        let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        let lowered = hard.min(256);
        setrlimit(Resource::RLIMIT_NOFILE, lowered, hard).unwrap();
        let got = raise_open_files_limit().unwrap();
        assert_eq!(got, OpenFilesLimit { soft: hard, hard });
        assert_eq!(getrlimit(Resource::RLIMIT_NOFILE).unwrap(), (hard, hard));
    }
}
