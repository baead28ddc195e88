//! Issue 16: federation between two real trust domains on this machine. Two servers
//! (`pay.example` = A, `orders.example` = B), each with its own tempdir, data_dir, admin socket
//! and bundle endpoint on 127.0.0.1:0, and an agent of each; the relationships, foreign bundles
//! and entries are set up with the admin CLI as an operator would
//! (`docs/federation.md`).
//!
//! - [`https_spiffe`]: federation both ways; a workload of A validates B's X.509-SVID and
//!   JWT-SVID with what A's agent hands it (Rust `spiffe` crate), a workload of A whose entry
//!   does not federate gets nothing of B (py-spiffe); the relationship declared in server.toml;
//!   how long a foreign bundle change takes to reach an open stream.
//! - [`https_web`]: a Web PKI endpoint with a test CA; wrong name and untrusted issuer refused,
//!   the previous bundle kept.
//! - [`rotation`]: B rotates its CA; A's workloads hold the new authority before the old one is
//!   revoked, with no restart.
//! - [`hostile`]: an endpoint answering garbage, 64 MiB, a stall or HTTP 500: bounded, logged,
//!   the old bundle kept, attempts backed off.
//!
//! Helpers: [`certs`] (test CA and leaves), [`endpoint`] (the hostile endpoint), and below: the
//! federation config, CLI wrappers, and readers of what a workload was handed.

use std::path::Path;
use std::time::{Duration, Instant};

use lanyard_id::TrustDomain;
use lanyard_proto::workload::X509svidResponse;
use lanyard_x509::{Bundle, CertDer, split_der_certificates};
use serde_json::Value;

use crate::agent_harness::Agent;
use crate::harness::{PATIENCE, Server};
use crate::store::Store;

mod attacked_endpoint;
mod certs;
mod endpoint;

mod hostile;
mod https_spiffe;
mod https_web;
mod rotation;

/// Trust domain A: the one whose workloads call B.
pub(crate) const PAY: &str = "pay.example";
/// Trust domain B.
pub(crate) const ORDERS: &str = "orders.example";

/// The lowest poll interval the servers here use (`[federation] refresh_floor`).
pub(crate) const REFRESH_FLOOR: Duration = Duration::from_secs(1);
/// One whole fetch's bound (`[federation] fetch_timeout`).
pub(crate) const FETCH_TIMEOUT: Duration = Duration::from_secs(2);

/// The bundle endpoint a server of a test publishes, if any (`[federation.bundle_endpoint]`).
pub(crate) enum Publish {
    /// No bundle endpoint.
    Nothing,
    /// `https_spiffe`: the server's own X509-SVID.
    HttpsSpiffe,
    /// `https_web`: the certificate and key in these files, checked every second.
    HttpsWeb {
        cert: std::path::PathBuf,
        key: std::path::PathBuf,
    },
}

/// The `server.toml` additions of a federating server: JSON logs, `[federation]` with a 1 s
/// floor and a 2 s fetch bound (and `https_web_ca_path` if given), the bundle endpoint on
/// 127.0.0.1:0 publishing a 2 s refresh hint, then `more` (e.g. `[[federation.federates_with]]`
/// tables).
pub(crate) fn federation_toml(publish: &Publish, web_ca: Option<&Path>, more: &str) -> String {
    let mut toml = String::from("log_format = \"json\"\n\n[federation]\n");
    toml.push_str(&format!(
        "refresh_floor = \"{}s\"\nfetch_timeout = \"{}s\"\n",
        REFRESH_FLOOR.as_secs(),
        FETCH_TIMEOUT.as_secs()
    ));
    if let Some(ca) = web_ca {
        toml.push_str(&format!("https_web_ca_path = \"{}\"\n", ca.display()));
    }
    let endpoint = "\n[federation.bundle_endpoint]\nbind_address = \"127.0.0.1:0\"\n\
                    refresh_hint = \"2s\"\n";
    match publish {
        Publish::Nothing => {}
        Publish::HttpsSpiffe => {
            toml.push_str(endpoint);
            toml.push_str("profile = \"https_spiffe\"\n");
        }
        Publish::HttpsWeb { cert, key } => {
            toml.push_str(endpoint);
            toml.push_str(&format!(
                "profile = \"https_web\"\ncert_path = \"{}\"\nkey_path = \"{}\"\n\
                 reload_interval = \"1s\"\n",
                cert.display(),
                key.display()
            ));
        }
    }
    toml.push('\n');
    toml.push_str(more);
    toml
}

