//! HPACK decoding (RFC 7541) of client header blocks: integers (§5.1), string literals with and
//! without Huffman coding (§5.2, Appendix B), the static table (Appendix A) and the connection's
//! dynamic table (§2.3.2, §4), followed across blocks.
//!
//! Hand-written rather than a crate's: the decoders on crates.io that bound integers and table
//! sizes (loona-hpack and its forks) rebuild their Huffman decoding table, a set of hash maps, for
//! every Huffman-coded string, which was 12 % of the agent's CPU per new Workload API connection.
//! Here the Huffman code is a binary tree built once per process. h2's own decoder is not public.
//!
//! Strictness follows h2's decoder (the server behind us): integers of more than 5 octets, indices
//! outside the tables, bad Huffman padding or an EOS symbol, a table size update above the allowed
//! maximum or after the first field of a block are all [`Undecodable`], so the caller passes the
//! connection through and the server rejects the block itself.

use std::collections::VecDeque;
use std::sync::LazyLock;

/// A header block we could not decode (or would not, past our limits).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Undecodable;

/// RFC 7541 §4.1: an entry's size is its name and value lengths plus 32.
const ENTRY_OVERHEAD: usize = 32;

/// Integers longer than this many octets (prefix included) are refused, as h2 and loona-hpack
/// do; the largest value that fits is below 2^29, so no arithmetic here can overflow.
const MAX_INTEGER_OCTETS: usize = 5;

/// A dynamic table entry: name and value.
type Entry = (Box<[u8]>, Box<[u8]>);

/// The decoding side of one connection's HPACK context.
pub(crate) struct Decoder {
    /// Newest first: dynamic index 62 is `table[0]` (§2.3.3).
    table: VecDeque<Entry>,
    /// Sum of the entries' sizes (§4.1).
    size: usize,
    /// The current maximum size, as last set by a size update (§6.3).
    max_size: usize,
    /// The most a size update may set (SETTINGS_HEADER_TABLE_SIZE, §4.2).
    max_allowed: usize,
    /// Huffman-decoded name and value of the field being decoded, reused across fields.
    name_buf: Vec<u8>,
    value_buf: Vec<u8>,
    /// The last error was a size update after a field: a rule h2 enforces and RFC 7541 states
    /// only for the first block after a settings change (§4.2). Read by the differential fuzz
    /// target, whose reference decoder accepts it.
    late_size_update: bool,
}

impl Decoder {
    /// A decoder whose table starts at, and may never exceed, `max_allowed` bytes.
    pub(crate) fn new(max_allowed: usize) -> Self {
        Self {
            table: VecDeque::new(),
            size: 0,
            max_size: max_allowed,
            max_allowed,
            name_buf: Vec::new(),
            value_buf: Vec::new(),
            late_size_update: false,
        }
    }

    /// Decodes one complete header block, calling `on_field(name, value)` for each field in
    /// order and applying the block's table updates. After an `Err` the table state is
    /// unspecified: the caller stops decoding this connection.
    pub(crate) fn decode(
        &mut self,
        block: &[u8],
        mut on_field: impl FnMut(&[u8], &[u8]),
    ) -> Result<(), Undecodable> {
        let mut pos = 0;
        let mut seen_field = false;
        while let Some(&first) = block.get(pos) {
            if first & 0x80 != 0 {
                // §6.1 Indexed Header Field.
                let index = integer(block, &mut pos, 7)?;
                let (name, value) = lookup(&self.table, index)?;
                on_field(name, value);
                seen_field = true;
            } else if first & 0xe0 == 0x20 {
                // §6.3 Dynamic Table Size Update: "MUST occur at the beginning of the first
                // header block following the change" (§4.2); h2 refuses one after a field.
                if seen_field {
                    self.late_size_update = true;
                    return Err(Undecodable);
                }
                let size = integer(block, &mut pos, 5)?;
                if size > self.max_allowed {
                    return Err(Undecodable);
                }
                self.max_size = size;
                self.evict();
            } else {
                // §6.2.1 with incremental indexing (01), §6.2.2 without (0000), §6.2.3 never
                // indexed (0001).
                let indexing = first & 0xc0 == 0x40;
                let index = integer(block, &mut pos, if indexing { 6 } else { 4 })?;
                let name = if index == 0 {
                    string(block, &mut pos, &mut self.name_buf)?
                } else {
                    lookup(&self.table, index)?.0
                };
                let value = string(block, &mut pos, &mut self.value_buf)?;
                on_field(name, value);
                seen_field = true;
                if indexing {
                    let entry = (Box::from(name), Box::from(value));
                    self.insert(entry);
                }
            }
        }
        Ok(())
    }

