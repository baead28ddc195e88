//! Connection churn on the Workload API socket (issue 4): many short-lived connections must not
//! leak file descriptors or memory in the agent.

use std::time::Duration;

use tokio::net::UnixStream;

use crate::agent_client::{SvidWatch, wait_for_svids};
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::{PATIENCE, Server};
use crate::store::Store;

const WARM_UP: usize = 500;
const CYCLES: usize = 10_000;
/// Every this many cycles, a real FetchX509SVID call instead of a bare connect.
const CALL_EVERY: usize = 100;
const FD_SLACK: usize = 5;
const RSS_SLACK_KIB: u64 = 8 * 1024;

fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in /proc/{pid}/status"))
}

/// The fd count once the agent has finished closing connections: the same for 250 ms running
/// (or whatever it is after [`PATIENCE`], for the assertion to report).
async fn settled_fds(pid: u32) -> usize {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut last = fd_count(pid);
    let mut same = 0;
    while same < 10 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(25)).await;
        let now = fd_count(pid);
        same = if now == last { same + 1 } else { 0 };
        last = now;
    }
    last
}

async fn cycles(agent: &Agent, range: std::ops::Range<usize>) {
    for i in range {
        if i % CALL_EVERY == 0 {
            let mut watch = SvidWatch::open(&agent.socket)
                .await
                .unwrap_or_else(|s| panic!("cycle {i}: FetchX509SVID refused: {s:?}"));
            watch.next().await;
        } else {
            let conn = UnixStream::connect(&agent.socket)
                .await
                .unwrap_or_else(|e| panic!("cycle {i}: connect: {e}"));
            drop(conn);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_churn_leaves_fds_and_memory_flat() {
    let server = Server::start(Store::Sqlite).await;
    let agent = Agent::start(&server).await;
    let id = "spiffe://example.org/churn/workload";
    create_uid_entry(&server, id, &agent.id, my_uid(), &[]).await;
    wait_for_svids(&agent.socket, &[id]).await;
    let pid = agent.pid();

    cycles(&agent, 0..WARM_UP).await;
    let (fds_before, rss_before) = (settled_fds(pid).await, rss_kib(pid));
    cycles(&agent, WARM_UP..CYCLES).await;
    let (fds_after, rss_after) = (settled_fds(pid).await, rss_kib(pid));

    assert!(
        fds_after <= fds_before + FD_SLACK,
        "the agent held {fds_before} fds after {WARM_UP} connections and {fds_after} after \
         {CYCLES}: it leaks connections"
    );
    assert!(
        rss_after <= rss_before + RSS_SLACK_KIB,
        "the agent's RSS grew from {rss_before} KiB to {rss_after} KiB over {} connections",
        CYCLES - WARM_UP
    );
    // Still serving after the churn.
    wait_for_svids(&agent.socket, &[id]).await;
    eprintln!(
        "agent after {CYCLES} connections: fds {fds_before} -> {fds_after}, \
         RSS {rss_before} -> {rss_after} KiB"
    );
}
