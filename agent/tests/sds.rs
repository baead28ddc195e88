//! Envoy SDS v3 end to end: a real Unix socket serving the Workload API and SDS with the real
//! handlers and unix attestor, a store filled with SVIDs minted at test time, and an SDS client
//! (the `envoy-types` crate's) that does what Envoy does: describe its node, subscribe by name,
//! ACK, NACK, follow pushes. The certificates it receives then secure a real rustls handshake.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on unexpected errors"
)]

#[allow(
    dead_code,
    reason = "shared with the Workload API tests; not every fixture is used here"
)]
#[path = "workload_api/support.rs"]
mod support;

use std::sync::Arc;

use envoy_types::pb::envoy::config::core::v3::node::UserAgentVersionType;
use envoy_types::pb::envoy::config::core::v3::{BuildVersion, DataSource, Node, data_source};
use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::{
    CertificateValidationContext, Secret, SpiffeCertValidatorConfig, TlsCertificate, secret,
};
use envoy_types::pb::envoy::service::discovery::v3::{DiscoveryRequest, DiscoveryResponse};
use envoy_types::pb::envoy::service::secret::v3::secret_discovery_service_client::SecretDiscoveryServiceClient;
use envoy_types::pb::envoy::r#type::v3::SemanticVersion;
use envoy_types::pb::google::rpc;
use hyper_util::rt::TokioIo;
use lanyard_agent::store::Snapshot;
use lanyard_id::{SpiffeId, TrustDomain};
use lanyard_tls::{Identity, TrustStore};
use lanyard_x509::{Bundle, BundleSet, certificates_from_pem, parse_x509_svid};
use prost::Message as _;
use tokio::net::UnixStream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Channel, Endpoint, Uri};
use tonic::{Code, Streaming};

use support::{Agent, Ca, federating, my_uid, other_uid, snapshot, within};

const SECRET_TYPE: &str = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";
const SPIFFE_VALIDATOR: &str = "envoy.tls.cert_validator.spiffe";

/// An SDS client on the agent's socket. No `workload.spiffe.io` header: Envoy sends none.
async fn sds_client(agent: &Agent) -> SecretDiscoveryServiceClient<Channel> {
    let socket = agent.socket.clone();
    let channel = Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let socket = socket.clone();
            async move { Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(socket).await?)) }
        }))
        .await
        .unwrap();
    SecretDiscoveryServiceClient::new(channel)
}

/// The node Envoy 1.30 describes itself with.
fn envoy_node() -> Node {
    Node {
        id: "sidecar-1".into(),
        cluster: "frontend".into(),
        user_agent_name: "envoy".into(),
        user_agent_version_type: Some(UserAgentVersionType::UserAgentBuildVersion(BuildVersion {
            version: Some(SemanticVersion {
                major_number: 1,
                minor_number: 30,
                patch: 1,
            }),
            metadata: None,
        })),
        ..Node::default()
    }
}

fn request(names: &[&str], version: &str, nonce: &str) -> DiscoveryRequest {
    DiscoveryRequest {
        version_info: version.into(),
        node: Some(envoy_node()),
        resource_names: names.iter().map(|n| (*n).to_owned()).collect(),
        type_url: SECRET_TYPE.into(),
        response_nonce: nonce.into(),
        ..DiscoveryRequest::default()
    }
}

/// An open `StreamSecrets`: requests go in through `tx`.
struct Stream {
    tx: mpsc::Sender<DiscoveryRequest>,
    rx: Streaming<DiscoveryResponse>,
}

impl Stream {
    async fn open(agent: &Agent, first: DiscoveryRequest) -> Result<Stream, tonic::Status> {
        let (tx, requests) = mpsc::channel(8);
        tx.send(first).await.unwrap();
        let rx = within(
            sds_client(agent)
                .await
                .stream_secrets(ReceiverStream::new(requests)),
        )
        .await?
        .into_inner();
        Ok(Stream { tx, rx })
    }

    async fn send(&self, req: DiscoveryRequest) {
        self.tx.send(req).await.unwrap();
    }