    /// Whether the last `Err` came from a size update after a field.
    pub(crate) fn failed_on_late_size_update(&self) -> bool {
        self.late_size_update
    }

    /// §4.4: evict the oldest entries until the new one fits; one larger than the maximum
    /// empties the table and is not added.
    fn insert(&mut self, entry: Entry) {
        let entry_size = entry.0.len() + entry.1.len() + ENTRY_OVERHEAD;
        if entry_size > self.max_size {
            self.table.clear();
            self.size = 0;
            return;
        }
        self.size += entry_size;
        self.table.push_front(entry);
        self.evict();
    }

    /// §4.3: evict from the end until the table fits its maximum size.
    fn evict(&mut self) {
        while self.size > self.max_size {
            let Some((name, value)) = self.table.pop_back() else {
                self.size = 0;
                return;
            };
            self.size -= name.len() + value.len() + ENTRY_OVERHEAD;
        }
    }
}

/// §2.3.3: index 1..=61 is the static table, 62.. the dynamic `table`, newest first.
fn lookup(table: &VecDeque<Entry>, index: usize) -> Result<(&[u8], &[u8]), Undecodable> {
    if let Some(i) = index.checked_sub(1)
        && let Some(&(name, value)) = STATIC_TABLE.get(i)
    {
        return Ok((name, value));
    }
    let (name, value) = index
        .checked_sub(STATIC_TABLE.len() + 1)
        .and_then(|i| table.get(i))
        .ok_or(Undecodable)?;
    Ok((name, value))
}

/// §5.1: an integer with an N-bit prefix at `block[*pos]`; advances `pos` past it.
fn integer(block: &[u8], pos: &mut usize, prefix_bits: u8) -> Result<usize, Undecodable> {
    let max_prefix = (1usize << prefix_bits) - 1;
    let first = *block.get(*pos).ok_or(Undecodable)?;
    *pos += 1;
    let mut value = usize::from(first) & max_prefix;
    if value < max_prefix {
        return Ok(value);
    }
    for octets in 2..=MAX_INTEGER_OCTETS {
        let b = *block.get(*pos).ok_or(Undecodable)?;
        *pos += 1;
        value += usize::from(b & 0x7f) << (7 * (octets - 2));
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(Undecodable)
}

/// §5.2: a string literal at `block[*pos]`, raw or Huffman-decoded into `scratch`.
fn string<'a>(
    block: &'a [u8],
    pos: &mut usize,
    scratch: &'a mut Vec<u8>,
) -> Result<&'a [u8], Undecodable> {
    let huffman = block.get(*pos).ok_or(Undecodable)? & 0x80 != 0;
    let len = integer(block, pos, 7)?;
    let end = pos.checked_add(len).ok_or(Undecodable)?;
    let raw = block.get(*pos..end).ok_or(Undecodable)?;
    *pos = end;
    if !huffman {
        return Ok(raw);
    }
    scratch.clear();
    huffman_decode(raw, scratch)?;
    Ok(scratch)
}

/// A child in [`HuffmanTree`]: a node index, or a symbol when [`LEAF`] is set.
const LEAF: u16 = 0x8000;
/// The end-of-string symbol (Appendix B): decoding it is an error (§5.2).
const EOS: u16 = 256;

/// The Huffman code of Appendix B as a binary tree: `nodes[i][bit]` is the child of node `i`
/// (the root is node 0). The code is complete, so every child is set.
struct HuffmanTree {
    nodes: Vec<[u16; 2]>,
}

