//! The client-to-server byte stream as HTTP/2 frames (RFC 9113 §3.4, §4.1): the preface and all
//! frames except header blocks are copied; each header block (HEADERS + CONTINUATION) is collected,
//! handed to [`HeaderRewriter`], and re-framed.
//!
//! Anything we cannot follow (no preface, a header block the server must reject, bad HPACK) turns
//! the rest of the connection into a plain copy, starting with the untouched bytes of the block in
//! progress, so the server sees and reports exactly what the client sent. A header block over the
//! server's size bounds is different: the server would not buffer it either, and neither do we,
//! so it is [`Refused`] and the connection closed.

use std::ops::Range;

use crate::Refused;
use crate::hpack::{HeaderRewriter, MAX_HEADER_LIST_SIZE, RewriteError};

/// RFC 9113 §3.4: the client connection preface.
const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const FRAME_HEADER_LEN: usize = 9;

const HEADERS: u8 = 0x1;
const CONTINUATION: u8 = 0x9;

const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY: u8 = 0x20;

/// The largest frame payload the server accepts, and the largest we emit: SETTINGS_MAX_FRAME_SIZE
/// as the agent advertises it. tonic 0.14 leaves it unset, hyper 1's server default is 16 KiB
/// (`DEFAULT_MAX_FRAME_SIZE` in `hyper/src/proto/h2/server.rs`), which is also the RFC 9113
/// §6.5.2 initial value, so every server accepts what we emit. h2 reads only the 9-byte header
/// of a larger frame before answering GOAWAY FRAME_SIZE_ERROR; we refuse a header-block frame
/// over it at the same point, before buffering any of it.
pub(crate) const MAX_FRAME_SIZE: usize = 16_384;

/// The most CONTINUATION frames without END_HEADERS one block may have: h2 0.4's flood limit
/// (`calc_max_continuation_frames` in `h2/src/codec/framed_read.rs`: header list size / frame
/// size, plus 25 %, at least 5), which for 16 KiB / 16 KiB is 5. h2 answers one more with GOAWAY
/// ENHANCE_YOUR_CALM.
pub(crate) const MAX_CONTINUATIONS: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Waiting for (the rest of) the 24-byte preface.
    Preface,
    /// At a frame boundary.
    FrameStart,
    /// Copying the payload of a frame that is not part of a header block: this many bytes left.
    Copy(usize),
    /// Not rewriting any more: every byte is copied.
    Passthrough,
}

/// A header block between its HEADERS frame and the frame carrying END_HEADERS. Its frames are
/// kept as received in [`Rewriter::held`]; `pieces` locate the block fragment inside them.
struct OpenBlock {
    stream_id: u32,
    end_stream: bool,
    priority: Option<[u8; 5]>,
    pieces: Vec<Range<usize>>,
    fragment_len: usize,
    /// CONTINUATION frames so far (none of them carried END_HEADERS).
    continuations: usize,
}

/// Header fields of one frame (RFC 9113 §4.1).
#[derive(Clone, Copy)]
struct FrameHeader {
    len: usize,
    kind: u8,
    flags: u8,
    stream_id: u32,
}

impl FrameHeader {
    fn parse(b: &[u8; FRAME_HEADER_LEN]) -> Self {
        Self {
            len: usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]),
            kind: b[3],
            flags: b[4],
            stream_id: u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & 0x7fff_ffff,
        }
    }

    fn write(self, out: &mut Vec<u8>) {
        // `len` never exceeds MAX_FRAME_SIZE here, so the 24-bit field holds it.
        out.extend_from_slice(&(self.len as u32).to_be_bytes()[1..]);
        out.extend_from_slice(&[self.kind, self.flags]);
        out.extend_from_slice(&self.stream_id.to_be_bytes());
    }
}

/// Read-side state of one connection.
pub(crate) struct Rewriter {
    state: State,
    hpack: HeaderRewriter,
    block: Option<OpenBlock>,
    /// The frames of the open block as received (at most [`MAX_HEADER_LIST_SIZE`] of fragment
    /// plus their frame headers, padding and priority fields), kept for falling back to a plain
    /// copy. Freed when the block completes.
    held: Vec<u8>,
    /// Set once the first header block went out (or we stopped rewriting).
    first_block_done: bool,
}

/// What one header-block frame turned out to be.
enum BlockError {
    /// The server has to reject it; we leave the rejecting to it (fall back to copying).
    Malformed,
    /// Over a bound the server enforces too: the connection is closed.
    Refused(Refused),
}

impl From<Refused> for BlockError {
    fn from(r: Refused) -> Self {
        BlockError::Refused(r)
    }
}

/// A frame or header block the server has to reject.
struct Malformed;

impl From<Malformed> for BlockError {
    fn from(_: Malformed) -> Self {
        BlockError::Malformed
    }
}

impl Rewriter {
    pub(crate) fn new() -> Self {
        Self {
            state: State::Preface,
            hpack: HeaderRewriter::new(),
            block: None,
            held: Vec::new(),
            first_block_done: false,
        }
    }

