//! The JWT-SVID cache: tokens by identity and audience set, bounded both in entries and in
//! bytes, least recently used out first.
//!
//! The bound is in bytes because a caller chooses what keys it: the audience set. Even within
//! `lanyard_jwt`'s request bounds (16 values of 512 bytes) one entry can hold ~20 KiB (the
//! audiences in the key and again in the token), so an entry count alone would let a local
//! caller grow the agent by hundreds of MiB. Eviction is least recently used (a hit counts as a
//! use), so the tokens workloads keep asking for survive a caller cycling through new audience
//! sets; what such a caller can still do is evict the others' tokens, which costs them one mint
//! each, not memory.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Cached tokens at most.
pub(super) const MAX_CACHED: usize = 10_000;
/// Bytes the cache may account for (see [`TokenCache::cost`]) by default.
pub(super) const DEFAULT_MAX_BYTES: usize = 8 * 1024 * 1024;

/// A cache key: the identity (entry and its current SPIFFE ID) and the audience set.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct CacheKey {
    pub(super) entry_id: String,
    pub(super) spiffe_id: String,
    /// Sorted, without duplicates.
    pub(super) audience: Vec<String>,
}

/// A cached token and when it is due.
#[derive(Debug, Clone)]
pub(super) struct Cached {
    token: Arc<str>,
    kid: Option<String>,
    refresh_at: SystemTime,
    expires_at: SystemTime,
}

