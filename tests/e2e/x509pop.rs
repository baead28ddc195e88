//! x509pop node attestation (issue 17 item 1) with real processes: a node PKI minted here with
//! rcgen (root, intermediate, node certificate), a server trusting the root, and a
//! `lanyard-agent` proving possession of the node key over the Attest stream's challenge round.
//! The agent gets the fingerprint ID and the certificate's selectors, a workload entry under a
//! node alias on those selectors gets its SVID, the same certificate attests again to the same
//! agent, and a certificate of another CA is refused with the reason in the agent's exit log.
//! Evicted, the agent process attests again by itself with its certificate and keeps serving its
//! workload as the same agent; banned, it stays stopped and says so on `/ready`. Its trust in
//! the server lost (the authority it trusted revoked while it was down), it attests again
//! trusting `trust_bundle_path` once the operator has written the current bundle there.

use std::path::Path;
use std::process::Command;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
    KeyUsagePurpose,
};
use serde_json::Value;

use crate::agent_client::wait_for_svids;
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::{PATIENCE, Server, http_get};
use crate::store::Store;

type Ca = CertifiedIssuer<'static, KeyPair>;

fn ca_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p
}

/// A node certificate (PEM, with `issuer`'s certificate after it unless it is a root) and its
/// PKCS#8 key, for `node-1.example.org`.
fn node_files(issuer: &Ca, with_issuer: bool) -> (Vec<u8>, String, String) {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec!["node-1.example.org".to_owned()]).unwrap();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "node-1.example.org");
    p.distinguished_name = dn;
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let leaf = p.signed_by(&key, issuer).unwrap();
    let mut pem = leaf.pem();
    if with_issuer {
        pem.push_str(&issuer.pem());
    }
    (leaf.der().to_vec(), pem, key.serialize_pem())
}

