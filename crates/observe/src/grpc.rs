//! [`GrpcMetricsLayer`]: a tower layer for a tonic server that counts calls by method and gRPC
//! status code and keeps a gauge of the calls open by method.
//!
//! Methods are a fixed list given at start (the service's own paths): a path outside it (any
//! caller can send any path) is counted as method `unknown`, so no caller can grow the label
//! set. A call's code is read where tonic puts it: in the response headers of a trailers-only
//! response (every error returned by a handler), else in the trailers that end the body; a call
//! whose response is dropped before either (the client went away, a stream was cut) counts as
//! `CANCELLED`. A call is open from its request until its response body is dropped, so a
//! server stream counts for as long as it streams.
//!
//! Per call: one lookup of the path in the list, atomic updates of cached handles; the future
//! and body wrappers are inline (no allocation).

use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};

use http_body::{Body, Frame, SizeHint};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

use crate::metrics::{GRPC_CODES, Registry, StaticLabels, grpc_code_index};

/// The label value of a path outside the method list.
const UNKNOWN_METHOD: &str = "unknown";

/// Call counters and open-call gauges of one gRPC server. Cloning shares them.
#[derive(Debug, Clone)]
pub struct GrpcMetrics {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    calls: Family<StaticLabels<2>, Counter>,
    open: Family<StaticLabels<1>, Gauge>,
    /// The listed methods, then [`UNKNOWN_METHOD`].
    methods: Box<[Method]>,
}

#[derive(Debug)]
struct Method {
    /// `/package.Service/Method`.
    path: &'static str,
    /// The `method` label.
    name: &'static str,
    /// By code, created on first use.
    calls: [OnceLock<Counter>; GRPC_CODES.len()],
    open: OnceLock<Gauge>,
}

impl GrpcMetrics {
    /// Registers `<prefix>_calls_total{method, code}` and `<prefix>_open_calls{method}` for the
    /// methods `(path, label)`; `what` names the server in the help text.
    pub fn new(
        registry: &mut Registry,
        prefix: &str,
        what: &str,
        methods: &[(&'static str, &'static str)],
    ) -> GrpcMetrics {
        let metrics = GrpcMetrics::unregistered(methods);
        registry.register(
            format!("{prefix}_calls"),
            format!("{what} calls ended, by method and gRPC status code"),
            metrics.inner.calls.clone(),
        );
        registry.register(
            format!("{prefix}_open_calls"),
            format!("{what} calls in progress (streams included), by method"),
            metrics.inner.open.clone(),
        );
        metrics
    }

    /// Metrics nobody exports (tests, and servers started without a registry).
    pub fn unregistered(methods: &[(&'static str, &'static str)]) -> GrpcMetrics {
        let method = |path, name| Method {
            path,
            name,
            calls: std::array::from_fn(|_| OnceLock::new()),
            open: OnceLock::new(),
        };
        let methods = methods
            .iter()
            .map(|(path, name)| method(*path, *name))
            .chain(std::iter::once(method("", UNKNOWN_METHOD)))
            .collect();
        GrpcMetrics {
            inner: Arc::new(Inner {
                calls: Family::default(),
                open: Family::default(),
                methods,
            }),
        }
    }

    /// The layer to put on the tonic server.
    pub fn layer(&self) -> GrpcMetricsLayer {
        GrpcMetricsLayer {
            metrics: self.clone(),
        }
    }

    /// Starts counting a call to `path`.
    fn begin(&self, path: &str) -> Call {
        let methods = &self.inner.methods;
        let index = methods[..methods.len() - 1]
            .iter()
            .position(|m| m.path == path)
            .unwrap_or(methods.len() - 1);
        self.open_gauge(index).inc();
        Call {
            metrics: self.clone(),
            index,
            ended: false,
        }
    }

    fn open_gauge(&self, index: usize) -> &Gauge {
        let m = &self.inner.methods[index];
        m.open
            .get_or_init(|| self.inner.open.get_or_create_owned(&[("method", m.name)]))
    }

    fn count(&self, index: usize, code: usize) {
        let m = &self.inner.methods[index];
        m.calls[code]
            .get_or_init(|| {
                self.inner
                    .calls
                    .get_or_create_owned(&[("method", m.name), ("code", GRPC_CODES[code])])
            })
            .inc();
    }
}

/// One call being counted: its code is counted once, its open gauge lowered when it is dropped.
#[derive(Debug)]
struct Call {
    metrics: GrpcMetrics,
    index: usize,
    ended: bool,
}

impl Call {
    /// Counts the call with the code in `headers` (response headers or trailers), if any.
    fn end_with(&mut self, headers: &http::HeaderMap) {
        if let Some(status) = headers.get("grpc-status") {
            let code = status
                .to_str()
                .ok()
                .and_then(|s| s.parse::<i32>().ok())
                .map_or(2, grpc_code_index);
            self.end(code);
        }
    }

    fn end(&mut self, code: usize) {
        if !self.ended {
            self.ended = true;
            self.metrics.count(self.index, code);
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        // Ended before its status was sent: the client went away or the stream was cut.
        self.end(1);
        self.metrics.open_gauge(self.index).dec();
    }
}

/// The tower layer of [`GrpcMetrics`].
#[derive(Debug, Clone)]
pub struct GrpcMetricsLayer {
    metrics: GrpcMetrics,
}

impl<S> tower::Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetricsService<S>;

