//! One leader for the cluster-wide work (issue 15 item 4): two real servers with auto-registration,
//! the bundle ConfigMap and leader election against one `FakeKube`. Only the Lease's holder runs
//! the controller and the writer; `kill -9` of the leader hands both to the other within the lease
//! duration, no entry is created twice, and the ConfigMap follows a rotation done on the survivor;
//! a leader that stops cleanly gives the Lease up at once.
//!
//! On PostgreSQL both servers share the datastore (the HA shape): the entry count is the one both
//! see. On SQLite each has its own datastore and CA, which makes the leader visible: the follower
//! holds no entry, and the ConfigMap holds the leader's bundle.

use std::time::{Duration, Instant};

use lanyard_test_support::kube::{FakeKube, lease_path, pod_path};
use serde_json::{Value, json};

use crate::audit::{field, plain};
use crate::harness::{PATIENCE, Server};
use crate::k8s_bundle::configmap_follows;
use crate::k8s_registration::{
    CLUSTER, CSID, cluster_spiffe_id, payments_namespace_and_node, pod, server_with,
};
use crate::store::Store;

/// client-go's proportions (15 s / 10 s / 2 s), scaled down.
const LEASE_DURATION: Duration = Duration::from_secs(3);
const RETRY_PERIOD: Duration = Duration::from_millis(500);

fn lease() -> String {
    lease_path("lanyard", "lanyard-server-leader")
}

fn spiffe_id(pod: &str) -> String {
    format!("spiffe://example.org/ns/payments/sa/api/{pod}")
}

fn api_pod(name: &str, uid: &str) -> Value {
    pod(name, uid, json!({"app": "api"}))
}

async fn cluster() -> FakeKube {
    let kube = FakeKube::start().await;
    payments_namespace_and_node(&kube);
    kube.put(
        &pod_path("payments", "api-1"),
        api_pod("api-1", "pod-uid-1"),
    );
    kube.put(CSID, cluster_spiffe_id(&[]));
    kube
}

/// A server with the controller, the ConfigMap writer and the election, all for [`CLUSTER`].
async fn server(kube: &FakeKube, store: Store) -> Server {
    let more = format!(
        "\n[k8s_bundle_configmap]\ncluster = \"{CLUSTER}\"\n\
         \n[k8s_leader_election]\ncluster = \"{CLUSTER}\"\n\
         lease_duration = \"{}s\"\nrenew_deadline = \"2s\"\nretry_period = \"{}ms\"\n",
        LEASE_DURATION.as_secs(),
        RETRY_PERIOD.as_millis(),
    );
    server_with(kube, store, &more).await
}

