//! A caller's server stream: the full state now, then again whenever it changes (SPIFFE Workload
//! API §4.3: "Every stream response message sent by the server MUST include the full set of
//! information"; "the first response message ... MUST be sent as soon as possible").

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use lanyard_proto::workload::{
    JwtBundlesResponse, JwtsvidResponse, X509BundlesResponse, X509svidResponse,
};
use tokio::sync::watch;
use tokio_stream::Stream;
use tokio_stream::wrappers::WatchStream;
use tonic::Status;
use zeroize::Zeroize as _;

use super::response::Denial;
use crate::store::{Selector, Snapshot};

/// A server-streaming response.
pub(super) type ResponseStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// An attested caller.
#[derive(Debug, Clone)]
pub(super) struct Caller {
    pub(super) method: &'static str,
    pub(super) pid: i32,
    pub(super) uid: u32,
    pub(super) selectors: Vec<Selector>,
}

impl Caller {
    fn selectors_text(&self) -> String {
        let all: Vec<String> = self.selectors.iter().map(Selector::to_string).collect();
        all.join(",")
    }
}

fn denial_status(denial: Denial) -> Status {
    match denial {
        Denial::NotReady => Status::unavailable("the agent has not synced with the server yet"),
        Denial::NoIdentity => Status::permission_denied("no identity issued"),
    }
}

/// Logs a denial and returns the status that says it.
pub(super) fn deny(caller: &Caller, denial: Denial) -> Status {
    log_denied(caller, denial);
    denial_status(denial)
}

fn log_denied(caller: &Caller, denial: Denial) {
    tracing::warn!(
        method = caller.method,
        pid = caller.pid,
        uid = caller.uid,
        selectors = %caller.selectors_text(),
        reason = ?denial,
        "denied"
    );
}

/// What a response hands out, for the log: SPIFFE IDs or trust domains.
pub(super) trait Served: PartialEq + Clone + Send + Unpin + 'static {
    fn served(&self) -> Vec<String>;

    /// Overwrites the private keys it carries, if any (see [`Wiped`]).
    fn wipe_secrets(&mut self) {}
}

impl Served for X509svidResponse {
    fn served(&self) -> Vec<String> {
        self.svids.iter().map(|s| s.spiffe_id.clone()).collect()
    }

    fn wipe_secrets(&mut self) {
        for svid in &mut self.svids {
            svid.x509_svid_key.zeroize();
        }
    }
}

/// A response a stream holds (the last one sent, or a new one compared with it), wiped when
/// dropped: an `X509SVIDResponse` carries every SVID's PKCS#8 key (`x509_svid_key`), copied
/// out of the zeroized [`crate::store::KeyDer`] for each stream.
///
/// What this cannot reach: the copy handed to tonic for each message sent (it owns and drops
/// it after encoding, and the generated service fixes the message type), the encoded bytes in
/// tonic's and h2's buffers until the peer reads them, and the kernel's socket buffers. Those
/// are freed, not wiped, right after the message is sent.
struct Wiped<R: Served>(R);

impl<R: Served> Drop for Wiped<R> {
    fn drop(&mut self) {
        self.0.wipe_secrets();
    }
}

impl Served for JwtsvidResponse {
    fn served(&self) -> Vec<String> {
        self.svids.iter().map(|s| s.spiffe_id.clone()).collect()
    }
}

impl Served for JwtBundlesResponse {
    fn served(&self) -> Vec<String> {
        let mut tds: Vec<String> = self.bundles.keys().cloned().collect();
        tds.sort();
        tds
    }
}

impl Served for X509BundlesResponse {
    fn served(&self) -> Vec<String> {
        let mut tds: Vec<String> = self.bundles.keys().cloned().collect();
        tds.sort();
        tds
    }
}

pub(super) fn log_issued<R: Served>(caller: &Caller, resp: &R, update: bool) {
    tracing::info!(
        method = caller.method,
        pid = caller.pid,
        uid = caller.uid,
        selectors = %caller.selectors_text(),
        served = ?resp.served(),
        update,
        "issued"
    );
}

