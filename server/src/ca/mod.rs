//! The trust domain's X.509 certificate authority: key custody, rotation and signing.
//!
//! Each server holds the private keys of its own authorities in `<data_dir>/ca` (see
//! [`keystore`]); the public half of every authority of every server sharing the datastore is a
//! row in the datastore's authority table, which is what the trust bundle is built from. A row's
//! state follows the reference implementation's schedule:
//!
//! - **Active** signs. A new server creates one at first start; after a restart it reuses it.
//! - **Prepared** is created at half the active CA's lifetime and published in the bundle at once,
//!   so that by the time it signs every agent and workload already trusts it.
//! - When a sixth of the active CA's lifetime remains, the prepared CA becomes active and the
//!   active one **Old**. Old authorities stay in the bundle until they expire, then leave it.
//! - An operator may **taint** an old authority (agents re-sign everything it signed, at once)
//!   and then **revoke** it (it leaves the bundle before it expires).
//!
//! Every change is a datastore write, which logs a change event in the same transaction; the
//! push stream turns those into bundle updates and re-issue orders for agents.
//!
//! The JWT-SVID signing keys follow the same schedule and share the lock and the rotation loop;
//! see [`jwt`].
//!
//! With `[ca.upstream]` the authorities are intermediates signed by the operator's CA and the
//! bundle carries the operator's roots; see [`upstream`].
//!
//! At start ([`Ca::open`]) two faults must not lock agents out:
//!
//! - **A lost file.** An authority row this server holds (its certificate or a JWT key's public
//!   half is in the key store, or the datastore is SQLite and so this server's alone) whose key
//!   or certificate file is missing stops the start with [`CaError::MissingFiles`], naming each
//!   file. Creating a new CA instead would lock out every agent for good: they would no longer
//!   verify the server, and the new bundle can only reach them over that connection. Only an
//!   explicit [`OpenOptions::force_new_ca`] retires such authorities (their rows leave the
//!   bundle) and creates new ones, and the log says what each agent then needs.
//! - **Expiry while down.** An active or prepared authority that expired while the server was
//!   down becomes old (rotation removes it at once); a still-valid prepared one is activated
//!   (agents already trust it), else a fresh one is created: one active authority per server.

mod jwt;
mod keystore;
pub mod upstream;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lanyard_datastore::{
    Authority, AuthorityKind, AuthorityState, Backend, Datastore, DatastoreError,
};
use lanyard_id::{SpiffeId, TrustDomain};
use lanyard_x509::{
    Bundle, CaParams, CertDer, CertInfo, IssueError, IssuedX509Svid, JwtAuthority, KeyError,
    KeyPair, KeyType, SigningCa, Subject, SvidParams, self_signed_ca,
};

pub use jwt::{JwtAuthorityInfo, JwtKeyError, MintedJwtSvid};
use keystore::{KeyStore, Stored};
pub use upstream::{Upstream, UpstreamError, UpstreamFiles};

/// How far certificates are backdated to tolerate clock skew between hosts.
pub const BACKDATE: Duration = Duration::from_secs(10);

/// Bundle refresh hint published to relying parties (SPIFFE bundle `spiffe_refresh_hint`).
pub const REFRESH_HINT: Duration = Duration::from_secs(300);

