//! Kubernetes auto-registration (issue 7): a real server process runs the controller against
//! `FakeKube` (pods, namespaces, nodes and ClusterSPIFFEIDs over real list/watch JSON). Entries
//! follow pods as they come, change and go; the resource's status reports counts; a restarted
//! server finds its entries again instead of duplicating them.

use std::time::Duration;

use lanyard_test_support::kube::{FakeKube, namespace_path, node_path, pod_path};
use serde_json::{Value, json};

use crate::harness::{PATIENCE, Server};
use crate::store::Store;

pub(crate) const CLUSTER: &str = "prod";
const NODE_UID: &str = "3d1c0f9e-5c1d-4c61-9d2e-1f5a3c2b7d10";
pub(crate) const CSID: &str = "/apis/lanyard.dev/v1alpha1/clusterspiffeids/payments";

/// The namespace `payments` (labelled `team: pay`) and the node `node-1` its pods run on.
pub(crate) fn payments_namespace_and_node(kube: &FakeKube) {
    kube.put(
        &namespace_path("payments"),
        json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "payments", "uid": "ns-1", "labels": {"team": "pay"}}}),
    );
    kube.put(
        &node_path("node-1"),
        json!({"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "node-1", "uid": NODE_UID}}),
    );
}

/// A running pod of `payments` on `node-1`.
pub(crate) fn pod(name: &str, uid: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "payments", "uid": uid, "labels": labels},
        "spec": {"nodeName": "node-1", "serviceAccountName": "api",
                 "containers": [{"name": "app", "image": "api:1"}]},
        "status": {"phase": "Running"}})
}

/// The ClusterSPIFFEID `payments`: pods labelled `app: api` in namespaces of team `pay`.
pub(crate) fn cluster_spiffe_id(dns: &[&str]) -> Value {
    json!({"apiVersion": "lanyard.dev/v1alpha1", "kind": "ClusterSPIFFEID",
    "metadata": {"name": "payments"},
    "spec": {
        "spiffeIDTemplate": "spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/{{ .PodSpec.ServiceAccountName }}/{{ .PodMeta.Name }}",
        "podSelector": {"matchLabels": {"app": "api"}},
        "namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "In", "values": ["pay"]}]},
        "dnsNameTemplates": dns,
        "ttl": "30m",
    }})
}

async fn server(kube: &FakeKube, store: Store) -> Server {
    server_with(kube, store, "").await
}

/// A server running auto-registration for [`CLUSTER`] on `kube`, with `more` tables.
pub(crate) async fn server_with(kube: &FakeKube, store: Store, more: &str) -> Server {
    let kubeconfig = kube.kubeconfig("controller-token");
    Server::start_with(store, |dir| {
        let path = dir.join("kubeconfig");
        std::fs::write(&path, kubeconfig).unwrap();
        format!(
            "\n[node_attestors.k8s_psat.clusters.{CLUSTER}]\n\
             service_account_allow_list = [\"lanyard:lanyard-agent\"]\n\
             kube_config_file = \"{}\"\n\
             \n[k8s_auto_registration]\ncluster = \"{CLUSTER}\"\n{more}",
            path.display()
        )
    })
    .await
}

/// The controller's entries, by SPIFFE ID, once `want` holds for them.
async fn entries_until(server: &Server, want: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let mut last = Vec::new();
    let found = tokio::time::timeout(PATIENCE, async {
        loop {
            last = server
                .entries()
                .await
                .into_iter()
                .filter(|e| e["id"].as_str().is_some_and(|id| id.starts_with("k8s-")))
                .collect();
            if want(&last) {
                return last.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    found.unwrap_or_else(|_| {
        panic!(
            "the controller's entries never got there: {last:#?}\n{}",
            server.log_text()
        )
    })
}

fn ids(entries: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = entries
        .iter()
        .map(|e| e["spiffe_id"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

datastore_tests!(entries_follow_pods_and_survive_a_restart);

async fn entries_follow_pods_and_survive_a_restart(store: Store) {
    let kube = FakeKube::start().await;
    payments_namespace_and_node(&kube);
    kube.put(
        &namespace_path("other"),
        json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "other", "uid": "ns-2", "labels": {"team": "x"}}}),
    );
    kube.put(
        &pod_path("payments", "api-1"),
        pod("api-1", "pod-uid-1", json!({"app": "api"})),
    );
    kube.put(
        &pod_path("payments", "db-1"),
        pod("db-1", "pod-uid-db", json!({"app": "db"})),
    );
    kube.put(CSID, cluster_spiffe_id(&[]));
    let mut server = server(&kube, store).await;

    let api1 = "spiffe://example.org/ns/payments/sa/api/api-1";
    let entries = entries_until(&server, |e| ids(e) == [api1]).await;
    let e = &entries[0];
    assert_eq!(
        e["parent_id"],
        format!("spiffe://example.org/lanyard/agent/k8s_psat/{CLUSTER}/{NODE_UID}"),
        "{e}"
    );
    assert_eq!(
        e["selectors"],
        json!([{"type": "k8s", "value": "pod-uid:pod-uid-1"}]),
        "{e}"
    );
    assert_eq!(e["x509_svid_ttl_seconds"], 1800, "{e}");

    // A pod comes: a second entry.
    kube.put(
        &pod_path("payments", "api-2"),
        pod("api-2", "pod-uid-2", json!({"app": "api"})),
    );
    let api2 = "spiffe://example.org/ns/payments/sa/api/api-2";
    entries_until(&server, |e| ids(e) == [api1, api2]).await;

    // The resource changes: both entries are updated.
    kube.put(
        CSID,
        cluster_spiffe_id(&["{{ .PodMeta.Name }}.payments.svc"]),
    );
    entries_until(&server, |e| {
        e.len() == 2
            && e.iter()
                .all(|x| x["dns_names"].as_array().is_some_and(|d| d.len() == 1))
    })
    .await;

    // A pod goes: its entry goes.
    kube.delete(&pod_path("payments", "api-2"));
    let entries = entries_until(&server, |e| ids(e) == [api1]).await;
    let kept_id = entries[0]["id"].clone();

    // The status says what the controller sees.
    let status = tokio::time::timeout(PATIENCE, async {
        loop {
            let status = kube.get(CSID).unwrap()["status"].clone();
            if status["stats"]["podsSelected"] == 1 && status["stats"]["entriesToSet"] == 1 {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("status: {}", kube.get(CSID).unwrap()));
    assert_eq!(status["stats"]["namespacesSelected"], 1, "{status}");
    assert_eq!(status["stats"]["entryFailures"], 0, "{status}");

    // A restart finds the same entries: no duplicates, same IDs.
    server.restart().await;
    kube.put(
        &pod_path("payments", "api-3"),
        pod("api-3", "pod-uid-3", json!({"app": "api"})),
    );
    let entries = entries_until(&server, |e| e.len() == 2).await;
    assert!(entries.iter().any(|e| e["id"] == kept_id), "{entries:#?}");
    assert_eq!(
        ids(&entries),
        [api1, "spiffe://example.org/ns/payments/sa/api/api-3"]
    );
}
