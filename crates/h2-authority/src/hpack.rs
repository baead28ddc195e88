//! HPACK side of the rewrite: decode a client header block with the connection's decoder, replace
//! an invalid `:authority`, and re-encode the block without touching any dynamic table.
//!
//! Why always re-encode, even when nothing changes: our decoder has applied the block's dynamic
//! table insertions and size updates (RFC 7541 §2.3.2, §6.3). Passing an unchanged block through
//! would require the server's decoder to have seen every earlier block in its original form too,
//! which is false once one block was rewritten. Re-encoding every block statelessly keeps a single
//! invariant instead: the server's dynamic table stays empty and never needs to agree with the
//! client's.

use http::uri::Authority;

use crate::decode::Decoder;
use crate::decode::Undecodable;

/// What an invalid `:authority` becomes: the value h2, grpc-go and Kubernetes use for Unix sockets.
const REPLACEMENT_AUTHORITY: &[u8] = b"localhost";

/// SETTINGS_HEADER_TABLE_SIZE initial value (RFC 9113 §6.5.2). h2 advertises nothing else unless
/// configured (hyper and tonic don't), so a client may not grow its table beyond this (RFC 7541
/// §4.2); a block that tries is malformed for the server too.
pub(crate) const MAX_DYNAMIC_TABLE_SIZE: usize = 4096;

/// SETTINGS_MAX_HEADER_LIST_SIZE of the server behind us, in RFC 9113 §6.5.2 size (name + value +
/// 32 per field): tonic 0.14 leaves it unset, so hyper 1's server default applies,
/// `DEFAULT_SETTINGS_MAX_HEADER_LIST_SIZE` = 16 KiB in `hyper/src/proto/h2/server.rs`, which
/// hyper hands to h2 0.4 and h2 enforces (`HeaderBlock::load` in `h2/src/frame/headers.rs`: a
/// list of this size or more is refused). It bounds both what one block may decode to (indexed
/// fields let a few bytes decode to kilobytes) and, in `frame.rs`, the encoded block we hold:
/// encoders only Huffman-code a string when that makes it shorter, so a block h2 accepts is
/// never longer encoded than decoded.
pub(crate) const MAX_HEADER_LIST_SIZE: usize = 16_384;

/// Why a block was not rewritten.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RewriteError {
    /// Bad HPACK: the server must reject it too, so it is passed through for the server to see.
    Undecodable,
    /// The decoded list reaches [`MAX_HEADER_LIST_SIZE`].
    ListTooLarge,
}

impl From<Undecodable> for RewriteError {
    fn from(_: Undecodable) -> Self {
        RewriteError::Undecodable
    }
}

/// Per RFC 7541 §6.2.3, "Literal Header Field Never Indexed" with a new name (4-bit index 0).
/// Never-indexed rather than without-indexing because an intermediary "MUST use the same
/// representation" for fields the client marked so, and we don't track which ones were; h2's
/// decoder treats both the same.
const LITERAL_NEVER_INDEXED_NEW_NAME: u8 = 0x10;

/// The client's HPACK context for one connection.
pub(crate) struct HeaderRewriter {
    decoder: Decoder,
}

impl HeaderRewriter {
    pub(crate) fn new() -> Self {
        Self {
            decoder: Decoder::new(MAX_DYNAMIC_TABLE_SIZE),
        }
    }

    /// Decodes one complete header block and returns it re-encoded without the dynamic table,
    /// with an `:authority` that `http` cannot parse replaced by `localhost`.
    pub(crate) fn rewrite(&mut self, block: &[u8]) -> Result<Vec<u8>, RewriteError> {
        // A first guess: Huffman-coded and indexed fields expand when written as plain literals.
        let mut out = Vec::with_capacity(block.len() * 2);
        let mut list_size = 0usize;
        self.decoder.decode(block, |name, value| {
            // The list as the server will see it, rewritten.
            let value = normalize(name, value);
            list_size = list_size.saturating_add(name.len() + value.len() + 32);
            if list_size < MAX_HEADER_LIST_SIZE {
                encode_field(name, value, &mut out);
            }
        })?;
        if list_size >= MAX_HEADER_LIST_SIZE {
            return Err(RewriteError::ListTooLarge);
        }
        Ok(out)
    }
}

/// The field value to forward: `localhost` for an `:authority` h2 would reject as malformed.
fn normalize<'a>(name: &[u8], value: &'a [u8]) -> &'a [u8] {
    if name == b":authority" && Authority::try_from(value).is_err() {
        REPLACEMENT_AUTHORITY
    } else {
        value
    }
}

/// RFC 7541 §6.2.3 with a literal name: `0001 0000`, name string, value string.
fn encode_field(name: &[u8], value: &[u8], out: &mut Vec<u8>) {
    out.push(LITERAL_NEVER_INDEXED_NEW_NAME);
    encode_string(name, out);
    encode_string(value, out);
}

/// RFC 7541 §5.2 string literal without Huffman coding: H = 0, 7-bit prefix length, octets.
fn encode_string(s: &[u8], out: &mut Vec<u8>) {
    encode_integer(s.len(), 7, 0x00, out);
    out.extend_from_slice(s);
}

