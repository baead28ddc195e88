//! The agent API (`lanyard.agent.v1.AgentService`) over SPIFFE mTLS.
//!
//! Every RPC but `Attest` identifies the agent by its client X.509-SVID (verified in the TLS
//! handshake against the trust bundle), then checks the datastore: the agent must be attested,
//! not banned, and present its current SVID (the serial recorded at attestation or renewal) or
//! the one its last renewal replaced.
//! Authorization comes from the [`EntryCache`]: an agent gets only entries parented by its ID or
//! its node aliases, and every SVID's ID, DNS names and TTL come from the entry, never from the CSR.

mod attest;
pub mod connections;
mod jwt;
mod limits;
mod sign;
mod sync;

pub(crate) use jwt::check_audience;
pub use limits::{AgentApiLimits, QUEUED_SIGNS_PER_AGENT};

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lanyard_datastore::{AttestedAgent, DatastoreError};
use lanyard_proto::lanyard::agent::v1 as pb;
use lanyard_proto::lanyard::agent::v1::agent_service_server::AgentService;
use lanyard_tls::transport::PeerInfo;
use lanyard_x509::{Bundle, CertInfo};
use tonic::{Request, Response, Status, Streaming};

use crate::attest::NodeAttestor;
use crate::ca::CaError;
use crate::cache::EntryCache;
use crate::metrics::ServerMetrics;
use crate::state::ServerState;

/// Most items one signing call (`BatchSignX509Svids` items, `MintJwtSvids` entry IDs) may
/// carry: 500. More is refused with `InvalidArgument` before any work, so one call's CPU is
/// bounded (and the per-agent signing limit bounds how many calls of one agent run at once).
pub const MAX_BATCH: usize = 500;

/// How often an idle Sync stream carries a heartbeat.
pub const HEARTBEAT: Duration = Duration::from_secs(30);

/// The `AgentService` implementation.
#[derive(Debug, Clone)]
pub struct AgentApi {
    state: ServerState,
    cache: EntryCache,
    attestors: Arc<HashMap<&'static str, Arc<dyn NodeAttestor>>>,
    limits: AgentApiLimits,
    signs: Arc<limits::SignLimiter>,
    attests: Arc<limits::AttestLimiter>,
    authority_keys: Arc<AuthorityKeys>,
    metrics: ServerMetrics,
}

impl AgentApi {
    /// The service over `state` and `cache`, accepting the given attestation methods.
    pub fn new(
        state: ServerState,
        cache: EntryCache,
        attestors: Vec<Arc<dyn NodeAttestor>>,
    ) -> Self {
        let bounds = AgentApiLimits::default();
        Self {
            state,
            cache,
            attestors: Arc::new(attestors.into_iter().map(|a| (a.name(), a)).collect()),
            limits: bounds,
            signs: Arc::new(limits::SignLimiter::new(
                bounds.max_concurrent_signs_per_agent,
            )),
            attests: Arc::new(limits::AttestLimiter::new(
                bounds.max_attestations_per_ip,
                bounds.max_attestations,
            )),
            authority_keys: Arc::default(),
            metrics: ServerMetrics::default(),
        }
    }

    /// The service recording into `metrics` (by default, into metrics nobody exports).
    #[must_use]
    pub fn with_metrics(self, metrics: ServerMetrics) -> Self {
        Self { metrics, ..self }
    }

    /// The service with `bounds` instead of the defaults.
    #[must_use]
    pub fn with_limits(self, bounds: AgentApiLimits) -> Self {
        Self {
            limits: bounds,
            signs: Arc::new(limits::SignLimiter::new(
                bounds.max_concurrent_signs_per_agent,
            )),
            attests: Arc::new(limits::AttestLimiter::new(
                bounds.max_attestations_per_ip,
                bounds.max_attestations,
            )),
            ..self
        }
    }

    /// Identifies and checks the calling agent.
    async fn authenticate<T>(&self, req: &Request<T>) -> Result<AttestedAgent, Status> {
        self.authenticate_svid(req, Authority::MustBeTrusted)
            .await
            .map(|(agent, _)| agent)
    }

