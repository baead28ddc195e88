//! Join-token attestation: a single-use, expiring secret that an operator hands to one agent.
//!
//! The token is consumed atomically in the datastore (exactly one of any number of concurrent
//! attestations with it succeeds). The agent's ID was fixed when the token was generated and
//! never contains the token.

use lanyard_datastore::{Datastore, DatastoreError};
use lanyard_id::TrustDomain;

use super::{AttestError, Attested, Challenger, NodeAttestor};

/// The `join_token` attestor.
#[derive(Debug, Clone)]
pub struct JoinTokenAttestor {
    ds: Datastore,
    td: TrustDomain,
}

impl JoinTokenAttestor {
    /// An attestor consuming tokens from `ds`.
    pub fn new(ds: Datastore, td: TrustDomain) -> Self {
        Self { ds, td }
    }
}

/// A fresh agent ID for a token that was stored without one.
pub fn generated_agent_id(td: &TrustDomain) -> Result<lanyard_id::SpiffeId, AttestError> {
    let mut bytes = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| AttestError::Rejected("system random generator failed".into()))?;
    td.id_with_path(&format!("/lanyard/agent/join_token/{}", hex::encode(bytes)))
        .map_err(|e| AttestError::Rejected(e.to_string()))
}

#[tonic::async_trait]
impl NodeAttestor for JoinTokenAttestor {
    fn name(&self) -> &'static str {
        "join_token"
    }

    async fn attest(
        &self,
        payload: &[u8],
        _challenger: &mut dyn Challenger,
        now: i64,
    ) -> Result<Attested, AttestError> {
        let token = std::str::from_utf8(payload)
            .ok()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                AttestError::InvalidEvidence(
                    "join_token payload must be the token as UTF-8 text".into(),
                )
            })?;
        let jt = match self.ds.consume_join_token(token, now).await {
            Ok(jt) => jt,
            Err(DatastoreError::TokenNotFound) => {
                return Err(AttestError::Rejected(
                    "join token is unknown or was already used: generate a new one with \
                     `lanyard-server token generate`"
                        .into(),
                ));
            }
            Err(DatastoreError::TokenExpired) => {
                return Err(AttestError::Rejected(
                    "join token has expired: generate a new one with `lanyard-server token generate`"
                        .into(),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        let agent_id = match jt.spiffe_id {
            Some(id) => id,
            None => generated_agent_id(&self.td)?,
        };
        Ok(Attested {
            agent_id,
            selectors: Vec::new(),
            reattestable: false,
        })
    }
}
