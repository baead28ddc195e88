//! [`FakeKube`]: a local HTTP server that answers like a Kubernetes API server, for the parts
//! Lanyard uses: `TokenReview` creation, getting, listing and watching objects (Pods, Nodes,
//! Namespaces, custom resources), status patches, and creating, replacing and patching objects
//! (ConfigMaps, `coordination.k8s.io/v1` Leases). There is no cluster on the test machines;
//! this speaks the real JSON so the real `kube` client is exercised.
//!
//! Objects are stored by their API path (`/api/v1/namespaces/ns/pods/name`); each change gets a
//! new `resourceVersion` and a watch event. Writes follow the API server's optimistic
//! concurrency: a `POST` of a name that exists is `409 AlreadyExists`; a `PUT` or a merge
//! `PATCH` carrying a `metadata.resourceVersion` other than the stored one is `409 Conflict`.
//! [`FakeKube::fail_writes`] makes the next writes of an object fail, as a busy or broken API
//! server would. `TokenReview` answers come from the facts registered with
//! [`FakeKube::add_token`], with the API server's rules for audiences and expiry.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full, StreamBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc};

/// What the fake API server knows about one service-account token.
#[derive(Debug, Clone)]
pub struct TokenFacts {
    /// `system:serviceaccount:<ns>:<name>`.
    pub username: String,
    /// The audiences the token was issued for.
    pub audiences: Vec<String>,
    /// An expired token is not authenticated.
    pub expired: bool,
    /// The pod (name, UID) the token is bound to, reported in `user.extra` as API servers do.
    pub pod: Option<(String, String)>,
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub uri: String,
    /// `Authorization` header, if any.
    pub authorization: Option<String>,
    /// JSON body, if any.
    pub body: Value,
}

#[derive(Debug, Default)]
struct State {
    objects: BTreeMap<String, Value>,
    tokens: BTreeMap<String, TokenFacts>,
    /// (resourceVersion, type, object) of every change, in order.
    events: Vec<(u64, &'static str, String, Value)>,
    version: u64,
    requests: Vec<Recorded>,
    /// Object path -> (writes still to fail, with this HTTP status).
    failing: BTreeMap<String, (usize, u16)>,
}

/// The local API server. Dropping it stops it.
#[derive(Debug)]
pub struct FakeKube {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeKube {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Body = BoxBody<Bytes, Infallible>;

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FakeKube {
    /// Starts the server on a free port of 127.0.0.1. Panics if no port can be bound: a test
    /// without its API server cannot run.
    #[allow(clippy::expect_used, reason = "test support: fail the test loudly")]
    pub async fn start() -> FakeKube {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake API server");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State::default()));
        let changed = Arc::new(Notify::new());
        let (s, c) = (Arc::clone(&state), Arc::clone(&changed));
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (s, c) = (Arc::clone(&s), Arc::clone(&c));
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let (s, c) = (Arc::clone(&s), Arc::clone(&c));
                        async move { Ok::<_, Infallible>(handle(req, s, c).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FakeKube {
            addr,
            state,
            changed,
            task,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A kubeconfig document for this server, authenticating with `token`.
    pub fn kubeconfig(&self, token: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {url}\n\
             users:\n- name: lanyard\n  user:\n    token: {token}\n\
             contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: lanyard\n\
             current-context: fake\n",
            url = self.url()
        )
    }

    /// Registers a token `TokenReview` will know.
    pub fn add_token(&self, token: &str, facts: TokenFacts) {
        lock(&self.state).tokens.insert(token.to_owned(), facts);
    }

    /// Creates or replaces the object at `path` (e.g. [`pod_path`]); sets its resourceVersion.
    pub fn put(&self, path: &str, object: Value) {
        let mut st = lock(&self.state);
        let kind = if st.objects.contains_key(path) {
            "MODIFIED"
        } else {
            "ADDED"
        };
        store(&mut st, path, kind, object);
        drop(st);
        self.changed.notify_waiters();
    }

    /// Deletes the object at `path`, if any.
    pub fn delete(&self, path: &str) {
        let mut st = lock(&self.state);
        if let Some(mut object) = st.objects.remove(path) {
            st.version += 1;
            let version = st.version;
            object["metadata"]["resourceVersion"] = json!(version.to_string());
            st.events
                .push((version, "DELETED", path.to_owned(), object));
        }
        drop(st);
        self.changed.notify_waiters();
    }

    /// The object at `path`, as currently stored.
    pub fn get(&self, path: &str) -> Option<Value> {
        lock(&self.state).objects.get(path).cloned()
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.state).requests.clone()
    }

    /// Makes the next `times` writes (`POST`, `PUT`, `PATCH`) of the object at `path` fail with
    /// HTTP status `code` and the `Status` body the API server sends with it (409: someone else
    /// wrote first; 500, 503, 429: the API server failing or throttling).
    pub fn fail_writes(&self, path: &str, times: usize, code: u16) {
        lock(&self.state)
            .failing
            .insert(path.to_owned(), (times, code));
    }
}

/// The API path of a ConfigMap.
pub fn configmap_path(namespace: &str, name: &str) -> String {
    format!("/api/v1/namespaces/{namespace}/configmaps/{name}")
}

/// The API path of a `coordination.k8s.io/v1` Lease.
pub fn lease_path(namespace: &str, name: &str) -> String {
    format!("/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}")
}

/// The API path of a pod.
pub fn pod_path(namespace: &str, name: &str) -> String {
    format!("/api/v1/namespaces/{namespace}/pods/{name}")
}

/// The API path of a node.
pub fn node_path(name: &str) -> String {
    format!("/api/v1/nodes/{name}")
}

/// The API path of a namespace.
pub fn namespace_path(name: &str) -> String {
    format!("/api/v1/namespaces/{name}")
}

fn full(status: StatusCode, body: &Value) -> Response<Body> {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())).boxed());
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp
}

/// A `Status` failure object, as the API server sends with errors.
fn failure(code: StatusCode, reason: &str, message: String) -> Response<Body> {
    full(
        code,
        &json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": message, "reason": reason, "code": code.as_u16(),
        }),
    )
}

