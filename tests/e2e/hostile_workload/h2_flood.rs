//! Issue 13, item 1: the header-block flood. Before any authentication, every Workload API
//! connection goes through the `:authority` rewrite (`lanyard-h2-authority`), which used to buffer
//! a header block until END_HEADERS without bound: 300 connections each sending the preface, a
//! HEADERS frame without END_HEADERS and 500 CONTINUATION frames of 16 KiB grew the agent by
//! 9.4 GiB. Now the agent holds no more than h2 would (one 16 KiB frame and one 16 KiB block per
//! connection) and closes such connections.

use std::io;
use std::os::unix::fs::PermissionsExt as _;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::UnixStream;

use crate::agent_client::{json_out, python_as, wait_for_svids};
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::{PATIENCE, Server};
use crate::store::Store;

const ATTACKERS: usize = 300;
const CONTINUATIONS: usize = 500;
const FRAME: usize = 16_384;
/// What the whole attack may add to the agent's resident set.
const RSS_BUDGET_KIB: u64 = 32 * 1024;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const HEADERS: u8 = 0x1;
const CONTINUATION: u8 = 0x9;

fn frame_header(len: usize, kind: u8, flags: u8, stream_id: u32) -> [u8; 9] {
    let len = u32::try_from(len).unwrap().to_be_bytes();
    let id = stream_id.to_be_bytes();
    [
        len[1], len[2], len[3], kind, flags, id[0], id[1], id[2], id[3],
    ]
}

/// A `kB` line of `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"));
    line.trim().trim_end_matches("kB").trim().parse().unwrap()
}

/// One attacker: the preface, a HEADERS frame without END_HEADERS (`:method: POST` and the
/// start of a literal), then up to [`CONTINUATIONS`] CONTINUATION frames of 16 KiB; then it
/// reads until the agent hangs up. Returns how many CONTINUATION frames it wrote before the
/// agent closed the connection (EOF or reset on read, a broken pipe on write).
async fn attack(socket: &std::path::Path) -> usize {
    let mut conn = UnixStream::connect(socket).await.unwrap();
    let fragment = [0x83, 0x00, 0x01, b'x', 0x7f, 0xff, 0xff, 0x7f];
    let mut hello = PREFACE.to_vec();
    hello.extend(frame_header(fragment.len(), HEADERS, 0, 1));
    hello.extend(fragment);
    let closed = |e: &io::Error| {
        matches!(
            e.kind(),
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
        )
    };
    if let Err(e) = conn.write_all(&hello).await {
        assert!(closed(&e), "{e}");
        return 0;
    }
    let mut continuation = frame_header(FRAME, CONTINUATION, 0, 1).to_vec();
    continuation.extend(std::iter::repeat_n(b'v', FRAME));
    for written in 0..CONTINUATIONS {
        if let Err(e) = conn.write_all(&continuation).await {
            assert!(closed(&e), "{e}");
            return written;
        }
    }
    // Everything was accepted: the agent must still hang up rather than wait for more.
    let mut sink = [0u8; 4096];
    loop {
        match conn.read(&mut sink).await {
            Ok(0) => return CONTINUATIONS,
            Ok(_) => continue,
            Err(e) if closed(&e) => return CONTINUATIONS,
            Err(e) => panic!("reading from the agent: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_continuation_flood_is_cut_off_and_legitimate_clients_are_served() {
    let Some(py) = lanyard_test_support::python() else {
        eprintln!(
            "SKIPPED: a_continuation_flood_is_cut_off_and_legitimate_clients_are_served needs the py-spiffe environment"
        );
        return;
    };
    let server = Server::start(Store::Sqlite).await;
    let agent = Agent::start(&server).await;
    let id = "spiffe://example.org/flood/legit";
    create_uid_entry(&server, id, &agent.id, my_uid(), &[]).await;
    wait_for_svids(&agent.socket, &[id]).await;

    let pid = agent.pid();
    // Reset the peak (proc(5), clear_refs "5"), so VmHWM below is the attack's peak.
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
    let before = status_kib(pid, "VmRSS");

    let home = tempfile::tempdir().unwrap();
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let endpoint = agent.endpoint();
    let socket = agent.socket.clone();
    let attackers: Vec<_> = (0..ATTACKERS)
        .map(|_| {
            let socket = socket.clone();
            tokio::spawn(async move { tokio::time::timeout(PATIENCE, attack(&socket)).await })
        })
        .collect();
    let legit = python_as(
        &py,
        my_uid(),
        home.path(),
        "workload_client.py",
        &["fetch", endpoint.as_str()],
    )
    .await;
    let mut endings = Vec::new();
    for attacker in attackers {
        let ending = attacker
            .await
            .unwrap()
            .expect("the agent neither closed an attacking connection nor read its bytes");
        endings.push(ending);
    }
    let peak = status_kib(pid, "VmHWM");
    let after = status_kib(pid, "VmRSS");

    // The legitimate client was served while the attack ran.
    let fetched = json_out(&legit);
    assert_eq!(fetched["svids"][0], id, "{fetched}");

    // Every attacking connection was closed by the agent, long before its 500th frame.
    let most = endings.iter().copied().max().unwrap();
    assert!(
        most < CONTINUATIONS,
        "an attacker wrote {most} CONTINUATION frames without being cut off"
    );

    let grown = peak.max(after).saturating_sub(before);
    eprintln!(
        "agent RSS: {before} KiB before, {after} KiB after, peak {peak} KiB; grown {grown} KiB; \
         most CONTINUATION frames written by one attacker: {most}"
    );
    assert!(
        grown <= RSS_BUDGET_KIB,
        "the flood grew the agent by {grown} KiB (budget {RSS_BUDGET_KIB} KiB)"
    );
}
