//! JWT-SVIDs for workloads: minted by the server (`MintJwtSvids`, which checks the entries are
//! authorized for this agent), cached per identity and audience set, and minted again once half
//! their lifetime has passed.
//!
//! The node side hands [`JwtMinter`] its current server client ([`JwtMinter::set_server`]) and
//! tells it when a JWT key is tainted ([`JwtMinter::forget_key`]); the Workload API asks it for
//! tokens ([`JwtMinter::tokens`]). While the server cannot be reached, a cached token past its
//! half-life is still handed out until it expires, as X.509-SVIDs are.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lanyard_proto::lanyard::agent::v1 as pb;
use lanyard_proto::lanyard::agent::v1::agent_service_client::AgentServiceClient;
use tokio::sync::watch;
use tonic::transport::Channel;

use crate::store::WorkloadSvid;

/// The server mints for at most this many entries per call.
const MAX_MINT_BATCH: usize = 500;
/// How long one minting call may take.
const MINT_TIMEOUT: Duration = Duration::from_secs(10);
/// Cached tokens at most; beyond it, tokens due for refresh go first, then the oldest.
const MAX_CACHED: usize = 10_000;

/// Why no token could be had for any requested identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MintError {
    /// The agent has no server connection (not attested yet, or no longer served).
    #[error("the agent has no connection to the server to mint JWT-SVIDs")]
    NoServer,
    /// The server could not be reached or refused.
    #[error("the server did not mint JWT-SVIDs: {0}")]
    Server(String),
}

/// One token for one identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintedToken {
    /// The entry it was minted for.
    pub entry_id: String,
    /// The token (JWS compact serialization).
    pub token: Arc<str>,
}

/// The JWT-SVID source of the Workload API. Cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct JwtMinter {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    server: watch::Sender<Option<AgentServiceClient<Channel>>>,
    cache: Mutex<TokenCache>,
}

impl Default for Inner {
    fn default() -> Self {
        Inner {
            server: watch::Sender::new(None),
            cache: Mutex::new(TokenCache::default()),
        }
    }
}

impl JwtMinter {
    /// A minter without a server: it can only answer from its (empty) cache.
    pub fn new() -> JwtMinter {
        JwtMinter::default()
    }

    /// Sets (or, with `None`, removes) the client minting goes through. The node side calls it
    /// whenever its connection changes (attestation, SVID renewal, eviction).
    pub fn set_server(&self, client: Option<AgentServiceClient<Channel>>) {
        self.inner.server.send_replace(client);
    }

