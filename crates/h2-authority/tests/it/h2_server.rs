//! A real h2 server (the one under hyper/tonic) fed what grpcio sends on a Unix socket.

use std::time::Duration;

use lanyard_h2_authority::NormalizeAuthority;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};

use crate::support::*;

const PROTOCOL_ERROR: u32 = 0x1;

/// How the server answered one stream.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    /// A response HEADERS frame with this `:status`.
    Status(Vec<u8>),
    /// RST_STREAM with this error code.
    Reset(u32),
}

/// Serves requests on `io`, answering 200 to each; returns the `:authority` of each request.
async fn serve<T: AsyncRead + AsyncWrite + Unpin>(io: T) -> Vec<String> {
    let mut conn = h2::server::handshake(io).await.unwrap();
    let mut authorities = Vec::new();
    while let Some(request) = conn.accept().await {
        let Ok((request, mut respond)) = request else {
            break;
        };
        authorities.push(request.uri().authority().unwrap().to_string());
        respond
            .send_response(http::Response::new(()), true)
            .unwrap();
    }
    authorities
}

/// Plays the client: four requests on streams 1, 3, 5, 7. The first two are encoded by loona
/// (which indexes new names, so the second reuses dynamic entries); the last two are hand-built
/// the way grpcio does it, with `:authority` inserted into the dynamic table (RFC 7541 §6.2.1)
/// and then referenced by index (§6.1).
async fn grpcio_client(io: DuplexStream, authority: &str) -> Vec<(u32, Answer)> {
    let (mut rd, mut wr) = tokio::io::split(io);
    let mut encoder = loona_hpack::Encoder::new();
    let mut hello = PREFACE.to_vec();
    hello.extend(frame(SETTINGS, 0, 0, &[]));
    for stream_id in [1, 3] {
        let block = encode(&mut encoder, &grpc_request(authority));
        hello.extend(frame(HEADERS, END_HEADERS | END_STREAM, stream_id, &block));
    }
    // :method POST, :scheme http, :path "/" (all static), then the authority.
    let common = [0x83, 0x86, 0x84];
    let mut inserted = vec![0x41, u8::try_from(authority.len()).unwrap()];
    inserted.extend(authority.as_bytes());
    let block_5 = [&common[..], &inserted].concat();
    let block_7 = [&common[..], &[0x80 | 62]].concat();
    hello.extend(frame(HEADERS, END_HEADERS | END_STREAM, 5, &block_5));
    hello.extend(frame(HEADERS, END_HEADERS | END_STREAM, 7, &block_7));
    wr.write_all(&hello).await.unwrap();

    let mut server_hpack = loona_hpack::Decoder::new();
    let mut answers = Vec::new();
    while answers.len() < 4 {
        let mut header = [0u8; 9];
        rd.read_exact(&mut header).await.unwrap();
        let len =
            usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
        let (kind, flags) = (header[3], header[4]);
        let stream_id = u32::from_be_bytes(header[5..9].try_into().unwrap());
        let mut payload = vec![0; len];
        rd.read_exact(&mut payload).await.unwrap();
        match kind {
            SETTINGS if flags & ACK == 0 => {
                wr.write_all(&frame(SETTINGS, ACK, 0, &[])).await.unwrap()
            }
            HEADERS => {
                assert_ne!(flags & END_HEADERS, 0, "small responses fit one frame");
                let fields = server_hpack.decode(&payload).unwrap();
                let status = fields.into_iter().find(|(n, _)| n == b":status").unwrap().1;
                answers.push((stream_id, Answer::Status(status)));
            }
            RST_STREAM => {
                let code = u32::from_be_bytes(payload[..4].try_into().unwrap());
                answers.push((stream_id, Answer::Reset(code)));
            }
            _ => {}
        }
    }
    answers
}

/// Runs client and server over an in-memory pipe, the server side optionally wrapped.
async fn exchange(authority: &str, wrap: bool) -> (Vec<(u32, Answer)>, Vec<String>) {
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let server = tokio::spawn(async move {
        if wrap {
            serve(NormalizeAuthority::new(server_io)).await
        } else {
            serve(server_io).await
        }
    });
    let answers =
        tokio::time::timeout(Duration::from_secs(10), grpcio_client(client_io, authority))
            .await
            .expect("the server answers every stream");
    // The client hung up; the server's accept loop ends.
    let authorities = server.await.unwrap();
    (answers, authorities)
}

fn ok() -> Answer {
    Answer::Status(b"200".to_vec())
}

#[tokio::test]
async fn h2_rejects_a_grpcio_unix_socket_authority_without_the_wrapper() {
    let (answers, authorities) = exchange("tmp%2Fh2test.sock", false).await;
    let reset = || Answer::Reset(PROTOCOL_ERROR);
    assert_eq!(
        answers,
        [(1, reset()), (3, reset()), (5, reset()), (7, reset())]
    );
    assert!(authorities.is_empty());
}

#[tokio::test]
async fn h2_accepts_it_through_the_wrapper_as_localhost() {
    for authority in ["tmp%2Fh2test.sock", "/tmp/h2test.sock"] {
        let (answers, authorities) = exchange(authority, true).await;
        assert_eq!(
            answers,
            [(1, ok()), (3, ok()), (5, ok()), (7, ok())],
            "{authority}"
        );
        assert_eq!(authorities, ["localhost"; 4]);
    }
}

#[tokio::test]
async fn valid_authorities_reach_h2_unchanged() {
    let (answers, authorities) = exchange("example.org:443", true).await;
    assert_eq!(answers, [(1, ok()), (3, ok()), (5, ok()), (7, ok())]);
    assert_eq!(authorities, ["example.org:443"; 4]);
}

#[test]
fn the_wrapper_fits_tonic_and_hyper_io_bounds() {
    fn assert_io<T: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static>() {}
    assert_io::<NormalizeAuthority<tokio::net::UnixStream>>();
    assert_io::<NormalizeAuthority<DuplexStream>>();
}
