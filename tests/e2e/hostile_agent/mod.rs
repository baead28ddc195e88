//! Issue 14: an attested agent, or whoever holds a join token, against a real server. Each test
//! asserts the exact status code the server answers with.

mod bounds;
mod large_node;
mod recheck;
mod reserved;
mod taint;

/// The server's resident memory when a test began, and how much it may grow by the end: each
/// hostile caller must leave the server within a stated bound.
pub(crate) struct MemoryBound {
    start_kib: u64,
    bound_mib: u64,
}

/// `VmRSS` of the server process, in KiB.
fn rss_kib(server: &crate::harness::Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("no VmRSS in /proc/<pid>/status")
}

impl MemoryBound {
    /// Records the server's RSS now; [`MemoryBound::check`] allows `bound_mib` more.
    pub(crate) fn new(server: &crate::harness::Server, bound_mib: u64) -> MemoryBound {
        MemoryBound {
            start_kib: rss_kib(server),
            bound_mib,
        }
    }

    /// Fails the test if the server grew by more than the bound.
    pub(crate) fn check(&self, server: &crate::harness::Server) {
        let now = rss_kib(server);
        let grown_mib = now.saturating_sub(self.start_kib) / 1024;
        assert!(
            grown_mib <= self.bound_mib,
            "the server's RSS grew by {grown_mib} MiB (from {} to {} KiB), beyond {} MiB",
            self.start_kib,
            now,
            self.bound_mib
        );
    }
}