    /// Forgets every cached token signed with the JWT key `kid` (the key was tainted); they are
    /// minted again on the next request. Returns how many were dropped.
    pub fn forget_key(&self, kid: &str) -> usize {
        self.cache().forget_key(kid)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, TokenCache> {
        // The cache holds no invariant a panic could break halfway: keep using it.
        self.inner
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Tokens for `identities` with `audience` (non-empty), in their order. Fresh cached tokens
    /// are reused; the rest are minted in one call per 500. An identity the server will not mint
    /// for is left out (and logged); if none is left, the error says why.
    pub async fn tokens(
        &self,
        identities: &[Arc<WorkloadSvid>],
        audience: &[String],
    ) -> Result<Vec<MintedToken>, MintError> {
        let audience_set: Vec<String> = audience
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let key = |svid: &WorkloadSvid| CacheKey {
            entry_id: svid.entry_id.clone(),
            spiffe_id: svid.spiffe_id.as_str().to_owned(),
            audience: audience_set.clone(),
        };
        let now = SystemTime::now();
        let mut found: HashMap<String, Arc<str>> = HashMap::new();
        let mut missing = Vec::new();
        {
            let cache = self.cache();
            for svid in identities {
                match cache.fresh(&key(svid), now) {
                    Some(token) => {
                        found.insert(svid.entry_id.clone(), token);
                    }
                    None => missing.push(Arc::clone(svid)),
                }
            }
        }
        let mut failure = None;
        if !missing.is_empty() {
            let client = self.inner.server.borrow().clone();
            for batch in missing.chunks(MAX_MINT_BATCH) {
                let minted = match &client {
                    Some(client) => mint(client.clone(), batch, audience).await,
                    None => Err(MintError::NoServer),
                };
                let minted = match minted {
                    Ok(minted) => minted,
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                };
                let mut cache = self.cache();
                for (svid, result) in batch.iter().zip(minted) {
                    match result {
                        Ok(svid_pb) => {
                            let token: Arc<str> = Arc::from(svid_pb.token.as_str());
                            cache.insert(
                                key(svid),
                                Cached::new(Arc::clone(&token), now, svid_pb.expires_at),
                                now,
                            );
                            found.insert(svid.entry_id.clone(), token);
                        }
                        Err(reason) => {
                            tracing::warn!(entry_id = %svid.entry_id, %reason, "the server did not mint a JWT-SVID");
                            failure = Some(MintError::Server(reason));
                        }
                    }
                }
            }
            if let Some(e) = &failure {
                // Outage: hand out tokens past their half-life but not expired.
                let cache = self.cache();
                for svid in &missing {
                    if let Some(token) = cache.unexpired(&key(svid), now)
                        && !found.contains_key(&svid.entry_id)
                    {
                        tracing::warn!(entry_id = %svid.entry_id, error = %e, "serving a cached JWT-SVID past its half-life");
                        found.insert(svid.entry_id.clone(), token);
                    }
                }
            }
        }
        let tokens: Vec<MintedToken> = identities
            .iter()
            .filter_map(|svid| {
                found.get(&svid.entry_id).map(|token| MintedToken {
                    entry_id: svid.entry_id.clone(),
                    token: Arc::clone(token),
                })
            })
            .collect();
        match failure {
            Some(e) if tokens.is_empty() => Err(e),
            _ => Ok(tokens),
        }
    }
}

/// One `MintJwtSvids` call: per identity of `batch`, the token or why there is none.
async fn mint(
    mut client: AgentServiceClient<Channel>,
    batch: &[Arc<WorkloadSvid>],
    audience: &[String],
) -> Result<Vec<Result<lanyard_proto::lanyard::types::v1::JwtSvid, String>>, MintError> {
    let request = pb::MintJwtSvidsRequest {
        entry_ids: batch.iter().map(|s| s.entry_id.clone()).collect(),
        audience: audience.to_vec(),
    };
    let response = tokio::time::timeout(MINT_TIMEOUT, client.mint_jwt_svids(request))
        .await
        .map_err(|_| MintError::Server(format!("no answer within {MINT_TIMEOUT:?}")))?
        .map_err(|s| MintError::Server(s.message().to_owned()))?
        .into_inner();
    if response.results.len() != batch.len() {
        return Err(MintError::Server(format!(
            "asked for {} tokens, got {} results",
            batch.len(),
            response.results.len()
        )));
    }
    Ok(batch
        .iter()
        .zip(response.results)
        .map(|(svid, r)| {
            if r.entry_id != svid.entry_id {
                return Err(format!("result for entry {} out of order", r.entry_id));
            }
            match r.result {
                Some(pb::mint_jwt_svid_result::Result::Svid(s)) => Ok(s),
                Some(pb::mint_jwt_svid_result::Result::Error(e)) => Err(e.message),
                None => Err("empty result".to_owned()),
            }
        })
        .collect())
}

/// A cache key: the identity (entry and its current SPIFFE ID) and the audience set.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct CacheKey {
    entry_id: String,
    spiffe_id: String,
    /// Sorted, without duplicates.
    audience: Vec<String>,
}

#[derive(Debug, Clone)]
struct Cached {
    token: Arc<str>,
    kid: Option<String>,
    refresh_at: SystemTime,
    expires_at: SystemTime,
}

impl Cached {
    /// A token minted at `now` that expires at `exp` (Unix seconds): refreshed at half-life.
    fn new(token: Arc<str>, now: SystemTime, exp: i64) -> Cached {
        let expires_at = UNIX_EPOCH + Duration::from_secs(u64::try_from(exp).unwrap_or(0));
        let life = expires_at.duration_since(now).unwrap_or_default();
        Cached {
            kid: lanyard_jwt::unverified_key_id(&token),
            token,
            refresh_at: now + life / 2,
            expires_at,
        }
    }
}

/// Tokens by identity and audience set.
#[derive(Debug, Default)]
struct TokenCache {
    tokens: HashMap<CacheKey, Cached>,
}

impl TokenCache {
    /// A token not yet at half-life.
    fn fresh(&self, key: &CacheKey, now: SystemTime) -> Option<Arc<str>> {
        self.tokens
            .get(key)
            .filter(|c| now < c.refresh_at)
            .map(|c| Arc::clone(&c.token))
    }

    /// A token not yet expired.
    fn unexpired(&self, key: &CacheKey, now: SystemTime) -> Option<Arc<str>> {
        self.tokens
            .get(key)
            .filter(|c| now < c.expires_at)
            .map(|c| Arc::clone(&c.token))
    }

