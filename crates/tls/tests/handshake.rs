//! Real TLS handshakes over loopback TCP between `server_config` and `client_config`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failure must fail the test"
)]

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use lanyard_id::{SpiffeId, TrustDomain};
use lanyard_tls::transport::{HandshakeLimits, PeerInfo, incoming};
use lanyard_tls::{Identity, PeerRejected, TrustStore, client_config, server_config};
use lanyard_x509::{
    Bundle, BundleSet, CaParams, KeyPair, KeyType, SigningCa, Subject, SvidParams, self_signed_ca,
};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_stream::StreamExt;
use tonic::transport::server::Connected;

struct Domain {
    ca: SigningCa,
    bundle: Bundle,
}

fn domain(td: &str) -> Domain {
    let td = TrustDomain::new(td).unwrap();
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    let now = SystemTime::now();
    let params = CaParams {
        trust_domain: td.clone(),
        subject: Subject {
            country: Some("US".into()),
            organization: Some("Lanyard Test".into()),
            common_name: Some(format!("{td} test CA")),
        },
        not_before: now - Duration::from_secs(60),
        not_after: now + Duration::from_secs(3600),
        path_len: None,
    };
    let cert = self_signed_ca(&params, &key).unwrap();
    let mut bundle = Bundle::new(td);
    bundle.add_x509_authority(cert.clone());
    Domain {
        ca: SigningCa::new(cert, key, vec![]).unwrap(),
        bundle,
    }
}

fn identity(d: &Domain, id: &str) -> Identity {
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    let now = SystemTime::now();
    let svid =
        d.ca.issue_x509_svid(
            &key.public_key_spki_der(),
            &SvidParams {
                spiffe_id: SpiffeId::parse(id).unwrap(),
                dns_names: vec![],
                not_before: now,
                not_after: now + Duration::from_secs(600),
                backdate: Duration::from_secs(10),
            },
        )
        .unwrap();
    let chain: Vec<Vec<u8>> = svid.chain.into_iter().map(|c| c.into_vec()).collect();
    let identity = Identity::new();
    identity.set(&chain, key.pkcs8_der()).unwrap();
    identity
}

fn trust(bundles: &[&Bundle]) -> TrustStore {
    TrustStore::new(bundles.iter().map(|b| (*b).clone()).collect::<BundleSet>())
}

const SERVER_ID: &str = "spiffe://example.org/lanyard/server";

/// Starts a TLS echo server; returns its address and a receiver of the peers it accepted.
async fn serve(
    server_identity: Identity,
    server_trust: TrustStore,
) -> (SocketAddr, tokio::sync::mpsc::Receiver<PeerInfo>) {
    serve_within(server_identity, server_trust, HandshakeLimits::default()).await
}

/// [`serve`] with handshake bounds of the test's choosing.
async fn serve_within(
    server_identity: Identity,
    server_trust: TrustStore,
    limits: HandshakeLimits,
) -> (SocketAddr, tokio::sync::mpsc::Receiver<PeerInfo>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut conns = incoming(
        listener,
        server_config(server_identity, server_trust).unwrap(),
        limits,
    );
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    tokio::spawn(async move {
        while let Some(Ok(mut conn)) = conns.next().await {
            tx.send(conn.connect_info()).await.unwrap();
            tokio::spawn(async move {
                let mut buf = [0u8; 5];
                if conn.read_exact(&mut buf).await.is_ok() {
                    let _ = conn.write_all(&buf).await;
                }
            });
        }
    });
    (addr, rx)
}

async fn client(
    addr: SocketAddr,
    identity: Identity,
    trust: TrustStore,
    server_id: &str,
) -> std::io::Result<()> {
    let config = client_config(identity, trust, SpiffeId::parse(server_id).unwrap()).unwrap();
    let tcp = TcpStream::connect(addr).await?;
    let mut tls = tokio_rustls::TlsConnector::from(config)
        .connect(ServerName::try_from("lanyard-server").unwrap(), tcp)
        .await?;
    tls.write_all(b"hello").await?;
    let mut buf = [0u8; 5];
    tls.read_exact(&mut buf).await?;
    assert_eq!(&buf, b"hello");
    Ok(())
}

