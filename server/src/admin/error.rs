//! The one mapping from the errors admin handlers meet to `tonic::Status`.
//!
//! Codes follow admin.proto: a bad field is `InvalidArgument`, a missing object `NotFound`, a
//! duplicate `AlreadyExists`, a lost optimistic update `Aborted`, an operation the current state
//! forbids `FailedPrecondition`, an unreachable datastore `Unavailable`, everything else
//! `Internal`. Messages say what was wrong and what to do next.

use lanyard_datastore::DatastoreError;
use tonic::{Code, Status};

use crate::ca::{CaError, JwtKeyError};
use crate::convert::InvalidEntry;

/// Anything an admin handler can fail with, before it becomes a [`Status`].
#[derive(Debug)]
pub(super) enum AdminError {
    /// The datastore refused or failed.
    Datastore(DatastoreError),
    /// The CA refused or failed.
    Ca(CaError),
    /// An entry (or a field of a request) is invalid.
    Invalid(InvalidEntry),
}

impl From<DatastoreError> for AdminError {
    fn from(e: DatastoreError) -> Self {
        Self::Datastore(e)
    }
}

impl From<CaError> for AdminError {
    fn from(e: CaError) -> Self {
        Self::Ca(e)
    }
}

impl From<InvalidEntry> for AdminError {
    fn from(e: InvalidEntry) -> Self {
        Self::Invalid(e)
    }
}

/// Converts a handler error to the status the caller sees. Server-side failures (`Internal`,
/// `Unavailable`) are also logged, since the operator of the server, not the CLI user, has to act.
pub(super) fn status(err: impl Into<AdminError>) -> Status {
    let (code, message) = match err.into() {
        AdminError::Invalid(e) => (Code::InvalidArgument, e.to_string()),
        AdminError::Datastore(e) => datastore(e),
        AdminError::Ca(e) => ca(e),
    };
    if matches!(code, Code::Internal | Code::Unavailable) {
        tracing::error!(code = ?code, error = %message, "admin request failed");
    }
    Status::new(code, message)
}

fn datastore(e: DatastoreError) -> (Code, String) {
    let code = match &e {
        DatastoreError::AlreadyExists { id } => {
            return (
                Code::AlreadyExists,
                format!("{e}; change it with `entry update --id {id}` or delete it first"),
            );
        }
        DatastoreError::NotFound { .. } => Code::NotFound,
        DatastoreError::RevisionMismatch { .. } => {
            return (
                Code::Aborted,
                format!("{e}; fetch the entry again and retry with its current revision"),
            );
        }
        DatastoreError::AgentBanned { .. } => Code::FailedPrecondition,
        DatastoreError::TokenExpired | DatastoreError::TokenNotFound => Code::NotFound,
        DatastoreError::InvalidEntry { .. }
        | DatastoreError::InvalidRelationship { .. }
        | DatastoreError::SequenceTooLarge { .. } => Code::InvalidArgument,
        DatastoreError::UnknownFederatedTrustDomain { trust_domain } => {
            return (
                Code::InvalidArgument,
                format!(
                    "{e}; create it with `federation create --trust-domain {trust_domain}` or \
                     store its bundle with `bundle set --trust-domain {trust_domain}`"
                ),
            );
        }
        DatastoreError::FederationInUse { trust_domain, .. } => {
            return (
                Code::FailedPrecondition,
                format!("{e}; list them with `entry show --federates-with {trust_domain}`"),
            );
        }
        DatastoreError::RelationshipAlreadyExists { trust_domain } => {
            return (
                Code::AlreadyExists,
                format!("{e}; change it with `federation update --trust-domain {trust_domain}`"),
            );
        }
        DatastoreError::DeclaredInConfig { .. } => Code::FailedPrecondition,
        DatastoreError::InvalidPageToken => {
            return (
                Code::InvalidArgument,
                "invalid `page_token`: pass the `next_page_token` of the previous page, with the \
                 same filter"
                    .to_owned(),
            );
        }
        DatastoreError::Connect { .. } | DatastoreError::Query(_) => {
            return (
                Code::Unavailable,
                format!("{e}; check that the datastore is reachable and retry"),
            );
        }
        _ => Code::Internal,
    };
    (code, e.to_string())
}

