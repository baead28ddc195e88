//! The bootstrap bundle keeps itself current (issue 15 item 3): a real server writes its trust
//! bundle to the agents' bootstrap ConfigMap on `FakeKube` at start and after each step of a
//! rotation (prepare, activate, taint, revoke), through API failures and write conflicts; after
//! the revoke, the bundle the ConfigMap had before no longer verifies the server, and a new
//! k8s_psat agent bootstrapped from what it holds now attests.

use std::time::Duration;

use lanyard_agent::node::{NodeError, client};
use lanyard_test_support::kube::{FakeKube, configmap_path};
use lanyard_tls::{Identity, PeerRejected, TrustStore};
use lanyard_x509::BundleSet;
use serde_json::json;

use crate::agent::{bundle_from_pem, td};
use crate::agent_client::wait_for_svids;
use crate::agent_harness::{create_uid_entry, my_uid};
use crate::harness::{PATIENCE, Server};
use crate::hostile_agent::first_x509_authority;
use crate::k8s_psat::{CLUSTER, cluster_with_agent_token, psat_agent_trusting, server_with};

/// The defaults of `[k8s_bundle_configmap]`, as the manifests mount them.
const NAMESPACE: &str = "lanyard";
const NAME: &str = "lanyard-bootstrap-bundle";
const KEY: &str = "bundle.pem";

/// What the ConfigMap's key holds now, if anything.
pub(crate) fn configmap_pem(kube: &FakeKube) -> Option<String> {
    kube.get(&configmap_path(NAMESPACE, NAME))
        .and_then(|cm| cm["data"][KEY].as_str().map(str::to_owned))
}

/// Waits until the ConfigMap holds exactly what `bundle show --format pem` prints on `server`;
/// returns it.
pub(crate) async fn configmap_follows(kube: &FakeKube, server: &Server, after: &str) -> String {
    let want = server.bundle_pem().await;
    let reached = tokio::time::timeout(PATIENCE, async {
        while configmap_pem(kube).as_deref() != Some(want.as_str()) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    if reached.is_err() {
        panic!(
            "after {after}, the ConfigMap holds {:?}, not the bundle {want:?}\n{}",
            configmap_pem(kube),
            server.log_text()
        );
    }
    want
}

fn certificates(pem: &str) -> usize {
    lanyard_x509::certificates_from_pem(pem.as_bytes())
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bootstrap_configmap_follows_a_rotation_and_new_agents_attest_from_it() {
    let (kube, token) = cluster_with_agent_token().await;
    let path = configmap_path(NAMESPACE, NAME);
    // The API server fails the first two writes: the server retries with backoff.
    kube.fail_writes(&path, 2, 500);
    let server = server_with(
        &kube,
        &format!("[k8s_bundle_configmap]\ncluster = \"{CLUSTER}\"\n"),
    )
    .await;
    let at_start = configmap_follows(&kube, &server, "the start").await;
    assert_eq!(certificates(&at_start), 1);
    assert!(
        server
            .log_text()
            .contains("cannot write the trust bundle to the ConfigMap; retrying"),
        "{}",
        server.log_text()
    );
    // Created by the server, in the namespace the config names.
    assert_eq!(kube.get(&path).unwrap()["metadata"]["namespace"], NAMESPACE);

    let first = first_x509_authority(&server).await;
    let prepared = server
        .cli(&["localauthority", "x509", "prepare", "--output", "json"])
        .await
        .json();
    let newest = prepared["authority_id"].as_str().unwrap().to_owned();
    let after_prepare = configmap_follows(&kube, &server, "prepare").await;
    assert_eq!(
        certificates(&after_prepare),
        2,
        "the prepared authority is trusted ahead"
    );

    // Someone else wrote the ConfigMap between the server's read and its write: it reads again.
    kube.fail_writes(&path, 1, 409);
    for (verb, id) in [("activate", &newest), ("taint", &first), ("revoke", &first)] {
        server
            .cli(&["localauthority", "x509", verb, "--authority-id", id])
            .await
            .ok();
        configmap_follows(&kube, &server, verb).await;
    }
    let after_revoke = configmap_pem(&kube).unwrap();
    assert_eq!(certificates(&after_revoke), 1);
    assert_ne!(
        after_revoke, at_start,
        "the revoked authority is still there"
    );

    // What a node that joins now would have had without the writer: the bundle of the start no
    // longer verifies the server ...
    let stale = TrustStore::new(BundleSet::from_iter([bundle_from_pem(&at_start)]));
    let mut c = client::connect(server.agent_addr, &td(), Identity::new(), stale).unwrap();
    let payload = json!({"cluster": CLUSTER, "token": token}).to_string();
    let Err(NodeError::Rpc(status)) =
        client::attest(&mut c, "k8s_psat", payload.into_bytes()).await
    else {
        panic!("the bundle of the start still verifies the server, or failed otherwise");
    };
    let verdict = PeerRejected::find(&status)
        .unwrap_or_else(|| panic!("not the TLS verifier's verdict: {status:?}"));
    assert!(verdict.is_unknown_issuer(), "{verdict:?}");

    // ... while an agent bootstrapped from the ConfigMap's content attests and serves.
    let agent = psat_agent_trusting(&server, &token, &after_revoke).await;
    let workload = "spiffe://example.org/k8s/after-rotation";
    create_uid_entry(&server, workload, &agent.id, my_uid(), &[]).await;
    agent.wait_ready().await;
    wait_for_svids(&agent.socket, &[workload]).await;
    assert!(
        server
            .log_text()
            .contains("trust bundle written to the ConfigMap"),
        "{}",
        server.log_text()
    );
}
