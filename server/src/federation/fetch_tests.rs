//! [`fetch`] against real TLS servers on loopback: every way an endpoint can be wrong.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failure must fail the test"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use lanyard_id::{SpiffeId, TrustDomain};
use lanyard_tls::TrustStore;
use lanyard_x509::BundleSet;

use super::*;
use crate::federation::test_certs::{Domain, Script, WebCa, raw_server, response};

const ENDPOINT_ID: &str = "spiffe://orders.example/lanyard/server";

fn td() -> TrustDomain {
    TrustDomain::new("orders.example").unwrap()
}

fn url(host: &str, addr: std::net::SocketAddr, path: &str) -> EndpointUrl {
    EndpointUrl::parse(&format!("https://{host}:{}{path}", addr.port())).unwrap()
}

fn limits() -> FetchLimits {
    FetchLimits {
        fetch_timeout: Duration::from_secs(10),
        ..FetchLimits::default()
    }
}

fn spiffe_client(trusted: &Domain, id: &str) -> Arc<rustls::ClientConfig> {
    let trust = TrustStore::new([trusted.bundle.clone()].into_iter().collect::<BundleSet>());
    lanyard_tls::spiffe_endpoint_client_config(trust, SpiffeId::parse(id).unwrap()).unwrap()
}

/// The bundle JSON `orders` serves: its CA, sequence 7, hint 120 s.
fn bundle_json(orders: &Domain) -> Vec<u8> {
    let mut bundle = orders.bundle.clone();
    bundle.sequence_number = 7;
    bundle.refresh_hint = Some(Duration::from_secs(120));
    bundle.to_jwks_json().unwrap().into_bytes()
}

async fn fetch_err(
    url: &EndpointUrl,
    tls: Arc<rustls::ClientConfig>,
    limits: FetchLimits,
) -> FetchError {
    match fetch(url, tls, &td(), &limits).await {
        Ok(f) => panic!("fetched {:?}", f.bundle),
        Err(e) => e,
    }
}

#[tokio::test]
async fn https_spiffe_round_trip() {
    let orders = Domain::new("orders.example");
    let json = bundle_json(&orders);
    let addr = raw_server(orders.identity(ENDPOINT_ID, &[]), move |_| {
        response("200 OK", &[("Content-Type", "application/json")], &json)
    })
    .await;
    let fetched = fetch(
        &url("127.0.0.1", addr, "/"),
        spiffe_client(&orders, ENDPOINT_ID),
        &td(),
        &limits(),
    )
    .await
    .unwrap();
    assert_eq!(fetched.bundle.trust_domain, td());
    assert_eq!(
        fetched.bundle.x509_authorities,
        orders.bundle.x509_authorities
    );
    assert_eq!(fetched.bundle.sequence_number, 7);
    assert_eq!(fetched.bundle.refresh_hint, Some(Duration::from_secs(120)));
    // The SVID the endpoint presented, for the refresher's self-serving check.
    let svid = lanyard_x509::verify_x509_svid(
        &fetched.peer_chain,
        &[orders.bundle.clone()].into_iter().collect::<BundleSet>(),
        std::time::SystemTime::now(),
    )
    .unwrap();
    assert_eq!(svid.spiffe_id.as_str(), ENDPOINT_ID);
}

#[tokio::test]
async fn https_web_round_trip_by_name_and_address() {
    let ca = WebCa::new("test web CA");
    let cert = ca.issue(&["localhost", "127.0.0.1"], false);
    let orders = Domain::new("orders.example");
    let json = bundle_json(&orders);
    let addr = raw_server(cert.identity(), move |_| response("200 OK", &[], &json)).await;
    let tls = lanyard_tls::web_pki_client_config(ca.roots()).unwrap();
    for host in ["localhost", "127.0.0.1"] {
        let fetched = fetch(&url(host, addr, "/bundle"), tls.clone(), &td(), &limits())
            .await
            .unwrap();
        assert_eq!(
            fetched.bundle.x509_authorities,
            orders.bundle.x509_authorities
        );
    }
}

