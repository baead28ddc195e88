//! Talking to the server: the mTLS channel, node attestation and agent SVID renewal.

use std::net::SocketAddr;
use std::time::SystemTime;

use lanyard_id::{SpiffeId, TrustDomain};
use lanyard_proto::lanyard::agent::v1 as pb;
use lanyard_proto::lanyard::agent::v1::agent_service_client::AgentServiceClient;
use lanyard_tls::{Identity, TrustStore};
use lanyard_x509::{Bundle, CertDer, KeyPair, KeyType, build_csr};
use tonic::transport::Channel;
use zeroize::Zeroizing;

use super::NodeError;

/// The path of the server's SPIFFE ID, which the agent pins.
pub const SERVER_ID_PATH: &str = "/lanyard/server";

/// The server's SPIFFE ID in `td`.
pub fn server_id(td: &TrustDomain) -> SpiffeId {
    match td.id_with_path(SERVER_ID_PATH) {
        Ok(id) => id,
        Err(_) => unreachable!("{SERVER_ID_PATH} is a valid path"),
    }
}

/// A client over a fresh mTLS channel presenting `identity` (if it holds an SVID).
pub fn connect(
    addr: SocketAddr,
    td: &TrustDomain,
    identity: Identity,
    trust: TrustStore,
) -> Result<AgentServiceClient<Channel>, NodeError> {
    let config = lanyard_tls::client_config(identity, trust, server_id(td))
        .map_err(|e| NodeError::Tls(e.to_string()))?;
    Ok(AgentServiceClient::new(lanyard_tls::transport::connect(
        addr, config,
    )))
}

/// The agent's own SVID and key. `Debug` never prints the key; dropping it wipes the key.
#[derive(Clone)]
pub struct AgentSvid {
    /// The agent's SPIFFE ID.
    pub spiffe_id: SpiffeId,
    /// Chain, leaf first.
    pub chain: Vec<CertDer>,
    /// PKCS#8 DER key.
    pub key_pkcs8: Zeroizing<Vec<u8>>,
    /// NotBefore of the leaf.
    pub not_before: SystemTime,
    /// NotAfter of the leaf.
    pub not_after: SystemTime,
}

impl std::fmt::Debug for AgentSvid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentSvid")
            .field("spiffe_id", &self.spiffe_id)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

impl AgentSvid {
    /// Reads ID and validity out of a chain.
    pub fn new(chain: Vec<CertDer>, key_pkcs8: Zeroizing<Vec<u8>>) -> Result<Self, NodeError> {
        let parsed =
            lanyard_x509::parse_x509_svid(&chain).map_err(|e| NodeError::BadSvid(e.to_string()))?;
        Ok(Self {
            spiffe_id: parsed.spiffe_id,
            chain,
            key_pkcs8,
            not_before: parsed.not_before,
            not_after: parsed.not_after,
        })
    }

    /// When the agent renews: half-life ± 10 %, as workload SVIDs, so that a fleet started
    /// together does not renew together. The point is fixed per certificate (drawn from the
    /// last bytes of its signature, which differ between certificates), so asking again after a
    /// reconnect gives the same answer.
    pub fn renew_at(&self) -> SystemTime {
        let der = self.chain.first().map_or(&[][..], |c| c.as_bytes());
        let r = match der {
            [.., a, b] => u16::from_le_bytes([*a, *b]),
            _ => u16::MAX / 2,
        };
        super::workloads::point_of_life(self.not_before, self.not_after, r)
    }

    /// Installs this SVID as the TLS identity.
    pub fn install(&self, identity: &Identity) -> Result<(), NodeError> {
        let chain: Vec<Vec<u8>> = self.chain.iter().map(|c| c.as_bytes().to_vec()).collect();
        identity
            .set(&chain, &self.key_pkcs8)
            .map_err(|e| NodeError::Tls(e.to_string()))
    }
}

fn svid_from_pb(
    svid: Option<lanyard_proto::lanyard::types::v1::X509Svid>,
) -> Result<Vec<CertDer>, NodeError> {
    let svid = svid.ok_or_else(|| NodeError::Protocol("server sent no SVID".into()))?;
    svid.cert_chain
        .into_iter()
        .map(|c| CertDer::from_der(c).map_err(|e| NodeError::BadSvid(e.to_string())))
        .collect()
}

/// Converts a protobuf bundle.
pub fn bundle_from_pb(b: &lanyard_proto::lanyard::types::v1::Bundle) -> Result<Bundle, NodeError> {
    let td = TrustDomain::new(&b.trust_domain)
        .map_err(|e| NodeError::Protocol(format!("bundle trust domain: {e}")))?;
    let mut bundle = Bundle::new(td);
    for a in &b.x509_authorities {
        bundle.add_x509_authority(
            CertDer::from_der(a.asn1.clone())
                .map_err(|e| NodeError::Protocol(format!("bundle authority: {e}")))?,
        );
    }
    // JWT-SVID §6.1: keys are found by `kid`; `expires_at` 0 means "not stated".
    for a in &b.jwt_authorities {
        if a.key_id.is_empty() {
            return Err(NodeError::Protocol(
                "bundle JWT authority without a key id".to_owned(),
            ));
        }
        let expires_at = u64::try_from(a.expires_at)
            .ok()
            .filter(|s| *s > 0)
            .map(|s| std::time::UNIX_EPOCH + std::time::Duration::from_secs(s));
        bundle.jwt_authorities.insert(
            a.key_id.clone(),
            lanyard_x509::JwtAuthority {
                public_key: a.public_key.clone(),
                expires_at,
            },
        );
    }
    bundle.sequence_number = b.sequence_number;
    Ok(bundle)
}