#[tokio::test]
async fn mutual_svids_authenticate_and_server_sees_client_id() {
    let d = domain("example.org");
    let (addr, mut peers) = serve(identity(&d, SERVER_ID), trust(&[&d.bundle])).await;
    let agent = "spiffe://example.org/lanyard/agent/join_token/1";
    client(addr, identity(&d, agent), trust(&[&d.bundle]), SERVER_ID)
        .await
        .unwrap();
    let peer = peers.recv().await.unwrap();
    assert_eq!(peer.spiffe_id.unwrap().as_str(), agent);
    assert!(peer.leaf.is_some());
}

#[tokio::test]
async fn client_without_svid_is_admitted_anonymously() {
    let d = domain("example.org");
    let (addr, mut peers) = serve(identity(&d, SERVER_ID), trust(&[&d.bundle])).await;
    client(addr, Identity::new(), trust(&[&d.bundle]), SERVER_ID)
        .await
        .unwrap();
    let peer = peers.recv().await.unwrap();
    assert!(peer.spiffe_id.is_none());
}

#[tokio::test]
async fn client_refuses_server_with_unexpected_spiffe_id() {
    let d = domain("example.org");
    let (addr, _peers) = serve(
        identity(&d, "spiffe://example.org/not-the-server"),
        trust(&[&d.bundle]),
    )
    .await;
    let err = client(addr, Identity::new(), trust(&[&d.bundle]), SERVER_ID)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("expected"), "{err}");
    let rejected = PeerRejected::find(&err).expect("a typed rejection");
    assert!(
        matches!(rejected, PeerRejected::UnexpectedServerId { .. }),
        "{rejected:?}"
    );
    assert!(!rejected.is_unknown_issuer());
}

