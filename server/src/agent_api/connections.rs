//! A cap on the agent API's established connections (`[agent_api] max_connections`).
//!
//! Client certificates are optional on the agent API (a node attests without one), so anyone
//! who reaches the port can complete a TLS handshake and then keep the connection open with
//! nothing but keepalive answers. Each such connection holds TLS and HTTP/2 buffers; the cap
//! bounds that memory. A connection beyond the cap is closed as soon as its handshake ends
//! (the client sees the connection reset and retries, as after any network failure); a place
//! frees when a connection closes. The open connections are the gauge
//! `lanyard_server_agent_api_connections`.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use lanyard_observe::metrics::OpenGuard;
use lanyard_observe::metrics::prometheus_client::metrics::gauge::Gauge;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_stream::{Stream, StreamExt};
use tonic::transport::server::Connected;

/// An established connection holding one of the places.
#[derive(Debug)]
pub struct CappedConnection<C> {
    inner: C,
    _place: OwnedSemaphorePermit,
    _open: OpenGuard,
}

/// `incoming` with at most `max` connections open at once; the others are closed on arrival.
/// `open` counts the connections served.
pub fn cap_connections<S, C>(
    incoming: S,
    max: usize,
    open: Gauge,
) -> impl Stream<Item = io::Result<CappedConnection<C>>>
where
    S: Stream<Item = io::Result<C>>,
{
    let places = Arc::new(Semaphore::new(max));
    incoming.filter_map(move |conn| match conn {
        Err(e) => Some(Err(e)),
        Ok(inner) => match places.clone().try_acquire_owned() {
            Ok(place) => Some(Ok(CappedConnection {
                inner,
                _place: place,
                _open: OpenGuard::new(&open),
            })),
            Err(_) => {
                tracing::warn!(
                    limit = max,
                    "agent API connection closed: max_connections are open"
                );
                None
            }
        },
    })
}

impl<C: Connected> Connected for CappedConnection<C> {
    type ConnectInfo = C::ConnectInfo;
    fn connect_info(&self) -> Self::ConnectInfo {
        self.inner.connect_info()
    }
}

impl<C: AsyncRead + Unpin> AsyncRead for CappedConnection<C> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<C: AsyncWrite + Unpin> AsyncWrite for CappedConnection<C> {
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
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, DuplexStream, duplex};

    use super::*;

    #[tokio::test]
    async fn connections_beyond_the_cap_are_closed_until_a_place_frees() {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<io::Result<DuplexStream>>();
        let open = Gauge::default();
        let capped = cap_connections(
            tokio_stream::wrappers::UnboundedReceiverStream::new(rx),
            2,
            open.clone(),
        );
        tokio::pin!(capped);
        let connect = || {
            let (client, server) = duplex(64);
            tx.send(Ok(server)).unwrap();
            client
        };
        let _a_client = connect();
        let a = capped.next().await.unwrap().unwrap();
        let _b_client = connect();
        let _b = capped.next().await.unwrap().unwrap();

        // The third is closed on arrival and not handed to the server.
        let mut c_client = connect();
        let more = tokio::time::timeout(std::time::Duration::from_millis(100), capped.next());
        assert!(more.await.is_err(), "a third connection was served");
        let mut buf = [0u8; 1];
        assert_eq!(c_client.read(&mut buf).await.unwrap(), 0, "not closed");
        assert_eq!(open.get(), 2, "the gauge counts the served connections");

        // A place frees when a served connection closes.
        drop(a);
        assert_eq!(open.get(), 1);
        let _d_client = connect();
        capped.next().await.unwrap().unwrap();
    }
}
