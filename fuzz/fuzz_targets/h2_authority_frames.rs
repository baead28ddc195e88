//! Fuzz the `:authority` rewrite's frame reader, which sees every Workload API connection's bytes
//! before anything is authenticated. The input is the client's byte stream (a preface is
//! prepended when the first byte is even, so most inputs get past it), delivered in reads of a
//! size taken from the last byte, exactly as `NormalizeAuthority` drives the rewriter.
//!
//! Invariants, beyond "no panic":
//! - memory: the rewriter holds at most one header block (16,384 bytes of fragment plus the
//!   headers, padding and priority fields of its frames), and leaves unconsumed at most one
//!   incomplete frame of at most 16,384 bytes of payload;
//! - output: what it forwards while rewriting is the preface and well-formed frames; every
//!   rewritten header block is in frames of at most 16,384 bytes, decodes with a decoder that has
//!   no dynamic table (so the server never depends on state it did not see) and stays under the
//!   16,384-byte header list bound;
//! - a refused connection is refused for good: nothing is forwarded after the error.
#![no_main]

use lanyard_h2_authority::fuzzing::{
    FRAME_HEADER_LEN, FrameRewriter, MAX_CONTINUATIONS, MAX_FRAME_SIZE, MAX_HEADER_LIST_SIZE,
};
use libfuzzer_sys::fuzz_target;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// A held block: its fragment, and for each held frame (HEADERS and the CONTINUATIONs before the
/// last) a frame header, plus the HEADERS frame's pad length, padding and priority fields.
const MAX_HELD: usize =
    MAX_HEADER_LIST_SIZE + (MAX_CONTINUATIONS + 1) * FRAME_HEADER_LEN + 1 + 255 + 5;

fuzz_target!(|data: &[u8]| {
    let Some((&last, body)) = data.split_last() else {
        return;
    };
    let chunk = usize::from(last) * 97 + 1;
    let stream: Vec<u8> = if body.first().is_some_and(|b| b % 2 == 0) {
        [PREFACE, &body[1..]].concat()
    } else {
        body.to_vec()
    };

    let mut rewriter = FrameRewriter::default();
    let mut pending: Vec<u8> = Vec::new();
    let mut out = Vec::new();
    let mut refused = false;
    for read in stream.chunks(chunk) {
        pending.extend_from_slice(read);
        match rewriter.process(&pending, &mut out) {
            Ok(consumed) => {
                pending.drain(..consumed);
            }
            Err(_) => {
                refused = true;
                break;
            }
        }
        assert!(
            rewriter.held_len() <= MAX_HELD,
            "held {}",
            rewriter.held_len()
        );
        assert!(
            pending.len() < FRAME_HEADER_LEN + MAX_FRAME_SIZE || rewriter.is_passthrough(),
            "{} bytes left unconsumed",
            pending.len()
        );
    }
    if refused {
        return;
    }
    if rewriter.is_passthrough() || !stream.starts_with(PREFACE) {
        // Not rewritten (or not from some point on): nothing to check beyond the bounds above.
        return;
    }
    // What the client left incomplete at EOF goes out raw after this point.
    let rewritten = out.len();
    rewriter.finish(&pending, &mut out);
    assert!(out.len() >= rewritten);
    check_rewritten(&out[..rewritten]);
});

/// `out` is what a connection that never fell back forwarded: the preface, whole frames, and then
/// possibly an incomplete frame the client left unfinished at EOF.
fn check_rewritten(out: &[u8]) {
    let mut rest = out.strip_prefix(PREFACE).expect("the preface goes first");
    let mut block: Option<Vec<u8>> = None;
    while let Some(header) = rest.first_chunk::<FRAME_HEADER_LEN>() {
        let len =
            usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
        let Some(payload) = rest.get(FRAME_HEADER_LEN..FRAME_HEADER_LEN + len) else {
            return; // cut short by the client's EOF, forwarded as is
        };
        rest = &rest[FRAME_HEADER_LEN + len..];
        let (kind, flags) = (header[3], header[4]);
        match kind {
            0x1 | 0x9 => {
                // Ours: never padded, at most 16 KiB.
                assert!(len <= MAX_FRAME_SIZE, "emitted a {len}-byte header frame");
                let fragment = if kind == 0x1 {
                    assert!(block.is_none(), "HEADERS inside an emitted block");
                    assert_eq!(flags & 0x8, 0, "emitted padding");
                    let skip = if flags & 0x20 != 0 { 5 } else { 0 };
                    &payload[skip..]
                } else {
                    assert!(block.is_some(), "emitted a stray CONTINUATION");
                    payload
                };
                block
                    .get_or_insert_with(Vec::new)
                    .extend_from_slice(fragment);
                if flags & 0x4 != 0 {
                    let Some(fragment) = block.take() else {
                        unreachable!()
                    };
                    let mut fresh = loona_hpack::Decoder::new();
                    fresh.set_max_allowed_table_size(0);
                    fresh.set_max_table_size(0);
                    let fields = fresh
                        .decode(&fragment)
                        .expect("emitted blocks decode statelessly");
                    let size: usize = fields.iter().map(|(n, v)| n.len() + v.len() + 32).sum();
                    assert!(
                        size < MAX_HEADER_LIST_SIZE,
                        "emitted a {size}-byte header list"
                    );
                }
            }
            _ => assert!(block.is_none(), "frame inside an emitted block"),
        }
    }
}
