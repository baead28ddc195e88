//! The k8s workload attestor against a fake kubelet that speaks real HTTPS over TCP and serves a
//! real kubelet `PodList`. The caller's `/proc/<pid>/cgroup` is a file in a tempdir (the test
//! process is not in a pod), and so is the cgroup filesystem its directories are checked on;
//! everything from there on is the production path.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on unexpected errors"
)]

#[path = "k8s_attestor/kubelet.rs"]
mod kubelet;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lanyard_agent::store::Selector;
use lanyard_agent::workload::PeerCred;
use lanyard_agent::workload::attestor::{
    AttestError, CombinedAttestor, K8sAttestor, K8sAttestorConfig, KubeletVerification,
    UnixAttestor, WorkloadAttestor,
};

use kubelet::{FakeKubelet, Pki};

const POD_LIST: &str = include_str!("k8s_attestor/pod_list.json");
const POD_UID: &str = "5f0c3b4e-9a7d-4c21-8e36-7b2d1f9a0c44";
const CHECKOUT: &str = "4d3f6a1e9c2b8d7f0a5e3c1b9d8f7e6a5c4b3a2918f7e6d5c4b3a29180f7e6d5";
const MIGRATE: &str = "3bc801a33ea83df414e1aeb962a52412835be99db28668ec25de73fdd4733804";
const TOKEN: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImFnZW50In0.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6bGFueWFyZDphZ2VudCJ9.c2ln";
/// The fake workload's pid: its cgroup file is under the test's proc root, not /proc.
const PID: i32 = 4242;
/// The agent's pid, as the fake cgroup filesystem's `cgroup.procs` files list it.
const AGENT_PID: u32 = 777;
/// The agent's cgroup on the fake host, a service in the host cgroup namespace unless a test
/// says otherwise.
const AGENT_SERVICE: &str = "system.slice/lanyard-agent.service";

/// A guard against hangs, never a delay.
async fn within<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), fut)
        .await
        .expect("timed out")
}

/// The cgroup v2 line of a burstable pod's container (containerd, systemd driver).
fn cgroup_of(pod_uid: &str, container_id: &str) -> String {
    format!(
        "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice/cri-containerd-{container_id}.scope\n",
        pod_uid.replace('-', "_")
    )
}

/// A fake kubelet, its CA and token files, and a proc root with the workload's cgroup file.
struct Node {
    kubelet: FakeKubelet,
    dir: tempfile::TempDir,
    ca_path: PathBuf,
    token_path: PathBuf,
}

impl Node {
    async fn start() -> Node {
        Node::start_with(&Pki::new(&["127.0.0.1", "localhost"])).await
    }

    async fn start_with(pki: &Pki) -> Node {
        let kubelet = FakeKubelet::start(pki, POD_LIST).await;
        let dir = tempfile::tempdir().unwrap();
        let ca_path = dir.path().join("kubelet-ca.crt");
        std::fs::write(&ca_path, &pki.ca_pem).unwrap();
        let token_path = dir.path().join("token");
        std::fs::write(&token_path, format!("{TOKEN}\n")).unwrap();
        let node = Node {
            kubelet,
            dir,
            ca_path,
            token_path,
        };
        node.put_procs(AGENT_SERVICE, &[AGENT_PID.into()]);
        node.put_cgroup(PID, &cgroup_of(POD_UID, CHECKOUT));
        node
    }

    fn proc_root(&self) -> PathBuf {
        self.dir.path().join("proc")
    }