/// Attests with a join token; returns the agent SVID and the server's bundle.
pub async fn attest_join_token(
    client: &mut AgentServiceClient<Channel>,
    token: &str,
) -> Result<(AgentSvid, Bundle), NodeError> {
    attest(client, "join_token", token.as_bytes().to_vec()).await
}

/// Attests with `attestation_type` evidence `payload` (no challenge rounds); returns the agent
/// SVID and the server's bundle.
pub async fn attest(
    client: &mut AgentServiceClient<Channel>,
    attestation_type: &str,
    payload: Vec<u8>,
) -> Result<(AgentSvid, Bundle), NodeError> {
    attest_with(client, attestation_type, payload, None).await
}

/// Answers the server's challenges during one attestation (x509pop's proof of possession).
pub trait ChallengeResponder: Send + Sync {
    /// The `challenge_response` to `challenge`, in the attestation whose CSR (DER) is `csr`.
    fn respond(&self, challenge: &[u8], csr: &[u8]) -> Result<Vec<u8>, NodeError>;
}

/// The most challenge rounds an agent answers in one attestation (x509pop needs one).
pub const MAX_CHALLENGE_ROUNDS: usize = 4;

/// Attests with `attestation_type` evidence `payload`, answering the server's challenges with
/// `responder` (without one, a challenge is a protocol error); returns the agent SVID and the
/// server's bundle.
pub async fn attest_with(
    client: &mut AgentServiceClient<Channel>,
    attestation_type: &str,
    payload: Vec<u8>,
    responder: Option<&dyn ChallengeResponder>,
) -> Result<(AgentSvid, Bundle), NodeError> {
    let key = KeyPair::generate(KeyType::EcP256).map_err(|e| NodeError::Key(e.to_string()))?;
    let csr = build_csr(&key).map_err(|e| NodeError::Key(e.to_string()))?;
    let first = pb::AttestRequest {
        step: Some(pb::attest_request::Step::Params(pb::AttestParams {
            attestation_type: attestation_type.to_owned(),
            payload,
            csr: csr.clone(),
        })),
    };
    // The request stream stays open until the result: challenge responses go on it.
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tx.send(first)
        .await
        .map_err(|_| NodeError::Protocol("attestation stream closed".into()))?;
    let mut stream = client
        .attest(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .map_err(NodeError::Rpc)?
        .into_inner();
    let mut rounds = 0;
    loop {
        let step = match stream.message().await.map_err(NodeError::Rpc)? {
            Some(pb::AttestResponse { step: Some(step) }) => step,
            Some(pb::AttestResponse { step: None }) => {
                return Err(NodeError::Protocol(
                    "the server sent an empty attestation message".into(),
                ));
            }
            None => return Err(NodeError::Protocol("attestation stream ended early".into())),
        };
        match step {
            pb::attest_response::Step::Result(r) => {
                let chain = svid_from_pb(r.svid)?;
                let svid = AgentSvid::new(chain, Zeroizing::new(key.pkcs8_der().to_vec()))?;
                let bundle = bundle_from_pb(r.bundle.as_ref().ok_or_else(|| {
                    NodeError::Protocol("attestation result without bundle".into())
                })?)?;
                return Ok((svid, bundle));
            }
            pb::attest_response::Step::Challenge(challenge) => {
                let Some(responder) = responder else {
                    return Err(NodeError::Protocol(format!(
                        "{attestation_type} attestation needs no challenge, but the server sent one"
                    )));
                };
                rounds += 1;
                if rounds > MAX_CHALLENGE_ROUNDS {
                    return Err(NodeError::Protocol(format!(
                        "the server sent more than {MAX_CHALLENGE_ROUNDS} challenges"
                    )));
                }
                let response = responder.respond(&challenge, &csr)?;
                let answer = pb::AttestRequest {
                    step: Some(pb::attest_request::Step::ChallengeResponse(response)),
                };
                tx.send(answer)
                    .await
                    .map_err(|_| NodeError::Protocol("attestation stream closed".into()))?;
            }
        }
    }
}

/// Renews the agent SVID (the channel must present the current one).
pub async fn renew(client: &mut AgentServiceClient<Channel>) -> Result<AgentSvid, NodeError> {
    let key = KeyPair::generate(KeyType::EcP256).map_err(|e| NodeError::Key(e.to_string()))?;
    let csr = build_csr(&key).map_err(|e| NodeError::Key(e.to_string()))?;
    let resp = client
        .renew_agent(pb::RenewAgentRequest { csr })
        .await
        .map_err(NodeError::Rpc)?
        .into_inner();
    AgentSvid::new(
        svid_from_pb(resp.svid)?,
        Zeroizing::new(key.pkcs8_der().to_vec()),
    )
}

#[cfg(test)]
mod bundle_from_pb_tests {
    use lanyard_proto::lanyard::types::v1 as types;

    use super::*;

    #[test]
    fn keeps_jwt_authorities_by_kid() {
        let b = types::Bundle {
            trust_domain: "example.org".to_owned(),
            jwt_authorities: vec![types::JwtAuthority {
                key_id: "k1".to_owned(),
                public_key: vec![1, 2, 3],
                expires_at: 1_700_000_000,
                tainted: false,
            }],
            sequence_number: 7,
            ..Default::default()
        };
        let bundle = bundle_from_pb(&b).unwrap();
        let a = &bundle.jwt_authorities["k1"];
        assert_eq!(a.public_key, vec![1, 2, 3]);
        assert_eq!(
            a.expires_at,
            Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000))
        );
        assert_eq!(bundle.sequence_number, 7);

        let mut no_kid = b.clone();
        no_kid.jwt_authorities[0].key_id.clear();
        assert!(bundle_from_pb(&no_kid).is_err());
    }
}
