//! Envoy's Secret Discovery Service (SDS v3, `envoy.service.secret.v3.SecretDiscoveryService`)
//! on the Workload API socket, as SPIRE serves it: same socket, same limits, same attestation
//! and PID-reuse defence as the Workload API, and the same per-caller bundles. Which secrets a
//! name means is [`resources`]'s job; this module runs the calls.
//!
//! - `StreamSecrets` follows the xDS state-of-the-world protocol. A request whose
//!   `resource_names` differ from the last (or the first request) is answered with a new version
//!   (`version_info` a counter, `nonce` random). A request echoing the last `response_nonce` is an
//!   ACK, or a NACK when it carries `error_detail`: a NACK is logged and nothing is re-sent until
//!   the caller's secrets or its subscription change. A request with another nonce is stale and
//!   ignored. A new version is pushed when the caller's secrets change (SVID rotation, a bundle
//!   change, an entry added or removed), and only then.
//! - `FetchSecrets` answers once, with no version or nonce.
//! - `DeltaSecrets` is `Unimplemented` (as in SPIRE; Envoy uses `StreamSecrets` by default).
//!
//! Unlike the Workload API, no `workload.spiffe.io` header is required: Envoy does not send it,
//! and SPIRE exempts SDS from it. A caller with no identity is refused `PermissionDenied` "no
//! identity issued" (an agent not synced yet: `Unavailable`), at the call's start and when it
//! later loses its last identity, as the Workload API does.

mod resources;

use std::collections::BTreeSet;
use std::pin::Pin;
use std::sync::Arc;

use envoy_types::pb::envoy::config::core::v3::Node;
use envoy_types::pb::envoy::service::discovery::v3::{
    DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse,
};
use envoy_types::pb::envoy::service::secret::v3::secret_discovery_service_server::SecretDiscoveryService;
use serde::Deserialize;
use tokio::sync::{mpsc, watch};
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};
use zeroize::Zeroize as _;

pub(crate) use resources::{Refusal, Resource, SECRET_TYPE_URL};

use super::WorkloadHandler;
use super::stream::{Caller, deny};
use crate::store::{Snapshot, SvidStore};

/// The most resource names one request may carry.
pub const MAX_RESOURCE_NAMES: usize = 256;

/// `[sds]` in agent.toml: the names of SDS's special resources and how validation contexts are
/// expressed. The keys and defaults are SPIRE's. Every key is documented in
/// `deploy/conf/agent.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SdsConfig {
    /// The resource name of the caller's default (first) identity.
    pub default_svid_name: String,
    /// The resource name of the validation context of the caller's own trust domain.
    pub default_bundle_name: String,
    /// The resource name of the validation context of every trust domain the caller may see.
    pub default_all_bundles_name: String,
    /// Send validation contexts as a plain `trusted_ca` instead of Envoy's SPIFFE certificate
    /// validator config (one Envoy may override it with its node metadata key of this name).
    pub disable_spiffe_cert_validation: bool,
}

impl Default for SdsConfig {
    fn default() -> Self {
        Self {
            default_svid_name: "default".into(),
            default_bundle_name: "ROOTCA".into(),
            default_all_bundles_name: "ALL".into(),
            disable_spiffe_cert_validation: false,
        }
    }
}

impl SdsConfig {
    /// Checks the names: `Err((key, problem))`.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let names = [
            ("sds.default_svid_name", &self.default_svid_name),
            ("sds.default_bundle_name", &self.default_bundle_name),
            (
                "sds.default_all_bundles_name",
                &self.default_all_bundles_name,
            ),
        ];
        for (i, (key, name)) in names.iter().enumerate() {
            if name.trim().is_empty() {
                return Err((key, "must not be empty".into()));
            }
            if name.starts_with("spiffe://") {
                return Err((
                    key,
                    format!(
                        "{name:?} starts with spiffe://, which SDS resource names use for SPIFFE IDs and trust domains: choose a plain name"
                    ),
                ));
            }
            if let Some((other, _)) = names[..i].iter().find(|(_, n)| n == name) {
                return Err((
                    key,
                    format!("{name:?} is also {other}: give each its own name"),
                ));
            }
        }
        Ok(())
    }
}

/// The SDS service over the Workload API handler's attestation and an [`SvidStore`].
#[derive(Clone)]
pub struct SdsHandler {
    workload: WorkloadHandler,
    store: SvidStore,
    config: Arc<SdsConfig>,
    /// Turns true at shutdown, ending every open stream.
    stop: Arc<watch::Sender<bool>>,
}