    /// A cgroup v2 filesystem: `cgroup.controllers` at its root.
    fn cgroup_root(&self) -> PathBuf {
        let root = self.dir.path().join("cgroup");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("cgroup.controllers"), "cpu memory pids\n").unwrap();
        root
    }

    /// Writes `pid`'s cgroup file and creates the cgroup directories it names (as this process's
    /// uid: root, as the kubelet's are, when the tests run as root), each listing `pid`.
    fn put_cgroup(&self, pid: i32, text: &str) {
        self.put_cgroup_file(pid, text);
        for line in text.lines() {
            let path = line.splitn(3, ':').nth(2).unwrap();
            self.put_procs(path, &[pid.into()]);
        }
    }

    /// Creates the cgroup directory `path` (below the v2 root) and writes its `cgroup.procs`.
    fn put_procs(&self, path: &str, pids: &[i64]) {
        let dir = self.cgroup_root().join(path.trim_start_matches('/'));
        std::fs::create_dir_all(&dir).unwrap();
        let text: String = pids.iter().map(|p| format!("{p}\n")).collect();
        std::fs::write(dir.join("cgroup.procs"), text).unwrap();
    }

    /// Writes `pid`'s cgroup file only.
    fn put_cgroup_file(&self, pid: i32, text: &str) {
        let dir = self.proc_root().join(pid.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("cgroup"), text).unwrap();
    }

    /// Retries fast, caches long: a test that sees a second fetch saw a deliberate one.
    fn config(&self) -> K8sAttestorConfig {
        K8sAttestorConfig {
            kubelet_url: self.kubelet.url.clone(),
            verification: KubeletVerification::CaFile(self.ca_path.clone()),
            token_path: self.token_path.clone(),
            node_name: None,
            pod_list_cache_ttl: Duration::from_secs(600),
            max_poll_attempts: 3,
            poll_retry_interval: Duration::from_millis(10),
            proc_root: self.proc_root(),
            cgroup_root: self.cgroup_root(),
            cgroup_owner: nix::unistd::geteuid().as_raw(),
            agent_pid: AGENT_PID,
            agent_cgroup: Some(format!("0::/{AGENT_SERVICE}\n")),
            cgroup_walk_limit: 1000,
        }
    }

    fn attestor(&self) -> K8sAttestor {
        K8sAttestor::new(self.config()).unwrap()
    }
}

fn peer(pid: i32) -> PeerCred {
    PeerCred {
        pid,
        uid: 0,
        gid: 0,
    }
}

fn values(selectors: &[Selector]) -> Vec<String> {
    selectors
        .iter()
        .map(|s| format!("{}:{}", s.kind, s.value))
        .collect()
}

async fn attest_err(attestor: &dyn WorkloadAttestor) -> String {
    within(attestor.attest(&peer(PID)))
        .await
        .unwrap_err()
        .to_string()
}

#[tokio::test]
async fn a_container_gets_its_pod_and_container_selectors() {
    let node = Node::start().await;
    let selectors = within(node.attestor().attest(&peer(PID))).await.unwrap();
    assert_eq!(
        values(&selectors),
        [
            "k8s:ns:shop",
            "k8s:sa:checkout",
            "k8s:node-name:node-1",
            "k8s:pod-uid:5f0c3b4e-9a7d-4c21-8e36-7b2d1f9a0c44",
            "k8s:pod-name:checkout-7d9c8b6f5-x2x7q",
            "k8s:pod-label:app:checkout",
            "k8s:pod-label:app.kubernetes.io/name:checkout",
            "k8s:pod-label:app.kubernetes.io/part-of:shop",
            "k8s:pod-label:pod-template-hash:7d9c8b6f5",
            "k8s:pod-owner:ReplicaSet:checkout-7d9c8b6f5",
            "k8s:pod-owner-uid:ReplicaSet:c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f",
            "k8s:pod-image-count:2",
            "k8s:pod-init-image-count:1",
            "k8s:pod-image:docker.io/envoyproxy/envoy:v1.32.3",
            "k8s:pod-image:docker.io/envoyproxy/envoy@sha256:fd61a2ae2a4bfbe6e1ffa8fa0d1fbd2a4a5b5e9c8a7e3b2f1d0c9b8a7f6e5d4c",
            "k8s:pod-image:registry.example.com/shop/checkout:2.4.1",
            "k8s:pod-image:registry.example.com/shop/checkout@sha256:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
            "k8s:pod-init-image:registry.example.com/shop/checkout-migrations:2.4.1",
            "k8s:pod-init-image:registry.example.com/shop/checkout-migrations@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "k8s:container-name:checkout",
            "k8s:container-image:registry.example.com/shop/checkout:2.4.1",
            "k8s:container-image:registry.example.com/shop/checkout@sha256:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
        ]
    );

    // One GET /pods, with the service-account token as a bearer token.
    let requests = node.kubelet.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, "/pods");
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(
        requests[0].host.as_deref(),
        Some(format!("127.0.0.1:{}", node.kubelet.url.port()).as_str())
    );
}

