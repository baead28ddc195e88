//! `Attest` (node attestation with challenge rounds) and `RenewAgent`.
//!
//! `Attest` is the only RPC an unauthenticated caller reaches, so it gives such a caller little
//! (issue 14 item 4): a place among `[agent_api] max_attestations_per_ip` and
//! `max_attestations` in flight (beyond them `ResourceExhausted` at once, never queued); a
//! deadline, `attestation_timeout`, from the stream's opening until the evidence is verified
//! (then `DeadlineExceeded`, and nothing is stored); and, when the server itself fails
//! (datastore, Kubernetes API, CA keys), only an error id to quote, never the error text.

use std::time::{Duration, SystemTime};

use lanyard_datastore::AttestedAgent;
use lanyard_proto::lanyard::agent::v1 as pb;
use lanyard_proto::lanyard::types::v1 as types;
use lanyard_x509::{CertInfo, IssuedX509Svid, parse_csr};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use super::{AgentApi, ca_status, datastore_status, unix};
use crate::attest::{AttestError, Challenger};
use crate::ca::CaError;
use crate::convert::bundle_to_pb;

/// The server half of the Attest stream.
pub(crate) type AttestStream = ReceiverStream<Result<pb::AttestResponse, Status>>;

struct StreamChallenger {
    inbound: Streaming<pb::AttestRequest>,
    tx: mpsc::Sender<Result<pb::AttestResponse, Status>>,
    csr: Vec<u8>,
}

#[tonic::async_trait]
impl Challenger for StreamChallenger {
    async fn challenge(&mut self, challenge: Vec<u8>) -> Result<Vec<u8>, AttestError> {
        let msg = pb::AttestResponse {
            step: Some(pb::attest_response::Step::Challenge(challenge)),
        };
        self.tx
            .send(Ok(msg))
            .await
            .map_err(|_| AttestError::Aborted)?;
        match self.inbound.message().await {
            Ok(Some(pb::AttestRequest {
                step: Some(pb::attest_request::Step::ChallengeResponse(r)),
            })) => Ok(r),
            Ok(Some(_)) => Err(AttestError::InvalidEvidence(
                "expected a challenge_response after a challenge".into(),
            )),
            Ok(None) | Err(_) => Err(AttestError::Aborted),
        }
    }

    fn csr(&self) -> &[u8] {
        &self.csr
    }
}

fn attest_status(e: AttestError) -> Status {
    match e {
        AttestError::InvalidEvidence(m) => Status::invalid_argument(m),
        AttestError::Rejected(m) => Status::permission_denied(m),
        AttestError::Datastore(e) => hidden("datastore", &e),
        AttestError::Unavailable(m) => hidden("attestor dependency", &m),
        AttestError::Aborted => Status::cancelled("the agent closed the attestation stream"),
    }
}

/// A failure of the server's own, told to an unauthenticated caller only as an error id: the
/// text (a datastore URL, a Kubernetes API answer, a key path) stays in the server log.
fn hidden(what: &str, e: &dyn std::fmt::Display) -> Status {
    let id = error_id();
    tracing::error!(error_id = %id, error = %e, "{what} failure during attestation");
    Status::unavailable(format!(
        "attestation failed (error id {id}); the server log has the details"
    ))
}

/// Eight random hex digits, to find one failure in the server log.
fn error_id() -> String {
    let mut bytes = [0u8; 4];
    // A failed random generator leaves zeros: the id is only a search key.
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
    hex::encode(bytes)
}

/// A CA failure during attestation: a CSR the CA refuses is the caller's problem and says so;
/// anything else is the server's.
fn attest_ca_status(e: CaError) -> Status {
    match e {
        CaError::Issue(e) => Status::invalid_argument(e.to_string()),
        other => hidden("CA", &other),
    }
}

fn deadline_exceeded(timeout: Duration) -> Status {
    Status::deadline_exceeded(format!(
        "attestation did not complete within {}: the server ended it",
        humantime::format_duration(timeout)
    ))
}

