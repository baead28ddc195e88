//! Our bundle endpoint under attack (issue 16 point 1; the bounds ARCHITECTURE.md states for a
//! listener anyone may reach before authentication), against the real server process: a client
//! that never sends its TLS ClientHello and one that sends its HTTP headers and never ends them
//! are both cut off at their deadlines (10 s each: `HandshakeLimits` and the header read
//! timeout), and the endpoint serves the bundle to others meanwhile.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::certs::probe_connector;
use super::{PAY, Publish, federating_server};

/// The endpoint's deadline for each stall, and what a busy machine may add to it.
const DEADLINE: Duration = Duration::from_secs(10);
const SLACK: Duration = Duration::from_secs(10);

async fn tls(addr: SocketAddr) -> tokio_rustls::client::TlsStream<TcpStream> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    probe_connector().connect(name, tcp).await.unwrap()
}

/// Reads until the server closes the connection; panics if it is still open after `within`.
async fn closed_within(conn: &mut (impl AsyncRead + Unpin), within: Duration, what: &str) {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(
            within.saturating_sub(started.elapsed()),
            conn.read(&mut buf),
        )
        .await
        {
            Ok(Ok(0) | Err(_)) => return,
            Ok(Ok(_)) => {}
            Err(_) => panic!("{what}: still open after {within:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bundle_endpoint_cuts_off_stalled_handshakes_and_endless_headers() {
    let server = federating_server(PAY, Publish::HttpsSpiffe).await;
    let addr = server.bundle_endpoint.unwrap();

    // Connected, and not a byte of TLS.
    let mut stalled = TcpStream::connect(addr).await.unwrap();
    // TLS done, then a header line that never ends.
    let mut endless = tls(addr).await;
    endless
        .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a")
        .await
        .unwrap();

    // Meanwhile another client gets the bundle.
    let mut client = tls(addr).await;
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    // The endpoint may close without a TLS close_notify; what arrived before is the answer.
    let _ = tokio::time::timeout(DEADLINE, client.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"spiffe_sequence\""), "{answer}");

    closed_within(
        &mut stalled,
        DEADLINE + SLACK,
        "a connection without a TLS handshake",
    )
    .await;
    closed_within(
        &mut endless,
        DEADLINE + SLACK,
        "a request whose headers never end",
    )
    .await;
}
