//! The stored model: plain structs, no protobuf types, so the server converts at its API edge.
//!
//! Times are Unix seconds (`i64`). IDs of entries are opaque strings (32 hex digits when the
//! datastore makes them).

use lanyard_id::{SpiffeId, TrustDomain};

use crate::Selector;

/// A registration entry: "workloads (or nodes) parented by `parent_id` that match all of
/// `selectors` get the identity `spiffe_id`".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Entry ID. Leave empty on create to let the datastore generate one.
    pub id: String,
    /// The identity issued to matching workloads.
    pub spiffe_id: SpiffeId,
    /// The agent (or node-alias) ID under which the selectors are evaluated; the server's own ID
    /// for node entries.
    pub parent_id: SpiffeId,
    /// Selectors, sorted and deduplicated by the datastore. At least one is required.
    pub selectors: Vec<Selector>,
    /// X.509-SVID TTL in seconds; 0 means the server default.
    pub x509_svid_ttl: u32,
    /// JWT-SVID TTL in seconds; 0 means the server default.
    pub jwt_svid_ttl: u32,
    /// DNS SANs for the X.509-SVID.
    pub dns_names: Vec<String>,
    /// Workload API hint (at most 1024 bytes per the Workload API).
    pub hint: String,
    /// Whether the identity may call the admin API.
    pub admin: bool,
    /// Whether the identity is a downstream CA.
    pub downstream: bool,
    /// When the entry stops being valid, if ever.
    pub expires_at: Option<i64>,
    /// Who manages the entry (e.g. a controller name), for bookkeeping only.
    pub owner: String,
    /// Free text.
    pub description: String,
    /// Foreign trust domains whose bundles the entry's workloads receive, sorted and
    /// deduplicated by the datastore. Each must be named by a [`FederationRelationship`] or a
    /// [`FederatedBundle`] when the entry is written
    /// ([`DatastoreError::UnknownFederatedTrustDomain`](crate::DatastoreError::UnknownFederatedTrustDomain)).
    pub federates_with: Vec<TrustDomain>,
    /// Set by the datastore on create.
    pub created_at: i64,
    /// Set by the datastore: 1 on create, +1 on every update.
    pub revision: i64,
}

impl Entry {
    /// An entry with the given identity, parent and selectors and every other field empty.
    pub fn new(spiffe_id: SpiffeId, parent_id: SpiffeId, selectors: Vec<Selector>) -> Self {
        Self {
            id: String::new(),
            spiffe_id,
            parent_id,
            selectors,
            x509_svid_ttl: 0,
            jwt_svid_ttl: 0,
            dns_names: Vec::new(),
            hint: String::new(),
            admin: false,
            downstream: false,
            expires_at: None,
            owner: String::new(),
            description: String::new(),
            federates_with: Vec::new(),
            created_at: 0,
            revision: 0,
        }
    }
}

/// How [`EntryFilter::selectors`] is compared with an entry's selector set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchMode {
    /// The entry's set equals the given set.
    Exact,
    /// The entry's set is a subset of the given set (every entry selector is given).
    Subset,
    /// The entry's set is a superset of the given set (every given selector is in the entry).
    Superset,
    /// The sets share at least one selector.
    Any,
}

/// A selector condition for listing entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorMatch {
    /// The selectors to compare with (order and duplicates do not matter).
    pub selectors: Vec<Selector>,
    /// How to compare.
    pub mode: MatchMode,
}

/// Conditions for listing or counting entries; all given conditions must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryFilter {
    /// Only entries with exactly this SPIFFE ID.
    pub spiffe_id: Option<SpiffeId>,
    /// Only entries with exactly this parent ID.
    pub parent_id: Option<SpiffeId>,
    /// Only entries whose selectors match.
    pub selectors: Option<SelectorMatch>,
    /// Only entries that federate with this trust domain.
    pub federates_with: Option<TrustDomain>,
}

/// Which page of a listing to return.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// At most this many items; 0 means all of them in one page.
    pub page_size: u32,
    /// The `next_page_token` of the previous page; `None` for the first page.
    pub page_token: Option<String>,
}

/// One page of a listing, in a stable order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass this back for the next page; `None` when this is the last page.
    pub next_page_token: Option<String>,
}

