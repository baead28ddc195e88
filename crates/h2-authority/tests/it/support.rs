//! Hand-built client frames, a frame splitter, and a reader that dribbles its input.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use lanyard_h2_authority::NormalizeAuthority;
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

pub(crate) const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
pub(crate) const DATA: u8 = 0x0;
pub(crate) const HEADERS: u8 = 0x1;
pub(crate) const RST_STREAM: u8 = 0x3;
pub(crate) const SETTINGS: u8 = 0x4;
pub(crate) const PING: u8 = 0x6;
pub(crate) const WINDOW_UPDATE: u8 = 0x8;
pub(crate) const CONTINUATION: u8 = 0x9;
pub(crate) const END_STREAM: u8 = 0x1;
pub(crate) const ACK: u8 = 0x1;
pub(crate) const END_HEADERS: u8 = 0x4;
pub(crate) const PADDED: u8 = 0x8;
pub(crate) const PRIORITY: u8 = 0x20;

pub(crate) type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// What grpcio sends for `FetchX509SVID` on `unix:/tmp/h2test.sock`.
pub(crate) fn grpc_request(authority: &str) -> Fields {
    [
        (":scheme", "http"),
        (":method", "POST"),
        (":authority", authority),
        (":path", "/SpiffeWorkloadAPI/FetchX509SVID"),
        ("te", "trailers"),
        ("content-type", "application/grpc"),
        ("workload.spiffe.io", "true"),
    ]
    .iter()
    .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
    .collect()
}

/// HPACK-encodes with the client's dynamic table, as real clients do.
pub(crate) fn encode(encoder: &mut loona_hpack::Encoder<'_>, fields: &Fields) -> Vec<u8> {
    encoder.encode(fields.iter().map(|(n, v)| (&n[..], &v[..])))
}

pub(crate) fn frame(kind: u8, flags: u8, stream_id: u32, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).unwrap();
    assert!(len < 1 << 24);
    let mut out = len.to_be_bytes()[1..].to_vec();
    out.extend_from_slice(&[kind, flags]);
    out.extend_from_slice(&stream_id.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    pub(crate) kind: u8,
    pub(crate) flags: u8,
    pub(crate) stream_id: u32,
    pub(crate) payload: Vec<u8>,
}

/// Splits a client byte stream (preface included) into frames.
pub(crate) fn frames(bytes: &[u8]) -> Vec<Frame> {
    let mut rest = bytes.strip_prefix(PREFACE).expect("preface");
    let mut out = Vec::new();
    while !rest.is_empty() {
        let len = usize::from(rest[0]) << 16 | usize::from(rest[1]) << 8 | usize::from(rest[2]);
        out.push(Frame {
            kind: rest[3],
            flags: rest[4],
            stream_id: u32::from_be_bytes(rest[5..9].try_into().unwrap()),
            payload: rest[9..9 + len].to_vec(),
        });
        rest = &rest[9 + len..];
    }
    out
}

/// A header block reassembled from unpadded, priority-free HEADERS + CONTINUATION frames.
#[derive(Debug)]
pub(crate) struct Block {
    pub(crate) stream_id: u32,
    pub(crate) headers_flags: u8,
    pub(crate) fragment: Vec<u8>,
}

pub(crate) fn blocks(frames: &[Frame]) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    for f in frames {
        match f.kind {
            HEADERS => {
                let skip = if f.flags & PRIORITY != 0 { 5 } else { 0 };
                assert_eq!(f.flags & PADDED, 0, "output is never padded");
                out.push(Block {
                    stream_id: f.stream_id,
                    headers_flags: f.flags,
                    fragment: f.payload[skip..].to_vec(),
                });
            }
            CONTINUATION => {
                let last = out.last_mut().unwrap();
                assert_eq!(last.stream_id, f.stream_id);
                last.fragment.extend_from_slice(&f.payload);
            }
            _ => {}
        }
    }
    out
}

/// Decodes a block with a decoder that has never seen the connection and may not insert
/// anything: what the server's decoder is guaranteed to be able to do with our output.
pub(crate) fn decode_stateless(fragment: &[u8]) -> Fields {
    let mut decoder = loona_hpack::Decoder::new();
    decoder.set_max_table_size(0);
    decoder.decode(fragment).unwrap()
}

pub(crate) fn with_authority(mut fields: Fields, authority: &str) -> Fields {
    for (n, v) in &mut fields {
        if n == b":authority" {
            *v = authority.as_bytes().to_vec();
        }
    }
    fields
}

/// Yields its data `chunk` bytes per read, returning `Pending` (and waking) before each read.
pub(crate) struct Dribble {
    data: Vec<u8>,
    pos: usize,
    chunk: usize,
    ready: bool,
}

impl AsyncRead for Dribble {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.ready {
            self.ready = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.ready = false;
        let n = self
            .chunk
            .min(buf.remaining())
            .min(self.data.len() - self.pos);
        buf.put_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Poll::Ready(Ok(()))
    }
}

/// Everything the server would read through the wrapper when the client sends `data`.
pub(crate) async fn rewrite(data: &[u8], chunk: usize) -> Vec<u8> {
    try_rewrite(data, chunk).await.unwrap()
}

/// As [`rewrite`], or the error that closed the connection.
pub(crate) async fn try_rewrite(data: &[u8], chunk: usize) -> io::Result<Vec<u8>> {
    let inner = Dribble {
        data: data.to_vec(),
        pos: 0,
        chunk,
        ready: false,
    };
    let mut wrapped = NormalizeAuthority::new(inner);
    let mut out = Vec::new();
    wrapped.read_to_end(&mut out).await?;
    Ok(out)
}

/// The bound a read error reports.
pub(crate) fn refused(err: &io::Error) -> &lanyard_h2_authority::Refused {
    err.get_ref()
        .and_then(|e| e.downcast_ref())
        .unwrap_or_else(|| panic!("not a Refused: {err:?}"))
}