#[tokio::test]
async fn garbage_is_not_a_bundle() {
    let orders = Domain::new("orders.example");
    let addr = raw_server(orders.identity(ENDPOINT_ID, &[]), |_| {
        response("200 OK", &[], b"<html>hello</html>")
    })
    .await;
    let e = fetch_err(
        &url("127.0.0.1", addr, "/"),
        spiffe_client(&orders, ENDPOINT_ID),
        limits(),
    )
    .await;
    assert!(matches!(e.failure, FetchFailure::NotABundle(_)), "{e}");
    let text = e.to_string();
    assert!(text.contains("not a SPIFFE bundle: "), "{text}");
    assert!(text.contains("orders.example"), "{text}");
    assert!(
        text.contains(&format!("https://127.0.0.1:{}/", addr.port())),
        "{text}"
    );
}

#[tokio::test]
async fn a_huge_body_is_refused_by_content_length_and_when_streamed() {
    let orders = Domain::new("orders.example");
    let huge = vec![b' '; 2 * 1024 * 1024];
    // Announced: refused from the header, before the body is read.
    let announced = response("200 OK", &[], &huge);
    // Not announced: delimited by closing the connection, refused at the limit.
    let mut streamed = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
    streamed.extend_from_slice(&huge);
    let streamed = Script::Answer(Arc::new(streamed));
    let addr = raw_server(orders.identity(ENDPOINT_ID, &[]), move |i| {
        if i == 0 {
            announced.clone()
        } else {
            streamed.clone()
        }
    })
    .await;
    let u = url("127.0.0.1", addr, "/");
    let e = fetch_err(&u, spiffe_client(&orders, ENDPOINT_ID), limits()).await;
    assert_eq!(
        e.failure,
        FetchFailure::BodyTooLarge {
            limit: 1024 * 1024,
            content_length: Some(2 * 1024 * 1024)
        },
        "{e}"
    );
    let e = fetch_err(&u, spiffe_client(&orders, ENDPOINT_ID), limits()).await;
    assert_eq!(
        e.failure,
        FetchFailure::BodyTooLarge {
            limit: 1024 * 1024,
            content_length: None
        },
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("larger than the limit of 1048576 bytes")
    );
}