/// What an agent may fetch SVIDs for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizedEntries {
    /// Node entries (parented by the server) whose selectors the agent's node selectors
    /// satisfy; their SPIFFE IDs are the agent's node aliases.
    pub aliases: Vec<Entry>,
    /// Entries parented by the agent's own ID or one of its alias IDs, ordered by ID.
    pub entries: Vec<Entry>,
}

/// An agent that has attested to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestedAgent {
    /// The agent's SPIFFE ID.
    pub spiffe_id: SpiffeId,
    /// The node attestor that vouched for it, e.g. `join_token`, `k8s_psat`.
    pub attestation_type: String,
    /// Serial number (hex) of the agent's current X.509-SVID; empty once banned.
    pub serial: String,
    /// Serial of the SVID the last renewal replaced (empty if none): still accepted, so an agent
    /// that crashed before storing its renewed SVID is not locked out. Cleared by attestation.
    pub previous_serial: String,
    /// When that SVID expires.
    pub expires_at: i64,
    /// A banned agent may not renew or re-attest until it is evicted (deleted).
    pub banned: bool,
    /// Node selectors from attestation, sorted and deduplicated.
    pub selectors: Vec<Selector>,
    /// First attestation (kept across re-attestation).
    pub created_at: i64,
    /// Last attestation or renewal.
    pub last_seen_at: i64,
    /// Whether the attestor supports re-attestation (vs. renewal only).
    pub can_reattest: bool,
}

/// A single-use join token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinToken {
    /// The secret itself. The datastore keeps only its SHA-256, so a database dump does not
    /// hold usable tokens.
    pub token: String,
    /// The agent ID to give the node, if the token was created for one.
    pub spiffe_id: Option<SpiffeId>,
    /// After this the token cannot be used.
    pub expires_at: i64,
}

/// What kind of key an [`Authority`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthorityKind {
    /// An X.509 CA certificate (`public_der` is the certificate, `id` its SKI in hex).
    X509,
    /// A JWT signing key (`public_der` is the SPKI, `id` the `kid`).
    Jwt,
}

/// Where an authority is in its rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthorityState {
    /// Published in the bundle, not yet signing.
    Prepared,
    /// Signing.
    Active,
    /// Rotated out; stays in the bundle until it expires.
    Old,
}

/// A trust-bundle authority shared by all servers of the trust domain. Public data only:
/// private keys never enter the datastore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    /// SKI hex for X.509, `kid` for JWT; unique across kinds.
    pub id: String,
    /// X.509 or JWT.
    pub kind: AuthorityKind,
    /// DER certificate (X.509) or SPKI DER (JWT).
    pub public_der: Vec<u8>,
    /// Rotation state.
    pub state: AuthorityState,
    /// A tainted authority is being replaced early: agents should rotate away from it.
    pub tainted: bool,
    /// Expiry of the key or certificate.
    pub not_after: i64,
    /// Set by the datastore on first insert.
    pub created_at: i64,
}

/// What a committed write changed; the server tails these to push changes to agents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeKind {
    /// An entry was created or updated.
    EntryUpserted {
        /// The entry's ID.
        id: String,
    },
    /// An entry was deleted.
    EntryDeleted {
        /// The entry's ID.
        id: String,
        /// Its parent, so the agents that held it can be told.
        parent_id: SpiffeId,
    },
    /// An agent was banned.
    AgentBanned {
        /// The agent's ID.
        spiffe_id: SpiffeId,
    },
    /// An agent was evicted (its record deleted).
    AgentEvicted {
        /// The agent's ID.
        spiffe_id: SpiffeId,
    },
    /// An authority was added, changed state or was removed.
    BundleChanged,
    /// An authority was tainted.
    AuthorityTainted {
        /// The authority's ID.
        id: String,
    },
    /// A foreign trust domain's stored bundle was set, replaced or deleted.
    FederatedBundleChanged {
        /// The foreign trust domain.
        trust_domain: TrustDomain,
    },
    /// A federation relationship was created, changed or deleted.
    RelationshipChanged {
        /// The foreign trust domain.
        trust_domain: TrustDomain,
    },
    /// An event of a kind this version does not know, written by a newer server sharing the
    /// datastore. Never written by this version. A reader cannot apply it piecewise: it reloads
    /// its whole state from the datastore, which holds what the newer server wrote.
    Unknown {
        /// The kind's name as stored.
        kind: String,
    },
}

