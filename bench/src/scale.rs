//! `scale`: a server with many entries and thousands of simulated agents ([`crate::sim`]).
//!
//! Setup goes through the real APIs: join tokens from the admin API, one `Attest` per simulated
//! agent, entries with `BatchCreateEntries` (an even share under each agent, selecting
//! `unix:uid:*`). Then the server is restarted on the same SQLite data and timed from spawn to
//! its ready line (datastore open, CA loaded, every entry in the cache, listening). Then every
//! simulated agent reconnects over mTLS and takes a full sync (as after a restart), at most
//! [`RECONNECT_CONCURRENCY`] at once, and keeps its stream open; each snapshot must carry exactly
//! the agent's share. With every stream open: the server's RSS, and a full sync of sampled
//! agents one at a time on their open connections — the latency one agent sees while the
//! server holds all the others.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Result, bail};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::admin::{Admin, uid_entry};
use crate::procs::{Bins, Server, cpu_seconds, status_mib};
use crate::report::{Metric, Target};
use crate::sign::td;
use crate::sim::{self, SimAgent, Synced};
use crate::stats::Samples;

const SCENARIO: &str = "scale";
/// Simulated agents dialling and syncing at once after the restart.
const RECONNECT_CONCURRENCY: usize = 256;

/// How often a simulated agent dials again after its handshake was refused.
const MAX_RECONNECT_ATTEMPTS: u32 = 10;

/// Whether `e` is a connection closed before its TLS handshake completed (`Unavailable`, as
/// tonic reports a failed dial).
fn refused_handshake(e: &anyhow::Error) -> bool {
    e.downcast_ref::<tonic::Status>()
        .is_some_and(|s| s.code() == tonic::Code::Unavailable)
}
/// The sizes, for which its targets are set.
const TARGET_AGENTS: usize = 10_000;
const TARGET_ENTRIES: usize = 100_000;

/// Sizes of one run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScaleConfig {
    /// Simulated agents.
    pub(crate) agents: usize,
    /// Registration entries, spread evenly over the agents.
    pub(crate) entries: usize,
    /// Agents whose full sync is timed one at a time with every stream open.
    pub(crate) samples: usize,
}

fn say(msg: impl std::fmt::Display) {
    eprintln!("lanyard-bench: scale: {msg}");
}

/// Runs the scenario on a server of its own.
pub(crate) async fn run(bins: &Bins, cfg: ScaleConfig) -> Result<Vec<Metric>> {
    if cfg.agents == 0 {
        bail!("--sim-agents must be at least 1");
    }
    let full = cfg.agents >= TARGET_AGENTS && cfg.entries >= TARGET_ENTRIES;
    let td = td()?;
    let mut server = Server::start(bins).await?;
    let mut m = Vec::new();

    say(format!("attesting {} simulated agents", cfg.agents));
    let started = Instant::now();
    let tokens = sim::join_tokens(&server, cfg.agents).await?;
    let bundle_pem = server.bundle_pem().await?;
    let mut agents = sim::attest_all(server.agent_addr, &td, &bundle_pem, tokens).await?;
    m.push(Metric::new(
        SCENARIO,
        "setup_agents_attested_per_sec",
        cfg.agents as f64 / started.elapsed().as_secs_f64(),
        "agents/s",
    ));

    say(format!("creating {} entries", cfg.entries));
    let started = Instant::now();
    let entries = (0..cfg.entries)
        .map(|k| {
            let owner = &agents[k % cfg.agents].spiffe_id;
            let n = k / cfg.agents;
            let spiffe_id = format!("spiffe://example.org/sim/{}/w{n}", k % cfg.agents);
            uid_entry(
                spiffe_id,
                owner,
                10_000 + u32::try_from(n).unwrap_or(u32::MAX),
            )
        })
        .collect();
    Admin::connect(&server.socket)
        .await?
        .create_all(entries)
        .await?;
    m.push(Metric::new(
        SCENARIO,
        "setup_entries_created_per_sec",
        cfg.entries as f64 / started.elapsed().as_secs_f64(),
        "entries/s",
    ));

    say("restarting the server on the same data");
    let ready = server.restart().await?;
    m.push(
        Metric::new(SCENARIO, "server_start_to_ready", ready.as_secs_f64(), "s")
            .target_if(full, Target::AtMost(10.0)),
    );
    m.push(Metric::new(
        SCENARIO,
        "server_rss_ready_no_agents",
        status_mib(server.pid(), "VmRSS")?,
        "MiB",
    ));

    say(format!(
        "reconnecting {} agents ({RECONNECT_CONCURRENCY} at once), each takes a full sync",
        cfg.agents
    ));
    let ended = Arc::new(AtomicUsize::new(0));
    let cpu0 = cpu_seconds(server.pid())?;
    let started = Instant::now();
    let synced = reconnect_all(&mut agents, &server, &ended).await?;
    let storm = started.elapsed();
    let storm_cpu = cpu_seconds(server.pid())? - cpu0;
    for (i, s) in synced.iter().enumerate() {
        check_share(&agents[i], s, share(cfg, i))?;
    }
    let storm_samples = Samples::new(&synced.iter().map(|s| s.latency).collect::<Vec<_>>());
    m.extend([
        Metric::new(SCENARIO, "reconnect_all_synced", storm.as_secs_f64(), "s"),
        Metric::new(
            SCENARIO,
            "reconnect_connect_and_sync_p99",
            storm_samples.percentile(99.0),
            "ms",
        ),
        Metric::new(
            SCENARIO,
            "reconnect_server_cpu_per_agent",
            storm_cpu / cfg.agents as f64 * 1e6,
            "us",
        ),
    ]);

    m.push(
        Metric::new(
            SCENARIO,
            "server_rss_all_streams_open",
            status_mib(server.pid(), "VmRSS")?,
            "MiB",
        )
        .target_if(full, Target::AtMost(500.0)),
    );
    m.push(Metric::new(
        SCENARIO,
        "simulator_rss_per_agent",
        status_mib(std::process::id(), "VmRSS")? * 1024.0 / cfg.agents as f64,
        "KiB",
    ));

    let samples = cfg.samples.clamp(1, cfg.agents);
    say(format!(
        "timing {samples} full syncs one at a time, every stream open"
    ));
    let mut latencies = Vec::with_capacity(samples);
    for k in 0..samples {
        let i = k * cfg.agents / samples;
        let (s, stream) = agents[i].full_sync().await?;
        check_share(&agents[i], &s, share(cfg, i))?;
        latencies.push(s.latency);
        drop(stream);
    }
    let one = Samples::new(&latencies);
    m.extend([
        Metric::new(SCENARIO, "full_sync_p50", one.percentile(50.0), "ms"),
        Metric::new(SCENARIO, "full_sync_p99", one.percentile(99.0), "ms")
            .target_if(full, Target::AtMost(5.0)),
        Metric::new(SCENARIO, "full_sync_samples", one.len() as f64, "syncs"),
    ]);

    m.push(Metric::new(
        SCENARIO,
        "server_vm_hwm",
        status_mib(server.pid(), "VmHWM")?,
        "MiB",
    ));
    let ended = ended.load(Ordering::Relaxed);
    if ended > 0 {
        bail!("{ended} of the simulated agents' Sync streams ended during the run");
    }
    Ok(m)
}