/// Whether the object at `item` belongs to the collection `collection` (directly, or across
/// namespaces for `/api/v1/pods`-style paths).
fn in_collection(item: &str, collection: &str) -> bool {
    if let Some(rest) = item
        .strip_prefix(collection)
        .and_then(|r| r.strip_prefix('/'))
    {
        return !rest.contains('/');
    }
    let Some((prefix, resource)) = collection.rsplit_once('/') else {
        return false;
    };
    let Some(rest) = item
        .strip_prefix(prefix)
        .and_then(|r| r.strip_prefix("/namespaces/"))
    else {
        return false;
    };
    let parts: Vec<&str> = rest.split('/').collect();
    parts.len() == 3 && parts[1] == resource
}

fn query_param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

fn list_kind(collection: &str) -> String {
    let resource = collection.rsplit('/').next().unwrap_or_default();
    match resource {
        "pods" => "PodList".to_owned(),
        "nodes" => "NodeList".to_owned(),
        "namespaces" => "NamespaceList".to_owned(),
        other => format!("{other}List"),
    }
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
) -> Response<Body> {
    let method = req.method().clone();
    let uri = req.uri().clone();
    let authorization = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    lock(&state).requests.push(Recorded {
        method: method.to_string(),
        uri: uri.to_string(),
        authorization,
        body: body.clone(),
    });
    let path = uri.path().trim_end_matches('/').to_owned();
    let query = uri.query().unwrap_or_default().to_owned();

    if method == Method::POST && path == "/apis/authentication.k8s.io/v1/tokenreviews" {
        return full(StatusCode::CREATED, &token_review(&state, body));
    }
    if method == Method::POST || method == Method::PUT || method == Method::PATCH {
        let target = if method == Method::POST {
            format!(
                "{path}/{}",
                body["metadata"]["name"].as_str().unwrap_or_default()
            )
        } else {
            path.trim_end_matches("/status").to_owned()
        };
        if let Some(failed) = injected_failure(&state, &target) {
            return failed;
        }
    }
    if method == Method::POST {
        return create(&state, &changed, &path, body);
    }
    if method == Method::PUT {
        return replace(&state, &changed, &path, body);
    }
    if method == Method::PATCH {
        return patch(&state, &changed, &path, body);
    }
    if method != Method::GET {
        return failure(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("{method} {path} is not supported by the fake"),
        );
    }
    if let Some(object) = lock(&state).objects.get(&path).cloned() {
        return full(StatusCode::OK, &object);
    }
    if query_param(&query, "watch") == Some("true") || query_param(&query, "watch") == Some("1") {
        let from: u64 = query_param(&query, "resourceVersion")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        return watch(state, changed, path, from);
    }
    let st = lock(&state);
    let items: Vec<Value> = st
        .objects
        .iter()
        .filter(|(p, _)| in_collection(p, &path))
        .map(|(_, o)| o.clone())
        .collect();
    if items.is_empty() && !is_collection(&path) {
        let name = path.rsplit('/').next().unwrap_or_default();
        let resource = path.rsplit('/').nth(1).unwrap_or_default();
        return failure(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("{resource} \"{name}\" not found"),
        );
    }
    full(
        StatusCode::OK,
        &json!({
            "apiVersion": "v1",
            "kind": list_kind(&path),
            "metadata": {"resourceVersion": st.version.to_string()},
            "items": items,
        }),
    )
}