    /// True once every further byte is copied unchanged.
    pub(crate) fn is_passthrough(&self) -> bool {
        self.state == State::Passthrough
    }

    /// True once the preface and the first complete header block went through, or once we
    /// stopped rewriting (the server then judges the bytes itself).
    pub(crate) fn first_block_done(&self) -> bool {
        self.first_block_done || self.is_passthrough()
    }

    /// Bytes held for the open header block (for tests and fuzzing: bounded).
    pub(crate) fn held_len(&self) -> usize {
        self.held.len()
    }

    /// Consumes what it can of `input`, appending the bytes to forward to `out`. Returns how many
    /// bytes were consumed; the rest (an incomplete preface or frame) must be offered again with
    /// more data appended. The caller never needs to offer more than one frame of at most
    /// [`MAX_FRAME_SIZE`] payload: a header-block frame over it is refused at its header. `Err`
    /// means the connection must be closed; `out` may then hold a partial result to discard.
    pub(crate) fn process(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, Refused> {
        let mut pos = 0;
        loop {
            let rest = &input[pos..];
            match self.state {
                State::Passthrough => {
                    out.extend_from_slice(rest);
                    return Ok(input.len());
                }
                State::Preface => {
                    let n = rest.len().min(PREFACE.len());
                    if rest[..n] != PREFACE[..n] {
                        self.state = State::Passthrough;
                    } else if n < PREFACE.len() {
                        return Ok(pos);
                    } else {
                        out.extend_from_slice(PREFACE);
                        pos += n;
                        self.state = State::FrameStart;
                    }
                }
                State::Copy(left) => {
                    if rest.is_empty() {
                        return Ok(pos);
                    }
                    let n = rest.len().min(left);
                    out.extend_from_slice(&rest[..n]);
                    pos += n;
                    self.state = if n == left {
                        State::FrameStart
                    } else {
                        State::Copy(left - n)
                    };
                }
                State::FrameStart => {
                    let Some(raw_header) = rest.first_chunk::<FRAME_HEADER_LEN>() else {
                        return Ok(pos);
                    };
                    let header = FrameHeader::parse(raw_header);
                    let in_block = matches!(header.kind, HEADERS | CONTINUATION);
                    if in_block {
                        self.check_frame_header(header)?;
                        let Some(frame) = rest.get(..FRAME_HEADER_LEN + header.len) else {
                            return Ok(pos);
                        };
                        pos += frame.len();
                        match self.on_block_frame(header, frame, out) {
                            Ok(()) => {}
                            Err(BlockError::Malformed) => {
                                self.fall_back(out);
                                out.extend_from_slice(frame);
                            }
                            Err(BlockError::Refused(r)) => return Err(r),
                        }
                    } else if self.block.is_some() {
                        // RFC 9113 §6.10: only CONTINUATION may follow an unfinished block.
                        self.fall_back(out);
                    } else {
                        out.extend_from_slice(raw_header);
                        pos += FRAME_HEADER_LEN;
                        if header.len > 0 {
                            self.state = State::Copy(header.len);
                        }
                    }
                }
            }
        }
    }

    /// The bounds that can be judged from a header-block frame's header alone, so that a frame
    /// breaking them is never buffered.
    fn check_frame_header(&self, header: FrameHeader) -> Result<(), Refused> {
        if header.len > MAX_FRAME_SIZE {
            return Err(Refused::FrameTooLarge {
                len: header.len,
                max: MAX_FRAME_SIZE,
            });
        }
        if let (CONTINUATION, Some(block)) = (header.kind, &self.block)
            && block.stream_id == header.stream_id
        {
            if header.flags & END_HEADERS == 0 && block.continuations >= MAX_CONTINUATIONS {
                return Err(Refused::TooManyContinuations {
                    max: MAX_CONTINUATIONS,
                });
            }
            if block.fragment_len + header.len > MAX_HEADER_LIST_SIZE {
                return Err(Refused::HeaderBlockTooLarge {
                    max: MAX_HEADER_LIST_SIZE,
                });
            }
        }
        Ok(())
    }

    /// The client closed its side: whatever is buffered goes out unchanged.
    pub(crate) fn finish(&mut self, unconsumed: &[u8], out: &mut Vec<u8>) {
        self.fall_back(out);
        out.extend_from_slice(unconsumed);
    }

    fn fall_back(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.held);
        self.held = Vec::new();
        self.block = None;
        self.state = State::Passthrough;
    }

