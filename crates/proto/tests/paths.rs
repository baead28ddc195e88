//! The generated code speaks the wire contract real SPIFFE clients expect: exact gRPC method paths
//! (the Workload API has no protobuf package) and the standard's field numbers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use lanyard_proto::lanyard::agent::v1::{SyncRequest, agent_service_client::AgentServiceClient};
use lanyard_proto::workload::spiffe_workload_api_client::SpiffeWorkloadApiClient;
use lanyard_proto::workload::{
    JwtBundlesRequest, JwtsvidRequest, ValidateJwtsvidRequest, X509BundlesRequest, X509svid,
    X509svidRequest, X509svidResponse, spiffe_workload_api_server,
};
use prost::Message;
use tonic::codegen::{Service, http};

/// A fake channel that records the path of every request and fails it.
#[derive(Clone, Default)]
struct RecordPaths(Arc<Mutex<Vec<String>>>);

impl RecordPaths {
    fn take(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|mut paths| std::mem::take(&mut *paths))
            .unwrap_or_default()
    }
}

impl Service<http::Request<tonic::body::Body>> for RecordPaths {
    type Response = http::Response<tonic::body::Body>;
    type Error = tonic::Status;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        if let Ok(mut paths) = self.0.lock() {
            paths.push(request.uri().path().to_owned());
        }
        std::future::ready(Err(tonic::Status::unavailable("recorded")))
    }
}

#[test]
fn workload_service_name_has_no_package() {
    assert_eq!(
        spiffe_workload_api_server::SERVICE_NAME,
        "SpiffeWorkloadAPI"
    );
}

#[tokio::test]
async fn workload_api_method_paths_match_the_standard() {
    let channel = RecordPaths::default();
    let mut client = SpiffeWorkloadApiClient::new(channel.clone());

    // Every call fails at the fake channel; only the path it was sent to matters here.
    let _ = client.fetch_x509svid(X509svidRequest {}).await;
    let _ = client.fetch_x509_bundles(X509BundlesRequest {}).await;
    let _ = client.fetch_jwtsvid(JwtsvidRequest::default()).await;
    let _ = client.fetch_jwt_bundles(JwtBundlesRequest {}).await;
    let _ = client
        .validate_jwtsvid(ValidateJwtsvidRequest::default())
        .await;

    assert_eq!(
        channel.take(),
        [
            "/SpiffeWorkloadAPI/FetchX509SVID",
            "/SpiffeWorkloadAPI/FetchX509Bundles",
            "/SpiffeWorkloadAPI/FetchJWTSVID",
            "/SpiffeWorkloadAPI/FetchJWTBundles",
            "/SpiffeWorkloadAPI/ValidateJWTSVID",
        ]
    );
}

#[tokio::test]
async fn agent_api_method_path_is_package_qualified() {
    let channel = RecordPaths::default();
    let mut client = AgentServiceClient::new(channel.clone());
    let _ = client.sync(SyncRequest::default()).await;
    assert_eq!(channel.take(), ["/lanyard.agent.v1.AgentService/Sync"]);
}

#[test]
fn x509_svid_response_round_trips() -> Result<(), prost::DecodeError> {
    let response = X509svidResponse {
        svids: vec![X509svid {
            spiffe_id: "spiffe://example.org/workload".to_owned(),
            x509_svid: vec![0x30, 0x01, 0x02],
            x509_svid_key: vec![0x30, 0x03],
            bundle: vec![0x30, 0x04],
            hint: "internal".to_owned(),
        }],
        crl: vec![vec![0x30, 0x05]],
        federated_bundles: HashMap::from([("spiffe://other.org".to_owned(), vec![0x30, 0x06])]),
    };
    let decoded = X509svidResponse::decode(response.encode_to_vec().as_slice())?;
    assert_eq!(decoded, response);
    Ok(())
}

#[test]
fn x509_svid_field_numbers_match_the_standard() {
    // Tag byte = field number << 3 | wire type 2 (length-delimited).
    let only = |svid: X509svid| svid.encode_to_vec().first().copied();
    let empty = X509svid::default;
    assert_eq!(
        only(X509svid {
            spiffe_id: "a".into(),
            ..empty()
        }),
        Some(1 << 3 | 2)
    );
    assert_eq!(
        only(X509svid {
            x509_svid: vec![1],
            ..empty()
        }),
        Some(2 << 3 | 2)
    );
    assert_eq!(
        only(X509svid {
            x509_svid_key: vec![1],
            ..empty()
        }),
        Some(3 << 3 | 2)
    );
    assert_eq!(
        only(X509svid {
            bundle: vec![1],
            ..empty()
        }),
        Some(4 << 3 | 2)
    );
    assert_eq!(
        only(X509svid {
            hint: "a".into(),
            ..empty()
        }),
        Some(5 << 3 | 2)
    );
}