#[tokio::test]
async fn init_containers_are_found_and_other_pods_are_not_confused() {
    let node = Node::start().await;
    node.put_cgroup(PID, &cgroup_of(POD_UID, MIGRATE));
    let selectors = values(&within(node.attestor().attest(&peer(PID))).await.unwrap());
    assert!(selectors.contains(&"k8s:container-name:migrate".to_owned()));
    assert!(!selectors.iter().any(|s| s == "k8s:container-name:checkout"));

    // kube-proxy's container ID under the checkout pod's UID names nothing.
    node.put_cgroup(
        PID,
        &cgroup_of(
            POD_UID,
            "7d7d4eed89b70ea736ca15fa6c6183a27198a1b8cccc12e1944590f415a774e7",
        ),
    );
    let err = attest_err(&node.attestor()).await;
    assert!(err.contains("shop/checkout-7d9c8b6f5-x2x7q"), "{err}");
}

#[tokio::test]
async fn a_process_outside_a_pod_gets_no_k8s_selectors_and_costs_no_fetch() {
    let node = Node::start().await;
    node.put_cgroup(PID, "0::/user.slice/user-1000.slice/session-4.scope\n");
    let selectors = within(node.attestor().attest(&peer(PID))).await.unwrap();
    assert!(selectors.is_empty(), "{selectors:?}");
    assert!(node.kubelet.requests().is_empty());
}

#[tokio::test]
async fn a_missing_pod_is_looked_up_in_fresh_lists_then_named_in_the_error() {
    let node = Node::start().await;
    let missing = "0badc0de-1111-4222-8333-444455556666";
    node.put_cgroup(PID, &cgroup_of(missing, CHECKOUT));
    let err = attest_err(&node.attestor()).await;
    assert!(err.contains(&format!("pid {PID}")), "{err}");
    assert!(err.contains(missing) && err.contains(CHECKOUT), "{err}");
    assert!(err.contains("3 fetches"), "{err}");
    assert!(err.contains("kubelet_url"), "{err}");
    // Each retry fetched anew although the cache TTL had not run out.
    assert_eq!(node.kubelet.requests().len(), 3);
}

#[tokio::test]
async fn a_pod_that_shows_up_on_a_later_fetch_is_attested() {
    let node = Node::start().await;
    let empty = r#"{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]}"#;
    node.kubelet
        .respond(vec![(200, empty.into()), (200, POD_LIST.into())]);
    let selectors = values(&within(node.attestor().attest(&peer(PID))).await.unwrap());
    assert!(selectors.contains(&"k8s:pod-name:checkout-7d9c8b6f5-x2x7q".to_owned()));
    assert_eq!(node.kubelet.requests().len(), 2);
}

#[tokio::test]
async fn the_pod_list_is_reused_within_its_ttl_and_shared_by_concurrent_callers() {
    let node = Node::start().await;
    let attestor = Arc::new(node.attestor());
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let attestor = Arc::clone(&attestor);
            tokio::spawn(async move { attestor.attest(&peer(PID)).await })
        })
        .collect();
    for call in calls {
        within(call).await.unwrap().unwrap();
    }
    within(attestor.attest(&peer(PID))).await.unwrap();
    assert_eq!(node.kubelet.requests().len(), 1);

    // With no cache, every attestation fetches.
    let uncached = K8sAttestor::new(K8sAttestorConfig {
        pod_list_cache_ttl: Duration::ZERO,
        ..node.config()
    })
    .unwrap();
    within(uncached.attest(&peer(PID))).await.unwrap();
    within(uncached.attest(&peer(PID))).await.unwrap();
    assert_eq!(node.kubelet.requests().len(), 3);
}

#[tokio::test]
async fn the_token_is_read_again_for_every_fetch() {
    let node = Node::start().await;
    let attestor = K8sAttestor::new(K8sAttestorConfig {
        pod_list_cache_ttl: Duration::ZERO,
        ..node.config()
    })
    .unwrap();
    within(attestor.attest(&peer(PID))).await.unwrap();
    std::fs::write(&node.token_path, "rotated-token").unwrap();
    within(attestor.attest(&peer(PID))).await.unwrap();
    let seen: Vec<_> = node
        .kubelet
        .requests()
        .into_iter()
        .map(|r| r.authorization.unwrap())
        .collect();
    assert_eq!(
        seen,
        [format!("Bearer {TOKEN}"), "Bearer rotated-token".into()]
    );
}