    /// Identifies and checks the calling agent; also returns the SVID its connection was
    /// authenticated with, which a long-lived call (Sync) keeps checking.
    async fn authenticate_svid<T>(
        &self,
        req: &Request<T>,
        authority: Authority,
    ) -> Result<(AttestedAgent, CallerSvid), Status> {
        let peer = req.extensions().get::<PeerInfo>();
        let (Some(id), Some(leaf)) = (
            peer.and_then(|p| p.spiffe_id.clone()),
            peer.and_then(|p| p.leaf.clone()),
        ) else {
            return Err(Status::unauthenticated(
                "no agent X.509-SVID presented: attest first",
            ));
        };
        let info = CertInfo::from_der(&leaf)
            .map_err(|e| Status::unauthenticated(format!("unreadable client certificate: {e}")))?;
        let svid = CallerSvid {
            serial: info.serial_hex,
            not_after: info.not_after,
            authority_key_id: info.authority_key_id,
        };
        // A connection is authenticated once, at its TLS handshake; the SVID it showed may
        // have expired, or its authority been revoked, since.
        if svid.not_after <= SystemTime::now() {
            return Err(svid.expired(&id));
        }
        // With an upstream CA the bundle holds its roots, not the intermediates that sign
        // agents, and those cannot be revoked (`Ca::revoke` refuses): nothing to check.
        if authority == Authority::MustBeTrusted && !self.state.ca().has_upstream() {
            svid.check_authority(&id, &self.authority_keys.of(&self.cache.bundle()))?;
        }
        let agent = self
            .state
            .datastore()
            .get_agent(&id)
            .await
            .map_err(datastore_status)?
            .ok_or_else(|| {
                Status::permission_denied(format!(
                    "agent {id} is not attested (it may have been evicted): attest again"
                ))
            })?;
        svid.check_record(&agent)?;
        Ok((agent, svid))
    }
}

/// Whether a call may go on over a connection whose SVID's authority has left the bundle since
/// its handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Authority {
    /// Every call but one: the authority must still be in the bundle.
    MustBeTrusted,
    /// `RenewAgent` only: an agent renews its own SVID as soon as it learns its authority is
    /// tainted, over the connection it has; an operator who revokes right after tainting must
    /// not cut it off before that renewal (a new connection under the revoked authority fails
    /// at TLS, and a join-token agent could never come back). The caller must still present its
    /// current, unexpired SVID, so this renews no one else.
    RenewalAllowed,
}

/// The facts of the X.509-SVID an agent's connection was authenticated with.
#[derive(Debug, Clone)]
pub(crate) struct CallerSvid {
    /// Serial number, lowercase hex.
    pub(crate) serial: String,
    /// When it expires.
    pub(crate) not_after: SystemTime,
    /// The key ID of the authority that signed it.
    pub(crate) authority_key_id: Option<Vec<u8>>,
}

impl CallerSvid {
    /// The status for a call on a connection whose SVID has expired.
    pub(crate) fn expired(&self, id: &lanyard_id::SpiffeId) -> Status {
        Status::unauthenticated(format!(
            "the X.509-SVID this connection of agent {id} was authenticated with (serial {}) has expired: reconnect with a current SVID",
            self.serial
        ))
    }

    /// `Unauthenticated` unless the SVID's authority is among `trusted`.
    pub(crate) fn check_authority(
        &self,
        id: &lanyard_id::SpiffeId,
        trusted: &HashSet<Vec<u8>>,
    ) -> Result<(), Status> {
        if !self
            .authority_key_id
            .as_ref()
            .is_some_and(|k| trusted.contains(k))
        {
            return Err(Status::unauthenticated(format!(
                "the X.509-SVID this connection of agent {id} was authenticated with (serial {}) was signed by an authority that is no longer in the bundle (revoked): reconnect with an SVID from a current authority, or attest again",
                self.serial
            )));
        }
        Ok(())
    }

