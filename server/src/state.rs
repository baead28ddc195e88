//! [`ServerState`]: what every API handler of one server process shares.

use std::sync::Arc;
use std::time::Duration;

use lanyard_datastore::Datastore;
use lanyard_id::{SpiffeId, TrustDomain};

use crate::ca::Ca;
use crate::federation::refresher::FederationHandle;

/// The path of the server's own SPIFFE ID (agents pin it when they connect).
pub const SERVER_ID_PATH: &str = "/lanyard/server";

/// The path under which the server names itself and its agents. No registration entry,
/// `ClusterSPIFFEID` template or other request may claim an ID here: a workload holding the
/// server's ID could pose as the server to every agent, one holding an agent's ID as that agent.
pub const RESERVED_PATH: &str = "/lanyard";

/// Where agent IDs live (`/lanyard/agent/<attestor>/...`).
pub const AGENT_ID_PATH: &str = "/lanyard/agent";

/// Whether `path` is [`RESERVED_PATH`] or below it.
pub fn is_reserved_path(path: &str) -> bool {
    is_under(path, RESERVED_PATH)
}

/// Whether `path` is `prefix` or a path below it (`/a/b` is under `/a`, `/ab` is not).
pub fn is_under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Shared, immutable-after-start server context. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ServerState {
    inner: Arc<Inner>,
    /// The federation refresher, when one runs ([`ServerState::with_federation`]).
    federation: Option<FederationHandle>,
}

#[derive(Debug)]
struct Inner {
    td: TrustDomain,
    server_id: SpiffeId,
    ds: Datastore,
    ca: Ca,
    default_x509_ttl: Duration,
    default_jwt_ttl: Duration,
    ca_ttl: Duration,
    extra_selector_types: Vec<String>,
}

impl ServerState {
    /// Bundles the parts. `ca_ttl` bounds every TTL an entry may ask for;
    /// `extra_selector_types` is `[entries] extra_selector_types`.
    pub fn new(
        ds: Datastore,
        ca: Ca,
        default_x509_ttl: Duration,
        default_jwt_ttl: Duration,
        ca_ttl: Duration,
        extra_selector_types: Vec<String>,
    ) -> Self {
        let td = ca.trust_domain().clone();
        let server_id = server_id(&td);
        Self {
            inner: Arc::new(Inner {
                td,
                server_id,
                ds,
                ca,
                default_x509_ttl,
                default_jwt_ttl,
                ca_ttl,
                extra_selector_types,
            }),
            federation: None,
        }
    }

    /// This state with the refresher's handle: the admin API reports each relationship's
    /// refresh status and refreshes on demand through it.
    pub fn with_federation(self, handle: FederationHandle) -> Self {
        Self {
            federation: Some(handle),
            ..self
        }
    }

    /// The refresher's handle, if one runs.
    pub fn federation(&self) -> Option<&FederationHandle> {
        self.federation.as_ref()
    }

    /// The rules an entry from the admin API must keep, as of `now` (Unix seconds).
    pub fn entry_rules(&self, now: i64) -> crate::convert::EntryRules<'_> {
        crate::convert::EntryRules {
            trust_domain: &self.inner.td,
            max_ttl_seconds: self.inner.ca_ttl.as_secs(),
            now,
            extra_selector_types: &self.inner.extra_selector_types,
        }
    }

    /// The trust domain.
    pub fn trust_domain(&self) -> &TrustDomain {
        &self.inner.td
    }
    /// `spiffe://<td>/lanyard/server`: the server's ID, and the parent of node entries.
    pub fn server_id(&self) -> &SpiffeId {
        &self.inner.server_id
    }
    /// The datastore.
    pub fn datastore(&self) -> &Datastore {
        &self.inner.ds
    }
    /// The CA.
    pub fn ca(&self) -> &Ca {
        &self.inner.ca
    }
    /// X.509-SVID TTL for entries that set none.
    pub fn default_x509_ttl(&self) -> Duration {
        self.inner.default_x509_ttl
    }
    /// JWT-SVID TTL for entries that set none.
    pub fn default_jwt_ttl(&self) -> Duration {
        self.inner.default_jwt_ttl
    }
    /// The CA lifetime: the upper bound of any SVID TTL.
    pub fn ca_ttl(&self) -> Duration {
        self.inner.ca_ttl
    }
}

/// The server's SPIFFE ID in `td`.
pub fn server_id(td: &TrustDomain) -> SpiffeId {
    match td.id_with_path(SERVER_ID_PATH) {
        Ok(id) => id,
        Err(_) => unreachable!("{SERVER_ID_PATH} is a valid path"),
    }
}
