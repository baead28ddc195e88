//! `fetch_latency`: how long a new workload waits for its first `FetchX509SVID` response while
//! the node's other streams are open, against the raw gRPC round trip over a Unix socket (the
//! [`Echo`] baseline answering the same generated call with a canned copy of a real response).
//!
//! Agent and baseline samples alternate, so drift on a shared machine hits both alike. Two
//! shapes are timed:
//! - new connection (the target's case: a new workload connects, calls, reads the first
//!   message; peer credentials, attestation via `/proc` and the response build included);
//! - existing connection (one client, one call after another): the per-call cost alone.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;

use crate::node::Node;
use crate::procs::threads_cpu_seconds;
use crate::report::{Metric, Target};
use crate::stats::{Samples, write_plot};
use crate::workload::{self, ECHO_THREADS, Echo, first_response_new_conn, first_response_on};

const SCENARIO: &str = "fetch_latency";
/// Untimed calls of each kind first (connection pools, allocator, page cache).
const WARMUP: usize = 20;

/// Runs `calls` timed calls of each kind.
pub(crate) async fn run(node: &Node, calls: usize, plot_dir: Option<&Path>) -> Result<Vec<Metric>> {
    let echo = Echo::start(node.sample_response.clone())?;
    let agent_socket = node.agent.socket.clone();

    let mut agent_new = Vec::with_capacity(calls);
    let mut echo_new = Vec::with_capacity(calls);
    let (agent_pid, me) = (node.agent.pid(), std::process::id());
    let mut cpu0 = (0.0, 0.0);
    for i in 0..WARMUP + calls {
        if i == WARMUP {
            cpu0 = (
                threads_cpu_seconds(agent_pid, None)?,
                threads_cpu_seconds(me, Some(ECHO_THREADS))?,
            );
        }
        let a = first_response_new_conn(&agent_socket).await?.0;
        let e = first_response_new_conn(&echo.socket).await?.0;
        if i >= WARMUP {
            agent_new.push(a);
            echo_new.push(e);
        }
    }
    // CPU per call of the serving side (connection setup and teardown included).
    let agent_cpu = (threads_cpu_seconds(agent_pid, None)? - cpu0.0) / calls as f64;
    let echo_cpu = (threads_cpu_seconds(me, Some(ECHO_THREADS))? - cpu0.1) / calls as f64;

    let mut agent_client = workload::connect(&agent_socket).await?;
    let mut echo_client = workload::connect(&echo.socket).await?;
    let mut agent_same: Vec<Duration> = Vec::with_capacity(calls);
    let mut echo_same: Vec<Duration> = Vec::with_capacity(calls);
    for i in 0..WARMUP + calls {
        let a = first_response_on(&mut agent_client).await?;
        let e = first_response_on(&mut echo_client).await?;
        if i >= WARMUP {
            agent_same.push(a);
            echo_same.push(e);
        }
    }

    let (an, en) = (Samples::new(&agent_new), Samples::new(&echo_new));
    let (asame, esame) = (Samples::new(&agent_same), Samples::new(&echo_same));
    if let Some(dir) = plot_dir {
        write_plot(
            dir,
            "fetch_latency",
            &format!(
                "FetchX509SVID first response, new connection ({} other streams open, {} entries)",
                node.streams, node.entries
            ),
            &[("agent", &an), ("echo baseline", &en)],
        )?;
    }
    Ok(vec![
        Metric::new(
            SCENARIO,
            "new_conn_first_response_p50",
            an.percentile(50.0),
            "ms",
        )
        .baseline(en.percentile(50.0)),
        Metric::new(
            SCENARIO,
            "new_conn_first_response_p99",
            an.percentile(99.0),
            "ms",
        )
        .baseline(en.percentile(99.0))
        // The target is for a node with 1,000 other streams open.
        .target_if(node.streams >= 1000, Target::AtMost(1.0)),
        Metric::new(
            SCENARIO,
            "same_conn_first_response_p50",
            asame.percentile(50.0),
            "ms",
        )
        .baseline(esame.percentile(50.0)),
        Metric::new(
            SCENARIO,
            "same_conn_first_response_p99",
            asame.percentile(99.0),
            "ms",
        )
        .baseline(esame.percentile(99.0)),
        Metric::new(
            SCENARIO,
            "new_conn_server_cpu_per_call",
            agent_cpu * 1e6,
            "us",
        )
        .baseline(echo_cpu * 1e6),
        Metric::new(SCENARIO, "samples", calls as f64, "calls"),
    ])
}
