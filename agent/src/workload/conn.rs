//! One accepted Workload API connection, and what it may hold before its caller is known.
//!
//! - [`ConnSlots`]: the connection limit, in total and per uid (`SO_PEERCRED`'s uid at accept),
//!   so that one user cannot take every slot. A connection beyond either is closed at accept.
//! - [`PeerStream`]: the connection as h2 sees it: the peer recorded at accept, reads through the
//!   `:authority` rewrite (which bounds the bytes and the time before the first header block),
//!   the slot held for its lifetime, and the idle timeout: with no call open for
//!   `idle_timeout`, a read fails and h2 closes the connection.
//! - [`TrackCalls`]: the tower layer that counts each connection's open calls (a call is open
//!   until its response body is dropped, so a Workload API stream counts for as long as it
//!   streams) and hands the handler the connection's [`PeerInfo`].

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use hyper::body::{Body, Frame, SizeHint};
use lanyard_h2_authority::NormalizeAuthority;
use lanyard_observe::metrics::OpenGuard;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::UnixStream;
use tokio::time::{Instant, Sleep};
use tonic::transport::server::Connected;

use super::peer::{PeerInfo, PeerProcess};

/// The connection limit: at most `max_total` connections, at most `max_per_uid` of one uid.
#[derive(Debug, Clone)]
pub(crate) struct ConnSlots(Arc<SlotsInner>);

#[derive(Debug)]
struct SlotsInner {
    max_total: usize,
    max_per_uid: usize,
    held: Mutex<Held>,
}

#[derive(Debug, Default)]
struct Held {
    total: usize,
    per_uid: HashMap<u32, usize>,
}

/// Why a connection was not given a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoSlot {
    /// Every slot is taken.
    Total(usize),
    /// This uid holds its share.
    Uid(usize),
}

impl std::fmt::Display for NoSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoSlot::Total(max) => write!(f, "all {max} connection slots are taken"),
            NoSlot::Uid(max) => write!(f, "this uid holds its {max} connections"),
        }
    }
}

/// One connection's share of [`ConnSlots`], given back on drop.
#[derive(Debug)]
pub(crate) struct ConnSlot {
    slots: Arc<SlotsInner>,
    uid: u32,
}

impl ConnSlots {
    pub(crate) fn new(max_total: usize, max_per_uid: usize) -> ConnSlots {
        ConnSlots(Arc::new(SlotsInner {
            max_total,
            max_per_uid,
            held: Mutex::new(Held::default()),
        }))
    }

    /// A slot for a connection of `uid`, if both limits allow one more.
    pub(crate) fn acquire(&self, uid: u32) -> Result<ConnSlot, NoSlot> {
        let inner = &self.0;
        let mut held = inner.held.lock().unwrap_or_else(PoisonError::into_inner);
        if held.total >= inner.max_total {
            return Err(NoSlot::Total(inner.max_total));
        }
        let of_uid = held.per_uid.entry(uid).or_default();
        if *of_uid >= inner.max_per_uid {
            return Err(NoSlot::Uid(inner.max_per_uid));
        }
        *of_uid += 1;
        held.total += 1;
        Ok(ConnSlot {
            slots: Arc::clone(inner),
            uid,
        })
    }
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        let mut held = self
            .slots
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        held.total -= 1;
        if let Some(n) = held.per_uid.get_mut(&self.uid) {
            *n -= 1;
            if *n == 0 {
                held.per_uid.remove(&self.uid);
            }
        }
    }
}

/// A connection's open calls, and since when it has had none.
#[derive(Debug)]
pub(crate) struct Activity {
    open: AtomicUsize,
    idle_since: Mutex<Instant>,
    /// The connection's reader, woken when the last open call ends so it starts the idle timer.
    reader: Mutex<Option<Waker>>,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            open: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
            reader: Mutex::new(None),
        }
    }

    fn begin(self: &Arc<Self>) -> CallGuard {
        self.open.fetch_add(1, Ordering::AcqRel);
        CallGuard(Arc::clone(self))
    }

    fn idle_since(&self) -> Instant {
        *self
            .idle_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// An open call; dropping it ends the call.
#[derive(Debug)]
pub(crate) struct CallGuard(Arc<Activity>);

impl Drop for CallGuard {
    fn drop(&mut self) {
        let activity = &self.0;
        if activity.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            *activity
                .idle_since
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Instant::now();
            if let Some(waker) = activity
                .reader
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
            {
                waker.wake();
            }
        }
    }
}

/// What every request of a connection carries (tonic `ConnectInfo`): the peer recorded at
/// accept and the connection's call count.
#[derive(Debug, Clone)]
pub(crate) struct ConnInfo {
    peer: PeerInfo,
    activity: Arc<Activity>,
}

/// An accepted Workload API connection with its peer recorded at accept.
///
/// Reads go through [`NormalizeAuthority`]: gRPC clients in C-core (Python's grpcio, so
/// py-spiffe) and Java send the Unix socket path as HTTP/2 `:authority`, which h2 rejects with
/// PROTOCOL_ERROR; the wrapper turns such an authority into `localhost`, as SPIRE accepts them.
/// It also bounds what an unauthenticated client can make the agent hold (see its docs).
#[derive(Debug)]
pub(crate) struct PeerStream {
    inner: NormalizeAuthority<UnixStream>,
    info: ConnInfo,
    idle_timeout: Duration,
    /// Runs only while no call is open.
    idle_timer: Option<Pin<Box<Sleep>>>,
    /// Held for the connection's lifetime: the connection limit.
    _slot: ConnSlot,
    /// Held for the connection's lifetime: `lanyard_agent_workload_api_connections`.
    _open: OpenGuard,
}

