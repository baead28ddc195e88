//! Issue 13 item 3: no single uid can take every Workload API connection slot, and a connection
//! with no open call does not keep its slot forever.

use std::os::unix::fs::PermissionsExt as _;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt as _, BufReader};

use crate::agent_client::{json_out, python_as, python_command_as, wait_for_svids};
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::{PATIENCE, Server};
use crate::store::Store;

/// The uid of the attacker: not root, not the test's own.
const NOBODY: u32 = 65534;

async fn agent_with(server: &Server, workload_api: &str) -> Agent {
    let (token, id, _) = server.token(&[]).await;
    let extra = format!("\n[workload_api]\n{workload_api}\n");
    Agent::start_with(server, id, Some(token), |_| extra).await
}

fn home() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    home
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_uid_holding_1100_connections_does_not_lock_out_another() {
    let Some(py) = lanyard_test_support::python() else {
        panic!("the pinned Python environment is required for this test");
    };
    let server = Server::start(Store::Sqlite).await;
    // The default share, written out; the handshake deadline is raised so that only the slot
    // limit decides which of the attacker's idle connections stay open during the test.
    let agent = agent_with(
        &server,
        "max_connections = 4096\nmax_connections_per_uid = 1024\nhandshake_timeout = \"5m\"",
    )
    .await;
    let id = "spiffe://example.org/hostile/root-workload";
    create_uid_entry(&server, id, &agent.id, my_uid(), &[]).await;
    wait_for_svids(&agent.socket, &[id]).await;

    let home = home();
    let socket = agent.socket.display().to_string();
    let mut attack = tokio::process::Command::from(
        python_command_as(
            &py,
            NOBODY,
            home.path(),
            "hold_connections.py",
            &[&socket, "1100"],
        )
        .await,
    );
    let mut attacker = attack
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(attacker.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(PATIENCE * 3, lines.next_line())
        .await
        .expect("the attacker did not report in time")
        .unwrap()
        .expect("the attacker exited without a report");
    let held: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        held["accepted"], 1024,
        "uid {NOBODY} got more than its share: {held}"
    );
    assert_eq!(
        held["closed"], 76,
        "the connections beyond its share are closed: {held}"
    );

    // While uid 65534 holds its 1,024 connections, another uid is served: py-spiffe as root.
    let endpoint = agent.endpoint();
    let out = python_as(
        &py,
        my_uid(),
        home.path(),
        "workload_client.py",
        &["fetch", &endpoint],
    )
    .await;
    let fetched = json_out(&out);
    assert_eq!(fetched["svids"], serde_json::json!([id]), "{fetched}");

    // The attacker's connections were held, not dropped, while root was served.
    drop(attacker.stdin.take());
    let last = tokio::time::timeout(PATIENCE, lines.next_line())
        .await
        .expect("the attacker did not finish")
        .unwrap()
        .expect("the attacker exited without its last report");
    let after: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert_eq!(after["still_open"], 1024, "{after}");
    let _ = attacker.wait().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_without_an_open_call_is_closed_after_the_idle_timeout() {
    let Some(py) = lanyard_test_support::python() else {
        panic!("the pinned Python environment is required for this test");
    };
    let server = Server::start(Store::Sqlite).await;
    let agent = agent_with(&server, "idle_timeout = \"1s\"").await;
    let first = "spiffe://example.org/hostile/streaming";
    create_uid_entry(&server, first, &agent.id, my_uid(), &[]).await;
    // A stream that stays open across the idle timeout: its connection has a call open.
    let (mut watch, _) = wait_for_svids(&agent.socket, &[first]).await;

    let home = home();
    let socket = agent.socket.display().to_string();
    let out = python_as(&py, NOBODY, home.path(), "idle_close.py", &[&socket]).await;
    let idle = json_out(&out);
    assert_eq!(
        idle["grpc_status"], 3,
        "the call ended with InvalidArgument: {idle}"
    );
    let closed_after = idle["closed_after_ms"]
        .as_u64()
        .unwrap_or_else(|| panic!("the agent kept the idle connection open: {idle}"));
    assert!(
        closed_after >= 900,
        "closed before the idle timeout: {idle}"
    );

    // The streaming connection, older than the idle one, still follows entry changes.
    let second = "spiffe://example.org/hostile/streaming-2";
    create_uid_entry(&server, second, &agent.id, my_uid(), &[]).await;
    watch.until(PATIENCE, |resp| resp.svids.len() == 2).await;
}
