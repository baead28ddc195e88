//! Kubernetes PSAT node attestation (issue 7) against a real server process, with the cluster's
//! API server played by `FakeKube` (real Kubernetes JSON: TokenReview, Pod, Node): the agent ID is
//! derived from the node UID, selectors come from the verified pod and node, re-attestation
//! keeps the ID, and each kind of bad evidence is refused with a reason.

use lanyard_agent::node::client;
use lanyard_test_support::kube::{FakeKube, TokenFacts, node_path, pod_path};
use serde_json::json;
use tonic::Code;

use crate::agent::{bootstrap_trust, td};
use crate::agent_client::wait_for_svids;
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::{PATIENCE, Server};
use crate::store::Store;

pub(crate) const CLUSTER: &str = "test-cluster";
pub(crate) const NODE_UID: &str = "6f1a0f9e-5c1d-4c61-9d2e-1f5a3c2b7d10";
const POD_UID: &str = "1c7b9f5e-2a4d-4e2b-8f6a-0d9e3b1a4c21";

/// A projected service-account token shaped like the kubelet's (the server reads only its
/// claims; the fake API server vouches for it).
fn psat(pod: &str, pod_uid: &str) -> String {
    use base64::Engine as _;
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let header = json!({"alg": "RS256", "kid": "k8s"});
    let claims = json!({
        "aud": ["lanyard-server"], "exp": 4_000_000_000u64, "iat": 1_700_000_000,
        "iss": "https://kubernetes.default.svc.cluster.local",
        "sub": "system:serviceaccount:lanyard:lanyard-agent",
        "kubernetes.io": {
            "namespace": "lanyard",
            "pod": {"name": pod, "uid": pod_uid},
            "serviceaccount": {"name": "lanyard-agent", "uid": "0a0b0c0d-0000-4000-8000-000000000001"},
        },
    });
    format!("{}.{}.c2lnbmF0dXJl", b64(&header), b64(&claims))
}

/// The fake cluster: node-1 (zone a) running lanyard/agent-abc.
async fn cluster() -> FakeKube {
    let kube = FakeKube::start().await;
    kube.put(
        &node_path("node-1"),
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {
            "name": "node-1", "uid": NODE_UID,
            "labels": {"topology.kubernetes.io/zone": "a", "secret-label": "x"}}}),
    );
    kube.put(
        &pod_path("lanyard", "agent-abc"),
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "agent-abc", "namespace": "lanyard", "uid": POD_UID,
                         "labels": {"app": "lanyard-agent"}},
            "spec": {"nodeName": "node-1", "serviceAccountName": "lanyard-agent",
                     "containers": [{"name": "agent", "image": "lanyard-agent:0.1.0"}]}}),
    );
    kube
}

fn facts(username: &str, audiences: &[&str], pod_uid: &str) -> TokenFacts {
    TokenFacts {
        username: username.to_owned(),
        audiences: audiences.iter().map(|a| (*a).to_owned()).collect(),
        expired: false,
        pod: Some(("agent-abc".to_owned(), pod_uid.to_owned())),
    }
}

/// [`cluster`] with a valid token of the agent pod registered; returns the token too.
pub(crate) async fn cluster_with_agent_token() -> (FakeKube, String) {
    let kube = cluster().await;
    let token = psat("agent-abc", POD_UID);
    kube.add_token(
        &token,
        facts(
            "system:serviceaccount:lanyard:lanyard-agent",
            &["lanyard-server"],
            POD_UID,
        ),
    );
    (kube, token)
}

/// A server with the k8s_psat attestor for [`CLUSTER`] reaching `kube`.
async fn server(kube: &FakeKube) -> Server {
    server_with(kube, "").await
}

/// [`server`] with more TOML before the attestor's table.
pub(crate) async fn server_with(kube: &FakeKube, more: &str) -> Server {
    let kubeconfig = kube.kubeconfig("server-sa-token");
    let more = more.to_owned();
    Server::start_with(Store::Sqlite, |dir| {
        let path = dir.join("kubeconfig");
        std::fs::write(&path, kubeconfig).unwrap();
        format!(
            "{more}\n[node_attestors.k8s_psat.clusters.{CLUSTER}]\n\
             service_account_allow_list = [\"lanyard:lanyard-agent\"]\n\
             kube_config_file = \"{}\"\n\
             allowed_node_label_keys = [\"topology.kubernetes.io/zone\"]\n\
             allowed_pod_label_keys = [\"app\"]\n",
            path.display()
        )
    })
    .await
}

