//! One leader among the servers of a trust domain, chosen by a `coordination.k8s.io/v1` Lease,
//! for the work that must run once per cluster (the auto-registration controller, the bundle
//! ConfigMap writer).
//!
//! kube-runtime 5 has no leader-election helper. `kube-lease-manager` (the maintained crate for
//! kube 5) decides by server-side-apply field ownership and has no renew deadline, so this is
//! client-go's algorithm (`tools/leaderelection`), which Kubernetes' own controllers run:
//!
//! - a candidate reads the Lease every `retry_period` (jittered) and takes it when it is free,
//!   ours, or its holder has not renewed for `leaseDurationSeconds` *as observed locally* (the
//!   time this process last saw the record change, so clocks of other machines do not matter);
//! - every write is a `PUT` conditional on the `resourceVersion` read (a `POST` when the Lease
//!   does not exist yet): of two candidates racing for it the API server lets one win, the
//!   other gets `409 Conflict`;
//! - the leader renews every `retry_period` and stops leading when no renewal succeeded for
//!   `renew_deadline` (shorter than the lease duration, so it has stopped its work before any
//!   other server may start it) or when it reads another holder;
//! - at a clean shutdown the leader gives the Lease up (empty holder), so the next server takes
//!   over at its next try rather than after the lease duration.
//!
//! [`Leadership`] tells the work when to run; [`run_while_leading`] starts and stops it.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ObjectMeta, PostParams};
use lanyard_observe::Shutdown;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::config::{K8sLeaderElectionConfig, RETRY_JITTER};

/// How long giving the Lease up at shutdown may take (the shutdown grace is 5 s by default).
const RELEASE_TIMEOUT: Duration = Duration::from_secs(2);

/// Why one try to acquire or renew the Lease did not decide anything.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LeaseError {
    /// Someone wrote the Lease between our read and our write (`409 Conflict`, or the Lease was
    /// created by another candidate at the same time): read it again.
    #[error("the Lease changed while we wrote it (another server tried at the same time)")]
    Conflict,
    /// The API server failed or could not be reached.
    #[error("Kubernetes API: {0}")]
    Api(#[from] kube::Error),
    /// The try took longer than the leader had left before its renew deadline.
    #[error("no answer from the Kubernetes API before the renew deadline")]
    Timeout,
}

/// The timing of an election; see [`K8sLeaderElectionConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseTiming {
    /// `leaseDurationSeconds`.
    pub lease_duration: Duration,
    /// How long a leader keeps leading without a successful renewal.
    pub renew_deadline: Duration,
    /// Between tries.
    pub retry_period: Duration,
}

/// Whether this process leads, as it changes.
#[derive(Debug, Clone)]
pub enum Leadership {
    /// No election: this process always leads (a single server).
    Always,
    /// Follows an [`Election`].
    Elected(watch::Receiver<bool>),
}

impl Leadership {
    /// Whether this process leads now.
    pub fn is_leader(&self) -> bool {
        match self {
            Leadership::Always => true,
            Leadership::Elected(rx) => *rx.borrow(),
        }
    }

    /// Resolves when this process leads (at once if it does); `false` if the election ended
    /// (the process is stopping) first.
    pub async fn acquired(&mut self) -> bool {
        match self {
            Leadership::Always => true,
            Leadership::Elected(rx) => rx.wait_for(|leads| *leads).await.is_ok(),
        }
    }

    /// Resolves when this process stops leading (also when the election ended); never for
    /// [`Leadership::Always`].
    pub async fn lost(&mut self) {
        match self {
            Leadership::Always => std::future::pending().await,
            Leadership::Elected(rx) => {
                let _ = rx.wait_for(|leads| !*leads).await;
            }
        }
    }
}

