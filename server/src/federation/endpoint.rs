//! The bundle endpoint server (SPIFFE_Federation §4, §5): serves our trust domain's bundle as a
//! SPIFFE bundle document to other trust domains' servers, over HTTP/1.1 on TLS.
//!
//! `GET` or `HEAD` on the configured path answers `200` with `Content-Type: application/json`
//! and the bundle in force (§5.2.1.3: "the most up-to-date version of the bundle"), with
//! `spiffe_refresh_hint` set from the configuration; another path is `404`, another method `405`
//! with `Allow: GET, HEAD`. No client authentication (§5.2.1.3 / §5.2.2.3: servers MUST NOT
//! require it); the TLS config decides the profile (the server's own X.509-SVID for
//! `https_spiffe`, operator files for `https_web`, see [`super::certfiles`]).
//!
//! Anyone on the network can connect, so every connection is bounded before it has sent a
//! request: TLS handshakes by [`lanyard_tls::transport::incoming`] and its [`HandshakeLimits`];
//! the request head must arrive within `header_read_timeout` and fit in 16 KiB; one request per
//! connection (no keep-alive: a client fetches every few minutes) and the whole connection ends
//! after `connection_timeout`; at most `max_connections` are open at once (at the limit no more
//! are taken from the handshake queue until one ends).

use std::convert::Infallible;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use lanyard_tls::transport::{HandshakeLimits, incoming};
use lanyard_x509::Bundle;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_stream::StreamExt;

/// The largest request head read (request line and headers).
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// How the endpoint serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointConfig {
    /// The path the bundle is served on (the operator's choice, §5.2.1.3); starts with `/`.
    pub path: String,
    /// The `spiffe_refresh_hint` written into the served bundle (Trust Domain and Bundle
    /// §4.1.2).
    pub refresh_hint: Duration,
    /// Bounds on TLS handshakes in flight.
    pub handshake: HandshakeLimits,
    /// How long a client has, after its handshake, to send its request head.
    pub header_read_timeout: Duration,
    /// How long a connection may last in all (request, answer, a slow reader).
    pub connection_timeout: Duration,
    /// Connections open at once, after their handshake.
    pub max_connections: usize,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        Self {
            path: "/".to_owned(),
            refresh_hint: super::schedule::DEFAULT_REFRESH_HINT,
            handshake: HandshakeLimits::default(),
            header_read_timeout: Duration::from_secs(10),
            connection_timeout: Duration::from_secs(30),
            max_connections: 256,
        }
    }
}

/// The JSON of the last bundle served, encoded once per bundle `Arc`.
#[derive(Default)]
struct Encoded {
    last: Mutex<Option<(Arc<Bundle>, Option<Bytes>)>>,
}

impl Encoded {
    /// The document for `bundle`, `None` if it cannot be encoded (logged once per bundle).
    fn get(&self, bundle: &Arc<Bundle>, refresh_hint: Duration) -> Option<Bytes> {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((cached, json)) = &*last
            && Arc::ptr_eq(cached, bundle)
        {
            return json.clone();
        }
        let mut served = (**bundle).clone();
        served.refresh_hint = Some(refresh_hint);
        let json = match served.to_jwks_json() {
            Ok(text) => Some(Bytes::from(text)),
            Err(e) => {
                tracing::error!(error = %e, trust_domain = %bundle.trust_domain, "the bundle cannot be encoded as a SPIFFE bundle document; the bundle endpoint answers 500");
                None
            }
        };
        *last = Some((bundle.clone(), json.clone()));
        json
    }
}

/// Serves the bundle `bundles` holds on `listener` with `tls` until `shutdown` completes;
/// connections still open then are closed.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    bundles: watch::Receiver<Arc<Bundle>>,
    cfg: EndpointConfig,
    shutdown: impl Future<Output = ()>,
) {
    let cfg = Arc::new(cfg);
    let encoded = Arc::new(Encoded::default());
    let slots = Arc::new(Semaphore::new(cfg.max_connections.max(1)));
    let mut connections = incoming(listener, tls, cfg.handshake);
    let mut open = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = slots.clone().acquire_owned() => permit,
        };
        let Ok(permit) = permit else { break };
        let conn = tokio::select! {
            () = &mut shutdown => break,
            conn = connections.next() => conn,
        };
        let conn = match conn {
            Some(Ok(conn)) => conn,
            Some(Err(e)) => {
                tracing::debug!(error = %e, "bundle endpoint connection failed");
                continue;
            }
            None => break,
        };
        // Reap finished connections so the set holds only open ones.
        while open.try_join_next().is_some() {}
        let bundles = bundles.clone();
        let encoded = encoded.clone();
        let cfg = cfg.clone();
        open.spawn(async move {
            let service_cfg = cfg.clone();
            let service =
                hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
                    let bundle = bundles.borrow().clone();
                    let response = respond(&request, &bundle, &encoded, &service_cfg);
                    async move { Ok::<_, Infallible>(response) }
                });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(cfg.header_read_timeout)
                .max_buf_size(MAX_HEAD_BYTES)
                .keep_alive(false);
            let serving = builder.serve_connection(TokioIo::new(conn), service);
            match tokio::time::timeout(cfg.connection_timeout, serving).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::debug!(error = %e, "bundle endpoint connection ended"),
                Err(_) => {
                    tracing::debug!("bundle endpoint connection closed at connection_timeout")
                }
            }
            drop(permit);
        });
    }
    open.shutdown().await;
}

/// The answer to one request.
fn respond(
    request: &Request<hyper::body::Incoming>,
    bundle: &Arc<Bundle>,
    encoded: &Encoded,
    cfg: &EndpointConfig,
) -> Response<Full<Bytes>> {
    let status = |code: StatusCode| {
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = code;
        r
    };
    if request.uri().path() != cfg.path {
        return status(StatusCode::NOT_FOUND);
    }
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        let mut r = status(StatusCode::METHOD_NOT_ALLOWED);
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let Some(json) = encoded.get(bundle, cfg.refresh_hint) else {
        return status(StatusCode::INTERNAL_SERVER_ERROR);
    };
    let mut r = Response::new(Full::new(json));
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    // Clients poll at the refresh hint; an intermediary must not serve them an old bundle.
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[cfg(test)]
#[path = "endpoint_tests.rs"]
mod tests;