    fn insert(&mut self, key: CacheKey, cached: Cached, now: SystemTime) {
        if self.tokens.len() >= MAX_CACHED && !self.tokens.contains_key(&key) {
            self.tokens.retain(|_, c| now < c.refresh_at);
            if self.tokens.len() >= MAX_CACHED {
                let mut by_age: Vec<(SystemTime, CacheKey)> = self
                    .tokens
                    .iter()
                    .map(|(k, c)| (c.refresh_at, k.clone()))
                    .collect();
                by_age.sort();
                for (_, k) in by_age.into_iter().take(MAX_CACHED / 10) {
                    self.tokens.remove(&k);
                }
            }
        }
        self.tokens.insert(key, cached);
    }

    fn forget_key(&mut self, kid: &str) -> usize {
        let before = self.tokens.len();
        self.tokens.retain(|_, c| c.kid.as_deref() != Some(kid));
        before - self.tokens.len()
    }
}

#[cfg(test)]
mod tests {
    use lanyard_id::SpiffeId;

    use super::*;

    fn key(entry: &str, aud: &[&str]) -> CacheKey {
        CacheKey {
            entry_id: entry.to_owned(),
            spiffe_id: "spiffe://example.org/w".to_owned(),
            audience: aud.iter().map(|a| (*a).to_owned()).collect(),
        }
    }

    /// A token whose header names `kid` (the cache reads nothing else from it).
    fn token(kid: &str) -> Arc<str> {
        use base64::Engine as _;
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!(r#"{{"alg":"ES256","kid":"{kid}"}}"#));
        Arc::from(format!("{header}.e30.c2ln"))
    }

    fn unix(t: SystemTime) -> i64 {
        i64::try_from(t.duration_since(UNIX_EPOCH).unwrap().as_secs()).unwrap()
    }

    #[test]
    fn a_token_is_fresh_until_half_life_and_usable_until_expiry() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut cache = TokenCache::default();
        let k = key("e1", &["a"]);
        cache.insert(
            k.clone(),
            Cached::new(token("k1"), now, unix(now) + 300),
            now,
        );
        assert!(cache.fresh(&k, now + Duration::from_secs(149)).is_some());
        assert!(cache.fresh(&k, now + Duration::from_secs(150)).is_none());
        assert!(
            cache
                .unexpired(&k, now + Duration::from_secs(299))
                .is_some()
        );
        assert!(
            cache
                .unexpired(&k, now + Duration::from_secs(300))
                .is_none()
        );
        assert!(
            cache.fresh(&key("e1", &["a", "b"]), now).is_none(),
            "another audience set is another token"
        );
        assert!(cache.fresh(&key("e2", &["a"]), now).is_none());
    }

    #[test]
    fn forgetting_a_key_drops_only_its_tokens() {
        let now = SystemTime::now();
        let exp = unix(now) + 300;
        let mut cache = TokenCache::default();
        cache.insert(key("e1", &["a"]), Cached::new(token("old"), now, exp), now);
        cache.insert(key("e2", &["a"]), Cached::new(token("new"), now, exp), now);
        assert_eq!(cache.forget_key("old"), 1);
        assert!(cache.fresh(&key("e1", &["a"]), now).is_none());
        assert!(cache.fresh(&key("e2", &["a"]), now).is_some());
    }

    #[test]
    fn the_cache_stays_bounded() {
        let now = SystemTime::now();
        let exp = unix(now) + 300;
        let mut cache = TokenCache::default();
        for i in 0..MAX_CACHED + 5 {
            cache.insert(
                key(&format!("e{i}"), &["a"]),
                Cached::new(token("k"), now, exp),
                now,
            );
        }
        assert!(cache.tokens.len() <= MAX_CACHED);
        assert!(
            cache
                .fresh(&key(&format!("e{}", MAX_CACHED + 4), &["a"]), now)
                .is_some(),
            "the newest token is kept"
        );
    }

    #[tokio::test]
    async fn without_a_server_nothing_can_be_minted() {
        let minter = JwtMinter::new();
        let svid = Arc::new(WorkloadSvid {
            entry_id: "e1".into(),
            spiffe_id: SpiffeId::parse("spiffe://example.org/w").unwrap(),
            selectors: vec![],
            hint: String::new(),
            chain: vec![],
            key_pkcs8: Arc::from(Vec::new()),
            not_after: SystemTime::now(),
            created_at: 0,
        });
        let err = minter.tokens(&[svid], &["a".to_owned()]).await.unwrap_err();
        assert_eq!(err, MintError::NoServer);
    }
}
