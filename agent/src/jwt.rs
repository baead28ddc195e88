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
use std::time::{Duration, SystemTime};

use lanyard_proto::lanyard::agent::v1 as pb;
use lanyard_proto::lanyard::agent::v1::agent_service_client::AgentServiceClient;
use tokio::sync::watch;
use tonic::transport::Channel;

use crate::store::WorkloadSvid;
use cache::{CacheKey, Cached, TokenCache};

mod cache;
#[cfg(test)]
mod tests;

/// The server mints for at most this many entries per call.
const MAX_MINT_BATCH: usize = 500;
/// How long one minting call may take.
const MINT_TIMEOUT: Duration = Duration::from_secs(10);

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
    state: Mutex<State>,
}

impl Default for Inner {
    fn default() -> Self {
        Inner {
            server: watch::Sender::new(None),
            state: Mutex::new(State::default()),
        }
    }
}

/// What one mint gave for one key.
type Outcome = Result<Arc<str>, MintError>;

/// The cache and the mints in flight, under one lock (never held across an await).
#[derive(Debug, Default)]
struct State {
    cache: TokenCache,
    /// Per key being minted: the flight's number and where its outcome will appear.
    flights: HashMap<CacheKey, Flight>,
    next_flight: u64,
    /// How many times a caller has waited for another's mint (tests watch it).
    #[cfg(test)]
    followers: watch::Sender<usize>,
}

#[derive(Debug)]
struct Flight {
    id: u64,
    outcome: watch::Receiver<Option<Outcome>>,
}

/// For one call of [`JwtMinter::tokens`], what to do per identity not cached.
#[derive(Default)]
struct Plan {
    /// Mint these (this call registered their flights).
    lead: Vec<Lead>,
    /// Wait for another call's mint of these.
    follow: Vec<(
        Arc<WorkloadSvid>,
        CacheKey,
        watch::Receiver<Option<Outcome>>,
    )>,
}

/// An identity this call mints for the others.
struct Lead {
    svid: Arc<WorkloadSvid>,
    key: CacheKey,
    /// Where the outcome is published; dropping it unpublished sends followers round again.
    outcome: watch::Sender<Option<Outcome>>,
    /// The flight's number in [`State::flights`].
    flight: u64,
}