/// A future that resolves when the work should stop.
pub type StopSignal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Runs `work` whenever this process leads: `work(stop)` is started on becoming leader and
/// must return soon after `stop` resolves, which happens when the process stops leading or
/// shuts down. Returns at shutdown.
pub async fn run_while_leading<F, Fut>(
    mut leadership: Leadership,
    shutdown: Shutdown,
    what: &'static str,
    mut work: F,
) where
    F: FnMut(StopSignal) -> Fut,
    Fut: Future<Output = ()>,
{
    let stopping = shutdown.wait();
    tokio::pin!(stopping);
    loop {
        tokio::select! {
            // First: a work that returned by itself at shutdown is not started again.
            biased;
            () = &mut stopping => return,
            leads = leadership.acquired() => {
                if !leads {
                    return;
                }
            }
        }
        let mut lost = leadership.clone();
        let stop_at_shutdown = shutdown.wait();
        let stop: StopSignal = Box::pin(async move {
            tokio::select! {
                () = lost.lost() => {}
                () = stop_at_shutdown => {}
            }
        });
        if matches!(leadership, Leadership::Elected(_)) {
            tracing::info!(work = what, "leading: starting {what}");
        }
        work(stop).await;
        if !leadership.is_leader() {
            tracing::info!(work = what, "no longer leading: stopped {what}");
        }
    }
}

/// The identity this process holds the Lease by: `$POD_NAME` (the Deployment sets it from the
/// Downward API), else the host name, then `_` and 8 random bytes, so that two processes never
/// share one, even with one config and host name (a restarted process is a new candidate).
pub fn process_identity() -> String {
    let base = std::env::var("POD_NAME")
        .ok()
        .filter(|n| !n.trim().is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| "lanyard-server".to_owned());
    let mut suffix = [0u8; 8];
    // A failing system RNG leaves zeros: the name part still tells the processes apart unless
    // two share it, which then shows in the log line that names the identity.
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut suffix);
    format!("{base}_{}", hex::encode(suffix))
}

/// What this process last saw of the Lease, and when (client-go's `observedRecord` and
/// `observedTime`): expiry is judged by how long the record has stayed the same here.
#[derive(Debug, Default)]
struct Observed {
    spec: Option<LeaseSpec>,
    at: Option<Instant>,
}

impl Observed {
    fn see(&mut self, spec: &LeaseSpec) {
        if self.spec.as_ref() != Some(spec) {
            self.spec = Some(spec.clone());
            self.at = Some(Instant::now());
        }
    }

    /// Whether the holder seen has not renewed for its lease duration.
    fn expired(&self) -> bool {
        let (Some(spec), Some(at)) = (&self.spec, self.at) else {
            return true;
        };
        let secs = u64::try_from(spec.lease_duration_seconds.unwrap_or(0)).unwrap_or(0);
        at.elapsed() >= Duration::from_secs(secs)
    }
}

/// One candidate in the election for one Lease.
pub struct Election {
    api: Api<Lease>,
    namespace: String,
    name: String,
    identity: String,
    timing: LeaseTiming,
    observed: Observed,
}

impl std::fmt::Debug for Election {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Election")
            .field("lease", &format_args!("{}/{}", self.namespace, self.name))
            .field("identity", &self.identity)
            .field("timing", &self.timing)
            .finish_non_exhaustive()
    }
}

impl Election {
    /// A candidate for the Lease `config` names, reached through `client`, as `identity`.
    pub fn new(client: kube::Client, config: &K8sLeaderElectionConfig, identity: String) -> Self {
        Self::with_timing(
            client,
            &config.namespace,
            &config.lease_name,
            identity,
            LeaseTiming {
                lease_duration: config.lease_duration,
                renew_deadline: config.renew_deadline,
                retry_period: config.retry_period,
            },
        )
    }

    /// A candidate for `namespace/name`.
    pub fn with_timing(
        client: kube::Client,
        namespace: &str,
        name: &str,
        identity: String,
        timing: LeaseTiming,
    ) -> Self {
        Self {
            api: Api::namespaced(client, namespace),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            identity,
            timing,
            observed: Observed::default(),
        }
    }

