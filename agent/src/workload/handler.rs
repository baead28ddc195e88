//! The `SpiffeWorkloadAPI` gRPC service: per call, check the security header, identify and
//! attest the caller, re-check it is the same process, then stream its full state from the
//! [`SvidStore`] (SPIFFE Workload API §4.3: every message carries the full set; the first is
//! sent at once).
//!
//! Status codes (SPIFFE Workload Endpoint §6): header missing → `InvalidArgument`; agent not
//! synced yet or attestation failed → `Unavailable`; no matching entry → `PermissionDenied`
//! "no identity issued" (the text clients key on); caller process changed during attestation →
//! `PermissionDenied` ("process changed since it connected" when it executed another program);
//! attestation slower than the handler's deadline → `Unavailable`; `FetchJWTSVID` without
//! audience, `ValidateJWTSVID` without audience or token, an audience beyond `lanyard_jwt`'s
//! bounds (more than 16 values, or one longer than 512 bytes), or a token that fails validation
//! → `InvalidArgument`; no JWT-SVID could be minted → `Unavailable`.
//!
//! `ValidateJWTSVID` validates with the bundles held for the caller only (its own trust domain
//! and those its entries federate with, [`response::CallerBundles`]): a foreign JWT-SVID whose
//! trust domain's bundle the caller does not hold is refused like one of an unknown domain.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lanyard_proto::workload::spiffe_workload_api_server::SpiffeWorkloadApi;
use std::time::{SystemTime, UNIX_EPOCH};

use lanyard_id::SpiffeId;
use lanyard_proto::workload::{
    JwtBundlesRequest, JwtBundlesResponse, Jwtsvid, JwtsvidRequest, JwtsvidResponse,
    ValidateJwtsvidRequest, ValidateJwtsvidResponse, X509BundlesRequest, X509BundlesResponse,
    X509svidRequest, X509svidResponse,
};
use tokio::sync::watch;
use tonic::metadata::MetadataMap;
use tonic::{Request, Response, Status};

use super::attestor::WorkloadAttestor;
use super::peer::{PeerInfo, ProcessChanged};
use super::response;
use super::response::Denial;
use super::stream::{Caller, ResponseStream, deny, log_issued, stream_updates};
use crate::jwt::JwtMinter;
use crate::metrics::{AttestOutcome, WorkloadMetrics};
use crate::store::{SvidStore, WorkloadSvid};

/// The metadata key every Workload API request must carry with the value `true`
/// (SPIFFE Workload Endpoint §3).
pub const SECURITY_HEADER: &str = "workload.spiffe.io";

/// How long one call's attestation may take by default (see
/// [`WorkloadHandler::with_attestation_timeout`]).
const DEFAULT_ATTESTATION_TIMEOUT: Duration = Duration::from_secs(5);

/// The Workload API service over an [`SvidStore`], a [`JwtMinter`] and a [`WorkloadAttestor`].
#[derive(Clone)]
pub struct WorkloadHandler {
    store: SvidStore,
    jwt: JwtMinter,
    attestor: Arc<dyn WorkloadAttestor>,
    /// The deadline of one call's attestation.
    attestation_timeout: Duration,
    /// Turns true at shutdown, ending every open stream.
    stop: Arc<watch::Sender<bool>>,
    metrics: WorkloadMetrics,
}

impl std::fmt::Debug for WorkloadHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkloadHandler").finish_non_exhaustive()
    }
}

impl WorkloadHandler {
    /// A handler serving `store` and JWT-SVIDs from `jwt` to callers identified by `attestor`.
    pub fn new(
        store: SvidStore,
        jwt: JwtMinter,
        attestor: Arc<dyn WorkloadAttestor>,
    ) -> WorkloadHandler {
        WorkloadHandler {
            store,
            jwt,
            attestor,
            attestation_timeout: DEFAULT_ATTESTATION_TIMEOUT,
            stop: Arc::new(watch::Sender::new(false)),
            metrics: WorkloadMetrics::default(),
        }
    }

    /// Records attestations in `metrics` (by default, in metrics nobody exports).
    pub fn with_metrics(mut self, metrics: WorkloadMetrics) -> WorkloadHandler {
        self.metrics = metrics;
        self
    }