impl std::fmt::Debug for SdsHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SdsHandler")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl SdsHandler {
    /// Serves `store`'s secrets to callers `workload` attests, named as `config` says.
    pub fn new(workload: WorkloadHandler, store: SvidStore, config: SdsConfig) -> SdsHandler {
        SdsHandler {
            workload,
            store,
            config: Arc::new(config),
            stop: Arc::new(watch::Sender::new(false)),
        }
    }

    /// Ends every open stream with `Unavailable` (see [`WorkloadHandler::stop_streams`]).
    pub fn stop_streams(&self) {
        self.stop.send_replace(true);
    }
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

#[tonic::async_trait]
impl SecretDiscoveryService for SdsHandler {
    type DeltaSecretsStream = BoxStream<DeltaDiscoveryResponse>;
    type StreamSecretsStream = ReceiverStream<Result<DiscoveryResponse, Status>>;

    async fn delta_secrets(
        &self,
        _request: Request<Streaming<DeltaDiscoveryRequest>>,
    ) -> Result<Response<Self::DeltaSecretsStream>, Status> {
        Err(Status::unimplemented(
            "DeltaSecrets is not implemented: use StreamSecrets (Envoy's default for SDS)",
        ))
    }

    async fn stream_secrets(
        &self,
        request: Request<Streaming<DiscoveryRequest>>,
    ) -> Result<Response<Self::StreamSecretsStream>, Status> {
        let caller = self
            .workload
            .attest_caller(&request, "StreamSecrets")
            .await?;
        // Refused at once, as the Workload API refuses, rather than an open stream that never
        // answers.
        if let Err(denial) =
            super::response::caller_bundle_domains(&self.store.current(), &caller.selectors)
        {
            return Err(deny(&caller, denial));
        }
        // One message in flight: a slow reader holds up the task, which then composes from the
        // latest snapshot (intermediate states are skipped; each message is the full state).
        let (tx, rx) = mpsc::channel(1);
        let session = Session {
            caller,
            config: Arc::clone(&self.config),
            tx,
            snapshots: self.store.subscribe(),
            names: None,
            spiffe_validator: false,
            version: 0,
            last: None,
        };
        tokio::spawn(session.run(request.into_inner(), self.stop.subscribe()));
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn fetch_secrets(
        &self,
        request: Request<DiscoveryRequest>,
    ) -> Result<Response<DiscoveryResponse>, Status> {
        let caller = self
            .workload
            .attest_caller(&request, "FetchSecrets")
            .await?;
        let req = request.into_inner();
        let names = check_request(&req)?;
        let spiffe = resources::spiffe_validator(req.node.as_ref(), &self.config);
        let snapshot = self.store.current();
        let secrets =
            resources::secrets(&snapshot, &caller.selectors, &names, &self.config, spiffe)
                .map_err(|refusal| refused(&caller, refusal))?;
        log_issued(&caller, &secrets, "", false);
        Ok(Response::new(DiscoveryResponse {
            type_url: SECRET_TYPE_URL.to_owned(),
            resources: secrets.into_iter().map(|r| r.any).collect(),
            ..DiscoveryResponse::default()
        }))
    }
}

/// The subscribed names of `req` (sorted, without duplicates or empty names), once its type and
/// size are checked.
fn check_request(req: &DiscoveryRequest) -> Result<BTreeSet<String>, Status> {
    if !req.type_url.is_empty() && req.type_url != SECRET_TYPE_URL {
        return Err(Status::invalid_argument(format!(
            "type_url {:?} is not served here: SDS serves {SECRET_TYPE_URL}",
            req.type_url
        )));
    }
    if req.resource_names.len() > MAX_RESOURCE_NAMES {
        return Err(Status::invalid_argument(format!(
            "{} resource names requested; at most {MAX_RESOURCE_NAMES} are served per request",
            req.resource_names.len()
        )));
    }
    Ok(req
        .resource_names
        .iter()
        .filter(|n| !n.is_empty())
        .cloned()
        .collect())
}

fn refused(caller: &Caller, refusal: Refusal) -> Status {
    match refusal {
        Refusal::Denied(denial) => deny(caller, denial),
        Refusal::AllNeedsSpiffeValidator => {
            tracing::warn!(
                method = caller.method,
                pid = caller.pid,
                uid = caller.uid,
                "denied: ALL asked for without the SPIFFE certificate validator"
            );
            Status::invalid_argument(
                "the all-bundles resource needs Envoy's SPIFFE certificate validator (Envoy 1.18 or later, with disable_spiffe_cert_validation off): ask for ROOTCA or a spiffe://<trust domain> bundle instead",
            )
        }
    }
}

fn log_issued(caller: &Caller, secrets: &[Resource], version: &str, update: bool) {
    let served: Vec<&str> = secrets.iter().map(|r| r.name.as_str()).collect();
    tracing::info!(
        method = caller.method,
        pid = caller.pid,
        uid = caller.uid,
        selectors = %selectors_text(caller),
        served = ?served,
        version,
        update,
        "issued"
    );
}

fn selectors_text(caller: &Caller) -> String {
    let all: Vec<String> = caller.selectors.iter().map(ToString::to_string).collect();
    all.join(",")
}

/// The last response sent on a stream; its packed secrets (private keys among them) are wiped
/// when it is replaced or the stream ends. As for the Workload API's streams, the copy handed
/// to tonic is freed, not wiped, once encoded.
struct Sent {
    version: String,
    nonce: String,
    secrets: Vec<Resource>,
}

impl Drop for Sent {
    fn drop(&mut self) {
        for secret in &mut self.secrets {
            secret.any.value.zeroize();
        }
    }
}

/// One `StreamSecrets` call.
struct Session {
    caller: Caller,
    config: Arc<SdsConfig>,
    tx: mpsc::Sender<Result<DiscoveryResponse, Status>>,
    snapshots: watch::Receiver<Arc<Snapshot>>,
    /// The names of the last request that counted; `None` until the first.
    names: Option<BTreeSet<String>>,
    /// How validation contexts are expressed, from the last node the client described.
    spiffe_validator: bool,
    /// The version of the last response sent (0: none yet).
    version: u64,
    last: Option<Sent>,
}

/// What the session does next.
enum Step {
    Continue,
    End,
}

impl Session {
    async fn run(
        mut self,
        mut requests: Streaming<DiscoveryRequest>,
        mut stop: watch::Receiver<bool>,
    ) {
        loop {
            let step = tokio::select! {
                // Graceful shutdown waits for open calls: end them, clients reconnect.
                () = stopped(&mut stop) => {
                    let _ = self
                        .tx
                        .send(Err(Status::unavailable("the agent is shutting down")))
                        .await;
                    Step::End
                }
                () = self.tx.closed() => Step::End,
                request = requests.message() => match request {
                    Ok(Some(request)) => self.on_request(request).await,
                    Ok(None) => Step::End,
                    Err(status) => {
                        tracing::debug!(pid = self.caller.pid, error = %status, "StreamSecrets request stream ended");
                        Step::End
                    }
                },
                changed = self.snapshots.changed(), if self.names.is_some() => match changed {
                    Ok(()) => self.respond(false).await,
                    Err(_) => Step::End,
                },
            };
            if let Step::End = step {
                return;
            }
        }
    }

