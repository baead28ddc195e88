//! [`Taint`]: which of the bundle's authorities are tainted.
//!
//! Taint is state, not only an event (issue 14): every bundle the server sends — in a Sync
//! snapshot, in a bundle update, in an attestation's answer, and in `bundle show` — carries the
//! tainted flag of each X.509 and JWT authority, so an agent that was offline during a taint, or
//! fell behind the change broadcast and missed the `Reissue` notice, still re-signs what a
//! tainted authority signed as soon as it sees the bundle.

use std::collections::BTreeSet;

use lanyard_datastore::{AuthorityKind, Datastore, DatastoreError};

/// The tainted authorities, as the datastore records them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Taint {
    /// Tainted X.509 authorities' certificates (DER).
    x509: BTreeSet<Vec<u8>>,
    /// Tainted JWT keys' `kid`s.
    jwt: BTreeSet<String>,
}

impl Taint {
    /// Reads the tainted authorities from the datastore.
    pub async fn load(ds: &Datastore) -> Result<Taint, DatastoreError> {
        let mut taint = Taint::default();
        for a in ds.list_authorities().await? {
            if !a.tainted {
                continue;
            }
            match a.kind {
                AuthorityKind::X509 => {
                    taint.x509.insert(a.public_der);
                }
                AuthorityKind::Jwt => {
                    taint.jwt.insert(a.id);
                }
            }
        }
        Ok(taint)
    }

    /// Whether the X.509 authority with this certificate is tainted.
    pub fn is_x509_tainted(&self, der: &[u8]) -> bool {
        self.x509.contains(der)
    }

    /// Whether the JWT key with this `kid` is tainted.
    pub fn is_jwt_tainted(&self, kid: &str) -> bool {
        self.jwt.contains(kid)
    }
}
