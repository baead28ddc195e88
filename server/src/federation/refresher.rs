//! The refresher: fetches every foreign trust domain's bundle from its bundle endpoint on a
//! schedule and stores it when it is fresher (SPIFFE Federation §4.2, §6).
//!
//! One supervisor follows the relationships (all of them at start, then each
//! `CacheEvent::Relationship`, and all again after a reload or a missed event) and keeps one
//! task per relationship, which fetches at once and then when [`schedule::next_delay`] says:
//! the bundle's refresh hint clamped to `[refresh_floor, 1 h]` with jitter, and after failures
//! a backoff from the floor (§6.2: retry at the next polling interval, not aggressively). The
//! tasks are bounded by the number of relationships, which only an admin creates.
//!
//! Each round ([`Shared::round`]): build the TLS config of the profile (`https_web`: the Web
//! PKI roots; `https_spiffe`: the stored bundle of the endpoint ID's trust domain, or our own,
//! §5.2.2.2), [`fetch`] within its bounds, refuse what would hurt (a sequence above `i64::MAX`;
//! for a self-serving `https_spiffe` endpoint a bundle under which the endpoint's own certificate
//! does not verify, which would lock us out of every later refresh), then
//! `Datastore::store_fetched_bundle`, whose transaction applies the sequence rule (a different
//! bundle with a sequence not above the stored one is refused). Every round is logged (§7.6):
//! info when a new bundle is stored (and an audit event `bundle.refresh`), debug when nothing
//! changed, warn on failure naming the cause and the bundle kept. The admin API's `federation
//! refresh` runs the same round at once ([`FederationHandle::refresh_now`]).
//!
//! Several servers on one PostgreSQL each refresh; the sequence rule in one transaction makes
//! that safe, and each keeps its own [`RefreshStatus`].

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime};

use lanyard_datastore::{
    Datastore, DatastoreError, EndpointProfile, FederatedBundle, FederationRelationship,
    StoreOutcome,
};
use lanyard_id::TrustDomain;
use lanyard_tls::TrustStore;
use lanyard_x509::{Bundle, BundleSet};
use tokio::sync::Notify;
use tokio::sync::broadcast::error::RecvError;

use super::fetch::{FetchLimits, fetch, web_roots};
use super::schedule;
use super::status::{RefreshStatus, StatusBoard};
use super::url::EndpointUrl;
use crate::admin::audit;
use crate::cache::{CacheEvent, EntryCache};

/// Who the audit events of fetched bundles name.
const CALLER: &str = "lanyard-server federation refresher";

/// How long the supervisor waits before reading the relationships again after the datastore
/// failed it.
const RESYNC_RETRY: Duration = Duration::from_secs(5);

/// The refresher's settings (`[federation]`).
#[derive(Debug, Clone)]
pub struct RefresherSettings {
    /// The shortest delay between two fetches of one endpoint.
    pub refresh_floor: Duration,
    /// The bounds of one fetch.
    pub limits: FetchLimits,
    /// The `https_web` client config when `https_web_ca_path` is configured (loaded at start);
    /// `None`: the system's roots, loaded at the first `https_web` fetch.
    pub web_tls: Option<Arc<rustls::ClientConfig>>,
}

impl Default for RefresherSettings {
    fn default() -> Self {
        Self {
            refresh_floor: schedule::DEFAULT_FLOOR,
            limits: FetchLimits::default(),
            web_tls: None,
        }
    }
}

/// Why [`FederationHandle::refresh_now`] has no bundle to return.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RefreshError {
    /// No relationship names the trust domain.
    #[error(
        "no federation relationship with trust domain {0}: create one with `federation create --trust-domain {0}`"
    )]
    NoRelationship(TrustDomain),
    /// The datastore failed.
    #[error(transparent)]
    Datastore(#[from] DatastoreError),
    /// The fetch failed or its bundle was refused; the message names the URL, the cause and the
    /// bundle kept.
    #[error("{0}")]
    Failed(String),
}

