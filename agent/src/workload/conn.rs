//! One accepted Workload API connection: the peer recorded at accept, the `:authority` rewrite
//! in front of h2, and the connection-limit permit it holds for its lifetime.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use lanyard_h2_authority::NormalizeAuthority;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::UnixStream;
use tokio::sync::OwnedSemaphorePermit;
use tonic::transport::server::Connected;

use super::peer::{PeerInfo, PeerProcess};

/// An accepted Workload API connection with its peer recorded at accept.
///
/// Reads go through [`NormalizeAuthority`]: gRPC clients in C-core (Python's grpcio, so
/// py-spiffe) and Java send the Unix socket path as HTTP/2 `:authority`, which h2 rejects with
/// PROTOCOL_ERROR; the wrapper turns such an authority into `localhost`, as SPIRE accepts them.
#[derive(Debug)]
pub(crate) struct PeerStream {
    inner: NormalizeAuthority<UnixStream>,
    info: PeerInfo,
    /// Held for the connection's lifetime: the server's connection limit.
    _permit: OwnedSemaphorePermit,
}

impl PeerStream {
    pub(crate) fn new(inner: UnixStream, permit: OwnedSemaphorePermit) -> PeerStream {
        let info = PeerInfo(
            PeerProcess::from_stream(&inner)
                .map(Arc::new)
                .map_err(Arc::new),
        );
        PeerStream {
            inner: NormalizeAuthority::new(inner),
            info,
            _permit: permit,
        }
    }
}

impl Connected for PeerStream {
    type ConnectInfo = PeerInfo;

    fn connect_info(&self) -> PeerInfo {
        self.info.clone()
    }
}

impl AsyncRead for PeerStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
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