    /// Bounds each call's attestation by `timeout` (default 5 s): a
    /// slower one (a kubelet that does not answer, a huge executable to hash) is answered
    /// `Unavailable` "workload attestation timed out", which clients retry, instead of holding
    /// the call. Work already started (a hash, a pod-list fetch) goes on and is shared with the
    /// next caller that needs it.
    pub fn with_attestation_timeout(mut self, timeout: Duration) -> WorkloadHandler {
        self.attestation_timeout = timeout;
        self
    }

    /// Ends every open stream of this handler (and its clones) with `Unavailable`: tonic's
    /// graceful shutdown waits for open calls, and Workload API streams never end by themselves.
    pub fn stop_streams(&self) {
        self.stop.send_replace(true);
    }

    /// Header check, peer lookup, attestation and the PID-reuse re-check.
    async fn caller<T>(
        &self,
        request: &Request<T>,
        method: &'static str,
    ) -> Result<Caller, Status> {
        check_security_header(request.metadata())?;
        self.attest_caller(request, method).await
    }

    /// [`Self::caller`] without the security header check, for Envoy SDS on the same socket
    /// (Envoy sends no such header; SPIRE exempts SDS from it too).
    pub(super) async fn attest_caller<T>(
        &self,
        request: &Request<T>,
        method: &'static str,
    ) -> Result<Caller, Status> {
        let process = match request.extensions().get::<PeerInfo>() {
            Some(PeerInfo(Ok(process))) => Arc::clone(process),
            Some(PeerInfo(Err(e))) => {
                tracing::warn!(method, error = %e, "denied: cannot identify the caller");
                return Err(Status::internal(format!("cannot identify the caller: {e}")));
            }
            None => {
                tracing::error!(method, "denied: no peer credentials on the connection");
                return Err(Status::internal("caller credentials unavailable"));
            }
        };
        let cred = process.cred();
        let started = Instant::now();
        let attested =
            tokio::time::timeout(self.attestation_timeout, self.attestor.attest(&cred)).await;
        let attested_as = |outcome| self.metrics.attested(outcome, started.elapsed());
        let selectors = match attested {
            Ok(Ok(selectors)) => selectors,
            Ok(Err(e)) => {
                attested_as(AttestOutcome::Failed);
                tracing::warn!(method, pid = cred.pid, error = %e, "denied: workload attestation failed");
                return Err(Status::unavailable("workload attestation failed"));
            }
            Err(_) => {
                attested_as(AttestOutcome::Timeout);
                tracing::warn!(method, pid = cred.pid, timeout = ?self.attestation_timeout, "denied: workload attestation timed out");
                return Err(Status::unavailable("workload attestation timed out"));
            }
        };
        if let Err(changed) = process.check_unchanged() {
            attested_as(AttestOutcome::ProcessChanged);
            tracing::warn!(method, pid = cred.pid, reason = %changed, "denied: caller process changed since it connected");
            return Err(Status::permission_denied(match changed {
                ProcessChanged::Exec { .. } => "process changed since it connected",
                _ => "caller process changed during attestation",
            }));
        }
        attested_as(AttestOutcome::Success);
        Ok(Caller {
            method,
            pid: cred.pid,
            uid: cred.uid,
            selectors,
        })
    }
}

/// SPIFFE Workload Endpoint §6: a request without the header gets `InvalidArgument`. Exactly one
/// value, `true`, is accepted (as SPIRE does).
fn check_security_header(metadata: &MetadataMap) -> Result<(), Status> {
    let mut values = metadata.get_all(SECURITY_HEADER).iter();
    match (values.next(), values.next()) {
        (Some(v), None) if v == "true" => Ok(()),
        (None, _) => Err(Status::invalid_argument(
            "security header missing from request",
        )),
        (Some(_), Some(_)) => Err(Status::invalid_argument(
            "security header workload.spiffe.io sent more than once; send it once, as `true`",
        )),
        (Some(_), None) => Err(Status::invalid_argument(
            "security header workload.spiffe.io must be `true`",
        )),
    }
}

