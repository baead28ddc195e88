//! The trust domain's JWT-SVID signing keys: custody, rotation and minting.
//!
//! Same lifecycle as the X.509 authorities of [`super`], driven by the same lock and the same
//! rotation loop ([`Ca::rotate`]): a key is a datastore row `Authority { kind: Jwt, id: kid,
//! public_der: SPKI DER, not_after: created + ca.ttl }` and, on the server that holds it, a
//! private key file `<data_dir>/ca/jwt-<kid>.key` (0600). It is **prepared** (published) at half
//! its predecessor's lifetime, **activated** when a sixth of it remains, and the previous key
//! stays **old** (published) until it expires. Tokens are capped at the signing key's expiry, so
//! every token a published key signed validates until the token itself expires (JWT-SVID §6.1:
//! validators find the key by `kid` in the trust domain's bundle).

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use lanyard_datastore::{Authority, AuthorityKind, AuthorityState};
use lanyard_id::SpiffeId;
use lanyard_jwt::{JwtError, JwtSvidClaims};
use lanyard_x509::{KeyPair, KeyType};
use ring::rand::{SecureRandom, SystemRandom};

use super::keystore::Stored;
use super::{Ca, CaError, UnusableAuthority, state_name, unix};

/// Why a JWT key operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwtKeyError {
    /// This server holds no active JWT key (it failed to create one).
    #[error("no active JWT signing key on this server")]
    NoActiveKey,
    /// `activate` without a prepared key.
    #[error("no prepared JWT key to activate: run `localauthority jwt prepare` first")]
    NothingPrepared,
    /// `prepare` while one is already prepared.
    #[error("JWT key {id} is already prepared: activate it first")]
    AlreadyPrepared {
        /// The prepared key's `kid`.
        id: String,
    },
    /// No JWT key with that `kid`.
    #[error("no JWT key with id {id}: see `localauthority jwt show`")]
    NotFound {
        /// The `kid` asked for.
        id: String,
    },
    /// Only old keys can be tainted.
    #[error(
        "JWT key {id} is {state}; only an old key can be tainted (prepare and activate a new one first)"
    )]
    TaintNotOld {
        /// The key.
        id: String,
        /// Its state.
        state: &'static str,
    },
    /// Only tainted keys can be revoked.
    #[error("JWT key {id} is not tainted; taint it first so agents re-mint their tokens")]
    RevokeNotTainted {
        /// The key.
        id: String,
    },
    /// The token could not be minted (e.g. an empty audience).
    #[error(transparent)]
    Mint(#[from] JwtError),
}

/// What an operator sees of one JWT key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtAuthorityInfo {
    /// The `kid`.
    pub id: String,
    /// Rotation state.
    pub state: AuthorityState,
    /// Whether it was tainted.
    pub tainted: bool,
    /// SubjectPublicKeyInfo DER.
    pub public_key: Vec<u8>,
    /// Expiry (Unix seconds).
    pub not_after: i64,
    /// Whether this server holds its private key.
    pub local: bool,
}

/// A minted JWT-SVID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintedJwtSvid {
    /// The token (JWS compact serialization).
    pub token: String,
    /// The `kid` of the key that signed it.
    pub kid: String,
    /// Its `exp` (Unix seconds).
    pub expires_at: i64,
}

struct HeldJwt {
    key: Arc<KeyPair>,
    not_after: i64,
}

/// The JWT keys this server holds, and which one signs.
pub(super) struct JwtKeys {
    key_type: KeyType,
    held: RwLock<BTreeMap<String, HeldJwt>>,
    active: RwLock<Option<String>>,
}

impl JwtKeys {
    pub(super) fn new(key_type: KeyType) -> Self {
        Self {
            key_type,
            held: RwLock::new(BTreeMap::new()),
            active: RwLock::new(None),
        }
    }
}

fn random_kid() -> Result<String, CaError> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| std::io::Error::other("system random generator failed"))?;
    Ok(hex::encode(bytes))
}