#[tokio::test]
async fn a_kubelet_signed_by_another_ca_is_a_tls_error_naming_the_ca_file() {
    let node = Node::start().await;
    // Another CA; and one with the same name but another key, as two clusters' CAs often are.
    for other in [
        Pki::with_ca_name("another-ca", &["127.0.0.1"]),
        Pki::new(&["127.0.0.1"]),
    ] {
        std::fs::write(&node.ca_path, &other.ca_pem).unwrap();
        let err = attest_err(&node.attestor()).await;
        assert!(err.contains("TLS handshake"), "{err}");
        assert!(
            err.contains("not signed by a CA in kubelet_ca_path"),
            "{err}"
        );
        assert!(err.contains(&node.ca_path.display().to_string()), "{err}");
        assert!(node.kubelet.requests().is_empty());
    }

    // kubelet_skip_verify accepts it.
    let skipping = K8sAttestor::new(K8sAttestorConfig {
        verification: KubeletVerification::SkipVerify,
        ..node.config()
    })
    .unwrap();
    within(skipping.attest(&peer(PID))).await.unwrap();
}

#[tokio::test]
async fn the_certificate_is_checked_for_the_node_name_when_known() {
    // Like a kubelet serving certificate from serverTLSBootstrap: it names the node, not 127.0.0.1.
    let node = Node::start_with(&Pki::new(&["node-1"])).await;
    let err = attest_err(&node.attestor()).await;
    assert!(err.contains("not valid for \"127.0.0.1\""), "{err}");
    assert!(err.contains("node_name"), "{err}");

    let named = K8sAttestor::new(K8sAttestorConfig {
        node_name: Some("node-1".into()),
        ..node.config()
    })
    .unwrap();
    within(named.attest(&peer(PID))).await.unwrap();
}

#[tokio::test]
async fn kubelet_errors_say_what_to_do() {
    let node = Node::start().await;
    node.kubelet.respond(vec![(
        403,
        "Forbidden (user=system:serviceaccount:lanyard:agent, verb=get, resource=nodes, subresource=proxy)".into(),
    )]);
    let err = attest_err(&node.attestor()).await;
    assert!(
        err.contains("HTTP 403") && err.contains("nodes/proxy"),
        "{err}"
    );

    node.kubelet
        .respond(vec![(200, "<html>not json</html>".into())]);
    let err = attest_err(&node.attestor()).await;
    assert!(err.contains("not a PodList"), "{err}");

    // Nothing listening.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    let attestor = K8sAttestor::new(K8sAttestorConfig {
        kubelet_url: lanyard_agent::workload::attestor::KubeletUrl::parse(&url).unwrap(),
        ..node.config()
    })
    .unwrap();
    let err = attest_err(&attestor).await;
    assert!(
        err.contains("cannot connect to the kubelet at") && err.contains(&url),
        "{err}"
    );
}

#[tokio::test]
async fn bad_ca_or_token_files_stop_the_attestor_at_start() {
    let node = Node::start().await;
    let missing = node.dir.path().join("no-such-ca.crt");
    let err = K8sAttestor::new(K8sAttestorConfig {
        verification: KubeletVerification::CaFile(missing.clone()),
        ..node.config()
    })
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("kubelet_ca_path") && err.contains("no-such-ca.crt"),
        "{err}"
    );

    let err = K8sAttestor::new(K8sAttestorConfig {
        token_path: node.dir.path().join("no-token"),
        ..node.config()
    })
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("token_path") && err.contains("no-token"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unreadable_cgroup_file_is_an_error_naming_pid_and_file() {
    let node = Node::start().await;
    let err = within(node.attestor().attest(&peer(PID + 1)))
        .await
        .unwrap_err();
    assert!(matches!(err, AttestError::Proc(_)), "{err:?}");
    let err = err.to_string();
    assert!(
        err.contains(&format!("pid {}", PID + 1)) && err.contains("cgroup"),
        "{err}"
    );
}

#[tokio::test]
async fn unix_and_k8s_selectors_are_concatenated() {
    let node = Node::start().await;
    // The real test process, for the unix attestor; its cgroup file is the fake one.
    let pid = i32::try_from(std::process::id()).unwrap();
    node.put_cgroup(pid, &cgroup_of(POD_UID, CHECKOUT));
    let combined = CombinedAttestor::new(vec![
        Arc::new(UnixAttestor::default()),
        Arc::new(node.attestor()),
    ]);
    let selectors = values(&within(combined.attest(&peer(pid))).await.unwrap());
    let uid = nix::unistd::geteuid();
    assert_eq!(
        selectors.first().map(String::as_str),
        Some(format!("unix:uid:{uid}").as_str())
    );
    assert!(selectors.contains(&"k8s:pod-name:checkout-7d9c8b6f5-x2x7q".to_owned()));

    // A failing attestor fails the whole call.
    node.kubelet.respond(vec![(500, "boom".into())]);
    let failing = CombinedAttestor::new(vec![
        Arc::new(UnixAttestor::default()),
        Arc::new(K8sAttestor::new(node.config()).unwrap()),
    ]);
    let err = within(failing.attest(&peer(pid))).await.unwrap_err();
    assert!(err.to_string().contains("HTTP 500"), "{err}");
}

/// `dir` and everything below it, given to `uid`.
fn chown_tree(dir: &std::path::Path, uid: u32) {
    std::os::unix::fs::chown(dir, Some(uid), Some(uid)).unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            chown_tree(&path, uid);
        }
    }
}

