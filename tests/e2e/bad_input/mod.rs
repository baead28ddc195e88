//! Invalid input is refused with a non-zero exit and a message naming the field and the rule it
//! breaks, and nothing is stored: entries the admin API must refuse, server and agent
//! configurations the binaries must refuse to start with, and Workload API requests the agent
//! must refuse (issue 21 gathers its cases here, with those that passed before it).

// Issue 21 item 2: faults that must not lock agents out (a missing CA or JWT key, a CA that
// expired while the server was down, an agent's stored identity that does not hold together).
mod faults;
// Issue 21 item 2, last point: an agent whose trusted authority was revoked while it was down.
mod trust;
// Issue 21 item 3: SIGTERM ends a server and an agent promptly, with streams open.
mod shutdown;
// Issue 21 item 4: expired join tokens, expired entries and old change-log events are pruned.
mod pruning;
// Cases that held before issue 21, kept holding: `kill -9` during entry creations loses nothing
// acknowledged; a garbled CA key stops the start.
mod storage;

use crate::cli::{CliOutput, lanyard_server};
use crate::harness::Server;
use crate::store::Store;

/// `entry create` with the given SPIFFE ID, selectors and extra flags.
async fn create(server: &Server, spiffe_id: &str, selectors: &[&str], extra: &[&str]) -> CliOutput {
    let mut args = vec![
        "entry",
        "create",
        "--spiffe-id",
        spiffe_id,
        "--parent-id",
        "spiffe://example.org/node",
    ];
    for s in selectors {
        args.extend(["--selector", s]);
    }
    args.extend(extra);
    server.cli(&args).await
}

