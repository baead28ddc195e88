//! A hostile bundle endpoint (issue 16 point 4, last bullet): garbage, a 64 MiB body, a stall
//! after and before the TLS handshake, HTTP 500. Each fetch ends within `fetch_timeout` with the
//! cause in `federation refresh`'s error and in the log, the admin API answers while a
//! fetch hangs, the operator's bundle stays, the 64 MiB are not read, and the refresher's own
//! attempts back off and never come faster than `refresh_floor`.

use std::time::{Duration, Instant};

use super::certs::TestCa;
use super::endpoint::{HUGE, HostileEndpoint, Mode};
use super::{
    FETCH_TIMEOUT, ORDERS, PAY, Publish, REFRESH_FLOOR, authorities, await_log_line, bundle_of,
    federation_toml, mentions_any, sequence, set_bundle, stored_bundle,
};
use crate::harness::{PATIENCE, Server};
use crate::store::Store;

/// Waits until `endpoint` has seen at least `n` connections; returns their arrival times.
async fn await_connections(endpoint: &HostileEndpoint, n: usize, within: Duration) -> Vec<Instant> {
    let deadline = Instant::now() + within;
    loop {
        let seen = endpoint.connections();
        if seen.len() >= n {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "{} attempt(s) on the endpoint within {within:?}, expected {n}",
            seen.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_bundle_endpoint_is_bounded_logged_and_the_bundle_kept() {
    let ca = TestCa::new("Lanyard test CA");
    let leaf = ca.leaf(&["localhost", "127.0.0.1"]);
    let hostile = HostileEndpoint::start(leaf.server_config(), Mode::Status500).await;
    let files = tempfile::tempdir().unwrap();
    let ca_pem = files.path().join("webpki-roots.pem");
    std::fs::write(&ca_pem, ca.pem()).unwrap();
    let a = Server::start_in(Store::Sqlite, PAY, |_| {
        federation_toml(&Publish::Nothing, Some(&ca_pem), "")
    })
    .await;

    // The operator set B's bundle by hand, then declared the endpoint.
    let seeded = TestCa::new("orders.example CA").der();
    set_bundle(&a, &bundle_of(ORDERS, &[seeded], 7)).await;
    let kept = stored_bundle(&a, ORDERS).await.expect("no bundle stored");
    let kept_sequence = sequence(&kept);
    a.cli(&[
        "federation",
        "create",
        "--trust-domain",
        ORDERS,
        "--bundle-endpoint-url",
        &hostile.url("localhost"),
        "--profile",
        "https_web",
    ])
    .await
    .ok();

    // The refresher's own attempts against an endpoint that fails: 1 s, 2 s, 4 s apart (the
    // floor doubling, ± jitter), never closer than the floor.
    let floor = REFRESH_FLOOR - Duration::from_millis(50);
    let attempts = await_connections(&hostile, 4, Duration::from_secs(30)).await;
    let gaps: Vec<Duration> = attempts.windows(2).map(|w| w[1] - w[0]).collect();
    println!(
        "federation backoff_gaps_ms={:?}",
        gaps.iter().map(Duration::as_millis).collect::<Vec<_>>()
    );
    assert!(
        gaps.iter().all(|g| *g >= floor),
        "attempts closer than refresh_floor: {gaps:?}"
    );
    assert!(gaps[2] > gaps[0], "no backoff after failures: {gaps:?}");
    let keeping = format!("keeping the bundle of sequence {kept_sequence}");
    await_log_line(&a, "a failed refresh", |l| {
        l.contains(ORDERS) && l.contains("http 500") && l.contains(&keeping)
    })
    .await;

    // The causes as the fetch error words them (server/src/federation/fetch.rs).
    let timed_out = &["no complete answer within", "timed out"][..];
    for (mode, cause) in [
        (Mode::Garbage, &["not a spiffe bundle"][..]),
        (Mode::Huge, &["larger than the limit", "too large"][..]),
        (Mode::StallAfterHandshake, timed_out),
        (Mode::StallBeforeHandshake, timed_out),
        (Mode::Status500, &["http 500"][..]),
    ] {
        hostile.set_mode(mode.clone());
        let before = hostile.connections().len();
        let started = Instant::now();
        let refresh = async {
            let out = a
                .cli(&["federation", "refresh", "--trust-domain", ORDERS])
                .await;
            (out, Instant::now())
        };
        // While a fetch is under way (a connection arrived), the admin API answers.
        let meanwhile = async {
            await_connections(&hostile, before + 1, PATIENCE).await;
            let bundle = stored_bundle(&a, ORDERS).await;
            (bundle, Instant::now())
        };
        let ((refused, refused_at), (during, answered_at)) = tokio::join!(refresh, meanwhile);
        let took = refused_at - started;
        let refused = refused.failed_with(1);
        assert!(
            mentions_any(&refused.stderr, cause),
            "{mode:?}: the error names the cause: {refused}"
        );
        // The slack covers starting the CLI process on a loaded machine; without the bound the
        // stalls would last a minute.
        assert!(
            took <= FETCH_TIMEOUT + Duration::from_secs(3),
            "{mode:?}: the refresh took {took:?}"
        );
        if matches!(mode, Mode::StallAfterHandshake | Mode::StallBeforeHandshake) {
            assert!(
                answered_at < refused_at,
                "{mode:?}: bundle show waited for the stalled fetch to end"
            );
        }
        let during = during.expect("no bundle during the fetch");
        assert_eq!(sequence(&during), kept_sequence, "{mode:?}");

        await_log_line(&a, &format!("{mode:?}"), |l| {
            l.contains(ORDERS) && l.contains(&keeping) && cause.iter().any(|c| l.contains(c))
        })
        .await;
        let still = stored_bundle(&a, ORDERS).await.unwrap();
        assert_eq!(sequence(&still), kept_sequence, "after {mode:?}: {still}");
        assert_eq!(authorities(&still), authorities(&kept), "after {mode:?}");
    }

    // The 64 MiB answer was cut off near the 1 MiB bound, not read to the end.
    let deadline = Instant::now() + PATIENCE;
    while hostile.huge_bytes_written() == 0 {
        assert!(Instant::now() < deadline, "the huge answer never ended");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let written = hostile.huge_bytes_written();
    assert!(
        written < 16 << 20,
        "the client read {written} of {HUGE} bytes before hanging up"
    );
    assert_eq!(a.health("/ready").await, "HTTP/1.1 200 OK");

    // The endpoint behaves again: its bundle replaces the one set by hand (Federation §4.2) ...
    let served = TestCa::new("orders.example CA 2").der();
    let good = bundle_of(ORDERS, std::slice::from_ref(&served), kept_sequence + 2);
    hostile.set_mode(Mode::Bundle(good.to_jwks_json().unwrap()));
    a.cli(&["federation", "refresh", "--trust-domain", ORDERS])
        .await
        .ok();
    let fetched = stored_bundle(&a, ORDERS).await.unwrap();
    assert_eq!(sequence(&fetched), kept_sequence + 2, "{fetched}");
    assert_eq!(
        authorities(&fetched),
        authorities_b64(std::slice::from_ref(&served))
    );

    // ... but a different bundle with a lower sequence than the stored one is refused, and kept
    // out whatever the refresh command reports.
    let older = bundle_of(
        ORDERS,
        &[TestCa::new("orders.example CA 3").der()],
        kept_sequence + 1,
    );
    hostile.set_mode(Mode::Bundle(older.to_jwks_json().unwrap()));
    let _ = a
        .cli(&["federation", "refresh", "--trust-domain", ORDERS])
        .await;
    let keeping = format!("keeping the bundle of sequence {}", kept_sequence + 2);
    await_log_line(&a, "a bundle with a lower sequence", |l| {
        l.contains(ORDERS) && l.contains(&keeping)
    })
    .await;
    let still = stored_bundle(&a, ORDERS).await.unwrap();
    assert_eq!(sequence(&still), kept_sequence + 2, "{still}");
    assert_eq!(authorities(&still), authorities_b64(&[served]));
}

/// `authorities` as [`authorities`] reads them from the admin API's JSON: base64 DER.
fn authorities_b64(authorities: &[lanyard_x509::CertDer]) -> Vec<String> {
    use base64::Engine as _;
    authorities
        .iter()
        .map(|c| base64::engine::general_purpose::STANDARD.encode(c.as_bytes()))
        .collect()
}