/// An attestor for `node` that holds cgroups to `owner` (root in production). Run as root, the
/// tests chown directories to another uid, as a user's own `mkdir` would make them; otherwise
/// they pretend the kubelet is another uid than the test's.
fn holding_cgroups_to(node: &Node, owner: u32) -> K8sAttestor {
    K8sAttestor::new(K8sAttestorConfig {
        cgroup_owner: owner,
        ..node.config()
    })
    .unwrap()
}

#[tokio::test]
async fn a_pod_cgroup_forged_in_a_delegated_subtree_gets_no_k8s_selectors() {
    let node = Node::start().await;
    let root = nix::unistd::geteuid().is_root();
    // The attack: in the cgroup subtree systemd delegates to user 1000's session, create
    // pod<victim>/<victim's container> and move in. Same names as the real pod's.
    let session = "/user.slice/user-1000.slice/user@1000.service/app.slice";
    let forged = format!(
        "0::{session}/kubepods-burstable-pod{}.slice/cri-containerd-{CHECKOUT}.scope\n",
        POD_UID.replace('-', "_")
    );
    node.put_cgroup(PID, &forged);
    let pod_dir = node.cgroup_root().join(format!(
        "{}/kubepods-burstable-pod{}.slice",
        &session[1..],
        POD_UID.replace('-', "_")
    ));
    let attestor = if root {
        // What the user's mkdir gives: directories owned by the user.
        chown_tree(&pod_dir, 1000);
        node.attestor()
    } else {
        holding_cgroups_to(&node, nix::unistd::geteuid().as_raw() + 1)
    };
    let selectors = within(attestor.attest(&peer(PID))).await.unwrap();
    assert!(selectors.is_empty(), "{selectors:?}");
    assert!(
        node.kubelet.requests().is_empty(),
        "no fetch for a forged pod"
    );

    // Only the container's directory forged (the pod's is root's): refused as well.
    if root {
        std::os::unix::fs::chown(&pod_dir, Some(0), Some(0)).unwrap();
        let selectors = within(attestor.attest(&peer(PID))).await.unwrap();
        assert!(selectors.is_empty(), "{selectors:?}");
        // Directories above the pod's do not count: with pod and container root's, the pod is
        // the kubelet's, wherever it sits (kind and k3d nest the kubelet's cgroups).
        chown_tree(&pod_dir, 0);
        let selectors = within(attestor.attest(&peer(PID))).await.unwrap();
        assert!(values(&selectors).contains(&"k8s:pod-name:checkout-7d9c8b6f5-x2x7q".to_owned()));
    }

    // The real pod's cgroup, made by the kubelet's uid, is attested.
    node.put_cgroup(PID, &cgroup_of(POD_UID, CHECKOUT));
    let selectors = within(node.attestor().attest(&peer(PID))).await.unwrap();
    assert!(values(&selectors).contains(&"k8s:pod-name:checkout-7d9c8b6f5-x2x7q".to_owned()));
}