/// Why a CA operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaError {
    /// The datastore refused or failed.
    #[error(transparent)]
    Datastore(#[from] DatastoreError),
    /// Reading or writing key files failed.
    #[error("CA key storage: {0}")]
    Io(#[from] std::io::Error),
    /// A key could not be generated or loaded.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A certificate could not be issued.
    #[error(transparent)]
    Issue(#[from] IssueError),
    /// This server holds no active authority (it failed to create one).
    #[error("no active X.509 authority on this server")]
    NoActiveAuthority,
    /// `activate` without a prepared authority.
    #[error("no prepared X.509 authority to activate: run `localauthority x509 prepare` first")]
    NothingPrepared,
    /// `prepare` while one is already prepared.
    #[error("X.509 authority {id} is already prepared: activate it first")]
    AlreadyPrepared {
        /// The prepared authority.
        id: String,
    },
    /// No authority with that ID.
    #[error("no X.509 authority with id {id}: see `localauthority x509 show`")]
    NotFound {
        /// The ID asked for.
        id: String,
    },
    /// Only old authorities can be tainted.
    #[error(
        "X.509 authority {id} is {state}; only an old authority can be tainted (prepare and activate a new one first)"
    )]
    TaintNotOld {
        /// The authority.
        id: String,
        /// Its state.
        state: &'static str,
    },
    /// Only tainted authorities can be revoked.
    #[error("X.509 authority {id} is not tainted; taint it first so agents move off it")]
    RevokeNotTainted {
        /// The authority.
        id: String,
    },
    /// A JWT signing key operation failed.
    #[error(transparent)]
    JwtKey(#[from] JwtKeyError),
    /// `[ca.upstream]` was refused.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// Taint or revoke while an upstream CA signs this server's authorities.
    #[error(
        "with [ca.upstream] the trust bundle holds the upstream roots, not this server's intermediate CAs, so tainting or revoking {id} would not move agents off it: rotate with `localauthority x509 prepare` and `activate` instead; to distrust an upstream root, remove it from bundle_path on every server and restart them"
    )]
    UpstreamIntermediate {
        /// The authority asked about.
        id: String,
    },
    /// Authorities this server holds lost a file (see the module documentation).
    #[error("{}", missing_files_message(dir, unusable))]
    MissingFiles {
        /// The key store directory.
        dir: std::path::PathBuf,
        /// Each authority and its missing file.
        unusable: Vec<UnusableAuthority>,
    },
}

/// One of this server's authorities that cannot be loaded because a file of it is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnusableAuthority {
    /// `X.509 authority` or `JWT key`.
    pub kind: &'static str,
    /// Its ID (SKI hex or `kid`).
    pub id: String,
    /// Its rotation state.
    pub state: AuthorityState,
    /// The file that is missing.
    pub missing: std::path::PathBuf,
}

fn missing_files_message(dir: &std::path::Path, unusable: &[UnusableAuthority]) -> String {
    let mut m = format!(
        "files of this server's authorities are missing from {}:",
        dir.display()
    );
    for u in unusable {
        m.push_str(&format!(
            "\n  - {} {} ({}): {} is missing",
            u.kind,
            u.id,
            state_name(u.state),
            u.missing.display()
        ));
    }
    m.push_str(&format!(
        "\nRestore them from a backup of {} and start again. If they are lost for good, start \
         once with `lanyard-server run --force-new-ca`: it retires these authorities (they leave \
         the trust bundle) and creates new ones, and every agent must then be given the new \
         bundle and attest again (the server logs the steps).",
        dir.display()
    ));
    m
}

/// What an agent must do after `--force-new-ca` replaced the authorities it trusted, logged
/// with the retirement: an agent verifies the server only against the bundle it stored, and the
/// server refuses the agent's SVID once its authority has left the bundle, so neither side can
/// fix this over the agent API.
pub const FORCED_NEW_CA_AGENT_STEPS: &str = "agents that trusted only the retired authorities \
     no longer verify this server and are refused by it. On each node: stop the agent; write \
     the new bundle (`lanyard-server bundle show --format pem`) to its trust_bundle_path; delete \
     agent_svid.der, agent_key.der and bundle.der from its data_dir; start it again. A k8s_psat \
     agent then attests by itself; a join-token agent needs a new token: `lanyard-server agent \
     evict --spiffe-id <agent ID>`, then `lanyard-server token generate --spiffe-id <agent ID>` \
     keeps its ID (and the entries parented to it), and it starts with --join-token <token>.";

/// How [`Ca::open_with`] treats what it finds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// Retire authorities whose files are missing and create new ones, instead of refusing to
    /// start (`lanyard-server run --force-new-ca`).
    pub force_new_ca: bool,
    /// `[ca.upstream]`: the operator's CA signs this server's authorities (see [`upstream`]).
    pub upstream: Option<UpstreamFiles>,
}