    async fn on_request(&mut self, req: DiscoveryRequest) -> Step {
        let caller = &self.caller;
        if let Some(last) = &self.last {
            // xDS: a request whose nonce is not the last one sent answers an older response
            // and is ignored.
            if req.response_nonce != last.nonce {
                tracing::debug!(
                    pid = caller.pid,
                    nonce = req.response_nonce,
                    expected = last.nonce,
                    "stale SDS request ignored"
                );
                return Step::Continue;
            }
            match &req.error_detail {
                Some(error) => tracing::warn!(
                    method = caller.method,
                    pid = caller.pid,
                    uid = caller.uid,
                    rejected_version = last.version,
                    version = req.version_info,
                    code = error.code,
                    error = error.message,
                    "client rejected secrets (NACK); nothing is re-sent until they change"
                ),
                None => tracing::debug!(
                    pid = caller.pid,
                    version = req.version_info,
                    "secrets acknowledged (ACK)"
                ),
            }
        }
        let names = match check_request(&req) {
            Ok(names) => names,
            Err(status) => return self.end(status).await,
        };
        if let Some(node) = &req.node {
            self.spiffe_validator = resources::spiffe_validator(Some(node), &self.config);
        } else if self.names.is_none() {
            self.spiffe_validator = resources::spiffe_validator(None::<&Node>, &self.config);
        }
        if self.names.as_ref() == Some(&names) {
            return Step::Continue;
        }
        self.names = Some(names);
        self.respond(true).await
    }

