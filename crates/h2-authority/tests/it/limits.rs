//! The bounds: a client that breaks one is disconnected with an error naming it, before the
//! wrapper buffers more than h2 behind it would; a client within them is served.

use std::io;
use std::time::Duration;

use lanyard_h2_authority::{Limits, NormalizeAuthority, Refused};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};

use crate::support::*;

/// hyper 1's server default SETTINGS_MAX_HEADER_LIST_SIZE and SETTINGS_MAX_FRAME_SIZE, which
/// the agent (tonic 0.14) keeps.
const MAX_LIST: usize = 16_384;
const MAX_FRAME: usize = 16_384;

/// RFC 7541 §6.2.2 literal without indexing, new name, no Huffman coding.
fn literal(name: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = vec![0x00];
    for s in [name, value] {
        integer(s.len(), &mut out);
        out.extend_from_slice(s);
    }
    out
}

/// RFC 7541 §5.1 with a 7-bit prefix and H = 0.
fn integer(mut value: usize, out: &mut Vec<u8>) {
    if value < 127 {
        out.push(value as u8);
        return;
    }
    out.push(127);
    value -= 127;
    while value >= 128 {
        out.push((value % 128) as u8 | 0x80);
        value /= 128;
    }
    out.push(value as u8);
}

/// RFC 9113 §6.5.2 size of a header list.
fn list_size(fields: &Fields) -> usize {
    fields.iter().map(|(n, v)| n.len() + v.len() + 32).sum()
}

/// A grpcio request padded with `x-big` to exactly `size` bytes of header list as the server
/// sees it (`:authority: localhost`, whether sent so or rewritten from the socket path),
/// encoded as literals.
fn request_of_list_size(size: usize) -> (Fields, Vec<u8>) {
    request_with_authority(size, "tmp%2Fagent.sock")
}

fn request_with_authority(size: usize, authority: &str) -> (Fields, Vec<u8>) {
    let mut fields = grpc_request(authority);
    let seen = list_size(&with_authority(fields.clone(), "localhost"));
    let rest = size - seen - (b"x-big".len() + 32);
    fields.push((b"x-big".to_vec(), vec![b'v'; rest]));
    assert_eq!(
        list_size(&with_authority(fields.clone(), "localhost")),
        size
    );
    let block = fields.iter().flat_map(|(n, v)| literal(n, v)).collect();
    (fields, block)
}

/// `block` as HEADERS (END_STREAM) plus CONTINUATION frames on stream 1, each at most `per_frame`
/// bytes of fragment.
fn framed(block: &[u8], per_frame: usize) -> Vec<u8> {
    let chunks: Vec<&[u8]> = block.chunks(per_frame).collect();
    let mut out = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        let kind = if i == 0 { HEADERS } else { CONTINUATION };
        let mut flags = if i == 0 { END_STREAM } else { 0 };
        if i + 1 == chunks.len() {
            flags |= END_HEADERS;
        }
        out.extend(frame(kind, flags, 1, chunk));
    }
    out
}

fn with_preface(frames: &[u8]) -> Vec<u8> {
    [PREFACE, frames].concat()
}

async fn refusal(data: &[u8]) -> Refused {
    let err = try_rewrite(data, 4096).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
    refused(&err).clone()
}

#[tokio::test]
async fn a_header_frame_over_the_frame_size_is_refused_from_its_header_alone() {
    // Only the 9-byte header of a 16,385-byte HEADERS frame arrives, then the client waits.
    let header = &frame(HEADERS, 0, 1, &vec![0; MAX_FRAME + 1])[..9];
    let (mut client, server) = tokio::io::duplex(1024);
    client.write_all(&with_preface(header)).await.unwrap();
    let mut wrapped = NormalizeAuthority::new(server);
    let err = wrapped.read_to_end(&mut Vec::new()).await.unwrap_err();
    assert_eq!(
        refused(&err),
        &Refused::FrameTooLarge {
            len: MAX_FRAME + 1,
            max: MAX_FRAME
        }
    );
    assert!(err.to_string().contains("SETTINGS_MAX_FRAME_SIZE"), "{err}");
    // So is a CONTINUATION frame; every later read fails the same way.
    let cont = &frame(CONTINUATION, 0, 1, &vec![0; 1 << 20])[..9];
    let input = [&frame(HEADERS, 0, 1, &[0x82])[..], cont].concat();
    assert!(matches!(
        refusal(&with_preface(&input)).await,
        Refused::FrameTooLarge { len: 1_048_576, .. }
    ));
    let again = wrapped.read(&mut [0; 16]).await.unwrap_err();
    assert_eq!(refused(&again), refused(&err));
}

