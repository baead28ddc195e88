//! Envoy SDS against a real `lanyard-agent` process and server (issue 17 point 3): an SDS client
//! built on the `envoy-types` crate, doing what Envoy does, subscribes on the agent's Workload
//! API socket, and follows what really happens: an entry created for it is pushed, and its
//! short-lived SVID's rotation at half-life is pushed, NACK or not.

use std::time::Duration;

use envoy_types::pb::envoy::config::core::v3::node::UserAgentVersionType;
use envoy_types::pb::envoy::config::core::v3::{BuildVersion, DataSource, Node, data_source};
use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::{
    Secret, SpiffeCertValidatorConfig, secret,
};
use envoy_types::pb::envoy::service::discovery::v3::{DiscoveryRequest, DiscoveryResponse};
use envoy_types::pb::envoy::service::secret::v3::secret_discovery_service_client::SecretDiscoveryServiceClient;
use envoy_types::pb::envoy::r#type::v3::SemanticVersion;
use envoy_types::pb::google::rpc;
use hyper_util::rt::TokioIo;
use lanyard_x509::{CertInfo, certificates_from_pem, parse_x509_svid};
use prost::Message as _;
use tokio::net::UnixStream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Streaming;
use tonic::transport::{Endpoint, Uri};

use crate::agent_client::wait_for_svids;
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::{PATIENCE, Server};
use crate::store::Store;

const SECRET_TYPE: &str = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";
/// The X.509-SVID lifetime of the rotating entry, in seconds.
const TTL: u64 = 30;
const FRONTEND: &str = "spiffe://example.org/sds/frontend";
const SECOND: &str = "spiffe://example.org/sds/second";

fn request(names: &[&str], version: &str, nonce: &str) -> DiscoveryRequest {
    DiscoveryRequest {
        version_info: version.into(),
        node: Some(Node {
            id: "sidecar".into(),
            user_agent_name: "envoy".into(),
            user_agent_version_type: Some(UserAgentVersionType::UserAgentBuildVersion(
                BuildVersion {
                    version: Some(SemanticVersion {
                        major_number: 1,
                        minor_number: 30,
                        patch: 1,
                    }),
                    metadata: None,
                },
            )),
            ..Node::default()
        }),
        resource_names: names.iter().map(|n| (*n).to_owned()).collect(),
        type_url: SECRET_TYPE.into(),
        response_nonce: nonce.into(),
        ..DiscoveryRequest::default()
    }
}

fn inline(source: Option<&DataSource>) -> &[u8] {
    match source.and_then(|s| s.specifier.as_ref()) {
        Some(data_source::Specifier::InlineBytes(bytes)) => bytes,
        other => panic!("not inline bytes: {other:?}"),
    }
}

/// The response's secrets, by name.
fn secrets(resp: &DiscoveryResponse) -> Vec<Secret> {
    resp.resources
        .iter()
        .map(|any| Secret::decode(any.value.as_slice()).unwrap())
        .collect()
}

fn names(secrets: &[Secret]) -> Vec<&str> {
    secrets.iter().map(|s| s.name.as_str()).collect()
}

/// The SPIFFE ID and leaf serial of the `tls_certificate` named `name`.
fn certificate(secrets: &[Secret], name: &str) -> (String, String) {
    let secret = secrets.iter().find(|s| s.name == name).unwrap();
    let Some(secret::Type::TlsCertificate(cert)) = &secret.r#type else {
        panic!("{name} is not a tls_certificate");
    };
    let chain = certificates_from_pem(inline(cert.certificate_chain.as_ref())).unwrap();
    let id = parse_x509_svid(&chain).unwrap().spiffe_id;
    let serial = CertInfo::from_der(chain[0].as_ref()).unwrap().serial_hex;
    (id.as_str().to_owned(), serial)
}