/// One row of the change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEvent {
    /// Position in the log: gap-free, and in commit order across all servers.
    pub seq: i64,
    /// What changed.
    pub kind: ChangeKind,
    /// When it was committed (Unix seconds, the writing server's clock).
    pub at: i64,
}

/// How a foreign trust domain's bundle endpoint is authenticated (SPIFFE Federation §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointProfile {
    /// `https_web`: Web PKI, the URL's host checked against the server certificate.
    HttpsWeb,
    /// `https_spiffe`: the endpoint presents an X.509-SVID with a configured SPIFFE ID.
    HttpsSpiffe,
}

impl EndpointProfile {
    /// The profile's name in the SPIFFE Federation specification (`https_web`, `https_spiffe`),
    /// also its stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HttpsWeb => "https_web",
            Self::HttpsSpiffe => "https_spiffe",
        }
    }
}

impl std::fmt::Display for EndpointProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A federation relationship: this trust domain trusts `trust_domain`, whose bundle is fetched
/// from `endpoint_url` (SPIFFE Federation §6; relationships are one-way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederationRelationship {
    /// The foreign trust domain.
    pub trust_domain: TrustDomain,
    /// The bundle endpoint URL, as the operator gave it (the server checks it before storing).
    pub endpoint_url: String,
    /// How the endpoint is authenticated.
    pub profile: EndpointProfile,
    /// The SPIFFE ID the endpoint presents: `Some` exactly for
    /// [`EndpointProfile::HttpsSpiffe`].
    pub endpoint_spiffe_id: Option<SpiffeId>,
    /// Declared in `server.toml`: changed only by
    /// [`Datastore::reconcile_config_relationships`](crate::Datastore::reconcile_config_relationships).
    pub declared_in_config: bool,
    /// Set by the datastore on create.
    pub created_at: i64,
    /// Set by the datastore on every change.
    pub updated_at: i64,
}

/// Where a stored foreign bundle came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BundleOrigin {
    /// Fetched from the trust domain's bundle endpoint.
    Endpoint,
    /// Set by an operator (or a bootstrap bundle): the latest until the next successful refresh
    /// replaces it, whatever its sequence number (SPIFFE Federation §4.2).
    Operator,
}

impl BundleOrigin {
    /// The stored form: `endpoint` or `operator`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Endpoint => "endpoint",
            Self::Operator => "operator",
        }
    }
}

impl std::fmt::Display for BundleOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A foreign trust domain's bundle as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedBundle {
    /// The foreign trust domain (SPIFFE Trust Domain and Bundle §3: recorded beside the bundle,
    /// which does not name it).
    pub trust_domain: TrustDomain,
    /// The bundle as a SPIFFE bundle (JWKS) document, as `lanyard_x509::Bundle::to_jwks_json`
    /// writes it. Opaque to the datastore.
    pub bundle_json: String,
    /// The bundle's `spiffe_sequence` (0 when absent); at most `i64::MAX`
    /// ([`DatastoreError::SequenceTooLarge`](crate::DatastoreError::SequenceTooLarge)).
    pub sequence: u64,
    /// Where it came from.
    pub origin: BundleOrigin,
    /// Set by the datastore on every store.
    pub updated_at: i64,
}

/// What [`Datastore::store_fetched_bundle`](crate::Datastore::store_fetched_bundle) did with a
/// fetched bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOutcome {
    /// Stored: the trust domain had no bundle, or the fetched one has other keys and is fresher.
    Updated,
    /// The stored bundle already has these keys; nothing that agents see changed.
    Unchanged,
    /// Refused: other keys, but a sequence number not above the stored one (SPIFFE Federation
    /// §4.2: freshness is compared by sequence). The stored bundle is kept.
    Stale {
        /// The stored bundle's sequence number.
        stored: u64,
    },
}

/// What [`Datastore::reconcile_config_relationships`](crate::Datastore::reconcile_config_relationships)
/// changed, for the server to log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigReconciled {
    /// Declared relationships that were created or changed (unchanged ones are left out).
    pub upserted: Vec<TrustDomain>,
    /// Bootstrap bundles stored because the trust domain had none.
    pub bootstrapped: Vec<TrustDomain>,
    /// Relationships no longer declared, deleted with their bundles.
    pub removed: Vec<TrustDomain>,
    /// Relationships no longer declared but still federated with by this many entries: kept,
    /// now managed through the admin API (delete them there once no entry needs them).
    pub kept_in_use: Vec<(TrustDomain, u64)>,
}
