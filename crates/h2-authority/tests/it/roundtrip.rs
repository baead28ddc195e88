//! Client bytes through the wrapper, checked frame by frame and field by field.

use crate::support::*;

fn settings() -> Vec<u8> {
    // SETTINGS_HEADER_TABLE_SIZE = 65536 (for the server's encoder; must not affect us).
    frame(SETTINGS, 0, 0, &[0, 1, 0, 1, 0, 0])
}

/// Two grpcio-style requests on one connection, the second using dynamic-table references.
fn two_requests(authority: &str) -> Vec<u8> {
    let mut encoder = loona_hpack::Encoder::new();
    let first = encode(&mut encoder, &grpc_request(authority));
    let second = encode(&mut encoder, &grpc_request(authority));
    // loona indexes fields with new names: `te` and `workload.spiffe.io` are now dynamic
    // entries 63 and 62.
    assert!(second.contains(&(0x80 | 63)) && second.contains(&(0x80 | 62)));
    let mut bytes = PREFACE.to_vec();
    bytes.extend(settings());
    bytes.extend(frame(HEADERS, END_HEADERS, 1, &first));
    bytes.extend(frame(DATA, END_STREAM, 1, b"\0\0\0\0\0"));
    bytes.extend(frame(HEADERS, END_HEADERS | END_STREAM, 3, &second));
    bytes
}

#[tokio::test]
async fn invalid_authorities_become_localhost_across_the_dynamic_table() {
    for authority in ["tmp%2Fh2test.sock", "/tmp/h2test.sock"] {
        let out = rewrite(&two_requests(authority), 4096).await;
        let frames = frames(&out);
        let blocks = blocks(&frames);
        assert_eq!(blocks.len(), 2);
        for (block, (stream, flags)) in blocks.iter().zip([(1, END_HEADERS), (3, 5)]) {
            assert_eq!((block.stream_id, block.headers_flags), (stream, flags));
            let expected = with_authority(grpc_request(authority), "localhost");
            assert_eq!(decode_stateless(&block.fragment), expected, "{authority}");
        }
        // Non-header frames are untouched and in place.
        assert_eq!(frames[0].payload, settings()[9..]);
        assert_eq!(
            (frames[2].kind, &frames[2].payload[..]),
            (DATA, &b"\0\0\0\0\0"[..])
        );
    }
}

#[tokio::test]
async fn authorities_from_the_dynamic_table_and_table_size_updates_are_followed() {
    let authority = b"tmp%2Fh2test.sock";
    let mut literal = vec![0x41, authority.len() as u8]; // §6.2.1, name = static 1 (:authority)
    literal.extend(authority);
    let method = 0x83; // static 3, `:method: POST`
    let block_1 = [&[method][..], &literal].concat();
    let block_2 = [method, 0x80 | 62]; // §6.1: dynamic entry 62 is our :authority
    // §6.3: shrink the table to 0 (evicting it) and back to 4096, then insert it again.
    let block_3 = [
        &[0x20, 0x3f, 0xe1, 0x1f, method][..],
        &literal,
        &[0x80 | 62],
    ]
    .concat();
    let mut input = PREFACE.to_vec();
    for (stream, block) in [(1, &block_1[..]), (3, &block_2), (5, &block_3)] {
        input.extend(frame(HEADERS, END_HEADERS, stream, block));
    }

    let blocks = blocks(&frames(&rewrite(&input, 2).await));
    let field = |n: &str, v: &str| (n.as_bytes().to_vec(), v.as_bytes().to_vec());
    let expected = vec![field(":method", "POST"), field(":authority", "localhost")];
    assert_eq!(decode_stateless(&blocks[0].fragment), expected);
    assert_eq!(decode_stateless(&blocks[1].fragment), expected);
    let twice = [&expected[..], &expected[1..]].concat();
    assert_eq!(decode_stateless(&blocks[2].fragment), twice);
}

