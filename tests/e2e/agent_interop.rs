//! Real SPIFFE client libraries against a real agent (issue 4): py-spiffe and the Rust `spiffe`
//! crate's `X509Source` each get an X.509-SVID that chains to the trust domain's bundle, and
//! see it replaced before 60 % of its lifetime (half-life ± 10 % jitter) has passed.

use std::time::{Duration, Instant, SystemTime};

use lanyard_id::TrustDomain;
use lanyard_x509::{Bundle, CertDer, CertInfo, certificates_from_pem, verify_x509_svid};
use spiffe::X509Source;

use crate::agent_client::{json_out, run_guarded, wait_for_svids};
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::{PATIENCE, Server};
use crate::store::Store;

/// The X.509-SVID lifetime of the entries here, in seconds.
const TTL: u64 = 30;
const WORKLOAD: &str = "spiffe://example.org/interop/workload";

/// The latest a rotated SVID may arrive after the one before it: 0.6 × TTL plus slack for
/// signing and delivery.
fn rotation_bound() -> Duration {
    Duration::from_secs(TTL * 6 / 10 + 3)
}

/// A server, an agent, and an entry giving this process [`WORKLOAD`] for [`TTL`] seconds,
/// already served by the agent.
async fn trust_domain() -> (Server, Agent) {
    let server = Server::start(Store::Sqlite).await;
    let agent = Agent::start(&server).await;
    let ttl = TTL.to_string();
    create_uid_entry(
        &server,
        WORKLOAD,
        &agent.id,
        my_uid(),
        &["--x509-svid-ttl", &ttl],
    )
    .await;
    wait_for_svids(&agent.socket, &[WORKLOAD]).await;
    (server, agent)
}

/// The trust domain's bundle as the operator exports it.
async fn server_bundle(server: &Server) -> Bundle {
    let mut bundle = Bundle::new(TrustDomain::new("example.org").unwrap());
    for cert in certificates_from_pem(server.bundle_pem().await.as_bytes()).unwrap() {
        bundle.add_x509_authority(cert);
    }
    bundle
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn py_spiffe_gets_a_verified_svid_and_sees_it_rotate() {
    let Some(py) = lanyard_test_support::python() else {
        return;
    };
    let (_server, agent) = trust_domain().await;
    let endpoint = agent.endpoint();

    let out = run_guarded(
        py.command("workload_client.py", &["fetch", &endpoint]),
        PATIENCE,
    )
    .await;
    let fetched = json_out(&out);
    assert_eq!(fetched["spiffe_id"], WORKLOAD, "{fetched}");
    assert_eq!(fetched["chain_verified"], true, "{fetched}");
    assert_eq!(fetched["svids"], serde_json::json!([WORKLOAD]), "{fetched}");

    let wait = TTL + 10;
    let out = run_guarded(
        py.command(
            "workload_client.py",
            &["stream", &endpoint, "2", &wait.to_string()],
        ),
        Duration::from_secs(wait) + PATIENCE,
    )
    .await;
    let streamed = json_out(&out);
    let updates = streamed["updates"].as_array().unwrap();
    assert_eq!(
        updates.len(),
        2,
        "py-spiffe saw {streamed} within {wait} s (two distinct SVIDs expected)\n{}",
        agent.log_text()
    );
    assert_ne!(updates[0]["serial"], updates[1]["serial"], "{streamed}");
    assert!(
        updates.iter().all(|u| u["spiffe_id"] == WORKLOAD),
        "{streamed}"
    );
    let gap = updates[1]["at"].as_f64().unwrap() - updates[0]["at"].as_f64().unwrap();
    assert!(
        gap <= rotation_bound().as_secs_f64(),
        "the rotated SVID came {gap:.1} s after the first; a {TTL} s SVID must be replaced \
         within {:?}",
        rotation_bound()
    );
}

/// The leaf's serial, and checks the chain against `bundle` (which also checks the profile).
fn check_svid(svid: &spiffe::X509Svid, bundle: &Bundle) -> String {
    assert_eq!(svid.spiffe_id().to_string(), WORKLOAD);
    let chain: Vec<CertDer> = svid
        .cert_chain()
        .iter()
        .map(|c| CertDer::from_der(c.as_bytes()).unwrap())
        .collect();
    verify_x509_svid(&chain, bundle, SystemTime::now())
        .unwrap_or_else(|e| panic!("the SVID X509Source got does not verify: {e}"));
    CertInfo::from_der(svid.leaf().as_bytes())
        .unwrap()
        .serial_hex
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_x509_source_gets_a_verified_svid_and_sees_it_rotate() {
    let (server, agent) = trust_domain().await;
    let bundle = server_bundle(&server).await;

    let source = X509Source::builder()
        .endpoint(agent.endpoint())
        .initial_sync_timeout(PATIENCE)
        .build()
        .await
        .unwrap_or_else(|e| panic!("X509Source: {e}\n{}", agent.log_text()));
    let first_at = Instant::now();
    let first = check_svid(&source.svid().unwrap(), &bundle);

    let mut updates = source.updated();
    let guard = Duration::from_secs(TTL + 10);
    let rotated = tokio::time::timeout(guard, async {
        loop {
            updates.changed().await.unwrap();
            let serial = check_svid(&source.svid().unwrap(), &bundle);
            if serial != first {
                return serial;
            }
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "X509Source saw no new SVID within {guard:?}\n{}",
            agent.log_text()
        )
    });
    let gap = first_at.elapsed();
    assert_ne!(rotated, first);
    assert!(
        gap <= rotation_bound(),
        "the rotated SVID came {gap:?} after the first; a {TTL} s SVID must be replaced \
         within {:?}",
        rotation_bound()
    );
    source.shutdown().await;
}
