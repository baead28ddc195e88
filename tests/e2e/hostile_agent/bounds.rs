//! Issue 14 items 3 and 4: what one agent, or one unauthenticated caller, can take from a real
//! server: a batch naming an entry twice, an attestation that stalls (at the caller, or at a
//! Kubernetes API server that never answers), more attestations in flight than one address is
//! allowed, a Kubernetes failure whose text must stay in the server log, and more connections
//! than `max_connections`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use lanyard_agent::node::client;
use lanyard_proto::lanyard::agent::v1 as pb;
use lanyard_tls::{Identity, TrustStore};
use lanyard_x509::{KeyPair, KeyType};
use tonic::{Code, Status};

use crate::agent::{TestAgent, bootstrap_trust, guard, td};
use crate::harness::Server;
use crate::store::Store;

/// The attestation deadline of these tests' servers.
const DEADLINE: Duration = Duration::from_secs(2);

/// How late after [`DEADLINE`] a stalled attestation may end (a loaded 2-core machine).
const SLACK: Duration = Duration::from_secs(3);

fn csr() -> Vec<u8> {
    lanyard_x509::build_csr(&KeyPair::generate(KeyType::EcP256).unwrap()).unwrap()
}

/// Opens an Attest stream without a client certificate (as a node that has not attested),
/// sends `first` if given, then nothing while keeping the stream open; returns the status the
/// server ends it with and how long that took.
async fn stalled_attestation(
    addr: SocketAddr,
    trust: &TrustStore,
    first: Option<pb::AttestParams>,
) -> (Status, Duration) {
    let mut c = client::connect(addr, &td(), Identity::new(), trust.clone()).unwrap();
    let first = first.map(|p| pb::AttestRequest {
        step: Some(pb::attest_request::Step::Params(p)),
    });
    let requests = tokio_stream::StreamExt::chain(
        tokio_stream::iter(first),
        tokio_stream::pending::<pb::AttestRequest>(),
    );
    let started = Instant::now();
    let status = guard(async {
        let mut stream = match c.attest(requests).await {
            Ok(r) => r.into_inner(),
            Err(s) => return s,
        };
        match stream.message().await {
            Ok(m) => panic!("a stalled attestation got an answer: {m:?}"),
            Err(s) => s,
        }
    })
    .await;
    (status, started.elapsed())
}

fn assert_deadline(what: &str, (status, took): &(Status, Duration)) {
    assert_eq!(status.code(), Code::DeadlineExceeded, "{what}: {status:?}");
    assert!(
        status.message().contains("did not complete within 2s"),
        "{what}: {status:?}"
    );
    assert!(
        *took >= DEADLINE - Duration::from_millis(100) && *took < DEADLINE + SLACK,
        "{what}: ended after {took:?}"
    );
}

/// A Kubernetes API server that accepts connections and never answers.
async fn silent_kube() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            held.push(conn);
        }
    });
    (addr, task)
}

/// `[node_attestors.k8s_psat.clusters.prod]` reaching the API server at `api`.
fn psat_cluster(dir: &std::path::Path, api: SocketAddr) -> String {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://{api}\n\
             users:\n- name: u\n  user:\n    token: server-token\n\
             contexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n\
             current-context: c\n"
        ),
    )
    .unwrap();
    format!(
        "[node_attestors.k8s_psat.clusters.prod]\n\
         service_account_allow_list = [\"lanyard:lanyard-agent\"]\n\
         kube_config_file = \"{}\"\n",
        path.display()
    )
}

