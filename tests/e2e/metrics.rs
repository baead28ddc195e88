//! Prometheus metrics end to end (issue 15): a real server and agent run a flow (the agent
//! attests, an entry is created, a workload fetches an X.509-SVID and a JWT-SVID with the agent's
//! CLI, a JWT validation and an admin call fail), and both `/metrics` pages, scraped before and
//! after and parsed by the Prometheus project's own OpenMetrics parser (Python
//! `prometheus_client`), show the counters moved by exactly what happened; the agent's earliest
//! expiry is the held SVID's `not_after`, and the server's authority gauges are the bundle's.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use lanyard_test_support::Python;
use serde_json::Value;
use tokio::io::AsyncWriteExt as _;

use crate::agent_client::{run_guarded, wait_for_svids};
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::{PATIENCE, Server, bin, http_get};
use crate::store::Store;

const WORKLOAD: &str = "spiffe://example.org/metrics/workload";

/// One `/metrics` page as the parser read it.
struct Scrape {
    /// Family name → its type.
    types: BTreeMap<String, String>,
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
    page: String,
}

impl Scrape {
    /// The sample `name{labels}` (the labels given must be all it has), if present.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let want: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples
            .iter()
            .find(|(n, l, _)| n == name && *l == want)
            .map(|(_, _, v)| *v)
    }

    /// A counter sample, 0 while absent (counters appear on their first increment).
    fn count(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels).unwrap_or(0.0)
    }

    /// A sample that must be present.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels)
            .unwrap_or_else(|| panic!("no sample {name}{labels:?} in:\n{}", self.page))
    }

    /// Every sample of `name`, with its labels.
    fn all(&self, name: &str) -> Vec<(BTreeMap<String, String>, f64)> {
        self.samples
            .iter()
            .filter(|(n, _, _)| n == name)
            .map(|(_, l, v)| (l.clone(), *v))
            .collect()
    }
}

/// `GET /metrics` on `addr`, parsed by `tests/python/parse_metrics.py`.
async fn scrape(py: &Python, addr: SocketAddr) -> Scrape {
    let resp = http_get(addr, "/metrics").await;
    let (head, page) = resp.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/openmetrics-text; version=1.0.0"),
        "{head}"
    );

    let mut cmd = tokio::process::Command::from(py.command("parse_metrics.py", &[]));
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(page.as_bytes()).await.unwrap();
    drop(stdin);
    let out = tokio::time::timeout(PATIENCE, child.wait_with_output())
        .await
        .expect("parse_metrics.py did not finish")
        .unwrap();
    assert!(
        out.status.success(),
        "the OpenMetrics parser rejected the page: {}\n{page}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parsed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let types = parsed["families"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, f)| (name.clone(), f["type"].as_str().unwrap().to_owned()))
        .collect();
    let samples = parsed["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let labels = s["labels"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            (
                s["name"].as_str().unwrap().to_owned(),
                labels,
                s["value"].as_f64().unwrap(),
            )
        })
        .collect();
    Scrape {
        types,
        samples,
        page: page.to_owned(),
    }
}