#[tokio::test]
async fn stalls_end_at_the_fetch_timeout() {
    let orders = Domain::new("orders.example");
    let partial = b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n{\"keys\":".to_vec();
    let scripts = [
        Script::StallBeforeHandshake,
        Script::StallAfterHandshake,
        Script::AnswerThenStall(Arc::new(b"HTTP/1.1 200 OK\r\n".to_vec())),
        Script::AnswerThenStall(Arc::new(partial)),
    ];
    let served = scripts.clone();
    let addr = raw_server(orders.identity(ENDPOINT_ID, &[]), move |i| {
        served[i].clone()
    })
    .await;
    let timeout = Duration::from_millis(600);
    for _ in scripts {
        let started = Instant::now();
        let e = fetch_err(
            &url("127.0.0.1", addr, "/"),
            spiffe_client(&orders, ENDPOINT_ID),
            FetchLimits {
                fetch_timeout: timeout,
                ..limits()
            },
        )
        .await;
        let took = started.elapsed();
        assert_eq!(e.failure, FetchFailure::TimedOut { after: timeout }, "{e}");
        assert!(took >= timeout && took < Duration::from_secs(5), "{took:?}");
    }
}

#[tokio::test]
async fn an_error_status_is_named_with_a_short_printable_body() {
    let orders = Domain::new("orders.example");
    let mut body = b"internal error\n\x00\x1b[31m".to_vec();
    body.extend_from_slice(&[b'x'; 1000]);
    let addr = raw_server(orders.identity(ENDPOINT_ID, &[]), move |_| {
        response("500 Internal Server Error", &[], &body)
    })
    .await;
    let e = fetch_err(
        &url("127.0.0.1", addr, "/"),
        spiffe_client(&orders, ENDPOINT_ID),
        limits(),
    )
    .await;
    let FetchFailure::Status { status, body } = &e.failure else {
        panic!("{e}");
    };
    assert_eq!(*status, 500);
    assert!(body.len() <= 256, "{}", body.len());
    assert!(body.starts_with("internal error ..[31mxxx"), "{body:?}");
    assert!(
        body.bytes().all(|b| b == b' ' || b.is_ascii_graphic()),
        "{body:?}"
    );
    assert!(
        e.to_string()
            .contains("answered HTTP 500: \"internal error"),
        "{e}"
    );
}

#[tokio::test]
async fn redirects_are_followed_at_most_three_times_and_only_to_https() {
    let orders = Domain::new("orders.example");
    let json = bundle_json(&orders);
    let connections = Arc::new(AtomicUsize::new(0));
    let seen = connections.clone();
    let addr = raw_server(orders.identity(ENDPOINT_ID, &[]), move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
        response("302 Found", &[("Location", "/again")], b"")
    })
    .await;
    let e = fetch_err(
        &url("127.0.0.1", addr, "/"),
        spiffe_client(&orders, ENDPOINT_ID),
        limits(),
    )
    .await;
    assert!(
        matches!(&e.failure, FetchFailure::Redirect { reason } if reason.contains("more than 3 redirects")),
        "{e}"
    );
    assert_eq!(connections.load(Ordering::SeqCst), 4);
    assert!(e.to_string().contains("redirected to"), "{e}");

    // One temporary redirect to another path, then the bundle.
    let moved = raw_server(orders.identity(ENDPOINT_ID, &[]), move |i| {
        if i == 0 {
            response("307 Temporary Redirect", &[("Location", "/moved")], b"")
        } else {
            response("200 OK", &[], &json)
        }
    })
    .await;
    let fetched = fetch(
        &url("127.0.0.1", moved, "/"),
        spiffe_client(&orders, ENDPOINT_ID),
        &td(),
        &limits(),
    )
    .await
    .unwrap();
    assert_eq!(fetched.url.path_and_query(), "/moved");

    // Never to plain http.
    let plain = raw_server(orders.identity(ENDPOINT_ID, &[]), |_| {
        response(
            "301 Moved Permanently",
            &[("Location", "http://127.0.0.1/")],
            b"",
        )
    })
    .await;
    let e = fetch_err(
        &url("127.0.0.1", plain, "/"),
        spiffe_client(&orders, ENDPOINT_ID),
        limits(),
    )
    .await;
    assert!(
        matches!(&e.failure, FetchFailure::Redirect { reason } if reason.contains("https only")),
        "{e}"
    );
}

#[tokio::test]
async fn https_web_refuses_a_wrong_name_and_an_untrusted_issuer() {
    let ca = WebCa::new("test web CA");
    let orders = Domain::new("orders.example");
    let json = bundle_json(&orders);
    let wrong_name = ca.issue(&["other.example"], false);
    let addr = raw_server(wrong_name.identity(), move |_| {
        response("200 OK", &[], &json)
    })
    .await;
    let tls = lanyard_tls::web_pki_client_config(ca.roots()).unwrap();
    let e = fetch_err(&url("localhost", addr, "/"), tls.clone(), limits()).await;
    assert!(
        matches!(&e.failure, FetchFailure::Tls(TlsFailure::NameMismatch { name, .. }) if name == "localhost"),
        "{e}"
    );

    let other_ca = WebCa::new("another CA");
    let untrusted = other_ca.issue(&["localhost"], false);
    let addr = raw_server(untrusted.identity(), |_| response("200 OK", &[], b"{}")).await;
    let e = fetch_err(&url("localhost", addr, "/"), tls, limits()).await;
    assert!(
        matches!(
            &e.failure,
            FetchFailure::Tls(TlsFailure::UnknownIssuer { .. })
        ),
        "{e}"
    );
    assert!(e.to_string().contains("not trust"), "{e}");
}

