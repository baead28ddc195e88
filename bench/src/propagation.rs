//! `propagation`: with the node's streams open, an entry for this process's uid is created
//! through the admin API and timed until an open stream carries the new SPIFFE ID; then it is
//! deleted and timed until the stream no longer does. The path is the whole system's: admin API
//! → datastore commit → change log → server entry cache → Sync push → agent key + CSR →
//! `BatchSignX509Svids` → agent store publish → every matching Workload API stream.
//!
//! "One stream" is stream 0 (an arbitrary one; the target's case); "all streams" is when the
//! last of them has it, which includes this process reading and decoding every stream's
//! message on the same cores.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};

use crate::admin::uid_entry;
use crate::node::Node;
use crate::report::{Metric, Target};
use crate::stats::{Samples, write_plot};

const SCENARIO: &str = "propagation";
/// How long one change may take before the iteration counts as timed out.
const PATIENCE: Duration = Duration::from_secs(10);

/// (stream 0, all streams) after `t0`, or `None` on timeout.
async fn wait_all(
    node: &mut Node,
    t0: Instant,
    want_present: bool,
    id: &str,
) -> Result<Option<(Duration, Duration)>> {
    let n = node.streams;
    let mut done = vec![false; n];
    let mut count = 0;
    let mut first: Option<Duration> = None;
    let deadline = t0 + PATIENCE;
    while count < n {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(ev) = tokio::time::timeout(left, node.events.recv()).await else {
            return Ok(None);
        };
        let ev = ev.ok_or_else(|| anyhow!("event channel closed"))?;
        let Some(ids) = ev.ids else {
            return Err(anyhow!(
                "stream {} ended during the propagation run; agent log:\n{}",
                ev.stream,
                node.agent.log_tail()
            ));
        };
        if ids.iter().any(|i| i == id) == want_present && !done[ev.stream] {
            done[ev.stream] = true;
            count += 1;
            if ev.stream == 0 {
                first = Some(ev.at - t0);
            }
            if count == n {
                let last = ev.at - t0;
                return Ok(Some((first.unwrap_or(last), last)));
            }
        }
    }
    Ok(Some((Duration::ZERO, Duration::ZERO)))
}

/// Runs `iterations` create/delete rounds.
pub(crate) async fn run(
    node: &mut Node,
    iterations: usize,
    plot_dir: Option<&Path>,
) -> Result<Vec<Metric>> {
    let mut create_one = Vec::new();
    let mut create_all = Vec::new();
    let mut delete_one = Vec::new();
    let mut delete_all = Vec::new();
    let mut create_rpc = Vec::new();
    let mut timeouts = 0;
    let (agent_id, uid) = (node.agent_id.clone(), node.uid);
    for i in 0..iterations {
        while node.events.try_recv().is_ok() {}
        let id = format!("spiffe://example.org/bench/propagation/{i}");
        let t0 = Instant::now();
        let entry = node
            .admin()
            .create(uid_entry(id.clone(), &agent_id, uid))
            .await?;
        create_rpc.push(t0.elapsed());
        match wait_all(node, t0, true, &id).await? {
            Some((one, all)) => {
                create_one.push(one);
                create_all.push(all);
            }
            None => timeouts += 1,
        }
        while node.events.try_recv().is_ok() {}
        let t1 = Instant::now();
        node.admin().delete(&entry).await?;
        match wait_all(node, t1, false, &id).await? {
            Some((one, all)) => {
                delete_one.push(one);
                delete_all.push(all);
            }
            None => timeouts += 1,
        }
    }
    let [c1, call, d1, dall, rpc] = [
        &create_one,
        &create_all,
        &delete_one,
        &delete_all,
        &create_rpc,
    ]
    .map(|v| Samples::new(v));
    if let Some(dir) = plot_dir {
        write_plot(
            dir,
            "propagation",
            &format!(
                "Entry change to one open stream ({} streams open, {} entries)",
                node.streams, node.entries
            ),
            &[
                ("created → SVID on stream", &c1),
                ("deleted → SVID gone", &d1),
            ],
        )?;
    }
    let mut m = vec![
        Metric::new(SCENARIO, "create_to_svid_p50", c1.percentile(50.0), "ms"),
        Metric::new(SCENARIO, "create_to_svid_p99", c1.percentile(99.0), "ms")
            .target(Target::AtMost(200.0)),
        Metric::new(
            SCENARIO,
            "create_to_svid_all_streams_p99",
            call.percentile(99.0),
            "ms",
        ),
        Metric::new(SCENARIO, "delete_to_gone_p50", d1.percentile(50.0), "ms"),
        Metric::new(SCENARIO, "delete_to_gone_p99", d1.percentile(99.0), "ms")
            .target(Target::AtMost(200.0)),
        Metric::new(
            SCENARIO,
            "delete_to_gone_all_streams_p99",
            dall.percentile(99.0),
            "ms",
        ),
        Metric::new(SCENARIO, "create_entry_rpc_p50", rpc.percentile(50.0), "ms"),
        Metric::new(SCENARIO, "iterations", iterations as f64, "rounds"),
    ];
    if timeouts > 0 {
        m.push(Metric::new(
            SCENARIO,
            "timeouts",
            f64::from(timeouts),
            "changes",
        ));
    }
    Ok(m)
}