/// How many entries agent `i` has: entry `k` belongs to agent `k % agents`.
fn share(cfg: ScaleConfig, i: usize) -> usize {
    cfg.entries / cfg.agents + usize::from(i < cfg.entries % cfg.agents)
}

fn check_share(agent: &SimAgent, s: &Synced, want: usize) -> Result<()> {
    if s.entries != want {
        bail!(
            "{}'s snapshot carried {} entries, not its {want}",
            agent.spiffe_id,
            s.entries
        );
    }
    Ok(())
}

/// Every agent dials, takes a full sync and keeps the stream open (drained), at most
/// [`RECONNECT_CONCURRENCY`] at once; results in `agents` order.
async fn reconnect_all(
    agents: &mut Vec<SimAgent>,
    server: &Server,
    ended: &Arc<AtomicUsize>,
) -> Result<Vec<Synced>> {
    let td = td()?;
    let gate = Arc::new(Semaphore::new(RECONNECT_CONCURRENCY));
    let mut set = JoinSet::new();
    let retries = Arc::new(AtomicUsize::new(0));
    for (i, mut a) in std::mem::take(agents).into_iter().enumerate() {
        a.connect(server.agent_addr, &td)?;
        let permit = Arc::clone(&gate).acquire_owned().await?;
        let ended = Arc::clone(ended);
        let (retries, td, addr) = (Arc::clone(&retries), td.clone(), server.agent_addr);
        set.spawn(async move {
            let mut attempt = 0u32;
            let (synced, stream) = loop {
                match a.full_sync().await {
                    Ok(r) => break r,
                    // Refused before TLS completed: the server closes handshakes beyond its
                    // per-address bound at once (all simulated agents dial from 127.0.0.1).
                    // A real agent backs off and dials again; so does this one.
                    Err(e) if attempt < MAX_RECONNECT_ATTEMPTS && refused_handshake(&e) => {
                        attempt += 1;
                        retries.fetch_add(1, Ordering::Relaxed);
                        let spread = u64::try_from(i % 50).unwrap_or(0);
                        tokio::time::sleep(std::time::Duration::from_millis(
                            (20 << attempt.min(5)) + spread,
                        ))
                        .await;
                        a.connect(addr, &td)?;
                    }
                    Err(e) => return Err(e),
                }
            };
            drop(permit);
            sim::drain(stream, ended);
            Ok::<_, anyhow::Error>((i, a, synced))
        });
    }
    let mut done = Vec::with_capacity(set.len());
    while let Some(r) = set.join_next().await {
        done.push(r??);
    }
    let retried = retries.load(Ordering::Relaxed);
    if retried > 0 {
        eprintln!(
            "lanyard-bench: scale: {retried} reconnects refused at the TLS handshake (the server's per-address bound) and retried"
        );
    }
    done.sort_by_key(|(i, _, _)| *i);
    let mut out = Vec::with_capacity(done.len());
    for (_, a, s) in done {
        agents.push(a);
        out.push(s);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_the_entries() {
        for (agents, entries) in [(3, 10), (10, 10), (7, 100), (4, 2)] {
            let cfg = ScaleConfig {
                agents,
                entries,
                samples: 1,
            };
            let total: usize = (0..agents).map(|i| share(cfg, i)).sum();
            assert_eq!(total, entries, "{agents} agents, {entries} entries");
            // Entry k goes to agent k % agents: count them the same way.
            for i in 0..agents {
                let direct = (0..entries).filter(|k| k % agents == i).count();
                assert_eq!(share(cfg, i), direct);
            }
        }
    }
}