impl Ca {
    fn jwt_held(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, HeldJwt>> {
        self.inner
            .jwt
            .held
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn jwt_held_mut(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, HeldJwt>> {
        self.inner
            .jwt
            .held
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn set_active_jwt(&self, kid: Option<String>) {
        *self
            .inner
            .jwt
            .active
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = kid;
    }

    /// The `kid` of the JWT key that signs now.
    pub fn active_jwt_kid(&self) -> Option<String> {
        self.inner
            .jwt
            .active
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Loads this server's JWT keys; returns those that lost their key file. Keys that
    /// expired while the server was down are retired (as in [`Ca::open`]). Caller holds `ops`.
    pub(super) async fn load_jwt_locked(
        &self,
        now: SystemTime,
    ) -> Result<Vec<UnusableAuthority>, CaError> {
        let mut unusable = Vec::new();
        for row in self.jwt_authorities().await? {
            let expired = row.not_after <= unix(now);
            let missing = match self.inner.keys.load_jwt_key(&row.id)? {
                Stored::Held(key) => {
                    self.jwt_held_mut().insert(
                        row.id.clone(),
                        HeldJwt {
                            key: Arc::new(key),
                            not_after: row.not_after,
                        },
                    );
                    if expired && row.state != AuthorityState::Old {
                        // Rotation removes expired old keys at its first step.
                        self.inner
                            .ds
                            .set_authority_state(&row.id, AuthorityState::Old)
                            .await?;
                        tracing::warn!(kid = %row.id, state = state_name(row.state), "JWT key expired while the server was down; retired");
                    }
                    continue;
                }
                Stored::Absent if !self.rows_are_all_mine() => continue,
                Stored::Absent => self.inner.keys.jwt_key_path(&row.id),
                Stored::Missing(path) => path,
            };
            if expired {
                self.forget_jwt(&row.id).await?;
                tracing::warn!(kid = %row.id, missing = %missing.display(), "expired JWT key with a missing file left the bundle");
                continue;
            }
            unusable.push(UnusableAuthority {
                kind: "JWT key",
                id: row.id,
                state: row.state,
                missing,
            });
        }
        Ok(unusable)
    }

    /// Makes exactly one held, valid JWT key active: the newest active one, else a prepared
    /// one (validators have it already), else a new one. Caller holds `ops`.
    pub(super) async fn ensure_active_jwt_locked(&self, now: SystemTime) -> Result<(), CaError> {
        let nowu = unix(now);
        let rows = self.jwt_authorities().await?;
        let valid = |state| {
            let mut v: Vec<&JwtAuthorityInfo> = rows
                .iter()
                .filter(|a| a.local && a.state == state && a.not_after > nowu)
                .collect();
            v.sort_by_key(|a| std::cmp::Reverse(a.not_after));
            v
        };
        let active = valid(AuthorityState::Active);
        for extra in active.iter().skip(1) {
            self.inner
                .ds
                .set_authority_state(&extra.id, AuthorityState::Old)
                .await?;
        }
        if let Some(a) = active.first() {
            self.set_active_jwt(Some(a.id.clone()));
            return Ok(());
        }
        if !valid(AuthorityState::Prepared).is_empty() {
            let a = self.activate_jwt_locked().await?;
            tracing::info!(kid = %a.id, "no valid active JWT key at start; activated the prepared one");
            return Ok(());
        }
        let kid = self.create_jwt(now, AuthorityState::Active).await?;
        tracing::info!(kid = %kid, "created JWT signing key");
        self.set_active_jwt(Some(kid));
        Ok(())
    }

    /// Generates a key, stores it, publishes its row.
    async fn create_jwt(&self, now: SystemTime, state: AuthorityState) -> Result<String, CaError> {
        let key = KeyPair::generate(self.inner.jwt.key_type)?;
        let kid = random_kid()?;
        let not_after = unix(now + self.inner.ttl);
        // Key first: a crash after it leaves an unused file, never a published key we lack.
        self.inner.keys.save_jwt_key(&kid, &key)?;
        self.inner
            .ds
            .upsert_authority(Authority {
                id: kid.clone(),
                kind: AuthorityKind::Jwt,
                public_der: key.public_key_spki_der(),
                state,
                tainted: false,
                not_after,
                created_at: 0,
            })
            .await?;
        self.jwt_held_mut().insert(
            kid.clone(),
            HeldJwt {
                key: Arc::new(key),
                not_after,
            },
        );
        Ok(kid)
    }

    /// Every JWT key of the trust domain, as an operator sees it.
    pub async fn jwt_authorities(&self) -> Result<Vec<JwtAuthorityInfo>, CaError> {
        let rows = self.inner.ds.list_authorities().await?;
        let held = self.jwt_held();
        Ok(rows
            .into_iter()
            .filter(|a| a.kind == AuthorityKind::Jwt)
            .map(|a| JwtAuthorityInfo {
                local: held.contains_key(&a.id),
                id: a.id,
                state: a.state,
                tainted: a.tainted,
                public_key: a.public_der,
                not_after: a.not_after,
            })
            .collect())
    }

    async fn jwt_info(&self, id: &str) -> Result<JwtAuthorityInfo, CaError> {
        self.jwt_authorities()
            .await?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or_else(|| JwtKeyError::NotFound { id: id.to_owned() }.into())
    }

    fn local_jwt(rows: &[JwtAuthorityInfo], state: AuthorityState) -> Option<&JwtAuthorityInfo> {
        rows.iter().find(|a| a.local && a.state == state)
    }

    /// Creates and publishes the next JWT key (state prepared).
    pub async fn prepare_jwt(&self, now: SystemTime) -> Result<JwtAuthorityInfo, CaError> {
        let _guard = self.inner.ops.lock().await;
        self.prepare_jwt_locked(now).await
    }

    async fn prepare_jwt_locked(&self, now: SystemTime) -> Result<JwtAuthorityInfo, CaError> {
        let rows = self.jwt_authorities().await?;
        if let Some(p) = Self::local_jwt(&rows, AuthorityState::Prepared) {
            return Err(JwtKeyError::AlreadyPrepared { id: p.id.clone() }.into());
        }
        let kid = self.create_jwt(now, AuthorityState::Prepared).await?;
        tracing::info!(kid = %kid, "prepared JWT signing key");
        self.jwt_info(&kid).await
    }

    /// Makes the prepared JWT key sign; the active one becomes old (and stays published).
    pub async fn activate_jwt(&self) -> Result<JwtAuthorityInfo, CaError> {
        let _guard = self.inner.ops.lock().await;
        self.activate_jwt_locked().await
    }

    async fn activate_jwt_locked(&self) -> Result<JwtAuthorityInfo, CaError> {
        let rows = self.jwt_authorities().await?;
        let prepared = Self::local_jwt(&rows, AuthorityState::Prepared)
            .ok_or(JwtKeyError::NothingPrepared)?
            .id
            .clone();
        let ds = &self.inner.ds;
        for old in rows
            .iter()
            .filter(|a| a.local && a.state == AuthorityState::Active)
        {
            ds.set_authority_state(&old.id, AuthorityState::Old).await?;
        }
        ds.set_authority_state(&prepared, AuthorityState::Active)
            .await?;
        self.set_active_jwt(Some(prepared.clone()));
        tracing::info!(kid = %prepared, "activated JWT signing key");
        self.jwt_info(&prepared).await
    }

    /// Taints an old JWT key: agents drop and re-mint every token it signed.
    pub async fn taint_jwt(&self, id: &str) -> Result<JwtAuthorityInfo, CaError> {
        let _guard = self.inner.ops.lock().await;
        let a = self.jwt_info(id).await?;
        if a.state != AuthorityState::Old {
            return Err(JwtKeyError::TaintNotOld {
                id: id.to_owned(),
                state: state_name(a.state),
            }
            .into());
        }
        self.inner.ds.taint_authority(id).await?;
        tracing::warn!(kid = %id, "tainted JWT signing key");
        self.jwt_info(id).await
    }

    /// Removes a tainted JWT key from the bundle and deletes its private key.
    pub async fn revoke_jwt(&self, id: &str) -> Result<JwtAuthorityInfo, CaError> {
        let _guard = self.inner.ops.lock().await;
        let a = self.jwt_info(id).await?;
        if !a.tainted {
            return Err(JwtKeyError::RevokeNotTainted { id: id.to_owned() }.into());
        }
        self.forget_jwt(id).await?;
        tracing::warn!(kid = %id, "revoked JWT signing key");
        Ok(a)
    }

    async fn forget_jwt(&self, id: &str) -> Result<(), CaError> {
        self.inner.ds.delete_authority(id).await?;
        self.jwt_held_mut().remove(id);
        self.inner.keys.remove_jwt_key(id)?;
        Ok(())
    }

    /// One step of JWT key rotation at `now`; how long until the next step. Caller holds `ops`.
    pub(super) async fn rotate_jwt_locked(&self, now: SystemTime) -> Result<Duration, CaError> {
        let nowu = unix(now);
        let ttl_s = i64::try_from(self.inner.ttl.as_secs()).unwrap_or(i64::MAX);
        let rows = self.jwt_authorities().await?;
        // Expired old keys leave the bundle: every token they signed has expired too.
        for a in rows
            .iter()
            .filter(|a| a.local && a.state == AuthorityState::Old && a.not_after <= nowu)
        {
            self.forget_jwt(&a.id).await?;
            tracing::info!(kid = %a.id, "expired JWT signing key left the bundle");
        }
        let Some(active) = Self::local_jwt(&rows, AuthorityState::Active).cloned() else {
            let kid = self.create_jwt(now, AuthorityState::Active).await?;
            self.set_active_jwt(Some(kid));
            return Ok(Duration::ZERO);
        };
        let prepare_at = active.not_after - ttl_s + ttl_s / 2;
        let activate_at = active.not_after - ttl_s / 6;
        let prepared = Self::local_jwt(&rows, AuthorityState::Prepared).is_some();
        if !prepared && nowu >= prepare_at {
            self.prepare_jwt_locked(now).await?;
            return Ok(Duration::ZERO);
        }
        if prepared && nowu >= activate_at {
            self.activate_jwt_locked().await?;
            return Ok(Duration::ZERO);
        }
        let next = if prepared { activate_at } else { prepare_at };
        let oldest_expiry = rows
            .iter()
            .filter(|a| a.local && a.state == AuthorityState::Old && a.not_after > nowu)
            .map(|a| a.not_after)
            .min()
            .unwrap_or(i64::MAX);
        let next = next.min(oldest_expiry).max(nowu + 1);
        Ok(Duration::from_secs(u64::try_from(next - nowu).unwrap_or(1)))
    }

    /// Mints a JWT-SVID for `sub` and `aud` with the active key: `iat` = `now`, `exp` = `now +
    /// ttl` capped at the key's expiry (so a published key outlives every token it signed).
    pub fn mint_jwt_svid(
        &self,
        sub: SpiffeId,
        aud: Vec<String>,
        ttl: Duration,
        now: SystemTime,
    ) -> Result<MintedJwtSvid, CaError> {
        let kid = self.active_jwt_kid().ok_or(JwtKeyError::NoActiveKey)?;
        let (key, not_after) = self
            .jwt_held()
            .get(&kid)
            .map(|h| (Arc::clone(&h.key), h.not_after))
            .ok_or(JwtKeyError::NoActiveKey)?;
        let iat = unix(now);
        let ttl_s = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        let exp = iat.saturating_add(ttl_s).min(not_after);
        let claims = JwtSvidClaims::new(sub, aud, iat, exp);
        let token = lanyard_jwt::mint_jwt_svid(&key, &kid, &claims).map_err(JwtKeyError::from)?;
        Ok(MintedJwtSvid {
            token,
            kid,
            expires_at: exp,
        })
    }
}