#[tokio::test]
async fn valid_authorities_are_kept() {
    for authority in ["localhost", "example.org:443", "[::1]:8081"] {
        let out = rewrite(&two_requests(authority), 4096).await;
        for block in blocks(&frames(&out)) {
            assert_eq!(decode_stateless(&block.fragment), grpc_request(authority));
        }
    }
}

#[tokio::test]
async fn tiny_reads_give_the_same_bytes() {
    let input = two_requests("tmp%2Fh2test.sock");
    let whole = rewrite(&input, usize::MAX).await;
    for chunk in [1, 2, 9, 10, 23, 25] {
        assert_eq!(rewrite(&input, chunk).await, whole, "chunk {chunk}");
    }
}

#[tokio::test]
async fn padding_is_dropped_and_priority_kept() {
    let mut encoder = loona_hpack::Encoder::new();
    let block = encode(&mut encoder, &grpc_request("tmp%2Fh2test.sock"));
    let priority = [0x80, 0, 0, 0, 0x10];
    let mut payload = vec![3]; // pad length
    payload.extend(priority);
    payload.extend(&block);
    payload.extend([0, 0, 0]);
    let flags = PADDED | PRIORITY | END_HEADERS | END_STREAM;
    let mut input = PREFACE.to_vec();
    input.extend(frame(HEADERS, flags, 1, &payload));

    let frames = frames(&rewrite(&input, 1).await);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].flags, PRIORITY | END_HEADERS | END_STREAM);
    assert_eq!(frames[0].payload[..5], priority);
    let fields = decode_stateless(&frames[0].payload[5..]);
    assert_eq!(fields, with_authority(grpc_request(""), "localhost"));
}

#[tokio::test]
async fn continuation_split_blocks_are_joined() {
    let mut encoder = loona_hpack::Encoder::new();
    let block = encode(&mut encoder, &grpc_request("tmp%2Fh2test.sock"));
    let (a, rest) = block.split_at(3);
    let (b, c) = rest.split_at(1);
    let mut input = PREFACE.to_vec();
    input.extend(frame(HEADERS, END_STREAM, 5, a));
    input.extend(frame(CONTINUATION, 0, 5, b));
    input.extend(frame(CONTINUATION, END_HEADERS, 5, c));
    input.extend(frame(PING, 0, 0, &[7; 8]));

    let frames = frames(&rewrite(&input, 3).await);
    assert_eq!(frames.len(), 2, "one HEADERS frame, then the PING");
    assert_eq!(
        (frames[0].flags, frames[0].stream_id),
        (END_STREAM | END_HEADERS, 5)
    );
    let expected = with_authority(grpc_request(""), "localhost");
    assert_eq!(decode_stateless(&frames[0].payload), expected);
    assert_eq!(
        frames[1],
        Frame {
            kind: PING,
            flags: 0,
            stream_id: 0,
            payload: vec![7; 8]
        }
    );
}

#[tokio::test]
async fn the_largest_allowed_block_is_rejoined_within_16_kib() {
    // 16,383 bytes of header list as the server sees it (the bound is 16,384, hyper's default
    // SETTINGS_MAX_HEADER_LIST_SIZE), sent in three frames with priority fields.
    let mut fields = grpc_request("tmp%2Fh2test.sock");
    let seen: usize = with_authority(fields.clone(), "localhost")
        .iter()
        .map(|(n, v)| n.len() + v.len() + 32)
        .sum();
    fields.push((b"x-big".to_vec(), vec![b'v'; 16_383 - seen - 37]));
    let block = encode(&mut loona_hpack::Encoder::new(), &fields);
    let (a, rest) = block.split_at(8_000);
    let (b, c) = rest.split_at(8_000);
    let mut input = PREFACE.to_vec();
    input.extend(frame(HEADERS, PRIORITY, 1, &[&[0; 5][..], a].concat()));
    input.extend(frame(CONTINUATION, 0, 1, b));
    input.extend(frame(CONTINUATION, END_HEADERS, 1, c));

    let frames = frames(&rewrite(&input, 1000).await);
    let kinds: Vec<_> = frames.iter().map(|f| (f.kind, f.flags)).collect();
    assert_eq!(kinds, [(HEADERS, PRIORITY | END_HEADERS)]);
    assert!(frames[0].payload.len() <= 16_384);
    let fields_out = decode_stateless(&blocks(&frames)[0].fragment[..]);
    assert_eq!(fields_out, with_authority(fields, "localhost"));
}

