//! tonic glue: serve gRPC over SPIFFE mTLS, and connect to it.
//!
//! [`incoming`] turns a `TcpListener` into the stream of TLS connections tonic's
//! `serve_with_incoming` takes; each connection's [`PeerInfo`] (remote address and the verified
//! SPIFFE ID of the client certificate, if any) reaches every request as an extension.
//! [`connect`] builds a tonic `Channel` that dials TCP and runs the TLS client handshake itself.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use lanyard_id::SpiffeId;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::server::TlsStream;
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::Connected;
use tonic::transport::{Channel, Endpoint, Uri};

/// What the server knows about the other end of a connection.
#[derive(Debug, Clone)]
pub struct PeerInfo {
    /// The TCP peer address.
    pub remote_addr: Option<SocketAddr>,
    /// The SPIFFE ID of the client's verified X.509-SVID, if it presented one.
    pub spiffe_id: Option<SpiffeId>,
    /// The client's leaf certificate (DER), if it presented one.
    pub leaf: Option<Arc<[u8]>>,
}

/// A server-side TLS connection that tonic can serve.
#[derive(Debug)]
pub struct TlsConnection {
    stream: TlsStream<TcpStream>,
    info: PeerInfo,
}

impl TlsConnection {
    fn new(stream: TlsStream<TcpStream>) -> Self {
        let (tcp, conn) = stream.get_ref();
        let remote_addr = tcp.peer_addr().ok();
        let leaf = conn
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| Arc::<[u8]>::from(c.as_ref()));
        // The handshake already verified the chain; here we only read the ID out of it.
        let spiffe_id = leaf
            .as_deref()
            .and_then(|der| lanyard_x509::parse_x509_svid(&[der]).ok())
            .map(|svid| svid.spiffe_id);
        Self {
            stream,
            info: PeerInfo {
                remote_addr,
                spiffe_id,
                leaf,
            },
        }
    }
}

impl Connected for TlsConnection {
    type ConnectInfo = PeerInfo;
    fn connect_info(&self) -> PeerInfo {
        self.info.clone()
    }
}

impl AsyncRead for TlsConnection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConnection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Bounds on TLS handshakes in flight: before a handshake completes the caller is not
/// authenticated, so what it can hold is bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandshakeLimits {
    /// Handshakes in flight in total. At the limit the listener stops accepting until one
    /// ends: new connections wait in the kernel's backlog (nothing is refused, and holding the
    /// slots costs an attacker `max_in_flight` sockets for `timeout` each).
    pub max_in_flight: usize,
    /// Handshakes in flight from one source IP address. Beyond it a new connection is closed at
    /// once, so one host cannot take every slot.
    pub max_in_flight_per_ip: usize,
    /// How long a client has to finish its handshake.
    pub timeout: Duration,
}

impl Default for HandshakeLimits {
    fn default() -> Self {
        Self {
            max_in_flight: 1024,
            max_in_flight_per_ip: 64,
            timeout: Duration::from_secs(10),
        }
    }
}

/// Handshakes in flight per source address; an address leaves the map with its last one.
#[derive(Debug, Default)]
struct PerIp(Mutex<HashMap<IpAddr, usize>>);

/// One handshake's place in [`PerIp`]; dropping it gives the place back.
struct IpSlot {
    map: Arc<PerIp>,
    ip: IpAddr,
}

impl PerIp {
    fn take(self: &Arc<Self>, ip: IpAddr, limit: usize) -> Option<IpSlot> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let n = map.entry(ip).or_insert(0);
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(IpSlot {
            map: self.clone(),
            ip,
        })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut map = self.map.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// Accepts TCP connections on `listener` and completes TLS handshakes concurrently (a slow or
/// failing client never blocks others), within `limits`; yields established connections for
/// `tonic::transport::Server::serve_with_incoming`. Dropping the stream closes the listener.
pub fn incoming(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    limits: HandshakeLimits,
) -> ReceiverStream<io::Result<TlsConnection>> {
    let (tx, rx) = mpsc::channel(128);
    let acceptor = TlsAcceptor::from(config);
    let slots = Arc::new(Semaphore::new(limits.max_in_flight.max(1)));
    let per_ip = Arc::new(PerIp::default());
    tokio::spawn(async move {
        loop {
            // Dropping the stream closes the listener at once (a stopping server releases its
            // port), not at the next connection.
            let accepted = tokio::select! {
                () = tx.closed() => break,
                accepted = async {
                    // A slot first: at the limit, connections wait in the backlog.
                    let slot = slots.clone().acquire_owned().await;
                    (slot, listener.accept().await)
                } => accepted,
            };
            let (Ok(slot), accepted) = accepted else {
                break;
            };
            let (tcp, addr) = match accepted {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    // Transient (e.g. EMFILE): keep going; the connection that failed is lost.
                    tokio::task::yield_now().await;
                    continue;
                }
            };
            let Some(ip_slot) = per_ip.take(addr.ip(), limits.max_in_flight_per_ip) else {
                tracing::debug!(peer = %addr, "too many TLS handshakes in flight from this address; connection closed");
                continue;
            };
            let _ = tcp.set_nodelay(true);
            if tx.is_closed() {
                break;
            }
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let handshake = tokio::time::timeout(limits.timeout, acceptor.accept(tcp)).await;
                drop((slot, ip_slot));
                match handshake {
                    Ok(Ok(tls)) => {
                        let _ = tx.send(Ok(TlsConnection::new(tls))).await;
                    }
                    Ok(Err(e)) => tracing::debug!(peer = %addr, error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!(peer = %addr, "TLS handshake timed out"),
                }
            });
        }
    });
    ReceiverStream::new(rx)
}

/// A lazily connecting tonic `Channel` to `addr` over TLS with `config`. The TLS server name is
/// irrelevant to SPIFFE verification (the verifier pins the SPIFFE ID), so a fixed one is sent.
pub fn connect(addr: SocketAddr, config: Arc<rustls::ClientConfig>) -> Channel {
    let connector = TlsConnector::from(config);
    // The URI is only used by hyper for the :authority header; dialling is ours.
    let endpoint = Endpoint::from_static("http://lanyard-server")
        .connect_timeout(Duration::from_secs(10))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(10))
        .keep_alive_while_idle(true);
    endpoint.connect_with_connector_lazy(tower::service_fn(move |_: Uri| {
        let connector = connector.clone();
        async move {
            let tcp = TcpStream::connect(addr).await?;
            tcp.set_nodelay(true)?;
            let name = ServerName::try_from("lanyard-server")
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            let tls = connector.connect(name, tcp).await?;
            Ok::<_, io::Error>(TokioIo::new(tls))
        }
    }))
}