    /// `PermissionDenied` unless `agent` (its datastore record) is not banned and this SVID is
    /// its current one or the one its last renewal replaced.
    pub(crate) fn check_record(&self, agent: &AttestedAgent) -> Result<(), Status> {
        let id = &agent.spiffe_id;
        if agent.banned {
            return Err(Status::permission_denied(format!(
                "agent {id} is banned: an operator must evict it before it can attest again"
            )));
        }
        // The previous serial stays valid until the next renewal: an agent that crashed after the
        // server committed a renewal but before it stored the new SVID must not be locked out.
        let serial = &self.serial;
        let current = agent.serial == *serial;
        let previous = !agent.previous_serial.is_empty() && agent.previous_serial == *serial;
        if !current && !previous {
            return Err(Status::permission_denied(format!(
                "the presented SVID (serial {serial}) is not agent {id}'s current SVID: attest again"
            )));
        }
        Ok(())
    }
}

/// The subject key IDs of the bundle's X.509 authorities, computed once per bundle.
#[derive(Debug, Default)]
pub(crate) struct AuthorityKeys {
    memo: std::sync::Mutex<Option<(Arc<Bundle>, KeyIds)>>,
}

/// A set of subject key IDs.
type KeyIds = Arc<HashSet<Vec<u8>>>;

impl AuthorityKeys {
    /// The key IDs of `bundle`'s X.509 authorities.
    pub(crate) fn of(&self, bundle: &Arc<Bundle>) -> KeyIds {
        let mut memo = self
            .memo
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((b, keys)) = memo.as_ref()
            && Arc::ptr_eq(b, bundle)
        {
            return Arc::clone(keys);
        }
        let keys: KeyIds = Arc::new(
            bundle
                .x509_authorities
                .iter()
                .filter_map(|c| CertInfo::from_der(c.as_bytes()).ok()?.subject_key_id)
                .collect(),
        );
        *memo = Some((Arc::clone(bundle), Arc::clone(&keys)));
        keys
    }
}

/// Unix seconds.
pub(crate) fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Refuses a batch naming one entry twice: it would sign the same thing twice for no reason,
/// and results are matched to requests by entry ID. `field` names the request field.
pub(crate) fn check_unique<'a>(
    field: &str,
    entry_ids: impl ExactSizeIterator<Item = &'a str>,
) -> Result<(), Status> {
    let mut seen = HashSet::with_capacity(entry_ids.len());
    for id in entry_ids {
        if !seen.insert(id) {
            return Err(Status::invalid_argument(format!(
                "entry id {id:?} appears more than once in {field}: name each entry once"
            )));
        }
    }
    Ok(())
}

/// The entry `entry_id` if `agent` may have an SVID signed for it at `now`: it exists, has not
/// expired, and its parent is the agent or one of its node aliases (`parents`, from
/// [`EntryCache::authorized_parents`]). Otherwise the one `PermissionDenied` message for all
/// three cases, so a caller learns nothing about entries that are not its own.
pub(crate) fn authorized_entry(
    cache: &EntryCache,
    agent: &lanyard_id::SpiffeId,
    parents: &std::collections::BTreeSet<lanyard_id::SpiffeId>,
    entry_id: &str,
    now: SystemTime,
) -> Result<Arc<lanyard_datastore::Entry>, lanyard_proto::lanyard::types::v1::Status> {
    match cache.get(entry_id) {
        Some(e) if parents.contains(&e.parent_id) && e.expires_at.is_none_or(|t| t > unix(now)) => {
            Ok(e)
        }
        _ => Err(lanyard_proto::lanyard::types::v1::Status {
            code: tonic::Code::PermissionDenied as i32,
            message: format!(
                "entry {entry_id:?} does not exist, has expired or is not authorized for agent {agent}"
            ),
        }),
    }
}

/// Maps a datastore failure to a status (details stay in the server log).
pub(crate) fn datastore_status(e: DatastoreError) -> Status {
    tracing::error!(error = %e, "datastore failure in agent API");
    Status::unavailable(format!("datastore unavailable: {e}"))
}

