//! `Attest` (node attestation with challenge rounds) and `RenewAgent`.

use std::time::SystemTime;

use lanyard_datastore::AttestedAgent;
use lanyard_proto::lanyard::agent::v1 as pb;
use lanyard_proto::lanyard::types::v1 as types;
use lanyard_x509::{CertInfo, IssuedX509Svid, parse_csr};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use super::{AgentApi, ca_status, datastore_status, unix};
use crate::attest::{AttestError, Challenger};
use crate::convert::bundle_to_pb;

/// The server half of the Attest stream.
pub(crate) type AttestStream = ReceiverStream<Result<pb::AttestResponse, Status>>;

struct StreamChallenger {
    inbound: Streaming<pb::AttestRequest>,
    tx: mpsc::Sender<Result<pb::AttestResponse, Status>>,
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
}

fn attest_status(e: AttestError) -> Status {
    match e {
        AttestError::InvalidEvidence(m) => Status::invalid_argument(m),
        AttestError::Rejected(m) => Status::permission_denied(m),
        AttestError::Datastore(e) => datastore_status(e),
        AttestError::Aborted => Status::cancelled("the agent closed the attestation stream"),
    }
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
        .map_err(datastore_status)?
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
    let mut inbound = request.into_inner();
    let params = match inbound.message().await? {
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
        let mut challenger = StreamChallenger {
            inbound,
            tx: tx.clone(),
        };
        let result = async {
            let now = SystemTime::now();
            let attested = attestor
                .attest(&params.payload, &mut challenger, unix(now))
                .await
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
                .map_err(ca_status)?;
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
                .map_err(datastore_status)?;
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
                    bundle: Some(bundle_to_pb(&bundle, &|_| false)),
                    reattestable: attested.reattestable,
                })),
            })
        }
        .await;
        if let Err(status) = &result {
            tracing::info!(code = ?status.code(), reason = status.message(), remote = ?remote, "attestation denied");
        }
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