fn ca(e: CaError) -> (Code, String) {
    let e = match e {
        CaError::Datastore(inner) => return datastore(inner),
        other => other,
    };
    let code = match &e {
        CaError::NotFound { .. } | CaError::JwtKey(JwtKeyError::NotFound { .. }) => Code::NotFound,
        CaError::JwtKey(
            JwtKeyError::NothingPrepared
            | JwtKeyError::AlreadyPrepared { .. }
            | JwtKeyError::TaintNotOld { .. }
            | JwtKeyError::RevokeNotTainted { .. },
        ) => Code::FailedPrecondition,
        CaError::JwtKey(JwtKeyError::Mint(_)) => Code::InvalidArgument,
        CaError::NothingPrepared
        | CaError::AlreadyPrepared { .. }
        | CaError::TaintNotOld { .. }
        | CaError::RevokeNotTainted { .. } => Code::FailedPrecondition,
        _ => Code::Internal,
    };
    (code, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_contract() {
        let cases: Vec<(AdminError, Code)> = vec![
            (
                InvalidEntry {
                    field: "spiffe_id",
                    problem: "is required".into(),
                }
                .into(),
                Code::InvalidArgument,
            ),
            (
                DatastoreError::AlreadyExists { id: "abc".into() }.into(),
                Code::AlreadyExists,
            ),
            (
                DatastoreError::NotFound {
                    what: "agent",
                    id: "x".into(),
                }
                .into(),
                Code::NotFound,
            ),
            (
                DatastoreError::RevisionMismatch {
                    id: "a".into(),
                    expected: 1,
                    actual: 2,
                }
                .into(),
                Code::Aborted,
            ),
            (CaError::NothingPrepared.into(), Code::FailedPrecondition),
            (
                CaError::Datastore(DatastoreError::InvalidPageToken).into(),
                Code::InvalidArgument,
            ),
            (CaError::NoActiveAuthority.into(), Code::Internal),
        ];
        for (err, code) in cases {
            assert_eq!(status(err).code(), code);
        }
    }

    #[test]
    fn federation_refusals_say_what_to_do() {
        let td = lanyard_id::TrustDomain::new("orders.example").unwrap();
        let s = status(DatastoreError::UnknownFederatedTrustDomain {
            trust_domain: td.clone(),
        });
        assert_eq!(s.code(), Code::InvalidArgument);
        assert!(
            s.message()
                .contains("federation create --trust-domain orders.example"),
            "{s:?}"
        );
        let s = status(DatastoreError::FederationInUse {
            trust_domain: td.clone(),
            entries: 3,
        });
        assert_eq!(s.code(), Code::FailedPrecondition);
        assert!(s.message().contains("3 registration entries"), "{s:?}");
        assert!(
            s.message()
                .contains("entry show --federates-with orders.example"),
            "{s:?}"
        );
        let s = status(DatastoreError::RelationshipAlreadyExists {
            trust_domain: td.clone(),
        });
        assert_eq!(s.code(), Code::AlreadyExists);
        assert!(s.message().contains("federation update"), "{s:?}");
        let s = status(DatastoreError::DeclaredInConfig { trust_domain: td });
        assert_eq!(s.code(), Code::FailedPrecondition);
        assert!(s.message().contains("server.toml"), "{s:?}");
    }

    #[test]
    fn duplicate_says_what_to_do() {
        let s = status(DatastoreError::AlreadyExists { id: "abc".into() });
        assert!(s.message().contains("entry update --id abc"), "{s:?}");
    }
}