/// Polls `what` every 50 ms until it gives `Some`, for at most `limit`.
async fn until<T>(
    limit: Duration,
    server: &Server,
    why: &str,
    mut what: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = what() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "not within {limit:?}: {why}\n{}",
            server.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The identity the server's election runs as, from its log line after the first `from` bytes
/// (the log of earlier runs).
async fn identity(server: &Server, from: usize) -> String {
    until(PATIENCE, server, "the election's candidate line", || {
        let log = plain(server.log_text().get(from..)?);
        let line = log
            .lines()
            .find(|l| l.contains("leader election: candidate"))?;
        field(line, "identity").map(str::to_owned)
    })
    .await
}

fn holder(kube: &FakeKube) -> Option<String> {
    kube.get(&lease())?["spec"]["holderIdentity"]
        .as_str()
        .map(str::to_owned)
}

async fn count_entries(server: &Server, pod: &str) -> usize {
    let id = spiffe_id(pod);
    server
        .entries()
        .await
        .iter()
        .filter(|e| e["spiffe_id"] == id.as_str())
        .count()
}

/// Waits until `server` lists exactly one entry for `pod`.
async fn one_entry(server: &Server, pod: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        match count_entries(server, pod).await {
            1 => return,
            0 if Instant::now() < deadline => {}
            n => panic!("{n} entries for {pod}\n{}", server.log_text()),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

datastore_tests!(the_next_server_takes_over_within_the_lease_duration);

async fn the_next_server_takes_over_within_the_lease_duration(store: Store) {
    let kube = cluster().await;
    let shared = store.url().map(str::to_owned);
    let mut a = server(&kube, store).await;
    let id_a = identity(&a, 0).await;
    until(PATIENCE, &a, "the first server takes the Lease", || {
        (holder(&kube)? == id_a).then_some(())
    })
    .await;
    let b_store = match &shared {
        Some(url) => Store::Shared(url.clone()),
        None => Store::Sqlite,
    };
    let mut b = server(&kube, b_store).await;
    let id_b = identity(&b, 0).await;
    assert_ne!(id_a, id_b, "two processes, one identity");

    // The leader registers the pod and writes its bundle.
    one_entry(&a, "api-1").await;
    configmap_follows(&kube, &a, "the first leader's start").await;
    // The follower has seen who leads (its clock of the Lease runs) and does neither.
    until(PATIENCE, &b, "the follower sees the leader", || {
        b.log_text()
            .contains("leader election: another server leads")
            .then_some(())
    })
    .await;
    assert_eq!(holder(&kube).as_deref(), Some(id_a.as_str()));
    for line in [
        "leading: starting",
        "auto-registration running",
        "written to the ConfigMap",
    ] {
        assert!(
            !b.log_text().contains(line),
            "the follower: {line}\n{}",
            b.log_text()
        );
    }
    if shared.is_none() {
        assert_eq!(
            count_entries(&b, "api-1").await,
            0,
            "the follower registered"
        );
    }

    // The leader dies without a word. The other takes over within the lease duration: counted
    // from the leader's last renewal, which the follower sees up to one (jittered) retry period
    // late, and its own next try; plus 1 s for two busy processes.
    a.kill9();
    let killed = Instant::now();
    let bound = LEASE_DURATION + RETRY_PERIOD.mul_f64(2.4) + Duration::from_secs(1);
    until(bound + PATIENCE, &b, "the follower takes the Lease", || {
        (holder(&kube)? == id_b).then_some(())
    })
    .await;
    let took = killed.elapsed();
    assert!(took <= bound, "took {took:?} over, more than {bound:?}");
    // The Lease changes hands in the API before the new leader logs it.
    until(PATIENCE, &b, "the new leader says so", || {
        b.log_text()
            .contains("leader election: became the leader")
            .then_some(())
    })
    .await;

    // The new leader's controller finds the pod's entry (PostgreSQL) or makes it (SQLite):
    // one either way, and a new pod gets one too.
    kube.put(
        &pod_path("payments", "api-2"),
        api_pod("api-2", "pod-uid-2"),
    );
    one_entry(&b, "api-2").await;
    one_entry(&b, "api-1").await;

    // Its writer keeps the ConfigMap: now, and through a rotation done on it.
    configmap_follows(&kube, &b, "the takeover").await;
    let prepared = b
        .cli(&["localauthority", "x509", "prepare", "--output", "json"])
        .await
        .json();
    let newest = prepared["authority_id"].as_str().unwrap().to_owned();
    configmap_follows(&kube, &b, "prepare on the survivor").await;
    b.cli(&[
        "localauthority",
        "x509",
        "activate",
        "--authority-id",
        &newest,
    ])
    .await
    .ok();
    configmap_follows(&kube, &b, "activate on the survivor").await;

    // The first server comes back as a candidate; the leader stops cleanly and gives the Lease
    // up, so it is taken at the next try, well within the lease duration.
    let earlier = a.log_text().len();
    a.start_again().await;
    let id_a = identity(&a, earlier).await;
    until(PATIENCE, &a, "the restarted server sees the leader", || {
        a.log_text()
            .get(earlier..)?
            .contains("leader election: another server leads")
            .then_some(())
    })
    .await;
    let stopping = Instant::now();
    b.stop_clean().await;
    until(PATIENCE, &a, "the restarted server takes the Lease", || {
        (holder(&kube)? == id_a).then_some(())
    })
    .await;
    let took = stopping.elapsed();
    assert!(took < LEASE_DURATION, "a clean handover took {took:?}");
    assert!(b.log_text().contains("gave the Lease up at shutdown"));
    one_entry(&a, "api-1").await;
    one_entry(&a, "api-2").await;
}