static HUFFMAN_TREE: LazyLock<HuffmanTree> = LazyLock::new(HuffmanTree::build);

impl HuffmanTree {
    fn build() -> Self {
        let mut nodes = vec![[0u16; 2]];
        for (symbol, &(code, len)) in (0u16..).zip(HUFFMAN_CODES.iter()) {
            let mut node = 0;
            for i in (0..len).rev() {
                let bit = usize::from((code >> i) & 1 == 1);
                if i == 0 {
                    nodes[node][bit] = LEAF | symbol;
                } else {
                    if nodes[node][bit] == 0 {
                        // At most 256 inner nodes, so the index fits below LEAF.
                        nodes[node][bit] = nodes.len() as u16;
                        nodes.push([0; 2]);
                    }
                    node = usize::from(nodes[node][bit]);
                }
            }
        }
        Self { nodes }
    }
}

/// §5.2 and Appendix B: decodes `input` onto `out`. The padding after the last symbol must be
/// at most 7 bits, all ones (a prefix of EOS); EOS itself must not occur.
fn huffman_decode(input: &[u8], out: &mut Vec<u8>) -> Result<(), Undecodable> {
    let nodes = &HUFFMAN_TREE.nodes;
    let mut node = 0usize;
    // Bits read since the last symbol, and whether all of them were ones.
    let mut pending_bits = 0u32;
    let mut pending_all_ones = true;
    for &byte in input {
        for shift in (0..8).rev() {
            let bit = (byte >> shift) & 1;
            pending_bits += 1;
            pending_all_ones &= bit == 1;
            let child = nodes[node][usize::from(bit)];
            if child & LEAF == 0 {
                node = usize::from(child);
                continue;
            }
            let symbol = child & !LEAF;
            if symbol == EOS {
                return Err(Undecodable);
            }
            // Symbols other than EOS are below 256.
            out.push(symbol as u8);
            node = 0;
            pending_bits = 0;
            pending_all_ones = true;
        }
    }
    if pending_bits > 7 || !pending_all_ones {
        return Err(Undecodable);
    }
    Ok(())
}

/// RFC 7541 Appendix A.
static STATIC_TABLE: [(&[u8], &[u8]); 61] = [
    (b":authority", b""),
    (b":method", b"GET"),
    (b":method", b"POST"),
    (b":path", b"/"),
    (b":path", b"/index.html"),
    (b":scheme", b"http"),
    (b":scheme", b"https"),
    (b":status", b"200"),
    (b":status", b"204"),
    (b":status", b"206"),
    (b":status", b"304"),
    (b":status", b"400"),
    (b":status", b"404"),
    (b":status", b"500"),
    (b"accept-charset", b""),
    (b"accept-encoding", b"gzip, deflate"),
    (b"accept-language", b""),
    (b"accept-ranges", b""),
    (b"accept", b""),
    (b"access-control-allow-origin", b""),
    (b"age", b""),
    (b"allow", b""),
    (b"authorization", b""),
    (b"cache-control", b""),
    (b"content-disposition", b""),
    (b"content-encoding", b""),
    (b"content-language", b""),
    (b"content-length", b""),
    (b"content-location", b""),
    (b"content-range", b""),
    (b"content-type", b""),
    (b"cookie", b""),
    (b"date", b""),
    (b"etag", b""),
    (b"expect", b""),
    (b"expires", b""),
    (b"from", b""),
    (b"host", b""),
    (b"if-match", b""),
    (b"if-modified-since", b""),
    (b"if-none-match", b""),
    (b"if-range", b""),
    (b"if-unmodified-since", b""),
    (b"last-modified", b""),
    (b"link", b""),
    (b"location", b""),
    (b"max-forwards", b""),
    (b"proxy-authenticate", b""),
    (b"proxy-authorization", b""),
    (b"range", b""),
    (b"referer", b""),
    (b"refresh", b""),
    (b"retry-after", b""),
    (b"server", b""),
    (b"set-cookie", b""),
    (b"strict-transport-security", b""),
    (b"transfer-encoding", b""),
    (b"user-agent", b""),
    (b"vary", b""),
    (b"via", b""),
    (b"www-authenticate", b""),
];