impl PeerStream {
    pub(crate) fn new(
        inner: UnixStream,
        slot: ConnSlot,
        open: OpenGuard,
        idle_timeout: Duration,
        handshake_timeout: Duration,
    ) -> PeerStream {
        let peer = PeerInfo(
            PeerProcess::from_stream(&inner)
                .map(Arc::new)
                .map_err(Arc::new),
        );
        let mut limits = lanyard_h2_authority::Limits::default();
        limits.handshake_timeout = handshake_timeout;
        PeerStream {
            inner: NormalizeAuthority::with_limits(inner, limits),
            info: ConnInfo {
                peer,
                activity: Arc::new(Activity::new()),
            },
            idle_timeout,
            idle_timer: None,
            _slot: slot,
            _open: open,
        }
    }

    /// The caller's pid and uid for logs (0 when they could not be read).
    fn who(&self) -> (i32, u32) {
        match &self.info.peer.0 {
            Ok(p) => (p.cred().pid, p.cred().uid),
            Err(_) => (0, self._slot.uid),
        }
    }

    /// With a read pending: `Ready(Err)` once the connection has had no open call for
    /// `idle_timeout`.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let activity = &self.info.activity;
        if activity.open.load(Ordering::Acquire) > 0 {
            *activity
                .reader
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(cx.waker().clone());
            // The last call may have ended before the waker was in place.
            if activity.open.load(Ordering::Acquire) > 0 {
                self.idle_timer = None;
                return Poll::Pending;
            }
        }
        let deadline = activity.idle_since() + self.idle_timeout;
        let timer = self
            .idle_timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if timer.deadline() != deadline {
            timer.as_mut().reset(deadline);
        }
        if timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "no call for {}: idle connection closed",
                humantime::format_duration(self.idle_timeout)
            ),
        )))
    }
}

impl Connected for PeerStream {
    type ConnectInfo = ConnInfo;

    fn connect_info(&self) -> ConnInfo {
        self.info.clone()
    }
}

impl AsyncRead for PeerStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let result = match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Pending => this.poll_idle(cx),
            ready => ready,
        };
        if let Poll::Ready(Err(e)) = &result {
            let (pid, uid) = this.who();
            tracing::debug!(pid, uid, reason = %e, "closing a Workload API connection");
        }
        result
    }
}

impl AsyncWrite for PeerStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.get_ref().is_write_vectored()
    }
}

/// The tower layer of [`TrackCalls`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TrackCallsLayer;

impl<S> tower::Layer<S> for TrackCallsLayer {
    type Service = TrackCalls<S>;

    fn layer(&self, inner: S) -> TrackCalls<S> {
        TrackCalls { inner }
    }
}

/// Counts a call as open from its request until its response body is dropped, and puts the
/// connection's [`PeerInfo`] in the request for the handler.
#[derive(Debug, Clone)]
pub(crate) struct TrackCalls<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, Req, Res> tower::Service<hyper::Request<Req>> for TrackCalls<S>
where
    S: tower::Service<hyper::Request<Req>, Response = hyper::Response<Res>>,
    S::Future: Send + 'static,
{
    type Response = hyper::Response<TrackedBody<Res>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: hyper::Request<Req>) -> Self::Future {
        let guard = match request.extensions().get::<ConnInfo>() {
            Some(conn) => {
                let (peer, guard) = (conn.peer.clone(), conn.activity.begin());
                request.extensions_mut().insert(peer);
                Some(guard)
            }
            None => None,
        };
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            Ok(response.map(|body| TrackedBody {
                inner: body,
                _call: guard,
            }))
        })
    }
}

/// A response body that keeps its call open until dropped.
#[derive(Debug)]
pub(crate) struct TrackedBody<B> {
    inner: B,
    _call: Option<CallGuard>,
}

impl<B: Body + Unpin> Body for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_uid_gets_its_share_and_others_the_rest() {
        let slots = ConnSlots::new(5, 3);
        let a: Vec<_> = (0..3).map(|_| slots.acquire(1000).unwrap()).collect();
        assert_eq!(slots.acquire(1000).unwrap_err(), NoSlot::Uid(3));
        let b: Vec<_> = (0..2).map(|_| slots.acquire(2000).unwrap()).collect();
        assert_eq!(slots.acquire(3000).unwrap_err(), NoSlot::Total(5));
        drop(a);
        // Slots given back are usable again, by anyone.
        let _c = slots.acquire(3000).unwrap();
        let _a = slots.acquire(1000).unwrap();
        drop(b);
        assert!(!slots.0.held.lock().unwrap().per_uid.contains_key(&2000));
    }

    #[tokio::test]
    async fn the_idle_timer_starts_when_the_last_call_ends() {
        let activity = Arc::new(Activity::new());
        let accepted = activity.idle_since();
        let (first, second) = (activity.begin(), activity.begin());
        drop(first);
        assert_eq!(activity.idle_since(), accepted, "a call is still open");
        let before_end = Instant::now();
        drop(second);
        assert!(
            activity.idle_since() >= before_end,
            "idle from the end of the last call"
        );
        let (woken, waker) = counting_waker();
        *activity.reader.lock().unwrap() = Some(waker);
        let again = activity.begin();
        drop(again);
        assert_eq!(
            woken.load(Ordering::SeqCst),
            1,
            "the reader is woken to start its timer"
        );
    }

    fn counting_waker() -> (Arc<AtomicUsize>, Waker) {
        struct Count(Arc<AtomicUsize>);
        impl std::task::Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let n = Arc::new(AtomicUsize::new(0));
        (Arc::clone(&n), Waker::from(Arc::new(Count(n))))
    }
}