    /// The identity this candidate holds the Lease by.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// What the election decides, and the election itself: a future to spawn, which ends
    /// (having given the Lease up if it held it) at `shutdown`.
    pub fn start(
        self,
        shutdown: Shutdown,
    ) -> (Leadership, impl Future<Output = ()> + Send + 'static) {
        let (tx, rx) = watch::channel(false);
        (Leadership::Elected(rx), self.run(tx, shutdown))
    }

    /// Candidate, leader, candidate again ... until `shutdown`.
    async fn run(mut self, leading: watch::Sender<bool>, shutdown: Shutdown) {
        let stop = shutdown.wait();
        tokio::pin!(stop);
        tracing::info!(
            identity = %self.identity,
            lease = %format_args!("{}/{}", self.namespace, self.name),
            lease_duration = %humantime::format_duration(self.timing.lease_duration),
            "leader election: candidate"
        );
        loop {
            // Candidate: try every retry period until the Lease is ours.
            let mut holder_seen: Option<String> = None;
            loop {
                match self.try_acquire_or_renew().await {
                    Ok(true) => break,
                    Ok(false) => {}
                    Err(LeaseError::Conflict) => {
                        tracing::debug!(identity = %self.identity, "leader election: lost a race for the Lease");
                    }
                    Err(e) => {
                        tracing::warn!(identity = %self.identity, error = %e, "leader election: cannot read or take the Lease; retrying");
                    }
                }
                let holder = self.holder();
                if holder.is_some() && holder != holder_seen {
                    tracing::info!(identity = %self.identity, leader = ?holder, "leader election: another server leads");
                    holder_seen = holder;
                }
                tokio::select! {
                    () = &mut stop => return,
                    () = tokio::time::sleep(jittered(self.timing.retry_period)) => {}
                }
            }
            let previous = holder_seen;
            tracing::info!(
                identity = %self.identity,
                previous = ?previous,
                transitions = self.observed.spec.as_ref().and_then(|s| s.lease_transitions).unwrap_or(0),
                "leader election: became the leader"
            );
            leading.send_replace(true);

            // Leader: renew every retry period; stop leading at the renew deadline.
            let mut renewed = Instant::now();
            let why = loop {
                tokio::select! {
                    () = &mut stop => {
                        leading.send_replace(false);
                        self.release().await;
                        return;
                    }
                    () = tokio::time::sleep(self.timing.retry_period) => {}
                }
                let deadline = renewed + self.timing.renew_deadline;
                let attempt = tokio::time::timeout_at(deadline, self.try_acquire_or_renew())
                    .await
                    .unwrap_or(Err(LeaseError::Timeout));
                match attempt {
                    Ok(true) => renewed = Instant::now(),
                    Ok(false) => {
                        break format!("the Lease is held by {:?}", self.holder());
                    }
                    Err(e) if Instant::now() >= deadline => {
                        break format!(
                            "no renewal for {} ({e})",
                            humantime::format_duration(self.timing.renew_deadline)
                        );
                    }
                    Err(e) => {
                        tracing::warn!(identity = %self.identity, error = %e, "leader election: renewal failed; retrying until the renew deadline");
                    }
                }
            };
            leading.send_replace(false);
            tracing::warn!(identity = %self.identity, reason = %why, "leader election: stopped leading");
        }
    }

    /// The holder last seen, if any.
    fn holder(&self) -> Option<String> {
        self.observed
            .spec
            .as_ref()
            .and_then(|s| s.holder_identity.clone())
            .filter(|h| !h.is_empty())
    }

