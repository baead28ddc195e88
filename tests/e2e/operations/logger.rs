//! `lanyard-server logger` and `lanyard-agent logger`: a debug line appears in a running
//! process's log once the level is set to debug, and not before; `reset` returns to the
//! configured level; a level that is not one is refused, naming the levels, and changes
//! nothing. The agent's admin socket answers only its own uid and root.

use std::os::unix::fs::PermissionsExt as _;
use std::process::Stdio;

use tokio::io::AsyncReadExt as _;

use crate::agent_harness::Agent;
use crate::audit::plain;
use crate::harness::{PATIENCE, Server, bin};
use crate::store::Store;

/// The lines of `log` that `tracing`'s text format marks DEBUG, without colour codes.
fn debug_lines(log: &str) -> Vec<String> {
    plain(log)
        .lines()
        .filter(|l| l.contains(" DEBUG "))
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_log_level_changes_at_runtime_and_resets() {
    let server = Server::start(Store::Sqlite).await;
    // At the configured `info`, admin calls (each a few datastore queries, which sqlx logs at
    // debug) leave no debug line.
    server.cli(&["entry", "show"]).await.ok();
    server.cli(&["token", "generate"]).await.ok();
    assert_eq!(debug_lines(&server.log_text()), Vec::<String>::new());
    let shown = server
        .cli(&["logger", "show", "--output", "json"])
        .await
        .json();
    assert_eq!(shown["current_level"], "info");
    assert_eq!(shown["launch_level"], "info");

    let set = server
        .cli(&["logger", "set", "--level", "debug"])
        .await
        .ok();
    assert_eq!(
        set.stdout, "current level: debug\nlaunch level:  info\n",
        "{set}"
    );
    server.cli(&["entry", "show"]).await.ok();
    let log = plain(&server.log_text());
    assert!(
        debug_lines(&log).iter().any(|l| l.contains("sqlx::query")),
        "no debug line after `logger set --level debug`:\n{log}"
    );
    // The change is an admin action in the audit log.
    assert!(
        log.lines().any(|l| l.contains(" action=\"logger.set\"")
            && l.contains(" log_level=\"debug\"")
            && l.contains(" caller=uid:")),
        "{log}"
    );

    // A level that is not one: refused with the levels, and the filter stays as it was.
    let bad = server
        .cli(&["logger", "set", "--level", "verbose"])
        .await
        .failed_with(1);
    assert!(
        bad.stderr.contains(
            "set log level : invalid log_level \"verbose\": \"verbose\" is not a level; the levels are trace, debug, info, warn, error, off"
        ),
        "{bad}"
    );
    let shown = server
        .cli(&["logger", "show", "--output", "json"])
        .await
        .json();
    assert_eq!(shown["current_level"], "debug");

    let reset = server.cli(&["logger", "reset"]).await.ok();
    assert_eq!(reset.stdout, "current level: info\nlaunch level:  info\n");
    let before = server.log_text().len();
    server.cli(&["entry", "show"]).await.ok();
    server.cli(&["token", "generate"]).await.ok();
    let log = server.log_text();
    let after_reset = plain(&log[before..]);
    assert!(
        after_reset.contains(" action=\"token.generate\""),
        "{after_reset}"
    );
    assert_eq!(debug_lines(&after_reset), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_log_level_changes_at_runtime_over_its_admin_socket() {
    let server = Server::start(Store::Sqlite).await;
    let (token, id, _) = server.token(&[]).await;
    // One Workload API connection per uid: a second one is closed at accept, which the agent
    // logs at debug.
    let agent = Agent::start_with(&server, id, Some(token), |_| {
        "[workload_api]\nmax_connections_per_uid = 1\n".to_owned()
    })
    .await;
    let admin = agent.admin_socket();
    let logger = |args: &[&str]| {
        let mut cmd = tokio::process::Command::new(bin("lanyard-agent"));
        cmd.arg("logger")
            .args(args)
            .arg("--socket-path")
            .arg(&admin)
            .env_remove("LANYARD_AGENT_ADMIN_SOCKET_PATH")
            .kill_on_drop(true)
            .stdin(Stdio::null());
        cmd
    };
    let run = |mut cmd: tokio::process::Command| async move {
        let out = tokio::time::timeout(PATIENCE, cmd.output())
            .await
            .expect("lanyard-agent logger hung")
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // The admin socket's directory is private, as the server's.
    let dir_mode = std::fs::metadata(admin.parent().unwrap())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(dir_mode & 0o777, 0o700);

    // Holds the one slot, then has a second connection refused; returns once the agent closed it.
    let overflow = || async {
        let held = tokio::net::UnixStream::connect(&agent.socket)
            .await
            .unwrap();
        let mut refused = tokio::net::UnixStream::connect(&agent.socket)
            .await
            .unwrap();
        let mut buf = [0u8; 1];
        let read = tokio::time::timeout(PATIENCE, refused.read(&mut buf))
            .await
            .expect("the second connection was not closed");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
        drop(held);
    };

    overflow().await;
    assert_eq!(debug_lines(&agent.log_text()), Vec::<String>::new());

    let (code, stdout, stderr) = run(logger(&["set", "--level", "debug"])).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, "current level: debug\nlaunch level:  info\n");
    overflow().await;
    let log = agent.log_text();
    assert!(
        debug_lines(&log)
            .iter()
            .any(|l| l.contains("closing a new Workload API connection")),
        "no debug line after `logger set --level debug`:\n{log}"
    );

    let (code, _, stderr) = run(logger(&["set", "--level", "loud"])).await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "set log level : invalid log_level \"loud\": \"loud\" is not a level; the levels are"
        ),
        "{stderr}"
    );

    let (code, stdout, stderr) = run(logger(&["reset", "--output", "json"])).await;
    assert_eq!(code, Some(0), "{stderr}");
    let shown: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(shown["current_level"], "info");
    assert_eq!(shown["launch_level"], "info");
    let before = agent.log_text().len();
    overflow().await;
    let log = agent.log_text();
    assert_eq!(debug_lines(&log[before..]), Vec::<String>::new());

    // Another uid is refused by the agent itself, even with the directory opened up after the
    // start (the agent checked it then): nobody but the agent's uid and root.
    if !nix::unistd::geteuid().is_root() {
        println!("SKIPPED: not root, so no process of another uid to ask the agent's admin API");
        return;
    }
    let admin_dir = admin.parent().unwrap().to_owned();
    std::fs::set_permissions(&admin_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&admin, std::fs::Permissions::from_mode(0o777)).unwrap();
    let mut cmd = logger(&["show"]);
    cmd.uid(65534).gid(65534);
    let (code, _, stderr) = run(cmd).await;
    std::fs::set_permissions(&admin_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("show log level : uid 65534 may not use this admin API"),
        "{stderr}"
    );
}

/// The agent's admin socket keeps the server's rules: a directory others can enter is refused
/// at start, saying what to run, before the Workload API socket is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_refuses_an_admin_socket_directory_others_can_enter() {
    let server = Server::start(Store::Sqlite).await;
    let (token, id, _) = server.token(&[]).await;
    let refused = Agent::try_start_with(&server, id, Some(token), |dir| {
        let admin = dir.join("admin");
        std::fs::create_dir(&admin).unwrap();
        std::fs::set_permissions(&admin, std::fs::Permissions::from_mode(0o755)).unwrap();
        String::new()
    })
    .await
    .err()
    .expect("the agent started with an admin socket directory of mode 0755");
    let refused = plain(&refused);
    assert!(
        refused.contains(
            "has mode 0755, but whoever can reach the socket is an admin: run `chmod 700"
        ) && refused.contains("or set admin.socket_path to a file in a directory of its own"),
        "{refused}"
    );
    assert!(!refused.contains("serving the Workload API"), "{refused}");
}
