//! `taint_resign`: how long the agent takes to re-sign every SVID it holds after the X.509
//! authority that signed them is tainted, on the [`Node`] (1,000 entries, quick 100).
//!
//! A round, through the admin API (`LocalAuthority`, what `lanyard-server authority ...` calls):
//! prepare a new X.509 authority, wait until the agent serves it in its bundle, activate it (the
//! old one becomes OLD), then **taint** the old one. The clock starts when the Taint RPC is
//! sent (so its own duration, reported apart, is included) and stops when a `FetchX509SVID`
//! stream opened by this scenario receives the bench's SVID signed by the new authority (the
//! leaf's Authority Key Identifier is the new authority's id).
//!
//! Why that message means *all* SVIDs are re-signed (agent/src/node/mod.rs and workloads.rs):
//! the Sync `Reissue` sets `rotate_at = now` on every held SVID whose AKI is the tainted
//! authority (`Workloads::apply`) and, as the agent's own SVID is signed by it too, renews that
//! first and reconnects. The run loop then takes every due entry at once (`Workloads::due`),
//! signs them in one `Workloads::sign` pass (`BatchSignX509Svids`, up to 500 CSRs a call,
//! the calls one after another) and publishes one snapshot after that pass returns; the
//! Workload API sends streams only what a publish changed. So the first stream message with a
//! new-authority SVID follows the signing of every due entry, unless the server refused some
//! (then they are retried later). To check that rather than trust it, the agent's own log is
//! read too: it writes one `workload SVID signed` line per SVID before the publish, and the
//! lines written since the taint must number the node's entries (`resigned_svids`). Their
//! timestamps split the time into the agent's own renewal, the first and the last batch.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Result, anyhow, bail};
use lanyard_proto::lanyard::admin::v1::AuthorityState;
use lanyard_proto::workload::X509svidResponse;
use lanyard_x509::{CertInfo, split_der_certificates};
use tokio::sync::mpsc;

use crate::node::{Node, WORKLOAD_ID};
use crate::procs::threads_cpu_seconds;
use crate::report::{Metric, Target};
use crate::stats::Samples;
use crate::workload;

const SCENARIO: &str = "taint_resign";
/// The agent's log line for each SVID it signs (agent/src/node/workloads.rs).
const SIGNED_LINE: &str = "workload SVID signed";
/// The agent's log line when its own SVID is renewed (agent/src/node/mod.rs).
const RENEWED_LINE: &str = "agent SVID renewed";
/// How long a round may take before it counts as failed.
const LIMIT: Duration = Duration::from_secs(60);

/// The bench's SVID in `resp`: (leaf AKI as hex, whether the bundle holds `ca_der`).
fn inspect(resp: &X509svidResponse, ca_der: &[u8]) -> Result<(String, bool)> {
    let svid = resp
        .svids
        .iter()
        .find(|s| s.spiffe_id == WORKLOAD_ID)
        .ok_or_else(|| anyhow!("a response without {WORKLOAD_ID}"))?;
    let chain = split_der_certificates(&svid.x509_svid)?;
    let leaf = chain.first().ok_or_else(|| anyhow!("an empty x509_svid"))?;
    let aki = CertInfo::from_der(leaf.as_bytes())?
        .authority_key_id
        .ok_or_else(|| anyhow!("a leaf without an Authority Key Identifier"))?;
    let in_bundle = split_der_certificates(&svid.bundle)?
        .iter()
        .any(|c| c.as_bytes() == ca_der);
    Ok((hex::encode(aki), in_bundle))
}

/// Days from 1970-01-01 to the civil date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The Unix time of a log line's leading RFC 3339 UTC timestamp
/// (`2025-01-02T03:04:05.678901Z`), as tracing-subscriber's text format writes it.
fn line_time(line: &str) -> Option<f64> {
    let ts = line.split_whitespace().next()?.strip_suffix('Z')?;
    let (date, time) = ts.split_once('T')?;
    let mut d = date.splitn(3, '-').map(str::parse::<i64>);
    let (y, mo, da) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let mut t = time.splitn(3, ':');
    let (h, mi) = (
        t.next()?.parse::<i64>().ok()?,
        t.next()?.parse::<i64>().ok()?,
    );
    let s: f64 = t.next()?.parse().ok()?;
    Some((days_from_civil(y, mo, da) * 86_400 + h * 3600 + mi * 60) as f64 + s)
}