async fn attest(server: &Server, payload: serde_json::Value) -> Result<String, tonic::Status> {
    let trust = bootstrap_trust(server).await;
    let mut c = client::connect(
        server.agent_addr,
        &td(),
        lanyard_tls::Identity::new(),
        trust,
    )
    .unwrap();
    match client::attest(&mut c, "k8s_psat", payload.to_string().into_bytes()).await {
        Ok((svid, _bundle)) => Ok(svid.spiffe_id.to_string()),
        Err(lanyard_agent::node::NodeError::Rpc(s)) => Err(s),
        Err(other) => panic!("not a server answer: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verified_psat_names_the_agent_by_node_uid_with_node_selectors() {
    let (kube, token) = cluster_with_agent_token().await;
    let server = server(&kube).await;

    let payload = json!({"cluster": CLUSTER, "token": token});
    let id = attest(&server, payload.clone()).await.unwrap();
    let expected = format!("spiffe://example.org/lanyard/agent/k8s_psat/{CLUSTER}/{NODE_UID}");
    assert_eq!(id, expected);

    let review = kube
        .requests()
        .into_iter()
        .find(|r| r.uri.contains("/tokenreviews"))
        .expect("the server sent no TokenReview");
    assert_eq!(review.body["spec"]["audiences"], json!(["lanyard-server"]));
    assert_eq!(
        review.authorization.as_deref(),
        Some("Bearer server-sa-token")
    );

    let agent = server
        .cli(&[
            "agent",
            "show",
            "--spiffe-id",
            &expected,
            "--output",
            "json",
        ])
        .await
        .json();
    let selectors: Vec<String> = agent["selectors"]
        .as_array()
        .unwrap_or_else(|| panic!("no selectors in {agent}"))
        .iter()
        .map(|s| {
            s.as_str().map_or_else(
                || {
                    format!(
                        "{}:{}",
                        s["type"].as_str().unwrap(),
                        s["value"].as_str().unwrap()
                    )
                },
                str::to_owned,
            )
        })
        .collect();
    for want in [
        format!("k8s_psat:cluster:{CLUSTER}"),
        "k8s_psat:agent_ns:lanyard".to_owned(),
        "k8s_psat:agent_sa:lanyard-agent".to_owned(),
        "k8s_psat:agent_pod_name:agent-abc".to_owned(),
        format!("k8s_psat:agent_pod_uid:{POD_UID}"),
        "k8s_psat:agent_node_name:node-1".to_owned(),
        format!("k8s_psat:agent_node_uid:{NODE_UID}"),
        "k8s_psat:agent_node_label:topology.kubernetes.io/zone:a".to_owned(),
        "k8s_psat:agent_pod_label:app:lanyard-agent".to_owned(),
    ] {
        assert!(
            selectors.contains(&want),
            "{want} missing from {selectors:?}"
        );
    }
    assert!(
        !selectors.iter().any(|s| s.contains("secret-label")),
        "a label not allow-listed became a selector: {selectors:?}"
    );

    // PSAT is re-attestable: the same node attests again (e.g. a new agent pod) to the same ID.
    assert_eq!(attest(&server, payload).await.unwrap(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_psat_evidence_is_refused_with_the_reason() {
    let kube = cluster().await;
    let good_sa = "system:serviceaccount:lanyard:lanyard-agent";
    let cases: Vec<(&str, TokenFacts, String, &str)> = vec![
        (
            "wrong audience",
            facts(good_sa, &["some-other-service"], POD_UID),
            CLUSTER.to_owned(),
            "audience",
        ),
        (
            "service account not allowed",
            facts(
                "system:serviceaccount:default:builder",
                &["lanyard-server"],
                POD_UID,
            ),
            CLUSTER.to_owned(),
            "not allowed",
        ),
        (
            "pod UID not matching (replaced pod)",
            facts(
                good_sa,
                &["lanyard-server"],
                "99999999-0000-4000-8000-000000000000",
            ),
            CLUSTER.to_owned(),
            "UID",
        ),
        (
            "expired token",
            TokenFacts {
                expired: true,
                ..facts(good_sa, &["lanyard-server"], POD_UID)
            },
            CLUSTER.to_owned(),
            "expired",
        ),
        (
            "unknown cluster",
            facts(good_sa, &["lanyard-server"], POD_UID),
            "other-cluster".to_owned(),
            "not configured",
        ),
    ];
    let server = server(&kube).await;
    for (i, (what, facts, cluster, reason)) in cases.into_iter().enumerate() {
        let token = format!("{}.{i}", psat("agent-abc", &facts.pod.clone().unwrap().1));
        kube.add_token(&token, facts);
        let status = attest(&server, json!({"cluster": cluster, "token": token}))
            .await
            .expect_err(what);
        assert_eq!(status.code(), Code::PermissionDenied, "{what}: {status:?}");
        assert!(
            status.message().contains(reason),
            "{what}: the reason should mention {reason:?}: {}",
            status.message()
        );
    }

    // The pod is gone.
    let token = psat("agent-abc", POD_UID);
    kube.add_token(&token, facts(good_sa, &["lanyard-server"], POD_UID));
    kube.delete(&pod_path("lanyard", "agent-abc"));
    let status = attest(&server, json!({"cluster": CLUSTER, "token": token}))
        .await
        .expect_err("deleted pod");
    assert!(status.message().contains("no longer exists"), "{status:?}");

    // Not even JSON.
    let trust = bootstrap_trust(&server).await;
    let mut c = client::connect(
        server.agent_addr,
        &td(),
        lanyard_tls::Identity::new(),
        trust,
    )
    .unwrap();
    let Err(lanyard_agent::node::NodeError::Rpc(status)) =
        client::attest(&mut c, "k8s_psat", b"not json".to_vec()).await
    else {
        panic!("garbage evidence was accepted");
    };
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("JSON"), "{status:?}");
}

/// How many TokenReviews the fake API server has answered.
fn reviews(kube: &FakeKube) -> usize {
    kube.requests()
        .iter()
        .filter(|r| r.uri.contains("/tokenreviews"))
        .count()
}

/// Waits until the fake API server has answered more than `n` TokenReviews.
async fn reviews_beyond(kube: &FakeKube, n: usize, agent: &Agent) {
    tokio::time::timeout(PATIENCE, async {
        while reviews(kube) <= n {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the agent did not attest again\n{}", agent.log_text()));
}

/// A `lanyard-agent` process on node-1 attesting with k8s_psat, `token` in its projected
/// service-account token file.
pub(crate) async fn psat_agent(server: &Server, token: &str) -> Agent {
    psat_agent_trusting(server, token, &server.bundle_pem().await).await
}

/// [`psat_agent`] with `bundle_pem` as its bootstrap bundle (`trust_bundle_path`).
pub(crate) async fn psat_agent_trusting(server: &Server, token: &str, bundle_pem: &str) -> Agent {
    let id = format!("spiffe://example.org/lanyard/agent/k8s_psat/{CLUSTER}/{NODE_UID}");
    Agent::try_start_trusting(server, id, None, bundle_pem, |dir| {
        let path = dir.join("psat-token");
        std::fs::write(&path, token).unwrap();
        format!(
            "\n[node_attestor.k8s_psat]\ncluster = \"{CLUSTER}\"\ntoken_path = \"{}\"\n",
            path.display()
        )
    })
    .await
    .unwrap_or_else(|why| panic!("{why}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_process_attests_with_its_psat_and_reattests_in_process() {
    let (kube, token) = cluster_with_agent_token().await;
    // Agent SVIDs of 20 s: the agent renews, by re-attesting, about every 10 s.
    let server = server_with(&kube, "[svid]\ndefault_x509_ttl = \"20s\"\n").await;
    let agent = psat_agent(&server, &token).await;
    let id = agent.id.clone();
    let workload = "spiffe://example.org/k8s/workload";
    create_uid_entry(&server, workload, &id, my_uid(), &[]).await;
    wait_for_svids(&agent.socket, &[workload]).await;

    // Renewal is re-attestation with a fresh read of the token.
    let before = reviews(&kube);
    reviews_beyond(&kube, before, &agent).await;
    // Evicted, it proves its node again at once instead of stopping.
    server
        .cli(&["agent", "evict", "--spiffe-id", &id])
        .await
        .ok();
    tokio::time::timeout(PATIENCE, async {
        while !agent
            .log_text()
            .contains("re-attested with k8s_psat after the server stopped serving the agent")
        {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no re-attestation after the eviction\n{}", agent.log_text()));
    agent.wait_ready().await;
    wait_for_svids(&agent.socket, &[workload]).await;
    let shown = server
        .cli(&["agent", "show", "--spiffe-id", &id, "--output", "json"])
        .await
        .json();
    assert_eq!(shown["attestation_type"], "k8s_psat", "{shown}");
}