    async fn next(&mut self) -> DiscoveryResponse {
        within(self.rx.message())
            .await
            .expect("the stream failed")
            .expect("the stream ended")
    }
}

/// The secrets of a response, by name, checking each is a `Secret` named as listed.
fn secrets(resp: &DiscoveryResponse) -> Vec<Secret> {
    resp.resources
        .iter()
        .map(|any| {
            assert_eq!(any.type_url, SECRET_TYPE);
            Secret::decode(any.value.as_slice()).unwrap()
        })
        .collect()
}

fn names(secrets: &[Secret]) -> Vec<&str> {
    secrets.iter().map(|s| s.name.as_str()).collect()
}

fn find<'a>(secrets: &'a [Secret], name: &str) -> &'a Secret {
    secrets
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no secret {name} in {:?}", names(secrets)))
}

fn inline(source: Option<&DataSource>) -> &[u8] {
    match source.and_then(|s| s.specifier.as_ref()) {
        Some(data_source::Specifier::InlineBytes(bytes)) => bytes,
        other => panic!("not inline bytes: {other:?}"),
    }
}

fn tls_certificate(secret: &Secret) -> &TlsCertificate {
    match &secret.r#type {
        Some(secret::Type::TlsCertificate(cert)) => cert,
        other => panic!("{} is not a tls_certificate: {other:?}", secret.name),
    }
}

fn validation_context(secret: &Secret) -> &CertificateValidationContext {
    match &secret.r#type {
        Some(secret::Type::ValidationContext(context)) => context,
        other => panic!("{} is not a validation_context: {other:?}", secret.name),
    }
}

/// The trust bundles of a SPIFFE certificate validator config, as Envoy reads them.
fn spiffe_bundles(secret: &Secret) -> BundleSet {
    let validator = validation_context(secret)
        .custom_validator_config
        .as_ref()
        .expect("no custom validator");
    assert_eq!(validator.name, SPIFFE_VALIDATOR);
    let any = validator.typed_config.as_ref().unwrap();
    assert_eq!(
        any.type_url,
        "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig"
    );
    let config = SpiffeCertValidatorConfig::decode(any.value.as_slice()).unwrap();
    config
        .trust_domains
        .iter()
        .map(|td| {
            let mut bundle = Bundle::new(TrustDomain::new(&td.name).unwrap());
            for cert in certificates_from_pem(inline(td.trust_bundle.as_ref())).unwrap() {
                bundle.add_x509_authority(cert);
            }
            bundle
        })
        .collect()
}

fn trust_domains(bundles: &BundleSet) -> Vec<String> {
    let mut tds: Vec<String> = bundles
        .iter()
        .map(|b| b.trust_domain.name().to_owned())
        .collect();
    tds.sort();
    tds
}

/// The SPIFFE ID and DER chain of a `tls_certificate`, and its PKCS#8 key.
fn certificate(secret: &Secret) -> (SpiffeId, Vec<Vec<u8>>, Vec<u8>) {
    let cert = tls_certificate(secret);
    let chain: Vec<Vec<u8>> = certificates_from_pem(inline(cert.certificate_chain.as_ref()))
        .unwrap()
        .iter()
        .map(|c| c.as_ref().to_vec())
        .collect();
    let key = pem::parse(inline(cert.private_key.as_ref())).unwrap();
    assert_eq!(key.tag(), "PRIVATE KEY");
    let id = parse_x509_svid(&chain).unwrap().spiffe_id;
    (id, chain, key.contents().to_vec())
}

