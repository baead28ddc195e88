//! Lets an HTTP/2 server accept requests whose `:authority` is not a valid URI authority.
//!
//! Clients of a Unix-socket gRPC server put the socket path there: grpcio (Python, py-spiffe)
//! sends it percent-encoded without the leading slash (`tmp%2Fagent.sock`), grpc-java sends the
//! raw path. h2 parses `:authority` with [`http::uri::Authority`] and resets such streams with
//! PROTOCOL_ERROR; SPIRE (Go) accepts them. [`NormalizeAuthority`] wraps the *server* side of a
//! cleartext HTTP/2 connection and rewrites an unparsable `:authority` in client HEADERS to
//! `localhost` (what h2, grpc-go and Kubernetes use for Unix sockets). Every other byte passes
//! through unchanged; writes are not touched at all.
//!
//! How: after the client preface, frames other than HEADERS/CONTINUATION are copied. Each header
//! block is HPACK-decoded with a decoder that follows the client's dynamic table for the whole
//! connection, then re-encoded *without* the dynamic table (never-indexed literals) and re-framed
//! in frames of at most 16,384 bytes. Every block is re-encoded, changed or not, so the server's
//! decoder never depends on table state it did not see (see `hpack.rs`). A stream that does not
//! start with the preface, or that we cannot follow (bad framing or HPACK, a header block over
//! 16 MiB, a decoded list over 16 MiB, a table size over 4,096), is passed through unchanged from
//! that point, so the server reports the error exactly as it would have.

mod decode;
mod frame;
mod hpack;

use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::frame::Rewriter;

/// How much we ask the inner stream for at a time.
const READ_CHUNK: usize = 8 * 1024;

/// The server side of a cleartext HTTP/2 connection, with invalid client `:authority` values
/// rewritten to `localhost`. See the [crate docs](crate).
///
/// Reads are rewritten; writes go straight to the inner stream. `Unpin` when `S` is.
pub struct NormalizeAuthority<S> {
    inner: S,
    rewriter: Rewriter,
    /// Bytes read from `inner` that the rewriter has not consumed yet (a partial frame).
    input: Vec<u8>,
    /// Rewritten bytes not yet handed to the reader, from `output_pos` on.
    output: Vec<u8>,
    output_pos: usize,
}

impl<S: std::fmt::Debug> std::fmt::Debug for NormalizeAuthority<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NormalizeAuthority")
            .field("inner", &self.inner)
            .field("buffered_in", &self.input.len())
            .field("buffered_out", &(self.output.len() - self.output_pos))
            .finish_non_exhaustive()
    }
}

impl<S> NormalizeAuthority<S> {
    /// Wraps the server side of a connection, before anything has been read from it.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            rewriter: Rewriter::new(),
            input: Vec::new(),
            output: Vec::new(),
            output_pos: 0,
        }
    }

    /// The wrapped stream, e.g. for its peer credentials.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for NormalizeAuthority<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            if this.output_pos < this.output.len() {
                let pending = &this.output[this.output_pos..];
                let n = pending.len().min(buf.remaining());
                buf.put_slice(&pending[..n]);
                this.output_pos += n;
                if this.output_pos == this.output.len() {
                    this.output = Vec::new();
                    this.output_pos = 0;
                }
                return Poll::Ready(Ok(()));
            }
            if this.input.is_empty() && this.rewriter.is_passthrough() {
                return Pin::new(&mut this.inner).poll_read(cx, buf);
            }

            // Read into the stack; only a partial frame is kept in `input` between reads, and
            // drained buffers are freed: an idle connection (a Workload API stream waiting for
            // updates) holds no buffer here.
            let mut chunk = [MaybeUninit::<u8>::uninit(); READ_CHUNK];
            let mut chunk = ReadBuf::uninit(&mut chunk);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut chunk))?;
            let read = chunk.filled();

            if read.is_empty() {
                // EOF: hand over whatever is incomplete as is; the server decides what it means.
                this.rewriter.finish(&this.input, &mut this.output);
                this.input = Vec::new();
                continue;
            }
            if this.input.is_empty() {
                let consumed = this.rewriter.process(read, &mut this.output);
                this.input.extend_from_slice(&read[consumed..]);
            } else {
                this.input.extend_from_slice(read);
                let consumed = this.rewriter.process(&this.input, &mut this.output);
                this.input.drain(..consumed);
                if this.input.is_empty() {
                    this.input = Vec::new();
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for NormalizeAuthority<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
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

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