#[tokio::test]
async fn a_continuation_flood_is_refused_at_h2s_limit() {
    // h2 allows 5 CONTINUATION frames without END_HEADERS (16 KiB list / 16 KiB frames, at
    // least 5), then answers GOAWAY ENHANCE_YOUR_CALM.
    let (fields, block) = request_of_list_size(600);
    let pieces: Vec<&[u8]> = block.chunks(block.len().div_ceil(7)).collect();
    assert_eq!(pieces.len(), 7);
    let mut input = frame(HEADERS, END_STREAM, 1, pieces[0]);
    for piece in &pieces[1..6] {
        input.extend(frame(CONTINUATION, 0, 1, piece));
    }
    // Five, then the last with END_HEADERS: served.
    let ok = [&input[..], &frame(CONTINUATION, END_HEADERS, 1, pieces[6])].concat();
    let out = rewrite(&with_preface(&ok), 100).await;
    let blocks = blocks(&frames(&out));
    assert_eq!(
        decode_stateless(&blocks[0].fragment),
        with_authority(fields, "localhost")
    );
    // A sixth without END_HEADERS, even empty: refused.
    let flood = [&input[..], &frame(CONTINUATION, 0, 1, &[])].concat();
    assert_eq!(
        refusal(&with_preface(&flood)).await,
        Refused::TooManyContinuations { max: 5 }
    );
}

#[tokio::test]
async fn a_header_block_over_the_list_size_is_refused() {
    // The attack of issue 13: HEADERS without END_HEADERS, then full 16 KiB CONTINUATIONs.
    let mut input = frame(HEADERS, 0, 1, &[0x00, 0x01, b'x', 0x7f, 0xff, 0x7f]);
    input.extend(frame(CONTINUATION, 0, 1, &vec![b'v'; MAX_FRAME]));
    let flood = refusal(&with_preface(&input)).await;
    assert_eq!(flood, Refused::HeaderBlockTooLarge { max: MAX_LIST });
    assert!(flood.to_string().contains("SETTINGS_MAX_HEADER_LIST_SIZE"));
    // Padding and priority fields don't count: 16,000 + 384 bytes of fragment are within the
    // bound (the block is then judged by what it decodes to), 16,000 + 385 are not.
    let mut padded = vec![10];
    padded.extend([0x80, 0, 0, 0, 0x10]);
    padded.extend(vec![0; 16_000]);
    padded.extend([0; 10]);
    let headers = frame(HEADERS, PADDED | PRIORITY, 1, &padded);
    for (last, over) in [(384, false), (385, true)] {
        let input = [
            &headers[..],
            &frame(CONTINUATION, END_HEADERS, 1, &vec![0; last]),
        ]
        .concat();
        let result = try_rewrite(&with_preface(&input), 4096).await;
        let too_large = result
            .as_ref()
            .is_err_and(|e| refused(e) == &Refused::HeaderBlockTooLarge { max: MAX_LIST });
        assert_eq!(too_large, over, "{last}: {result:?}");
    }
}

#[tokio::test]
async fn an_amplified_header_list_is_refused() {
    // 4 KiB on the wire: one 4,000-byte value, inserted into the table (RFC 7541 §6.2.1), and
    // four references to it (§6.1): 5 × 4,033 bytes of header list.
    let mut block = vec![0x40, 0x01, b'x'];
    integer(4000, &mut block);
    block.extend([b'v'; 4000]);
    block.extend([0x80 | 62; 4]);
    let input = frame(HEADERS, END_HEADERS, 1, &block);
    assert_eq!(
        refusal(&with_preface(&input)).await,
        Refused::HeaderListTooLarge { max: MAX_LIST }
    );
}

/// Plays a client against a server: preface, SETTINGS, `frames`; returns the first response
/// `:status`, or `None` if the connection closed without one.
async fn first_status(io: DuplexStream, frames: &[u8]) -> Option<Vec<u8>> {
    let (mut rd, mut wr) = tokio::io::split(io);
    let hello = [PREFACE, &frame(SETTINGS, 0, 0, &[]), frames].concat();
    wr.write_all(&hello).await.ok()?;
    let mut hpack = loona_hpack::Decoder::new();
    loop {
        let mut header = [0u8; 9];
        rd.read_exact(&mut header).await.ok()?;
        let len =
            usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
        let mut payload = vec![0; len];
        rd.read_exact(&mut payload).await.ok()?;
        match header[3] {
            SETTINGS if header[4] & ACK == 0 => {
                wr.write_all(&frame(SETTINGS, ACK, 0, &[])).await.ok()?;
            }
            HEADERS => {
                let fields = hpack.decode(&payload).unwrap();
                return fields
                    .into_iter()
                    .find(|(n, _)| n == b":status")
                    .map(|f| f.1);
            }
            _ => {}
        }
    }
}

/// An h2 server configured as hyper configures it for tonic (16 KiB header lists), answering
/// 200 to every request; returns the error that ended the connection, if any.
async fn hyper_like_server<T: AsyncRead + AsyncWrite + Unpin>(io: T) -> Option<h2::Error> {
    let mut conn: h2::server::Connection<T, bytes::Bytes> = match h2::server::Builder::new()
        .max_header_list_size(MAX_LIST as u32)
        .handshake(io)
        .await
    {
        Ok(conn) => conn,
        Err(e) => return Some(e),
    };
    while let Some(request) = conn.accept().await {
        let (_, mut respond) = match request {
            Ok(r) => r,
            Err(e) => return Some(e),
        };
        respond
            .send_response(http::Response::new(()), true)
            .unwrap();
    }
    None
}

