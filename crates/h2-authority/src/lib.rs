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
//! start with the preface, or that we cannot follow (bad framing or HPACK, a table size over
//! 4,096), is passed through unchanged from that point, so the server reports the error exactly
//! as it would have.
//!
//! # Bounds
//!
//! The wrapper sits in front of authentication, so it never buffers more than the server behind
//! it (h2 0.4 under hyper 1 and tonic 0.14, with their defaults) would accept. Per connection it
//! holds at most one incoming frame of SETTINGS_MAX_FRAME_SIZE (16,384 bytes) plus one open
//! header block of at most SETTINGS_MAX_HEADER_LIST_SIZE (16,384 bytes) of fragment, and the
//! rewritten block until the server has read it; an idle connection holds no buffer. These
//! close the connection with an [`io::Error`] wrapping a [`Refused`] that names the bound:
//!
//! - a HEADERS or CONTINUATION frame over 16,384 bytes ([`Refused::FrameTooLarge`]; other
//!   frames are copied as they arrive and h2 refuses them itself with GOAWAY FRAME_SIZE_ERROR);
//! - a header block whose fragment exceeds 16,384 bytes, or that decodes to a header list of
//!   16,384 bytes or more in RFC 9113 §6.5.2 size ([`Refused::HeaderBlockTooLarge`],
//!   [`Refused::HeaderListTooLarge`]);
//! - a sixth CONTINUATION frame without END_HEADERS in one block, h2's own flood limit
//!   ([`Refused::TooManyContinuations`]);
//! - no client preface and first complete header block within [`Limits::handshake_timeout`]
//!   (10 s by default) of the wrapper's creation ([`Refused::HandshakeTimeout`]). After the first
//!   block the timer is dropped: established connections pay nothing for it.
//!
//! The violating bytes are never buffered: frame size, CONTINUATION count and a CONTINUATION's
//! contribution to the block size are judged from the 9-byte frame header.

mod decode;
mod frame;
mod hpack;

#[doc(hidden)]
pub mod fuzzing;

use std::future::Future;
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use crate::frame::Rewriter;

/// How much we ask the inner stream for at a time.
const READ_CHUNK: usize = 8 * 1024;

/// Tunable bounds of [`NormalizeAuthority`]. The size bounds are not here: they are the server's
/// own (see the [crate docs](crate#bounds)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// How long a client has, from the wrapper's creation, to send the preface and its first
    /// complete header block.
    pub handshake_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            handshake_timeout: Duration::from_secs(10),
        }
    }
}

/// Why [`NormalizeAuthority`] closed a connection: the bound the client broke. Reads return it
/// inside an [`io::Error`] (kind `InvalidData`, or `TimedOut` for the deadline); get it back
/// with `err.get_ref().and_then(|e| e.downcast_ref::<Refused>())`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refused {
    /// A HEADERS or CONTINUATION frame over the server's SETTINGS_MAX_FRAME_SIZE.
    #[error(
        "HTTP/2 header frame of {len} bytes exceeds SETTINGS_MAX_FRAME_SIZE ({max} bytes); closing the connection"
    )]
    FrameTooLarge {
        /// The frame's payload length.
        len: usize,
        /// The largest payload allowed.
        max: usize,
    },
    /// A header block whose fragment (all its frames, padding and priority fields excluded) is
    /// longer than the server's SETTINGS_MAX_HEADER_LIST_SIZE.
    #[error(
        "HTTP/2 header block exceeds {max} bytes (SETTINGS_MAX_HEADER_LIST_SIZE); closing the connection"
    )]
    HeaderBlockTooLarge {
        /// The largest fragment allowed.
        max: usize,
    },
    /// A header block that decodes to a list at or over SETTINGS_MAX_HEADER_LIST_SIZE.
    #[error(
        "HTTP/2 header list decodes to {max} bytes or more (SETTINGS_MAX_HEADER_LIST_SIZE); closing the connection"
    )]
    HeaderListTooLarge {
        /// The size the list must stay below.
        max: usize,
    },
    /// More CONTINUATION frames without END_HEADERS in one block than h2 accepts.
    #[error(
        "HTTP/2 header block continued over more than {max} CONTINUATION frames (CONTINUATION flood); closing the connection"
    )]
    TooManyContinuations {
        /// The most CONTINUATION frames without END_HEADERS allowed.
        max: usize,
    },
    /// The preface and first complete header block did not arrive in time.
    #[error(
        "no HTTP/2 preface and complete first header block within {timeout:?}; closing the connection"
    )]
    HandshakeTimeout {
        /// [`Limits::handshake_timeout`].
        timeout: Duration,
    },
}

