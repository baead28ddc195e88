//! `conn_rate`: new workload connections the agent answers per second, attestation included,
//! with many clients at once, on the [`Node`] (its entries signed, its streams open).
//!
//! Each client task loops as a new workload does: connect to the Workload API socket,
//! `FetchX509SVID` with the security header, read the first response, close the connection
//! ([`first_response_new_conn`]). A completion counts only if the response carries the bench's
//! SVID (ID, certificate and key present); anything else is a failure, counted and reported.
//!
//! Concurrencies of 2 × cores × {1, 2, 4} tasks are each run for a short window, then the one
//! with the highest rate for the main window. Client and agent share the machine's cores, so the
//! agent's CPU per connection, the bench client's CPU per connection and the machine's busy
//! share (`/proc/stat`, all processes) are reported too: they say what bounds the rate.
//!
//! The sweep stops at 2 × cores × 4: the agent sheds a uid's connections beyond
//! `[workload_api] max_connections_per_uid` (1,024; the bench's clients and the node's 1,000
//! streams are one uid). A client's closed connection frees its slot only when the agent has seen
//! the close, so near the limit a new one can be shed: the agent's warning (`SHED_LINE`, at most
//! one per 10 s) carries how many it closed since the previous one, and those counts are summed
//! from its log (a lower bound: closings after the window's last warning are reported later).
//! The main window uses the fastest concurrency that had no failures.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

use crate::node::{Node, WORKLOAD_ID};
use crate::procs::threads_cpu_seconds;
use crate::report::{Metric, Target};
use crate::workload::first_response_new_conn;

const SCENARIO: &str = "conn_rate";
/// Multiples of 2 × cores tried.
const FACTORS: [usize; 3] = [1, 2, 4];
/// The agent's warning about connections closed at once because of its connection limits.
const SHED_LINE: &str = "Workload API connection limit reached";

/// How long each phase runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnRateConfig {
    /// Each concurrency of the sweep.
    pub(crate) sweep: Duration,
    /// The main window at the best concurrency.
    pub(crate) window: Duration,
}

/// Counters the client tasks share.
#[derive(Default)]
struct Counts {
    ok: AtomicU64,
    failed: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Counts {
    fn snapshot(&self) -> (u64, u64) {
        (
            self.ok.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }
}

/// Busy and total jiffies of all cores, from the first line of `/proc/stat` (idle and iowait
/// are not busy). Every process counts, the neighbours' too.
fn machine_jiffies() -> Result<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let line = stat
        .lines()
        .next()
        .filter(|l| l.starts_with("cpu "))
        .ok_or_else(|| anyhow!("no cpu line in /proc/stat"))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8) // user nice system idle iowait irq softirq steal (guest is inside user)
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let total: u64 = v.iter().sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    Ok((total - idle, total))
}

/// What one measured window saw.
struct Window {
    ok: u64,
    failed: u64,
    secs: f64,
    agent_cpu: f64,
    client_cpu: f64,
    /// Busy share of all cores, 0..=1.
    machine_busy: f64,
    /// Connections the agent shed at its limit during the window, from its log; `None`
    /// without the log.
    shed: Option<usize>,
}

/// Runs `tasks` clients; measures completions over `window` after a short warm-up.
/// The connections the agent's [`SHED_LINE`] warnings in `log` say it closed (`closed=N`).
fn shed_count(log: &str) -> usize {
    log.lines()
        .filter(|l| l.contains(SHED_LINE))
        .filter_map(|l| l.split("closed=").nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse::<usize>().ok())
        .sum()
}

/// The note for a window in which connections failed, with how many the agent shed and the
/// first error; `None` if none failed.
fn failure_note(window: &str, w: &Window, first_error: Option<String>) -> Option<String> {
    if w.failed == 0 {
        return None;
    }
    let shed = match w.shed {
        Some(n) => format!("{n} shed at the agent's connection limit per its log"),
        None => "agent log not found".to_owned(),
    };
    Some(format!(
        "conn_rate: {window}: {} of {} connections failed ({shed}); first: {}",
        w.failed,
        w.ok + w.failed,
        first_error.unwrap_or_default()
    ))
}