#[tokio::test]
async fn a_vanished_cgroup_is_an_error_naming_the_directory() {
    let node = Node::start().await;
    // The file names a container whose cgroup is gone: the process has exited.
    let gone = "0badc0de-1111-4222-8333-444455556666";
    node.put_cgroup_file(PID, &cgroup_of(gone, CHECKOUT));
    let err = within(node.attestor().attest(&peer(PID)))
        .await
        .unwrap_err();
    assert!(matches!(err, AttestError::CgroupDir { .. }), "{err:?}");
    let err = err.to_string();
    assert!(err.contains(&format!("pid {PID}")), "{err}");
    assert!(err.contains(&gone.replace('-', "_")), "{err}");
    assert!(err.contains("cgroup_root"), "{err}");
    assert!(node.kubelet.requests().is_empty());
}

#[tokio::test]
async fn a_caller_that_gives_up_leaves_the_fetch_to_the_next_one() {
    let node = Node::start().await;
    // A kubelet that accepts connections and never answers.
    let hung = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://127.0.0.1:{}", hung.local_addr().unwrap().port());
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = hung.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(conn);
        }
    });
    let attestor = K8sAttestor::new(K8sAttestorConfig {
        kubelet_url: lanyard_agent::workload::attestor::KubeletUrl::parse(&url).unwrap(),
        ..node.config()
    })
    .unwrap();
    // Each caller gives up (as the Workload API's deadline makes it); the fetch goes on, and
    // the callers after it wait for that fetch instead of starting their own.
    let caller = peer(PID);
    for _ in 0..3 {
        let call = tokio::time::timeout(Duration::from_millis(100), attestor.attest(&caller));
        assert!(call.await.is_err(), "a hung kubelet answered");
    }
    // Concurrent callers too.
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let attestor = attestor.clone();
            tokio::spawn(async move {
                tokio::time::timeout(Duration::from_millis(100), attestor.attest(&peer(PID))).await
            })
        })
        .collect();
    for call in calls {
        assert!(call.await.unwrap().is_err());
    }
    assert_eq!(
        accepted.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one fetch in flight, shared by every caller"
    );
}

/// The agent's container on the fake host, in its own cgroup namespace (whose root it is).
const AGENT_SCOPE: &str = "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod2c48913c_b29f_11e7_9350_020968147796.slice/cri-containerd-9bca8d63d5fa610783847915bcff0ecac1273e5b4bed3f6fa1b07350e0135961.scope";

/// `node` with the agent in its own cgroup namespace, rooted at its container's cgroup: its
/// `/proc/self/cgroup` says `0::/`.
fn namespaced(node: &Node) -> K8sAttestorConfig {
    node.put_procs(AGENT_SERVICE, &[]);
    node.put_procs(AGENT_SCOPE, &[AGENT_PID.into()]);
    K8sAttestorConfig {
        agent_cgroup: Some("0::/\n".into()),
        ..node.config()
    }
}

#[tokio::test]
async fn an_agent_in_its_own_cgroup_namespace_locates_callers_on_the_hosts_cgroupfs() {
    let node = Node::start().await;
    let attestor = K8sAttestor::new(namespaced(&node)).unwrap();
    // Seen from the agent's namespace: three levels up from its container is kubepods.slice.
    let relative = include_str!("data/cgroup/v2-systemd-containerd-cgroupns.txt");
    assert!(relative.starts_with("0::/../../../kubepods-burstable.slice/"));
    node.put_cgroup_file(PID, relative);
    let selectors = within(attestor.attest(&peer(PID))).await.unwrap();
    assert!(values(&selectors).contains(&"k8s:pod-name:checkout-7d9c8b6f5-x2x7q".to_owned()));

    // The caller must be listed in the cgroup.procs of the directory its path resolves to.
    let leaf = cgroup_of(POD_UID, CHECKOUT);
    node.put_procs(leaf[3..].trim_end(), &[PID as i64 + 1]);
    let selectors = within(attestor.attest(&peer(PID))).await.unwrap();
    assert!(selectors.is_empty(), "{selectors:?}");
    node.put_procs(leaf[3..].trim_end(), &[PID.into()]);

    // A pod forged in a user's delegated subtree, reached with `..`: owned by the user, refused.
    // (Needs root to chown; the search for the agent's cgroup only enters root's directories.)
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    let session = "user.slice/user-1000.slice/user@1000.service/app.slice";
    let pod = format!(
        "{session}/kubepods-burstable-pod{}.slice",
        POD_UID.replace('-', "_")
    );
    node.put_procs(
        &format!("{pod}/cri-containerd-{CHECKOUT}.scope"),
        &[PID.into()],
    );
    node.put_cgroup_file(
        PID,
        &format!("0::/../../../../{pod}/cri-containerd-{CHECKOUT}.scope\n"),
    );
    chown_tree(&node.cgroup_root().join(&pod), 65534);
    let selectors = within(attestor.attest(&peer(PID))).await.unwrap();
    assert!(selectors.is_empty(), "{selectors:?}");
    assert_eq!(
        node.kubelet.requests().len(),
        1,
        "no fetch for a forged pod"
    );
    // Owned by root, it would have been believed: the ownership is what refused it.
    chown_tree(&node.cgroup_root().join(&pod), 0);
    let selectors = within(attestor.attest(&peer(PID))).await.unwrap();
    assert!(values(&selectors).contains(&"k8s:pod-name:checkout-7d9c8b6f5-x2x7q".to_owned()));
}

