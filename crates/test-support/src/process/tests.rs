//! `Process` against real `sh` processes: the ready line, an exit before it, silence, SIGTERM.

use std::process::Command;
use std::time::Duration;

use super::{AGENT_ENV, Process, ProcessError, SERVER_ENV, read_by_binaries};

/// `sh -c script`, stderr into a log in `dir`.
async fn start(
    dir: &tempfile::TempDir,
    script: &str,
    patience: Duration,
) -> Result<(Process, String), ProcessError> {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", script]);
    Process::start(cmd, &dir.path().join("log"), "ready ", patience).await
}

/// [`start`] for a script that prints its ready line: the process and the rest of that line.
async fn started(dir: &tempfile::TempDir, script: &str) -> (Process, String) {
    start(dir, script, Duration::from_secs(20)).await.unwrap()
}

#[tokio::test]
async fn returns_the_rest_of_the_ready_line_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let script = "echo starting >&2; echo noise; echo 'ready addr=1'; exec sleep 60";
    let (mut p, line) = started(&dir, script).await;
    assert_eq!(line, "addr=1");
    assert_eq!(p.log_text(), "starting\n");
    let (status, _) = p.stop_within(Duration::from_secs(20)).await.unwrap();
    // `sleep` dies of the SIGTERM: no exit code, not a success.
    assert!(!status.success(), "{status}");
}

#[tokio::test]
async fn an_exit_before_the_ready_line_is_an_error_with_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let err = start(
        &dir,
        "echo 'bad config: x' >&2; exit 3",
        Duration::from_secs(20),
    )
    .await
    .unwrap_err();
    let ProcessError::Exited { status, log, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(status.code(), Some(3));
    assert_eq!(log, "bad config: x\n");
    let shown = err.to_string();
    assert!(shown.contains("sh exited before it was ready"), "{shown}");
    assert!(shown.contains("bad config: x"), "{shown}");
}

#[tokio::test]
async fn no_ready_line_within_the_patience_kills_the_process() {
    let dir = tempfile::tempdir().unwrap();
    let err = start(
        &dir,
        "echo waiting >&2; exec sleep 60",
        Duration::from_millis(300),
    )
    .await
    .unwrap_err();
    let ProcessError::NotReady { log, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(log, "waiting\n");
}

#[tokio::test]
async fn a_process_that_ignores_sigterm_is_killed_after_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let script = "trap '' TERM; echo 'ready now'; while :; do sleep 0.05; done";
    let (mut p, _) = started(&dir, script).await;
    let pid = p.pid();
    let err = p.stop_within(Duration::from_millis(300)).await.unwrap_err();
    assert!(
        matches!(
            err,
            ProcessError::StillRunning {
                after: "after SIGTERM",
                ..
            }
        ),
        "{err:?}"
    );
    // Killed and reaped by the waiting thread: the pid goes away.
    let gone = tokio::time::timeout(Duration::from_secs(20), async {
        while std::path::Path::new(&format!("/proc/{pid}")).exists() {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(gone.is_ok(), "pid {pid} still exists");
}

/// Every variable a binary reads as an override of its config file is removed before it starts,
/// so a developer's environment cannot change what a test runs.
#[test]
fn every_override_variable_is_removed() {
    for (args, removed) in [
        (&lanyard_config::SERVER, SERVER_ENV),
        (&lanyard_config::AGENT, AGENT_ENV),
    ] {
        assert!(removed.contains(&args.config_env), "{}", args.config_env);
        for o in args.flags {
            assert!(read_by_binaries(o.env), "{} is not removed", o.env);
        }
        let any_key = lanyard_config::variable(args.prefix, "workload_api.max_connections");
        assert!(read_by_binaries(&any_key), "{any_key} is not removed");
    }
    assert!(!read_by_binaries("LANYARD_TEST_POSTGRES_URL"));
}

/// The `trust_domain` line of a config file, and whether `extra` comes before `[health]`.
fn trust_domain_line(config: &std::path::Path) -> String {
    let text = std::fs::read_to_string(config).unwrap();
    let health = text.find("[health]").unwrap();
    assert!(text.find("# extra").unwrap() < health, "{text}");
    text.lines().next().unwrap().to_owned()
}

/// The writers without a trust domain keep `example.org` (every existing test's); the `_for` /
/// `_in` writers put the one given in both files, as two federating trust domains need.
#[test]
fn config_writers_set_the_trust_domain_given_or_example_org() {
    use super::{AgentFiles, DEFAULT_TRUST_DOMAIN, ServerFiles};
    let dir = tempfile::tempdir().unwrap();
    let server = ServerFiles::write(dir.path(), "# extra").unwrap();
    assert_eq!(
        trust_domain_line(&server.config),
        format!("trust_domain = \"{DEFAULT_TRUST_DOMAIN}\"")
    );
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 8081));
    let agent = AgentFiles::write(dir.path(), addr, "PEM", "# extra").unwrap();
    assert_eq!(
        trust_domain_line(&agent.config),
        "trust_domain = \"example.org\""
    );

    let dir = tempfile::tempdir().unwrap();
    let server = ServerFiles::write_for(dir.path(), "pay.example", "# extra").unwrap();
    assert_eq!(
        trust_domain_line(&server.config),
        "trust_domain = \"pay.example\""
    );
    let servers = ["127.0.0.1:8081".to_owned()];
    let agent =
        AgentFiles::write_in(dir.path(), "orders.example", &servers, "PEM", "# extra").unwrap();
    assert_eq!(
        trust_domain_line(&agent.config),
        "trust_domain = \"orders.example\""
    );
    let text = std::fs::read_to_string(&agent.config).unwrap();
    assert!(
        text.contains("server_address = \"127.0.0.1:8081\""),
        "{text}"
    );
    assert_eq!(std::fs::read_to_string(&agent.bundle).unwrap(), "PEM");
}