impl From<Refused> for io::Error {
    fn from(r: Refused) -> Self {
        let kind = match r {
            Refused::HandshakeTimeout { .. } => io::ErrorKind::TimedOut,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, r)
    }
}

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
    limits: Limits,
    /// When the wrapper was created: the handshake deadline counts from here.
    created: Instant,
    /// The handshake deadline, armed at the first read and dropped once the first header block
    /// is through.
    deadline: Option<Pin<Box<Sleep>>>,
    /// Set when a bound was broken: every later read fails the same way.
    refused: Option<Refused>,
}

impl<S: std::fmt::Debug> std::fmt::Debug for NormalizeAuthority<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NormalizeAuthority")
            .field("inner", &self.inner)
            .field("buffered_in", &self.input.len())
            .field("buffered_out", &(self.output.len() - self.output_pos))
            .field("refused", &self.refused)
            .finish_non_exhaustive()
    }
}

impl<S> NormalizeAuthority<S> {
    /// Wraps the server side of a connection, before anything has been read from it, with
    /// [`Limits::default`].
    pub fn new(inner: S) -> Self {
        Self::with_limits(inner, Limits::default())
    }

    /// Wraps the server side of a connection, before anything has been read from it. The
    /// handshake deadline starts now; it is enforced by reads, which must run inside a Tokio
    /// runtime with its time driver enabled.
    pub fn with_limits(inner: S, limits: Limits) -> Self {
        Self {
            inner,
            rewriter: Rewriter::new(),
            input: Vec::new(),
            output: Vec::new(),
            output_pos: 0,
            limits,
            created: Instant::now(),
            deadline: None,
            refused: None,
        }
    }

    /// The wrapped stream, e.g. for its peer credentials.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Records a broken bound and frees every buffer.
    fn refuse(&mut self, refused: Refused) -> io::Error {
        self.input = Vec::new();
        self.output = Vec::new();
        self.output_pos = 0;
        self.deadline = None;
        self.refused = Some(refused.clone());
        refused.into()
    }

    /// `Err` once the handshake deadline has passed without a first complete header block.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Result<(), io::Error> {
        if self.rewriter.first_block_done() {
            self.deadline = None;
            return Ok(());
        }
        let timeout = self.limits.handshake_timeout;
        let created = self.created;
        let deadline = self
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(created + timeout)));
        if deadline.as_mut().poll(cx).is_ready() {
            return Err(self.refuse(Refused::HandshakeTimeout { timeout }));
        }
        Ok(())
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for NormalizeAuthority<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(refused) = &this.refused {
            return Poll::Ready(Err(refused.clone().into()));
        }
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
            this.poll_deadline(cx)?;
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
            let processed = if this.input.is_empty() {
                this.rewriter
                    .process(read, &mut this.output)
                    .map(|consumed| this.input.extend_from_slice(&read[consumed..]))
            } else {
                this.input.extend_from_slice(read);
                this.rewriter
                    .process(&this.input, &mut this.output)
                    .map(|consumed| {
                        this.input.drain(..consumed);
                        if this.input.is_empty() {
                            this.input = Vec::new();
                        }
                    })
            };
            if let Err(refused) = processed {
                return Poll::Ready(Err(this.refuse(refused)));
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
