//! Issue 14: an attested agent, or whoever holds a join token, against a real server. Each test
//! asserts the exact status code the server answers with.

use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::admin::v1::entries_client::EntriesClient;
use lanyard_proto::lanyard::types::v1 as types;

use crate::agent_client::unix_channel;

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

/// Creates `entries` through the admin API (the service the CLI calls), 500 per call, and fails
/// the test if any is refused.
pub(crate) async fn create_entries(server: &crate::harness::Server, entries: Vec<types::Entry>) {
    let mut admin = EntriesClient::new(unix_channel(&server.socket).await);
    for batch in entries.chunks(500) {
        let resp = admin
            .batch_create_entries(api::BatchCreateEntriesRequest {
                entries: batch.to_vec(),
            })
            .await
            .unwrap()
            .into_inner();
        let created =
            |r: &api::EntryResult| matches!(r.result, Some(api::entry_result::Result::Entry(_)));
        assert!(
            resp.results.iter().all(created),
            "an entry was refused: {:?}",
            resp.results.iter().find(|r| !created(r))
        );
    }
}

/// The ID of the first X.509 authority `localauthority x509 show` lists: the server's first,
/// active one, before any rotation.
pub(crate) async fn first_x509_authority(server: &crate::harness::Server) -> String {
    let shown = server
        .cli(&["localauthority", "x509", "show", "--output", "json"])
        .await
        .json();
    shown["authorities"][0]["authority_id"]
        .as_str()
        .unwrap()
        .to_owned()
}