/// The caller's stream: the first response now (or the denial as the call's status), then a new
/// full response whenever a store publish changes it. A denial later ends the stream with its
/// status, e.g. when the caller's last entry is removed; `stop` turning true ends it with
/// `Unavailable`.
///
/// The stream is polled by the connection that carries it: no task or channel of its own, and a
/// response is composed from the latest snapshot only when the connection can take it (a slow
/// reader skips intermediate states, and every message still carries the full state).
pub(super) fn stream_updates<R: Served>(
    mut rx: watch::Receiver<Arc<Snapshot>>,
    stop: watch::Receiver<bool>,
    caller: Caller,
    compose: fn(&Arc<Snapshot>, &[Selector]) -> Result<R, Denial>,
) -> Result<ResponseStream<R>, Status> {
    let snapshot = Arc::clone(&rx.borrow_and_update());
    let first = compose(&snapshot, &caller.selectors).map_err(|denial| {
        log_denied(&caller, denial);
        denial_status(denial)
    })?;
    let first = Wiped(first);
    log_issued(&caller, &first.0, false);
    Ok(Box::pin(Updates {
        first: true,
        last: first,
        snapshots: WatchStream::from_changes(rx),
        stop: Some(WatchStream::new(stop)),
        caller,
        compose,
        done: false,
    }))
}

/// The state of one [`stream_updates`] stream.
struct Updates<R: Served> {
    /// The first response is still to be sent (it is `last`).
    first: bool,
    /// The last response sent.
    last: Wiped<R>,
    snapshots: WatchStream<Arc<Snapshot>>,
    /// `None` once the stop signal can no longer fire (its sender is gone).
    stop: Option<WatchStream<bool>>,
    caller: Caller,
    compose: fn(&Arc<Snapshot>, &[Selector]) -> Result<R, Denial>,
    done: bool,
}