#[tokio::test]
async fn other_frames_pass_through_byte_for_byte() {
    let mut input = PREFACE.to_vec();
    input.extend(settings());
    input.extend(frame(WINDOW_UPDATE, 0, 0, &[0, 1, 0, 0]));
    input.extend(frame(DATA, 0, 1, &[0xAB; 20_000]));
    input.extend(frame(0xEE, 0xFF, 9, b"unknown type")); // RFC 9113 §5.5
    input.extend(frame(SETTINGS, ACK, 0, &[]));
    assert_eq!(rewrite(&input, 777).await, input);
}

#[tokio::test]
async fn without_the_preface_nothing_is_touched() {
    let mut encoder = loona_hpack::Encoder::new();
    let block = encode(&mut encoder, &grpc_request("tmp%2Fh2test.sock"));
    for prefix in [
        &b"GET / HTTP/1.1\r\nHost: a%2Fb\r\n\r\n"[..],
        b"PRI * HTTP/1.1\r\n",
        b"PRI",
    ] {
        let mut input = prefix.to_vec();
        input.extend(frame(HEADERS, END_HEADERS, 1, &block));
        assert_eq!(rewrite(&input, 1).await, input);
    }
}

#[tokio::test]
async fn after_bad_hpack_the_rest_passes_through() {
    let input = two_requests("tmp%2Fh2test.sock");
    let good = rewrite(&input, 64).await;
    // Stream 7: indexed field 200, which the client's table doesn't have.
    let bad = frame(HEADERS, END_HEADERS, 7, &[0xff, 0x49]);
    let mut encoder = loona_hpack::Encoder::new();
    let later = frame(
        HEADERS,
        END_HEADERS,
        9,
        &encode(&mut encoder, &grpc_request("a%2Fb")),
    );
    let tail = [bad, later].concat();

    let out = rewrite(&[&input[..], &tail].concat(), 64).await;
    assert_eq!(out, [good, tail].concat());
}

#[tokio::test]
async fn interleaved_or_truncated_blocks_pass_through_from_the_block_on() {
    let input = two_requests("tmp%2Fh2test.sock");
    let good = rewrite(&input, 64).await;
    let mut encoder = loona_hpack::Encoder::new();
    let block = encode(&mut encoder, &grpc_request("a%2Fb"));
    let open = frame(HEADERS, 0, 5, &block); // no END_HEADERS
    let cases = [
        // RFC 9113 §6.10: a DATA frame inside a header block.
        [
            open.clone(),
            frame(DATA, 0, 5, b"x"),
            frame(CONTINUATION, END_HEADERS, 5, &[]),
        ]
        .concat(),
        // CONTINUATION for another stream.
        [open.clone(), frame(CONTINUATION, END_HEADERS, 7, &[])].concat(),
        // The client hangs up mid-block, and mid-frame.
        open.clone(),
        open[..20].to_vec(),
        // HEADERS on stream 0; padding longer than the payload.
        frame(HEADERS, END_HEADERS, 0, &block),
        frame(HEADERS, END_HEADERS | PADDED, 1, &[200, 0x82]),
    ];
    for tail in cases {
        let out = rewrite(&[&input[..], &tail].concat(), 5).await;
        assert_eq!(out, [&good[..], &tail].concat());
    }
}
