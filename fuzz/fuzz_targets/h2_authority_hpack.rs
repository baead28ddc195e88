//! Differential fuzzing of the rewrite's HPACK decoder (`lanyard-h2-authority`, which decodes
//! bytes no one has authenticated yet) against loona-hpack, the maintained fork of hpack-rs.
//!
//! Input: a sequence of header blocks, each `[len: u16 BE][len bytes]`, decoded in order by one
//! connection context of each decoder (4,096-byte dynamic table, the limit the rewriter uses).
//! Invariant: on every block both decoders give the same header list, or both fail, except for
//! two rules on which the decoders deliberately differ:
//! - a table size update after a field: h2 (and so we) refuse it, loona accepts it;
//! - a block ending with a table size update: loona refuses it, h2 (and so we) accept it.
//! After either decoder fails, the connection is over: the rest is not compared.
#![no_main]

use lanyard_h2_authority::fuzzing::HpackDecoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut ours = HpackDecoder::default();
    let mut reference = loona_hpack::Decoder::new();
    reference.set_max_allowed_table_size(4096);
    let mut rest = data;
    while let Some((len, tail)) = rest.split_first_chunk::<2>() {
        let len = usize::from(u16::from_be_bytes(*len)).min(tail.len());
        let (block, tail) = tail.split_at(len);
        rest = tail;
        let theirs = reference.decode(block);
        match (ours.decode(block), theirs) {
            (Some(a), Ok(b)) => assert_eq!(a, b, "decoded lists differ on {block:02x?}"),
            (None, Err(_)) => return,
            (Some(_), Err(loona_hpack::decoder::DecoderError::SizeUpdateAtEnd)) => return,
            (None, Ok(_)) if ours.failed_on_late_size_update() => return,
            (a, b) => panic!("only one decoder accepted {block:02x?}: ours {a:?}, loona {b:?}"),
        }
    }
});