#[tonic::async_trait]
impl SpiffeWorkloadApi for WorkloadHandler {
    type FetchX509SVIDStream = ResponseStream<X509svidResponse>;
    type FetchX509BundlesStream = ResponseStream<X509BundlesResponse>;
    type FetchJWTBundlesStream = ResponseStream<JwtBundlesResponse>;

    async fn fetch_x509svid(
        &self,
        request: Request<X509svidRequest>,
    ) -> Result<Response<Self::FetchX509SVIDStream>, Status> {
        let caller = self.caller(&request, "FetchX509SVID").await?;
        let stream = stream_updates(
            self.store.subscribe(),
            self.stop.subscribe(),
            caller,
            response::x509_svid_response,
        )?;
        Ok(Response::new(stream))
    }

    async fn fetch_x509_bundles(
        &self,
        request: Request<X509BundlesRequest>,
    ) -> Result<Response<Self::FetchX509BundlesStream>, Status> {
        let caller = self.caller(&request, "FetchX509Bundles").await?;
        let stream = stream_updates(
            self.store.subscribe(),
            self.stop.subscribe(),
            caller,
            response::x509_bundles_response,
        )?;
        Ok(Response::new(stream))
    }

    async fn fetch_jwtsvid(
        &self,
        request: Request<JwtsvidRequest>,
    ) -> Result<Response<JwtsvidResponse>, Status> {
        // Workload API §5.3.1: the audience is required. Lanyard bounds it (count and length,
        // `lanyard_jwt::check_audiences`, the server's own bounds) before any work is done for
        // the caller: it keys the token cache and the server signs it.
        check_security_header(request.metadata())?;
        let req = request.get_ref();
        lanyard_jwt::check_audiences(&req.audience)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let wanted = if req.spiffe_id.is_empty() {
            None
        } else {
            Some(SpiffeId::parse(&req.spiffe_id).map_err(|e| {
                Status::invalid_argument(format!(
                    "spiffe_id {:?} is not a SPIFFE ID: {e}",
                    req.spiffe_id
                ))
            })?)
        };
        let caller = self.caller(&request, "FetchJWTSVID").await?;
        let snapshot = self.store.current();
        if !snapshot.ready {
            return Err(deny(&caller, Denial::NotReady));
        }
        let identities: Vec<(Arc<WorkloadSvid>, String)> =
            response::identities(&snapshot, &caller.selectors)
                .into_iter()
                .filter(|(svid, _)| wanted.as_ref().is_none_or(|id| svid.spiffe_id == *id))
                .collect();
        if identities.is_empty() {
            return Err(deny(&caller, Denial::NoIdentity));
        }
        let svids: Vec<Arc<WorkloadSvid>> = identities.iter().map(|(s, _)| Arc::clone(s)).collect();
        let tokens = self
            .jwt
            .tokens(&svids, &request.get_ref().audience)
            .await
            .map_err(|e| {
                tracing::warn!(method = caller.method, pid = caller.pid, error = %e, "no JWT-SVID");
                Status::unavailable(e.to_string())
            })?;
        let resp = JwtsvidResponse {
            svids: identities
                .iter()
                .filter_map(|(svid, hint)| {
                    let token = tokens.iter().find(|t| t.entry_id == svid.entry_id)?;
                    Some(Jwtsvid {
                        spiffe_id: svid.spiffe_id.as_str().to_owned(),
                        svid: token.token.to_string(),
                        hint: hint.clone(),
                    })
                })
                .collect(),
        };
        log_issued(&caller, &resp, false);
        Ok(Response::new(resp))
    }

    async fn fetch_jwt_bundles(
        &self,
        request: Request<JwtBundlesRequest>,
    ) -> Result<Response<Self::FetchJWTBundlesStream>, Status> {
        let caller = self.caller(&request, "FetchJWTBundles").await?;
        let stream = stream_updates(
            self.store.subscribe(),
            self.stop.subscribe(),
            caller,
            response::jwt_bundles_response,
        )?;
        Ok(Response::new(stream))
    }

