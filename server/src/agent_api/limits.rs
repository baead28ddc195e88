//! Bounds on what one caller of the agent API can take from the others (issue 14).
//!
//! - [`SignLimiter`]: at most `max_concurrent_signs_per_agent` signing calls
//!   (`BatchSignX509Svids`, `MintJwtSvids`) of one agent run at a time; up to
//!   [`QUEUED_SIGNS_PER_AGENT`] more wait for a turn, and beyond that a call fails at once with
//!   `ResourceExhausted`. Waiting, not failing, is the normal case: an agent with many workloads
//!   mints JWT-SVIDs for several audiences at once, and each call takes milliseconds; the queue
//!   bound only stops an agent from parking an unbounded number of requests (each up to
//!   [`super::MAX_BATCH`] items) in server memory.
//! - [`AttestLimiter`]: unauthenticated `Attest` streams in flight, per source IP address and in
//!   total. Beyond either limit a new attestation fails at once with `ResourceExhausted`
//!   (never queued: an unauthenticated caller must not be able to hold server memory by
//!   queueing).
//!
//! Both are a mutex around a small map whose entries are removed when their last holder leaves,
//! so memory follows the callers in flight, not every caller ever seen.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use lanyard_id::SpiffeId;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::Status;

/// How many signing calls of one agent may wait for a turn beyond those running.
pub const QUEUED_SIGNS_PER_AGENT: usize = 32;

/// The bounds of the agent API (`[agent_api]` in server.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentApiLimits {
    /// Signing calls of one agent that run at the same time.
    pub max_concurrent_signs_per_agent: usize,
    /// How long a whole attestation may take, from the stream's opening to the verdict.
    pub attestation_timeout: std::time::Duration,
    /// Attestations in flight from one source IP address.
    pub max_attestations_per_ip: usize,
    /// Attestations in flight in total.
    pub max_attestations: usize,
}

impl Default for AgentApiLimits {
    fn default() -> Self {
        Self {
            max_concurrent_signs_per_agent: 2,
            attestation_timeout: std::time::Duration::from_secs(30),
            max_attestations_per_ip: 64,
            max_attestations: 1024,
        }
    }
}

/// One agent's turns: `admit` counts running plus waiting calls, `run` the running ones.
#[derive(Debug)]
struct Turns {
    admit: Arc<Semaphore>,
    run: Arc<Semaphore>,
}

/// Per-agent concurrency limit on signing work.
#[derive(Debug)]
pub(crate) struct SignLimiter {
    limit: usize,
    agents: Mutex<HashMap<SpiffeId, Arc<Turns>>>,
}

/// A running signing call's turn; dropping it lets the next call of the same agent run. It moves
/// into the blocking signing task, so a caller that goes away does not free its turn before the
/// work it started is done.
#[derive(Debug)]
pub(crate) struct SignTurn {
    limiter: Arc<SignLimiter>,
    agent: SpiffeId,
    permits: Option<(OwnedSemaphorePermit, OwnedSemaphorePermit)>,
    turns: Option<Arc<Turns>>,
}

impl SignLimiter {
    /// At most `limit` (at least 1) concurrent signing calls per agent.
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit: limit.max(1),
            agents: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for `agent`'s turn; `ResourceExhausted` at once when
    /// [`QUEUED_SIGNS_PER_AGENT`] calls of it are waiting already.
    pub(crate) async fn turn(self: &Arc<Self>, agent: &SpiffeId) -> Result<SignTurn, Status> {
        let turns = {
            let mut agents = self.agents.lock().unwrap_or_else(PoisonError::into_inner);
            agents
                .entry(agent.clone())
                .or_insert_with(|| {
                    Arc::new(Turns {
                        admit: Arc::new(Semaphore::new(self.limit + QUEUED_SIGNS_PER_AGENT)),
                        run: Arc::new(Semaphore::new(self.limit)),
                    })
                })
                .clone()
        };
        let (admit, run) = (turns.admit.clone(), turns.run.clone());
        // From here on the guard owns `turns`: an early return or a cancelled wait still cleans
        // the map up.
        let mut turn = SignTurn {
            limiter: self.clone(),
            agent: agent.clone(),
            permits: None,
            turns: Some(turns),
        };
        let Ok(admitted) = admit.try_acquire_owned() else {
            return Err(Status::resource_exhausted(format!(
                "agent {agent} has {} signing calls running and {QUEUED_SIGNS_PER_AGENT} waiting: \
                 wait for them before sending more",
                self.limit
            )));
        };
        let running = run
            .acquire_owned()
            .await
            .map_err(|_| Status::unavailable("the server is shutting down"))?;
        turn.permits = Some((admitted, running));
        Ok(turn)
    }

    /// Agents with a call running or waiting.
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.agents
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl Drop for SignTurn {
    fn drop(&mut self) {
        self.permits = None;
        let mut agents = self
            .limiter
            .agents
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Dropped under the lock, where every clone is made: when only the map's copy is left,
        // no call of this agent runs or waits.
        self.turns = None;
        if agents
            .get(&self.agent)
            .is_some_and(|t| Arc::strong_count(t) == 1)
        {
            agents.remove(&self.agent);
        }
    }
}

/// Limits on unauthenticated attestations in flight.
#[derive(Debug)]
pub(crate) struct AttestLimiter {
    per_ip: usize,
    total: usize,
    state: Mutex<AttestCounts>,
}

#[derive(Debug, Default)]
struct AttestCounts {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// An attestation in flight; dropping it frees its place.
#[derive(Debug)]
pub(crate) struct AttestSlot {
    limiter: Arc<AttestLimiter>,
    ip: Option<IpAddr>,
}

impl AttestLimiter {
    /// At most `per_ip` attestations from one address and `total` in all.
    pub(crate) fn new(per_ip: usize, total: usize) -> Self {
        Self {
            per_ip,
            total,
            state: Mutex::new(AttestCounts::default()),
        }
    }