/// Unregisters the flights a call leads when it ends, normally or not (a cancelled call drops
/// its senders, and its followers take over).
struct Landing<'a> {
    minter: &'a JwtMinter,
    flights: Vec<(CacheKey, u64)>,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        if self.flights.is_empty() {
            return;
        }
        let mut state = self.minter.state();
        for (key, id) in self.flights.drain(..) {
            if state.flights.get(&key).is_some_and(|f| f.id == id) {
                state.flights.remove(&key);
            }
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
        self.state().cache.forget_key(kid)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state holds no invariant a panic could break halfway: keep using it.
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Tokens for `identities` with `audience` (non-empty, within `lanyard_jwt`'s bounds), in
    /// their order. Fresh cached tokens are reused; the rest are minted in one call per 500, or
    /// awaited from a concurrent call already minting them. An identity the server will not
    /// mint for is left out (and logged); if none is left, the error says why.
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
        let mut found: HashMap<String, Arc<str>> = HashMap::new();
        let mut failure = None;
        let mut pending: Vec<Arc<WorkloadSvid>> = identities.to_vec();
        // Each round mints what no one else is minting, then waits for the rest; a flight
        // whose leader went away sends its identities round again.
        while !pending.is_empty() {
            let plan = self.plan(&pending, &audience_set, &mut found);
            pending.clear();
            // Unregisters this round's flights even if this call is dropped mid-mint.
            let landing = Landing {
                minter: self,
                flights: plan
                    .lead
                    .iter()
                    .map(|l| (l.key.clone(), l.flight))
                    .collect(),
            };
            self.lead(plan.lead, audience, &mut found, &mut failure)
                .await;
            drop(landing);
            for (svid, key, mut rx) in plan.follow {
                let outcome = match rx.wait_for(Option::is_some).await {
                    Ok(outcome) => outcome.clone(),
                    Err(_) => None,
                };
                match outcome {
                    Some(Ok(token)) => {
                        found.insert(key.entry_id, token);
                    }
                    Some(Err(e)) => failure = Some(e),
                    None => pending.push(svid),
                }
            }
        }
        if let Some(e) = &failure {
            // Outage: hand out tokens past their half-life but not expired.
            let now = SystemTime::now();
            let mut state = self.state();
            for svid in identities {
                if found.contains_key(&svid.entry_id) {
                    continue;
                }
                if let Some(token) = state.cache.unexpired(&cache_key(svid, &audience_set), now) {
                    tracing::warn!(entry_id = %svid.entry_id, error = %e, "serving a cached JWT-SVID past its half-life");
                    found.insert(svid.entry_id.clone(), token);
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

    /// Under the lock: fresh cached tokens go to `found`; identities someone is minting are
    /// followed; the rest are led, their flights registered.
    fn plan(
        &self,
        pending: &[Arc<WorkloadSvid>],
        audience_set: &[String],
        found: &mut HashMap<String, Arc<str>>,
    ) -> Plan {
        let now = SystemTime::now();
        let mut plan = Plan::default();
        let mut state = self.state();
        for svid in pending {
            let key = cache_key(svid, audience_set);
            if let Some(token) = state.cache.fresh(&key, now) {
                found.insert(svid.entry_id.clone(), token);
                continue;
            }
            // A flight whose sender is gone (its leader was cancelled before unregistering)
            // is no flight.
            if let Some(flight) = state.flights.get(&key)
                && flight.outcome.has_changed().is_ok()
            {
                let rx = flight.outcome.clone();
                #[cfg(test)]
                state.followers.send_modify(|n| *n += 1);
                plan.follow.push((Arc::clone(svid), key, rx));
                continue;
            }
            let (tx, rx) = watch::channel(None);
            state.next_flight += 1;
            let id = state.next_flight;
            state
                .flights
                .insert(key.clone(), Flight { id, outcome: rx });
            plan.lead.push(Lead {
                svid: Arc::clone(svid),
                key,
                outcome: tx,
                flight: id,
            });
        }
        plan
    }

    /// Mints the led identities, caches and publishes each outcome.
    async fn lead(
        &self,
        lead: Vec<Lead>,
        audience: &[String],
        found: &mut HashMap<String, Arc<str>>,
        failure: &mut Option<MintError>,
    ) {
        if lead.is_empty() {
            return;
        }
        let client = self.inner.server.borrow().clone();
        // After a failed call, the remaining batches fail alike: no point asking again now.
        let mut call_failed: Option<MintError> = None;
        for batch in lead.chunks(MAX_MINT_BATCH) {
            let svids: Vec<Arc<WorkloadSvid>> = batch.iter().map(|l| Arc::clone(&l.svid)).collect();
            let minted = match (&call_failed, &client) {
                (Some(e), _) => Err(e.clone()),
                (None, Some(client)) => mint(client.clone(), &svids, audience).await,
                (None, None) => Err(MintError::NoServer),
            };
            let now = SystemTime::now();
            let outcomes: Vec<Result<(Arc<str>, i64), MintError>> = match minted {
                Ok(results) => batch
                    .iter()
                    .zip(results)
                    .map(|(l, r)| match r {
                        Ok(svid) => Ok((Arc::from(svid.token.as_str()), svid.expires_at)),
                        Err(reason) => {
                            tracing::warn!(entry_id = %l.svid.entry_id, %reason, "the server did not mint a JWT-SVID");
                            Err(MintError::Server(reason))
                        }
                    })
                    .collect(),
                Err(e) => {
                    call_failed = Some(e.clone());
                    batch.iter().map(|_| Err(e.clone())).collect()
                }
            };
            {
                // One lock for caching and landing: a caller arriving now finds either the
                // flight or the token.
                let mut state = self.state();
                for (l, outcome) in batch.iter().zip(&outcomes) {
                    if let Ok((token, exp)) = outcome {
                        state
                            .cache
                            .insert(l.key.clone(), Cached::new(Arc::clone(token), now, *exp));
                    }
                    if state.flights.get(&l.key).is_some_and(|f| f.id == l.flight) {
                        state.flights.remove(&l.key);
                    }
                }
            }
            for (l, outcome) in batch.iter().zip(outcomes) {
                let outcome = outcome.map(|(token, _)| token);
                match &outcome {
                    Ok(token) => {
                        found.insert(l.svid.entry_id.clone(), Arc::clone(token));
                    }
                    Err(e) => *failure = Some(e.clone()),
                }
                l.outcome.send_replace(Some(outcome));
            }
        }
    }
}

/// The cache key of `svid` for `audience_set` (sorted, without duplicates).
fn cache_key(svid: &WorkloadSvid, audience_set: &[String]) -> CacheKey {
    CacheKey {
        entry_id: svid.entry_id.clone(),
        spiffe_id: svid.spiffe_id.as_str().to_owned(),
        audience: audience_set.to_vec(),
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