    /// Takes one complete HEADERS or CONTINUATION frame (`frame` includes its header); on
    /// END_HEADERS, writes the rewritten block to `out`. A single-frame block is decoded where
    /// it lies; the frames of a longer one are held until its last arrives. On
    /// `Err(Malformed)` this frame is not in `held`.
    fn on_block_frame(
        &mut self,
        header: FrameHeader,
        frame: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), BlockError> {
        let payload = &frame[FRAME_HEADER_LEN..];
        let end_headers = header.flags & END_HEADERS != 0;
        match (header.kind, &mut self.block) {
            (HEADERS, None) if header.stream_id != 0 => {
                let (priority, fragment) = split_headers_payload(header.flags, payload)?;
                if fragment.len() > MAX_HEADER_LIST_SIZE {
                    return Err(Refused::HeaderBlockTooLarge {
                        max: MAX_HEADER_LIST_SIZE,
                    }
                    .into());
                }
                let mut block = OpenBlock {
                    stream_id: header.stream_id,
                    end_stream: header.flags & END_STREAM != 0,
                    priority,
                    pieces: Vec::new(),
                    fragment_len: fragment.len(),
                    continuations: 0,
                };
                if end_headers {
                    return self.rewrite_block(&block, fragment, out);
                }
                let start = FRAME_HEADER_LEN
                    + usize::from(header.flags & PADDED != 0)
                    + if priority.is_some() { 5 } else { 0 };
                block.pieces.push(start..start + fragment.len());
                self.held.extend_from_slice(frame);
                self.block = Some(block);
                Ok(())
            }
            (CONTINUATION, Some(block)) if block.stream_id == header.stream_id => {
                block.fragment_len += payload.len();
                if !end_headers {
                    let start = self.held.len() + FRAME_HEADER_LEN;
                    block.pieces.push(start..start + payload.len());
                    block.continuations += 1;
                    self.held.extend_from_slice(frame);
                    return Ok(());
                }
                let Some(block) = self.block.take() else {
                    return Err(BlockError::Malformed);
                };
                let mut fragment = Vec::with_capacity(block.fragment_len);
                for piece in &block.pieces {
                    fragment.extend_from_slice(&self.held[piece.clone()]);
                }
                fragment.extend_from_slice(payload);
                self.rewrite_block(&block, &fragment, out)
            }
            // HEADERS on stream 0 or inside a block, CONTINUATION out of place (RFC 9113 §6.2, §6.10).
            _ => Err(BlockError::Malformed),
        }
    }

    /// Decodes a complete block, writes it re-encoded to `out` and frees the held frames.
    fn rewrite_block(
        &mut self,
        block: &OpenBlock,
        fragment: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), BlockError> {
        let encoded = self.hpack.rewrite(fragment).map_err(|e| match e {
            RewriteError::Undecodable => BlockError::Malformed,
            RewriteError::ListTooLarge => BlockError::Refused(Refused::HeaderListTooLarge {
                max: MAX_HEADER_LIST_SIZE,
            }),
        })?;
        write_block(block, &encoded, out);
        self.held = Vec::new();
        self.block = None;
        self.first_block_done = true;
        Ok(())
    }
}

/// Splits a HEADERS payload (RFC 9113 §6.2) into its priority fields and its block fragment,
/// dropping padding: `[Pad Length] [Stream Dependency + Weight] Fragment [Padding]`.
fn split_headers_payload(flags: u8, payload: &[u8]) -> Result<(Option<[u8; 5]>, &[u8]), Malformed> {
    let mut rest = payload;
    if flags & PADDED != 0 {
        let (&pad_len, after) = rest.split_first().ok_or(Malformed)?;
        // "Padding that exceeds the size remaining for the header block fragment MUST be treated
        // as a PROTOCOL_ERROR."
        let keep = after
            .len()
            .checked_sub(usize::from(pad_len))
            .ok_or(Malformed)?;
        rest = &after[..keep];
    }
    let priority = if flags & PRIORITY != 0 {
        let (fields, after) = rest.split_first_chunk::<5>().ok_or(Malformed)?;
        rest = after;
        Some(*fields)
    } else {
        None
    };
    Ok((priority, rest))
}

/// Frames an encoded block as HEADERS + CONTINUATION frames of at most [`MAX_FRAME_SIZE`]
/// bytes, keeping END_STREAM and the priority fields on the HEADERS frame.
fn write_block(block: &OpenBlock, encoded: &[u8], out: &mut Vec<u8>) {
    let priority_len = if block.priority.is_some() { 5 } else { 0 };
    let first_len = encoded.len().min(MAX_FRAME_SIZE - priority_len);
    let (first, mut rest) = encoded.split_at(first_len);

    let mut flags = if block.end_stream { END_STREAM } else { 0 };
    if block.priority.is_some() {
        flags |= PRIORITY;
    }
    if rest.is_empty() {
        flags |= END_HEADERS;
    }
    let header = FrameHeader {
        len: priority_len + first.len(),
        kind: HEADERS,
        flags,
        stream_id: block.stream_id,
    };
    header.write(out);
    if let Some(priority) = &block.priority {
        out.extend_from_slice(priority);
    }
    out.extend_from_slice(first);

    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(rest.len().min(MAX_FRAME_SIZE));
        let header = FrameHeader {
            len: chunk.len(),
            kind: CONTINUATION,
            flags: if tail.is_empty() { END_HEADERS } else { 0 },
            stream_id: block.stream_id,
        };
        header.write(out);
        out.extend_from_slice(chunk);
        rest = tail;
    }
}
