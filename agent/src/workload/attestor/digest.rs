//! `unix:sha256`: executable digests, cached by file identity, each computed once.
//!
//! Hashing is the one attestation step whose cost the caller controls (a 100 MiB binary is
//! 100 MiB of reads and SHA-256 per call), so it is done at most once per file version:
//!
//! - the key is the identity of the *opened* file, from `fstat` of the descriptor that is then
//!   hashed (device, inode, size, mtime, ctime), so key and digest describe the same file. A
//!   rewrite changes the ctime (which no one can set back), so it cannot reuse a stale digest;
//!   the identity is taken again after hashing, and a file that changed meanwhile gets no digest;
//! - concurrent misses for one identity wait for the one hash in flight (64 callers of one
//!   binary: one read of it);
//! - hashing runs on tokio's blocking pool and finishes even if the caller that started it gave
//!   up (the Workload API's attestation deadline): the next caller finds the result;
//! - at most [`CAPACITY`] digests are kept, the oldest dropped first.
//!
//! Counters (hits, misses, coalesced waits, hashes computed) go to debug logs.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;

use super::AttestError;

/// Digests kept at most.
pub(crate) const CAPACITY: usize = 1024;

/// What `fstat` says identifies one version of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FileId {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileId {
    fn of(meta: &std::fs::Metadata) -> FileId {
        FileId {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        }
    }
}

/// An executable opened for hashing, with the identity of what was opened.
#[derive(Debug)]
pub(crate) struct OpenedExe {
    pid: i32,
    path: PathBuf,
    file: File,
    id: FileId,
}

impl OpenedExe {
    /// Opens `path` (for a process, `/proc/<pid>/exe`: the file it runs) and `fstat`s it.
    pub(crate) fn open(pid: i32, path: PathBuf) -> Result<OpenedExe, AttestError> {
        let file = File::open(&path).map_err(|source| hash_error(pid, &path, source))?;
        let meta = file
            .metadata()
            .map_err(|source| hash_error(pid, &path, source))?;
        Ok(OpenedExe {
            pid,
            id: FileId::of(&meta),
            path,
            file,
        })
    }

    /// Its size in bytes.
    pub(crate) fn size(&self) -> u64 {
        self.id.size
    }

    /// The path it was opened at.
    pub(crate) fn path(&self) -> &std::path::Path {
        &self.path
    }
}

fn hash_error(pid: i32, file: &std::path::Path, source: std::io::Error) -> AttestError {
    AttestError::Hash {
        pid,
        file: file.to_path_buf(),
        source,
    }
}

/// A digest, or why it could not be computed (shared with every waiter, hence a string).
type Outcome = Result<Arc<str>, Arc<str>>;

#[derive(Debug)]
enum Slot {
    Ready(Arc<str>),
    /// Being computed; the value turns `Some` when done.
    Pending(watch::Receiver<Option<Outcome>>),
}

#[derive(Debug, Default)]
struct Slots {
    map: HashMap<FileId, Slot>,
    /// Insertion order, for eviction.
    order: VecDeque<FileId>,
}

/// The digest cache (see the module docs). Share it with an `Arc`.
#[derive(Debug)]
pub(crate) struct DigestCache {
    slots: Mutex<Slots>,
    capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
    coalesced: AtomicU64,
    computed: AtomicU64,
}

impl Default for DigestCache {
    fn default() -> Self {
        DigestCache::new(CAPACITY)
    }
}

impl DigestCache {
    /// A cache of at most `capacity` digests.
    pub(crate) fn new(capacity: usize) -> DigestCache {
        DigestCache {
            slots: Mutex::default(),
            capacity: capacity.max(1),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            coalesced: AtomicU64::new(0),
            computed: AtomicU64::new(0),
        }
    }

    /// How many digests were computed (read and hashed) so far.
    #[cfg(test)]
    pub(crate) fn computed(&self) -> u64 {
        self.computed.load(Ordering::Relaxed)
    }