/// Collections the fake serves (plural resource names at the end of the path).
fn is_collection(path: &str) -> bool {
    matches!(
        path.rsplit('/').next(),
        Some("pods" | "nodes" | "namespaces" | "clusterspiffeids" | "configmaps" | "leases")
    )
}

/// The resource and name of an object path, for messages: (`configmaps`, `name`).
fn resource_and_name(path: &str) -> (&str, &str) {
    let mut parts = path.rsplit('/');
    let name = parts.next().unwrap_or_default();
    (parts.next().unwrap_or_default(), name)
}

/// The `409 Conflict` of a write on an outdated `resourceVersion`, worded as the API server's.
fn conflict(path: &str) -> Response<Body> {
    let (resource, name) = resource_and_name(path);
    failure(
        StatusCode::CONFLICT,
        "Conflict",
        format!(
            "Operation cannot be fulfilled on {resource} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
        ),
    )
}

/// The failure [`FakeKube::fail_writes`] asked for on `target`, if any is left.
fn injected_failure(state: &Mutex<State>, target: &str) -> Option<Response<Body>> {
    let mut st = lock(state);
    let (left, code) = st.failing.get_mut(target)?;
    if *left == 0 {
        return None;
    }
    *left -= 1;
    let code = *code;
    drop(st);
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    Some(match code {
        409 => conflict(target),
        429 => failure(
            status,
            "TooManyRequests",
            "the server has received too many requests and has asked us to try again later"
                .to_owned(),
        ),
        503 => failure(
            status,
            "ServiceUnavailable",
            "the server is currently unable to handle the request".to_owned(),
        ),
        _ => failure(
            status,
            "InternalError",
            "Internal error occurred: injected by the test".to_owned(),
        ),
    })
}

/// Whether a write's `metadata.resourceVersion`, if it carries one, is not the stored one.
fn outdated(stored: &Value, written: &Value) -> bool {
    match written["metadata"]["resourceVersion"].as_str() {
        Some(rv) => stored["metadata"]["resourceVersion"].as_str() != Some(rv),
        None => false,
    }
}

/// Stores `object` at `path` under a new resourceVersion and records the watch event.
fn store(st: &mut State, path: &str, kind: &'static str, mut object: Value) -> Value {
    st.version += 1;
    let version = st.version;
    object["metadata"]["resourceVersion"] = json!(version.to_string());
    st.objects.insert(path.to_owned(), object.clone());
    st.events
        .push((version, kind, path.to_owned(), object.clone()));
    object
}

