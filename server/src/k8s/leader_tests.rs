//! The election against `FakeKube` (real Lease JSON, real `resourceVersion` conflicts): one
//! winner among racing candidates, takeover only after the lease duration, step-down when
//! renewals fail, the Lease given up at shutdown.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use lanyard_test_support::kube::{FakeKube, lease_path};
use serde_json::json;

use super::*;
use crate::k8s::fake_client;

const NS: &str = "lanyard";
const LEASE: &str = "leader";

fn timing(lease_secs: u64) -> LeaseTiming {
    LeaseTiming {
        lease_duration: Duration::from_secs(lease_secs),
        renew_deadline: Duration::from_millis(700),
        retry_period: Duration::from_millis(100),
    }
}

async fn candidate(kube: &FakeKube, who: &str, lease_secs: u64) -> Election {
    Election::with_timing(
        fake_client(kube).await,
        NS,
        LEASE,
        who.to_owned(),
        timing(lease_secs),
    )
}

fn holder(kube: &FakeKube) -> Option<String> {
    kube.get(&lease_path(NS, LEASE))
        .and_then(|l| l["spec"]["holderIdentity"].as_str().map(str::to_owned))
}

/// Polls `cond` every 20 ms for at most `limit`.
async fn within(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    tokio::time::timeout(limit, async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("not within {limit:?}: {what}"));
}

#[tokio::test]
async fn racing_candidates_elect_exactly_one() {
    let kube = FakeKube::start().await;
    let mut candidates = Vec::new();
    for i in 0..6 {
        candidates.push(candidate(&kube, &format!("server-{i}"), 1).await);
    }
    // No Lease yet: every candidate reads 404 and creates it; the API server lets one.
    let results = futures_join_all(candidates.iter_mut().map(|c| c.try_acquire_or_renew())).await;
    let won: Vec<usize> = (0..results.len())
        .filter(|i| matches!(results[*i], Ok(true)))
        .collect();
    assert_eq!(won.len(), 1, "{results:?}");
    let first = won[0];
    assert_eq!(holder(&kube), Some(format!("server-{first}")));
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(true) | Err(LeaseError::Conflict))),
        "{results:?}"
    );

    // The holder stops renewing. The others read the Lease (and start their own clocks), and
    // none takes it before the lease duration has passed here.
    let mut others: Vec<Election> = candidates
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i != first)
        .map(|(_, c)| c)
        .collect();
    let started = Instant::now();
    for c in &mut others {
        assert!(!c.try_acquire_or_renew().await.unwrap(), "taken while held");
    }
    // Past the duration for every one of them (each started its clock at its first read).
    tokio::time::sleep_until(started + Duration::from_millis(1500)).await;
    // Expired for all of them at once: they race on one resourceVersion and one wins.
    let results = futures_join_all(others.iter_mut().map(|c| c.try_acquire_or_renew())).await;
    let winners = results.iter().filter(|r| matches!(r, Ok(true))).count();
    assert_eq!(winners, 1, "{results:?}");
    let lease = kube.get(&lease_path(NS, LEASE)).unwrap();
    assert_eq!(lease["spec"]["leaseTransitions"], 1, "{lease}");
    assert_eq!(lease["spec"]["leaseDurationSeconds"], 1, "{lease}");
    assert_ne!(holder(&kube), Some(format!("server-{first}")));
}

/// `join_all` without the futures crate: the tries run concurrently on this task.
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|o| o.unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_that_cannot_renew_stops_and_the_lease_is_given_up_at_shutdown() {
    let kube = FakeKube::start().await;
    let (trigger_a, shutdown_a) = Shutdown::new();
    let (mut a, election_a) = candidate(&kube, "a", 2).await.start(shutdown_a);
    tokio::spawn(election_a);
    assert!(a.acquired().await);
    assert_eq!(holder(&kube).as_deref(), Some("a"));

    // Every write of the Lease fails (the API server is failing): `a` stops leading within its
    // renew deadline (700 ms), before the lease duration (2 s) would let another take over.
    let broke = Instant::now();
    kube.fail_writes(&lease_path(NS, LEASE), 1000, 500);
    tokio::time::timeout(Duration::from_secs(5), a.lost())
        .await
        .expect("the leader kept leading without renewals");
    assert!(
        broke.elapsed() < Duration::from_secs(2),
        "stopped after {:?}",
        broke.elapsed()
    );
    assert!(!a.is_leader());

    // The API server recovers: `a` (still the holder of record) leads again.
    kube.fail_writes(&lease_path(NS, LEASE), 0, 500);
    assert!(a.acquired().await);

    // A second candidate waits while `a` renews ...
    let (trigger_b, shutdown_b) = Shutdown::new();
    let (mut b, election_b) = candidate(&kube, "b", 2).await.start(shutdown_b);
    let task_b = tokio::spawn(election_b);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!b.is_leader());
    // ... and takes over at once when `a` stops cleanly and gives the Lease up.
    let stopped = Instant::now();
    trigger_a.fire();
    assert!(b.acquired().await);
    assert!(
        stopped.elapsed() < Duration::from_secs(1),
        "took {:?}",
        stopped.elapsed()
    );
    within(Duration::from_secs(1), "b holds the Lease", || {
        holder(&kube).as_deref() == Some("b")
    })
    .await;
    trigger_b.fire();
    task_b.await.unwrap();
    let lease = kube.get(&lease_path(NS, LEASE)).unwrap();
    assert!(lease["spec"]["holderIdentity"].is_null(), "{lease}");
}

#[tokio::test]
async fn a_lease_left_by_another_process_is_taken_after_its_duration_only() {
    let kube = FakeKube::start().await;
    kube.put(
        &lease_path(NS, LEASE),
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": LEASE, "namespace": NS},
            "spec": {"holderIdentity": "dead-server", "leaseDurationSeconds": 1,
                     "renewTime": "2020-01-01T00:00:00.000000Z", "leaseTransitions": 4}}),
    );
    let mut c = candidate(&kube, "new", 1).await;
    // The renewTime is old, but this process's clock of it starts when it first reads it.
    let first = Instant::now();
    assert!(!c.try_acquire_or_renew().await.unwrap());
    let mut took = false;
    while first.elapsed() < Duration::from_secs(3) {
        if c.try_acquire_or_renew().await.unwrap() {
            took = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(took, "never taken");
    assert!(
        first.elapsed() >= Duration::from_secs(1),
        "{:?}",
        first.elapsed()
    );
    let lease = kube.get(&lease_path(NS, LEASE)).unwrap();
    assert_eq!(lease["spec"]["holderIdentity"], "new", "{lease}");
    assert_eq!(lease["spec"]["leaseTransitions"], 5, "{lease}");
}

#[test]
fn identities_differ_per_process_and_jitter_stays_in_bounds() {
    assert_ne!(process_identity(), process_identity());
    for _ in 0..100 {
        let d = jittered(Duration::from_secs(1));
        assert!(
            d >= Duration::from_secs(1) && d <= Duration::from_millis(1200),
            "{d:?}"
        );
    }
}
