//! Issue 21 item 3: SIGTERM ends a server and an agent promptly, with streams open.
//!
//! A server with agents connected ends their Sync streams with the status agents take as "go
//! elsewhere" and exits at once; one that a peer holds a call open on exits when its
//! `shutdown_grace` runs out. The same for an agent with open Workload API streams. Either way
//! the exit status is 0 and the port or socket can be bound again right after.

use std::time::Duration;

use lanyard_agent::node::client;
use lanyard_proto::codec::LeanCodec;
use lanyard_proto::lanyard::agent::v1 as pb;
use lanyard_proto::workload::{X509svidRequest, X509svidResponse};
use lanyard_tls::Identity;
use tonic::Code;

use crate::agent::{bootstrap_trust, td};
use crate::agent_client::{connect, wait_for_svids, with_header};
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::{PATIENCE, Server};
use crate::store::Store;

/// How late after its grace period a process may exit on a loaded 2-core machine.
const MARGIN: Duration = Duration::from_secs(3);

/// Polls `log` until it contains `needle`; panics with it after [`PATIENCE`].
async fn wait_logged(what: &str, log: impl Fn() -> String, needle: &str) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let text = log();
        if text.contains(needle) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not log {needle:?} within {PATIENCE:?}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The agent API port can be bound again: the server released it.
