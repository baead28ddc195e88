//! `sign_fairness`: one agent looping maximal `BatchSignX509Svids` calls must not starve the
//! others (issue 14 item 3). Agent B renews a handful of workloads at a time, one batch after
//! the other; its batch latency is measured alone (the baseline) and while agent A keeps
//! several connections busy with maximal batches (the value). Rounds alternate between the two,
//! so load others put on the machine meanwhile falls on both. The target is B's median latency
//! at most twice its baseline; the server's `[agent_api] max_concurrent_signs_per_agent` is
//! what holds A to its share.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use lanyard_proto::lanyard::agent::v1::sign_x509_svid_result::Result as SignOutcome;

use crate::admin::Admin;
use crate::procs::{Bins, Server};
use crate::report::{Metric, Target};
use crate::sign::{BenchAgent, batch, csr_pool, td, wait_signable};
use crate::stats::Samples;

const SCENARIO: &str = "sign_fairness";
/// Items per call of agent A: the server's largest batch (`agent_api::MAX_BATCH`).
const A_BATCH: usize = 500;
/// Connections of agent A, each looping maximal batches back to back.
const A_CALLERS_PER_CORE: usize = 4;
/// Items per call of agent B: a node renewing a few workloads.
const B_BATCH: usize = 10;

/// Sizes of one run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FairnessConfig {
    /// Rounds; each measures B alone, then B next to A.
    pub(crate) rounds: u32,
    /// How long B is measured per side and round.
    pub(crate) round: Duration,
}

/// Runs the scenario on a server of its own.
pub(crate) async fn run(bins: &Bins, cfg: FairnessConfig) -> Result<Vec<Metric>> {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let server = Server::start(bins).await?;
    let td = td()?;
    let (a, b) = (
        BenchAgent::attest(&server, &td).await?,
        BenchAgent::attest(&server, &td).await?,
    );
    let mut admin = Admin::connect(&server.socket).await?;
    let a_ids = a.entries(&mut admin, "fair-a", A_BATCH).await?;
    let b_ids = b.entries(&mut admin, "fair-b", B_BATCH).await?;
    let pool = csr_pool(A_BATCH).await?;

    let mut b_client = b.connect()?;
    wait_signable(&mut b_client, batch(&b_ids, &pool, B_BATCH, 0)).await?;
    let b_requests: Vec<_> = (0..A_BATCH / B_BATCH)
        .map(|k| batch(&b_ids, &pool, B_BATCH, k * B_BATCH))
        .collect();
    let mut a_callers = Vec::new();
    for n in 0..A_CALLERS_PER_CORE * cores {
        let mut cl = a.connect()?;
        let request = batch(&a_ids, &pool, A_BATCH, n);
        wait_signable(&mut cl, request.clone()).await?;
        a_callers.push((cl, request));
    }

    let (mut alone, mut loaded) = (Vec::new(), Vec::new());
    let (mut a_signed, mut a_secs) = (0, 0.0);
    for _ in 0..cfg.rounds {
        alone.extend(b_round(&mut b_client, &b_requests, cfg.round).await?);

        // A's load, steady before B is measured: every caller has had a batch back.
        let stop = Arc::new(AtomicBool::new(false));
        let (signed, batches) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let started = Instant::now();
        let tasks: Vec<_> = a_callers
            .iter()
            .map(|(cl, request)| {
                let (mut cl, request) = (cl.clone(), request.clone());
                let (stop, signed, batches) = (stop.clone(), signed.clone(), batches.clone());
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let resp = cl.batch_sign_x509_svids(request.clone()).await?;
                        let ok = resp
                            .into_inner()
                            .results
                            .iter()
                            .filter(|r| matches!(r.result, Some(SignOutcome::Svid(_))))
                            .count();
                        signed.fetch_add(ok as u64, Ordering::Relaxed);
                        batches.fetch_add(1, Ordering::Relaxed);
                    }
                    anyhow::Ok(())
                })
            })
            .collect();
        while batches.load(Ordering::Relaxed) < a_callers.len() as u64 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        loaded.extend(b_round(&mut b_client, &b_requests, cfg.round).await?);
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            t.await??;
        }
        a_signed += signed.load(Ordering::Relaxed);
        a_secs += started.elapsed().as_secs_f64();
    }
    drop(server);

    let (alone, loaded) = (Samples::new(&alone), Samples::new(&loaded));
    Ok(vec![
        Metric::new(
            SCENARIO,
            "b_batch10_latency_p50_next_to_a",
            loaded.percentile(50.0),
            "ms",
        )
        .baseline(alone.percentile(50.0))
        .target(Target::RatioAtMost(2.0)),
        Metric::new(
            SCENARIO,
            "b_batch10_latency_p99_next_to_a",
            loaded.percentile(99.0),
            "ms",
        )
        .baseline(alone.percentile(99.0)),
        Metric::new(SCENARIO, "b_batches", loaded.len() as f64, "calls"),
        Metric::new(
            SCENARIO,
            "a_svids_per_sec",
            a_signed as f64 / a_secs,
            "SVID/s",
        ),
        Metric::new(SCENARIO, "a_callers", a_callers.len() as f64, "connections"),
    ])
}

/// B sends its batches one after the other for `duration`; the latency of each. Every item must
/// be signed: a refusal would make B's latency look better than it is.
async fn b_round(
    client: &mut lanyard_proto::lanyard::agent::v1::agent_service_client::AgentServiceClient<
        tonic::transport::Channel,
    >,
    requests: &[lanyard_proto::lanyard::agent::v1::BatchSignX509SvidsRequest],
    duration: Duration,
) -> Result<Vec<Duration>> {
    let deadline = Instant::now() + duration;
    let mut latencies = Vec::new();
    let mut k = 0;
    while Instant::now() < deadline {
        let sent = Instant::now();
        let resp = client
            .batch_sign_x509_svids(requests[k % requests.len()].clone())
            .await?
            .into_inner();
        latencies.push(sent.elapsed());
        k += 1;
        if let Some(r) = resp
            .results
            .iter()
            .find(|r| !matches!(r.result, Some(SignOutcome::Svid(_))))
        {
            anyhow::bail!("agent B's batch was not signed: {r:?}");
        }
    }
    Ok(latencies)
}
