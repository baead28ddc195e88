//! `https_web` with a test CA (issue 16 point 4, second bullet): B serves its bundle with a Web
//! PKI certificate from files it reloads; A trusts the test CA (`https_web_ca_path`). The right
//! certificate is accepted; a certificate for another name and one of an untrusted issuer are
//! refused, with the cause in `federation refresh`'s error, in `federation show` and in A's log,
//! and A keeps the bundle it had.

use std::time::{Duration, Instant};

use super::certs::{Leaf, TestCa, presented_leaf};
use super::{
    ORDERS, PAY, Publish, authorities, await_fetched, await_log_line, federation_toml, int,
    mentions_any, relationship, sequence, stored_bundle,
};
use crate::harness::{PATIENCE, Server};
use crate::store::Store;

/// How a refusal for a certificate of another name is worded (the fetch error: "the endpoint's
/// certificate is not valid for localhost: ..."; rustls: "certificate not valid for name").
const WRONG_NAME: &[&str] = &["not valid for", "name mismatch", "notvalidforname"];
/// How a refusal for an untrusted issuer is worded (the fetch error: "signed by an authority we
/// do not trust"; rustls: `UnknownIssuer`).
const UNTRUSTED: &[&str] = &[
    "authority we do not trust",
    "unknown issuer",
    "unknownissuer",
];

/// Waits until B's bundle endpoint presents `leaf` (B re-reads its files every second).
async fn await_presented(b: &Server, leaf: &Leaf) {
    let addr = b.bundle_endpoint.unwrap();
    let deadline = Instant::now() + PATIENCE;
    while presented_leaf(addr, "localhost").await != leaf.der {
        assert!(
            Instant::now() < deadline,
            "B's endpoint does not present the new certificate after {PATIENCE:?}:\n{}",
            b.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_web_takes_the_right_certificate_and_keeps_the_bundle_on_a_wrong_one() {
    let ca = TestCa::new("Lanyard test CA");
    let good = ca.leaf(&["localhost", "127.0.0.1"]);
    let wrong_name = ca.leaf(&["wrong.example"]);
    let untrusted = TestCa::new("Another test CA").leaf(&["localhost", "127.0.0.1"]);

    let files = tempfile::tempdir().unwrap();
    let cert = files.path().join("bundle-endpoint.crt");
    let key = files.path().join("bundle-endpoint.key");
    let ca_pem = files.path().join("webpki-roots.pem");
    good.install(&cert, &key);
    std::fs::write(&ca_pem, ca.pem()).unwrap();
    let publish = Publish::HttpsWeb {
        cert: cert.clone(),
        key: key.clone(),
    };
    let b = Server::start_in(Store::Sqlite, ORDERS, |_| {
        federation_toml(&publish, None, "")
    })
    .await;
    let a = Server::start_in(Store::Sqlite, PAY, |_| {
        federation_toml(&Publish::Nothing, Some(&ca_pem), "")
    })
    .await;

    let url = format!("https://localhost:{}/", b.bundle_endpoint.unwrap().port());
    a.cli(&[
        "federation",
        "create",
        "--trust-domain",
        ORDERS,
        "--bundle-endpoint-url",
        &url,
        "--profile",
        "https_web",
    ])
    .await
    .ok();
    await_fetched(&a, ORDERS).await;
    let published = b.cli(&["bundle", "show", "--format", "json"]).await.json();
    let kept = stored_bundle(&a, ORDERS).await.expect("no bundle stored");
    // The authorities B publishes (its sequence is the change-log position when the endpoint's
    // copy was loaded, not necessarily what `bundle show` reads now).
    assert_eq!(authorities(&kept), authorities(&published), "{kept}");
    let kept_sequence = sequence(&kept);

    for (leaf, what, cause) in [
        (&wrong_name, "a certificate for wrong.example", WRONG_NAME),
        (&untrusted, "a certificate of an untrusted CA", UNTRUSTED),
    ] {
        leaf.install(&cert, &key);
        await_presented(&b, leaf).await;

        let refused = a
            .cli(&["federation", "refresh", "--trust-domain", ORDERS])
            .await
            .failed_with(1);
        assert!(
            mentions_any(&refused.stderr, cause),
            "the refusal of {what} names the cause: {refused}"
        );
        let rel = relationship(&a, ORDERS).await;
        let last_error = rel["status"]["last_error"].as_str().unwrap_or_default();
        assert!(mentions_any(last_error, cause), "{what}: {rel}");
        let keeping = format!("keeping the bundle of sequence {kept_sequence}");
        await_log_line(&a, what, |l| {
            l.contains(ORDERS) && l.contains(&keeping) && cause.iter().any(|c| l.contains(c))
        })
        .await;

        let still = stored_bundle(&a, ORDERS).await.unwrap();
        assert_eq!(sequence(&still), kept_sequence, "after {what}: {still}");
        assert_eq!(authorities(&still), authorities(&kept), "after {what}");
    }

    // The right certificate again: the refresh succeeds.
    good.install(&cert, &key);
    await_presented(&b, &good).await;
    a.cli(&["federation", "refresh", "--trust-domain", ORDERS])
        .await
        .ok();
    let rel = relationship(&a, ORDERS).await;
    assert_eq!(int(&rel["status"]["consecutive_failures"]), 0, "{rel}");
}