/// Asserts that `out` failed with `code` and its stderr mentions each of `words`.
fn refused(out: CliOutput, code: i32, words: &[&str]) {
    let out = out.failed_with(code);
    for w in words {
        assert!(out.stderr.contains(w), "stderr lacks {w:?}:\n{out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_entries_are_refused_and_not_stored() {
    let server = Server::start(Store::Sqlite).await;
    let uid = &["unix:uid:1000"][..];

    // Server-side checks: exit 1, "<what> : invalid entry: `<field>` <rule>".
    refused(
        create(&server, "spiffe://example.org/a/../admin", uid, &[]).await,
        1,
        &["`spiffe_id`", "'..' segment"],
    );
    refused(
        create(&server, "spiffe://example.org//web", uid, &[]).await,
        1,
        &["`spiffe_id`", "empty segment"],
    );
    refused(
        create(&server, "spiffe://other.org/web", uid, &[]).await,
        1,
        &[
            "`spiffe_id`",
            "outside this server's trust domain example.org",
        ],
    );
    refused(
        create(
            &server,
            "spiffe://example.org/web",
            uid,
            &["--x509-svid-ttl", "90000"],
        )
        .await,
        1,
        &["`x509_svid_ttl`", "beyond the CA lifetime of 86400s"],
    );

    // Client-side checks: exit 2 (usage) before anything is sent.
    for bad in [":1000", "unix:", "unix"] {
        refused(
            create(&server, "spiffe://example.org/web", &[bad], &[]).await,
            2,
            &[&format!("selector {bad:?}"), "must be type:value"],
        );
    }
    refused(
        create(
            &server,
            "spiffe://example.org/web",
            uid,
            &["--x509-svid-ttl", "0"],
        )
        .await,
        2,
        &["--x509-svid-ttl", "must be greater than zero"],
    );
    refused(
        create(&server, "spiffe://example.org/web", &[], &[]).await,
        2,
        &["--selector", "at least one"],
    );

    // Issue 21: accepted before, now refused with the field named.
    for (bad, words) in [
        (
            "bogus:foo",
            &["unknown selector type \"bogus\"", "extra_selector_types"][..],
        ),
        (
            "unix:bogus:1",
            &["unknown unix selector \"bogus\"", "known are uid"],
        ),
        ("unix:uid:abc", &["unix:uid takes a decimal id"]),
        ("k8s:ns:Payments", &["k8s:ns takes a Kubernetes name"]),
    ] {
        let mut words = words.to_vec();
        words.push("`selectors`");
        refused(
            create(&server, "spiffe://example.org/web", &[bad], &[]).await,
            1,
            &words,
        );
    }
    refused(
        create(
            &server,
            "spiffe://example.org/web",
            uid,
            &["--expires-at", "1000"],
        )
        .await,
        1,
        &["`expires_at`", "has passed"],
    );
    refused(
        create(
            &server,
            "spiffe://example.org/web",
            uid,
            &["--expires-at", "99999999999999"],
        )
        .await,
        1,
        &["`expires_at`", "after 9999-12-31T23:59:59Z"],
    );
    refused(
        create(
            &server,
            "spiffe://example.org/web",
            uid,
            &["--dns-name", "1.2.3.4"],
        )
        .await,
        1,
        &["`dns_names`", "\"1.2.3.4\" is an IP address"],
    );
    // 100 KB: far over the bound, under the kernel's limit on one argument (128 KiB).
    let big = "d".repeat(100_000);
    refused(
        create(
            &server,
            "spiffe://example.org/web",
            uid,
            &["--description", &big],
        )
        .await,
        1,
        &["`description` is 100000 bytes; at most 1024"],
    );
    refused(
        create(
            &server,
            "spiffe://example.org/web",
            uid,
            &["--owner", "\u{1b}[31mteam"],
        )
        .await,
        1,
        &["`owner` contains the control character"],
    );
    for flag in ["--admin", "--downstream"] {
        refused(
            create(&server, "spiffe://example.org/web", uid, &[flag]).await,
            1,
            &["not supported yet"],
        );
    }

    let count = server
        .cli(&["entry", "count", "--output", "json"])
        .await
        .json();
    assert_eq!(count["count"], "0", "a refused entry was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_level_that_would_silence_the_server_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (level, needle) in [
        ("warning", "\"warning\" is not a level"),
        ("inof", "\"inof\" is not a level"),
        ("", "it is empty"),
    ] {
        let cfg = config(dir.path(), &format!("log_level = \"{level}\""));
        let out = run_refused(&cfg, &[]).await;
        for word in [
            "`log_level`",
            needle,
            "trace, debug, info, warn, error, off",
        ] {
            assert!(out.stderr.contains(word), "{level:?}: no {word:?}:\n{out}");
        }
        let checked = lanyard_server(&["check-config", "--config", cfg.to_str().unwrap()]).await;
        assert!(
            !checked.status.success(),
            "check-config accepted {level:?}:\n{checked}"
        );
        assert!(checked.stderr.contains(needle), "{checked}");
    }
}

/// `lanyard-server run --config <path> <extra>`, which must exit (not start).
async fn run_refused(config: &std::path::Path, extra: &[&str]) -> CliOutput {
    let config = config.to_str().unwrap();
    let args: Vec<&str> = ["run", "--config", config]
        .into_iter()
        .chain(extra.iter().copied())
        .collect();
    let out = lanyard_server(&args).await;
    assert!(
        !out.stdout.contains("lanyard-server ready"),
        "the server started:\n{out}"
    );
    assert!(!out.status.success(), "{out}");
    out
}

/// A valid config in `dir` with `extra` appended at the top level.
fn config(dir: &std::path::Path, extra: &str) -> std::path::PathBuf {
    let path = dir.join("server.toml");
    std::fs::write(
        &path,
        format!(
            "trust_domain = \"example.org\"\n\
             data_dir = \"{}\"\n\
             bind_address = \"127.0.0.1:0\"\n\
             socket_path = \"{}\"\n\
             {extra}\n\
             [health]\nbind_address = \"127.0.0.1:0\"\n",
            dir.join("data").display(),
            dir.join("admin/api.sock").display(),
        ),
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_config_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), "trust_bundle_colour = \"blue\"");
    let out = run_refused(&path, &[]).await;
    assert!(out.stderr.contains("trust_bundle_colour"), "{out}");
    assert!(out.stderr.contains("unknown field"), "{out}");
    // Where: the file, then the line and column of the key.
    let line = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .position(|l| l.starts_with("trust_bundle_colour"))
        .unwrap()
        + 1;
    assert!(
        out.stderr.contains(&format!(
            "invalid config file {}: TOML parse error at line {line}, column 1",
            path.display()
        )),
        "{out}"
    );
    assert!(!dir.path().join("data").exists(), "data_dir created anyway");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_config_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let out = run_refused(&missing, &[]).await;
    assert!(out.stderr.contains("cannot read config file"), "{out}");
    assert!(out.stderr.contains(missing.to_str().unwrap()), "{out}");
    // A directory where the file should be.
    let out = run_refused(dir.path(), &[]).await;
    assert!(out.stderr.contains("cannot read config file"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datastore_that_does_not_connect_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let out = run_refused(&cfg, &["--datastore-url", "postgres://127.0.0.1:1/x"]).await;
    assert!(out.stderr.contains("cannot connect"), "{out}");
    assert!(out.stderr.contains("127.0.0.1:1"), "{out}");
    assert!(!dir.path().join("admin/api.sock").exists());
}

/// Starts `lanyard-agent run` with a minimal insecure-bootstrap config plus `extra`; it must
/// refuse to start. Returns its stderr.
async fn agent_refuses(extra: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("agent.toml");
    std::fs::write(
        &config,
        format!(
            "trust_domain = \"example.org\"\n\
             server_address = \"127.0.0.1:1\"\n\
             insecure_bootstrap = true\n\
             data_dir = \"{}\"\n\
             socket_path = \"{}\"\n\
             admin.socket_path = \"{}\"\n\
             {extra}",
            dir.path().join("data").display(),
            dir.path().join("public/api.sock").display(),
            dir.path().join("admin/api.sock").display(),
        ),
    )
    .unwrap();
    let out = tokio::process::Command::new(crate::harness::bin("lanyard-agent"))
        .arg("run")
        .arg("--config")
        .arg(&config)
        .stdin(std::process::Stdio::null())
        .output();
    let out = tokio::time::timeout(crate::harness::PATIENCE, out)
        .await
        .expect("the agent started instead of refusing its config")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{stderr}");
    assert!(
        !dir.path().join("public/api.sock").exists(),
        "it served anyway: {stderr}"
    );
    stderr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_level_that_would_silence_the_agent_is_refused() {
    let stderr = agent_refuses("log_level = \"warning\"\n").await;
    assert!(
        stderr.contains("`log_level`") && stderr.contains("\"warning\" is not a level"),
        "{stderr}"
    );
}

/// Insecure bootstrap would hand the service-account token to whoever answers first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_bootstrap_with_a_kubernetes_token_is_refused() {
    let stderr = agent_refuses("[node_attestor.k8s_psat]\ncluster = \"prod\"\n").await;
    assert!(
        stderr.contains("`insecure_bootstrap`")
            && stderr.contains("service-account token")
            && stderr.contains("trust_bundle_path"),
        "{stderr}"
    );
}

/// An admin command the file system refuses says so, instead of "no such file".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_call_refused_by_permissions_says_permission_denied() {
    use std::os::unix::fs::PermissionsExt as _;
    let server = Server::start(Store::Sqlite).await;
    let socket = server.socket.to_str().unwrap().to_owned();
    let mut cmd = tokio::process::Command::new(crate::harness::bin("lanyard-server"));
    cmd.args(["healthcheck", "--socket-path", &socket])
        .kill_on_drop(true);
    let admin_dir = server.socket.parent().unwrap().to_owned();
    let root = nix::unistd::geteuid().is_root();
    if root {
        // Root passes every permission check: ask as nobody, whom the 0700 directories keep out.
        cmd.uid(65534).gid(65534);
    } else {
        std::fs::set_permissions(&admin_dir, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    let out = tokio::time::timeout(crate::harness::PATIENCE, cmd.output())
        .await
        .unwrap()
        .unwrap();
    if !root {
        std::fs::set_permissions(&admin_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("permission denied on the admin socket")
            && stderr.contains("run this command as that user"),
        "{stderr}"
    );
    assert!(!stderr.contains("no such file"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_security_header_sent_twice_is_named_as_such() {
    use crate::agent_client::{connect, with_header};
    use lanyard_proto::workload::X509svidRequest;

    let server = Server::start(Store::Sqlite).await;
    let agent = crate::agent_harness::Agent::start(&server).await;
    let mut request = with_header(X509svidRequest {});
    request
        .metadata_mut()
        .append("workload.spiffe.io", "true".parse().unwrap());
    let mut client = connect(&agent.socket).await;
    let status =
        match tokio::time::timeout(crate::harness::PATIENCE, client.fetch_x509svid(request))
            .await
            .expect("no answer")
        {
            Err(status) => status,
            Ok(stream) => stream
                .into_inner()
                .message()
                .await
                .expect_err("the agent served a request with two security headers"),
        };
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    assert!(
        status.message().contains("sent more than once"),
        "{status:?}"
    );
}
