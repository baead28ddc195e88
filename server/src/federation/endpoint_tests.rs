//! The bundle endpoint over real TLS on loopback: what a federated server fetches, what other
//! requests get, and what a client that never finishes its request costs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failure must fail the test"
)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use lanyard_id::{SpiffeId, TrustDomain};
use lanyard_tls::TrustStore;
use lanyard_x509::BundleSet;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_rustls::TlsConnector;

use super::*;
use crate::federation::fetch::{FetchLimits, fetch};
use crate::federation::test_certs::Domain;
use crate::federation::url::EndpointUrl;

const SERVER_ID: &str = "spiffe://pay.example/lanyard/server";

struct Running {
    addr: SocketAddr,
    bundles: watch::Sender<Arc<Bundle>>,
    client: Arc<rustls::ClientConfig>,
    pay: Domain,
    _stop: oneshot::Sender<()>,
}

async fn start(cfg: EndpointConfig) -> Running {
    let pay = Domain::new("pay.example");
    let identity = pay.identity(SERVER_ID, &[]);
    let tls = lanyard_tls::bundle_endpoint_server_config(Arc::new(identity)).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut bundle = pay.bundle.clone();
    bundle.sequence_number = 41;
    let (tx, rx) = watch::channel(Arc::new(bundle));
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve(listener, tls, rx, cfg, async move {
        let _ = stopped.await;
    }));
    let trust = TrustStore::new([pay.bundle.clone()].into_iter().collect::<BundleSet>());
    let client =
        lanyard_tls::spiffe_endpoint_client_config(trust, SpiffeId::parse(SERVER_ID).unwrap())
            .unwrap();
    Running {
        addr,
        bundles: tx,
        client,
        pay,
        _stop: stop,
    }
}

fn pay_td() -> TrustDomain {
    TrustDomain::new("pay.example").unwrap()
}

async fn tls_connect(running: &Running) -> tokio_rustls::client::TlsStream<TcpStream> {
    let tcp = TcpStream::connect(running.addr).await.unwrap();
    TlsConnector::from(running.client.clone())
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await
        .unwrap()
}

/// One request; the status, headers and body.
async fn request(
    running: &Running,
    method: Method,
    path: &str,
) -> (StatusCode, hyper::HeaderMap, Bytes) {
    let tls = tls_connect(running).await;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    let response = sender
        .send_request(
            Request::builder()
                .method(method)
                .uri(path)
                .header(HOST, "127.0.0.1")
                .body(Empty::<Bytes>::new())
                .unwrap(),
        )
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    (parts.status, parts.headers, body)
}

#[tokio::test]
async fn serves_the_current_bundle_with_the_refresh_hint() {
    let running = start(EndpointConfig {
        path: "/bundle".into(),
        refresh_hint: Duration::from_secs(90),
        ..EndpointConfig::default()
    })
    .await;
    let url =
        EndpointUrl::parse(&format!("https://127.0.0.1:{}/bundle", running.addr.port())).unwrap();
    let fetched = fetch(
        &url,
        running.client.clone(),
        &pay_td(),
        &FetchLimits::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        fetched.bundle.x509_authorities,
        running.pay.bundle.x509_authorities
    );
    assert_eq!(fetched.bundle.sequence_number, 41);
    assert_eq!(fetched.bundle.refresh_hint, Some(Duration::from_secs(90)));

    // A new bundle is what the next request gets.
    let next = Domain::new("pay.example");
    let mut rotated = running.pay.bundle.clone();
    rotated.add_x509_authority(next.bundle.x509_authorities[0].clone());
    rotated.sequence_number = 42;
    running.bundles.send(Arc::new(rotated)).unwrap();
    let fetched = fetch(
        &url,
        running.client.clone(),
        &pay_td(),
        &FetchLimits::default(),
    )
    .await
    .unwrap();
    assert_eq!(fetched.bundle.sequence_number, 42);
    assert_eq!(fetched.bundle.x509_authorities.len(), 2);

    let (status, headers, body) = request(&running, Method::GET, "/bundle").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[CONTENT_TYPE], "application/json");
    let length: usize = headers[CONTENT_LENGTH].to_str().unwrap().parse().unwrap();
    assert_eq!(length, body.len());

    let (status, headers, head_body) = request(&running, Method::HEAD, "/bundle").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[CONTENT_TYPE], "application/json");
    assert!(head_body.is_empty());
}

#[tokio::test]
async fn other_paths_and_methods_are_refused() {
    let running = start(EndpointConfig::default()).await;
    let (status, _, _) = request(&running, Method::GET, "/other").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for method in [Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS] {
        let (status, headers, _) = request(&running, method.clone(), "/").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(headers[ALLOW], "GET, HEAD", "{method}");
    }
    let (status, _, _) = request(&running, Method::GET, "/?any=query").await;
    assert_eq!(status, StatusCode::OK);
}

/// Reads until the server closes the connection; fails if it has not within `within`.
async fn closed_within<S: tokio::io::AsyncRead + Unpin>(stream: &mut S, within: Duration) {
    let mut buf = [0u8; 4096];
    let until = tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(until.is_ok(), "the server kept the connection open");
}

#[tokio::test]
async fn a_slowloris_client_is_cut_off_while_others_are_served() {
    let header_read_timeout = Duration::from_millis(500);
    let running = start(EndpointConfig {
        header_read_timeout,
        ..EndpointConfig::default()
    })
    .await;
    let mut slow = tls_connect(&running).await;
    let started = Instant::now();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    slow.flush().await.unwrap();
    let (mut reader, mut writer) = tokio::io::split(slow);
    // A header byte every 100 ms, never the blank line that ends the head.
    let drip = tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_millis(100));
        loop {
            ticker.tick().await;
            if writer.write_all(b"X-Slow: 1\r\n").await.is_err() || writer.flush().await.is_err() {
                return;
            }
        }
    });
    // Meanwhile another client is served.
    let (status, _, _) = request(&running, Method::GET, "/").await;
    assert_eq!(status, StatusCode::OK);
    closed_within(&mut reader, Duration::from_secs(5)).await;
    assert!(started.elapsed() >= header_read_timeout);
    drip.abort();
}

#[tokio::test]
async fn a_client_that_never_handshakes_is_closed_at_the_handshake_timeout() {
    let running = start(EndpointConfig {
        handshake: HandshakeLimits {
            timeout: Duration::from_millis(300),
            ..HandshakeLimits::default()
        },
        ..EndpointConfig::default()
    })
    .await;
    let mut tcp = TcpStream::connect(running.addr).await.unwrap();
    tcp.write_all(b"\x16\x03\x01").await.unwrap();
    closed_within(&mut tcp, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_for_a_free_slot() {
    let running = start(EndpointConfig {
        max_connections: 1,
        header_read_timeout: Duration::from_secs(60),
        ..EndpointConfig::default()
    })
    .await;
    // The one slot, held by a client that sends nothing.
    let holder = tls_connect(&running).await;
    let mut waiting = tokio::spawn({
        let addr = running.addr;
        let client = running.client.clone();
        async move {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let mut tls = TlsConnector::from(client)
                .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
                .await
                .unwrap();
            tls.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                .await
                .unwrap();
            let mut answer = Vec::new();
            tls.read_to_end(&mut answer).await.ok();
            answer
        }
    });
    // Not answered while the slot is taken...
    let early = tokio::time::timeout(Duration::from_millis(300), &mut waiting).await;
    assert!(early.is_err(), "answered beyond max_connections");
    // ...and answered once it frees.
    drop(holder);
    let answer = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .unwrap()
        .unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 200 OK"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}
