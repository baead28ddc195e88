//! The client-to-server byte stream as HTTP/2 frames (RFC 9113 §3.4, §4.1): the preface and all
//! frames except header blocks are copied; each header block (HEADERS + CONTINUATION) is collected,
//! handed to [`HeaderRewriter`], and re-framed.
//!
//! Anything we cannot follow (no preface, a header block the server must reject, bad HPACK) turns
//! the rest of the connection into a plain copy, starting with the untouched bytes of the block in
//! progress, so the server sees and reports exactly what the client sent.

use crate::hpack::HeaderRewriter;

/// RFC 9113 §3.4: the client connection preface.
const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const FRAME_HEADER_LEN: usize = 9;

const HEADERS: u8 = 0x1;
const CONTINUATION: u8 = 0x9;

const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY: u8 = 0x20;

/// Largest frame payload we emit: the minimum SETTINGS_MAX_FRAME_SIZE (RFC 9113 §6.5.2), so every
/// server accepts it whatever it advertised.
const MAX_EMITTED_PAYLOAD: usize = 16_384;

/// Largest header block (raw frames, all CONTINUATIONs included) we buffer before giving up.
const MAX_HEADER_BLOCK: usize = 16 << 20;

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

/// A header block between its HEADERS frame and the frame carrying END_HEADERS.
struct OpenBlock {
    stream_id: u32,
    end_stream: bool,
    priority: Option<[u8; 5]>,
    fragment: Vec<u8>,
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
        // `len` never exceeds MAX_EMITTED_PAYLOAD here, so the 24-bit field holds it.
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
    /// The original bytes of the open block's frames, kept for falling back to a plain copy.
    held: Vec<u8>,
}

impl Rewriter {
    pub(crate) fn new() -> Self {
        Self {
            state: State::Preface,
            hpack: HeaderRewriter::new(),
            block: None,
            held: Vec::new(),
        }
    }

    /// True once every further byte is copied unchanged.
    pub(crate) fn is_passthrough(&self) -> bool {
        self.state == State::Passthrough
    }

    /// Consumes what it can of `input`, appending the bytes to forward to `out`. Returns how many
    /// bytes were consumed; the rest (an incomplete preface or frame) must be offered again with
    /// more data appended.
    pub(crate) fn process(&mut self, input: &[u8], out: &mut Vec<u8>) -> usize {
        let mut pos = 0;
        loop {
            let rest = &input[pos..];
            match self.state {
                State::Passthrough => {
                    out.extend_from_slice(rest);
                    return input.len();
                }
                State::Preface => {
                    let n = rest.len().min(PREFACE.len());
                    if rest[..n] != PREFACE[..n] {
                        self.state = State::Passthrough;
                    } else if n < PREFACE.len() {
                        return pos;
                    } else {
                        out.extend_from_slice(PREFACE);
                        pos += n;
                        self.state = State::FrameStart;
                    }
                }
                State::Copy(left) => {
                    if rest.is_empty() {
                        return pos;
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
                        return pos;
                    };
                    let header = FrameHeader::parse(raw_header);
                    let frame_len = FRAME_HEADER_LEN + header.len;
                    let in_block = matches!(header.kind, HEADERS | CONTINUATION);
                    if in_block && self.held.len() + frame_len > MAX_HEADER_BLOCK {
                        self.fall_back(out);
                    } else if in_block {
                        let Some(frame) = rest.get(..frame_len) else {
                            return pos;
                        };
                        pos += frame_len;
                        self.held.extend_from_slice(frame);
                        if self
                            .on_block_frame(header, &frame[FRAME_HEADER_LEN..], out)
                            .is_err()
                        {
                            self.fall_back(out);
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

    /// The client closed its side: whatever is buffered goes out unchanged.
    pub(crate) fn finish(&mut self, unconsumed: &[u8], out: &mut Vec<u8>) {
        self.fall_back(out);
        out.extend_from_slice(unconsumed);
    }

    fn fall_back(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.held);
        self.block = None;
        self.state = State::Passthrough;
    }

    /// Takes one HEADERS or CONTINUATION frame (already appended to `held`); on END_HEADERS,
    /// writes the rewritten block to `out`. `Err` means: fall back to copying.
    fn on_block_frame(
        &mut self,
        header: FrameHeader,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Malformed> {
        match (header.kind, &mut self.block) {
            (HEADERS, None) if header.stream_id != 0 => {
                let (priority, fragment) = split_headers_payload(header.flags, payload)?;
                self.block = Some(OpenBlock {
                    stream_id: header.stream_id,
                    end_stream: header.flags & END_STREAM != 0,
                    priority,
                    fragment: fragment.to_vec(),
                });
            }
            (CONTINUATION, Some(block)) if block.stream_id == header.stream_id => {
                block.fragment.extend_from_slice(payload);
            }
            // HEADERS on stream 0 or inside a block, CONTINUATION out of place (RFC 9113 §6.2, §6.10).
            _ => return Err(Malformed),
        }
        if header.flags & END_HEADERS == 0 {
            return Ok(());
        }
        let Some(block) = self.block.take() else {
            return Err(Malformed);
        };
        let encoded = self.hpack.rewrite(&block.fragment).map_err(|_| Malformed)?;
        write_block(&block, &encoded, out);
        self.held.clear();
        Ok(())
    }
}

/// A frame or header block the server has to reject; we leave the rejecting to it.
struct Malformed;

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

/// Frames an encoded block as HEADERS + CONTINUATION frames of at most [`MAX_EMITTED_PAYLOAD`]
/// bytes, keeping END_STREAM and the priority fields on the HEADERS frame.
fn write_block(block: &OpenBlock, encoded: &[u8], out: &mut Vec<u8>) {
    let priority_len = if block.priority.is_some() { 5 } else { 0 };
    let first_len = encoded.len().min(MAX_EMITTED_PAYLOAD - priority_len);
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
        let (chunk, tail) = rest.split_at(rest.len().min(MAX_EMITTED_PAYLOAD));
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
