//! An in-test HTTPS bundle endpoint that misbehaves on demand ([`Mode`]): garbage, a 64 MiB
//! body, a stall after or before the TLS handshake, HTTP 500, or a good bundle. It records when
//! each connection arrived (the refresher's attempts, to check its backoff) and how many body
//! bytes of a huge answer it managed to write (to check that the client stopped reading).
//!
//! Raw HTTP/1.1 over tokio-rustls rather than a server library: the point is to send what no
//! well-behaved server would.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What the endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mode {
    /// 200, `application/json`, this body (a SPIFFE bundle).
    Bundle(String),
    /// 200, `application/json`, a body that is not JSON at all.
    Garbage,
    /// 200, `application/json`, [`HUGE`] bytes, chunked (no Content-Length to refuse up front).
    Huge,
    /// The TLS handshake completes and the request is read; no answer ever comes.
    StallAfterHandshake,
    /// The TCP connection is accepted; the handshake never starts (no ServerHello).
    StallBeforeHandshake,
    /// 500 with a short body.
    Status500,
}

/// The size of [`Mode::Huge`]'s body.
pub(crate) const HUGE: u64 = 64 << 20;

/// What the endpoint saw.
#[derive(Debug, Default)]
struct Seen {
    /// When each TCP connection was accepted.
    connections: Vec<Instant>,
    /// The most body bytes one [`Mode::Huge`] answer wrote before its client hung up.
    huge_bytes_written: u64,
}

/// The endpoint: listening on 127.0.0.1:0 until dropped.
pub(crate) struct HostileEndpoint {
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    seen: Arc<Mutex<Seen>>,
    task: JoinHandle<()>,
}

impl HostileEndpoint {
    /// Listens with `tls` (its certificate is the test's choice), answering as `mode`.
    pub(crate) async fn start(tls: Arc<rustls::ServerConfig>, mode: Mode) -> HostileEndpoint {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mode = Arc::new(Mutex::new(mode));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
        let (m, s) = (Arc::clone(&mode), Arc::clone(&seen));
        let task = tokio::spawn(async move {
            // Dropped with the accept loop (when the endpoint is): aborts every connection.
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((tcp, _)) = listener.accept().await {
                s.lock().unwrap().connections.push(Instant::now());
                let mode = m.lock().unwrap().clone();
                conns.spawn(serve(tcp, acceptor.clone(), mode, Arc::clone(&s)));
                while conns.try_join_next().is_some() {}
            }
        });
        HostileEndpoint {
            addr,
            mode,
            seen,
            task,
        }
    }

    /// Answers new connections as `mode` from now on.
    pub(crate) fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    /// When each connection arrived, oldest first.
    pub(crate) fn connections(&self) -> Vec<Instant> {
        self.seen.lock().unwrap().connections.clone()
    }

    /// The most body bytes one [`Mode::Huge`] answer wrote before its client hung up (0 until
    /// one has ended).
    pub(crate) fn huge_bytes_written(&self) -> u64 {
        self.seen.lock().unwrap().huge_bytes_written
    }

    /// `https://<host>:<port>/` for this endpoint.
    pub(crate) fn url(&self, host: &str) -> String {
        format!("https://{host}:{}/", self.addr.port())
    }
}

impl Drop for HostileEndpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One connection, as `mode` says.
async fn serve(
    mut tcp: TcpStream,
    acceptor: tokio_rustls::TlsAcceptor,
    mode: Mode,
    seen: Arc<Mutex<Seen>>,
) {
    if mode == Mode::StallBeforeHandshake {
        // Swallow the ClientHello and whatever follows, answer nothing, until the client goes.
        drain(&mut tcp).await;
        return;
    }
    let Ok(Ok(mut tls)) = tokio::time::timeout(Duration::from_secs(20), acceptor.accept(tcp)).await
    else {
        return;
    };
    if !read_request_head(&mut tls).await {
        return;
    }
    match mode {
        Mode::Bundle(body) => respond(&mut tls, "200 OK", &body).await,
        Mode::Garbage => respond(&mut tls, "200 OK", "<html>this is not a bundle").await,
        Mode::Status500 => {
            respond(&mut tls, "500 Internal Server Error", "database on fire").await;
        }
        Mode::StallAfterHandshake => drain(&mut tls).await,
        Mode::Huge => {
            let written = huge(&mut tls).await;
            let mut seen = seen.lock().unwrap();
            seen.huge_bytes_written = seen.huge_bytes_written.max(written);
        }
        Mode::StallBeforeHandshake => {}
    }
}

/// Reads until the client closes (or 60 s pass), discarding everything.
async fn drain(conn: &mut (impl AsyncRead + Unpin)) {
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(60), async {
        while matches!(conn.read(&mut buf).await, Ok(n) if n > 0) {}
    })
    .await;
}

/// Reads the request head (up to the blank line, at most 16 KiB); whether one came.
async fn read_request_head(conn: &mut (impl AsyncRead + Unpin)) -> bool {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(20), conn.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 && head.len() < 16 << 10 => head.extend_from_slice(&buf[..n]),
            _ => return false,
        }
    }
    true
}

/// A whole response with a Content-Length.
async fn respond(conn: &mut (impl AsyncWrite + Unpin), status: &str, body: &str) {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = conn.write_all(response.as_bytes()).await;
    let _ = conn.shutdown().await;
}

/// [`HUGE`] bytes of a JSON document that never ends (`{"keys":[` then spaces), chunked; returns
/// how many body bytes were written before the client stopped reading.
async fn huge(conn: &mut (impl AsyncWrite + Unpin)) -> u64 {
    const CHUNK: usize = 64 << 10;
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    if conn.write_all(head.as_bytes()).await.is_err() {
        return 0;
    }
    let mut body = vec![b' '; CHUNK];
    body[..9].copy_from_slice(b"{\"keys\":[");
    let mut written = 0u64;
    while written < HUGE {
        let mut chunk = format!("{CHUNK:x}\r\n").into_bytes();
        chunk.extend_from_slice(&body);
        chunk.extend_from_slice(b"\r\n");
        // A client that stopped reading leaves the write blocked once the socket buffers are
        // full; it counts as hung up after 10 s.
        let write = tokio::time::timeout(Duration::from_secs(10), conn.write_all(&chunk)).await;
        if !matches!(write, Ok(Ok(()))) {
            return written;
        }
        written += CHUNK as u64;
        body[..9].fill(b' ');
    }
    let _ = conn.write_all(b"0\r\n\r\n").await;
    written
}
