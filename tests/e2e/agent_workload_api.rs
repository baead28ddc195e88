//! The Workload API contract of a real agent (issue 4): the security header, callers without
//! an identity, uids kept apart, streams that follow entry changes, and the PID-reuse defence.

use std::os::unix::fs::PermissionsExt as _;

use lanyard_proto::workload::X509svidRequest;
use tonic::{Code, Request, Status};

use crate::agent_client::{
    connect, ids, json_out, python_as, run_guarded, wait_for_svids, with_header,
};
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::{PATIENCE, Server};
use crate::store::Store;

/// The status of a FetchX509SVID `request`, whether it comes with the call or as the first
/// stream message.
async fn fetch_status(agent: &Agent, request: Request<X509svidRequest>) -> Status {
    let mut client = connect(&agent.socket).await;
    let call = async {
        match client.fetch_x509svid(request).await {
            Err(status) => status,
            Ok(stream) => match stream.into_inner().message().await {
                Err(status) => status,
                Ok(resp) => panic!("the agent answered {resp:?}"),
            },
        }
    };
    tokio::time::timeout(PATIENCE, call)
        .await
        .expect("FetchX509SVID did not answer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_without_security_header_is_invalid_argument() {
    let server = Server::start(Store::Sqlite).await;
    let agent = Agent::start(&server).await;
    let id = "spiffe://example.org/header/workload";
    create_uid_entry(&server, id, &agent.id, my_uid(), &[]).await;
    // The same caller with the header is served, so only the header can explain a refusal.
    wait_for_svids(&agent.socket, &[id]).await;

    let status = fetch_status(&agent, Request::new(X509svidRequest {})).await;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("security header"), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_without_an_entry_is_told_no_identity_issued() {
    let server = Server::start(Store::Sqlite).await;
    let agent = Agent::start(&server).await;
    // The agent holds an identity, but for another uid.
    create_uid_entry(
        &server,
        "spiffe://example.org/someone/else",
        &agent.id,
        my_uid() + 1,
        &[],
    )
    .await;
    agent.wait_ready().await;

    let deadline = tokio::time::Instant::now() + PATIENCE;
    let status = loop {
        let status = fetch_status(&agent, with_header(X509svidRequest {})).await;
        // Unavailable: not synced yet, retryable by the SPIFFE rules.
        if status.code() != Code::Unavailable || tokio::time::Instant::now() > deadline {
            break status;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(
        status.message().contains("no identity issued"),
        "clients recognise the denial by this text: {status:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_uid_gets_only_its_own_svids() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!(
            "SKIPPED: each_uid_gets_only_its_own_svids runs workloads as uids 1001 and 1002, which needs root"
        );
        return;
    }
    let Some(py) = lanyard_test_support::python() else {
        return;
    };
    let server = Server::start(Store::Sqlite).await;
    let agent = Agent::start(&server).await;
    let uids = [1001_u32, 1002];
    let own = |uid: u32| {
        vec![
            format!("spiffe://example.org/uid{uid}/api"),
            format!("spiffe://example.org/uid{uid}/worker"),
        ]
    };
    for uid in uids {
        for id in own(uid) {
            create_uid_entry(&server, &id, &agent.id, uid, &[]).await;
        }
    }
    // Created last, so once it is served the agent has signed the others too.
    let sentinel = "spiffe://example.org/sentinel";
    create_uid_entry(&server, sentinel, &agent.id, my_uid(), &[]).await;
    wait_for_svids(&agent.socket, &[sentinel]).await;

    let home = tempfile::tempdir().unwrap();
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let endpoint = agent.endpoint();
    let args = ["fetch", endpoint.as_str()];
    let fetch = |uid| python_as(&py, uid, home.path(), "workload_client.py", &args);
    let (a, b) = tokio::join!(fetch(uids[0]), fetch(uids[1]));
    for (uid, out) in [(uids[0], a), (uids[1], b)] {
        let fetched = json_out(&out);
        let mut got: Vec<String> = fetched["svids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        got.sort();
        assert_eq!(got, own(uid), "uid {uid} fetched {fetched}");
        assert_eq!(fetched["chain_verified"], true, "{fetched}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_stream_follows_entry_creation_and_deletion() {
    let server = Server::start(Store::Sqlite).await;
    let agent = Agent::start(&server).await;
    let [a, b, c] = [
        "spiffe://example.org/stream/a",
        "spiffe://example.org/stream/b",
        "spiffe://example.org/stream/c",
    ];
    let a_entry = create_uid_entry(&server, a, &agent.id, my_uid(), &[]).await;
    create_uid_entry(&server, b, &agent.id, my_uid(), &[]).await;
    let (mut watch, _) = wait_for_svids(&agent.socket, &[a, b]).await;

    create_uid_entry(&server, c, &agent.id, my_uid(), &[]).await;
    let resp = watch
        .until(PATIENCE, |r| ids(r).iter().any(|id| id == c))
        .await;
    assert_eq!(ids(&resp), [a, b, c], "after creating {c}");

    server
        .cli(&["entry", "delete", "--id", &a_entry])
        .await
        .ok();
    let resp = watch.next().await;
    assert_eq!(
        ids(&resp),
        [b, c],
        "the message after deleting {a} must no longer carry it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_handed_to_another_process_gets_no_svid() {
    let Some(py) = lanyard_test_support::python() else {
        return;
    };
    let server = Server::start(Store::Sqlite).await;
    let agent = Agent::start(&server).await;
    let id = "spiffe://example.org/pid-reuse/workload";
    create_uid_entry(&server, id, &agent.id, my_uid(), &[]).await;
    wait_for_svids(&agent.socket, &[id]).await;
    let socket = agent.socket.to_str().unwrap();

    // Control: the same raw request from the process that connected is served.
    let control =
        json_out(&run_guarded(py.command("pid_reuse.py", &["--direct", socket]), PATIENCE).await);
    assert_eq!(control["got_svid"], true, "control: {control}");

    // The connecting process exits; the process holding the connection is not the peer.
    let attack = json_out(&run_guarded(py.command("pid_reuse.py", &[socket]), PATIENCE).await);
    assert_eq!(
        attack["got_svid"],
        false,
        "a process that inherited the connection got an SVID: {attack}\n{}",
        agent.log_text()
    );
}