/// Sends one request of `list` bytes of header list, in frames of 4 KiB, to the server, directly
/// or through the wrapper; returns the `:status` and the server's connection error.
async fn request_of_size(list: usize, wrap: bool) -> (Option<Vec<u8>>, Option<h2::Error>) {
    // h2 alone resets a stream with an unparsable authority: give it a valid one.
    let authority = if wrap {
        "tmp%2Fagent.sock"
    } else {
        "localhost"
    };
    let (_, block) = request_with_authority(list, authority);
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let server = tokio::spawn(async move {
        if wrap {
            hyper_like_server(NormalizeAuthority::new(server_io)).await
        } else {
            hyper_like_server(server_io).await
        }
    });
    let status = tokio::time::timeout(
        Duration::from_secs(10),
        first_status(client_io, &framed(&block, 4096)),
    )
    .await
    .expect("the server answers or hangs up");
    (status, server.await.unwrap())
}

#[tokio::test]
async fn the_largest_block_h2_accepts_goes_through_and_one_byte_more_is_refused() {
    let below = MAX_LIST - 1;
    // h2 alone, configured as under tonic: 16,383 bytes served, 16,384 answered with 431.
    assert_eq!(request_of_size(below, false).await.0.unwrap(), b"200");
    assert_eq!(request_of_size(MAX_LIST, false).await.0.unwrap(), b"431");
    // Through the wrapper, with the socket path rewritten to `localhost`: the same list is served.
    assert_eq!(request_of_size(below, true).await.0.unwrap(), b"200");
    // One byte more: the connection is closed, and the server's error says why (h2 keeps an I/O
    // error's kind and message, not its type).
    let (status, error) = request_of_size(MAX_LIST, true).await;
    assert_eq!(status, None);
    let error = error.expect("the connection failed");
    let io = error.get_io().expect("an I/O error");
    assert_eq!(io.kind(), io::ErrorKind::InvalidData);
    let expected = Refused::HeaderListTooLarge { max: MAX_LIST };
    assert_eq!(io.to_string(), expected.to_string());
}

fn short_deadline() -> Limits {
    let mut limits = Limits::default();
    limits.handshake_timeout = Duration::from_millis(200);
    limits
}

#[tokio::test]
async fn a_client_that_never_completes_its_first_block_is_disconnected_at_the_deadline() {
    assert_eq!(Limits::default().handshake_timeout, Duration::from_secs(10));
    let open_block = frame(HEADERS, 0, 1, &[0x82]);
    for sent in [
        &b""[..],
        &PREFACE[..10],
        PREFACE,
        &with_preface(&open_block),
    ] {
        let (mut client, server) = tokio::io::duplex(1024);
        client.write_all(sent).await.unwrap();
        let mut wrapped = NormalizeAuthority::with_limits(server, short_deadline());
        let started = tokio::time::Instant::now();
        let err = wrapped.read_to_end(&mut Vec::new()).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(
            refused(&err),
            &Refused::HandshakeTimeout {
                timeout: Duration::from_millis(200)
            }
        );
        assert!(started.elapsed() >= Duration::from_millis(150));
        drop(client);
    }
}

#[tokio::test]
async fn after_the_first_block_the_deadline_no_longer_applies() {
    let mut encoder = loona_hpack::Encoder::new();
    let block = encode(&mut encoder, &grpc_request("tmp%2Fagent.sock"));
    let hello = with_preface(&frame(HEADERS, END_HEADERS, 1, &block));
    let (mut client, server) = tokio::io::duplex(1024);
    client.write_all(&hello).await.unwrap();
    let mut wrapped = NormalizeAuthority::with_limits(server, short_deadline());
    let mut got = vec![0; 4096];
    let mut n = 0;
    while !frames_complete(&got[..n]) {
        n += wrapped.read(&mut got[n..]).await.unwrap();
    }
    // Idle well past the deadline: the read stays pending, then gets the next frame.
    let idle = tokio::time::timeout(Duration::from_millis(500), wrapped.read(&mut got[n..]));
    assert!(idle.await.is_err(), "an idle connection is not timed out");
    client.write_all(&frame(PING, 0, 0, &[1; 8])).await.unwrap();
    let more = wrapped.read(&mut got[n..]).await.unwrap();
    assert!(more > 0);
}

/// True when `bytes` holds the preface and one complete frame.
fn frames_complete(bytes: &[u8]) -> bool {
    let Some(rest) = bytes.strip_prefix(PREFACE) else {
        return false;
    };
    rest.len() >= 9
        && rest.len()
            >= 9 + (usize::from(rest[0]) << 16 | usize::from(rest[1]) << 8 | usize::from(rest[2]))
}
