//! An upstream CA from disk (issue 17 point 2): the operator's PKI, made here with rcgen and
//! written to PEM files, signs the server's CAs. Real server and agent processes; the SVIDs a
//! workload gets verify to the operator's root with lanyard-x509's verifier (webpki-style path
//! validation, X509-SVID §5) and with Python `cryptography`'s X.509 path validation, py-spiffe
//! accepts them, rotation keeps them valid, and two servers on one PostgreSQL issue SVIDs that
//! verify against one bundle. A key that does not match its certificate stops the start.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use lanyard_id::TrustDomain;
use lanyard_proto::workload::X509svidResponse;
use lanyard_test_support::process::ServerFiles;
use lanyard_x509::{
    Bundle, CertDer, CertInfo, certificates_from_pem, split_der_certificates, verify_x509_svid,
};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use crate::agent_client::{json_out, run_guarded, wait_for_svids};
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::{PATIENCE, Server, bin};
use crate::store::Store;

const WORKLOAD: &str = "spiffe://example.org/upstream/workload";
/// Workload SVIDs of 20 s: after a CA rotation the agent replaces them within ~12 s.
const SHORT_SVIDS: &str = "[svid]\ndefault_x509_ttl = \"20s\"\n";

/// The operator's PKI in files: a root and, optionally, an issuing CA under it.
struct Pki {
    root: CertDer,
    /// The upstream CA's certificate (the root itself, or the issuing CA).
    upstream: CertDer,
    cert_path: PathBuf,
    key_path: PathBuf,
    bundle_path: PathBuf,
    _dir: tempfile::TempDir,
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Operator Corp");
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = rcgen::date_time_ymd(2025, 1, 1);
    p.not_after = rcgen::date_time_ymd(2035, 1, 1);
    p
}

fn der(c: &rcgen::Certificate) -> CertDer {
    CertDer::from_der(c.der().to_vec()).unwrap()
}

impl Pki {
    /// A root with no SPIFFE ID (as a corporate CA has none); with `issuing`, the upstream CA
    /// is an intermediate under it and `cert_path` holds it then the root. `key` overrides the
    /// upstream key written to `key_path` (a mismatched one).
    fn new(issuing: bool, wrong_key: bool) -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let root_key = KeyPair::generate().unwrap();
        let root_params = ca_params("Operator Root");
        let root = root_params.self_signed(&root_key).unwrap();
        let (upstream, upstream_key, cert_pem) = if issuing {
            let key = KeyPair::generate().unwrap();
            let mut p = ca_params("Operator Issuing CA");
            p.use_authority_key_identifier_extension = true;
            let issuer = Issuer::from_params(&root_params, &root_key);
            let cert = p.signed_by(&key, &issuer).unwrap();
            let pem = format!("{}{}", cert.pem(), root.pem());
            (der(&cert), key, pem)
        } else {
            (der(&root), root_key, root.pem())
        };
        let key_pem = if wrong_key {
            KeyPair::generate().unwrap().serialize_pem()
        } else {
            upstream_key.serialize_pem()
        };
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let cert_path = write("upstream.crt", &cert_pem);
        let key_path = write("upstream.key", &key_pem);
        std::fs::set_permissions(
            &key_path,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        let bundle_path = write("roots.crt", &root.pem());
        Pki {
            root: der(&root),
            upstream,
            cert_path,
            key_path,
            bundle_path,
            _dir: dir,
        }
    }

    /// The `[ca.upstream]` table naming the files.
    fn toml(&self) -> String {
        format!(
            "[ca.upstream]\ncert_path = \"{}\"\nkey_path = \"{}\"\nbundle_path = \"{}\"\n",
            self.cert_path.display(),
            self.key_path.display(),
            self.bundle_path.display()
        )
    }

    /// The bundle a relying party builds from the operator's root alone.
    fn bundle(&self) -> Bundle {
        let mut b = Bundle::new(TrustDomain::new("example.org").unwrap());
        b.add_x509_authority(self.root.clone());
        b
    }
}

/// A server signing through `pki`, an agent, and [`WORKLOAD`] served to this process.
async fn trust_domain(store: Store, pki: &Pki) -> (Server, Agent, X509svidResponse) {
    let server = Server::start_with(store, |_| format!("{SHORT_SVIDS}{}", pki.toml())).await;
    let agent = Agent::start(&server).await;
    create_uid_entry(&server, WORKLOAD, &agent.id, my_uid(), &[]).await;
    let (_, served) = wait_for_svids(&agent.socket, &[WORKLOAD]).await;
    (server, agent, served)
}