/// Maps a CA failure to a status.
pub(crate) fn ca_status(e: CaError) -> Status {
    match e {
        CaError::Issue(e) => Status::invalid_argument(e.to_string()),
        CaError::JwtKey(e @ crate::ca::JwtKeyError::Mint(_)) => {
            Status::invalid_argument(e.to_string())
        }
        other => {
            tracing::error!(error = %other, "CA failure in agent API");
            Status::unavailable(other.to_string())
        }
    }
}

#[tonic::async_trait]
impl AgentService for AgentApi {
    type AttestStream = attest::AttestStream;

    async fn attest(
        &self,
        request: Request<Streaming<pb::AttestRequest>>,
    ) -> Result<Response<Self::AttestStream>, Status> {
        let started = attest::attest(self, request).await;
        // An attestation refused before its stream started (admission, no params, a type that
        // is not enabled, a bad CSR); the others are counted when their verdict is sent.
        if let Err(status) = &started {
            self.metrics.attested(None, Some(status.code()));
        }
        started
    }

    async fn renew_agent(
        &self,
        request: Request<pb::RenewAgentRequest>,
    ) -> Result<Response<pb::RenewAgentResponse>, Status> {
        let (agent, _) = self
            .authenticate_svid(&request, Authority::RenewalAllowed)
            .await?;
        attest::renew(self, agent, request.into_inner()).await
    }

    type SyncStream = sync::SyncStream;

    async fn sync(
        &self,
        request: Request<pb::SyncRequest>,
    ) -> Result<Response<Self::SyncStream>, Status> {
        let (agent, svid) = self
            .authenticate_svid(&request, Authority::MustBeTrusted)
            .await?;
        Ok(Response::new(sync::open(self.clone(), agent, svid)))
    }

    async fn batch_sign_x509_svids(
        &self,
        request: Request<pb::BatchSignX509SvidsRequest>,
    ) -> Result<Response<pb::BatchSignX509SvidsResponse>, Status> {
        let agent = self.authenticate(&request).await?;
        sign::batch_sign(self, agent, request.into_inner()).await
    }

    async fn mint_jwt_svids(
        &self,
        request: Request<pb::MintJwtSvidsRequest>,
    ) -> Result<Response<pb::MintJwtSvidsResponse>, Status> {
        let agent = self.authenticate(&request).await?;
        jwt::mint(self, agent, request.into_inner()).await
    }
}

/// An agent attested with a join token, for the agent API's unit tests.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
fn test_agent(
    spiffe_id: &str,
    serial: &str,
    selectors: Vec<lanyard_datastore::Selector>,
) -> AttestedAgent {
    AttestedAgent {
        spiffe_id: lanyard_id::SpiffeId::parse(spiffe_id).unwrap(),
        attestation_type: "join_token".to_owned(),
        serial: serial.to_owned(),
        previous_serial: String::new(),
        expires_at: i64::MAX,
        banned: false,
        selectors,
        created_at: 0,
        last_seen_at: 0,
        can_reattest: false,
    }
}

/// A server's state on a fresh SQLite datastore in `dir` (EC P-256 CA, one-hour CA TTL), for
/// the agent API's unit tests.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
async fn test_server(
    dir: &std::path::Path,
) -> (
    lanyard_datastore::Datastore,
    lanyard_id::TrustDomain,
    ServerState,
) {
    const CA_TTL: Duration = Duration::from_secs(3600);
    let ds = lanyard_datastore::Datastore::connect(dir.join("ds.sqlite3").to_str().unwrap())
        .await
        .unwrap();
    let td = lanyard_id::TrustDomain::new("example.org").unwrap();
    let ca = crate::ca::Ca::open(
        td.clone(),
        lanyard_x509::KeyType::EcP256,
        CA_TTL,
        &dir.join("ca"),
        ds.clone(),
        SystemTime::now(),
    )
    .await
    .unwrap();
    let state = ServerState::new(
        ds.clone(),
        ca,
        CA_TTL,
        Duration::from_secs(300),
        CA_TTL,
        Vec::new(),
    );
    (ds, td, state)
}
