//! `lanyard-bench`: the benchmark harness of issue 6. Every scenario drives real
//! `lanyard-server` / `lanyard-agent` processes over real sockets (mTLS TCP for the agent API,
//! Unix sockets for the admin and Workload APIs) and measures its baseline in the same run, so
//! ratios hold on a noisy machine. Prints a table, then one JSON line per metric with the keys
//! `scenario, metric, value, unit, baseline, ratio`. It reports; it never asserts.
//!
//! Scenarios: `sign` ([`sign`]), `sign_fairness` ([`fairness`]), `fetch_latency` ([`fetch`]),
//! `propagation` ([`propagation`]), `federated_bundle` ([`federated_bundle`]), `conn_rate` ([`conn_rate`]), `taint_resign` ([`taint`]),
//! `agent_rss` (the agent's `VmRSS` with the [`node`] set up). See docs/benchmarks.md.

mod admin;
mod conn_rate;
mod fairness;
mod federated_bundle;
mod fetch;
mod node;
mod procs;
mod propagation;
mod report;
mod scale;
mod sign;
mod sim;
mod stats;
mod taint;
mod workload;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::{Parser, ValueEnum};

use node::Node;
use procs::{Bins, status_mib, threads_cpu_seconds};
use report::{Metric, Target};

/// Benchmarks Lanyard's real server and agent processes against in-run baselines.
#[derive(Debug, Parser)]
#[command(name = "lanyard-bench", version, about)]
struct Args {
    /// Smaller sizes (100 entries and streams) and shorter runs: finishes in under a minute.
    #[arg(long)]
    quick: bool,
    /// Run only this scenario (repeatable); all of them by default.
    #[arg(long = "scenario", value_enum, value_name = "NAME")]
    scenarios: Vec<Scenario>,
    /// Print only the JSON lines on stdout (progress and notes still go to stderr).
    #[arg(long)]
    json_only: bool,
    /// Use the lanyard-server and lanyard-agent binaries in this directory instead of building
    /// them with this bench's cargo profile.
    #[arg(long, value_name = "DIR")]
    bin_dir: Option<PathBuf>,
    /// Write latency samples (CSV) and their histograms (SVG) into this directory.
    #[arg(long, value_name = "DIR")]
    plot_dir: Option<PathBuf>,
    /// Registration entries under the agent (default 1000, --quick 100).
    #[arg(long)]
    entries: Option<usize>,
    /// Open FetchX509SVID streams (default 1000, --quick 100).
    #[arg(long)]
    streams: Option<usize>,
    /// Open streams per connection (the agent allows 32 calls per connection).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=32))]
    streams_per_connection: u64,
    /// Simulated agents in the `scale` scenario (default 10000, --quick 1000).
    #[arg(long, value_name = "N")]
    sim_agents: Option<usize>,
    /// Registration entries in the `scale` scenario, spread evenly over the simulated agents
    /// (default 100000, --quick 10000).
    #[arg(long, value_name = "N")]
    sim_entries: Option<usize>,
}

/// The scenarios of this session's subset of issue 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// X.509-SVIDs signed per second through the agent API vs raw CSR-verify + sign.
    #[value(name = "sign")]
    Sign,
    /// Agent B's signing latency alone vs while agent A loops maximal batches.
    #[value(name = "sign_fairness")]
    SignFairness,
    /// First FetchX509SVID response of a new workload vs a raw gRPC round trip.
    #[value(name = "fetch_latency")]
    FetchLatency,
    /// Entry created/deleted → SVID on/gone from an open stream.
    #[value(name = "propagation")]
    Propagation,
    /// Foreign bundle stored (`bundle set`) → new authorities on an open stream.
    #[value(name = "federated_bundle")]
    FederatedBundle,
    /// Agent resident memory with the entries and streams.
    #[value(name = "agent_rss")]
    AgentRss,
    /// New workload connections answered per second, many clients at once.
    #[value(name = "conn_rate")]
    ConnRate,
    /// Every SVID on the agent re-signed after the old X.509 authority is tainted.
    #[value(name = "taint_resign")]
    TaintResign,
    /// A server with many entries and thousands of simulated agents: start to ready, RSS,
    /// per-agent full sync.
    #[value(name = "scale")]
    Scale,
}