async fn next(
    rx: &mut Streaming<DiscoveryResponse>,
    within: Duration,
    agent: &Agent,
) -> DiscoveryResponse {
    tokio::time::timeout(within, rx.message())
        .await
        .unwrap_or_else(|_| panic!("no SDS response within {within:?}\n{}", agent.log_text()))
        .unwrap()
        .expect("the stream ended")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envoy_follows_a_new_entry_and_a_rotation_from_a_real_agent() {
    let server = Server::start(Store::Sqlite).await;
    let agent = Agent::start(&server).await;
    let ttl = TTL.to_string();
    create_uid_entry(
        &server,
        FRONTEND,
        &agent.id,
        my_uid(),
        &["--x509-svid-ttl", &ttl],
    )
    .await;
    wait_for_svids(&agent.socket, &[FRONTEND]).await;

    let socket = agent.socket.clone();
    let channel = Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let socket = socket.clone();
            async move { Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(socket).await?)) }
        }))
        .await
        .unwrap();
    let mut client = SecretDiscoveryServiceClient::new(channel);
    let (tx, requests) = mpsc::channel(8);
    let subscription = ["default", "ROOTCA", SECOND];
    tx.send(request(&subscription, "", "")).await.unwrap();
    let mut rx = client
        .stream_secrets(ReceiverStream::new(requests))
        .await
        .unwrap()
        .into_inner();

    // The identity to come is not there yet: absent, not an error.
    let v1 = next(&mut rx, PATIENCE, &agent).await;
    let got = secrets(&v1);
    assert_eq!(names(&got), ["ROOTCA", "default"]);
    let (id, first_serial) = certificate(&got, "default");
    assert_eq!(id, FRONTEND);
    let rootca = got.iter().find(|s| s.name == "ROOTCA").unwrap();
    let Some(secret::Type::ValidationContext(context)) = &rootca.r#type else {
        panic!("ROOTCA is not a validation context");
    };
    let validator = context.custom_validator_config.as_ref().unwrap();
    let config = SpiffeCertValidatorConfig::decode(
        validator.typed_config.as_ref().unwrap().value.as_slice(),
    )
    .unwrap();
    assert_eq!(config.trust_domains.len(), 1);
    assert_eq!(config.trust_domains[0].name, "example.org");
    assert_eq!(
        certificates_from_pem(inline(config.trust_domains[0].trust_bundle.as_ref())).unwrap(),
        certificates_from_pem(server.bundle_pem().await.as_bytes()).unwrap(),
        "ROOTCA is the server's bundle"
    );
    tx.send(request(&subscription, &v1.version_info, &v1.nonce))
        .await
        .unwrap();

    // An entry created for this workload reaches Envoy without a new request. (On a loaded
    // machine the 30 s SVID may rotate first: each version is ACKed until the new identity
    // arrives.)
    // With the same short TTL as FRONTEND: "default" is the caller's oldest entry, and two
    // entries created within one second (`created_at` is in seconds) are ordered by entry ID, so
    // either may be "default" from here on; whichever it is rotates within the TTL.
    create_uid_entry(
        &server,
        SECOND,
        &agent.id,
        my_uid(),
        &["--x509-svid-ttl", &ttl],
    )
    .await;
    let mut last = v1;
    let with_second = loop {
        let resp = next(&mut rx, PATIENCE, &agent).await;
        let version: u64 = resp.version_info.parse().unwrap();
        assert_eq!(version, last.version_info.parse::<u64>().unwrap() + 1);
        let got = secrets(&resp);
        if names(&got).contains(&SECOND) {
            assert_eq!(names(&got), ["ROOTCA", "default", SECOND]);
            assert_eq!(certificate(&got, SECOND).0, SECOND);
            break resp;
        }
        assert_ne!(
            certificate(&got, "default").1,
            first_serial,
            "only a rotation may come first"
        );
        tx.send(request(&subscription, &resp.version_info, &resp.nonce))
            .await
            .unwrap();
        last = resp;
    };
    let before = secrets(&with_second);
    let (default_id, default_serial) = certificate(&before, "default");
    let (_, second_serial) = certificate(&before, SECOND);

    // Envoy rejects that version. Nothing is re-sent for it: the next version is the rotation
    // of a 30 s SVID, at about half its lifetime.
    let mut nack = request(&subscription, &last.version_info, &with_second.nonce);
    nack.error_detail = Some(rpc::Status {
        code: tonic::Code::InvalidArgument as i32,
        message: "rejected by the test".into(),
        details: Vec::new(),
    });
    tx.send(nack).await.unwrap();
    let rotated = next(&mut rx, Duration::from_secs(TTL + 20), &agent).await;
    let rejected: u64 = with_second.version_info.parse().unwrap();
    assert_eq!(rotated.version_info, (rejected + 1).to_string());
    let got = secrets(&rotated);
    assert_eq!(names(&got), ["ROOTCA", "default", SECOND]);
    let (id, rotated_default) = certificate(&got, "default");
    assert_eq!(id, default_id, "\"default\" stays the same identity");
    let (_, rotated_second) = certificate(&got, SECOND);
    assert!(
        rotated_default != default_serial || rotated_second != second_serial,
        "the rotated SVID is pushed"
    );
    assert!(
        agent.log_text().contains("client rejected secrets (NACK)"),
        "the NACK is logged:\n{}",
        agent.log_text()
    );
}