#[tokio::test]
async fn client_refuses_server_signed_by_unknown_ca() {
    let ours = domain("example.org");
    let impostor = domain("example.org");
    let (addr, _peers) = serve(identity(&impostor, SERVER_ID), trust(&[&impostor.bundle])).await;
    let err = client(addr, Identity::new(), trust(&[&ours.bundle]), SERVER_ID)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("rejected"), "{err}");
    assert!(
        PeerRejected::find(&err).is_some_and(PeerRejected::is_unknown_issuer),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_unknown_issuer_reaches_a_grpc_caller_typed() {
    // What the agent sees: the status of a call on a tonic channel whose handshake failed.
    let ours = domain("example.org");
    let impostor = domain("example.org");
    let (addr, _peers) = serve(identity(&impostor, SERVER_ID), trust(&[&impostor.bundle])).await;
    let config = client_config(
        Identity::new(),
        trust(&[&ours.bundle]),
        SpiffeId::parse(SERVER_ID).unwrap(),
    )
    .unwrap();
    let channel = lanyard_tls::transport::connect(addr, config);
    let request = tonic::codegen::http::Request::builder()
        .uri("http://lanyard-server/some.Service/Method")
        .body(tonic::body::Body::empty())
        .unwrap();
    let err = tower::ServiceExt::oneshot(channel, request)
        .await
        .unwrap_err();
    let status = tonic::Status::from_error(Box::new(err));
    assert!(
        PeerRejected::find(&status).is_some_and(PeerRejected::is_unknown_issuer),
        "{status:?}"
    );
    // A network failure is not a rejection.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let nobody = closed.local_addr().unwrap();
    drop(closed);
    let config = client_config(
        Identity::new(),
        trust(&[&ours.bundle]),
        SpiffeId::parse(SERVER_ID).unwrap(),
    )
    .unwrap();
    let request = tonic::codegen::http::Request::builder()
        .uri("http://lanyard-server/some.Service/Method")
        .body(tonic::body::Body::empty())
        .unwrap();
    let err = tower::ServiceExt::oneshot(lanyard_tls::transport::connect(nobody, config), request)
        .await
        .unwrap_err();
    assert!(PeerRejected::find(&err).is_none(), "{err:?}");
}

#[tokio::test]
async fn server_refuses_client_svid_from_foreign_trust_domain() {
    let d = domain("example.org");
    let foreign = domain("other.org");
    let (addr, mut peers) = serve(identity(&d, SERVER_ID), trust(&[&d.bundle])).await;
    let res = client(
        addr,
        identity(&foreign, "spiffe://other.org/agent"),
        trust(&[&d.bundle]),
        SERVER_ID,
    )
    .await;
    assert!(res.is_err(), "a foreign SVID must not be admitted");
    // The server never yields the connection to the gRPC layer.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), peers.recv())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn replacing_trust_bundle_applies_to_new_handshakes() {
    let old = domain("example.org");
    let new = domain("example.org");
    let server_trust = trust(&[&old.bundle]);
    let (addr, mut peers) = serve(identity(&old, SERVER_ID), server_trust.clone()).await;
    let agent = identity(&old, "spiffe://example.org/agent");
    client(addr, agent.clone(), trust(&[&old.bundle]), SERVER_ID)
        .await
        .unwrap();
    assert!(peers.recv().await.unwrap().spiffe_id.is_some());
    // The old CA leaves the server's bundle: the agent's old SVID stops being accepted.
    server_trust.set([new.bundle.clone()].into_iter().collect());
    let res = client(addr, agent, trust(&[&old.bundle]), SERVER_ID).await;
    assert!(res.is_err());
}

/// TCP connections that never send a ClientHello, from 127.0.0.1.
async fn silent(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::new();
    for _ in 0..n {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    held
}

#[tokio::test]
async fn one_address_cannot_hold_more_than_its_share_of_handshakes() {
    let d = domain("example.org");
    let limits = HandshakeLimits {
        max_in_flight: 100,
        max_in_flight_per_ip: 3,
        timeout: Duration::from_secs(60),
    };
    let (addr, _peers) = serve_within(identity(&d, SERVER_ID), trust(&[&d.bundle]), limits).await;
    let held = silent(addr, 3).await;
    // The fourth from the same address is closed by the server at once: its read ends (EOF or
    // reset), long before the 60 s handshake timeout.
    let mut fourth = TcpStream::connect(addr).await.unwrap();
    let mut buf = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(30), fourth.read(&mut buf))
        .await
        .expect("the connection over the per-address limit was left open");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    // A slot given back is a slot to use: a real client handshakes once one is closed.
    drop(held);
    let agent = "spiffe://example.org/lanyard/agent/join_token/1";
    client(addr, identity(&d, agent), trust(&[&d.bundle]), SERVER_ID)
        .await
        .unwrap();
}

#[tokio::test]
async fn at_the_total_limit_new_connections_wait_for_a_free_handshake_slot() {
    let d = domain("example.org");
    let timeout = Duration::from_millis(600);
    let limits = HandshakeLimits {
        max_in_flight: 2,
        max_in_flight_per_ip: 100,
        timeout,
    };
    let (addr, mut peers) =
        serve_within(identity(&d, SERVER_ID), trust(&[&d.bundle]), limits).await;
    let opened = std::time::Instant::now();
    let _held = silent(addr, 2).await;
    // Both slots are taken by handshakes that will never finish: the client's connection waits
    // in the backlog until they time out, and is then served (not refused).
    let agent = "spiffe://example.org/lanyard/agent/join_token/1";
    client(addr, identity(&d, agent), trust(&[&d.bundle]), SERVER_ID)
        .await
        .unwrap();
    assert!(
        opened.elapsed() >= timeout,
        "served after {:?}, before the held handshakes timed out ({timeout:?})",
        opened.elapsed()
    );
    assert_eq!(
        peers.recv().await.unwrap().spiffe_id.unwrap().as_str(),
        agent
    );
}
