//! The agent takes its settings from the environment as the server does: a real
//! `lanyard-agent run` configured partly by agent.toml and partly by `LANYARD_AGENT_*` and
//! `LANYARD_LOG_LEVEL` serves where the environment says, a flag wins over its variable
//! (`check-config` shows the effective values), and a bad variable is refused by name.

use std::path::Path;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::Command;

use crate::harness::{PATIENCE, Server, bin};
use crate::store::Store;

/// What the agent reads from its environment, cleared before each run.
const AGENT_ENV: &[&str] = &[
    "LANYARD_AGENT_CONFIG",
    "LANYARD_JOIN_TOKEN",
    "LANYARD_AGENT_SOCKET_PATH",
    "LANYARD_AGENT_SERVER_ADDRESS",
    "LANYARD_AGENT_DATA_DIR",
    "LANYARD_AGENT_HEALTH_ADDRESS",
    "LANYARD_LOG_LEVEL",
    "SPIFFE_ENDPOINT_SOCKET",
];

/// `lanyard-agent <args>` with only `env` from the agent's variables.
fn agent(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(bin("lanyard-agent"));
    cmd.args(args).kill_on_drop(true).stdin(Stdio::null());
    for v in AGENT_ENV {
        cmd.env_remove(v);
    }
    cmd.envs(env.iter().copied());
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_takes_settings_from_the_environment_over_its_file() {
    let server = Server::start(Store::Sqlite).await;
    let (token, _, _) = server.token(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    std::fs::write(path("bundle.pem"), server.bundle_pem().await).unwrap();
    // The file: what the environment does not say, and values the environment replaces (a
    // socket elsewhere, a health port nobody may bind, a quiet log).
    let config = path("agent.toml");
    std::fs::write(
        &config,
        format!(
            "trust_domain = \"example.org\"\n\
             server_address = \"127.0.0.1:1\"\n\
             trust_bundle_path = \"{}\"\n\
             data_dir = \"{}\"\n\
             socket_path = \"{}\"\n\
             log_level = \"warn\"\n\
             [health]\nbind_address = \"127.0.0.1:1\"\n\
             [admin]\nsocket_path = \"{}\"\n",
            path("bundle.pem"),
            path("file-data"),
            path("file/api.sock"),
            path("admin/api.sock"),
        ),
    )
    .unwrap();
    let server_address = server.agent_addr.to_string();
    let (env_socket, env_data) = (path("env/api.sock"), path("env-data"));
    let env = [
        ("LANYARD_AGENT_CONFIG", config.as_str()),
        ("LANYARD_JOIN_TOKEN", token.as_str()),
        ("LANYARD_AGENT_SERVER_ADDRESS", server_address.as_str()),
        ("LANYARD_AGENT_SOCKET_PATH", env_socket.as_str()),
        ("LANYARD_AGENT_DATA_DIR", env_data.as_str()),
        ("LANYARD_AGENT_HEALTH_ADDRESS", "127.0.0.1:0"),
        ("LANYARD_LOG_LEVEL", "debug"),
    ];

    // `check-config` shows the effective values: the environment's, and a flag's over it.
    let out = agent(&["check-config", "--socket-path", "/flag/api.sock"], &env)
        .output()
        .await
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "check-config: {out:?}");
    for value in [
        "/flag/api.sock",
        &env_data,
        &server_address,
        "\"debug\"",
        "127.0.0.1:0",
    ] {
        assert!(
            shown.contains(value),
            "check-config does not show {value}:\n{shown}"
        );
    }
    assert!(
        !shown.contains(&env_socket),
        "the flag lost to the variable:\n{shown}"
    );

    // `run`: the agent serves where the environment says, and attests to the server at the
    // variable's address, keeping its identity in the variable's data_dir.
    let mut run_env = env.to_vec();
    run_env.push(("LANYARD_AGENT_LOG_LEVLE", "trace"));
    let mut child = agent(&["run"], &run_env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut log = String::new();
    let listening = tokio::time::timeout(PATIENCE, stdout.next_line())
        .await
        .expect("lanyard-agent not listening in time")
        .unwrap();
    let listening = listening.unwrap_or_else(|| panic!("lanyard-agent exited: {child:?}"));
    assert!(
        listening.starts_with(&format!("lanyard-agent listening socket={env_socket} ")),
        "{listening}"
    );
    assert!(!listening.ends_with("health=127.0.0.1:1"), "{listening}");
    assert!(Path::new(&env_socket).exists());
    assert!(!Path::new(&path("file/api.sock")).exists());
    tokio::time::timeout(PATIENCE, async {
        while let Some(line) = stderr.next_line().await.unwrap() {
            log.push_str(&line);
            log.push('\n');
            if line.contains("node attested") {
                return;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("not attested in {PATIENCE:?}:\n{log}"));
    assert!(
        log.contains("node attested"),
        "lanyard-agent exited:\n{log}"
    );
    assert!(
        log.contains("DEBUG"),
        "LANYARD_LOG_LEVEL=debug, yet:\n{log}"
    );
    assert!(
        log.contains("LANYARD_AGENT_LOG_LEVLE") && log.contains("names no config key"),
        "run does not warn about a misspelt variable:\n{log}"
    );
    assert!(std::fs::read_dir(&env_data).unwrap().count() > 0);
    assert!(!Path::new(&path("file-data")).exists());
    child.kill().await.unwrap();

    // Any key has its variable, by the same rule; a misspelt one is refused by check-config,
    // naming the variable meant, and warned about by run.
    let mut more = env.to_vec();
    more.push(("LANYARD_AGENT_WORKLOAD_API_MAX_CONNECTIONS", "7777"));
    let out = agent(&["check-config"], &more).output().await.unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "check-config: {out:?}");
    assert!(shown.contains("max_connections: 7777"), "{shown}");
    more.push(("LANYARD_AGENT_WORKLOAD_API_MAX_CONECTIONS", "78"));
    let out = agent(&["check-config"], &more).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "LANYARD_AGENT_WORKLOAD_API_MAX_CONECTIONS names no key of agent.toml, so it would \
             change nothing: check its spelling (the nearest variable is \
             LANYARD_AGENT_WORKLOAD_API_MAX_CONNECTIONS)"
        ),
        "{stderr}"
    );

    // A bad variable is refused with its name, before anything starts.
    let mut bad = env.to_vec();
    bad.push(("LANYARD_LOG_LEVEL", "inof"));
    let out = agent(&["run"], &bad).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for says in [
        "invalid LANYARD_LOG_LEVEL (overrides `log_level`)",
        "\"inof\" is not a level",
    ] {
        assert!(stderr.contains(says), "{stderr}");
    }
}
