//! When the refresher fetches a foreign bundle next: a pure function of the bundle's refresh
//! hint, the failures in a row, the floor and one random number, so tests pin it exactly.
//!
//! The rule (SPIFFE_Federation §4.1: poll at the refresh hint; Trust Domain and Bundle §6.2: about
//! five minutes without one; §6.2 of Federation: after a failure, retry "at the next polling
//! interval" rather than aggressively):
//!
//! - interval `I = min(max(hint or 5 min, floor), max(1 h, floor))`: the hint, never faster than
//!   `floor` (a hostile or broken endpoint cannot make us poll it in a loop) and never slower
//!   than an hour (a huge hint must not stall rotation), the floor winning over the hour;
//! - after a success: `I × U[0.9, 1.1]`, at least `floor`;
//! - after the n-th failure in a row: `min(I, floor × 2^(n−1)) × U[0.8, 1.2]`, kept within
//!   `[floor, I]`: backoff from the floor, doubling, capped at the interval, so a failing endpoint
//!   is retried sooner than a healthy one is polled but never sooner than `floor`, and never later
//!   than the next regular poll.
//!
//! Jitter spreads servers that share a datastore (each polls) and relationships created together.

use std::time::Duration;

/// The poll interval when a bundle carries no `spiffe_refresh_hint` (Trust Domain and Bundle
/// §6.2).
pub const DEFAULT_REFRESH_HINT: Duration = Duration::from_secs(5 * 60);

/// The longest poll interval, whatever the hint.
pub const MAX_INTERVAL: Duration = Duration::from_secs(60 * 60);

/// The default `refresh_floor`: the shortest delay between two fetches of one endpoint.
pub const DEFAULT_FLOOR: Duration = Duration::from_secs(30);

/// The delay before the next fetch. `hint` is the last fetched (or stored) bundle's refresh hint,
/// `consecutive_failures` the fetches that failed since the last success (0 after a success),
/// `r` a uniform random number in `[0, 1)` (clamped into it).
pub fn next_delay(
    hint: Option<Duration>,
    consecutive_failures: u32,
    floor: Duration,
    r: f64,
) -> Duration {
    let r = if r.is_nan() { 0.5 } else { r.clamp(0.0, 1.0) };
    let interval = hint
        .unwrap_or(DEFAULT_REFRESH_HINT)
        .max(floor)
        .min(MAX_INTERVAL.max(floor));
    if consecutive_failures == 0 {
        return interval.mul_f64(0.9 + 0.2 * r).max(floor);
    }
    let doubling = 2u32.saturating_pow(consecutive_failures - 1);
    let backoff = floor.checked_mul(doubling).unwrap_or(Duration::MAX);
    backoff
        .min(interval)
        .mul_f64(0.8 + 0.4 * r)
        .clamp(floor, interval)
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    #[test]
    fn table() {
        let floor = s(30);
        // (hint, failures, r, expected)
        let cases: &[(Option<Duration>, u32, f64, Duration)] = &[
            // Success: the hint, ±10 %.
            (Some(s(300)), 0, 0.5, s(300)),
            (Some(s(300)), 0, 0.0, s(270)),
            (
                Some(s(300)),
                0,
                0.999_999,
                s(300).mul_f64(0.9 + 0.2 * 0.999_999),
            ),
            // No hint: five minutes.
            (None, 0, 0.5, s(300)),
            // A hint under the floor polls at the floor, never under it.
            (Some(s(1)), 0, 0.0, s(30)),
            (Some(s(0)), 0, 0.5, s(30)),
            // A huge hint is capped at an hour.
            (Some(s(86_400)), 0, 0.5, s(3600)),
            // Failures: floor, doubling, ±20 %, within [floor, interval].
            (Some(s(300)), 1, 0.5, s(30)),
            (Some(s(300)), 1, 0.0, s(30)), // 24 s would be under the floor
            (Some(s(300)), 1, 0.999, s(30).mul_f64(0.8 + 0.4 * 0.999)),
            (Some(s(300)), 2, 0.5, s(60)),
            (Some(s(300)), 3, 0.5, s(120)),
            (Some(s(300)), 4, 0.5, s(240)),
            (Some(s(300)), 5, 0.5, s(300)),   // capped at the interval
            (Some(s(300)), 5, 0.999, s(300)), // never later than the next regular poll
            (Some(s(300)), 5, 0.0, s(240)),
            (Some(s(300)), 40, 0.5, s(300)), // 2^39 × floor overflows: still the interval
            (Some(s(300)), u32::MAX, 0.5, s(300)),
            (None, 3, 0.5, s(120)),
        ];
        for &(hint, failures, r, expected) in cases {
            assert_eq!(
                next_delay(hint, failures, floor, r),
                expected,
                "hint {hint:?}, failures {failures}, r {r}"
            );
        }
    }

    #[test]
    fn floor_above_an_hour_wins() {
        assert_eq!(next_delay(Some(s(60)), 0, s(7200), 0.5), s(7200));
        assert_eq!(next_delay(None, 3, s(7200), 0.0), s(7200));
    }

    #[test]
    fn never_under_the_floor_nor_over_the_jittered_interval() {
        let floor = s(30);
        for hint in [None, Some(s(0)), Some(s(31)), Some(s(600)), Some(s(99_999))] {
            for failures in [0, 1, 2, 7, 31, 32, 1000] {
                for r in [-1.0, 0.0, 0.25, 0.5, 0.75, 0.999_999, 1.0, 7.0, f64::NAN] {
                    let d = next_delay(hint, failures, floor, r);
                    assert!(d >= floor, "{hint:?} {failures} {r}: {d:?}");
                    assert!(d <= s(3600).mul_f64(1.1), "{hint:?} {failures} {r}: {d:?}");
                }
            }
        }
    }
}