/// Scrapes until `done` holds (a counter updated when a connection closes lags the client's
/// exit); panics with the last page after [`PATIENCE`].
async fn scrape_until(py: &Python, addr: SocketAddr, done: impl Fn(&Scrape) -> bool) -> Scrape {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let s = scrape(py, addr).await;
        if done(&s) {
            return s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the metrics never got there:\n{}",
            s.page
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn unix(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_secs() as f64
}

/// `lanyard-agent api <args> --socket-path <socket>`, as a workload runs it.
async fn agent_cli(agent: &Agent, args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new(bin("lanyard-agent"));
    cmd.arg("api")
        .args(args)
        .args(["--socket-path", agent.socket.to_str().unwrap()]);
    run_guarded(cmd, PATIENCE).await
}

/// The bundle's authorities as `bundle show --format json` prints them: (kind, id) → not_after.
async fn bundle_authorities(server: &Server) -> BTreeMap<(String, String), f64> {
    let bundle = server
        .cli(&["bundle", "show", "--format", "json"])
        .await
        .json();
    let mut out = BTreeMap::new();
    for a in bundle["x509_authorities"].as_array().unwrap() {
        let der = base64::engine::general_purpose::STANDARD
            .decode(a["asn1"].as_str().unwrap())
            .unwrap();
        let info = lanyard_x509::CertInfo::from_der(&der).unwrap();
        let ski = hex::encode(info.subject_key_id.unwrap());
        out.insert(("x509".to_owned(), ski), unix(info.not_after));
    }
    for k in bundle["jwt_authorities"].as_array().unwrap() {
        let expires_at: f64 = match &k["expires_at"] {
            Value::String(s) => s.parse().unwrap(),
            v => v.as_f64().unwrap(),
        };
        out.insert(
            ("jwt".to_owned(), k["key_id"].as_str().unwrap().to_owned()),
            expires_at,
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_move_by_what_a_flow_did_and_gauges_tell_the_truth() {
    let Some(py) = lanyard_test_support::python() else {
        return;
    };
    let server = Server::start(Store::Sqlite).await;
    let s0 = scrape(&py, server.health_addr).await;
    assert_eq!(s0.value("lanyard_server_entries", &[]), 0.0);
    assert_eq!(s0.value("lanyard_server_sync_streams", &[]), 0.0);
    // The agent attests with a join token (the token and the bundle come from admin calls),
    // then an entry gives this process WORKLOAD, and the agent has it signed.
    let agent = Agent::start(&server).await;
    create_uid_entry(&server, WORKLOAD, &agent.id, my_uid(), &[]).await;
    let (_watch, first) = wait_for_svids(&agent.socket, &[WORKLOAD]).await;
    let leaf = lanyard_x509::split_der_certificates(&first.svids[0].x509_svid).unwrap();
    let not_after = unix(
        lanyard_x509::CertInfo::from_der(leaf[0].as_bytes())
            .unwrap()
            .not_after,
    );
    let a0 = scrape_until(&py, agent.health_addr, |s| {
        s.get("lanyard_agent_svids", &[]) == Some(1.0)
    })
    .await;

    // A workload's calls: an X.509-SVID, a JWT-SVID, and a validation that fails.
    let x509 = agent_cli(&agent, &["fetch", "x509", "--output", "json"]).await;
    assert!(x509.status.success(), "{x509:?}");
    let jwt = agent_cli(
        &agent,
        &["fetch", "jwt", "--audience", "payments", "--output", "json"],
    )
    .await;
    assert!(jwt.status.success(), "{jwt:?}");
    let invalid = agent_cli(
        &agent,
        &[
            "validate",
            "jwt",
            "--audience",
            "payments",
            "--svid",
            "not.a.token",
        ],
    )
    .await;
    assert!(!invalid.status.success(), "{invalid:?}");
    // And an admin call that fails.
    server
        .cli(&["entry", "show", "--id", "no-such-entry"])
        .await
        .failed_with(1);

    // Workload API calls by method and code: the CLI's X.509 stream ends when it goes away.
    let calls = "lanyard_agent_workload_api_calls_total";
    let moved = |s: &Scrape, method: &str, code: &str| {
        s.count(calls, &[("method", method), ("code", code)])
            - a0.count(calls, &[("method", method), ("code", code)])
    };
    let a1 = scrape_until(&py, agent.health_addr, |s| {
        moved(s, "FetchX509SVID", "CANCELLED") >= 1.0
    })
    .await;
    assert_eq!(moved(&a1, "FetchX509SVID", "CANCELLED"), 1.0, "{}", a1.page);
    assert_eq!(moved(&a1, "FetchJWTSVID", "OK"), 1.0, "{}", a1.page);
    assert_eq!(
        moved(&a1, "ValidateJWTSVID", "INVALID_ARGUMENT"),
        1.0,
        "{}",
        a1.page
    );
    let attested = |s: &Scrape| {
        s.count(
            "lanyard_agent_workload_attestations_total",
            &[("outcome", "success")],
        )
    };
    assert_eq!(attested(&a1) - attested(&a0), 3.0, "one per call");
    let timed = |s: &Scrape| {
        s.count(
            "lanyard_agent_workload_attestation_duration_seconds_count",
            &[],
        )
    };
    assert_eq!(timed(&a1) - timed(&a0), 3.0);
    // The test's own watch is still open.
    assert!(
        a1.value(
            "lanyard_agent_workload_api_open_calls",
            &[("method", "FetchX509SVID")]
        ) >= 1.0
    );
    assert!(a1.value("lanyard_agent_workload_api_connections", &[]) >= 1.0);
    // What the agent holds, and the alert's input.
    assert_eq!(a1.value("lanyard_agent_svids", &[]), 1.0);
    assert_eq!(
        a1.value("lanyard_agent_svid_earliest_expiry_timestamp_seconds", &[]),
        not_after,
        "the earliest expiry is the held SVID's not_after"
    );
    assert_eq!(
        a1.count(
            "lanyard_agent_svid_signings_total",
            &[("reason", "new"), ("outcome", "success")]
        ),
        1.0
    );
    assert_eq!(a1.value("lanyard_agent_sync_connected", &[]), 1.0);
    let changed = a1.value("lanyard_agent_sync_last_change_timestamp_seconds", &[]);
    assert!(
        changed > 0.0 && changed <= unix(SystemTime::now()),
        "{changed}"
    );

    // The server: one attestation, one X.509-SVID and one JWT-SVID signed (the agent caches the
    // token), the admin calls by code, one entry, one agent streaming.
    let s1 = scrape_until(&py, server.health_addr, |s| {
        s.get("lanyard_server_entry_cache_lag_events", &[]) == Some(0.0)
    })
    .await;
    let moved =
        |name: &str, labels: &[(&str, &str)]| s1.count(name, labels) - s0.count(name, labels);
    assert_eq!(
        moved(
            "lanyard_server_attestations_total",
            &[("attestor", "join_token"), ("outcome", "success")]
        ),
        1.0,
        "{}",
        s1.page
    );
    for kind in ["x509", "jwt"] {
        assert_eq!(
            moved(
                "lanyard_server_svid_signings_total",
                &[("kind", kind), ("outcome", "issued")]
            ),
            1.0,
            "{kind}: {}",
            s1.page
        );
        assert_eq!(
            moved(
                "lanyard_server_svid_signing_duration_seconds_count",
                &[("kind", kind)]
            ),
            1.0,
            "{kind}"
        );
    }
    let admin = "lanyard_server_admin_calls_total";
    for (method, code) in [
        ("GenerateJoinToken", "OK"),
        ("CreateEntry", "OK"),
        ("GetEntry", "NOT_FOUND"),
    ] {
        assert_eq!(
            moved(admin, &[("method", method), ("code", code)]),
            1.0,
            "{method} {code}: {}",
            s1.page
        );
    }
    assert_eq!(s1.value("lanyard_server_entries", &[]), 1.0);
    assert_eq!(s1.value("lanyard_server_sync_streams", &[]), 1.0);
    assert!(s1.value("lanyard_server_agent_api_connections", &[]) >= 1.0);
    assert!(
        s1.value("lanyard_server_change_log_head_seq", &[])
            > s0.value("lanyard_server_change_log_head_seq", &[])
    );

    // The families the parser read, with their types (a counter family is exported once it has
    // counted something).
    for (family, kind) in [
        ("lanyard_server_svid_signings", "counter"),
        ("lanyard_server_svid_signing_duration_seconds", "histogram"),
        ("lanyard_server_attestations", "counter"),
        ("lanyard_server_admin_calls", "counter"),
        ("lanyard_server_entries", "gauge"),
        (
            "lanyard_server_authority_not_after_timestamp_seconds",
            "gauge",
        ),
    ] {
        assert_eq!(
            s1.types.get(family).map(String::as_str),
            Some(kind),
            "{family}:\n{}",
            s1.page
        );
    }

    // Each authority's not_after is the bundle's.
    let gauges: BTreeMap<(String, String), f64> = s1
        .all("lanyard_server_authority_not_after_timestamp_seconds")
        .into_iter()
        .map(|(l, v)| ((l["kind"].clone(), l["id"].clone()), v))
        .collect();
    let bundle = bundle_authorities(&server).await;
    assert_eq!(gauges, bundle, "{}", s1.page);
    let kinds: BTreeSet<&str> = gauges.keys().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, BTreeSet::from(["jwt", "x509"]));
}