/// The workload's chain from `resp`, checked: it verifies to the operator's root alone, holds
/// no root, and its CA certificates after the leaf are the server's intermediate then the
/// upstream chain. Returns the chain.
fn check_chain(resp: &X509svidResponse, pki: &Pki, upstream_intermediates: usize) -> Vec<CertDer> {
    let svid = &resp.svids[0];
    assert_eq!(svid.spiffe_id, WORKLOAD);
    let chain = split_der_certificates(&svid.x509_svid).unwrap();
    assert_eq!(
        chain.len(),
        2 + upstream_intermediates,
        "leaf, the server's intermediate, then the upstream intermediates"
    );
    assert!(
        !chain.contains(&pki.root),
        "the root travels in the bundle, not the chain"
    );
    let verified = verify_x509_svid(&chain, &pki.bundle(), SystemTime::now())
        .unwrap_or_else(|e| panic!("the workload SVID does not verify to the upstream root: {e}"));
    assert_eq!(verified.authority, pki.root);
    // The server's intermediate was signed by the upstream CA's key.
    let ours = CertInfo::from_der(chain[1].as_bytes()).unwrap();
    let upstream = CertInfo::from_der(pki.upstream.as_bytes()).unwrap();
    assert_eq!(ours.authority_key_id, upstream.subject_key_id);
    if upstream_intermediates > 0 {
        assert_eq!(chain[2], pki.upstream);
    }
    // The bundle workloads get is the operator's root, not the intermediate.
    assert_eq!(
        split_der_certificates(&svid.bundle).unwrap(),
        vec![pki.root.clone()]
    );
    chain
}

/// Python: py-spiffe fetches the SVID and the bundle from the agent, and `cryptography`'s
/// RFC 5280 path validation (`x509.verification`) verifies the chain to the root read from
/// the operator's bundle file.
const PY_VERIFY: &str = r#"
import json, sys
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.verification import PolicyBuilder, Store
from spiffe.workloadapi.workload_api_client import WorkloadApiClient

endpoint, roots_path = sys.argv[1], sys.argv[2]
client = WorkloadApiClient(socket_path=endpoint, default_timeout=10)
svid = client.fetch_x509_svid()
bundle = client.fetch_x509_bundles().get_bundle_for_trust_domain(svid.spiffe_id.trust_domain)
client.close()
authorities = bundle.x509_authorities
authorities = authorities() if callable(authorities) else authorities
roots = x509.load_pem_x509_certificates(open(roots_path, "rb").read())
verifier = PolicyBuilder().store(Store(roots)).build_client_verifier()
verified = verifier.verify(svid.leaf, svid.cert_chain[1:])
der = lambda certs: sorted(c.public_bytes(Encoding.DER).hex() for c in certs)
print(json.dumps({
    "spiffe_id": str(svid.spiffe_id),
    "chain_len": len(svid.cert_chain),
    "verified_len": len(verified.chain),
    "anchor_is_root": der(verified.chain[-1:]) == der(roots),
    "bundle_is_roots": der(authorities) == der(roots),
}))
"#;