/// Serial and expiry of a freshly issued SVID, for the agent record.
fn svid_facts(svid: &IssuedX509Svid) -> Result<(String, i64), Status> {
    let info = CertInfo::from_der(svid.leaf.as_bytes())
        .map_err(|e| Status::internal(format!("issued certificate unreadable: {e}")))?;
    Ok((info.serial_hex, unix(svid.not_after)))
}

pub(crate) fn svid_to_pb(svid: &IssuedX509Svid) -> types::X509Svid {
    types::X509Svid {
        cert_chain: svid.chain.iter().map(|c| c.as_bytes().to_vec()).collect(),
        expires_at: unix(svid.not_after),
    }
}

/// A single-use attestation (a join token) must not take over the record of an agent that is
/// attested already: only re-attestable methods re-attest an existing agent.
async fn refuse_takeover(
    state: &crate::state::ServerState,
    id: &lanyard_id::SpiffeId,
) -> Result<(), Status> {
    match state
        .datastore()
        .get_agent(id)
        .await
        .map_err(|e| hidden("datastore", &e))?
    {
        None => Ok(()),
        Some(existing) if existing.banned => {
            tracing::warn!(agent = %id, "banned agent tried to attest");
            Err(Status::permission_denied(format!(
                "agent {id} is banned: an operator must evict it before it can attest again"
            )))
        }
        Some(_) => {
            tracing::warn!(agent = %id, "refused a join token for an agent that is attested already");
            Err(Status::already_exists(format!(
                "agent {id} is attested already; evict it (`lanyard-server agent evict`) before it attests again with a join token"
            )))
        }
    }
}