    fn layer(&self, inner: S) -> GrpcMetricsService<S> {
        GrpcMetricsService {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// A gRPC service whose calls are counted (see the module docs).
#[derive(Debug, Clone)]
pub struct GrpcMetricsService<S> {
    inner: S,
    metrics: GrpcMetrics,
}

impl<S, Req, Res> tower::Service<http::Request<Req>> for GrpcMetricsService<S>
where
    S: tower::Service<http::Request<Req>, Response = http::Response<Res>>,
{
    type Response = http::Response<CountedBody<Res>>;
    type Error = S::Error;
    type Future = CountedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Req>) -> Self::Future {
        let call = self.metrics.begin(request.uri().path());
        CountedFuture {
            inner: self.inner.call(request),
            call: Some(call),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`GrpcMetricsService`].
    #[derive(Debug)]
    pub struct CountedFuture<F> {
        #[pin]
        inner: F,
        call: Option<Call>,
    }
}

impl<F, B, E> std::future::Future for CountedFuture<F>
where
    F: std::future::Future<Output = Result<http::Response<B>, E>>,
{
    type Output = Result<http::Response<CountedBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        let mut call = this.call.take();
        Poll::Ready(match result {
            Ok(response) => {
                if let Some(call) = &mut call {
                    // A trailers-only response (an error status) carries its code here.
                    call.end_with(response.headers());
                }
                Ok(response.map(|inner| CountedBody { inner, call }))
            }
            Err(e) => {
                if let Some(call) = &mut call {
                    call.end(2);
                }
                Err(e)
            }
        })
    }
}

pin_project_lite::pin_project! {
    /// A response body that counts its call's code from its trailers and keeps the call open
    /// until dropped.
    #[derive(Debug)]
    pub struct CountedBody<B> {
        #[pin]
        inner: B,
        call: Option<Call>,
    }
}

impl<B: Body> Body for CountedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        if let (Some(Ok(frame)), Some(call)) = (&frame, this.call.as_mut())
            && let Some(trailers) = frame.trailers_ref()
        {
            call.end_with(trailers);
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::convert::Infallible;

    use http_body_util::{BodyExt as _, Full, StreamBody};
    use tower::{Layer as _, ServiceExt as _};

    use super::*;

    const METHODS: &[(&str, &str)] = &[("/pkg.Svc/Get", "Get"), ("/pkg.Svc/Watch", "Watch")];

    fn text(registry: &Registry) -> String {
        crate::metrics::encode(registry).unwrap()
    }

    /// One call of `path` through `svc`, once it is ready.
    async fn call<S>(svc: &mut S, path: &'static str) -> S::Response
    where
        S: tower::Service<http::Request<()>>,
        S::Error: std::fmt::Debug,
    {
        let request = http::Request::builder().uri(path).body(()).unwrap();
        svc.ready().await.unwrap().call(request).await.unwrap()
    }

    #[tokio::test]
    async fn calls_are_counted_by_method_and_code_where_tonic_puts_the_code() {
        let mut registry = Registry::default();
        let metrics = GrpcMetrics::new(&mut registry, "lanyard_test_api", "Test API", METHODS);
        // A handler answering like tonic: an error as trailers-only headers, a success with
        // its code in the trailers after the data.
        let svc = tower::service_fn(|req: http::Request<()>| async move {
            let body: Pin<Box<dyn Body<Data = bytes::Bytes, Error = Infallible> + Send>> =
                if req.uri().path() == "/pkg.Svc/Get" {
                    let mut trailers = http::HeaderMap::new();
                    trailers.insert("grpc-status", "0".parse().unwrap());
                    Box::pin(StreamBody::new(futures_util_stream(vec![
                        Frame::data(bytes::Bytes::from_static(b"x")),
                        Frame::trailers(trailers),
                    ])))
                } else {
                    Box::pin(Full::new(bytes::Bytes::new()))
                };
            let mut resp = http::Response::new(body);
            if req.uri().path() != "/pkg.Svc/Get" {
                resp.headers_mut()
                    .insert("grpc-status", "7".parse().unwrap());
            }
            Ok::<_, Infallible>(resp)
        });
        let mut svc = metrics.layer().layer(svc);

        let resp = call(&mut svc, "/pkg.Svc/Get").await;
        assert!(
            text(&registry).contains("lanyard_test_api_open_calls{method=\"Get\"} 1"),
            "open while its body lives:\n{}",
            text(&registry)
        );
        resp.into_body().collect().await.unwrap();
        let _ = call(&mut svc, "/pkg.Svc/Watch").await;
        let _ = call(&mut svc, "/evil/../path").await;
        // A call whose body is dropped before its trailers: the client went away.
        let resp = call(&mut svc, "/pkg.Svc/Get").await;
        drop(resp);

        let text = text(&registry);
        for line in [
            "lanyard_test_api_calls_total{method=\"Get\",code=\"OK\"} 1",
            "lanyard_test_api_calls_total{method=\"Get\",code=\"CANCELLED\"} 1",
            "lanyard_test_api_calls_total{method=\"Watch\",code=\"PERMISSION_DENIED\"} 1",
            "lanyard_test_api_calls_total{method=\"unknown\",code=\"PERMISSION_DENIED\"} 1",
            "lanyard_test_api_open_calls{method=\"Get\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?}:\n{text}");
        }
        assert!(!text.contains("evil"), "{text}");
    }

    /// A stream of frames for [`StreamBody`].
    fn futures_util_stream(
        frames: Vec<Frame<bytes::Bytes>>,
    ) -> impl tokio_stream::Stream<Item = Result<Frame<bytes::Bytes>, Infallible>> {
        tokio_stream::iter(frames.into_iter().map(Ok))
    }
}