async fn measure(node: &Node, tasks: usize, window: Duration) -> Result<(Window, Option<String>)> {
    let counts = Arc::new(Counts::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut set = JoinSet::new();
    for _ in 0..tasks {
        let (counts, stop) = (Arc::clone(&counts), Arc::clone(&stop));
        let socket = node.agent.socket.clone();
        set.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let why = match first_response_new_conn(&socket).await {
                    Ok((_, resp)) => match resp.svids.first() {
                        Some(s)
                            if s.spiffe_id == WORKLOAD_ID
                                && !s.x509_svid.is_empty()
                                && !s.x509_svid_key.is_empty() =>
                        {
                            counts.ok.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        other => format!(
                            "a response without the bench's SVID: {:?}",
                            other.map(|s| &s.spiffe_id)
                        ),
                    },
                    Err(e) => format!("{e:#}"),
                };
                counts.failed.fetch_add(1, Ordering::Relaxed);
                counts.first_error.lock().await.get_or_insert(why);
            }
        });
    }
    // Warm-up: every task has connected a few times.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (agent_pid, me) = (node.agent.pid(), std::process::id());
    let (cpu_a, cpu_c, jif) = (
        threads_cpu_seconds(agent_pid, None)?,
        threads_cpu_seconds(me, None)?,
        machine_jiffies()?,
    );
    let log0 = node.agent_log_len();
    let (ok0, failed0) = counts.snapshot();
    let t0 = Instant::now();
    tokio::time::sleep(window).await;
    let (ok1, failed1) = counts.snapshot();
    let secs = t0.elapsed().as_secs_f64();
    let log1 = node.agent_log_len();
    let (cpu_a1, cpu_c1, jif1) = (
        threads_cpu_seconds(agent_pid, None)?,
        threads_cpu_seconds(me, None)?,
        machine_jiffies()?,
    );
    stop.store(true, Ordering::Relaxed);
    while let Some(r) = set.join_next().await {
        r?;
    }
    let first_error = counts.first_error.lock().await.take();
    let shed = match (log0, log1) {
        (Some(from), Some(to)) => Some(shed_count(&node.agent_log_between(from, to)?)),
        _ => None,
    };
    let busy = (jif1.0 - jif.0) as f64 / ((jif1.1 - jif.1) as f64).max(1.0);
    Ok((
        Window {
            ok: ok1 - ok0,
            failed: failed1 - failed0,
            secs,
            agent_cpu: cpu_a1 - cpu_a,
            client_cpu: cpu_c1 - cpu_c,
            machine_busy: busy,
            shed,
        },
        first_error,
    ))
}

/// The sweep, then the main window at the best concurrency. Failures (and the first error) go
/// to `notes`.
pub(crate) async fn run(
    node: &Node,
    cfg: ConnRateConfig,
    notes: &mut Vec<String>,
) -> Result<Vec<Metric>> {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let mut metrics = Vec::new();
    // (clients, rate, failed)
    let mut sweep = Vec::new();
    for k in FACTORS {
        let tasks = 2 * cores * k;
        let (w, err) = measure(node, tasks, cfg.sweep).await?;
        let rate = w.ok as f64 / w.secs;
        crate::say(format!(
            "conn_rate: {tasks} clients: {rate:.0}/s, {} failed",
            w.failed
        ));
        metrics.push(Metric::new(
            SCENARIO,
            &format!("conns_per_sec_{tasks}_clients"),
            rate,
            "conn/s",
        ));
        notes.extend(failure_note(&format!("{tasks} clients"), &w, err));
        sweep.push((tasks, rate, w.failed));
    }
    // The fastest without failures (the fastest of all if every one had some).
    let any_clean = sweep.iter().any(|s| s.2 == 0);
    let tasks = sweep
        .iter()
        .filter(|s| s.2 == 0 || !any_clean)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(2 * cores, |s| s.0);
    let (w, err) = measure(node, tasks, cfg.window).await?;
    let per_conn = |cpu: f64| cpu / (w.ok.max(1) as f64) * 1e6;
    metrics.extend([
        Metric::new(SCENARIO, "conns_per_sec", w.ok as f64 / w.secs, "conn/s")
            .target(Target::AtLeast(5000.0)),
        Metric::new(SCENARIO, "clients", tasks as f64, "tasks"),
        // Connections per CPU-second of agent and bench client together: with the cores to
        // themselves, the rate could reach about this times the core count.
        Metric::new(
            SCENARIO,
            "conns_per_cpu_second",
            w.ok as f64 / (w.agent_cpu + w.client_cpu).max(1e-9),
            "conn/cpu-s",
        ),
        Metric::new(SCENARIO, "agent_cpu_per_conn", per_conn(w.agent_cpu), "us"),
        Metric::new(
            SCENARIO,
            "bench_client_cpu_per_conn",
            per_conn(w.client_cpu),
            "us",
        ),
        Metric::new(
            SCENARIO,
            "agent_cpu_share",
            w.agent_cpu / w.secs * 100.0,
            "% core",
        ),
        Metric::new(
            SCENARIO,
            "bench_client_cpu_share",
            w.client_cpu / w.secs * 100.0,
            "% core",
        ),
        Metric::new(
            SCENARIO,
            "machine_busy",
            w.machine_busy * 100.0,
            "% all cores",
        ),
        Metric::new(SCENARIO, "connections", w.ok as f64, "conns"),
        Metric::new(SCENARIO, "failed", w.failed as f64, "conns"),
    ]);
    notes.extend(failure_note(
        &format!("main window ({tasks} clients)"),
        &w,
        err,
    ));
    Ok(metrics)
}

#[cfg(test)]
mod tests {
    #[test]
    fn shed_counts_are_summed_from_the_agents_warnings() {
        let log = "2026-12-07T01:00:00Z  WARN lanyard_agent::workload: Workload API connection limit reached; closing new connections uid=0 reason=this uid holds its 1024 connections closed=1\n\
                   2026-12-07T01:00:01Z  INFO lanyard_agent::workload: something else closed=99\n\
                   2026-12-07T01:00:11Z  WARN lanyard_agent::workload: Workload API connection limit reached; closing new connections uid=0 reason=this uid holds its 1024 connections closed=41\n";
        assert_eq!(super::shed_count(log), 42);
    }
}
