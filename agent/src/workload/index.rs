//! Which SVIDs a caller's selectors match, without testing every SVID the agent holds.
//!
//! An SVID matches when *all* its entry's selectors are among the caller's
//! ([`WorkloadSvid::matches`]), so it can only match a caller that has the SVID's first selector.
//! [`SelectorIndex`] lists each SVID under its first selector; a lookup tests only the SVIDs
//! listed under one of the caller's selectors. The index is built once per published snapshot
//! (on first use) and shared by every caller and stream.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use crate::store::{Selector, Snapshot, WorkloadSvid};

/// The SVIDs of one snapshot by their first selector: positions in `Snapshot::svids`, ascending.
/// SVIDs without selectors match nothing and are not listed.
#[derive(Debug, Default)]
struct SelectorIndex {
    by_first: HashMap<Selector, Vec<usize>>,
}

impl SelectorIndex {
    fn build(snapshot: &Snapshot) -> Self {
        let mut by_first: HashMap<Selector, Vec<usize>> = HashMap::new();
        for (pos, svid) in snapshot.svids.iter().enumerate() {
            if let Some(first) = svid.selectors.first() {
                by_first.entry(first.clone()).or_default().push(pos);
            }
        }
        Self { by_first }
    }
}

/// The index of the snapshot used last. The `Weak` keeps the snapshot's allocation (not its
/// contents) alive, so no later snapshot can have the same address while it is cached.
static LAST: Mutex<Option<(Weak<Snapshot>, Arc<SelectorIndex>)>> = Mutex::new(None);

fn index_of(snapshot: &Arc<Snapshot>) -> Arc<SelectorIndex> {
    let mut last = LAST.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((cached, index)) = &*last
        && std::ptr::eq(cached.as_ptr(), Arc::as_ptr(snapshot))
    {
        return Arc::clone(index);
    }
    let index = Arc::new(SelectorIndex::build(snapshot));
    *last = Some((Arc::downgrade(snapshot), Arc::clone(&index)));
    index
}

/// The SVIDs a workload with `selectors` gets, default first (every SVID whose entry's selectors
/// the caller's include, in the snapshot's order), found through the snapshot's index.
pub(crate) fn svids_for(
    snapshot: &Arc<Snapshot>,
    selectors: &[Selector],
) -> Vec<Arc<WorkloadSvid>> {
    let index = index_of(snapshot);
    let mut candidates: Vec<usize> = selectors
        .iter()
        .filter_map(|s| index.by_first.get(s))
        .flatten()
        .copied()
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    candidates
        .into_iter()
        .filter_map(|pos| snapshot.svids.get(pos))
        .filter(|svid| svid.matches(selectors))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svid(n: usize, selectors: &[&str]) -> Arc<WorkloadSvid> {
        let selectors = selectors.iter().map(|v| Selector::new("unix", *v));
        Arc::new(WorkloadSvid::for_test(
            &format!("e{n}"),
            &format!("spiffe://example.org/w{n}"),
            selectors.collect(),
        ))
    }

    fn ids(svids: &[Arc<WorkloadSvid>]) -> Vec<String> {
        svids.iter().map(|s| s.entry_id.clone()).collect()
    }

    #[test]
    fn the_index_finds_exactly_what_a_full_scan_finds_in_snapshot_order() {
        let values = ["uid:1", "gid:1", "uid:2", "gid:2", "user:a", "group:b"];
        let mut svids = Vec::new();
        // Every subset of up to three values, in varying orders, plus one without selectors.
        for a in 0..values.len() {
            svids.push(svid(svids.len(), &[values[a]]));
            for b in 0..values.len() {
                svids.push(svid(svids.len(), &[values[b], values[a]]));
                for c in 0..values.len() {
                    svids.push(svid(svids.len(), &[values[c], values[a], values[b]]));
                }
            }
        }
        svids.push(svid(svids.len(), &[]));
        let snapshot = Arc::new(Snapshot {
            svids,
            ready: true,
            ..Snapshot::default()
        });
        let callers: [&[&str]; 5] = [
            &[],
            &["uid:1"],
            &["gid:1", "uid:1", "user:a"],
            &["uid:2", "gid:2", "gid:2", "group:b"],
            &values,
        ];
        for caller in callers {
            let selectors: Vec<Selector> =
                caller.iter().map(|v| Selector::new("unix", *v)).collect();
            // The definition, by a linear scan.
            let expected: Vec<_> = snapshot
                .svids
                .iter()
                .filter(|s| s.matches(&selectors))
                .cloned()
                .collect();
            assert_eq!(
                ids(&svids_for(&snapshot, &selectors)),
                ids(&expected),
                "{caller:?}"
            );
        }
    }

    #[test]
    fn a_new_snapshot_gets_its_own_index() {
        let selectors = [Selector::new("unix", "uid:1")];
        let first = Arc::new(Snapshot {
            svids: vec![svid(0, &["uid:1"])],
            ..Snapshot::default()
        });
        assert_eq!(ids(&svids_for(&first, &selectors)), ["e0"]);
        let second = Arc::new(Snapshot {
            svids: vec![svid(1, &["uid:2"]), svid(2, &["uid:1"])],
            ..Snapshot::default()
        });
        assert_eq!(ids(&svids_for(&second, &selectors)), ["e2"]);
        drop(first);
        assert_eq!(ids(&svids_for(&second, &selectors)), ["e2"]);
    }
}