/// `POST` to a collection: creates the object the body names, `409 AlreadyExists` if one has
/// that name.
fn create(
    state: &Mutex<State>,
    changed: &Notify,
    collection: &str,
    mut body: Value,
) -> Response<Body> {
    let Some(name) = body["metadata"]["name"].as_str().map(str::to_owned) else {
        return failure(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            "metadata.name: Required value: name or generateName is required".to_owned(),
        );
    };
    let target = format!("{collection}/{name}");
    let mut st = lock(state);
    if st.objects.contains_key(&target) {
        let (resource, _) = resource_and_name(&target);
        return failure(
            StatusCode::CONFLICT,
            "AlreadyExists",
            format!("{resource} \"{name}\" already exists"),
        );
    }
    if let Some(ns) = collection
        .split("/namespaces/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
    {
        body["metadata"]["namespace"] = json!(ns);
    }
    body["metadata"]["uid"] = json!(format!("00000000-0000-4000-8000-{:012}", st.version + 1));
    body["metadata"]["creationTimestamp"] = json!("2026-01-01T00:00:00Z");
    let object = store(&mut st, &target, "ADDED", body);
    drop(st);
    changed.notify_waiters();
    full(StatusCode::CREATED, &object)
}

/// What a `PUT` or `PATCH` of `path` updates: the object's path, whether only its status
/// (`.../status`), and the object as stored; or the answer when it is missing or the write
/// carries an outdated `resourceVersion` (a precondition, as on the API server).
fn to_update(
    st: &State,
    path: &str,
    body: &Value,
) -> Result<(String, bool, Value), Box<Response<Body>>> {
    let (target, status_only) = match path.strip_suffix("/status") {
        Some(p) => (p.to_owned(), true),
        None => (path.to_owned(), false),
    };
    let Some(old) = st.objects.get(&target).cloned() else {
        let (resource, name) = resource_and_name(&target);
        return Err(Box::new(failure(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("{resource} \"{name}\" not found"),
        )));
    };
    if outdated(&old, body) {
        return Err(Box::new(conflict(&target)));
    }
    Ok((target, status_only, old))
}

/// `PUT`: replaces the object (its status only, for `.../status`), conditional on the
/// body's `resourceVersion` when it carries one.
fn replace(state: &Mutex<State>, changed: &Notify, path: &str, body: Value) -> Response<Body> {
    let mut st = lock(state);
    let (target, status_only, old) = match to_update(&st, path, &body) {
        Ok(update) => update,
        Err(answer) => return *answer,
    };
    let (_, name) = resource_and_name(&target);
    if body["metadata"]["name"].as_str() != Some(name) {
        return failure(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the name of the object does not match the name on the URL".to_owned(),
        );
    }
    let object = if status_only {
        let mut o = old.clone();
        o["status"] = body.get("status").cloned().unwrap_or(Value::Null);
        o
    } else {
        let mut o = body;
        for kept in ["uid", "creationTimestamp", "namespace"] {
            if let Some(v) = old["metadata"].get(kept) {
                o["metadata"][kept] = v.clone();
            }
        }
        o
    };
    let object = store(&mut st, &target, "MODIFIED", object);
    drop(st);
    changed.notify_waiters();
    full(StatusCode::OK, &object)
}

/// `PATCH` (JSON merge): `.../<name>/status` sets `status`.
fn patch(state: &Mutex<State>, changed: &Notify, path: &str, body: Value) -> Response<Body> {
    let mut st = lock(state);
    let (target, status_only, mut object) = match to_update(&st, path, &body) {
        Ok(update) => update,
        Err(answer) => return *answer,
    };
    if status_only {
        object["status"] = body.get("status").cloned().unwrap_or(Value::Null);
    } else {
        merge(&mut object, &body);
    }
    let object = store(&mut st, &target, "MODIFIED", object);
    drop(st);
    changed.notify_waiters();
    full(StatusCode::OK, &object)
}

/// JSON merge patch (RFC 7386).
fn merge(target: &mut Value, patch: &Value) {
    match (target.as_object_mut(), patch.as_object()) {
        (Some(t), Some(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        _ => *target = patch.clone(),
    }
}

/// Streams watch events of `collection` after resourceVersion `from`, as newline-delimited JSON.
fn watch(
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
    collection: String,
    from: u64,
) -> Response<Body> {
    let (tx, rx) = mpsc::channel::<Result<Frame<Bytes>, Infallible>>(16);
    tokio::spawn(async move {
        let mut seen = from;
        loop {
            let notified = changed.notified();
            let batch: Vec<(u64, &'static str, Value)> = lock(&state)
                .events
                .iter()
                .filter(|(v, _, p, _)| *v > seen && in_collection(p, &collection))
                .map(|(v, t, _, o)| (*v, *t, o.clone()))
                .collect();
            for (v, kind, object) in batch {
                seen = v;
                let line = format!("{}\n", json!({"type": kind, "object": object}));
                if tx.send(Ok(Frame::data(Bytes::from(line)))).await.is_err() {
                    return;
                }
            }
            tokio::select! {
                () = notified => {}
                () = tx.closed() => return,
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    let mut resp = Response::new(StreamBody::new(stream).boxed());
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp
}

fn token_review(state: &Mutex<State>, review: Value) -> Value {
    let token = review["spec"]["token"].as_str().unwrap_or_default();
    let wanted: Vec<String> = review["spec"]["audiences"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let facts = lock(state).tokens.get(token).cloned();
    let status = match facts {
        None => {
            json!({"authenticated": false, "error": "[invalid bearer token, square/go-jose: error in cryptographic primitive]"})
        }
        Some(f) if f.expired => {
            json!({"authenticated": false, "error": "[invalid bearer token, service account token has expired]"})
        }
        Some(f) => {
            let matched: Vec<&String> = if wanted.is_empty() {
                f.audiences.iter().collect()
            } else {
                wanted.iter().filter(|a| f.audiences.contains(a)).collect()
            };
            if matched.is_empty() {
                json!({"authenticated": false, "error": format!(
                    "[invalid bearer token, token audiences {:?} is invalid for the target audiences {:?}]",
                    f.audiences, wanted
                )})
            } else {
                let mut extra = serde_json::Map::new();
                if let Some((name, uid)) = &f.pod {
                    extra.insert(
                        "authentication.kubernetes.io/pod-name".into(),
                        json!([name]),
                    );
                    extra.insert("authentication.kubernetes.io/pod-uid".into(), json!([uid]));
                }
                json!({
                    "authenticated": true,
                    "user": {
                        "username": f.username,
                        "uid": "00000000-0000-0000-0000-000000000001",
                        "groups": ["system:serviceaccounts", "system:authenticated"],
                        "extra": extra,
                    },
                    "audiences": matched,
                })
            }
        }
    };
    json!({
        "kind": "TokenReview",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"creationTimestamp": null},
        "spec": review["spec"],
        "status": status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collections_hold_their_items_only() {
        assert!(in_collection("/api/v1/nodes/n1", "/api/v1/nodes"));
        assert!(in_collection("/api/v1/namespaces/a/pods/p", "/api/v1/pods"));
        assert!(in_collection(
            "/api/v1/namespaces/a/pods/p",
            "/api/v1/namespaces/a/pods"
        ));
        assert!(!in_collection(
            "/api/v1/namespaces/b/pods/p",
            "/api/v1/namespaces/a/pods"
        ));
        assert!(in_collection("/api/v1/namespaces/a", "/api/v1/namespaces"));
        assert!(!in_collection(
            "/api/v1/namespaces/a/pods/p",
            "/api/v1/namespaces"
        ));
        assert!(in_collection(
            "/apis/lanyard.dev/v1alpha1/clusterspiffeids/x",
            "/apis/lanyard.dev/v1alpha1/clusterspiffeids"
        ));
    }
}