#[tokio::test]
async fn envoy_subscribes_acks_nacks_and_follows_rotation_and_bundle_pushes() {
    let agent = Agent::start().await;
    let ca = Ca::new("example.org");
    let partner = Ca::new("partner.org");
    let stranger = Ca::new("stranger.org");
    let frontend = |ca: &Ca| {
        federating(
            &ca.svid("e1", "/frontend", &[my_uid()], ""),
            &["partner.org"],
        )
    };
    let first = frontend(&ca);
    agent
        .store
        .publish(snapshot(vec![first.clone()], &[&ca, &partner, &stranger]));

    // Subscribe as Envoy does for a listener's tls_certificate_sds_secret_configs and
    // validation_context_sds_secret_config.
    let mut stream = Stream::open(&agent, request(&["default", "ROOTCA"], "", ""))
        .await
        .unwrap();
    let v1 = stream.next().await;
    assert_eq!(v1.version_info, "1");
    assert_eq!(v1.type_url, SECRET_TYPE);
    assert!(!v1.nonce.is_empty());
    let got = secrets(&v1);
    assert_eq!(names(&got), ["ROOTCA", "default"]);
    let (id, chain, _) = certificate(find(&got, "default"));
    assert_eq!(id.as_str(), "spiffe://example.org/frontend");
    assert_eq!(chain[0], first.chain[0].as_ref());
    let rootca = spiffe_bundles(find(&got, "ROOTCA"));
    assert_eq!(
        trust_domains(&rootca),
        ["example.org"],
        "ROOTCA is the own trust domain only"
    );
    assert_eq!(
        rootca
            .get(&TrustDomain::new("example.org").unwrap())
            .unwrap()
            .x509_authorities,
        ca.bundle().x509_authorities
    );

    // ACK, then rotation: the next message is the rotated SVID under a new version, so the
    // ACK made the agent send nothing.
    stream
        .send(request(&["default", "ROOTCA"], "1", &v1.nonce))
        .await;
    let rotated = frontend(&ca);
    agent
        .store
        .publish(snapshot(vec![rotated.clone()], &[&ca, &partner, &stranger]));
    let v2 = stream.next().await;
    assert_eq!(v2.version_info, "2");
    assert_ne!(v2.nonce, v1.nonce);
    let got = secrets(&v2);
    let (id, chain, key) = certificate(find(&got, "default"));
    assert_eq!(id.as_str(), "spiffe://example.org/frontend");
    assert_eq!(
        chain[0],
        rotated.chain[0].as_ref(),
        "the rotated SVID is pushed"
    );
    assert_ne!(chain[0], first.chain[0].as_ref());
    assert_eq!(key, rotated.key_pkcs8.as_slice());

    // NACK version 2 (Envoy keeps version 1), then a request answering the stale nonce of
    // version 1 with other names: neither is answered. The next message answers the new
    // subscription, as version 3: nothing was re-sent for the NACK.
    let mut nack = request(&["default", "ROOTCA"], "1", &v2.nonce);
    nack.error_detail = Some(rpc::Status {
        code: Code::InvalidArgument as i32,
        message: "Failed to load private key".into(),
        details: Vec::new(),
    });
    stream.send(nack).await;
    stream.send(request(&["default"], "1", &v1.nonce)).await;
    stream
        .send(request(
            &[
                "default",
                "ROOTCA",
                "ALL",
                "spiffe://stranger.org",
                "nothing",
            ],
            "1",
            &v2.nonce,
        ))
        .await;
    let v3 = stream.next().await;
    assert_eq!(v3.version_info, "3");
    let got = secrets(&v3);
    assert_eq!(
        names(&got),
        ["ALL", "ROOTCA", "default"],
        "names the caller has nothing for are absent: stranger.org is not federated with"
    );
    let all = spiffe_bundles(find(&got, "ALL"));
    assert_eq!(trust_domains(&all), ["example.org", "partner.org"]);

    // A bundle change of a trust domain the caller federates with is pushed.
    let mut changed = snapshot(vec![rotated.clone()], &[&ca, &partner, &stranger]);
    let mut bundle = partner.bundle();
    bundle.add_x509_authority(Ca::new("partner.org").bundle().x509_authorities[0].clone());
    changed.bundles.insert(bundle.clone());
    agent.store.publish(changed);
    let v4 = stream.next().await;
    assert_eq!(v4.version_info, "4");
    let all = spiffe_bundles(find(&secrets(&v4), "ALL"));
    assert_eq!(
        all.get(&TrustDomain::new("partner.org").unwrap())
            .unwrap()
            .x509_authorities,
        bundle.x509_authorities
    );

    // The caller's last entry is removed: the stream ends as a Workload API stream does.
    agent.store.publish(snapshot(
        vec![ca.svid("e2", "/other", &[other_uid()], "")],
        &[&ca],
    ));
    let status = within(stream.rx.message()).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(status.message(), "no identity issued");
    agent.stop().await.unwrap();
}

