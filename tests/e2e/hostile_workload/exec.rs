//! Exec after connect (issue 13, item 6): a process connects to the Workload API, waits until
//! the agent has accepted (and recorded it), forks, and execs another program, while its child
//! asks over the inherited connection. The pid, its pidfd and its start time are unchanged;
//! without the exec check the attestor would describe the new program (its `unix:path`, and a
//! setgid binary's gid) and hand its SVID to the child. The agent must refuse with
//! PermissionDenied "process changed since it connected", and go on serving the same uid's
//! honest clients.

use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::process::Command;

use crate::agent_client::{json_out, run_guarded, wait_for_svids};
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::{PATIENCE, Server};
use crate::store::Store;

/// Raw HTTP/2 with Python's h2 (as `tests/python/pid_reuse.py`):
///
/// `direct SOCKET UID GID`: drop to UID/GID, connect, FetchX509SVID (the honest client).
/// `exec SOCKET UID GID PROGRAM`: drop to UID/GID, connect, wait for the server's SETTINGS
/// (the agent has accepted), fork; the parent execs `PROGRAM 30`, the child waits until it has
/// (its `comm`), sends FetchX509SVID over the inherited connection, reports, and kills the
/// parent. Prints one JSON line: grpc status and (decoded) message, whether an SVID came, and (exec) the
/// parent's `Gid:` line after the exec.
const SCRIPT: &str = r#"
import json, os, signal, socket, sys, time, urllib.parse
import h2.config, h2.connection, h2.events

def answer(sock, conn):
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, [
        (":method", "POST"), (":scheme", "http"), (":authority", "localhost"),
        (":path", "/SpiffeWorkloadAPI/FetchX509SVID"),
        ("content-type", "application/grpc"), ("te", "trailers"),
        ("workload.spiffe.io", "true"),
    ])
    conn.send_data(sid, b"\x00\x00\x00\x00\x00", end_stream=True)
    sock.sendall(conn.data_to_send())
    out = {"grpc_status": None, "grpc_message": None, "got_svid": False, "reset": False}
    done = False
    while not done:
        try:
            data = sock.recv(65535)
        except (socket.timeout, ConnectionResetError):
            break
        if not data:
            break
        for ev in conn.receive_data(data):
            if isinstance(ev, h2.events.DataReceived):
                conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                if len(ev.data) > 5:
                    out["got_svid"] = True
                    done = True
            elif isinstance(ev, (h2.events.ResponseReceived, h2.events.TrailersReceived)):
                for k, v in ev.headers:
                    k = k.decode() if isinstance(k, bytes) else k
                    v = v.decode() if isinstance(v, bytes) else v
                    if k == "grpc-status":
                        out["grpc_status"] = int(v)
                        done = True
                    elif k == "grpc-message":
                        out["grpc_message"] = urllib.parse.unquote(v)
            elif isinstance(ev, (h2.events.StreamReset, h2.events.ConnectionTerminated)):
                out["reset"] = True
                done = True
            elif isinstance(ev, h2.events.StreamEnded):
                done = True
        pending = conn.data_to_send()
        if pending:
            sock.sendall(pending)
    return out

def main():
    mode, path, uid, gid = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    if (os.getuid(), os.getgid()) != (uid, gid):
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(10)
    sock.connect(path)
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    # The server's SETTINGS: the agent has accepted the connection and recorded its peer.
    settled = False
    while not settled:
        data = sock.recv(65535)
        if not data:
            sys.exit("the agent closed the connection before its SETTINGS")
        events = conn.receive_data(data)
        settled = any(isinstance(e, h2.events.RemoteSettingsChanged) for e in events)
        pending = conn.data_to_send()
        if pending:
            sock.sendall(pending)
    if mode == "direct":
        print(json.dumps(answer(sock, conn)))
        return
    program = sys.argv[5]
    sys.stdout.flush()
    if os.fork() == 0:
        parent = os.getppid()
        name = os.path.basename(program)[:15]
        deadline = time.monotonic() + 10
        while open(f"/proc/{parent}/comm").read().strip() != name:
            if time.monotonic() > deadline:
                print(json.dumps({"error": "the parent did not exec " + program}))
                os._exit(1)
            time.sleep(0.005)
        gids = [l for l in open(f"/proc/{parent}/status") if l.startswith("Gid:")][0].split()[1:]
        out = answer(sock, conn)
        out["parent_gids"] = [int(g) for g in gids]
        print(json.dumps(out))
        sys.stdout.flush()
        os.kill(parent, signal.SIGKILL)
        os._exit(0)
    # The connection is close-on-exec here: only the child holds it after this.
    os.execv(program, [program, "30"])

main()
"#;

/// Runs [`SCRIPT`] with `args` as root (it drops privileges itself) and returns its JSON line.
/// The exec mode's parent is killed by its child, so its exit status is not checked there.
async fn run_script(py: &lanyard_test_support::Python, args: &[&str]) -> serde_json::Value {
    let mut cmd = Command::new(py.interpreter());
    cmd.arg("-c").arg(SCRIPT).args(args).current_dir("/");
    cmd.env("PYTHONDONTWRITEBYTECODE", "1");
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