/// A server of `trust_domain` on SQLite publishing as `publish`.
pub(crate) async fn federating_server(trust_domain: &str, publish: Publish) -> Server {
    let server = Server::start_in(Store::Sqlite, trust_domain, |_| {
        federation_toml(&publish, None, "")
    })
    .await;
    if !matches!(publish, Publish::Nothing) {
        assert!(
            server.bundle_endpoint.is_some(),
            "no bundle_endpoint= in the ready line of a server that publishes one:\n{}",
            server.log_text()
        );
    }
    server
}

/// An agent of `server`'s trust domain that also derives `unix:path` selectors, so that two
/// programs of one uid (this test and a Python script) can get different entries.
pub(crate) async fn agent_with_paths(server: &Server) -> Agent {
    Agent::start_in(server, |_| {
        "\n[workload_attestors.unix]\ndiscover_workload_path = true\n".to_owned()
    })
    .await
}

/// The `unix:path:` selector of this test executable, as the agent reads `/proc/<pid>/exe`.
pub(crate) fn this_program() -> String {
    let exe = std::fs::canonicalize(std::env::current_exe().unwrap()).unwrap();
    format!("unix:path:{}", exe.display())
}

/// `https://127.0.0.1:<port>/`, the bundle endpoint URL of `server`.
pub(crate) fn endpoint_url(server: &Server) -> String {
    let addr = server
        .bundle_endpoint
        .expect("the server publishes no bundle endpoint");
    format!("https://{addr}/")
}

/// `bundle show --format spiffe` of `server`'s own trust domain: the SPIFFE bundle document an
/// operator hands the other side as its bootstrap bundle.
pub(crate) async fn own_spiffe_bundle(server: &Server) -> String {
    server
        .cli(&["bundle", "show", "--format", "spiffe"])
        .await
        .ok()
        .stdout
}

/// `federation create` on `local` for `remote`'s trust domain over `https_spiffe`, with
/// `remote`'s current bundle as the bootstrap bundle (what the operators exchanged out of band)
/// and `remote`'s server ID as the endpoint's.
pub(crate) async fn federate_https_spiffe(local: &Server, remote: &Server) {
    let dir = tempfile::tempdir().unwrap();
    let bootstrap = dir
        .path()
        .join(format!("{}.bundle.json", remote.trust_domain()));
    std::fs::write(&bootstrap, own_spiffe_bundle(remote).await).unwrap();
    let url = endpoint_url(remote);
    let id = remote.spiffe_id();
    local
        .cli(&[
            "federation",
            "create",
            "--trust-domain",
            remote.trust_domain(),
            "--bundle-endpoint-url",
            &url,
            "--profile",
            "https_spiffe",
            "--endpoint-spiffe-id",
            &id,
            "--bootstrap-bundle",
            bootstrap.to_str().unwrap(),
        ])
        .await
        .ok();
}

/// `bundle set --trust-domain <td>` of `bundle` (SPIFFE JSON, through a file).
pub(crate) async fn set_bundle(server: &Server, bundle: &Bundle) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bundle.json");
    std::fs::write(&file, bundle.to_jwks_json().unwrap()).unwrap();
    server
        .cli(&[
            "bundle",
            "set",
            "--trust-domain",
            bundle.trust_domain.name(),
            "--path",
            file.to_str().unwrap(),
        ])
        .await
        .ok();
}