/// The 1-minute load average (`/proc/loadavg`): how busy the shared machine was. Above the core
/// count, wall-clock rates and tail latencies say as much about the neighbours as about Lanyard.
fn loadavg(metric: &str) -> Result<Metric> {
    let text = std::fs::read_to_string("/proc/loadavg")?;
    let one: f64 = text
        .split_whitespace()
        .next()
        .ok_or_else(|| anyhow::anyhow!("empty /proc/loadavg"))?
        .parse()?;
    Ok(Metric::new("machine", metric, one, "runnable"))
}

fn say(msg: impl std::fmt::Display) {
    eprintln!("lanyard-bench: {msg}");
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    // Thousands of simulated agents hold a socket each; the server and agent inherit this too
    // (and raise their own). A soft limit of 1,024 would otherwise stop `scale` part-way.
    if let Err(e) = lanyard_observe::raise_open_files_limit() {
        eprintln!("lanyard-bench: {e}");
    }
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lanyard-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<()> {
    let want = |s| args.scenarios.is_empty() || args.scenarios.contains(&s);
    let bins = Bins::locate(args.bin_dir.as_deref())?;
    let started = Instant::now();
    let per_connection = usize::try_from(args.streams_per_connection)?;
    let (entries, streams) = match args.quick {
        true => (args.entries.unwrap_or(100), args.streams.unwrap_or(100)),
        false => (args.entries.unwrap_or(1000), args.streams.unwrap_or(1000)),
    };
    let (sign, calls, rounds) = match args.quick {
        true => (
            sign::SignConfig {
                rounds: 3,
                round: Duration::from_secs(1),
            },
            200,
            10,
        ),
        false => (
            sign::SignConfig {
                rounds: 5,
                round: Duration::from_secs(2),
            },
            1000,
            50,
        ),
    };
    let mut metrics: Vec<Metric> = vec![loadavg("loadavg_1m_at_start")?];
    let mut notes: Vec<String> = Vec::new();

    if want(Scenario::Sign) {
        say(format!(
            "sign: {} rounds of {:?} server, {:?} baseline",
            sign.rounds, sign.round, sign.round
        ));
        match sign::run(&bins, sign).await {
            Ok(m) => metrics.extend(m),
            Err(e) => notes.push(format!("sign: not measured: {e:#}")),
        }
    }

    if want(Scenario::SignFairness) {
        let cfg = fairness::FairnessConfig {
            rounds: sign.rounds,
            round: sign.round,
        };
        say(format!(
            "sign_fairness: {} rounds of {:?} agent B alone, then next to agent A",
            cfg.rounds, cfg.round
        ));
        match fairness::run(&bins, cfg).await {
            Ok(m) => metrics.extend(m),
            Err(e) => notes.push(format!("sign_fairness: not measured: {e:#}")),
        }
    }

    if want(Scenario::Scale) {
        let cfg = match args.quick {
            true => scale::ScaleConfig {
                agents: args.sim_agents.unwrap_or(1000),
                entries: args.sim_entries.unwrap_or(10_000),
                samples: 200,
            },
            false => scale::ScaleConfig {
                agents: args.sim_agents.unwrap_or(10_000),
                entries: args.sim_entries.unwrap_or(100_000),
                samples: 1000,
            },
        };
        say(format!(
            "scale: {} simulated agents, {} entries",
            cfg.agents, cfg.entries
        ));
        match scale::run(&bins, cfg).await {
            Ok(m) => metrics.extend(m),
            Err(e) => notes.push(format!("scale: not measured: {e:#}")),
        }
    }

    let node_scenarios = [
        Scenario::FetchLatency,
        Scenario::Propagation,
        Scenario::FederatedBundle,
        Scenario::ConnRate,
        Scenario::TaintResign,
        Scenario::AgentRss,
    ];
    if node_scenarios.into_iter().any(want) {
        say(format!(
            "node: server + agent, {entries} entries, {streams} open streams"
        ));
        match Node::start(&bins, entries, streams, per_connection).await {
            Err(e) => notes.push(format!(
                "fetch_latency, propagation, federated_bundle, conn_rate, taint_resign, \
                 agent_rss: not measured, \
                 the node did not come up: {e:#}"
            )),
            Ok(mut node) => {
                metrics.push(Metric::new(
                    "setup",
                    "agent_start_to_first_svid",
                    node.startup.as_secs_f64(),
                    "s",
                ));
                let pid = node.agent.pid();
                if want(Scenario::AgentRss) {
                    metrics.push(
                        Metric::new("agent_rss", "vm_rss", status_mib(pid, "VmRSS")?, "MiB")
                            // The target is for 1,000 entries and 1,000 streams.
                            .target_if(entries >= 1000 && streams >= 1000, Target::AtMost(40.0)),
                    );
                    metrics.push(Metric::new(
                        "agent_rss",
                        "vm_rss_before_streams",
                        node.rss_before_streams,
                        "MiB",
                    ));
                    // What the open streams cost while nothing changes.
                    let cpu0 = threads_cpu_seconds(pid, None)?;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    let idle = threads_cpu_seconds(pid, None)? - cpu0;
                    metrics.push(Metric::new(
                        "agent_rss",
                        "idle_cpu_with_streams",
                        idle * 100.0,
                        "% core",
                    ));
                }
                if want(Scenario::FetchLatency) {
                    say(format!("fetch_latency: {calls} calls of each kind"));
                    match fetch::run(&node, calls, args.plot_dir.as_deref()).await {
                        Ok(m) => metrics.extend(m),
                        Err(e) => notes.push(format!("fetch_latency: failed: {e:#}")),
                    }
                }
                if want(Scenario::Propagation) {
                    say(format!("propagation: {rounds} create/delete rounds"));
                    match propagation::run(&mut node, rounds, args.plot_dir.as_deref()).await {
                        Ok(m) => metrics.extend(m),
                        Err(e) => notes.push(format!("propagation: failed: {e:#}")),
                    }
                }
                if want(Scenario::FederatedBundle) {
                    say(format!("federated_bundle: {rounds} foreign bundle changes"));
                    match federated_bundle::run(&mut node, rounds, args.plot_dir.as_deref()).await {
                        Ok(m) => metrics.extend(m),
                        Err(e) => notes.push(format!("federated_bundle: failed: {e:#}")),
                    }
                }
                if want(Scenario::ConnRate) {
                    let cfg = match args.quick {
                        true => conn_rate::ConnRateConfig {
                            sweep: Duration::from_millis(500),
                            window: Duration::from_secs(2),
                        },
                        false => conn_rate::ConnRateConfig {
                            sweep: Duration::from_millis(1500),
                            window: Duration::from_secs(5),
                        },
                    };
                    say(format!(
                        "conn_rate: {:?} per concurrency, then {:?}",
                        cfg.sweep, cfg.window
                    ));
                    match conn_rate::run(&node, cfg, &mut notes).await {
                        Ok(m) => metrics.extend(m),
                        Err(e) => notes.push(format!("conn_rate: failed: {e:#}")),
                    }
                }
                // Last: it changes the node's CA (and the agent's own SVID).
                if want(Scenario::TaintResign) {
                    let rounds = if args.quick { 2 } else { 3 };
                    say(format!(
                        "taint_resign: {rounds} prepare/activate/taint rounds"
                    ));
                    match taint::run(&mut node, rounds, &mut notes).await {
                        Ok(m) => metrics.extend(m),
                        Err(e) => notes.push(format!("taint_resign: failed: {e:#}")),
                    }
                }
                if want(Scenario::AgentRss) {
                    metrics.push(Metric::new(
                        "agent_rss",
                        "vm_hwm_end_of_run",
                        status_mib(pid, "VmHWM")?,
                        "MiB",
                    ));
                }
                if node.ended() > 0 {
                    notes.push(format!(
                        "{} of {streams} open streams ended early",
                        node.ended()
                    ));
                }
                drop(node);
            }
        }
    }
    metrics.push(loadavg("loadavg_1m_at_end")?);
    metrics.push(Metric::new(
        "run",
        "wall_time_after_build",
        started.elapsed().as_secs_f64(),
        "s",
    ));

    if !args.json_only {
        println!(
            "lanyard-bench ({}, binaries: {}, {} cores, {entries} entries, {streams} streams, \
             {per_connection} per connection)\n",
            if args.quick { "quick" } else { "full" },
            bins.profile,
            std::thread::available_parallelism().map_or(0, usize::from),
        );
        print!("{}", report::table(&metrics));
        println!();
    }
    for m in &metrics {
        println!("{}", m.json_line());
    }
    if entries < 1000 || streams < 1000 {
        notes.push(format!(
            "agent_rss and fetch_latency targets are set for 1,000 entries and streams; \
             not judged with {entries} entries and {streams} streams"
        ));
    }
    for n in &notes {
        say(n);
    }
    Ok(())
}