impl Cached {
    /// A token minted at `now` that expires at `exp` (Unix seconds): refreshed at half-life.
    pub(super) fn new(token: Arc<str>, now: SystemTime, exp: i64) -> Cached {
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

#[derive(Debug)]
struct Slot {
    cached: Cached,
    /// The tick of the last use: its key in [`TokenCache::by_use`].
    used: u64,
    /// What it counts for in [`TokenCache::bytes`].
    cost: usize,
}

/// Tokens by identity and audience set.
#[derive(Debug)]
pub(super) struct TokenCache {
    tokens: HashMap<Arc<CacheKey>, Slot>,
    /// Use order: tick of last use → key. The first entry is the least recently used.
    by_use: BTreeMap<u64, Arc<CacheKey>>,
    tick: u64,
    /// The sum of the entries' costs.
    bytes: usize,
    max_bytes: usize,
    max_entries: usize,
}

impl Default for TokenCache {
    fn default() -> Self {
        TokenCache::with_limits(MAX_CACHED, DEFAULT_MAX_BYTES)
    }
}

impl TokenCache {
    /// A cache of at most `max_entries` tokens accounting for at most `max_bytes`.
    pub(super) fn with_limits(max_entries: usize, max_bytes: usize) -> TokenCache {
        TokenCache {
            tokens: HashMap::new(),
            by_use: BTreeMap::new(),
            tick: 0,
            bytes: 0,
            max_bytes,
            max_entries,
        }
    }

    /// What an entry counts for: the bytes of its strings (token, `kid`, entry ID, SPIFFE ID,
    /// audiences) plus a fixed overhead for the structures around them (the map slots, the
    /// use index, the `String` headers). An estimate that never undercounts what a caller
    /// controls (the audiences and, through them, the token's size).
    fn cost(key: &CacheKey, cached: &Cached) -> usize {
        const PER_ENTRY: usize = 256;
        const PER_STRING: usize = std::mem::size_of::<String>();
        let audience: usize = key.audience.iter().map(|a| a.len() + PER_STRING).sum();
        PER_ENTRY
            + key.entry_id.len()
            + key.spiffe_id.len()
            + audience
            + cached.token.len()
            + cached.kid.as_ref().map_or(0, String::len)
    }

    /// Marks `key` used now; its token.
    fn touch(&mut self, key: &CacheKey) -> Option<&Cached> {
        let slot = self.tokens.get_mut(key)?;
        self.tick += 1;
        if let Some(shared) = self.by_use.remove(&slot.used) {
            self.by_use.insert(self.tick, shared);
            slot.used = self.tick;
        }
        Some(&slot.cached)
    }

    /// A token not yet at half-life (a use of it).
    pub(super) fn fresh(&mut self, key: &CacheKey, now: SystemTime) -> Option<Arc<str>> {
        let cached = self.tokens.get(key)?;
        if now >= cached.cached.refresh_at {
            return None;
        }
        self.touch(key).map(|c| Arc::clone(&c.token))
    }

    /// A token not yet expired (a use of it).
    pub(super) fn unexpired(&mut self, key: &CacheKey, now: SystemTime) -> Option<Arc<str>> {
        let cached = self.tokens.get(key)?;
        if now >= cached.cached.expires_at {
            return None;
        }
        self.touch(key).map(|c| Arc::clone(&c.token))
    }

    /// Caches `cached` under `key` (replacing what it held), evicting the least recently used
    /// tokens until both bounds hold. A token that alone exceeds the byte bound is not cached.
    pub(super) fn insert(&mut self, key: CacheKey, cached: Cached) {
        self.remove(&key);
        let cost = TokenCache::cost(&key, &cached);
        if cost > self.max_bytes || self.max_entries == 0 {
            tracing::warn!(entry_id = %key.entry_id, cost, "JWT-SVID too large to cache");
            return;
        }
        while self.tokens.len() >= self.max_entries || self.bytes + cost > self.max_bytes {
            let Some((_, oldest)) = self.by_use.pop_first() else {
                break;
            };
            if let Some(slot) = self.tokens.remove(&oldest) {
                self.bytes -= slot.cost;
            }
        }
        self.tick += 1;
        let key = Arc::new(key);
        self.by_use.insert(self.tick, Arc::clone(&key));
        self.tokens.insert(
            key,
            Slot {
                cached,
                used: self.tick,
                cost,
            },
        );
        self.bytes += cost;
    }

    fn remove(&mut self, key: &CacheKey) {
        if let Some(slot) = self.tokens.remove(key) {
            self.by_use.remove(&slot.used);
            self.bytes -= slot.cost;
        }
    }

    /// Drops every token signed with `kid`; how many.
    pub(super) fn forget_key(&mut self, kid: &str) -> usize {
        let doomed: Vec<Arc<CacheKey>> = self
            .tokens
            .iter()
            .filter(|(_, s)| s.cached.kid.as_deref() == Some(kid))
            .map(|(k, _)| Arc::clone(k))
            .collect();
        for key in &doomed {
            self.remove(key);
        }
        doomed.len()
    }

    /// How many tokens are cached.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.tokens.len()
    }

    /// What the cached tokens count for, in bytes.
    #[cfg(test)]
    pub(super) fn bytes(&self) -> usize {
        debug_assert_eq!(self.by_use.len(), self.tokens.len());
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(entry: &str, aud: &[&str]) -> CacheKey {
        CacheKey {
            entry_id: entry.to_owned(),
            spiffe_id: "spiffe://example.org/w".to_owned(),
            audience: aud.iter().map(|a| (*a).to_owned()).collect(),
        }
    }

    /// A token whose header names `kid` (the cache reads nothing else from it), padded with
    /// `pad` bytes of payload.
    fn token(kid: &str, pad: usize) -> Arc<str> {
        use base64::Engine as _;
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!(r#"{{"alg":"ES256","kid":"{kid}"}}"#));
        Arc::from(format!("{header}.{}.c2ln", "e".repeat(pad)))
    }

    fn unix(t: SystemTime) -> i64 {
        i64::try_from(t.duration_since(UNIX_EPOCH).unwrap().as_secs()).unwrap()
    }

    fn cached(kid: &str, pad: usize, now: SystemTime) -> Cached {
        Cached::new(token(kid, pad), now, unix(now) + 300)
    }

    #[test]
    fn a_token_is_fresh_until_half_life_and_usable_until_expiry() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut cache = TokenCache::default();
        let k = key("e1", &["a"]);
        cache.insert(k.clone(), cached("k1", 0, now));
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
    fn forgetting_a_key_drops_only_its_tokens_and_their_bytes() {
        let now = SystemTime::now();
        let mut cache = TokenCache::default();
        cache.insert(key("e1", &["a"]), cached("old", 0, now));
        let one = cache.bytes();
        cache.insert(key("e2", &["a"]), cached("new", 0, now));
        assert_eq!(cache.forget_key("old"), 1);
        assert!(cache.fresh(&key("e1", &["a"]), now).is_none());
        assert!(cache.fresh(&key("e2", &["a"]), now).is_some());
        assert_eq!(cache.bytes(), one, "same-sized entries");
    }

    #[test]
    fn the_cache_stays_bounded_in_entries() {
        let now = SystemTime::now();
        let mut cache = TokenCache::default();
        for i in 0..MAX_CACHED + 5 {
            cache.insert(key(&format!("e{i}"), &["a"]), cached("k", 0, now));
        }
        assert_eq!(cache.len(), MAX_CACHED);
        assert!(
            cache
                .fresh(&key(&format!("e{}", MAX_CACHED + 4), &["a"]), now)
                .is_some(),
            "the newest token is kept"
        );
        assert!(
            cache.fresh(&key("e0", &["a"]), now).is_none(),
            "the oldest is gone"
        );
    }

    /// The hostile case: a caller cycling through large audience sets. The bytes stay under
    /// the bound however many it tries, and a token someone keeps using survives.
    #[test]
    fn the_cache_stays_bounded_in_bytes_and_evicts_the_least_recently_used() {
        let now = SystemTime::now();
        let max_bytes = 64 * 1024;
        let mut cache = TokenCache::with_limits(MAX_CACHED, max_bytes);
        let busy = key("busy", &["api"]);
        cache.insert(busy.clone(), cached("k", 0, now));
        let big = "x".repeat(lanyard_jwt::MAX_AUDIENCE_LEN);
        for i in 0..200 {
            let aud: Vec<String> = (0..lanyard_jwt::MAX_AUDIENCES)
                .map(|j| format!("{i}-{j}-{big}"))
                .collect();
            let aud: Vec<&str> = aud.iter().map(String::as_str).collect();
            // A token carries its audiences: about as large again.
            cache.insert(key("attacker", &aud), cached("k", 16 * 600, now));
            assert!(
                cache.bytes() <= max_bytes,
                "{} > {max_bytes}",
                cache.bytes()
            );
            assert!(cache.fresh(&busy, now).is_some(), "round {i}: evicted");
        }
        assert!(
            cache.len() < 10,
            "{} entries of ~20 KiB in 64 KiB",
            cache.len()
        );
        // Without uses, the busy token would go first.
        let first = key("first", &["a"]);
        cache.insert(first.clone(), cached("k", 20_000, now));
        cache.insert(key("second", &["a"]), cached("k", 20_000, now));
        cache.insert(key("third", &["a"]), cached("k", 20_000, now));
        cache.insert(key("fourth", &["a"]), cached("k", 20_000, now));
        assert!(
            cache.fresh(&first, now).is_none(),
            "least recently used first"
        );
        assert!(cache.bytes() <= max_bytes);
    }

    #[test]
    fn a_token_larger_than_the_bound_is_not_cached_and_evicts_nothing() {
        let now = SystemTime::now();
        let mut cache = TokenCache::with_limits(10, 4096);
        cache.insert(key("small", &["a"]), cached("k", 0, now));
        let before = cache.bytes();
        cache.insert(key("huge", &["a"]), cached("k", 5000, now));
        assert!(cache.fresh(&key("huge", &["a"]), now).is_none());
        assert!(cache.fresh(&key("small", &["a"]), now).is_some());
        assert_eq!(cache.bytes(), before);
    }

    #[test]
    fn replacing_a_token_keeps_the_accounting_exact() {
        let now = SystemTime::now();
        let mut cache = TokenCache::default();
        let k = key("e", &["a"]);
        cache.insert(k.clone(), cached("k", 100, now));
        cache.insert(k.clone(), cached("k", 10, now));
        assert_eq!(cache.len(), 1);
        let mut alone = TokenCache::default();
        alone.insert(k, cached("k", 10, now));
        assert_eq!(cache.bytes(), alone.bytes());
    }
}