impl<R: Served> Stream for Updates<R> {
    type Item = Result<R, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        if this.first {
            this.first = false;
            return Poll::Ready(Some(Ok(this.last.0.clone())));
        }
        while let Some(stop) = &mut this.stop {
            match Pin::new(stop).poll_next(cx) {
                // Graceful shutdown waits for open calls: end them, clients reconnect.
                Poll::Ready(Some(true)) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(Status::unavailable(
                        "the agent is shutting down",
                    ))));
                }
                Poll::Ready(Some(false)) => {}
                Poll::Ready(None) => this.stop = None,
                Poll::Pending => break,
            }
        }
        loop {
            let Some(snapshot) = ready!(Pin::new(&mut this.snapshots).poll_next(cx)) else {
                this.done = true;
                return Poll::Ready(None);
            };
            match (this.compose)(&snapshot, &this.caller.selectors).map(Wiped) {
                Ok(resp) if resp.0 == this.last.0 => {}
                Ok(resp) => {
                    log_issued(&this.caller, &resp.0, true);
                    this.last = resp;
                    return Poll::Ready(Some(Ok(this.last.0.clone())));
                }
                // A store that stops being ready keeps serving what the caller already has.
                Err(Denial::NotReady) => {}
                Err(denial) => {
                    log_denied(&this.caller, denial);
                    this.done = true;
                    return Poll::Ready(Some(Err(denial_status(denial))));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use lanyard_id::SpiffeId;
    use tokio_stream::StreamExt as _;

    use super::*;
    use crate::store::WorkloadSvid;

    fn snapshot(svids: usize, ready: bool) -> Arc<Snapshot> {
        let svid = Arc::new(WorkloadSvid {
            entry_id: "e".into(),
            spiffe_id: SpiffeId::parse("spiffe://example.org/w").unwrap(),
            selectors: vec![],
            hint: String::new(),
            chain: vec![],
            key_pkcs8: Default::default(),
            not_after: SystemTime::now(),
            created_at: 0,
            federates_with: Vec::new(),
        });
        Arc::new(Snapshot {
            svids: vec![svid; svids],
            ready,
            ..Snapshot::default()
        })
    }

    /// A response that only says how many SVIDs the snapshot holds.
    fn count(s: &Arc<Snapshot>, _: &[Selector]) -> Result<X509BundlesResponse, Denial> {
        match (s.ready, s.svids.len()) {
            (false, _) => Err(Denial::NotReady),
            (true, 0) => Err(Denial::NoIdentity),
            (true, n) => Ok(X509BundlesResponse {
                crl: vec![vec![u8::try_from(n).unwrap()]],
                ..X509BundlesResponse::default()
            }),
        }
    }

    /// Lets the (current-thread) runtime run the stream's task, then checks nothing was sent.
    async fn assert_nothing_sent(stream: &mut ResponseStream<X509BundlesResponse>) {
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        let pending = tokio::time::timeout(Duration::ZERO, stream.next()).await;
        assert!(pending.is_err(), "unexpected message: {pending:?}");
    }

    async fn next(
        stream: &mut ResponseStream<X509BundlesResponse>,
    ) -> Option<Result<X509BundlesResponse, Status>> {
        tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_stream_sends_only_changes_and_ends_on_denial() {
        let (tx, rx) = watch::channel(snapshot(1, true));
        let (_stop, stop_rx) = watch::channel(false);
        let caller = Caller {
            method: "test",
            pid: 1,
            uid: 0,
            selectors: vec![],
        };
        let mut stream = stream_updates(rx, stop_rx.clone(), caller, count).unwrap();

        assert_eq!(next(&mut stream).await.unwrap().unwrap().crl, [[1]]);
        tx.send(snapshot(1, true)).unwrap();
        assert_nothing_sent(&mut stream).await;
        tx.send(snapshot(2, true)).unwrap();
        assert_eq!(next(&mut stream).await.unwrap().unwrap().crl, [[2]]);
        tx.send(snapshot(2, false)).unwrap();
        assert_nothing_sent(&mut stream).await;
        tx.send(snapshot(0, true)).unwrap();
        let status = next(&mut stream).await.unwrap().unwrap_err();
        assert_eq!(status.code(), tonic::Code::PermissionDenied);
        assert_eq!(status.message(), "no identity issued");
        assert!(next(&mut stream).await.is_none(), "the stream ends");
    }

    #[tokio::test]
    async fn stopping_ends_open_streams_with_unavailable() {
        let (_tx, rx) = watch::channel(snapshot(1, true));
        let (stop, stop_rx) = watch::channel(false);
        let caller = Caller {
            method: "test",
            pid: 1,
            uid: 0,
            selectors: vec![],
        };
        let mut stream = stream_updates(rx, stop_rx, caller, count).unwrap();
        next(&mut stream).await.unwrap().unwrap();
        stop.send(true).unwrap();
        let status = next(&mut stream).await.unwrap().unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unavailable);
        assert!(next(&mut stream).await.is_none());
    }

    #[test]
    fn a_held_svid_response_is_wiped_when_dropped() {
        use lanyard_proto::workload::X509svid;
        let mut resp = X509svidResponse {
            svids: vec![X509svid {
                spiffe_id: "spiffe://example.org/w".into(),
                x509_svid_key: vec![7; 121],
                ..X509svid::default()
            }],
            ..X509svidResponse::default()
        };
        // What `Wiped`'s drop does: zeroize's `Vec` impl overwrites the whole allocation, then
        // empties it.
        resp.wipe_secrets();
        assert!(resp.svids[0].x509_svid_key.is_empty());
        assert_eq!(resp.svids[0].spiffe_id, "spiffe://example.org/w");
        // Bundles carry no secrets: wiping leaves them alone.
        let mut bundles = X509BundlesResponse {
            crl: vec![vec![1]],
            ..X509BundlesResponse::default()
        };
        bundles.wipe_secrets();
        assert_eq!(bundles.crl, [[1]]);
    }

    #[test]
    fn a_denied_first_response_is_the_calls_status() {
        let (_tx, rx) = watch::channel(snapshot(0, false));
        let (_stop, stop_rx) = watch::channel(false);
        let caller = Caller {
            method: "test",
            pid: 1,
            uid: 0,
            selectors: vec![],
        };
        let status = stream_updates(rx, stop_rx.clone(), caller, count)
            .err()
            .unwrap();
        assert_eq!(status.code(), tonic::Code::Unavailable);
    }
}