/// Runs [`PY_VERIFY`] against `agent`; `None` when the Python environment is unavailable.
async fn python_verifies(agent: &Agent, pki: &Pki, chain_len: usize) -> Option<()> {
    let py = lanyard_test_support::python()?;
    let mut cmd = Command::new(py.interpreter());
    cmd.arg("-c")
        .arg(PY_VERIFY)
        .arg(agent.endpoint())
        .arg(&pki.bundle_path);
    let out = json_out(&run_guarded(cmd, PATIENCE).await);
    assert_eq!(out["spiffe_id"], WORKLOAD, "{out}");
    assert_eq!(out["chain_len"], chain_len, "{out}");
    // Leaf, intermediates, and the root the path ended at.
    assert_eq!(out["verified_len"], chain_len + 1, "{out}");
    assert_eq!(out["anchor_is_root"], true, "{out}");
    assert_eq!(out["bundle_is_roots"], true, "{out}");
    Some(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn svids_chain_to_the_upstream_root_and_rotation_keeps_them_valid() {
    let pki = Pki::new(false, false);
    let (server, agent, served) = trust_domain(Store::Sqlite, &pki).await;
    // What `bundle show` prints (and a new agent's trust_bundle_path gets) is the root.
    assert_eq!(
        certificates_from_pem(server.bundle_pem().await.as_bytes()).unwrap(),
        vec![pki.root.clone()]
    );
    let before = check_chain(&served, &pki, 0);
    python_verifies(&agent, &pki, 2).await;

    // Rotation: the next intermediate is signed by the upstream key too, the bundle stays.
    server
        .cli(&["localauthority", "x509", "prepare", "--output", "json"])
        .await
        .ok();
    server
        .cli(&["localauthority", "x509", "activate", "--output", "json"])
        .await
        .ok();
    let (mut watch, _) = wait_for_svids(&agent.socket, &[WORKLOAD]).await;
    let rotated = watch
        .until(Duration::from_secs(30), |r| {
            split_der_certificates(&r.svids[0].x509_svid)
                .is_ok_and(|c| c.len() == 2 && c[1] != before[1])
        })
        .await;
    check_chain(&rotated, &pki, 0);
    assert_eq!(
        certificates_from_pem(server.bundle_pem().await.as_bytes()).unwrap(),
        vec![pki.root.clone()]
    );

    // Taint cannot move agents off an intermediate the bundle does not hold: refused, saying
    // what to do instead.
    let old = hex::encode(
        CertInfo::from_der(before[1].as_bytes())
            .unwrap()
            .subject_key_id
            .unwrap(),
    );
    let out = server
        .cli(&["localauthority", "x509", "taint", "--authority-id", &old])
        .await;
    assert!(!out.status.success(), "{out}");
    assert!(out.stderr.contains("[ca.upstream]"), "{out}");
    assert!(out.stderr.contains("prepare"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_intermediate_travels_in_the_svid_chain() {
    let pki = Pki::new(true, false);
    let (_server, agent, served) = trust_domain(Store::Sqlite, &pki).await;
    check_chain(&served, &pki, 1);
    python_verifies(&agent, &pki, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_issue_svids_that_verify_against_one_bundle() {
    let Some(store) = Store::postgres().await else {
        return;
    };
    let pki = Pki::new(true, false);
    let (first, _first_agent, from_first) = trust_domain(store, &pki).await;
    let second = first
        .start_peer(|_| format!("{SHORT_SVIDS}{}", pki.toml()))
        .await;
    for server in [&first, &second] {
        assert_eq!(
            certificates_from_pem(server.bundle_pem().await.as_bytes()).unwrap(),
            vec![pki.root.clone()],
            "one bundle: the upstream root"
        );
    }
    let second_agent = Agent::start(&second).await;
    let other = "spiffe://example.org/upstream/other";
    create_uid_entry(&second, other, &second_agent.id, my_uid(), &[]).await;
    let (_, from_second) = wait_for_svids(&second_agent.socket, &[other]).await;
    let a = check_chain(&from_first, &pki, 1);
    let chain = split_der_certificates(&from_second.svids[0].x509_svid).unwrap();
    verify_x509_svid(&chain, &pki.bundle(), SystemTime::now())
        .unwrap_or_else(|e| panic!("the second server's SVID does not verify: {e}"));
    assert_ne!(
        a[1], chain[1],
        "each server signs with an intermediate of its own"
    );
}

/// `lanyard-server run` with `extra` config; it must exit before it is ready. Returns its
/// exit code and stderr.
fn refused_start(dir: &Path, extra: &str) -> (Option<i32>, String) {
    let files = ServerFiles::write(dir, extra).unwrap();
    let mut cmd = Command::new(bin("lanyard-server"));
    cmd.arg("run").arg("--config").arg(&files.config);
    for var in crate::harness::SERVER_ENV {
        cmd.env_remove(var);
    }
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = rx
        .recv_timeout(PATIENCE)
        .expect("lanyard-server did not exit on a bad [ca.upstream]")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!stdout.contains("lanyard-server ready"), "{stdout}");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_that_does_not_match_its_certificate_is_refused_at_start() {
    let pki = Pki::new(false, true);
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr) = refused_start(dir.path(), &pki.toml());
    assert_eq!(code, Some(1), "{stderr}");
    let expected = format!(
        "[ca.upstream] key_path {}: the key does not match the certificate in cert_path {}",
        pki.key_path.display(),
        pki.cert_path.display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
}
