//! How refreshing each foreign bundle goes, as this server saw it: kept in memory per trust
//! domain by the refresher, read by the admin API (`federation show|list`). Each server sharing
//! a datastore refreshes on its own, so this is never stored.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use lanyard_id::TrustDomain;
use tokio::time::Instant;

/// The refresh state of one relationship.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefreshStatus {
    /// When the last fetch started.
    pub last_attempt_at: Option<SystemTime>,
    /// When a fetch last succeeded (the bundle was stored, or was already current).
    pub last_success_at: Option<SystemTime>,
    /// Why the last attempt failed; `None` after a success.
    pub last_error: Option<String>,
    /// When the next scheduled fetch is due.
    pub next_attempt_at: Option<SystemTime>,
    /// Failed attempts since the last success.
    pub consecutive_failures: u32,
}

#[derive(Debug, Default)]
struct Slot {
    status: RefreshStatus,
    /// When the next scheduled fetch is due, on the monotonic clock the refresher sleeps on.
    due: Option<Instant>,
}

/// Every relationship's [`RefreshStatus`], shared by the refresher and the admin API.
#[derive(Debug, Clone, Default)]
pub struct StatusBoard {
    slots: Arc<Mutex<BTreeMap<TrustDomain, Slot>>>,
}

impl StatusBoard {
    fn with<R>(&self, f: impl FnOnce(&mut BTreeMap<TrustDomain, Slot>) -> R) -> R {
        f(&mut self.slots.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The status of `td`'s relationship; `None` before its first scheduled attempt.
    pub fn get(&self, td: &TrustDomain) -> Option<RefreshStatus> {
        self.with(|s| s.get(td).map(|slot| slot.status.clone()))
    }

    /// A fetch of `td` starts at `now`.
    pub(crate) fn attempt(&self, td: &TrustDomain, now: SystemTime) {
        self.with(|s| s.entry(td.clone()).or_default().status.last_attempt_at = Some(now));
    }

    /// A fetch of `td` ended at `now`, with `error` if it failed; `delay(failures)` says when to
    /// fetch next given the failures in a row now. Returns that delay.
    pub(crate) fn finished(
        &self,
        td: &TrustDomain,
        now: SystemTime,
        error: Option<String>,
        delay: impl FnOnce(u32) -> Duration,
    ) -> Duration {
        self.with(|s| {
            let slot = s.entry(td.clone()).or_default();
            let st = &mut slot.status;
            match error {
                None => {
                    st.last_success_at = Some(now);
                    st.last_error = None;
                    st.consecutive_failures = 0;
                }
                Some(e) => {
                    st.last_error = Some(e);
                    st.consecutive_failures = st.consecutive_failures.saturating_add(1);
                }
            }
            let wait = delay(st.consecutive_failures);
            st.next_attempt_at = Some(now + wait);
            slot.due = Some(Instant::now() + wait);
            wait
        })
    }

    /// When the next fetch of `td` is due: at once when none is scheduled.
    pub(crate) fn due(&self, td: &TrustDomain) -> Instant {
        self.with(|s| s.get(td).and_then(|slot| slot.due))
            .unwrap_or_else(Instant::now)
    }

    /// Forgets `td` (its relationship ended, or changed and starts over).
    pub(crate) fn remove(&self, td: &TrustDomain) {
        self.with(|s| s.remove(td));
    }

    /// Keeps only the trust domains `keep` holds.
    pub(crate) fn retain(&self, keep: impl Fn(&TrustDomain) -> bool) {
        self.with(|s| s.retain(|td, _| keep(td)));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn counts_failures_until_a_success() {
        let board = StatusBoard::default();
        let td = TrustDomain::new("orders.example").unwrap();
        assert_eq!(board.get(&td), None);
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        board.attempt(&td, t0);
        let seen = std::cell::Cell::new(0);
        let wait = board.finished(&td, t0, Some("HTTP 500".into()), |n| {
            seen.set(n);
            Duration::from_secs(2)
        });
        assert_eq!((wait, seen.get()), (Duration::from_secs(2), 1));
        board.finished(&td, t0, Some("HTTP 500 again".into()), |n| {
            seen.set(n);
            Duration::from_secs(4)
        });
        assert_eq!(seen.get(), 2);
        let st = board.get(&td).unwrap();
        assert_eq!(st.last_attempt_at, Some(t0));
        assert_eq!(st.last_success_at, None);
        assert_eq!(st.last_error.as_deref(), Some("HTTP 500 again"));
        assert_eq!(st.consecutive_failures, 2);
        assert_eq!(st.next_attempt_at, Some(t0 + Duration::from_secs(4)));
        assert!(board.due(&td) > Instant::now());

        let t1 = t0 + Duration::from_secs(10);
        board.finished(&td, t1, None, |n| {
            seen.set(n);
            Duration::from_secs(300)
        });
        assert_eq!(seen.get(), 0);
        let st = board.get(&td).unwrap();
        assert_eq!(
            (st.last_success_at, st.last_error, st.consecutive_failures),
            (Some(t1), None, 0)
        );

        board.remove(&td);
        assert_eq!(board.get(&td), None);
        assert!(board.due(&td) <= Instant::now(), "unscheduled: due at once");
    }
}