fn unix(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// What the agent logged since byte `from`: SVIDs signed, and the times (seconds after
/// `since`) of its renewal and of the first and last SVID signed.
struct Logged {
    signed: usize,
    renewed: Option<f64>,
    first: Option<f64>,
    last: Option<f64>,
}

fn read_log(text: &str, since: SystemTime) -> Logged {
    let since = unix(since);
    let mut out = Logged {
        signed: 0,
        renewed: None,
        first: None,
        last: None,
    };
    for line in text.lines() {
        let at = || line_time(line).map(|t| t - since);
        if line.contains(SIGNED_LINE) {
            out.signed += 1;
            out.first = out.first.or_else(at);
            out.last = at().or(out.last);
        } else if line.contains(RENEWED_LINE) {
            out.renewed = out.renewed.or_else(at);
        }
    }
    out
}

/// One round's measurements.
struct Round {
    total: Duration,
    rpc: Duration,
    logged: Option<Logged>,
    agent_cpu: f64,
    server_cpu: f64,
}

/// A `FetchX509SVID` stream of our own, each message timestamped as it arrives.
async fn watch(node: &Node) -> Result<mpsc::UnboundedReceiver<(Instant, X509svidResponse)>> {
    let mut client = workload::connect(&node.agent.socket).await?;
    let mut stream = workload::fetch(&mut client).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let _client = client;
        while let Ok(Some(resp)) = stream.message().await {
            if tx.send((Instant::now(), resp)).is_err() {
                return;
            }
        }
    });
    Ok(rx)
}

/// The next message within `LIMIT`.
async fn next_msg(
    node: &Node,
    rx: &mut mpsc::UnboundedReceiver<(Instant, X509svidResponse)>,
    waiting_for: &str,
) -> Result<(Instant, X509svidResponse)> {
    match tokio::time::timeout(LIMIT, rx.recv()).await {
        Ok(Some(m)) => Ok(m),
        Ok(None) => bail!(
            "the stream ended while waiting for {waiting_for}; agent log:\n{}",
            node.agent.log_tail()
        ),
        Err(_) => bail!(
            "no {waiting_for} within {LIMIT:?}; agent log:\n{}",
            node.agent.log_tail()
        ),
    }
}

async fn round(node: &mut Node) -> Result<Round> {
    let old = node
        .admin()
        .x509_authorities()
        .await?
        .into_iter()
        .find(|a| a.state == AuthorityState::Active)
        .ok_or_else(|| anyhow!("the server lists no ACTIVE X.509 authority"))?;
    let mut rx = watch(node).await?;
    let (_, first) = next_msg(node, &mut rx, "the first response").await?;
    let (aki, _) = inspect(&first, &[])?;
    if aki != old.id {
        bail!(
            "the bench's SVID is signed by {aki}, not by the active authority {}",
            old.id
        );
    }

    // Prepare (published in the bundle, not signing yet) and wait until the agent serves the
    // new bundle, so the agent is idle again when the taint comes.
    let new = node.admin().prepare_x509().await?;
    loop {
        let (_, resp) = next_msg(node, &mut rx, "the prepared authority in the bundle").await?;
        if inspect(&resp, &new.certificate)?.1 {
            break;
        }
    }
    node.admin().activate_x509(&new.id).await?;
    // Whatever activation made the agent send, it must not be a re-signed SVID yet.
    tokio::time::sleep(Duration::from_millis(200)).await;
    while let Ok((_, resp)) = rx.try_recv() {
        let (aki, _) = inspect(&resp, &[])?;
        if aki != old.id {
            bail!("the bench's SVID moved to {aki} before the taint");
        }
    }

    let log_from = node.agent_log_len();
    let (agent_pid, server_pid) = (node.agent.pid(), node.server.pid());
    let cpu0 = (
        threads_cpu_seconds(agent_pid, None)?,
        threads_cpu_seconds(server_pid, None)?,
    );
    let wall0 = SystemTime::now();
    let t0 = Instant::now();
    let tainted = node.admin().taint_x509(&old.id).await?;
    let rpc = t0.elapsed();
    if tainted.id != old.id {
        bail!(
            "TaintX509Authority answered for {} not {}",
            tainted.id,
            old.id
        );
    }
    let done = loop {
        let (at, resp) = next_msg(node, &mut rx, "an SVID signed by the new authority").await?;
        if inspect(&resp, &[])?.0 == new.id {
            break at;
        }
    };
    let total = done.saturating_duration_since(t0);
    let cpu1 = (
        threads_cpu_seconds(agent_pid, None)?,
        threads_cpu_seconds(server_pid, None)?,
    );
    let logged = match log_from {
        Some(from) => Some(read_log(&node.agent_log_between(from, u64::MAX)?, wall0)),
        None => None,
    };
    Ok(Round {
        total,
        rpc,
        logged,
        agent_cpu: cpu1.0 - cpu0.0,
        server_cpu: cpu1.1 - cpu0.1,
    })
}