    async fn validate_jwtsvid(
        &self,
        request: Request<ValidateJwtsvidRequest>,
    ) -> Result<Response<ValidateJwtsvidResponse>, Status> {
        // Workload API §5.3.3: both fields are required; the audience within Lanyard's bound.
        check_security_header(request.metadata())?;
        let req = request.get_ref();
        lanyard_jwt::check_audience(&req.audience)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        if req.svid.is_empty() {
            return Err(Status::invalid_argument("svid must be specified"));
        }
        let caller = self.caller(&request, "ValidateJWTSVID").await?;
        let snapshot = self.store.current();
        // Like FetchJWTBundles: validating uses the bundles, which only callers with an
        // identity may have, and only those held for this caller (its own trust domain and
        // those its entries federate with).
        let domains = match response::caller_bundle_domains(&snapshot, &caller.selectors) {
            Ok(domains) => domains,
            Err(denial) => return Err(deny(&caller, denial)),
        };
        let bundles = response::CallerBundles::new(&snapshot, domains);
        let req = request.into_inner();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        match lanyard_jwt::validate_jwt_svid(&req.svid, &req.audience, &bundles, now) {
            Ok(valid) => {
                tracing::info!(
                    method = caller.method,
                    pid = caller.pid,
                    uid = caller.uid,
                    subject = valid.spiffe_id.as_str(),
                    audience = req.audience,
                    kid = valid.kid,
                    "validated"
                );
                Ok(Response::new(ValidateJwtsvidResponse {
                    spiffe_id: valid.spiffe_id.as_str().to_owned(),
                    claims: Some(response::claims_struct(valid.claims)),
                }))
            }
            Err(e) => {
                tracing::info!(
                    method = caller.method,
                    pid = caller.pid,
                    uid = caller.uid,
                    audience = req.audience,
                    error = %e,
                    "JWT-SVID rejected"
                );
                Err(Status::invalid_argument(format!("JWT-SVID rejected: {e}")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tonic::metadata::MetadataValue;

    use super::*;

    #[test]
    fn security_header_must_be_exactly_true() {
        let mut md = MetadataMap::new();
        assert_eq!(
            check_security_header(&md).unwrap_err().code(),
            tonic::Code::InvalidArgument
        );
        assert!(
            check_security_header(&md)
                .unwrap_err()
                .message()
                .contains("missing"),
            "absent"
        );
        md.insert(SECURITY_HEADER, MetadataValue::from_static("false"));
        let wrong = check_security_header(&md).unwrap_err();
        assert!(wrong.message().contains("must be `true`"), "{wrong:?}");
        md.insert(SECURITY_HEADER, MetadataValue::from_static("true"));
        check_security_header(&md).unwrap();
        md.append(SECURITY_HEADER, MetadataValue::from_static("true"));
        let twice = check_security_header(&md).unwrap_err();
        assert_eq!(twice.code(), tonic::Code::InvalidArgument);
        assert!(twice.message().contains("sent more than once"), "{twice:?}");
    }

    /// An attestor that never answers, like a kubelet that accepts and then says nothing.
    struct Stuck;

    #[tonic::async_trait]
    impl WorkloadAttestor for Stuck {
        async fn attest(
            &self,
            _: &crate::workload::PeerCred,
        ) -> Result<Vec<crate::store::Selector>, crate::workload::AttestError> {
            std::future::pending().await
        }
    }

    #[tokio::test]
    async fn a_stuck_attestation_is_answered_unavailable_at_the_deadline() {
        let handler = WorkloadHandler::new(SvidStore::new(), JwtMinter::new(), Arc::new(Stuck))
            .with_attestation_timeout(Duration::from_millis(50));
        let (a, _b) = tokio::net::UnixStream::pair().unwrap();
        let peer = crate::workload::PeerProcess::from_stream(&a).unwrap();
        let mut request = Request::new(());
        request
            .metadata_mut()
            .insert(SECURITY_HEADER, MetadataValue::from_static("true"));
        request
            .extensions_mut()
            .insert(PeerInfo(Ok(Arc::new(peer))));
        let answer = tokio::time::timeout(
            Duration::from_secs(10),
            handler.caller(&request, "FetchX509SVID"),
        )
        .await
        .expect("the deadline did not cut the attestation off");
        let Err(status) = answer else {
            panic!("a stuck attestation was answered with a caller");
        };
        assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
        assert_eq!(status.message(), "workload attestation timed out");
    }
}