/// What an operator sees of one authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorityInfo {
    /// Subject Key Identifier, lowercase hex.
    pub id: String,
    /// Rotation state.
    pub state: AuthorityState,
    /// Whether it was tainted.
    pub tainted: bool,
    /// The CA certificate.
    pub cert: CertDer,
    /// Its NotAfter (Unix seconds).
    pub not_after: i64,
    /// Whether this server holds its private key.
    pub local: bool,
}

/// Human name of a state.
pub fn state_name(s: AuthorityState) -> &'static str {
    match s {
        AuthorityState::Prepared => "prepared",
        AuthorityState::Active => "active",
        AuthorityState::Old => "old",
    }
}

struct Held {
    signing: Arc<SigningCa>,
    not_before: SystemTime,
}

struct Inner {
    td: TrustDomain,
    key_type: KeyType,
    ttl: Duration,
    keys: KeyStore,
    ds: Datastore,
    /// Authorities whose key this server holds, by ID.
    held: RwLock<BTreeMap<String, Held>>,
    /// The ID of the authority that signs now.
    active: RwLock<Option<String>>,
    /// Serialises state changes (rotation loop and admin calls).
    ops: tokio::sync::Mutex<()>,
    /// The JWT-SVID signing keys.
    jwt: jwt::JwtKeys,
    /// `[ca.upstream]`, if configured.
    upstream: Option<Upstream>,
}

/// The CA. Cloning shares it.
#[derive(Clone)]
pub struct Ca {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca")
            .field("trust_domain", &self.inner.td)
            .field("active", &self.active_id())
            .finish()
    }
}

fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Ca {
    /// [`Ca::open_with_jwt_key_type`] with EC P-256 JWT keys.
    pub async fn open(
        td: TrustDomain,
        key_type: KeyType,
        ttl: Duration,
        dir: &std::path::Path,
        ds: Datastore,
        now: SystemTime,
    ) -> Result<Ca, CaError> {
        Self::open_with_jwt_key_type(td, key_type, KeyType::EcP256, ttl, dir, ds, now).await
    }

    /// [`Ca::open_with`] with the default [`OpenOptions`] (missing files refuse the start).
    pub async fn open_with_jwt_key_type(
        td: TrustDomain,
        key_type: KeyType,
        jwt_key_type: KeyType,
        ttl: Duration,
        dir: &std::path::Path,
        ds: Datastore,
        now: SystemTime,
    ) -> Result<Ca, CaError> {
        Self::open_with(
            td,
            key_type,
            jwt_key_type,
            ttl,
            dir,
            ds,
            now,
            OpenOptions::default(),
        )
        .await
    }

    /// Loads this server's authorities and JWT keys (keys from `dir`, states from the
    /// datastore) and makes sure one of each is active and valid at `now`, creating it if needed.
    /// Authorities of this server with a missing file refuse the start unless
    /// `options.force_new_ca` (see the module documentation).
    #[expect(
        clippy::too_many_arguments,
        reason = "the settings of one CA, passed once from the config at start"
    )]
    pub async fn open_with(
        td: TrustDomain,
        key_type: KeyType,
        jwt_key_type: KeyType,
        ttl: Duration,
        dir: &std::path::Path,
        ds: Datastore,
        now: SystemTime,
        options: OpenOptions,
    ) -> Result<Ca, CaError> {
        // Fail before touching anything if a key type cannot be generated.
        for kt in [key_type, jwt_key_type] {
            if !kt.can_generate() {
                KeyPair::generate(kt)?;
            }
        }
        let upstream = match &options.upstream {
            Some(files) => Some(Upstream::load(files, &td, now)?),
            None => None,
        };
        let ca = Ca {
            inner: Arc::new(Inner {
                td,
                key_type,
                ttl,
                keys: KeyStore::open(dir)?,
                ds,
                held: RwLock::new(BTreeMap::new()),
                active: RwLock::new(None),
                ops: tokio::sync::Mutex::new(()),
                jwt: jwt::JwtKeys::new(jwt_key_type),
                upstream,
            }),
        };
        let _guard = ca.inner.ops.lock().await;
        let mut unusable = ca.load_x509_locked(now).await?;
        unusable.extend(ca.load_jwt_locked(now).await?);
        if !unusable.is_empty() {
            if !options.force_new_ca {
                return Err(CaError::MissingFiles {
                    dir: dir.to_owned(),
                    unusable,
                });
            }
            ca.retire_unusable_locked(&unusable).await?;
        } else if options.force_new_ca {
            tracing::warn!(
                "--force-new-ca: every authority of this server has its files; nothing retired. Remove the flag from the command line"
            );
        }
        ca.publish_upstream_roots_locked().await?;
        ca.retire_other_signers_locked().await?;
        ca.ensure_active_x509_locked(now).await?;
        ca.ensure_active_jwt_locked(now).await?;
        if !unusable.is_empty() {
            tracing::warn!(
                x509_authority = ?ca.active_id(),
                jwt_kid = ?ca.active_jwt_kid(),
                "--force-new-ca: new authorities are active; {FORCED_NEW_CA_AGENT_STEPS} Remove --force-new-ca from the command line"
            );
        }
        drop(_guard);
        Ok(ca)
    }

    /// Whether a row with no file at all in the key store is this server's: only when the
    /// datastore is this server's alone. On a shared PostgreSQL such a row is another server's.
    fn rows_are_all_mine(&self) -> bool {
        self.inner.ds.backend() == Backend::Sqlite
    }

    /// Loads the keys of this server's X.509 authorities; returns those that lost a file.
    /// Rows that expired while the server was down are retired here (a lost file of one of
    /// them no longer matters: nothing it signed is valid). Caller holds `ops`.
    async fn load_x509_locked(&self, now: SystemTime) -> Result<Vec<UnusableAuthority>, CaError> {
        let mut unusable = Vec::new();
        for row in self.x509_rows().await? {
            let expired = row.not_after <= unix(now);
            let missing = match self.inner.keys.load(&row.id)? {
                Stored::Held((key, cert)) => {
                    let info = CertInfo::from_der(cert.as_bytes()).map_err(IssueError::from)?;
                    let chain = self.chain_above(&cert);
                    let signing = Arc::new(SigningCa::new(cert, key, chain)?);
                    self.held_mut().insert(
                        row.id.clone(),
                        Held {
                            signing,
                            not_before: info.not_before,
                        },
                    );
                    if expired && row.state != AuthorityState::Old {
                        // Rotation removes expired old authorities at its first step.
                        self.inner
                            .ds
                            .set_authority_state(&row.id, AuthorityState::Old)
                            .await?;
                        tracing::warn!(authority = %row.id, state = state_name(row.state), "X.509 authority expired while the server was down; retired");
                    }
                    continue;
                }
                Stored::Absent if !self.rows_are_all_mine() => continue,
                Stored::Absent => self.inner.keys.key_path(&row.id),
                Stored::Missing(path) => path,
            };
            if expired {
                self.inner.ds.delete_authority(&row.id).await?;
                self.inner.keys.remove(&row.id)?;
                tracing::warn!(authority = %row.id, missing = %missing.display(), "expired X.509 authority with a missing file left the bundle");
                continue;
            }
            unusable.push(UnusableAuthority {
                kind: "X.509 authority",
                id: row.id,
                state: row.state,
                missing,
            });
        }
        Ok(unusable)
    }

    /// Makes exactly one held, valid authority active: the newest active one, else a prepared
    /// one (agents trust it already), else a new one. Caller holds `ops`.
    async fn ensure_active_x509_locked(&self, now: SystemTime) -> Result<(), CaError> {
        let nowu = unix(now);
        let rows = self.authorities().await?;
        let valid = |state| {
            let mut v: Vec<&AuthorityInfo> = rows
                .iter()
                .filter(|a| a.local && a.state == state && a.not_after > nowu)
                .collect();
            v.sort_by_key(|a| std::cmp::Reverse(a.not_after));
            v
        };
        let active = valid(AuthorityState::Active);
        // Two active rows of one server (left by versions that created a new authority beside
        // an expired active one): the newest signs, the others become old.
        for extra in active.iter().skip(1) {
            self.inner
                .ds
                .set_authority_state(&extra.id, AuthorityState::Old)
                .await?;
        }
        if let Some(a) = active.first() {
            self.set_active(Some(a.id.clone()));
            return Ok(());
        }
        if !valid(AuthorityState::Prepared).is_empty() {
            let a = self.activate_locked().await?;
            tracing::info!(authority = %a.id, "no valid active X.509 authority at start; activated the prepared one");
            return Ok(());
        }
        let id = self.create(now, AuthorityState::Active).await?;
        tracing::info!(authority = %id, "created X.509 authority");
        self.set_active(Some(id));
        Ok(())
    }

    /// Retires authorities that lost a file (`--force-new-ca`): their rows leave the bundle and
    /// what is left of their files is deleted. Caller holds `ops`.
    async fn retire_unusable_locked(&self, unusable: &[UnusableAuthority]) -> Result<(), CaError> {
        for u in unusable {
            self.inner.ds.delete_authority(&u.id).await?;
            if u.kind == "JWT key" {
                self.inner.keys.remove_jwt_key(&u.id)?;
            } else {
                self.inner.keys.remove(&u.id)?;
            }
            tracing::warn!(
                kind = u.kind,
                id = %u.id,
                state = state_name(u.state),
                missing = %u.missing.display(),
                "--force-new-ca: retired an authority whose file is missing; it left the trust bundle"
            );
        }
        Ok(())
    }

    fn held_mut(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Held>> {
        self.inner
            .held
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn held(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Held>> {
        self.inner
            .held
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn set_active(&self, id: Option<String>) {
        *self
            .inner
            .active
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = id;
    }

    /// The ID of the authority that signs now.
    pub fn active_id(&self) -> Option<String> {
        self.inner
            .active
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The trust domain.
    pub fn trust_domain(&self) -> &TrustDomain {
        &self.inner.td
    }

    /// The datastore the CA publishes to.
    pub fn datastore(&self) -> &Datastore {
        &self.inner.ds
    }

    async fn x509_rows(&self) -> Result<Vec<Authority>, CaError> {
        Ok(self
            .inner
            .ds
            .list_authorities()
            .await?
            .into_iter()
            .filter(|a| a.kind == AuthorityKind::X509 && !a.id.starts_with(upstream::ROW_PREFIX))
            .collect())
    }

    /// Generates a key and a CA certificate (self-signed, or signed by the upstream CA), stores
    /// the key, publishes the row.
    async fn create(&self, now: SystemTime, state: AuthorityState) -> Result<String, CaError> {
        let key = KeyPair::generate(self.inner.key_type)?;
        let not_before = now - BACKDATE;
        let params = CaParams {
            trust_domain: self.inner.td.clone(),
            subject: self.subject(),
            not_before,
            not_after: now + self.inner.ttl,
            path_len: None,
        };
        let cert = match &self.inner.upstream {
            Some(up) => up.signer().issue_ca(&params, &key.public_key_spki_der())?,
            None => self_signed_ca(&params, &key)?,
        };
        let info = CertInfo::from_der(cert.as_bytes()).map_err(IssueError::from)?;
        let id = match &info.subject_key_id {
            Some(ski) => hex::encode(ski),
            None => info.serial_hex.clone(),
        };
        // Key first: a crash after it leaves an unused file, never a published key we lack.
        self.inner.keys.save(&id, &key, &cert)?;
        let chain = self.chain_above(&cert);
        let signing = Arc::new(SigningCa::new(cert.clone(), key, chain)?);
        self.inner
            .ds
            .upsert_authority(Authority {
                id: id.clone(),
                kind: AuthorityKind::X509,
                public_der: cert.into_vec(),
                state,
                tainted: false,
                not_after: unix(info.not_after),
                created_at: 0,
            })
            .await?;
        self.held_mut().insert(
            id.clone(),
            Held {
                signing,
                not_before: info.not_before,
            },
        );
        Ok(id)
    }

    /// The signing CA in force.
    pub fn signing_ca(&self) -> Result<Arc<SigningCa>, CaError> {
        let id = self.active_id().ok_or(CaError::NoActiveAuthority)?;
        self.held()
            .get(&id)
            .map(|h| Arc::clone(&h.signing))
            .ok_or(CaError::NoActiveAuthority)
    }

    /// Certificates to send after this server's own SVID so that an agent whose bundle holds
    /// only another authority of this server still verifies it (an agent that was down while
    /// the CA rotated): the active authority cross-signed by another one this server holds and
    /// that one by the next, through every authority it holds that is valid at `now`, newest
    /// first. One linear chain, because a verifier walks the presented chain from the leaf until
    /// a bundle authority vouches for a certificate, each link signed by the key the next
    /// certificate carries: an agent that trusts the active authority stops at the leaf, one
    /// that trusts only the oldest walks to the end (any order would do; newest first is
    /// shortest for the agents most likely to need it).
    ///
    /// Empty with an upstream CA: every authority chains to the same upstream roots, which is
    /// what agents trust.
    pub fn cross_chain(&self, now: SystemTime) -> Result<Vec<CertDer>, CaError> {
        if self.has_upstream() {
            return Ok(Vec::new());
        }
        let Some(active) = self.active_id() else {
            return Ok(Vec::new());
        };
        let held = self.held();
        let Some(mut current) = held.get(&active) else {
            return Ok(Vec::new());
        };
        let mut older: Vec<(&String, &Held)> = held
            .iter()
            .filter(|(id, h)| **id != active && h.signing.not_after() > now)
            .collect();
        older.sort_by(|a, b| b.1.not_before.cmp(&a.1.not_before).then(a.0.cmp(b.0)));
        let older = older.into_iter().map(|(_, h)| h);
        let mut chain = Vec::new();
        for by in older {
            let cert = by.signing.issue_ca(
                &CaParams {
                    trust_domain: self.inner.td.clone(),
                    subject: self.subject(),
                    not_before: current.not_before,
                    not_after: current.signing.not_after(),
                    path_len: None,
                },
                &current.signing.key().public_key_spki_der(),
            )?;
            chain.push(cert);
            current = by;
        }
        Ok(chain)
    }

    /// The subject of every authority this server creates.
    fn subject(&self) -> Subject {
        Subject {
            country: Some("US".to_owned()),
            organization: Some("SPIFFE".to_owned()),
            common_name: Some(format!("Lanyard CA {}", self.inner.td)),
        }
    }

    /// Signs an X.509-SVID for `spki` with the active authority. The ID, DNS names and TTL are
    /// the caller's (from a registration entry); NotBefore is backdated and NotAfter capped at
    /// the CA's.
    pub fn sign_x509_svid(
        &self,
        spki: &[u8],
        spiffe_id: SpiffeId,
        dns_names: Vec<String>,
        ttl: Duration,
        now: SystemTime,
    ) -> Result<IssuedX509Svid, CaError> {
        let ca = self.signing_ca()?;
        Ok(ca.issue_x509_svid(
            spki,
            &SvidParams {
                spiffe_id,
                dns_names,
                not_before: now,
                not_after: now + ttl,
                backdate: BACKDATE,
            },
        )?)
    }

    /// Every X.509 authority of the trust domain, as an operator sees it.
    pub async fn authorities(&self) -> Result<Vec<AuthorityInfo>, CaError> {
        let held = self.held().keys().cloned().collect::<Vec<_>>();
        self.x509_rows()
            .await?
            .into_iter()
            .map(|a| {
                Ok(AuthorityInfo {
                    local: held.contains(&a.id),
                    cert: CertDer::from_der(a.public_der).map_err(IssueError::from)?,
                    id: a.id,
                    state: a.state,
                    tainted: a.tainted,
                    not_after: a.not_after,
                })
            })
            .collect()
    }

    async fn info(&self, id: &str) -> Result<AuthorityInfo, CaError> {
        self.authorities()
            .await?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or_else(|| CaError::NotFound { id: id.to_owned() })
    }

    fn local_in_state(rows: &[AuthorityInfo], state: AuthorityState) -> Option<&AuthorityInfo> {
        rows.iter().find(|a| a.local && a.state == state)
    }

    /// Creates and publishes the next authority (state prepared).
    pub async fn prepare(&self, now: SystemTime) -> Result<AuthorityInfo, CaError> {
        let _guard = self.inner.ops.lock().await;
        self.prepare_locked(now).await
    }

    async fn prepare_locked(&self, now: SystemTime) -> Result<AuthorityInfo, CaError> {
        let rows = self.authorities().await?;
        if let Some(p) = Self::local_in_state(&rows, AuthorityState::Prepared) {
            return Err(CaError::AlreadyPrepared { id: p.id.clone() });
        }
        let id = self.create(now, AuthorityState::Prepared).await?;
        tracing::info!(authority = %id, "prepared X.509 authority");
        self.info(&id).await
    }

    /// Makes the prepared authority sign; the active one becomes old.
    pub async fn activate(&self) -> Result<AuthorityInfo, CaError> {
        let _guard = self.inner.ops.lock().await;
        self.activate_locked().await
    }

    async fn activate_locked(&self) -> Result<AuthorityInfo, CaError> {
        let rows = self.authorities().await?;
        let prepared = Self::local_in_state(&rows, AuthorityState::Prepared)
            .ok_or(CaError::NothingPrepared)?
            .id
            .clone();
        let ds = &self.inner.ds;
        if let Some(old) = Self::local_in_state(&rows, AuthorityState::Active) {
            ds.set_authority_state(&old.id, AuthorityState::Old).await?;
        }
        ds.set_authority_state(&prepared, AuthorityState::Active)
            .await?;
        self.set_active(Some(prepared.clone()));
        tracing::info!(authority = %prepared, "activated X.509 authority");
        self.info(&prepared).await
    }

    /// Taints an old authority: agents re-sign everything it signed.
    pub async fn taint(&self, id: &str) -> Result<AuthorityInfo, CaError> {
        self.refuse_with_upstream(id)?;
        let _guard = self.inner.ops.lock().await;
        let a = self.info(id).await?;
        if a.state != AuthorityState::Old {
            return Err(CaError::TaintNotOld {
                id: id.to_owned(),
                state: state_name(a.state),
            });
        }
        self.inner.ds.taint_authority(id).await?;
        tracing::warn!(authority = %id, "tainted X.509 authority");
        self.info(id).await
    }

    /// Removes a tainted authority from the bundle and deletes its key.
    pub async fn revoke(&self, id: &str) -> Result<AuthorityInfo, CaError> {
        self.refuse_with_upstream(id)?;
        let _guard = self.inner.ops.lock().await;
        let a = self.info(id).await?;
        if !a.tainted {
            return Err(CaError::RevokeNotTainted { id: id.to_owned() });
        }
        self.inner.ds.delete_authority(id).await?;
        self.held_mut().remove(id);
        self.inner.keys.remove(id)?;
        tracing::warn!(authority = %id, "revoked X.509 authority");
        Ok(a)
    }

    /// One step of automatic rotation (X.509 authorities and JWT keys) at `now`; returns how
    /// long until the next step is due.
    pub async fn rotate(&self, now: SystemTime) -> Result<Duration, CaError> {
        let _guard = self.inner.ops.lock().await;
        let x509 = self.rotate_x509_locked(now).await?;
        let jwt = self.rotate_jwt_locked(now).await?;
        Ok(x509.min(jwt))
    }

    async fn rotate_x509_locked(&self, now: SystemTime) -> Result<Duration, CaError> {
        let ttl = self.inner.ttl;
        let nowu = unix(now);
        let rows = self.authorities().await?;
        // Expired old authorities leave the bundle.
        for a in rows
            .iter()
            .filter(|a| a.local && a.state == AuthorityState::Old)
        {
            if a.not_after <= nowu {
                self.inner.ds.delete_authority(&a.id).await?;
                self.held_mut().remove(&a.id);
                self.inner.keys.remove(&a.id)?;
                tracing::info!(authority = %a.id, "expired X.509 authority left the bundle");
            }
        }
        let Some(active) = Self::local_in_state(&rows, AuthorityState::Active).cloned() else {
            let id = self.create(now, AuthorityState::Active).await?;
            self.set_active(Some(id));
            return Ok(Duration::ZERO);
        };
        let not_before = self
            .held()
            .get(&active.id)
            .map(|h| unix(h.not_before))
            .unwrap_or(nowu);
        let ttl_s = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        let prepare_at = not_before + ttl_s / 2;
        let activate_at = active.not_after - ttl_s / 6;
        let prepared = Self::local_in_state(&rows, AuthorityState::Prepared).is_some();
        if !prepared && nowu >= prepare_at {
            self.prepare_locked(now).await?;
            return Ok(Duration::ZERO);
        }
        if prepared && nowu >= activate_at {
            self.activate_locked().await?;
            return Ok(Duration::ZERO);
        }
        let next = if prepared { activate_at } else { prepare_at };
        let oldest_expiry = rows
            .iter()
            .filter(|a| a.local && a.state == AuthorityState::Old)
            .map(|a| a.not_after)
            .min()
            .unwrap_or(i64::MAX);
        let next = next.min(oldest_expiry).max(nowu + 1);
        Ok(Duration::from_secs(u64::try_from(next - nowu).unwrap_or(1)))
    }

    /// Runs automatic rotation until `shutdown` resolves.
    pub async fn run_rotation(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let wait = match self.rotate(SystemTime::now()).await {
                Ok(d) => d.min(Duration::from_secs(60)),
                Err(e) => {
                    tracing::error!(error = %e, "CA rotation step failed; retrying in 5s");
                    Duration::from_secs(5)
                }
            };
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// The trust bundle as published in the datastore (every server's authorities).
    pub async fn bundle(&self) -> Result<Bundle, CaError> {
        load_bundle(&self.inner.ds, &self.inner.td).await
    }
}

/// Builds the trust domain's bundle from the datastore's authority rows. When upstream roots
/// are published (rows named [`upstream::ROW_PREFIX`]) they are the X.509 authorities and the
/// intermediates they signed are left out.
pub async fn load_bundle(ds: &Datastore, td: &TrustDomain) -> Result<Bundle, CaError> {
    let rows = ds.list_authorities().await?;
    let seq = ds.latest_seq().await?;
    let mut bundle = Bundle::new(td.clone());
    let upstream = rows
        .iter()
        .any(|a| a.kind == AuthorityKind::X509 && a.id.starts_with(upstream::ROW_PREFIX));
    for a in rows {
        match a.kind {
            AuthorityKind::X509 if upstream && !a.id.starts_with(upstream::ROW_PREFIX) => {}
            AuthorityKind::X509 => {
                bundle
                    .add_x509_authority(CertDer::from_der(a.public_der).map_err(IssueError::from)?);
            }
            // JWT-SVID §6.1: published by `kid`; old keys stay until they expire.
            AuthorityKind::Jwt => {
                let expires_at = u64::try_from(a.not_after)
                    .ok()
                    .map(|s| UNIX_EPOCH + Duration::from_secs(s));
                bundle.jwt_authorities.insert(
                    a.id,
                    JwtAuthority {
                        public_key: a.public_der,
                        expires_at,
                    },
                );
            }
        }
    }
    bundle.sequence_number = u64::try_from(seq).unwrap_or(0);
    bundle.refresh_hint = Some(REFRESH_HINT);
    Ok(bundle)
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub(crate) fn self_signed(key: &KeyPair) -> CertDer {
        let now = SystemTime::now();
        self_signed_ca(
            &CaParams {
                trust_domain: TrustDomain::new("example.org").unwrap(),
                subject: Subject {
                    country: None,
                    organization: Some("t".into()),
                    common_name: None,
                },
                not_before: now,
                not_after: now + Duration::from_secs(60),
                path_len: None,
            },
            key,
        )
        .unwrap()
    }
}

#[cfg(test)]
mod open_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod upstream_tests;