async fn assert_port_free(addr: std::net::SocketAddr) {
    if let Err(e) = tokio::net::TcpListener::bind(addr).await {
        panic!("{addr} is still bound after the process exited: {e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_agents_connected_stops_at_once_and_sends_them_elsewhere() {
    let mut server = Server::start(Store::Sqlite).await;
    let agent = Agent::start(&server).await;
    agent.wait_ready().await;

    let addr = server.agent_addr;
    // The default grace period is 5 s; with nothing held open the server needs none of it.
    let (status, took) = server.stop_within(Duration::from_secs(5)).await;
    assert!(status.success(), "exit {status}:\n{}", server.log_text());
    assert!(
        took < Duration::from_secs(5),
        "stopped after {took:?}:\n{}",
        server.log_text()
    );
    assert_port_free(addr).await;
    let log = server.log_text();
    assert!(
        log.contains("sync stream closed") && log.contains("server shutting down"),
        "{log}"
    );
    assert!(!log.contains("shutdown_grace ran out"), "{log}");

    // The agent was told, and takes it as routine: a reconnection with backoff, no warning.
    wait_logged(
        "the agent",
        || agent.log_text(),
        "the server is shutting down; reconnecting",
    )
    .await;
    let agent_log = agent.log_text();
    assert!(!agent_log.contains("sync stream lost"), "{agent_log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_a_peer_holds_a_call_open_on_exits_when_its_grace_runs_out() {
    const GRACE: Duration = Duration::from_secs(1);
    // The held call is an attestation, which the server would otherwise wait for up to
    // attestation_timeout (30 s by default).
    let mut server =
        Server::start_with(Store::Sqlite, |_| "shutdown_grace = \"1s\"\n".into()).await;
    let agent = Agent::start(&server).await;
    agent.wait_ready().await;

    let trust = bootstrap_trust(&server).await;
    let mut c = client::connect(server.agent_addr, &td(), Identity::new(), trust).unwrap();
    let mut held_client = c.clone();
    let held = async move {
        let _ = held_client
            .attest(tokio_stream::pending::<pb::AttestRequest>())
            .await;
    };
    let held = send_first(held).await;
    // A later call on the same connection: once it is answered, the server has the held one.
    let later = tokio::time::timeout(PATIENCE, client::attest_join_token(&mut c, "no-such-token"));
    assert!(later.await.expect("Attest did not answer").is_err());

    let addr = server.agent_addr;
    let (status, took) = server.stop_within(GRACE + MARGIN).await;
    assert!(status.success(), "exit {status}:\n{}", server.log_text());
    assert!(
        took >= GRACE,
        "stopped after {took:?}, before the held call could end"
    );
    assert_port_free(addr).await;
    let log = server.log_text();
    assert!(
        log.contains("shutdown_grace ran out; closing them"),
        "{log}"
    );
    // The agent's stream was ended properly meanwhile: it went elsewhere at once.
    wait_logged(
        "the agent",
        || agent.log_text(),
        "the server is shutting down; reconnecting",
    )
    .await;
    held.abort();
}

/// Polls `call` once, so that it hands its request to its channel (calls on one channel go
/// out in that order), then leaves it running.
async fn send_first(
    call: impl std::future::Future<Output = ()> + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    let mut call = Box::pin(call);
    tokio::select! {
        biased;
        () = &mut call => panic!("the held call ended at once"),
        () = std::future::ready(()) => {}
    }
    tokio::spawn(call)
}

/// A FetchX509SVID call whose request body never comes: the agent cannot even start answering
/// it, and the connection stays open until the grace period is over.
async fn hold_fetch_x509svid(socket: &std::path::Path) -> tokio::task::JoinHandle<()> {
    // A channel of our own (as `connect` makes one), for a call shape the generated client
    // does not offer: a request stream that never yields.
    let socket = socket.to_path_buf();
    let channel = tonic::transport::Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_: tonic::transport::Uri| {
            let socket = socket.clone();
            async move {
                let stream = tokio::net::UnixStream::connect(socket).await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
            }
        }))
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.unwrap();
    let call = send_first(async move {
        let path = tonic::codegen::http::uri::PathAndQuery::from_static(
            "/SpiffeWorkloadAPI/FetchX509SVID",
        );
        let request = with_header(tokio_stream::pending::<X509svidRequest>());
        let codec = LeanCodec::<X509svidRequest, X509svidResponse>::default();
        let _ = grpc.streaming(request, path, codec).await;
    })
    .await;
    // Requests on one connection go out in order: once a later call on the same channel has
    // its answer, the agent has the held call's headers.
    let mut later =
        lanyard_proto::workload::spiffe_workload_api_client::SpiffeWorkloadApiClient::new(channel);
    let answered = tokio::time::timeout(
        PATIENCE,
        later.fetch_x509svid(with_header(X509svidRequest {})),
    )
    .await
    .expect("FetchX509SVID did not answer");
    answered.expect("FetchX509SVID refused");
    call
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_with_open_workload_streams_ends_them_and_stops_at_once() {
    let server = Server::start(Store::Sqlite).await;
    let mut agent = Agent::start(&server).await;
    let id = "spiffe://example.org/shutdown/workload";
    create_uid_entry(&server, id, &agent.id, my_uid(), &[]).await;
    wait_for_svids(&agent.socket, &[id]).await;
    let mut client = connect(&agent.socket).await;
    let mut stream = tokio::time::timeout(
        PATIENCE,
        client.fetch_x509svid(with_header(X509svidRequest {})),
    )
    .await
    .expect("FetchX509SVID did not answer")
    .expect("FetchX509SVID refused")
    .into_inner();
    let first = tokio::time::timeout(PATIENCE, stream.message())
        .await
        .expect("no SVID")
        .unwrap()
        .unwrap();
    assert_eq!(first.svids[0].spiffe_id, id);

    let (socket, health) = (agent.socket.clone(), agent.health_addr);
    let (status, took) = agent.stop_within(Duration::from_secs(5)).await;
    assert!(status.success(), "exit {status}:\n{}", agent.log_text());
    assert!(
        took < Duration::from_secs(5),
        "stopped after {took:?}:\n{}",
        agent.log_text()
    );
    // The open stream ended with a status clients retry, not a broken connection.
    let ended = tokio::time::timeout(PATIENCE, stream.message())
        .await
        .expect("the stream did not end");
    match ended {
        Err(s) => assert_eq!(s.code(), Code::Unavailable, "{s:?}"),
        Ok(m) => panic!("the stream went on after SIGTERM: {m:?}"),
    }
    assert!(!socket.exists(), "the socket was left behind");
    tokio::net::UnixListener::bind(&socket).expect("cannot bind the socket path again");
    assert_port_free(health).await;
    assert!(!agent.log_text().contains("shutdown_grace ran out"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_a_client_holds_a_call_open_on_exits_when_its_grace_runs_out() {
    const GRACE: Duration = Duration::from_secs(1);
    let server = Server::start(Store::Sqlite).await;
    let (token, agent_id, _) = server.token(&[]).await;
    let mut agent = Agent::start_with(&server, agent_id, Some(token), |_| {
        "shutdown_grace = \"1s\"\n".into()
    })
    .await;
    let id = "spiffe://example.org/shutdown/held";
    create_uid_entry(&server, id, &agent.id, my_uid(), &[]).await;
    wait_for_svids(&agent.socket, &[id]).await;
    let held = hold_fetch_x509svid(&agent.socket).await;

    let socket = agent.socket.clone();
    let (status, took) = agent.stop_within(GRACE + MARGIN).await;
    assert!(status.success(), "exit {status}:\n{}", agent.log_text());
    assert!(
        took >= GRACE,
        "stopped after {took:?}, before the held call could end"
    );
    let log = agent.log_text();
    assert!(
        log.contains("Workload API connections still open when shutdown_grace ran out"),
        "{log}"
    );
    assert!(!socket.exists(), "the socket was left behind");
    tokio::net::UnixListener::bind(&socket).expect("cannot bind the socket path again");
    held.abort();
}