/// A bundle of `td` holding the `authorities` (DER), with `sequence`.
pub(crate) fn bundle_of(td: &str, authorities: &[CertDer], sequence: u64) -> Bundle {
    let mut bundle = Bundle::new(TrustDomain::new(td).unwrap());
    for a in authorities {
        bundle.add_x509_authority(a.clone());
    }
    bundle.sequence_number = sequence;
    bundle
}

/// `bundle show --trust-domain <td> --format json` on `server`: the stored bundle of a foreign
/// trust domain as the admin API carries it, or `None` when the command fails (none stored).
pub(crate) async fn stored_bundle(server: &Server, td: &str) -> Option<Value> {
    let out = server
        .cli(&["bundle", "show", "--trust-domain", td, "--format", "json"])
        .await;
    out.status.success().then(|| {
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{out}\nnot JSON: {e}"))
    })
}

/// A proto3-JSON integer (64-bit ones print as strings) or 0 when absent.
pub(crate) fn int(v: &Value) -> i64 {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}

/// The `sequence_number` of a bundle as [`stored_bundle`] returns it.
pub(crate) fn sequence(bundle: &Value) -> u64 {
    u64::try_from(int(&bundle["sequence_number"])).unwrap()
}

/// The base64 X.509 authorities of a bundle as [`stored_bundle`] returns it, in order.
pub(crate) fn authorities(bundle: &Value) -> Vec<String> {
    bundle["x509_authorities"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| x["asn1"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// `federation show --trust-domain <td> --output json` on `server`: the relationship with its
/// refresh `status` (the response's `relationship`, or the document itself if the CLI prints
/// the relationship bare).
pub(crate) async fn relationship(server: &Server, td: &str) -> Value {
    let shown = server
        .cli(&[
            "federation",
            "show",
            "--trust-domain",
            td,
            "--output",
            "json",
        ])
        .await
        .json();
    match shown.get("relationship") {
        Some(r) => r.clone(),
        None => shown,
    }
}

/// Waits until `server`'s refresher has fetched `td`'s bundle from its endpoint at least once
/// (`status.last_success_at` set); returns the relationship.
pub(crate) async fn await_fetched(server: &Server, td: &str) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let rel = relationship(server, td).await;
        if int(&rel["status"]["last_success_at"]) > 0 {
            return rel;
        }
        assert!(
            Instant::now() < deadline,
            "{td}'s bundle was not fetched within {PATIENCE:?}: {rel}\n{}",
            server.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls `server`'s log until a line, lowercased, satisfies `found`; returns it.
pub(crate) async fn await_log_line(
    server: &Server,
    what: &str,
    found: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let log = server.log_text();
        if let Some(line) = log.lines().find(|l| found(&l.to_lowercase())) {
            return line.to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not logged within {PATIENCE:?}:\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether `text`, lowercased, holds one of `phrases` (lowercase): a cause as the fetch error
/// may word it.
pub(crate) fn mentions_any(text: &str, phrases: &[&str]) -> bool {
    let text = text.to_lowercase();
    phrases.iter().any(|p| text.contains(p))
}

/// The foreign bundle of `td` in a FetchX509SVID response (`federated_bundles`, keyed
/// `spiffe://<td>`), as its X.509 authorities; `None` when the caller was not handed it.
pub(crate) fn federated(resp: &X509svidResponse, td: &str) -> Option<Vec<CertDer>> {
    resp.federated_bundles
        .get(&format!("spiffe://{td}"))
        .map(|der| split_der_certificates(der).unwrap())
}

/// The X.509 authorities `server` publishes now (`bundle show --format pem`).
pub(crate) async fn own_authorities(server: &Server) -> Vec<CertDer> {
    lanyard_x509::certificates_from_pem(server.bundle_pem().await.as_bytes()).unwrap()
}