/// What the refresher and its handles share.
struct Shared {
    ds: Datastore,
    cache: EntryCache,
    own_td: TrustDomain,
    floor: Duration,
    limits: FetchLimits,
    web_tls: OnceLock<Result<Arc<rustls::ClientConfig>, String>>,
    board: StatusBoard,
    /// Wakes a relationship's task to read its schedule again (after a refresh on demand).
    kicks: Mutex<BTreeMap<TrustDomain, Arc<Notify>>>,
}

/// The refresher; [`Refresher::run`] runs it, [`Refresher::handle`] is what the admin API holds.
pub struct Refresher {
    shared: Arc<Shared>,
}

/// The admin API's way to the refresher: each relationship's status and refreshes on demand.
/// Cheap to clone.
#[derive(Clone)]
pub struct FederationHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for FederationHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FederationHandle")
            .field("trust_domain", &self.shared.own_td)
            .finish_non_exhaustive()
    }
}

impl FederationHandle {
    /// How refreshing `td`'s bundle went on this server; `None` before its first attempt.
    pub fn status(&self, td: &TrustDomain) -> Option<RefreshStatus> {
        self.shared.board.get(td)
    }

    /// Fetches `td`'s bundle now (as a scheduled round would, logged the same way) and returns
    /// the bundle stored afterwards. The schedule continues from this attempt.
    pub async fn refresh_now(&self, td: &TrustDomain) -> Result<FederatedBundle, RefreshError> {
        let shared = &self.shared;
        let rel = shared
            .ds
            .get_relationship(td)
            .await?
            .ok_or_else(|| RefreshError::NoRelationship(td.clone()))?;
        let result = shared.round(&rel).await;
        shared.kick(td);
        result.map_err(RefreshError::Failed)?;
        shared.ds.get_federated_bundle(td).await?.ok_or_else(|| {
            RefreshError::Failed(format!(
                "the bundle of {td} was deleted right after it was stored"
            ))
        })
    }
}

impl Refresher {
    /// A refresher of the relationships in `ds`, for trust domain `own_td`, following `cache`.
    pub fn new(
        ds: Datastore,
        cache: EntryCache,
        own_td: TrustDomain,
        settings: RefresherSettings,
    ) -> Self {
        let web_tls = OnceLock::new();
        if let Some(config) = settings.web_tls {
            let _ = web_tls.set(Ok(config));
        }
        Self {
            shared: Arc::new(Shared {
                ds,
                cache,
                own_td,
                floor: settings.refresh_floor,
                limits: settings.limits,
                web_tls,
                board: StatusBoard::default(),
                kicks: Mutex::new(BTreeMap::new()),
            }),
        }
    }

    /// The handle the admin API uses.
    pub fn handle(&self) -> FederationHandle {
        FederationHandle {
            shared: self.shared.clone(),
        }
    }

    /// Refreshes every relationship until `shutdown` completes (or the cache closes).
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let shared = self.shared;
        // Subscribed before the first read, so no change between the two is missed.
        let mut events = shared.cache.subscribe();
        let mut workers: BTreeMap<TrustDomain, Worker> = BTreeMap::new();
        let mut resync = true;
        tokio::pin!(shutdown);
        loop {
            if resync {
                resync = !shared.sync_all(&mut workers).await;
            }
            let retry = async {
                if resync {
                    tokio::time::sleep(RESYNC_RETRY).await;
                } else {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                () = &mut shutdown => break,
                () = retry => {}
                event = events.recv() => match event {
                    Ok(tagged) => match &tagged.event {
                        CacheEvent::Relationship { trust_domain } => {
                            resync = !shared.sync_one(trust_domain, &mut workers).await;
                        }
                        CacheEvent::Reloaded => resync = true,
                        _ => {}
                    },
                    Err(RecvError::Lagged(_)) => resync = true,
                    Err(RecvError::Closed) => break,
                },
            }
        }
        // Dropping the workers aborts their tasks.
        drop(workers);
    }
}

