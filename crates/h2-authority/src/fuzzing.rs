//! Entry points for the fuzz targets in `fuzz/` (not a public API; hidden from the docs): the
//! frame rewriter fed raw client bytes, and the HPACK decoder on its own.

use crate::decode::Decoder;
use crate::frame::Rewriter;

/// SETTINGS_MAX_FRAME_SIZE: the largest header frame accepted and emitted.
pub const MAX_FRAME_SIZE: usize = crate::frame::MAX_FRAME_SIZE;
/// h2's CONTINUATION flood limit.
pub const MAX_CONTINUATIONS: usize = crate::frame::MAX_CONTINUATIONS;
/// SETTINGS_MAX_HEADER_LIST_SIZE: the bound on a block's fragment and decoded list.
pub const MAX_HEADER_LIST_SIZE: usize = crate::hpack::MAX_HEADER_LIST_SIZE;

/// 9-byte frame header: the most `process` may leave unconsumed beyond one whole frame.
pub const FRAME_HEADER_LEN: usize = 9;

/// The read side of one connection, as [`crate::NormalizeAuthority`] drives it.
pub struct FrameRewriter(Rewriter);

impl Default for FrameRewriter {
    fn default() -> Self {
        Self(Rewriter::new())
    }
}

impl FrameRewriter {
    /// Consumes what it can of `input`, appending what to forward to `out`; returns how many
    /// bytes were consumed (the rest must be offered again with more appended).
    pub fn process(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, crate::Refused> {
        self.0.process(input, out)
    }

    /// The client closed: `unconsumed` and anything held go out unchanged.
    pub fn finish(&mut self, unconsumed: &[u8], out: &mut Vec<u8>) {
        self.0.finish(unconsumed, out);
    }

    /// Bytes held for the open header block.
    pub fn held_len(&self) -> usize {
        self.0.held_len()
    }

    /// Every further byte is copied unchanged.
    pub fn is_passthrough(&self) -> bool {
        self.0.is_passthrough()
    }
}

/// A header field list: (name, value) pairs in order.
pub type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// One connection's HPACK decoding context, with the 4,096-byte table limit the rewriter uses.
pub struct HpackDecoder(Decoder);

impl Default for HpackDecoder {
    fn default() -> Self {
        Self(Decoder::new(crate::hpack::MAX_DYNAMIC_TABLE_SIZE))
    }
}

impl HpackDecoder {
    /// Decodes one complete header block; `None` if it is undecodable (after which the table
    /// state is unspecified).
    pub fn decode(&mut self, block: &[u8]) -> Option<Fields> {
        let mut fields = Vec::new();
        self.0
            .decode(block, |n, v| fields.push((n.to_vec(), v.to_vec())))
            .ok()?;
        Some(fields)
    }

    /// After `decode` returned `None`: whether the block failed only on h2's rule that a
    /// dynamic table size update may not follow a field.
    pub fn failed_on_late_size_update(&self) -> bool {
        self.0.failed_on_late_size_update()
    }
}
