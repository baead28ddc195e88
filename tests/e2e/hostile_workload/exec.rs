//! Exec after connect (issue 13, item 6): a process connects to the Workload API, waits until
//! the agent has accepted (and recorded it), forks, and execs another program, while its child
//! asks over the inherited connection. The pid, its pidfd and its start time are unchanged;
//! without the exec check the attestor would describe the new program (its `unix:path`, and a
//! setgid binary's gid) and hand its SVID to the child. The agent must refuse with
//! PermissionDenied "process changed since it connected", and go on serving the same uid's
//! honest clients.

use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;

use crate::agent_client::{json_out, run_guarded, wait_for_svids};
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::{PATIENCE, Server};
use crate::store::Store;

/// Runs `tests/python/exec_after_connect.py` with `args` as root (it drops privileges itself)
/// and returns its JSON line.
/// The exec mode's parent is killed by its child, so its exit status is not checked there.
async fn run_script(py: &lanyard_test_support::Python, args: &[&str]) -> serde_json::Value {
    let mut cmd = py.command("exec_after_connect.py", args);
    cmd.current_dir("/");
    let out = run_guarded(cmd, PATIENCE).await;
    if args[0] == "direct" {
        return json_out(&out);
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n--- stdout\n{stdout}--- stderr\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The real path of `sleep`, as `/proc/<pid>/exe` will show it.
fn sleep_path() -> PathBuf {
    std::fs::canonicalize("/usr/bin/sleep").unwrap()
}

/// An agent that derives `unix:path` (so an exec changes the selectors).
async fn agent_with_paths(server: &Server) -> Agent {
    let (token, id, _) = server.token(&[]).await;
    Agent::start_with(server, id, Some(token), |_| {
        "\n[workload_attestors.unix]\ndiscover_workload_path = true\n".to_owned()
    })
    .await
}

fn assert_refused_as_changed(attack: &serde_json::Value, agent: &Agent) {
    assert_eq!(
        attack["got_svid"],
        false,
        "the child of a process that exec'd got an SVID: {attack}\n{}",
        agent.log_text()
    );
    assert_eq!(
        attack["grpc_status"], 7,
        "PermissionDenied expected: {attack}"
    );
    assert_eq!(
        attack["grpc_message"], "process changed since it connected",
        "{attack}"
    );
    assert!(
        agent
            .log_text()
            .contains("executed another program since it connected"),
        "the denial's reason is logged:\n{}",
        agent.log_text()
    );
}

fn root_and_python(test: &str) -> Option<lanyard_test_support::Python> {
    if !nix::unistd::geteuid().is_root() {
        eprintln!(
            "SKIPPED: {test} runs workloads as other uids and makes a setgid binary, which needs root"
        );
        return None;
    }
    lanyard_test_support::python()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_after_connect_gets_no_svid_of_the_new_program() {
    let Some(py) = root_and_python("exec_after_connect_gets_no_svid_of_the_new_program") else {
        return;
    };
    let server = Server::start(Store::Sqlite).await;
    let agent = agent_with_paths(&server).await;
    let sleep = sleep_path();
    let sleep = sleep.to_str().unwrap();
    let uid = my_uid();
    let path_selector = format!("unix:path:{sleep}");
    let for_sleep = "spiffe://example.org/exec/sleep";
    create_uid_entry(
        &server,
        for_sleep,
        &agent.id,
        uid,
        &["--selector", &path_selector],
    )
    .await;
    // Created last, so once it is served the agent has signed the other one too.
    let plain = "spiffe://example.org/exec/plain";
    create_uid_entry(&server, plain, &agent.id, uid, &[]).await;
    wait_for_svids(&agent.socket, &[plain]).await;

    let socket = agent.socket.to_str().unwrap();
    let ids = uid.to_string();
    let attack = run_script(&py, &["exec", socket, &ids, &ids, sleep]).await;
    assert_refused_as_changed(&attack, &agent);

    // The same uid without the trick is served, before and after the attack.
    let honest = run_script(&py, &["direct", socket, &ids, &ids]).await;
    assert_eq!(honest["got_svid"], true, "honest client: {honest}");
    wait_for_svids(&agent.socket, &[plain]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_of_a_setgid_binary_after_connect_gets_no_svid_of_its_gid() {
    let Some(py) = root_and_python("exec_of_a_setgid_binary_after_connect_gets_no_svid_of_its_gid")
    else {
        return;
    };
    const NOBODY: u32 = 65534;
    const GID: u32 = 4242;
    let server = Server::start(Store::Sqlite).await;
    let agent = agent_with_paths(&server).await;

    // A setgid copy of sleep: whoever runs it gets egid 4242.
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let setgid = dir.path().join("sleep-setgid");
    std::fs::copy(sleep_path(), &setgid).unwrap();
    std::os::unix::fs::chown(&setgid, Some(0), Some(GID)).unwrap();
    // After the chown, which clears set-id bits.
    std::fs::set_permissions(&setgid, std::fs::Permissions::from_mode(0o2755)).unwrap();
    let setgid = setgid.to_str().unwrap();

    let for_gid = "spiffe://example.org/exec/gid4242";
    let gid_selector = format!("unix:gid:{GID}");
    create_uid_entry(
        &server,
        for_gid,
        &agent.id,
        NOBODY,
        &["--selector", &gid_selector],
    )
    .await;
    let sentinel = "spiffe://example.org/exec/sentinel";
    create_uid_entry(&server, sentinel, &agent.id, my_uid(), &[]).await;
    wait_for_svids(&agent.socket, &[sentinel]).await;

    let socket = agent.socket.to_str().unwrap();
    let nobody = NOBODY.to_string();
    let attack = run_script(&py, &["exec", socket, &nobody, &nobody, setgid]).await;
    // The trick worked on the process: its effective gid is 4242 now.
    assert_eq!(
        attack["parent_gids"][1], GID,
        "the setgid exec did not change the egid: {attack}"
    );
    assert_refused_as_changed(&attack, &agent);

    // A process that really runs with uid 65534 and gid 4242 is served that entry's SVID.
    let honest = run_script(&py, &["direct", socket, &nobody, &GID.to_string()]).await;
    assert_eq!(honest["got_svid"], true, "honest client: {honest}");
    assert_eq!(honest["grpc_status"], serde_json::Value::Null, "{honest}");
}