#[tokio::test]
async fn fetch_secrets_answers_once_with_the_callers_secrets_only() {
    let agent = Agent::start().await;
    let ca = Ca::new("example.org");
    let partner = Ca::new("partner.org");
    let stranger = Ca::new("stranger.org");
    agent.store.publish(snapshot(
        vec![
            federating(
                &ca.svid("e1", "/frontend", &[my_uid()], ""),
                &["partner.org"],
            ),
            ca.svid("e2", "/backend", &[my_uid()], ""),
            ca.svid("e3", "/someone-else", &[other_uid()], ""),
        ],
        &[&ca, &partner, &stranger],
    ));
    let mut client = sds_client(&agent).await;
    let resp = within(client.fetch_secrets(request(
        &[
            "spiffe://example.org/backend",
            "spiffe://example.org/someone-else",
            "spiffe://partner.org",
            "spiffe://stranger.org",
        ],
        "",
        "",
    )))
    .await
    .unwrap()
    .into_inner();
    assert!(resp.nonce.is_empty() && resp.version_info.is_empty());
    let got = secrets(&resp);
    assert_eq!(
        names(&got),
        ["spiffe://example.org/backend", "spiffe://partner.org"],
        "another workload's identity and a trust domain not federated with are absent"
    );
    assert_eq!(
        certificate(&got[0]).0.as_str(),
        "spiffe://example.org/backend"
    );

    // No names: everything the caller may have, as SPIRE answers.
    let resp = within(client.fetch_secrets(request(&[], "", "")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        names(&secrets(&resp)),
        [
            "spiffe://example.org",
            "spiffe://partner.org",
            "spiffe://example.org/frontend",
            "spiffe://example.org/backend"
        ]
    );

    // A client that is not Envoy 1.18+ gets a plain trusted_ca, and cannot have ALL.
    let mut old = request(&["ROOTCA"], "", "");
    old.node = None;
    let resp = within(client.fetch_secrets(old.clone()))
        .await
        .unwrap()
        .into_inner();
    let rootca = &secrets(&resp)[0];
    let trusted =
        certificates_from_pem(inline(validation_context(rootca).trusted_ca.as_ref())).unwrap();
    assert_eq!(trusted, ca.bundle().x509_authorities);
    old.resource_names = vec!["ALL".into()];
    let status = within(client.fetch_secrets(old)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("SPIFFE certificate validator"),
        "{status:?}"
    );

    // Another type is refused with what SDS serves.
    let mut wrong = request(&["default"], "", "");
    wrong.type_url = "type.googleapis.com/envoy.config.cluster.v3.Cluster".into();
    let status = within(client.fetch_secrets(wrong)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains(SECRET_TYPE), "{status:?}");
    agent.stop().await.unwrap();
}

#[tokio::test]
async fn a_caller_without_an_identity_is_refused_as_by_the_workload_api() {
    let agent = Agent::start().await;
    let ca = Ca::new("example.org");
    agent.store.publish(snapshot(
        vec![ca.svid("e1", "/w", &[other_uid()], "")],
        &[&ca],
    ));
    let status = Stream::open(&agent, request(&["default"], "", ""))
        .await
        .err()
        .unwrap();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(status.message(), "no identity issued");
    let status = within(
        sds_client(&agent)
            .await
            .fetch_secrets(request(&["default"], "", "")),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    agent.store.publish(Snapshot::default());
    let status = Stream::open(&agent, request(&["default"], "", ""))
        .await
        .err()
        .unwrap();
    assert_eq!(status.code(), Code::Unavailable, "not synced yet: retry");
    agent.stop().await.unwrap();
}

/// A TLS identity and trust store from an SDS `tls_certificate` and SPIFFE validation context.
fn tls_parts(cert: &Secret, context: &Secret) -> (Identity, TrustStore) {
    let (_, chain, key) = certificate(cert);
    let identity = Identity::new();
    identity.set(&chain, &key).unwrap();
    (identity, TrustStore::new(spiffe_bundles(context)))
}

#[tokio::test]
async fn sds_secrets_secure_a_real_mtls_handshake_between_two_workloads() {
    let agent = Agent::start().await;
    let ca = Ca::new("example.org");
    agent.store.publish(snapshot(
        vec![
            ca.svid("e1", "/frontend", &[my_uid()], ""),
            ca.svid("e2", "/backend", &[my_uid()], ""),
        ],
        &[&ca],
    ));
    let backend_id = SpiffeId::parse("spiffe://example.org/backend").unwrap();

    // Each side's Envoy subscribes to its own certificate and the validation context.
    let mut server_sds = Stream::open(
        &agent,
        request(&["spiffe://example.org/backend", "ROOTCA"], "", ""),
    )
    .await
    .unwrap();
    let mut client_sds = Stream::open(&agent, request(&["default", "ALL"], "", ""))
        .await
        .unwrap();
    let server_secrets = secrets(&server_sds.next().await);
    let client_secrets = secrets(&client_sds.next().await);
    let (server_identity, server_trust) = tls_parts(
        find(&server_secrets, "spiffe://example.org/backend"),
        find(&server_secrets, "ROOTCA"),
    );
    let (client_identity, client_trust) = tls_parts(
        find(&client_secrets, "default"),
        find(&client_secrets, "ALL"),
    );

    let server_config = lanyard_tls::server_config(server_identity, server_trust.clone()).unwrap();
    let client_config =
        lanyard_tls::client_config(client_identity, client_trust.clone(), backend_id.clone())
            .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(server_config);
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = acceptor.accept(tcp).await.unwrap();
        let peer: Vec<Vec<u8>> = tls
            .get_ref()
            .1
            .peer_certificates()
            .expect("the client presented no certificate")
            .iter()
            .map(|c| c.to_vec())
            .collect();
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let mut hello = [0u8; 5];
        tls.read_exact(&mut hello).await.unwrap();
        tls.write_all(b"world").await.unwrap();
        tls.shutdown().await.unwrap();
        (parse_x509_svid(&peer).unwrap().spiffe_id, hello)
    });
    let connector = tokio_rustls::TlsConnector::from(Arc::clone(&client_config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("backend.example.org").unwrap();
    let mut tls = within(connector.connect(name.clone(), tcp)).await.unwrap();
    {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        tls.write_all(b"hello").await.unwrap();
        let mut answer = Vec::new();
        tls.read_to_end(&mut answer).await.unwrap();
        assert_eq!(answer, b"world");
    }
    let (client_id, hello) = within(server).await.unwrap();
    assert_eq!(&hello, b"hello");
    assert_eq!(
        client_id.as_str(),
        "spiffe://example.org/frontend",
        "the server sees the client's SDS-delivered SVID"
    );

    // The client pins the backend: a server presenting the frontend's SVID is refused, so the
    // handshake really checked the SDS-delivered identity.
    let (impostor, trust) = tls_parts(
        find(&client_secrets, "default"),
        find(&server_secrets, "ROOTCA"),
    );
    let impostor_config = lanyard_tls::server_config(impostor, trust).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(impostor_config);
    let impostor = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        acceptor.accept(tcp).await.map(|_| ())
    });
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let refused = within(connector.connect(name, tcp)).await.unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("spiffe://example.org/frontend"),
        "{refused}"
    );
    let _ = within(impostor).await.unwrap();

    // Shutdown ends the open SDS streams with UNAVAILABLE (Envoy reconnects, to the next agent),
    // rather than holding the agent's exit until its grace period runs out.
    let stopping = tokio::spawn(agent.stop());
    for stream in [&mut server_sds, &mut client_sds] {
        let status = within(stream.rx.message()).await.unwrap_err();
        assert_eq!(status.code(), Code::Unavailable);
        assert_eq!(status.message(), "the agent is shutting down");
    }
    within(stopping).await.unwrap().unwrap();
}
