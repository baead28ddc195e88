//! The `JoinTokens` service: single-use join tokens for the `join_token` node attestor.
//!
//! The token is 32 bytes from the system CSPRNG in hex; the datastore keeps only its SHA-256.
//! The agent ID a token grants is always decided here, at generation: the requested one, or
//! `spiffe://<td>/lanyard/agent/join_token/<32 random hex>`, drawn separately so the ID (which
//! ends up in certificates, logs and entries) never reveals the token.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lanyard_datastore::JoinToken;
use lanyard_id::SpiffeId;
use lanyard_proto::lanyard::admin::v1 as api;
use ring::rand::{SecureRandom as _, SystemRandom};
use tonic::{Request, Response, Status};

use super::caller;
use super::error::status;
use crate::convert::parse_member_id;
use crate::state::{AGENT_ID_PATH, RESERVED_PATH, SERVER_ID_PATH, ServerState, is_under};

/// Token lifetime when the request asks for none (the reference implementation's default).
pub(crate) const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(600);

/// Longest token lifetime accepted: a join token is a bearer secret, not a standing credential.
pub(crate) const MAX_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);

/// Path prefix of generated agent IDs.
const AGENT_PATH: &str = "/lanyard/agent/join_token/";

/// Implements [`api::join_tokens_server::JoinTokens`].
#[derive(Debug, Clone)]
pub(super) struct JoinTokensService {
    pub(super) state: ServerState,
}

fn random_hex(rng: &SystemRandom, bytes: usize) -> Result<String, Status> {
    let mut buf = vec![0u8; bytes];
    rng.fill(&mut buf)
        .map_err(|_| Status::internal("the system random number generator failed"))?;
    Ok(hex::encode(buf))
}

/// Agent IDs that other node attestors assign: a join token must not name one.
const ATTESTOR_OWNED: &[&str] = &[
    "/lanyard/agent/k8s_psat",
    crate::attest::x509pop::AGENT_PATH_PREFIX,
];

/// The requested agent ID, if acceptable: in our trust domain, in the agent namespace
/// ([`AGENT_ID_PATH`]), not in a part of it another attestor assigns, and not the server's.
fn requested_id(state: &ServerState, value: &str) -> Result<SpiffeId, Status> {
    let id = parse_member_id("spiffe_id", value, state.trust_domain())
        .map_err(|e| Status::invalid_argument(format!("`{}` {}", e.field, e.problem)))?;
    if id.is_root() {
        return Err(Status::invalid_argument(format!(
            "`spiffe_id` {value:?} has no path; an agent ID needs one, e.g. spiffe://{}/lanyard/agent/node-1",
            state.trust_domain()
        )));
    }
    let path = id.path();
    if is_under(path, SERVER_ID_PATH) {
        return Err(Status::invalid_argument(format!(
            "`spiffe_id` {value:?} is under {SERVER_ID_PATH}, which is reserved for the server; \
             pick a path under {AGENT_ID_PATH}/, e.g. {AGENT_ID_PATH}/node-1"
        )));
    }
    if !is_under(path, AGENT_ID_PATH) || path == AGENT_ID_PATH {
        return Err(Status::invalid_argument(format!(
            "`spiffe_id` {value:?} is not an agent ID: agent IDs are under {AGENT_ID_PATH}/ \
             (everything else under {RESERVED_PATH}/ is reserved, and an agent must not hold a \
             workload's ID), e.g. {AGENT_ID_PATH}/node-1"
        )));
    }
    if let Some(owned) = ATTESTOR_OWNED.iter().find(|p| is_under(path, p)) {
        return Err(Status::invalid_argument(format!(
            "`spiffe_id` {value:?} is under {owned}/, which its node attestor assigns; \
             pick another path, e.g. {AGENT_ID_PATH}/node-1"
        )));
    }
    Ok(id)
}

/// A token must not take over an attested agent's record: refused while that agent exists
/// (evict it first).
async fn refuse_existing_agent(state: &ServerState, id: &SpiffeId) -> Result<(), Status> {
    match state.datastore().get_agent(id).await.map_err(status)? {
        None => Ok(()),
        Some(agent) if agent.banned => Err(Status::already_exists(format!(
            "agent {id} exists and is banned; a join token cannot bring it back: `lanyard-server agent evict --spiffe-id {id}` first if it should attest again"
        ))),
        Some(_) => Err(Status::already_exists(format!(
            "agent {id} is attested already; a join token for its ID would take over its record. Evict it first (`lanyard-server agent evict --spiffe-id {id}`) or choose another ID"
        ))),
    }
}

fn ttl(seconds: u32) -> Result<Duration, Status> {
    let ttl = match seconds {
        0 => DEFAULT_TOKEN_TTL,
        s => Duration::from_secs(u64::from(s)),
    };
    if ttl > MAX_TOKEN_TTL {
        return Err(Status::invalid_argument(format!(
            "`ttl_seconds` is {seconds}; at most {} (1 day) is allowed, generate a new token later \
             instead",
            MAX_TOKEN_TTL.as_secs()
        )));
    }
    Ok(ttl)
}

#[tonic::async_trait]
impl api::join_tokens_server::JoinTokens for JoinTokensService {
    async fn generate_join_token(
        &self,
        req: Request<api::GenerateJoinTokenRequest>,
    ) -> Result<Response<api::GenerateJoinTokenResponse>, Status> {
        let who = caller(&req);
        let req = req.into_inner();
        let ttl = ttl(req.ttl_seconds)?;
        let rng = SystemRandom::new();
        let spiffe_id = if req.spiffe_id.is_empty() {
            let path = format!("{AGENT_PATH}{}", random_hex(&rng, 16)?);
            self.state
                .trust_domain()
                .id_with_path(&path)
                .map_err(|e| Status::internal(format!("generated agent ID {path:?}: {e}")))?
        } else {
            let id = requested_id(&self.state, &req.spiffe_id)?;
            refuse_existing_agent(&self.state, &id).await?;
            id
        };
        let token = random_hex(&rng, 32)?;
        let expires_at = SystemTime::now()
            .checked_add(ttl)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .and_then(|d| i64::try_from(d.as_secs()).ok())
            .ok_or_else(|| Status::internal("the system clock is out of range"))?;
        self.state
            .datastore()
            .create_join_token(&JoinToken {
                token: token.clone(),
                spiffe_id: Some(spiffe_id.clone()),
                expires_at,
            })
            .await
            .map_err(status)?;
        audit!(
            who,
            "token.generate",
            agent_id = %spiffe_id,
            expires_at,
            "admin generated a join token"
        );
        Ok(Response::new(api::GenerateJoinTokenResponse {
            token,
            expires_at,
            agent_spiffe_id: spiffe_id.to_string(),
        }))
    }
}