    /// One round of client-go's `tryAcquireOrRenew`: `Ok(true)` when the Lease is ours now,
    /// `Ok(false)` when another holder's has not expired.
    pub async fn try_acquire_or_renew(&mut self) -> Result<bool, LeaseError> {
        let now = MicroTime(Timestamp::now());
        let Some(mut lease) = self.api.get_opt(&self.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    namespace: Some(self.namespace.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(self.record(None, now)),
            };
            let created = match self.api.create(&PostParams::default(), &lease).await {
                Ok(created) => created,
                Err(kube::Error::Api(s)) if s.is_already_exists() || s.is_conflict() => {
                    return Err(LeaseError::Conflict);
                }
                Err(e) => return Err(e.into()),
            };
            self.observed.see(&created.spec.unwrap_or_default());
            return Ok(true);
        };
        let old = lease.spec.clone().unwrap_or_default();
        self.observed.see(&old);
        let holder = old.holder_identity.as_deref().filter(|h| !h.is_empty());
        if holder.is_some_and(|h| h != self.identity) && !self.observed.expired() {
            return Ok(false);
        }
        // `lease.metadata.resource_version` is the one read: the write is conditional on it.
        lease.spec = Some(self.record(Some(&old), now));
        match self
            .api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            Ok(written) => {
                self.observed.see(&written.spec.unwrap_or_default());
                Ok(true)
            }
            Err(kube::Error::Api(s)) if s.is_conflict() => Err(LeaseError::Conflict),
            Err(e) => Err(e.into()),
        }
    }

    /// The record that makes the Lease ours from `now`, after `old`.
    fn record(&self, old: Option<&LeaseSpec>, now: MicroTime) -> LeaseSpec {
        let ours =
            old.is_some_and(|o| o.holder_identity.as_deref() == Some(self.identity.as_str()));
        let transitions = old.and_then(|o| o.lease_transitions).unwrap_or(0);
        LeaseSpec {
            holder_identity: Some(self.identity.clone()),
            lease_duration_seconds: Some(
                i32::try_from(self.timing.lease_duration.as_secs()).unwrap_or(i32::MAX),
            ),
            acquire_time: match old {
                Some(o) if ours => o.acquire_time.clone(),
                _ => Some(now.clone()),
            },
            renew_time: Some(now),
            lease_transitions: Some(match old {
                Some(_) if !ours => transitions + 1,
                _ => transitions,
            }),
            ..old.cloned().unwrap_or_default()
        }
    }

    /// Gives the Lease up if it is still ours (client-go's `ReleaseOnCancel`): an empty holder
    /// and a 1 s duration, so the next candidate takes it at its next try.
    async fn release(&mut self) {
        let release = async {
            let Some(mut lease) = self.api.get_opt(&self.name).await? else {
                return Ok::<bool, kube::Error>(false);
            };
            let mut spec = lease.spec.clone().unwrap_or_default();
            if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
                return Ok(false);
            }
            spec.holder_identity = None;
            spec.lease_duration_seconds = Some(1);
            spec.renew_time = Some(MicroTime(Timestamp::now()));
            lease.spec = Some(spec);
            self.api
                .replace(&self.name, &PostParams::default(), &lease)
                .await?;
            Ok(true)
        };
        match tokio::time::timeout(RELEASE_TIMEOUT, release).await {
            Ok(Ok(true)) => {
                tracing::info!(identity = %self.identity, "leader election: gave the Lease up at shutdown");
            }
            Ok(Ok(false)) => {}
            Ok(Err(e)) => {
                tracing::warn!(identity = %self.identity, error = %e, "leader election: cannot give the Lease up; the next server takes over when it expires");
            }
            Err(_) => {
                tracing::warn!(identity = %self.identity, "leader election: no answer giving the Lease up; the next server takes over when it expires");
            }
        }
    }
}

/// `period` stretched by a random factor in [1, [`RETRY_JITTER`]), so candidates started
/// together do not keep colliding.
fn jittered(period: Duration) -> Duration {
    let mut b = [0u8; 2];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    let unit = f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX);
    period.mul_f64(1.0 + (RETRY_JITTER - 1.0) * unit)
}

#[cfg(test)]
#[path = "leader_tests.rs"]
mod tests;