pub(super) async fn attest(
    api: &AgentApi,
    request: Request<Streaming<pb::AttestRequest>>,
) -> Result<Response<AttestStream>, Status> {
    let remote = request
        .extensions()
        .get::<lanyard_tls::transport::PeerInfo>()
        .and_then(|p| p.remote_addr);
    let slot = api.attests.admit(remote.map(|a| a.ip()))?;
    let timeout = api.limits.attestation_timeout;
    let deadline = tokio::time::Instant::now() + timeout;
    let mut inbound = request.into_inner();
    let first = tokio::time::timeout_at(deadline, inbound.message())
        .await
        .map_err(|_| {
            tracing::info!(remote = ?remote, "attestation timed out before params");
            deadline_exceeded(timeout)
        })?;
    let params = match first? {
        Some(pb::AttestRequest {
            step: Some(pb::attest_request::Step::Params(p)),
        }) => p,
        Some(_) => {
            return Err(Status::invalid_argument(
                "the first Attest message must carry params",
            ));
        }
        None => return Err(Status::invalid_argument("empty Attest stream")),
    };
    let Some(attestor) = api.attestors.get(params.attestation_type.as_str()).cloned() else {
        let mut known: Vec<_> = api.attestors.keys().copied().collect();
        known.sort_unstable();
        return Err(Status::invalid_argument(format!(
            "attestation type {:?} is not enabled on this server; enabled: {}",
            params.attestation_type,
            known.join(", ")
        )));
    };
    // The CSR is checked before any evidence is consumed (a join token is single use).
    let spki = parse_csr(&params.csr)
        .map_err(|e| Status::invalid_argument(format!("agent CSR rejected: {e}")))?;

    let (tx, rx) = mpsc::channel(4);
    let api = api.clone();
    tokio::spawn(async move {
        // Held until the verdict is sent: the place is taken for the whole attestation.
        let _slot = slot;
        let mut challenger = StreamChallenger {
            inbound,
            tx: tx.clone(),
            csr: params.csr.clone(),
        };
        let result = async {
            let now = SystemTime::now();
            // The deadline covers what goes at the caller's pace (its messages, its challenge
            // responses) and the evidence checks. What follows is the server's own work, which
            // is not cut short: a consumed join token must give an agent.
            let attested = tokio::time::timeout_at(
                deadline,
                attestor.attest(&params.payload, &mut challenger, unix(now)),
            )
            .await
            .map_err(|_| deadline_exceeded(timeout))?
            .map_err(attest_status)?;
            let state = &api.state;
            if !attested.reattestable {
                refuse_takeover(state, &attested.agent_id).await?;
            }
            let svid = state
                .ca()
                .sign_x509_svid(
                    &spki,
                    attested.agent_id.clone(),
                    Vec::new(),
                    state.default_x509_ttl(),
                    now,
                )
                .map_err(attest_ca_status)?;
            let (serial, expires_at) = svid_facts(&svid)?;
            let stored = state
                .datastore()
                .upsert_agent(AttestedAgent {
                    spiffe_id: attested.agent_id.clone(),
                    attestation_type: attestor.name().to_owned(),
                    serial: serial.clone(),
                    previous_serial: String::new(),
                    expires_at,
                    banned: false,
                    selectors: attested.selectors.clone(),
                    created_at: 0,
                    last_seen_at: 0,
                    can_reattest: attested.reattestable,
                })
                .await
                .map_err(|e| hidden("datastore", &e))?;
            if stored.banned {
                tracing::warn!(agent = %attested.agent_id, "banned agent tried to attest");
                return Err(Status::permission_denied(format!(
                    "agent {} is banned: an operator must evict it before it can attest again",
                    attested.agent_id
                )));
            }
            tracing::info!(
                target: "audit",
                event = "agent_attested",
                agent = %attested.agent_id,
                attestation_type = attestor.name(),
                selectors = ?attested.selectors,
                serial = %serial,
                expires_at,
                remote = ?remote,
                "agent attested"
            );
            let bundle = api.cache.bundle();
            Ok(pb::AttestResponse {
                step: Some(pb::attest_response::Step::Result(pb::AttestResult {
                    spiffe_id: attested.agent_id.to_string(),
                    svid: Some(svid_to_pb(&svid)),
                    bundle: Some(bundle_to_pb(&bundle, &api.cache.taint())),
                    reattestable: attested.reattestable,
                })),
            })
        }
        .await;
        if let Err(status) = &result {
            tracing::info!(code = ?status.code(), reason = status.message(), remote = ?remote, "attestation denied");
        }
        api.metrics.attested(
            Some(attestor.name()),
            result.as_ref().err().map(Status::code),
        );
        let _ = tx.send(result).await;
    });
    Ok(Response::new(ReceiverStream::new(rx)))
}

pub(super) async fn renew(
    api: &AgentApi,
    agent: AttestedAgent,
    req: pb::RenewAgentRequest,
) -> Result<Response<pb::RenewAgentResponse>, Status> {
    let spki = parse_csr(&req.csr)
        .map_err(|e| Status::invalid_argument(format!("agent CSR rejected: {e}")))?;
    let now = SystemTime::now();
    let state = &api.state;
    let svid = state
        .ca()
        .sign_x509_svid(
            &spki,
            agent.spiffe_id.clone(),
            Vec::new(),
            state.default_x509_ttl(),
            now,
        )
        .map_err(ca_status)?;
    let (serial, expires_at) = svid_facts(&svid)?;
    state
        .datastore()
        .update_agent_serial(&agent.spiffe_id, &serial, expires_at)
        .await
        .map_err(|e| match e {
            lanyard_datastore::DatastoreError::AgentBanned { .. } => {
                Status::permission_denied(format!("agent {} is banned", agent.spiffe_id))
            }
            other => datastore_status(other),
        })?;
    tracing::info!(
        target: "audit",
        event = "agent_renewed",
        agent = %agent.spiffe_id,
        serial = %serial,
        expires_at,
        "agent SVID renewed"
    );
    Ok(Response::new(pb::RenewAgentResponse {
        svid: Some(svid_to_pb(&svid)),
    }))
}

#[cfg(test)]
mod tests;