#[tokio::test]
async fn https_web_against_an_svid_suggests_https_spiffe() {
    let orders = Domain::new("orders.example");
    let ca = WebCa::new("test web CA");
    // Trusting the SPIFFE CA as a Web PKI root: the chain verifies, the name does not.
    let mut roots = ca.roots();
    roots
        .add(rustls::pki_types::CertificateDer::from(
            orders.bundle.x509_authorities[0].as_bytes().to_vec(),
        ))
        .unwrap();
    let addr = raw_server(orders.identity(ENDPOINT_ID, &[]), |_| {
        response("200 OK", &[], b"{}")
    })
    .await;
    let tls = lanyard_tls::web_pki_client_config(roots).unwrap();
    let e = fetch_err(&url("localhost", addr, "/"), tls, limits()).await;
    assert!(
        matches!(&e.failure, FetchFailure::Tls(TlsFailure::UseHttpsSpiffe(_))),
        "{e}"
    );
    let text = e.to_string();
    assert!(text.contains("https_spiffe"), "{text}");
    assert!(text.contains(ENDPOINT_ID), "{text}");
}

#[tokio::test]
async fn https_spiffe_refuses_a_wrong_id_and_an_untrusted_authority() {
    let orders = Domain::new("orders.example");
    let addr = raw_server(
        orders.identity("spiffe://orders.example/someone-else", &[]),
        |_| response("200 OK", &[], b"{}"),
    )
    .await;
    let e = fetch_err(
        &url("127.0.0.1", addr, "/"),
        spiffe_client(&orders, ENDPOINT_ID),
        limits(),
    )
    .await;
    assert_eq!(
        e.failure,
        FetchFailure::Tls(TlsFailure::UnexpectedSpiffeId {
            presented: SpiffeId::parse("spiffe://orders.example/someone-else").unwrap(),
            expected: SpiffeId::parse(ENDPOINT_ID).unwrap(),
        }),
        "{e}"
    );

    // The right ID, signed by a CA that is not in the bundle we hold for orders.example.
    let impostor = Domain::new("orders.example");
    let addr = raw_server(impostor.identity(ENDPOINT_ID, &[]), |_| {
        response("200 OK", &[], b"{}")
    })
    .await;
    let e = fetch_err(
        &url("127.0.0.1", addr, "/"),
        spiffe_client(&orders, ENDPOINT_ID),
        limits(),
    )
    .await;
    assert!(
        matches!(
            &e.failure,
            FetchFailure::Tls(TlsFailure::UnknownIssuer { .. })
        ),
        "{e}"
    );
}

#[tokio::test]
async fn nothing_listening_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let orders = Domain::new("orders.example");
    let e = fetch_err(
        &url("127.0.0.1", addr, "/"),
        spiffe_client(&orders, ENDPOINT_ID),
        limits(),
    )
    .await;
    assert!(matches!(e.failure, FetchFailure::Connect { .. }), "{e}");
}

#[test]
fn web_roots_from_a_file_name_the_file_when_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let ca = WebCa::new("test web CA");
    let path = dir.path().join("ca.pem");
    std::fs::write(
        &path,
        lanyard_x509::certificates_to_pem(&[ca.der.as_slice()]),
    )
    .unwrap();
    assert_eq!(web_roots(Some(&path)).unwrap().len(), 1);

    std::fs::write(&path, "nothing").unwrap();
    let e = web_roots(Some(&path)).unwrap_err();
    assert!(
        e.starts_with(&path.display().to_string()) && e.contains("no CERTIFICATE"),
        "{e}"
    );
    let missing = dir.path().join("missing.pem");
    let e = web_roots(Some(&missing)).unwrap_err();
    assert!(e.contains("missing.pem: cannot read"), "{e}");
}
