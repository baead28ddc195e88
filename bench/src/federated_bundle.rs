//! `federated_bundle`: with the node's streams open and an entry for this process's uid that
//! federates with `other.example`, a new version of that foreign bundle (a new set of X.509
//! authorities) is stored through the admin API, as `lanyard-server bundle set` stores it, and
//! timed until an open stream carries it in `federated_bundles`. The path is the whole system's:
//! admin API → datastore commit → change log → server bundle cache → Sync push → agent store
//! publish → every Workload API stream whose entries federate with the trust domain. Unlike
//! `propagation`, nothing is signed on the way: the agent only hands the new bundle on.
//!
//! Round `i` stores `{CA i, CA i+1}` (the overlap of a foreign rotation), so every round's set
//! differs from the last. "One stream" is stream 0; "all streams" is when the last has it, as in
//! [`crate::propagation`]. Like it, there is no in-process baseline: what it would compare with
//! is the same system's own path, which `propagation` measures in the same run.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Result, anyhow};
use lanyard_id::TrustDomain;
use lanyard_x509::{CaParams, KeyPair, KeyType, Subject, self_signed_ca, split_der_certificates};

use crate::admin::uid_entry;
use crate::node::{Event, Node};
use crate::report::Metric;
use crate::stats::{Samples, write_plot};

const SCENARIO: &str = "federated_bundle";
/// The foreign trust domain.
const FOREIGN: &str = "other.example";
/// The SPIFFE ID of the extra entry for this process's uid that federates with [`FOREIGN`].
const FEDERATING_ID: &str = "spiffe://example.org/bench/federated";
/// How long one change may take before the round counts as timed out.
const PATIENCE: Duration = Duration::from_secs(10);

/// `n` self-signed CA certificates (DER) of [`FOREIGN`], as its server would publish them.
fn foreign_authorities(n: usize) -> Result<Vec<Vec<u8>>> {
    let td = TrustDomain::new(FOREIGN)?;
    let now = SystemTime::now();
    (0..n)
        .map(|i| {
            let key = KeyPair::generate(KeyType::EcP256)?;
            let params = CaParams {
                trust_domain: td.clone(),
                subject: Subject {
                    country: None,
                    organization: Some("bench".to_owned()),
                    common_name: Some(format!("{FOREIGN} CA {i}")),
                },
                not_before: now - Duration::from_secs(10),
                not_after: now + Duration::from_secs(86_400),
                path_len: None,
            };
            Ok(self_signed_ca(&params, &key)?.as_bytes().to_vec())
        })
        .collect()
}

/// Whether `ev` carries exactly the authorities `want` (sorted) for [`FOREIGN`].
fn carries(ev: &Event, want: &[Vec<u8>]) -> bool {
    let Some(blob) = ev.federated.get(&format!("spiffe://{FOREIGN}")) else {
        return false;
    };
    let Ok(certs) = split_der_certificates(blob) else {
        return false;
    };
    let mut got: Vec<Vec<u8>> = certs.iter().map(|c| c.as_bytes().to_vec()).collect();
    got.sort();
    got == want
}

/// (stream 0, all streams) after `t0` until a message of every stream is `done_for`, or `None`
/// on timeout.
async fn wait_all(
    node: &mut Node,
    t0: Instant,
    done_for: impl Fn(&Event) -> bool,
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
        if ev.ids.is_none() {
            return Err(anyhow!(
                "stream {} ended during the federated_bundle run; agent log:\n{}",
                ev.stream,
                node.agent.log_tail()
            ));
        }
        if !done[ev.stream] && done_for(&ev) {
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

/// The authorities `a` and `b`, sorted (the order [`carries`] compares in).
fn set_of(a: &[u8], b: &[u8]) -> Vec<Vec<u8>> {
    let mut set = vec![a.to_vec(), b.to_vec()];
    set.sort();
    set
}

/// Seeds the foreign bundle, adds the federating entry, runs `iterations` bundle changes, and
/// deletes the entry again (so the scenarios after this one see the node as it was).
pub(crate) async fn run(
    node: &mut Node,
    iterations: usize,
    plot_dir: Option<&Path>,
) -> Result<Vec<Metric>> {
    let cas = foreign_authorities(iterations + 1)?;
    let (agent_id, uid) = (node.agent_id.clone(), node.uid);
    let seed = vec![cas[0].clone()];
    node.admin().set_federated_bundle(FOREIGN, &seed, 1).await?;
    let mut entry = uid_entry(FEDERATING_ID.to_owned(), &agent_id, uid);
    entry.federates_with = vec![FOREIGN.to_owned()];
    while node.events.try_recv().is_ok() {}
    let t = Instant::now();
    let entry = node.admin().create(entry).await?;
    wait_all(node, t, |ev| carries(ev, &seed))
        .await?
        .ok_or_else(|| {
            anyhow!(
                "the streams did not carry {FOREIGN}'s seeded bundle within {PATIENCE:?} of the \
             federating entry's creation; agent log:\n{}",
                node.agent.log_tail()
            )
        })?;

    let mut one = Vec::new();
    let mut all = Vec::new();
    let mut rpc = Vec::new();
    let mut timeouts = 0;
    for i in 0..iterations {
        let want = set_of(&cas[i], &cas[i + 1]);
        while node.events.try_recv().is_ok() {}
        let t0 = Instant::now();
        node.admin()
            .set_federated_bundle(FOREIGN, &want, 2 + u64::try_from(i)?)
            .await?;
        rpc.push(t0.elapsed());
        match wait_all(node, t0, |ev| carries(ev, &want)).await? {
            Some((first, last)) => {
                one.push(first);
                all.push(last);
            }
            None => timeouts += 1,
        }
    }
    // The node as it was for the scenarios after this one (`conn_rate` checks that the first
    // SVID a new workload gets is the bench's).
    while node.events.try_recv().is_ok() {}
    let t = Instant::now();
    node.admin().delete(&entry).await?;
    let gone = |ev: &Event| ev.ids.iter().flatten().all(|id| id != FEDERATING_ID);
    wait_all(node, t, gone).await?.ok_or_else(|| {
        anyhow!("the federating entry's deletion did not reach every stream within {PATIENCE:?}")
    })?;

    let [s1, sall, srpc] = [&one, &all, &rpc].map(|v| Samples::new(v));
    if let Some(dir) = plot_dir {
        write_plot(
            dir,
            SCENARIO,
            &format!(
                "Foreign bundle change to one open stream ({} streams open, {} entries)",
                node.streams, node.entries
            ),
            &[("bundle set → on stream", &s1)],
        )?;
    }
    let mut m = vec![
        Metric::new(SCENARIO, "set_to_stream_p50", s1.percentile(50.0), "ms"),
        Metric::new(SCENARIO, "set_to_stream_p99", s1.percentile(99.0), "ms"),
        Metric::new(
            SCENARIO,
            "set_to_stream_all_streams_p99",
            sall.percentile(99.0),
            "ms",
        ),
        Metric::new(SCENARIO, "set_bundle_rpc_p50", srpc.percentile(50.0), "ms"),
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
