//! [`DatastoreError`]: the one error type of this crate, and URL redaction for messages.

/// Everything a datastore operation can fail with.
///
/// Variants name the rule that was broken, so the server can map them to API status codes in one
/// place (`AlreadyExists` → `ALREADY_EXISTS`, `NotFound`/`TokenNotFound` → `NOT_FOUND`, ...).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatastoreError {
    /// An entry with the same SPIFFE ID, parent ID and selector set (or the same entry ID)
    /// already exists; `id` is the existing entry's ID.
    #[error(
        "a registration entry with the same SPIFFE ID, parent ID and selectors already exists: {id}"
    )]
    AlreadyExists {
        /// ID of the entry that already exists.
        id: String,
    },
    /// The object to read, change or delete does not exist.
    #[error("{what} not found: {id}")]
    NotFound {
        /// What kind of object was looked up ("registration entry", "agent", "authority").
        what: &'static str,
        /// The key that was looked up.
        id: String,
    },
    /// An optimistic update named a revision that is no longer current.
    #[error(
        "registration entry {id} was changed concurrently: expected revision {expected}, found {actual}"
    )]
    RevisionMismatch {
        /// The entry's ID.
        id: String,
        /// The revision the caller based its change on.
        expected: i64,
        /// The revision in the store.
        actual: i64,
    },
    /// The agent is banned: it may not renew or re-attest until it is evicted.
    #[error("agent {spiffe_id} is banned")]
    AgentBanned {
        /// The agent's SPIFFE ID.
        spiffe_id: String,
    },
    /// The join token exists but its expiry has passed; it has been deleted.
    #[error("join token has expired")]
    TokenExpired,
    /// The join token is unknown or was already used (tokens are single use).
    #[error("join token not found or already used")]
    TokenNotFound,
    /// An entry (or its selectors) breaks a rule of the model.
    #[error("invalid registration entry: {reason}")]
    InvalidEntry {
        /// The rule that was broken.
        reason: String,
    },
    /// A page token that this datastore did not hand out.
    #[error("invalid page token")]
    InvalidPageToken,
    /// The datastore URL has a scheme this crate does not support, or cannot be parsed.
    #[error("invalid datastore URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL, with any password replaced by `***`.
        url: String,
        /// What is wrong, and what is accepted.
        reason: String,
    },
    /// The datastore could not be opened or reached.
    #[error("cannot connect to datastore {url}: {source}")]
    Connect {
        /// The URL, with any password replaced by `***`.
        url: String,
        /// Why the connection failed.
        #[source]
        source: sqlx::Error,
    },
    /// The database's schema is newer than this build knows: a newer server migrated it.
    #[error(
        "the datastore's schema is at version {found}, newer than this server knows (up to \
         {supported}): a newer lanyard-server has upgraded it, and this one would misread it; \
         run that version (or a newer one) of lanyard-server, or restore the backup taken before \
         the upgrade (docs/operations.md, \"Upgrading\")"
    )]
    SchemaNewer {
        /// The highest migration the database has.
        found: i64,
        /// The highest migration this build has.
        supported: i64,
    },
    /// The embedded schema migrations could not be applied.
    #[error("cannot apply datastore schema migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A statement failed (I/O, lock timeout, constraint, ...).
    #[error("datastore query failed: {0}")]
    Query(#[from] sqlx::Error),
    /// The system random number generator failed (entry IDs are random).
    #[error("the system random number generator failed")]
    Random,
    /// The change-log events after `after` were pruned (everything up to `pruned_through` is
    /// gone): a reader at `after` cannot catch up from the log and must reload the full state.
    #[error(
        "the change log no longer holds the events after {after} (pruned through {pruned_through}); reload the full state"
    )]
    BehindChangeLog {
        /// The reader's position.
        after: i64,
        /// The last pruned `seq`.
        pruned_through: i64,
    },
    /// An entry federates with a trust domain that neither a federation relationship nor a
    /// stored bundle names: its workloads could never receive that bundle.
    #[error(
        "trust domain {trust_domain} has no federation relationship and no stored bundle: create \
         the relationship (or set its bundle) before entries federate with it"
    )]
    UnknownFederatedTrustDomain {
        /// The trust domain the entry named.
        trust_domain: lanyard_id::TrustDomain,
    },
    /// The relationship or bundle cannot go while entries federate with its trust domain.
    #[error(
        "{entries} registration entries federate with trust domain {trust_domain}: remove it \
         from their federates_with first"
    )]
    FederationInUse {
        /// The trust domain.
        trust_domain: lanyard_id::TrustDomain,
        /// How many entries federate with it.
        entries: u64,
    },
    /// A federation relationship for this trust domain already exists.
    #[error("a federation relationship with trust domain {trust_domain} already exists")]
    RelationshipAlreadyExists {
        /// The trust domain.
        trust_domain: lanyard_id::TrustDomain,
    },
    /// The relationship is declared in `server.toml`; only the file changes it.
    #[error(
        "the federation relationship with trust domain {trust_domain} is declared in server.toml: \
         edit the file (and restart the server) to change or remove it"
    )]
    DeclaredInConfig {
        /// The trust domain.
        trust_domain: lanyard_id::TrustDomain,
    },
    /// A relationship (or its bootstrap bundle) breaks a rule of the model.
    #[error("invalid federation relationship with trust domain {trust_domain}: {reason}")]
    InvalidRelationship {
        /// The trust domain.
        trust_domain: lanyard_id::TrustDomain,
        /// The rule that was broken.
        reason: String,
    },
    /// A bundle's sequence number does not fit the stored column (a signed 64-bit integer).
    #[error(
        "the bundle of trust domain {trust_domain} has sequence number {sequence}, above the \
         largest one Lanyard stores ({max})",
        max = i64::MAX
    )]
    SequenceTooLarge {
        /// The trust domain.
        trust_domain: lanyard_id::TrustDomain,
        /// The sequence number given.
        sequence: u64,
    },
    /// A stored row does not parse back into the model (e.g. an invalid SPIFFE ID).
    #[error("corrupt datastore row: {what}")]
    Corrupt {
        /// What failed to parse, and where.
        what: String,
    },
}

impl DatastoreError {
    pub(crate) fn corrupt(what: impl Into<String>) -> Self {
        Self::Corrupt { what: what.into() }
    }
}

/// Returns `url` with the password of its userinfo and any `password=` query value replaced by
/// `***`, so it can go into logs and error messages.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let auth_start = scheme_end + 3;
        let auth_end = out[auth_start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| auth_start + i);
        if let Some(at) = out[auth_start..auth_end].rfind('@') {
            let userinfo = &out[auth_start..auth_start + at];
            if let Some(colon) = userinfo.find(':') {
                let start = auth_start + colon + 1;
                out.replace_range(start..auth_start + at, "***");
            }
        }
    }
    if let Some(q) = out.find('?') {
        let (base, query) = out.split_at(q + 1);
        let redacted: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        out = format!("{base}{}", redacted.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redacts_userinfo_password_and_query_password() {
        assert_eq!(
            redact_url("postgres://u:secret@db:5432/x"),
            "postgres://u:***@db:5432/x"
        );
        assert_eq!(
            redact_url("postgres://u@db/x?password=s&sslmode=require"),
            "postgres://u@db/x?password=***&sslmode=require"
        );
        assert_eq!(
            redact_url("/var/lib/lanyard/ds.db"),
            "/var/lib/lanyard/ds.db"
        );
        assert_eq!(redact_url("postgres://db/x"), "postgres://db/x");
    }
}