/// One relationship's task.
struct Worker {
    rel: FederationRelationship,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Whether `a` and `b` fetch from the same endpoint the same way.
fn same_endpoint(a: &FederationRelationship, b: &FederationRelationship) -> bool {
    a.endpoint_url == b.endpoint_url
        && a.profile == b.profile
        && a.endpoint_spiffe_id == b.endpoint_spiffe_id
}

/// A uniform random number in `[0, 1)` for the schedule's jitter.
fn uniform() -> f64 {
    let mut b = [0u8; 4];
    match ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b) {
        Ok(()) => f64::from(u32::from_le_bytes(b)) / 4_294_967_296.0,
        Err(_) => 0.5,
    }
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

impl Shared {
    /// Reads every relationship and makes the workers match; `false` if the datastore failed.
    async fn sync_all(self: &Arc<Self>, workers: &mut BTreeMap<TrustDomain, Worker>) -> bool {
        let rels = match self.ds.list_relationships().await {
            Ok(rels) => rels,
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?RESYNC_RETRY, "cannot read the federation relationships; trying again");
                return false;
            }
        };
        let names: std::collections::BTreeSet<TrustDomain> =
            rels.iter().map(|r| r.trust_domain.clone()).collect();
        for gone in workers
            .keys()
            .filter(|td| !names.contains(*td))
            .cloned()
            .collect::<Vec<_>>()
        {
            self.stop(&gone, workers);
        }
        self.board.retain(|td| names.contains(td));
        for rel in rels {
            self.start_or_keep(rel, workers);
        }
        true
    }

    /// Reads the relationship of `td` and makes its worker match; `false` if the datastore
    /// failed.
    async fn sync_one(
        self: &Arc<Self>,
        td: &TrustDomain,
        workers: &mut BTreeMap<TrustDomain, Worker>,
    ) -> bool {
        match self.ds.get_relationship(td).await {
            Ok(Some(rel)) => self.start_or_keep(rel, workers),
            Ok(None) => self.stop(td, workers),
            Err(e) => {
                tracing::warn!(trust_domain = %td, error = %e, "cannot read a changed federation relationship; reading them all again soon");
                return false;
            }
        }
        true
    }

    fn start_or_keep(
        self: &Arc<Self>,
        rel: FederationRelationship,
        workers: &mut BTreeMap<TrustDomain, Worker>,
    ) {
        let td = rel.trust_domain.clone();
        if let Some(w) = workers.get_mut(&td)
            && same_endpoint(&w.rel, &rel)
        {
            w.rel = rel;
            return;
        }
        // Changed: start over (failures forgotten, first fetch at once). New to this loop: keep
        // what a refresh on demand already recorded (the admin API may refresh a relationship it
        // just created before its change event reaches this loop); its schedule stands too.
        if workers.remove(&td).is_some() {
            self.board.remove(&td);
        }
        tracing::info!(
            trust_domain = %td,
            url = %rel.endpoint_url,
            profile = %rel.profile,
            "refreshing the bundle of {td} from its bundle endpoint"
        );
        let kick = Arc::new(Notify::new());
        self.kicks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(td.clone(), kick.clone());
        let task = tokio::spawn(work(self.clone(), rel.clone(), kick));
        workers.insert(td, Worker { rel, task });
    }

    fn stop(&self, td: &TrustDomain, workers: &mut BTreeMap<TrustDomain, Worker>) {
        if workers.remove(td).is_some() {
            tracing::info!(trust_domain = %td, "federation relationship ended; no longer refreshing the bundle of {td}");
        }
        self.board.remove(td);
        self.kicks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(td);
    }

    fn kick(&self, td: &TrustDomain) {
        if let Some(kick) = self
            .kicks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(td)
        {
            kick.notify_one();
        }
    }

    /// One refresh of `rel`'s bundle: fetch, check, store, log, record the status and the next
    /// attempt. `Err` is the message the admin API returns (cause and the bundle kept).
    async fn round(&self, rel: &FederationRelationship) -> Result<(), String> {
        let td = &rel.trust_domain;
        self.board.attempt(td, SystemTime::now());
        let result = self.fetch_and_store(rel).await;
        let now = SystemTime::now();
        match result {
            Ok((outcome, bundle)) => {
                let hint = bundle.refresh_hint;
                let wait = self.board.finished(td, now, None, |n| self.delay(hint, n));
                let sequence = bundle.sequence_number;
                if outcome == StoreOutcome::Updated {
                    tracing::info!(
                        trust_domain = %td,
                        sequence,
                        x509_authorities = bundle.x509_authorities.len(),
                        jwt_authorities = bundle.jwt_authorities.len(),
                        url = %rel.endpoint_url,
                        next_refresh_in = %humantime::format_duration(wait),
                        "stored a new bundle of {td} (sequence {sequence}) from its bundle endpoint"
                    );
                    audit!(
                        CALLER,
                        "bundle.refresh",
                        trust_domain = %td,
                        sequence,
                        "federated bundle refreshed"
                    );
                } else {
                    tracing::debug!(
                        trust_domain = %td,
                        sequence,
                        url = %rel.endpoint_url,
                        next_refresh_in = %humantime::format_duration(wait),
                        "the bundle of {td} is unchanged"
                    );
                }
                Ok(())
            }
            Err(error) => {
                let (kept, hint) = self.kept(td).await;
                let wait = self
                    .board
                    .finished(td, now, Some(error.clone()), |n| self.delay(hint, n));
                let failures = self.board.get(td).map_or(0, |s| s.consecutive_failures);
                tracing::warn!(
                    trust_domain = %td,
                    url = %rel.endpoint_url,
                    profile = %rel.profile,
                    consecutive_failures = failures,
                    next_attempt_in = %humantime::format_duration(wait),
                    "bundle refresh failed: {error}; {kept}"
                );
                Err(format!("{error}; {kept}"))
            }
        }
    }

    /// The delay before the next fetch.
    fn delay(&self, hint: Option<Duration>, failures: u32) -> Duration {
        schedule::next_delay(hint, failures, self.floor, uniform())
    }

    /// What stays in force after a failed round, in words, and its refresh hint.
    async fn kept(&self, td: &TrustDomain) -> (String, Option<Duration>) {
        match self.ds.get_federated_bundle(td).await {
            Ok(Some(stored)) => {
                let hint = Bundle::from_jwks_json(td.clone(), stored.bundle_json.as_bytes())
                    .ok()
                    .and_then(|b| b.refresh_hint);
                let at = u64::try_from(stored.updated_at)
                    .map(|s| rfc3339(SystemTime::UNIX_EPOCH + Duration::from_secs(s)))
                    .unwrap_or_default();
                (
                    format!(
                        "keeping the bundle of sequence {} stored at {at}",
                        stored.sequence
                    ),
                    hint,
                )
            }
            Ok(None) => (format!("no bundle of {td} is stored yet"), None),
            Err(e) => (format!("keeping the stored bundle (not read: {e})"), None),
        }
    }

    /// Fetches, checks and stores `rel`'s bundle; the outcome and the fetched bundle, or why
    /// not (a stale bundle is an error).
    async fn fetch_and_store(
        &self,
        rel: &FederationRelationship,
    ) -> Result<(StoreOutcome, Bundle), String> {
        let td = &rel.trust_domain;
        let url = EndpointUrl::parse(&rel.endpoint_url).map_err(|e| {
            format!(
                "the bundle endpoint URL of {td} cannot be used: {e} (change it with `federation update`)"
            )
        })?;
        let tls = self.client_config(rel).await?;
        let fetched = fetch(&url, tls, td, &self.limits)
            .await
            .map_err(|e| e.to_string())?;
        let refused =
            |why: String| format!("the bundle of {td} fetched from {url} was refused: {why}");
        let self_serving = rel.profile == EndpointProfile::HttpsSpiffe
            && rel
                .endpoint_spiffe_id
                .as_ref()
                .is_some_and(|id| id.trust_domain() == *td);
        if self_serving {
            // §5.2.2.4: later connections are verified with the latest fetched bundle; one that
            // does not verify the endpoint would make every later refresh fail.
            if fetched.bundle.x509_authorities.is_empty() {
                return Err(refused(
                    "it holds no X.509 authority, so the endpoint (of that trust domain) could not be verified at the next refresh".to_owned(),
                ));
            }
            if let Err(e) = lanyard_x509::verify_x509_svid(
                &fetched.peer_chain,
                &fetched.bundle,
                SystemTime::now(),
            ) {
                return Err(refused(format!(
                    "the endpoint's own X.509-SVID does not verify with it ({e}), so storing it would lock this server out of the next refresh"
                )));
            }
        }
        let sequence = fetched.bundle.sequence_number;
        if i64::try_from(sequence).is_err() {
            return Err(refused(format!(
                "its sequence number {sequence} is above the largest one stored ({})",
                i64::MAX
            )));
        }
        let json = fetched
            .bundle
            .to_jwks_json()
            .map_err(|e| refused(format!("it cannot be encoded again: {e}")))?;
        let fresh = &fetched.bundle;
        let outcome = self
            .ds
            .store_fetched_bundle(td, &json, sequence, |stored| {
                Bundle::from_jwks_json(td.clone(), stored.as_bytes())
                    .is_ok_and(|stored| stored.same_keys(fresh))
            })
            .await
            .map_err(|e| format!("storing the bundle of {td} fetched from {url} failed: {e}"))?;
        match outcome {
            StoreOutcome::Stale { stored } => Err(refused(format!(
                "it has other keys than the stored bundle but sequence {sequence}, not above the stored {stored}: an older bundle (SPIFFE Federation §4.2)"
            ))),
            outcome => Ok((outcome, fetched.bundle)),
        }
    }

    /// The TLS client config `rel`'s profile verifies its endpoint with.
    async fn client_config(
        &self,
        rel: &FederationRelationship,
    ) -> Result<Arc<rustls::ClientConfig>, String> {
        let td = &rel.trust_domain;
        match rel.profile {
            EndpointProfile::HttpsWeb => self
                .web_tls
                .get_or_init(|| {
                    let roots = web_roots(None)?;
                    lanyard_tls::web_pki_client_config(roots).map_err(|e| e.to_string())
                })
                .clone()
                .map_err(|e| format!("cannot verify the https_web endpoint of {td}: {e}")),
            EndpointProfile::HttpsSpiffe => {
                let Some(id) = rel.endpoint_spiffe_id.clone() else {
                    return Err(format!(
                        "the https_spiffe relationship with {td} names no endpoint SPIFFE ID (change it with `federation update`)"
                    ));
                };
                let endpoint_td = id.trust_domain();
                let bundle = if endpoint_td == self.own_td {
                    (*self.cache.bundle()).clone()
                } else {
                    let missing = || {
                        format!(
                            "no bundle of {endpoint_td} is stored to verify the endpoint {id} with (https_spiffe): give one with `federation update --trust-domain {td} ... --bootstrap-bundle FILE` or `bundle set --trust-domain {endpoint_td}`"
                        )
                    };
                    let stored = self
                        .ds
                        .get_federated_bundle(&endpoint_td)
                        .await
                        .map_err(|e| format!("cannot read the bundle of {endpoint_td}: {e}"))?
                        .ok_or_else(missing)?;
                    Bundle::from_jwks_json(endpoint_td.clone(), stored.bundle_json.as_bytes())
                        .map_err(|e| {
                            format!("the stored bundle of {endpoint_td} does not decode: {e}")
                        })?
                };
                if bundle.x509_authorities.is_empty() {
                    return Err(format!(
                        "the bundle of {endpoint_td} holds no X.509 authority to verify the endpoint {id} with (https_spiffe): set one with `bundle set --trust-domain {endpoint_td}`"
                    ));
                }
                lanyard_tls::spiffe_endpoint_client_config(
                    TrustStore::new(BundleSet::from_iter([bundle])),
                    id,
                )
                .map_err(|e| format!("TLS setup for the endpoint of {td}: {e}"))
            }
        }
    }
}

/// A relationship's task: a round whenever its schedule says, until aborted.
async fn work(shared: Arc<Shared>, rel: FederationRelationship, kick: Arc<Notify>) {
    loop {
        let due = shared.board.due(&rel.trust_domain);
        tokio::select! {
            () = tokio::time::sleep_until(due) => {
                // The outcome is logged and recorded by the round.
                let _ = shared.round(&rel).await;
            }
            // A refresh on demand moved the schedule.
            () = kick.notified() => {}
        }
    }
}

#[cfg(test)]
#[path = "refresher_tests.rs"]
mod tests;