    /// A place for an attestation from `ip` (unknown addresses count only in the total), or
    /// `ResourceExhausted` at once.
    pub(crate) fn admit(self: &Arc<Self>, ip: Option<IpAddr>) -> Result<AttestSlot, Status> {
        let refused = || {
            Status::resource_exhausted(
                "too many attestations in progress: retry in a few seconds".to_owned(),
            )
        };
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.total >= self.total {
            tracing::warn!(remote = ?ip, limit = self.total, "attestation refused: too many in progress in total");
            return Err(refused());
        }
        if let Some(ip) = ip {
            let n = state.per_ip.entry(ip).or_insert(0);
            if *n >= self.per_ip {
                tracing::warn!(remote = %ip, limit = self.per_ip, "attestation refused: too many in progress from this address");
                return Err(refused());
            }
            *n += 1;
        }
        state.total += 1;
        Ok(AttestSlot {
            limiter: self.clone(),
            ip,
        })
    }

    /// (total, addresses) in flight.
    #[cfg(test)]
    fn in_flight(&self) -> (usize, usize) {
        let s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        (s.total, s.per_ip.len())
    }
}

impl Drop for AttestSlot {
    fn drop(&mut self) {
        let mut state = self
            .limiter
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        state.total = state.total.saturating_sub(1);
        if let Some(ip) = self.ip
            && let Some(n) = state.per_ip.get_mut(&ip)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                state.per_ip.remove(&ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tonic::Code;

    use super::*;

    fn id(path: &str) -> SpiffeId {
        SpiffeId::parse(&format!("spiffe://example.org{path}")).unwrap()
    }

    #[tokio::test]
    async fn one_agent_waits_beyond_its_limit_while_another_runs_at_once() {
        let limiter = Arc::new(SignLimiter::new(2));
        let (a, b) = (id("/agent/a"), id("/agent/b"));
        let first = limiter.turn(&a).await.unwrap();
        let _second = limiter.turn(&a).await.unwrap();

        // A's third call does not run beside the two...
        let third = limiter.turn(&a);
        tokio::pin!(third);
        assert!(
            tokio::time::timeout(Duration::from_millis(100), &mut third)
                .await
                .is_err(),
            "a third call of agent A ran beside two others"
        );
        // ...while B's first call runs at once.
        let b_turn = tokio::time::timeout(Duration::from_millis(100), limiter.turn(&b))
            .await
            .expect("agent B waited for agent A")
            .unwrap();
        drop(b_turn);

        // A's third call runs as soon as one of A's calls ends.
        drop(first);
        let third = tokio::time::timeout(Duration::from_secs(5), third)
            .await
            .expect("the waiting call did not get its turn")
            .unwrap();
        drop(third);
        drop(_second);
        assert_eq!(limiter.tracked(), 0, "no agent is tracked once idle");
    }

    #[tokio::test]
    async fn waiting_calls_are_bounded() {
        let limiter = Arc::new(SignLimiter::new(1));
        let a = id("/agent/a");
        let running = limiter.turn(&a).await.unwrap();
        let mut waiting = Vec::new();
        for _ in 0..QUEUED_SIGNS_PER_AGENT {
            let (limiter, a) = (limiter.clone(), a.clone());
            waiting.push(tokio::spawn(async move {
                limiter.turn(&a).await.map(|_| ()).map_err(|s| s.code())
            }));
        }
        // Every waiter has taken its admission before the next call is refused.
        tokio::time::timeout(Duration::from_secs(5), async {
            while limiter.agents.lock().unwrap()[&a].admit.available_permits() > 0 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .unwrap();
        let refused = limiter.turn(&a).await.unwrap_err();
        assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
        assert!(refused.message().contains("32 waiting"), "{refused:?}");
        drop(running);
        for w in waiting {
            assert_eq!(w.await.unwrap(), Ok(()));
        }
        assert_eq!(limiter.tracked(), 0);
    }

    #[test]
    fn attestations_are_limited_per_address_and_in_total() {
        let limiter = Arc::new(AttestLimiter::new(2, 3));
        let (x, y): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let x1 = limiter.admit(Some(x)).unwrap();
        let _x2 = limiter.admit(Some(x)).unwrap();
        let s = limiter.admit(Some(x)).unwrap_err();
        assert_eq!(s.code(), Code::ResourceExhausted);
        assert_eq!(
            s.message(),
            "too many attestations in progress: retry in a few seconds"
        );
        let _y1 = limiter.admit(Some(y)).unwrap();
        // Total reached: another address, or an unknown one, is refused too.
        let z: IpAddr = "10.0.0.3".parse().unwrap();
        assert_eq!(
            limiter.admit(Some(z)).unwrap_err().code(),
            Code::ResourceExhausted
        );
        assert_eq!(
            limiter.admit(None).unwrap_err().code(),
            Code::ResourceExhausted
        );
        drop(x1);
        let _x3 = limiter.admit(Some(x)).unwrap();
        assert_eq!(limiter.in_flight(), (3, 2));
        drop((_x2, _x3, _y1));
        assert_eq!(
            limiter.in_flight(),
            (0, 0),
            "no address is tracked once idle"
        );
    }
}