/// RFC 7541 §5.1: values below `2^N - 1` fit in the N-bit prefix; larger ones fill the prefix and
/// continue in 7-bit groups, least significant first, with the high bit marking "more follows".
/// `first` carries the representation bits above the prefix.
fn encode_integer(value: usize, prefix_bits: u8, first: u8, out: &mut Vec<u8>) {
    let max_prefix = (1usize << prefix_bits) - 1;
    if value < max_prefix {
        out.push(first | value as u8);
        return;
    }
    out.push(first | max_prefix as u8);
    let mut rest = value - max_prefix;
    while rest >= 128 {
        out.push((rest % 128) as u8 | 0x80);
        rest /= 128;
    }
    out.push(rest as u8);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

    use super::*;

    fn int(value: usize, prefix_bits: u8) -> Vec<u8> {
        let mut out = Vec::new();
        encode_integer(value, prefix_bits, 0, &mut out);
        out
    }

    #[test]
    fn integers_match_rfc7541_appendix_c1() {
        // C.1.1: 10 with a 5-bit prefix; C.1.2: 1337 with a 5-bit prefix; C.1.3: 42 with 8 bits.
        assert_eq!(int(10, 5), [0b01010]);
        assert_eq!(int(1337, 5), [0b11111, 0b1001_1010, 0b0000_1010]);
        assert_eq!(int(42, 8), [42]);
        // Boundaries: 2^N - 1 needs a continuation octet of 0; 127 + 128 needs two.
        assert_eq!(int(127, 7), [0x7f, 0x00]);
        assert_eq!(int(126, 7), [0x7e]);
        assert_eq!(int(255, 7), [0x7f, 0x80, 0x01]);
    }

    #[test]
    fn field_encoding_is_a_never_indexed_literal() {
        let mut out = Vec::new();
        encode_field(b"a", b"bc", &mut out);
        assert_eq!(out, [0x10, 1, b'a', 2, b'b', b'c']);
    }

    #[test]
    fn output_decodes_with_a_fresh_decoder_and_inserts_nothing() {
        let mut encoder = loona_hpack::Encoder::new();
        let long = vec![b'x'; 300];
        let headers: [(&[u8], &[u8]); 4] = [
            (b":method", b"POST"),
            (b":authority", b"tmp%2Fh2test.sock"),
            (b"x-long", &long),
            (b"x-empty", b""),
        ];
        let mut rewriter = HeaderRewriter::new();
        for _ in 0..2 {
            // The second pass is all dynamic-table references on the client side.
            let block = encoder.encode(headers.iter().copied());
            let out = rewriter.rewrite(&block).unwrap();
            let mut fresh = loona_hpack::Decoder::new();
            fresh.set_max_allowed_table_size(0);
            let decoded = fresh.decode(&out).unwrap();
            assert_eq!(decoded[1], (b":authority".to_vec(), b"localhost".to_vec()));
            assert_eq!(decoded[2].1, long);
            assert_eq!(decoded.len(), 4);
        }
    }

    #[test]
    fn only_unparsable_authorities_are_replaced() {
        for bad in [&b"tmp%2Fh2test.sock"[..], b"/tmp/agent.sock", b"", b"a b"] {
            assert_eq!(normalize(b":authority", bad), b"localhost", "{bad:?}");
        }
        for good in [
            &b"localhost"[..],
            b"example.org:443",
            b"[::1]:8081",
            b"unix",
        ] {
            assert_eq!(normalize(b":authority", good), good);
        }
        assert_eq!(normalize(b"host", b"a%2Fb"), b"a%2Fb");
    }

    #[test]
    fn bad_hpack_and_oversized_table_updates_are_undecodable() {
        let mut rewriter = HeaderRewriter::new();
        // Indexed field 70: the dynamic table is empty.
        assert_eq!(
            rewriter.rewrite(&[0x80 | 70]),
            Err(RewriteError::Undecodable)
        );
        // Dynamic table size update to 8192 (> 4096), then `:method: GET`.
        let mut block = Vec::new();
        encode_integer(8192, 5, 0x20, &mut block);
        block.push(0x82);
        assert_eq!(
            HeaderRewriter::new().rewrite(&block),
            Err(RewriteError::Undecodable)
        );
    }

    #[test]
    fn amplified_header_lists_are_refused() {
        let mut rewriter = HeaderRewriter::new();
        // One 4000-byte insertion, then 5000 one-byte references to it: ~20 MB decoded.
        let mut block = vec![0x40];
        encode_string(b"x", &mut block);
        encode_string(&[b'v'; 4000], &mut block);
        block.extend(std::iter::repeat_n(0x80 | 62, 5000));
        assert_eq!(rewriter.rewrite(&block), Err(RewriteError::ListTooLarge));
    }

    #[test]
    fn the_list_limit_is_h2s_exactly() {
        // One field of 32 + 1 + (n - 33) = n bytes in RFC 9113 size.
        let field_of_size = |n: usize| {
            let mut block = Vec::new();
            encode_field(b"x", &vec![b'v'; n - 33], &mut block);
            block
        };
        let below = field_of_size(MAX_HEADER_LIST_SIZE - 1);
        assert!(HeaderRewriter::new().rewrite(&below).is_ok());
        let at = field_of_size(MAX_HEADER_LIST_SIZE);
        assert_eq!(
            HeaderRewriter::new().rewrite(&at),
            Err(RewriteError::ListTooLarge)
        );
    }
}