/// SHA-1 of `der` in hex, by coreutils' `sha1sum` (not the code under test).
fn sha1sum(dir: &Path, der: &[u8]) -> String {
    let file = dir.join("leaf.der");
    std::fs::write(&file, der).unwrap();
    let out = Command::new("sha1sum").arg(&file).output().unwrap();
    assert!(out.status.success(), "sha1sum failed: {out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// A server with `[node_attestors.x509pop]` trusting `root`.
async fn server(root: &Ca) -> Server {
    let pem = root.pem();
    Server::start_with(Store::Sqlite, |dir| {
        let path = dir.join("node-ca.pem");
        std::fs::write(&path, pem).unwrap();
        format!(
            "[node_attestors.x509pop]\nca_bundle_path = \"{}\"\n",
            path.display()
        )
    })
    .await
}

/// Starts an agent whose `[node_attestor.x509pop]` files hold `cert_pem` and `key_pem`.
async fn agent(server: &Server, id: &str, cert_pem: &str, key_pem: &str) -> Result<Agent, String> {
    let (cert_pem, key_pem) = (cert_pem.to_owned(), key_pem.to_owned());
    Agent::try_start_with(server, id.to_owned(), None, move |dir| {
        let cert = dir.join("node.pem");
        let key = dir.join("node.key");
        std::fs::write(&cert, cert_pem).unwrap();
        std::fs::write(&key, key_pem).unwrap();
        format!(
            "\n[node_attestor.x509pop]\ncertificate_path = \"{}\"\nprivate_key_path = \"{}\"\n",
            cert.display(),
            key.display()
        )
    })
    .await
}

/// `agent show` selectors as `type:value`.
fn selectors(agent: &Value) -> Vec<String> {
    agent["selectors"]
        .as_array()
        .unwrap_or_else(|| panic!("no selectors in {agent}"))
        .iter()
        .map(|s| {
            s.as_str().map_or_else(
                || {
                    format!(
                        "{}:{}",
                        s["type"].as_str().unwrap(),
                        s["value"].as_str().unwrap()
                    )
                },
                str::to_owned,
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_certificate_attests_an_agent_process_that_serves_workloads() {
    let root =
        CertifiedIssuer::self_signed(ca_params("Node Root CA"), KeyPair::generate().unwrap())
            .unwrap();
    let inter = CertifiedIssuer::signed_by(
        ca_params("Node Intermediate CA"),
        KeyPair::generate().unwrap(),
        &root,
    )
    .unwrap();
    let (leaf_der, cert_pem, key_pem) = node_files(&inter, true);
    let scratch = tempfile::tempdir().unwrap();
    let fingerprint = sha1sum(scratch.path(), &leaf_der);
    let id = format!("spiffe://example.org/lanyard/agent/x509pop/{fingerprint}");

    let server = server(&root).await;
    let mut agent = agent(&server, &id, &cert_pem, &key_pem)
        .await
        .unwrap_or_else(|why| panic!("{why}"));
    agent.wait_ready().await;

    let shown = server
        .cli(&["agent", "show", "--spiffe-id", &id, "--output", "json"])
        .await
        .json();
    assert_eq!(shown["attestation_type"], "x509pop", "{shown}");
    let got = selectors(&shown);
    let inter_fp = sha1sum(scratch.path(), inter.der());
    let root_fp = sha1sum(scratch.path(), root.der());
    for want in [
        "x509pop:subject:cn:node-1.example.org".to_owned(),
        format!("x509pop:ca:fingerprint:{inter_fp}"),
        format!("x509pop:ca:fingerprint:{root_fp}"),
        "x509pop:san:dns:node-1.example.org".to_owned(),
    ] {
        assert!(got.contains(&want), "{want} missing from {got:?}");
    }
    assert!(
        got.iter().any(|s| s.starts_with("x509pop:serialnumber:")),
        "{got:?}"
    );

    // A node alias on the intermediate's fingerprint, and a workload under it.
    let alias = "spiffe://example.org/nodes/pop-fleet";
    server
        .cli(&[
            "entry",
            "create",
            "--spiffe-id",
            alias,
            "--parent-id",
            "spiffe://example.org/lanyard/server",
            "--selector",
            &format!("x509pop:ca:fingerprint:{inter_fp}"),
        ])
        .await
        .ok();
    let workload = "spiffe://example.org/pop/workload";
    create_uid_entry(&server, workload, alias, my_uid(), &[]).await;
    wait_for_svids(&agent.socket, &[workload]).await;

    // The node loses the agent's data_dir (a reinstall): the same certificate attests again,
    // to the same agent (x509pop is re-attestable).
    agent.stop().await;
    for f in std::fs::read_dir(agent.data_dir()).unwrap() {
        let p = f.unwrap().path();
        if p.is_file() {
            std::fs::remove_file(p).unwrap();
        }
    }
    agent.start_again().await;
    agent.wait_ready().await;
    wait_for_svids(&agent.socket, &[workload]).await;
    assert_eq!(
        agent.log_text().matches("node attested").count(),
        2,
        "{}",
        agent.log_text()
    );
    let list = server
        .cli(&["agent", "list", "--output", "json"])
        .await
        .json();
    let agents: Vec<&str> = list["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["spiffe_id"].as_str().unwrap())
        .collect();
    assert_eq!(agents, [id.as_str()], "re-attestation made another agent");
    let metrics = http_get(server.health_addr, "/metrics").await;
    assert!(
        metrics.contains(
            "lanyard_server_attestations_total{attestor=\"x509pop\",outcome=\"success\"} 2"
        ),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_certificate_of_another_ca_is_refused_with_the_reason() {
    let ours =
        CertifiedIssuer::self_signed(ca_params("Node Root CA"), KeyPair::generate().unwrap())
            .unwrap();
    let theirs =
        CertifiedIssuer::self_signed(ca_params("Other Root CA"), KeyPair::generate().unwrap())
            .unwrap();
    let (_, cert_pem, key_pem) = node_files(&theirs, false);
    let server = server(&ours).await;
    // The agent listens before it attests; refused, it exits 1 with the server's reason.
    let log = match agent(&server, "unused", &cert_pem, &key_pem).await {
        Err(log) => log,
        Ok(mut agent) => {
            let status = agent.wait_exit().await;
            assert_eq!(status.code(), Some(1), "{}", agent.log_text());
            agent.log_text()
        }
    };
    assert!(
        log.contains("attestation refused: x509pop node certificate refused: the node certificate chain does not lead to a CA of the configured CA bundle"),
        "{log}"
    );
    let list = server
        .cli(&["agent", "list", "--output", "json"])
        .await
        .json();
    assert_eq!(list["agents"].as_array().map_or(0, Vec::len), 0, "{list}");
    let metrics = http_get(server.health_addr, "/metrics").await;
    assert!(
        metrics.contains(
            "lanyard_server_attestations_total{attestor=\"x509pop\",outcome=\"denied\"} 1"
        ),
        "{metrics}"
    );
}

/// A server trusting a fresh node root, an agent attested with a node certificate it issued,
/// and a workload served under a node alias on the root's fingerprint: the server, the agent,
/// its ID and the workload's.
async fn serving_agent() -> (Server, Agent, String, &'static str) {
    let root =
        CertifiedIssuer::self_signed(ca_params("Node Root CA"), KeyPair::generate().unwrap())
            .unwrap();
    let (leaf_der, cert_pem, key_pem) = node_files(&root, false);
    let scratch = tempfile::tempdir().unwrap();
    let id = format!(
        "spiffe://example.org/lanyard/agent/x509pop/{}",
        sha1sum(scratch.path(), &leaf_der)
    );
    let root_fp = sha1sum(scratch.path(), root.der());
    let server = server(&root).await;
    let agent = agent(&server, &id, &cert_pem, &key_pem)
        .await
        .unwrap_or_else(|why| panic!("{why}"));
    agent.wait_ready().await;
    let alias = "spiffe://example.org/nodes/pop-fleet";
    server
        .cli(&[
            "entry",
            "create",
            "--spiffe-id",
            alias,
            "--parent-id",
            "spiffe://example.org/lanyard/server",
            "--selector",
            &format!("x509pop:ca:fingerprint:{root_fp}"),
        ])
        .await
        .ok();
    let workload = "spiffe://example.org/pop/workload";
    create_uid_entry(&server, workload, alias, my_uid(), &[]).await;
    wait_for_svids(&agent.socket, &[workload]).await;
    (server, agent, id, workload)
}

/// Waits at most [`PATIENCE`] for `text` in the agent's log; panics with the log.
async fn logged(agent: &Agent, text: &str) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !agent.log_text().contains(text) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{text:?} not logged within {PATIENCE:?}:\n{}",
            agent.log_text()
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evicted_x509pop_agent_attests_again_by_itself_and_keeps_serving() {
    let (server, agent, id, workload) = serving_agent().await;
    server
        .cli(&["agent", "evict", "--spiffe-id", &id])
        .await
        .ok();
    logged(
        &agent,
        "re-attested with x509pop after the server stopped serving the agent",
    )
    .await;
    agent.wait_ready().await;
    wait_for_svids(&agent.socket, &[workload]).await;
    let log = agent.log_text();
    assert!(!log.contains("join token"), "{log}");
    let list = server
        .cli(&["agent", "list", "--output", "json"])
        .await
        .json();
    let agents: Vec<&str> = list["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["spiffe_id"].as_str().unwrap())
        .collect();
    assert_eq!(agents, [id.as_str()], "re-attestation made another agent");
    let shown = server
        .cli(&["agent", "show", "--spiffe-id", &id, "--output", "json"])
        .await
        .json();
    assert_eq!(shown["attestation_type"], "x509pop", "{shown}");
    let metrics = http_get(server.health_addr, "/metrics").await;
    assert!(
        metrics.contains(
            "lanyard_server_attestations_total{attestor=\"x509pop\",outcome=\"success\"} 2"
        ),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_banned_x509pop_agent_stays_stopped_and_says_why() {
    let (server, agent, id, _) = serving_agent().await;
    server.cli(&["agent", "ban", "--spiffe-id", &id]).await.ok();
    let body = agent.wait_readiness("not_ready").await;
    assert!(
        body.contains(&format!(
            "agent banned: agent {id} was banned by an operator"
        )),
        "{body}"
    );
    // The stop is recorded before any re-attestation would be tried, and a banned agent is
    // never re-attested: the server saw exactly one attestation, and the agent is still banned.
    let log = agent.log_text();
    assert!(!log.contains("re-attested"), "{log}");
    assert_eq!(log.matches("node attested").count(), 1, "{log}");
    let metrics = http_get(server.health_addr, "/metrics").await;
    assert!(
        metrics.contains(
            "lanyard_server_attestations_total{attestor=\"x509pop\",outcome=\"success\"} 1"
        ),
        "{metrics}"
    );
    assert!(
        !metrics
            .contains("lanyard_server_attestations_total{attestor=\"x509pop\",outcome=\"denied\"}"),
        "a banned agent tried to attest again: {metrics}"
    );
    let shown = server
        .cli(&["agent", "show", "--spiffe-id", &id, "--output", "json"])
        .await
        .json();
    assert_eq!(shown["banned"], true, "{shown}");
}

/// The authority (key ID) that signed the SVID the agent serves `workload`.
async fn served_by(agent: &Agent, workload: &str) -> String {
    let (_, resp) = wait_for_svids(&agent.socket, &[workload]).await;
    let chain = lanyard_x509::split_der_certificates(&resp.svids[0].x509_svid).unwrap();
    let aki = lanyard_x509::CertInfo::from_der(chain[0].as_bytes())
        .unwrap()
        .authority_key_id
        .unwrap();
    aki.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_x509pop_agent_whose_authority_was_revoked_bootstraps_again_from_its_trust_bundle() {
    let (server, mut agent, id, workload) = serving_agent().await;
    let first = served_by(&agent, workload).await;

    // Away while a new authority is activated and the one it trusted is revoked.
    let stopped = agent.stop().await;
    assert!(stopped.success(), "{stopped}");
    let prepared = server
        .cli(&["localauthority", "x509", "prepare", "--output", "json"])
        .await
        .json();
    let newest = prepared["authority_id"].as_str().unwrap().to_owned();
    for (verb, authority) in [("activate", &newest), ("taint", &first), ("revoke", &first)] {
        server
            .cli(&["localauthority", "x509", verb, "--authority-id", authority])
            .await
            .ok();
    }
    agent
        .try_start_again(None)
        .await
        .unwrap_or_else(|why| panic!("{why}"));

    // trust_bundle_path still holds the revoked authority only: it says so, with the way back,
    // and asks for no join token.
    let bundle_path = agent.trust_bundle_path().display().to_string();
    let body = agent.wait_readiness("not_ready").await;
    for words in [
        "verifies neither against the agent's stored bundle nor against trust_bundle_path",
        bundle_path.as_str(),
        "lanyard-server bundle show --format pem",
        "attests with x509pop at its next try",
    ] {
        assert!(body.contains(words), "{words:?} missing from {body}");
    }
    assert!(!body.contains("join token"), "{body}");

    // The operator writes the current bundle there: the agent attests again with its node
    // certificate, as the same agent, and serves an SVID of the new authority.
    std::fs::write(agent.trust_bundle_path(), server.bundle_pem().await).unwrap();
    agent.wait_ready().await;
    assert_eq!(served_by(&agent, workload).await, newest);
    logged(
        &agent,
        "re-attested with x509pop trusting trust_bundle_path",
    )
    .await;
    let list = server
        .cli(&["agent", "list", "--output", "json"])
        .await
        .json();
    assert_eq!(list["agents"].as_array().map_or(0, Vec::len), 1, "{list}");
    assert_eq!(list["agents"][0]["spiffe_id"], id.as_str(), "{list}");
}