    /// Sends the caller's secrets for the subscribed names if they changed since the last
    /// response (or, `subscribed`, the names did).
    async fn respond(&mut self, subscribed: bool) -> Step {
        let Some(names) = &self.names else {
            return Step::Continue;
        };
        let snapshot = Arc::clone(&self.snapshots.borrow_and_update());
        let secrets = match resources::secrets(
            &snapshot,
            &self.caller.selectors,
            names,
            &self.config,
            self.spiffe_validator,
        ) {
            Ok(secrets) => secrets,
            // An agent that stops being ready keeps serving what the caller already has.
            Err(Refusal::Denied(super::response::Denial::NotReady)) => return Step::Continue,
            Err(refusal) => {
                let status = refused(&self.caller, refusal);
                return self.end(status).await;
            }
        };
        if !subscribed
            && self
                .last
                .as_ref()
                .is_some_and(|last| last.secrets == secrets)
        {
            return Step::Continue;
        }
        self.version += 1;
        let version = self.version.to_string();
        let nonce = nonce();
        log_issued(&self.caller, &secrets, &version, self.last.is_some());
        let response = DiscoveryResponse {
            version_info: version.clone(),
            resources: secrets.iter().map(|r| r.any.clone()).collect(),
            type_url: SECRET_TYPE_URL.to_owned(),
            nonce: nonce.clone(),
            ..DiscoveryResponse::default()
        };
        self.last = Some(Sent {
            version,
            nonce,
            secrets,
        });
        match self.tx.send(Ok(response)).await {
            Ok(()) => Step::Continue,
            Err(_) => Step::End,
        }
    }

    async fn end(&mut self, status: Status) -> Step {
        let _ = self.tx.send(Err(status)).await;
        Step::End
    }
}

/// Completes when `stop` turns true (never, once its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// A fresh response nonce: 8 random bytes in hex (xDS only needs it unique per stream).
fn nonce() -> String {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 8];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        // The system's random source failing is not expected; a nonce still only has to differ
        // from the stream's last one, which the time does.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        return format!("{nanos:x}");
    }
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AgentConfig;

    const BASE: &str = "trust_domain = \"example.org\"\nserver_address = \"127.0.0.1:8081\"\ninsecure_bootstrap = true\n";

    fn parse(table: &str) -> Result<AgentConfig, crate::config::ConfigError> {
        AgentConfig::from_toml(&format!("{BASE}[sds]\n{table}\n"))
    }

    #[test]
    fn sds_keys_default_to_spires_names_and_are_checked() {
        assert_eq!(parse("").unwrap().sds, SdsConfig::default());
        let config = parse("default_svid_name = \"svid\"\ndefault_bundle_name = \"ca\"\ndefault_all_bundles_name = \"all\"\ndisable_spiffe_cert_validation = true").unwrap();
        assert_eq!(
            config.sds,
            SdsConfig {
                default_svid_name: "svid".into(),
                default_bundle_name: "ca".into(),
                default_all_bundles_name: "all".into(),
                disable_spiffe_cert_validation: true,
            }
        );
        let err = parse("default_bundle_name = \"default\"")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("sds.default_bundle_name")
                && err.contains("is also sds.default_svid_name"),
            "{err}"
        );
        let err = parse("default_all_bundles_name = \"spiffe://example.org\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("choose a plain name"), "{err}");
        let err = parse("default_svid_name = \" \"").unwrap_err().to_string();
        assert!(err.contains("must not be empty"), "{err}");
        let err = parse("default_name = \"x\"").unwrap_err().to_string();
        assert!(err.contains("default_name"), "{err}");
    }

    #[test]
    fn requests_of_another_type_or_too_many_names_are_refused() {
        let mut req = DiscoveryRequest {
            resource_names: vec![
                "default".into(),
                String::new(),
                "ROOTCA".into(),
                "default".into(),
            ],
            ..DiscoveryRequest::default()
        };
        assert_eq!(
            check_request(&req).unwrap().into_iter().collect::<Vec<_>>(),
            ["ROOTCA", "default"]
        );
        req.type_url = "type.googleapis.com/envoy.config.listener.v3.Listener".into();
        let status = check_request(&req).unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        req.type_url = SECRET_TYPE_URL.into();
        req.resource_names = vec!["x".into(); MAX_RESOURCE_NAMES + 1];
        let status = check_request(&req).unwrap_err();
        assert!(status.message().contains("at most 256"), "{status:?}");
    }
}