#[tokio::test]
async fn the_namespace_root_is_searched_again_when_its_directory_is_gone() {
    let node = Node::start().await;
    let attestor = K8sAttestor::new(namespaced(&node)).unwrap();
    node.put_cgroup_file(
        PID,
        include_str!("data/cgroup/v2-systemd-containerd-cgroupns.txt"),
    );
    within(attestor.attest(&peer(PID))).await.unwrap();
    // The agent's cgroup is now elsewhere, two levels below kubepods.slice (a guaranteed pod).
    std::fs::remove_dir_all(node.cgroup_root().join(AGENT_SCOPE)).unwrap();
    node.put_procs(
        "kubepods.slice/kubepods-pod2c48913c_b29f_11e7_9350_020968147796.slice/agent",
        &[AGENT_PID.into()],
    );
    node.put_cgroup_file(
        PID,
        &format!(
            "0::/../../kubepods-burstable.slice/kubepods-burstable-pod{}.slice/cri-containerd-{CHECKOUT}.scope\n",
            POD_UID.replace('-', "_")
        ),
    );
    let selectors = within(attestor.attest(&peer(PID))).await.unwrap();
    assert!(values(&selectors).contains(&"k8s:pod-name:checkout-7d9c8b6f5-x2x7q".to_owned()));
}

#[tokio::test]
async fn an_agent_in_its_own_cgroup_namespace_without_the_hosts_cgroupfs_says_what_to_mount() {
    let node = Node::start().await;
    node.put_cgroup_file(
        PID,
        include_str!("data/cgroup/v2-systemd-containerd-cgroupns.txt"),
    );
    // cgroup_root is the agent's own view: the namespace root, which lists the agent.
    let own = node.dir.path().join("own-view");
    std::fs::create_dir_all(&own).unwrap();
    std::fs::write(own.join("cgroup.controllers"), "cpu\n").unwrap();
    std::fs::write(own.join("cgroup.procs"), format!("{AGENT_PID}\n")).unwrap();
    let in_own_view = K8sAttestor::new(K8sAttestorConfig {
        cgroup_root: own.clone(),
        agent_cgroup: Some("0::/\n".into()),
        ..node.config()
    })
    .unwrap();
    let err = within(in_own_view.attest(&peer(PID))).await.unwrap_err();
    assert!(
        matches!(err, AttestError::CgroupNamespace { .. }),
        "{err:?}"
    );
    let err = err.to_string();
    assert!(err.contains(&format!("pid {PID}")), "{err}");
    assert!(
        err.contains("mount the host's /sys/fs/cgroup") && err.contains("cgroup_root"),
        "{err}"
    );
    assert!(node.kubelet.requests().is_empty());

    // Nothing at cgroup_root lists the agent: not the host's either.
    std::fs::write(own.join("cgroup.procs"), "1\n").unwrap();
    let nowhere = K8sAttestor::new(K8sAttestorConfig {
        cgroup_root: own,
        agent_cgroup: Some("0::/\n".into()),
        ..node.config()
    })
    .unwrap();
    let err = attest_err(&nowhere).await;
    assert!(
        err.contains("hostPID") && err.contains("/host/sys/fs/cgroup"),
        "{err}"
    );

    // The search for the agent's cgroup gives up after cgroup_walk_limit directories.
    let bounded = K8sAttestor::new(K8sAttestorConfig {
        cgroup_walk_limit: 2,
        ..namespaced(&node)
    })
    .unwrap();
    let err = attest_err(&bounded).await;
    assert!(
        err.contains("gave up") && err.contains("after 2 directories"),
        "{err}"
    );
}