fn psat_params() -> pb::AttestParams {
    pb::AttestParams {
        attestation_type: "k8s_psat".to_owned(),
        payload: br#"{"cluster": "prod", "token": "aGVhZGVy.Y2xhaW1z.c2ln"}"#.to_vec(),
        csr: csr(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_naming_an_entry_twice_is_refused() {
    let server = Server::start(Store::Sqlite).await;
    let memory = super::MemoryBound::new(&server, 32);
    let (mut agent, id) = TestAgent::with_entry(&server, "spiffe://example.org/web").await;

    let refused = agent
        .sign(vec![(id.clone(), csr()), (id.clone(), csr())])
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert_eq!(
        refused.message(),
        format!("entry id {id:?} appears more than once in items: name each entry once")
    );
    // Named once, it is signed.
    let one = agent.sign_one(&id).await.unwrap();
    assert!(
        matches!(one, pb::sign_x509_svid_result::Result::Svid(_)),
        "{one:?}"
    );
    memory.check(&server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_attestation_ends_at_the_deadline_and_stores_nothing() {
    let (kube, _kube_task) = silent_kube().await;
    let server = Server::start_with(Store::Sqlite, |dir| {
        format!(
            "[agent_api]\nattestation_timeout = \"2s\"\n{}",
            psat_cluster(dir, kube)
        )
    })
    .await;
    let memory = super::MemoryBound::new(&server, 32);
    let trust = bootstrap_trust(&server).await;
    let addr = server.agent_addr;
    // Stalled by the caller before params, and (after params) by a Kubernetes API server that
    // never answers the TokenReview.
    let (before_params, after_params) = tokio::join!(
        stalled_attestation(addr, &trust, None),
        stalled_attestation(addr, &trust, Some(psat_params())),
    );
    assert_deadline("no params", &before_params);
    assert_deadline("TokenReview unanswered", &after_params);

    let list = server
        .cli(&["agent", "list", "--output", "json"])
        .await
        .json();
    assert_eq!(list["agents"], serde_json::json!([]), "{list}");
    // The server still serves a legitimate agent.
    let (token, _, _) = server.token(&[]).await;
    TestAgent::attest(&server, &token).await.unwrap();
    memory.check(&server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attestations_beyond_the_per_address_limit_are_refused_at_once() {
    let server = Server::start_with(Store::Sqlite, |_| {
        "[agent_api]\nattestation_timeout = \"2s\"\nmax_attestations_per_ip = 2\nmax_attestations = 8\n"
            .to_owned()
    })
    .await;
    let memory = super::MemoryBound::new(&server, 32);
    let trust = bootstrap_trust(&server).await;
    let (token, _, _) = server.token(&[]).await;
    let addr = server.agent_addr;

    // Three stalled attestations from 127.0.0.1 where two are allowed: whichever arrives
    // third is refused at once; the other two hold their places until the deadline.
    let mut stalled: Vec<_> = (0..3)
        .map(|_| {
            let trust = trust.clone();
            tokio::spawn(async move { stalled_attestation(addr, &trust, None).await })
        })
        .collect();
    let (refused, took) = guard(async {
        loop {
            for i in 0..stalled.len() {
                if stalled[i].is_finished() {
                    return stalled.remove(i).await.unwrap();
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert_eq!(
        refused.message(),
        "too many attestations in progress: retry in a few seconds"
    );
    assert!(took < Duration::from_secs(1), "refused after {took:?}");

    // A join token from the same address is refused too while the two hold their places,
    // and the token is not consumed...
    let busy = crate::agent::attest(addr, &trust, &token)
        .await
        .unwrap_err();
    assert_eq!(busy.code(), Code::ResourceExhausted, "{busy:?}");
    for s in stalled {
        assert_deadline("holding a place", &s.await.unwrap());
    }
    // ...so it attests once they are gone.
    TestAgent::attest(&server, &token).await.unwrap();
    memory.check(&server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kubernetes_failure_reaches_the_caller_as_an_error_id_only() {
    // An API server address where nothing listens.
    let gone = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let server = Server::start_with(Store::Sqlite, |dir| psat_cluster(dir, gone)).await;
    let memory = super::MemoryBound::new(&server, 32);
    let trust = bootstrap_trust(&server).await;
    let mut c = client::connect(server.agent_addr, &td(), Identity::new(), trust).unwrap();
    let p = psat_params();
    let status = match guard(client::attest(&mut c, &p.attestation_type, p.payload)).await {
        Err(lanyard_agent::node::NodeError::Rpc(s)) => s,
        other => panic!("not a server refusal: {other:?}"),
    };
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    let id = status
        .message()
        .strip_prefix("attestation failed (error id ")
        .and_then(|m| m.strip_suffix("); the server log has the details"))
        .unwrap_or_else(|| panic!("{status:?}"))
        .to_owned();
    assert!(!status.message().contains(&gone.to_string()), "{status:?}");
    // The operator finds the details under the id.
    let log = server.log_text();
    let line = log
        .lines()
        .find(|l| l.contains(&id))
        .unwrap_or_else(|| panic!("error id {id} not in the server log:\n{log}"));
    assert!(line.contains("TokenReview failed"), "{line}");
    memory.check(&server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_max_connections_are_closed_until_one_ends() {
    let server = Server::start_with(Store::Sqlite, |_| {
        "[agent_api]\nmax_connections = 1\n".to_owned()
    })
    .await;
    let memory = super::MemoryBound::new(&server, 32);
    let (first, _, _) = server.token(&[]).await;
    let (second, _, _) = server.token(&[]).await;
    let mut agent = TestAgent::attest(&server, &first).await.unwrap();
    // The agent's own connection takes the one place once the attestation's has closed (the
    // server notices a close a little later, so the first tries may be turned away).
    guard(async {
        loop {
            match agent.sign(vec![]).await {
                Err(s) if s.code() == Code::InvalidArgument => break,
                Err(s)
                    if matches!(
                        s.code(),
                        Code::Unavailable | Code::Unknown | Code::Cancelled
                    ) =>
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                other => panic!("{other:?}"),
            }
        }
    })
    .await;

    let trust = bootstrap_trust(&server).await;
    let turned_away = crate::agent::attest(server.agent_addr, &trust, &second)
        .await
        .unwrap_err();
    // A reset connection: Unavailable when hyper sees it while connecting, Unknown ("transport
    // error") or Cancelled ("connection closed") when it sees it after; lanyard-agent retries
    // all three.
    assert!(
        matches!(
            turned_away.code(),
            Code::Unavailable | Code::Unknown | Code::Cancelled
        ),
        "{turned_away:?}"
    );
    assert!(
        server
            .log_text()
            .contains("agent API connection closed: max_connections are open"),
        "{}",
        server.log_text()
    );

    // Once the agent's connection is gone, the place is free (and the token was not used).
    drop(agent);
    guard(async {
        loop {
            match crate::agent::attest(server.agent_addr, &trust, &second).await {
                Ok(_) => break,
                Err(s)
                    if matches!(
                        s.code(),
                        Code::Unavailable | Code::Unknown | Code::Cancelled
                    ) =>
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(s) => panic!("{s:?}"),
            }
        }
    })
    .await;
    memory.check(&server);
}