    /// The lowercase hex SHA-256 of `exe`.
    pub(crate) async fn digest(self: &Arc<Self>, exe: OpenedExe) -> Result<Arc<str>, AttestError> {
        let (pid, path, id) = (exe.pid, exe.path.clone(), exe.id);
        let mut rx = {
            let mut slots = self.lock();
            match slots.map.get(&id) {
                Some(Slot::Ready(digest)) => {
                    let digest = Arc::clone(digest);
                    drop(slots);
                    self.log("hit", pid, &path);
                    return Ok(digest);
                }
                Some(Slot::Pending(rx)) => {
                    let rx = rx.clone();
                    drop(slots);
                    self.log("coalesced", pid, &path);
                    rx
                }
                None => {
                    let (tx, rx) = watch::channel(None);
                    let mine = rx.clone();
                    slots.map.insert(id, Slot::Pending(rx.clone()));
                    slots.order.push_back(id);
                    while slots.map.len() > self.capacity {
                        let Some(old) = slots.order.pop_front() else {
                            break;
                        };
                        slots.map.remove(&old);
                    }
                    drop(slots);
                    self.log("miss", pid, &path);
                    let cache = Arc::clone(self);
                    // Not awaited by anyone in particular: it completes (and fills the slot)
                    // even if every caller waiting for it gives up.
                    drop(tokio::task::spawn_blocking(move || {
                        cache.computed.fetch_add(1, Ordering::Relaxed);
                        let outcome = sha256_unchanged(exe).map_err(|e| Arc::from(e.to_string()));
                        cache.finish(id, &mine, outcome.clone());
                        tx.send_replace(Some(outcome));
                    }));
                    rx
                }
            }
        };
        let waited = rx.wait_for(Option::is_some).await.map(|done| done.clone());
        let outcome = match waited {
            Ok(done) => done,
            Err(_) => {
                // The hashing task ended without an answer (it panicked): forget it, so that
                // the next caller tries again.
                self.forget(id, &rx);
                None
            }
        };
        match outcome {
            Some(Ok(digest)) => Ok(digest),
            Some(Err(reason)) => Err(hash_error(
                pid,
                &path,
                std::io::Error::other(reason.to_string()),
            )),
            None => Err(AttestError::Task {
                pid,
                reason: "hashing the executable failed".into(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records the outcome of the hash of `id` (if its slot is still the one `mine` watches).
    fn finish(&self, id: FileId, mine: &watch::Receiver<Option<Outcome>>, outcome: Outcome) {
        let mut slots = self.lock();
        let ours = matches!(slots.map.get(&id), Some(Slot::Pending(rx)) if mine.same_channel(rx));
        if !ours {
            return;
        }
        match outcome {
            Ok(digest) => {
                slots.map.insert(id, Slot::Ready(digest));
            }
            Err(_) => {
                // Not cached: the next caller tries again.
                slots.map.remove(&id);
                slots.order.retain(|k| *k != id);
            }
        }
    }

    fn forget(&self, id: FileId, rx: &watch::Receiver<Option<Outcome>>) {
        let mut slots = self.lock();
        if matches!(slots.map.get(&id), Some(Slot::Pending(ours)) if ours.same_channel(rx)) {
            slots.map.remove(&id);
            slots.order.retain(|k| *k != id);
        }
    }

    fn log(&self, what: &'static str, pid: i32, path: &std::path::Path) {
        let counter = match what {
            "hit" => &self.hits,
            "miss" => &self.misses,
            _ => &self.coalesced,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(
            pid,
            file = %path.display(),
            lookup = what,
            hits = self.hits.load(Ordering::Relaxed),
            misses = self.misses.load(Ordering::Relaxed),
            coalesced = self.coalesced.load(Ordering::Relaxed),
            computed = self.computed.load(Ordering::Relaxed),
            "unix:sha256 digest cache"
        );
    }
}

/// The SHA-256 of `exe`'s open file, refused if the file changed while it was read.
fn sha256_unchanged(mut exe: OpenedExe) -> Result<Arc<str>, std::io::Error> {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = exe.file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
    }
    if FileId::of(&exe.file.metadata()?) != exe.id {
        return Err(std::io::Error::other(
            "the file changed while it was hashed",
        ));
    }
    Ok(Arc::from(hex::encode(ctx.finish())))
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn digest_of(bytes: &[u8]) -> String {
        hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_of_one_large_file_hash_it_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big-binary");
        let chunk: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
        let mut f = File::create(&path).unwrap();
        let mut whole = ring::digest::Context::new(&ring::digest::SHA256);
        for _ in 0..100 {
            f.write_all(&chunk).unwrap();
            whole.update(&chunk);
        }
        drop(f);
        let want = hex::encode(whole.finish());

        let cache = Arc::new(DigestCache::default());
        let calls: Vec<_> = (0..64)
            .map(|_| {
                let cache = Arc::clone(&cache);
                let path = path.clone();
                tokio::spawn(async move {
                    let exe = OpenedExe::open(1, path).unwrap();
                    cache.digest(exe).await.unwrap()
                })
            })
            .collect();
        for call in calls {
            assert_eq!(&*call.await.unwrap(), want);
        }
        assert_eq!(cache.computed(), 1, "64 concurrent calls, one hash");
        let counted = cache.hits.load(Ordering::Relaxed)
            + cache.misses.load(Ordering::Relaxed)
            + cache.coalesced.load(Ordering::Relaxed);
        assert_eq!(counted, 64);
        assert_eq!(cache.misses.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn a_changed_file_is_hashed_again_and_the_cache_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bin");
        std::fs::write(&path, b"one").unwrap();
        let cache = Arc::new(DigestCache::new(2));
        let digest = |cache: &Arc<DigestCache>, path: PathBuf| {
            let cache = Arc::clone(cache);
            async move {
                cache
                    .digest(OpenedExe::open(1, path).unwrap())
                    .await
                    .unwrap()
            }
        };
        assert_eq!(&*digest(&cache, path.clone()).await, digest_of(b"one"));
        assert_eq!(&*digest(&cache, path.clone()).await, digest_of(b"one"));
        assert_eq!(cache.computed(), 1);

        // Same inode, new content: size and ctime move, so the identity differs.
        std::fs::write(&path, b"second").unwrap();
        assert_eq!(&*digest(&cache, path.clone()).await, digest_of(b"second"));
        assert_eq!(cache.computed(), 2);

        let other = dir.path().join("other");
        std::fs::write(&other, b"three").unwrap();
        digest(&cache, other).await;
        let slots = cache.lock();
        assert_eq!(slots.map.len(), 2, "capacity 2");
        assert_eq!(slots.order.len(), 2);
    }

    #[tokio::test]
    async fn a_missing_file_names_pid_and_path() {
        let err = OpenedExe::open(7, PathBuf::from("/nonexistent/exe")).unwrap_err();
        let err = err.to_string();
        assert!(
            err.contains("pid 7") && err.contains("/nonexistent/exe"),
            "{err}"
        );
    }
}