/// `rounds` prepare/activate/taint rounds, one after another. Anything odd goes to `notes`.
pub(crate) async fn run(
    node: &mut Node,
    rounds: usize,
    notes: &mut Vec<String>,
) -> Result<Vec<Metric>> {
    let mut done = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let r = round(node).await?;
        crate::say(format!(
            "taint_resign: round {}: {:.0} ms ({} SVIDs re-signed per the agent log)",
            i + 1,
            r.total.as_secs_f64() * 1e3,
            r.logged
                .as_ref()
                .map_or_else(|| "?".to_owned(), |l| l.signed.to_string())
        ));
        done.push(r);
    }
    let totals: Vec<Duration> = done.iter().map(|r| r.total).collect();
    let rpcs: Vec<Duration> = done.iter().map(|r| r.rpc).collect();
    let (totals, rpcs) = (Samples::new(&totals), Samples::new(&rpcs));
    let entries = node.entries;
    let n = done.len().max(1) as f64;
    let mean = |f: &dyn Fn(&Round) -> f64| done.iter().map(f).sum::<f64>() / n;
    let mut metrics = vec![
        Metric::new(
            SCENARIO,
            "taint_to_all_resigned_max",
            totals.percentile(100.0) / 1e3,
            "s",
        )
        // The target is for 1,000 SVIDs on the agent.
        .target_if(entries >= 1000, Target::AtMost(2.0)),
        Metric::new(
            SCENARIO,
            "taint_to_all_resigned_p50",
            totals.percentile(50.0) / 1e3,
            "s",
        ),
        Metric::new(SCENARIO, "taint_rpc_p50", rpcs.percentile(50.0), "ms"),
        Metric::new(
            SCENARIO,
            "agent_cpu_per_svid",
            mean(&|r| r.agent_cpu) / entries as f64 * 1e6,
            "us",
        ),
        Metric::new(
            SCENARIO,
            "server_cpu_per_svid",
            mean(&|r| r.server_cpu) / entries as f64 * 1e6,
            "us",
        ),
    ];
    let logs: Vec<&Logged> = done.iter().filter_map(|r| r.logged.as_ref()).collect();
    if logs.len() == done.len() && !logs.is_empty() {
        let fewest = logs.iter().map(|l| l.signed).min().unwrap_or(0);
        metrics.push(Metric::new(
            SCENARIO,
            "resigned_svids_min",
            fewest as f64,
            "SVIDs",
        ));
        if fewest < entries {
            notes.push(format!(
                "taint_resign: a round's stream moved to the new authority after the agent \
                 logged only {fewest} of {entries} SVIDs signed"
            ));
        }
        // Where the time goes (agent log timestamps, seconds after the Taint RPC was sent).
        let median = |f: &dyn Fn(&Logged) -> Option<f64>| {
            let mut v: Vec<f64> = logs.iter().filter_map(|l| f(l)).collect();
            v.sort_by(f64::total_cmp);
            // Nearest rank, as `Samples::percentile(50.0)`.
            v.get(v.len().saturating_sub(1) / 2).copied()
        };
        for (name, value) in [
            ("taint_to_agent_renewed_p50", median(&|l| l.renewed)),
            ("taint_to_first_svid_signed_p50", median(&|l| l.first)),
            ("taint_to_last_svid_signed_p50", median(&|l| l.last)),
        ] {
            if let Some(v) = value {
                metrics.push(Metric::new(SCENARIO, name, v * 1e3, "ms"));
            }
        }
    } else {
        notes.push(
            "taint_resign: the agent's log was not found; re-signed SVIDs not counted".to_owned(),
        );
    }
    metrics.push(Metric::new(SCENARIO, "rounds", done.len() as f64, "rounds"));
    Ok(metrics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::strip_ansi;

    #[test]
    fn log_times_parse() {
        let line = "\u{1b}[2m2024-03-01T12:00:01.500000Z\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m x: \
                    workload SVID signed";
        let plain = strip_ansi(line);
        assert!(plain.starts_with("2024-03-01T12:00:01.500000Z  INFO"));
        // 2024-03-01 is day 19783 since the epoch.
        assert_eq!(line_time(&plain), Some(19_783.0 * 86_400.0 + 43_201.5));
        assert_eq!(days_from_civil(1970, 1, 1), 0);
    }
}