/// RFC 7541 Appendix B: (code, length in bits) of symbols 0-255 and EOS (256), code right-aligned.
static HUFFMAN_CODES: [(u32, u8); 257] = [
    (0x1ff8, 13),
    (0x7fffd8, 23),
    (0xfffffe2, 28),
    (0xfffffe3, 28),
    (0xfffffe4, 28),
    (0xfffffe5, 28),
    (0xfffffe6, 28),
    (0xfffffe7, 28),
    (0xfffffe8, 28),
    (0xffffea, 24),
    (0x3ffffffc, 30),
    (0xfffffe9, 28),
    (0xfffffea, 28),
    (0x3ffffffd, 30),
    (0xfffffeb, 28),
    (0xfffffec, 28),
    (0xfffffed, 28),
    (0xfffffee, 28),
    (0xfffffef, 28),
    (0xffffff0, 28),
    (0xffffff1, 28),
    (0xffffff2, 28),
    (0x3ffffffe, 30),
    (0xffffff3, 28),
    (0xffffff4, 28),
    (0xffffff5, 28),
    (0xffffff6, 28),
    (0xffffff7, 28),
    (0xffffff8, 28),
    (0xffffff9, 28),
    (0xffffffa, 28),
    (0xffffffb, 28),
    (0x14, 6),
    (0x3f8, 10),
    (0x3f9, 10),
    (0xffa, 12),
    (0x1ff9, 13),
    (0x15, 6),
    (0xf8, 8),
    (0x7fa, 11),
    (0x3fa, 10),
    (0x3fb, 10),
    (0xf9, 8),
    (0x7fb, 11),
    (0xfa, 8),
    (0x16, 6),
    (0x17, 6),
    (0x18, 6),
    (0x0, 5),
    (0x1, 5),
    (0x2, 5),
    (0x19, 6),
    (0x1a, 6),
    (0x1b, 6),
    (0x1c, 6),
    (0x1d, 6),
    (0x1e, 6),
    (0x1f, 6),
    (0x5c, 7),
    (0xfb, 8),
    (0x7ffc, 15),
    (0x20, 6),
    (0xffb, 12),
    (0x3fc, 10),
    (0x1ffa, 13),
    (0x21, 6),
    (0x5d, 7),
    (0x5e, 7),
    (0x5f, 7),
    (0x60, 7),
    (0x61, 7),
    (0x62, 7),
    (0x63, 7),
    (0x64, 7),
    (0x65, 7),
    (0x66, 7),
    (0x67, 7),
    (0x68, 7),
    (0x69, 7),
    (0x6a, 7),
    (0x6b, 7),
    (0x6c, 7),
    (0x6d, 7),
    (0x6e, 7),
    (0x6f, 7),
    (0x70, 7),
    (0x71, 7),
    (0x72, 7),
    (0xfc, 8),
    (0x73, 7),
    (0xfd, 8),
    (0x1ffb, 13),
    (0x7fff0, 19),
    (0x1ffc, 13),
    (0x3ffc, 14),
    (0x22, 6),
    (0x7ffd, 15),
    (0x3, 5),
    (0x23, 6),
    (0x4, 5),
    (0x24, 6),
    (0x5, 5),
    (0x25, 6),
    (0x26, 6),
    (0x27, 6),
    (0x6, 5),
    (0x74, 7),
    (0x75, 7),
    (0x28, 6),
    (0x29, 6),
    (0x2a, 6),
    (0x7, 5),
    (0x2b, 6),
    (0x76, 7),
    (0x2c, 6),
    (0x8, 5),
    (0x9, 5),
    (0x2d, 6),
    (0x77, 7),
    (0x78, 7),
    (0x79, 7),
    (0x7a, 7),
    (0x7b, 7),
    (0x7ffe, 15),
    (0x7fc, 11),
    (0x3ffd, 14),
    (0x1ffd, 13),
    (0xffffffc, 28),
    (0xfffe6, 20),
    (0x3fffd2, 22),
    (0xfffe7, 20),
    (0xfffe8, 20),
    (0x3fffd3, 22),
    (0x3fffd4, 22),
    (0x3fffd5, 22),
    (0x7fffd9, 23),
    (0x3fffd6, 22),
    (0x7fffda, 23),
    (0x7fffdb, 23),
    (0x7fffdc, 23),
    (0x7fffdd, 23),
    (0x7fffde, 23),
    (0xffffeb, 24),
    (0x7fffdf, 23),
    (0xffffec, 24),
    (0xffffed, 24),
    (0x3fffd7, 22),
    (0x7fffe0, 23),
    (0xffffee, 24),
    (0x7fffe1, 23),
    (0x7fffe2, 23),
    (0x7fffe3, 23),
    (0x7fffe4, 23),
    (0x1fffdc, 21),
    (0x3fffd8, 22),
    (0x7fffe5, 23),
    (0x3fffd9, 22),
    (0x7fffe6, 23),
    (0x7fffe7, 23),
    (0xffffef, 24),
    (0x3fffda, 22),
    (0x1fffdd, 21),
    (0xfffe9, 20),
    (0x3fffdb, 22),
    (0x3fffdc, 22),
    (0x7fffe8, 23),
    (0x7fffe9, 23),
    (0x1fffde, 21),
    (0x7fffea, 23),
    (0x3fffdd, 22),
    (0x3fffde, 22),
    (0xfffff0, 24),
    (0x1fffdf, 21),
    (0x3fffdf, 22),
    (0x7fffeb, 23),
    (0x7fffec, 23),
    (0x1fffe0, 21),
    (0x1fffe1, 21),
    (0x3fffe0, 22),
    (0x1fffe2, 21),
    (0x7fffed, 23),
    (0x3fffe1, 22),
    (0x7fffee, 23),
    (0x7fffef, 23),
    (0xfffea, 20),
    (0x3fffe2, 22),
    (0x3fffe3, 22),
    (0x3fffe4, 22),
    (0x7ffff0, 23),
    (0x3fffe5, 22),
    (0x3fffe6, 22),
    (0x7ffff1, 23),
    (0x3ffffe0, 26),
    (0x3ffffe1, 26),
    (0xfffeb, 20),
    (0x7fff1, 19),
    (0x3fffe7, 22),
    (0x7ffff2, 23),
    (0x3fffe8, 22),
    (0x1ffffec, 25),
    (0x3ffffe2, 26),
    (0x3ffffe3, 26),
    (0x3ffffe4, 26),
    (0x7ffffde, 27),
    (0x7ffffdf, 27),
    (0x3ffffe5, 26),
    (0xfffff1, 24),
    (0x1ffffed, 25),
    (0x7fff2, 19),
    (0x1fffe3, 21),
    (0x3ffffe6, 26),
    (0x7ffffe0, 27),
    (0x7ffffe1, 27),
    (0x3ffffe7, 26),
    (0x7ffffe2, 27),
    (0xfffff2, 24),
    (0x1fffe4, 21),
    (0x1fffe5, 21),
    (0x3ffffe8, 26),
    (0x3ffffe9, 26),
    (0xffffffd, 28),
    (0x7ffffe3, 27),
    (0x7ffffe4, 27),
    (0x7ffffe5, 27),
    (0xfffec, 20),
    (0xfffff3, 24),
    (0xfffed, 20),
    (0x1fffe6, 21),
    (0x3fffe9, 22),
    (0x1fffe7, 21),
    (0x1fffe8, 21),
    (0x7ffff3, 23),
    (0x3fffea, 22),
    (0x3fffeb, 22),
    (0x1ffffee, 25),
    (0x1ffffef, 25),
    (0xfffff4, 24),
    (0xfffff5, 24),
    (0x3ffffea, 26),
    (0x7ffff4, 23),
    (0x3ffffeb, 26),
    (0x7ffffe6, 27),
    (0x3ffffec, 26),
    (0x3ffffed, 26),
    (0x7ffffe7, 27),
    (0x7ffffe8, 27),
    (0x7ffffe9, 27),
    (0x7ffffea, 27),
    (0x7ffffeb, 27),
    (0xffffffe, 28),
    (0x7ffffec, 27),
    (0x7ffffed, 27),
    (0x7ffffee, 27),
    (0x7ffffef, 27),
    (0x7fffff0, 27),
    (0x3ffffee, 26),
    (0x3fffffff, 30),
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

    use super::*;

    type Fields = Vec<(Vec<u8>, Vec<u8>)>;

    fn decode(decoder: &mut Decoder, block: &[u8]) -> Result<Fields, Undecodable> {
        let mut fields = Vec::new();
        decoder.decode(block, |n, v| fields.push((n.to_vec(), v.to_vec())))?;
        Ok(fields)
    }

    fn fields(list: &[(&str, &str)]) -> Fields {
        list.iter()
            .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    fn table(decoder: &Decoder) -> Fields {
        decoder
            .table
            .iter()
            .map(|(n, v)| (n.to_vec(), v.to_vec()))
            .collect()
    }

    #[test]
    fn rfc7541_c4_requests_with_huffman() {
        let mut d = Decoder::new(4096);
        let c41 = [
            0x82, 0x86, 0x84, 0x41, 0x8c, 0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab,
            0x90, 0xf4, 0xff,
        ];
        assert_eq!(
            decode(&mut d, &c41).unwrap(),
            fields(&[
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/"),
                (":authority", "www.example.com"),
            ])
        );
        let c42 = [
            0x82, 0x86, 0x84, 0xbe, 0x58, 0x86, 0xa8, 0xeb, 0x10, 0x64, 0x9c, 0xbf,
        ];
        assert_eq!(
            decode(&mut d, &c42).unwrap(),
            fields(&[
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/"),
                (":authority", "www.example.com"),
                ("cache-control", "no-cache"),
            ])
        );
        let c43 = [
            0x82, 0x87, 0x85, 0xbf, 0x40, 0x88, 0x25, 0xa8, 0x49, 0xe9, 0x5b, 0xa9, 0x7d, 0x7f,
            0x89, 0x25, 0xa8, 0x49, 0xe9, 0x5b, 0xb8, 0xe8, 0xb4, 0xbf,
        ];
        assert_eq!(
            decode(&mut d, &c43).unwrap(),
            fields(&[
                (":method", "GET"),
                (":scheme", "https"),
                (":path", "/index.html"),
                (":authority", "www.example.com"),
                ("custom-key", "custom-value"),
            ])
        );
        assert_eq!(
            table(&d),
            fields(&[
                ("custom-key", "custom-value"),
                ("cache-control", "no-cache"),
                (":authority", "www.example.com"),
            ])
        );
        assert_eq!(d.size, 164, "C.4.3: table size 164");
    }

    #[test]
    fn rfc7541_c6_responses_with_huffman_and_eviction() {
        // The example's table is 256 octets.
        let mut d = Decoder::new(256);
        let c61 = [
            0x48, 0x82, 0x64, 0x02, 0x58, 0x85, 0xae, 0xc3, 0x77, 0x1a, 0x4b, 0x61, 0x96, 0xd0,
            0x7a, 0xbe, 0x94, 0x10, 0x54, 0xd4, 0x44, 0xa8, 0x20, 0x05, 0x95, 0x04, 0x0b, 0x81,
            0x66, 0xe0, 0x82, 0xa6, 0x2d, 0x1b, 0xff, 0x6e, 0x91, 0x9d, 0x29, 0xad, 0x17, 0x18,
            0x63, 0xc7, 0x8f, 0x0b, 0x97, 0xc8, 0xe9, 0xae, 0x82, 0xae, 0x43, 0xd3,
        ];
        decode(&mut d, &c61).unwrap();
        let c62 = [0x48, 0x83, 0x64, 0x0e, 0xff, 0xc1, 0xc0, 0xbf];
        assert_eq!(
            decode(&mut d, &c62).unwrap(),
            fields(&[
                (":status", "307"),
                ("cache-control", "private"),
                ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
                ("location", "https://www.example.com"),
            ])
        );
        let c63 = [
            0x88, 0xc1, 0x61, 0x96, 0xd0, 0x7a, 0xbe, 0x94, 0x10, 0x54, 0xd4, 0x44, 0xa8, 0x20,
            0x05, 0x95, 0x04, 0x0b, 0x81, 0x66, 0xe0, 0x84, 0xa6, 0x2d, 0x1b, 0xff, 0xc0, 0x5a,
            0x83, 0x9b, 0xd9, 0xab, 0x77, 0xad, 0x94, 0xe7, 0x82, 0x1d, 0xd7, 0xf2, 0xe6, 0xc7,
            0xb3, 0x35, 0xdf, 0xdf, 0xcd, 0x5b, 0x39, 0x60, 0xd5, 0xaf, 0x27, 0x08, 0x7f, 0x36,
            0x72, 0xc1, 0xab, 0x27, 0x0f, 0xb5, 0x29, 0x1f, 0x95, 0x87, 0x31, 0x60, 0x65, 0xc0,
            0x03, 0xed, 0x4e, 0xe5, 0xb1, 0x06, 0x3d, 0x50, 0x07,
        ];
        let cookie = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";
        assert_eq!(
            decode(&mut d, &c63).unwrap(),
            fields(&[
                (":status", "200"),
                ("cache-control", "private"),
                ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
                ("location", "https://www.example.com"),
                ("content-encoding", "gzip"),
                ("set-cookie", cookie),
            ])
        );
        assert_eq!(
            table(&d),
            fields(&[
                ("set-cookie", cookie),
                ("content-encoding", "gzip"),
                ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
            ])
        );
        assert_eq!(d.size, 215, "C.6.3: table size 215");
    }

    #[test]
    fn every_symbol_round_trips_through_the_huffman_tree() {
        // Encode all 256 octets with Appendix B, pad with ones, decode.
        let input: Vec<u8> = (0..=255).collect();
        let mut bits: u64 = 0;
        let mut nbits = 0u32;
        let mut encoded = Vec::new();
        for &b in &input {
            let (code, len) = HUFFMAN_CODES[usize::from(b)];
            bits = (bits << len) | u64::from(code);
            nbits += u32::from(len);
            while nbits >= 8 {
                nbits -= 8;
                encoded.push((bits >> nbits) as u8);
            }
        }
        if nbits > 0 {
            let pad = 8 - nbits;
            encoded.push(((bits << pad) | ((1 << pad) - 1)) as u8);
        }
        let mut out = Vec::new();
        huffman_decode(&encoded, &mut out).unwrap();
        assert_eq!(out, input);
        // 256 symbols, 255 inner nodes, every child set.
        let tree = &HUFFMAN_TREE.nodes;
        assert_eq!(tree.len(), 256);
        assert!(tree.iter().flatten().all(|&c| c != 0));
    }

    #[test]
    fn bad_huffman_padding_and_eos_are_undecodable() {
        let mut out = Vec::new();
        // 'a' is 00011 (5 bits): padding 000 is not a prefix of EOS.
        assert_eq!(huffman_decode(&[0b0001_1000], &mut out), Err(Undecodable));
        assert_eq!(huffman_decode(&[0b0001_1111], &mut out.clone()), Ok(()));
        // Eight bits of padding (a whole 0xff octet).
        assert_eq!(
            huffman_decode(&[0b0001_1111, 0xff], &mut out),
            Err(Undecodable)
        );
        // EOS: 30 ones.
        assert_eq!(
            huffman_decode(&[0xff, 0xff, 0xff, 0xfc], &mut out),
            Err(Undecodable)
        );
    }

    #[test]
    fn integers_are_bounded_and_must_be_complete() {
        let mut pos = 0;
        // RFC 7541 C.1.2: 1337 with a 5-bit prefix.
        assert_eq!(integer(&[0x1f, 0x9a, 0x0a], &mut pos, 5), Ok(1337));
        assert_eq!(pos, 3);
        // Truncated.
        assert_eq!(integer(&[0x1f, 0x9a], &mut 0, 5), Err(Undecodable));
        // Five octets is the limit; a sixth is refused.
        assert!(integer(&[0x7f, 0xff, 0xff, 0xff, 0x7f], &mut 0, 7).is_ok());
        assert_eq!(
            integer(&[0x7f, 0xff, 0xff, 0xff, 0xff, 0x01], &mut 0, 7),
            Err(Undecodable)
        );
    }

    #[test]
    fn table_size_updates_are_bounded_and_only_at_the_start() {
        // 0x3f 0xe1 0x1f: size update to 4096; then :method GET.
        let mut d = Decoder::new(4096);
        assert!(decode(&mut d, &[0x3f, 0xe1, 0x1f, 0x82]).is_ok());
        // 4097 is over the limit.
        assert_eq!(
            decode(&mut Decoder::new(4096), &[0x3f, 0xe2, 0x1f, 0x82]),
            Err(Undecodable)
        );
        // After a field (h2 refuses this too).
        assert_eq!(
            decode(&mut Decoder::new(4096), &[0x82, 0x20]),
            Err(Undecodable)
        );
        // A size update to 0 evicts everything: index 62 then refers to nothing.
        let mut d = Decoder::new(4096);
        decode(&mut d, &[0x40, 0x01, b'a', 0x01, b'b']).unwrap();
        assert_eq!(decode(&mut d, &[0xbe]).unwrap(), fields(&[("a", "b")]));
        assert_eq!(decode(&mut d, &[0x20, 0xbe]), Err(Undecodable));
    }

    #[test]
    fn out_of_range_indices_and_truncated_strings_are_undecodable() {
        let mut d = Decoder::new(4096);
        assert_eq!(decode(&mut d, &[0x80]), Err(Undecodable), "index 0");
        assert_eq!(
            decode(&mut d, &[0x80 | 62]),
            Err(Undecodable),
            "empty table"
        );
        assert_eq!(decode(&mut d, &[0x00, 0x05, b'a']), Err(Undecodable));
        assert_eq!(decode(&mut d, &[0x01]), Err(Undecodable), "no value");
    }

    #[test]
    fn an_entry_larger_than_the_table_empties_it() {
        let mut d = Decoder::new(64);
        decode(&mut d, &[0x40, 0x01, b'a', 0x01, b'b']).unwrap();
        assert_eq!(d.size, 34);
        let mut big = vec![0x40, 0x01, b'c', 0x20];
        big.extend_from_slice(&[b'x'; 32]);
        decode(&mut d, &big).unwrap();
        assert!(d.table.is_empty());
        assert_eq!(d.size, 0);
    }

    #[test]
    fn matches_loona_hpack_on_blocks_that_use_the_dynamic_table() {
        let mut encoder = loona_hpack::Encoder::new();
        let mut reference = loona_hpack::Decoder::new();
        let mut ours = Decoder::new(4096);
        let long = "v".repeat(700);
        for round in 0..50 {
            let authority = format!("tmp%2Fsock{}", round % 7);
            let counter = round.to_string();
            let headers: Vec<(&[u8], &[u8])> = vec![
                (b":method", b"POST"),
                (b":scheme", b"http"),
                (b":authority", authority.as_bytes()),
                (b":path", b"/SpiffeWorkloadAPI/FetchX509SVID"),
                (b"content-type", b"application/grpc"),
                (b"workload.spiffe.io", b"true"),
                (b"x-counter", counter.as_bytes()),
                (b"x-long", long.as_bytes()),
            ];
            let block = encoder.encode(headers.iter().copied());
            let expected = reference.decode(&block).unwrap();
            assert_eq!(
                decode(&mut ours, &block).unwrap(),
                expected,
                "round {round}"
            );
        }
    }
}
