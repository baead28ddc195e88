//! x509pop node attestation (issue 17 item 1) with real processes: a node PKI minted here with
//! rcgen (root, intermediate, node certificate), a server trusting the root, and a
//! `lanyard-agent` proving possession of the node key over the Attest stream's challenge round.
//! The agent gets the fingerprint ID and the certificate's selectors, a workload entry under a
//! node alias on those selectors gets its SVID, the same certificate attests again to the same
//! agent, and a certificate of another CA is refused with the reason in the agent's exit log.

use std::path::Path;
use std::process::Command;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
    KeyUsagePurpose,
};
use serde_json::Value;

use crate::agent_client::wait_for_svids;
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::{Server, http_get};
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
