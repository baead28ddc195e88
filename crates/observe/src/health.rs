//! Liveness, readiness and metrics over HTTP.
//!
//! `GET /live` answers 200 while the process runs its event loop. `GET /ready` answers 200 with
//! `{"status":"ready"}` when the component can do its job, and 503 with the reason otherwise
//! (`starting`, `degraded`, `not ready`). Both bodies are JSON. `GET /metrics` answers the
//! process's [`Registry`] in the OpenMetrics text format (see [`crate::metrics`]).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::metrics::{CONTENT_TYPE, Registry};

/// The readiness of a component.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "snake_case")]
pub enum Readiness {
    /// Still starting up.
    Starting,
    /// Fully working.
    Ready,
    /// Working with reduced guarantees (e.g. serving cached SVIDs while the server is down).
    Degraded(String),
    /// Cannot serve (e.g. the agent was banned).
    NotReady(String),
}

/// A shared, cheaply cloned readiness flag.
#[derive(Debug, Clone)]
pub struct Health {
    tx: Arc<watch::Sender<Readiness>>,
}

impl Default for Health {
    fn default() -> Self {
        Self::new()
    }
}

impl Health {
    /// Starts in [`Readiness::Starting`].
    pub fn new() -> Self {
        Self {
            tx: Arc::new(watch::Sender::new(Readiness::Starting)),
        }
    }

    /// Sets the readiness; logs when it changes.
    pub fn set(&self, r: Readiness) {
        self.tx.send_if_modified(|cur| {
            if *cur == r {
                return false;
            }
            tracing::info!(from = ?cur, to = ?r, "readiness changed");
            *cur = r;
            true
        });
    }

    /// The current readiness.
    pub fn get(&self) -> Readiness {
        self.tx.borrow().clone()
    }

    /// A receiver that sees every change.
    pub fn subscribe(&self) -> watch::Receiver<Readiness> {
        self.tx.subscribe()
    }
}

async fn live() -> impl IntoResponse {
    (
        StatusCode::OK,
        axum::Json(serde_json::json!({"status": "live"})),
    )
}

async fn ready(State(h): State<Health>) -> impl IntoResponse {
    let r = h.get();
    // Degraded still serves: Kubernetes keeps routing to it, the body says why.
    let code = match r {
        Readiness::Ready | Readiness::Degraded(_) => StatusCode::OK,
        Readiness::Starting | Readiness::NotReady(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    (code, axum::Json(r))
}

async fn metrics(State(registry): State<Arc<Registry>>) -> impl IntoResponse {
    match crate::metrics::encode(&registry) {
        Ok(text) => (
            StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, CONTENT_TYPE)],
            text,
        ),
        // Only a metric's own encoder can fail; the scrape says so rather than half a page.
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8",
            )],
            "encoding the metrics failed\n".to_owned(),
        ),
    }
}

/// Serves `/live`, `/ready` and `/metrics` (from `registry`) on `listener` until `shutdown`
/// resolves.
pub async fn serve_health(
    listener: TcpListener,
    health: Health,
    registry: Arc<Registry>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/live", get(live))
        .route("/ready", get(ready))
        .with_state(health)
        .merge(
            Router::new()
                .route("/metrics", get(metrics))
                .with_state(registry),
        );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn get(addr: std::net::SocketAddr, path: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn ready_reflects_state_with_reason() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let health = Health::new();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let mut registry = Registry::default();
        let up = prometheus_client::metrics::gauge::Gauge::<i64>::default();
        registry.register("lanyard_test_up", "Whether the test runs", up.clone());
        up.set(1);
        let server = tokio::spawn(serve_health(
            listener,
            health.clone(),
            Arc::new(registry),
            async {
                let _ = stopped.await;
            },
        ));

        assert!(get(addr, "/live").await.starts_with("HTTP/1.1 200"));
        let r = get(addr, "/ready").await;
        assert!(
            r.starts_with("HTTP/1.1 503") && r.contains("starting"),
            "{r}"
        );
        health.set(Readiness::Ready);
        assert!(get(addr, "/ready").await.starts_with("HTTP/1.1 200"));
        health.set(Readiness::Degraded("server unreachable".into()));
        let r = get(addr, "/ready").await;
        assert!(
            r.starts_with("HTTP/1.1 200") && r.contains("server unreachable"),
            "{r}"
        );
        health.set(Readiness::NotReady("agent banned".into()));
        let r = get(addr, "/ready").await;
        assert!(
            r.starts_with("HTTP/1.1 503") && r.contains("agent banned"),
            "{r}"
        );

        let m = get(addr, "/metrics").await;
        assert!(m.starts_with("HTTP/1.1 200"), "{m}");
        assert!(
            m.to_ascii_lowercase()
                .contains("content-type: application/openmetrics-text; version=1.0.0"),
            "{m}"
        );
        assert!(
            m.contains("\nlanyard_test_up 1\n") && m.ends_with("# EOF\n"),
            "{m}"
        );

        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
    }
}
