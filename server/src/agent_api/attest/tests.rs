//! `Attest` against an in-process agent API (plain HTTP/2 on 127.0.0.1:0, so no source address
//! reaches the limiter and only the total counts) with attestors that stall or fail.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lanyard_datastore::{Datastore, DatastoreError};
use lanyard_id::SpiffeId;
use lanyard_proto::lanyard::agent::v1 as pb;
use lanyard_proto::lanyard::agent::v1::agent_service_client::AgentServiceClient;
use lanyard_proto::lanyard::agent::v1::agent_service_server::AgentServiceServer;
use lanyard_x509::{KeyPair, KeyType};
use tonic::Code;
use tonic::transport::Channel;

use crate::agent_api::{AgentApi, AgentApiLimits};
use crate::attest::{AttestError, Attested, Challenger, NodeAttestor};
use crate::cache::EntryCache;

const AGENT: &str = "spiffe://example.org/lanyard/agent/test/node-1";

/// `stall`: challenges once and waits for the answer. `datastore` / `kube`: the server's own
/// dependency fails with a text that must not reach the caller.
#[derive(Debug)]
struct TestAttestor(&'static str);

#[tonic::async_trait]
impl NodeAttestor for TestAttestor {
    fn name(&self) -> &'static str {
        self.0
    }

    async fn attest(
        &self,
        _payload: &[u8],
        challenger: &mut dyn Challenger,
        _now: i64,
    ) -> Result<Attested, AttestError> {
        match self.0 {
            "stall" => {
                challenger.challenge(b"prove it".to_vec()).await?;
            }
            "datastore" => {
                return Err(AttestError::Datastore(DatastoreError::InvalidUrl {
                    url: "postgres://lanyard:***@db.internal:5432/secret".to_owned(),
                    reason: "SECRET-DETAIL".to_owned(),
                }));
            }
            _ => {
                return Err(AttestError::Unavailable(
                    "cluster \"prod\": TokenReview failed: SECRET-DETAIL".to_owned(),
                ));
            }
        }
        Ok(Attested {
            agent_id: SpiffeId::parse(AGENT).unwrap(),
            selectors: vec![],
            reattestable: true,
        })
    }
}

struct Served {
    ds: Datastore,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

async fn serve(limits: AgentApiLimits) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let (ds, td, state) = super::super::test_server(dir.path()).await;
    let cache = EntryCache::load(ds.clone(), td, state.server_id().clone())
        .await
        .unwrap();
    let attestors: Vec<Arc<dyn NodeAttestor>> = ["stall", "datastore", "kube"]
        .into_iter()
        .map(|n| Arc::new(TestAttestor(n)) as Arc<dyn NodeAttestor>)
        .collect();
    let api = AgentApi::new(state, cache, attestors).with_limits(limits);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(AgentServiceServer::new(api))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    Served {
        ds,
        addr,
        _dir: dir,
    }
}

fn params(attestation_type: &str) -> pb::AttestRequest {
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    pb::AttestRequest {
        step: Some(pb::attest_request::Step::Params(pb::AttestParams {
            attestation_type: attestation_type.to_owned(),
            payload: b"evidence".to_vec(),
            csr: lanyard_x509::build_csr(&key).unwrap(),
        })),
    }
}

async fn client(addr: SocketAddr) -> AgentServiceClient<Channel> {
    AgentServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap()
}

/// Opens an Attest stream sending `first` (if any) and then nothing, never closing it; returns
/// the status the stream ends with.
async fn stalled(addr: SocketAddr, first: Option<pb::AttestRequest>) -> tonic::Status {
    let requests = tokio_stream::StreamExt::chain(
        tokio_stream::iter(first),
        tokio_stream::pending::<pb::AttestRequest>(),
    );
    let mut stream = match client(addr).await.attest(requests).await {
        Ok(r) => r.into_inner(),
        Err(s) => return s,
    };
    loop {
        match stream.message().await {
            Ok(Some(_challenge)) => {}
            Ok(None) => panic!("the stream ended without a status"),
            Err(s) => return s,
        }
    }
}

fn limits(timeout: Duration) -> AgentApiLimits {
    AgentApiLimits {
        attestation_timeout: timeout,
        ..AgentApiLimits::default()
    }
}

#[tokio::test]
async fn a_stalled_attestation_ends_at_the_deadline_and_stores_nothing() {
    let timeout = Duration::from_millis(500);
    let s = serve(limits(timeout)).await;
    // Stalled before params, and stalled on a challenge after params.
    for first in [None, Some(params("stall"))] {
        let started = Instant::now();
        let status = stalled(s.addr, first.clone()).await;
        let took = started.elapsed();
        assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
        assert!(
            status.message().contains("did not complete within 500ms"),
            "{status:?}"
        );
        assert!(
            took >= timeout && took < timeout + Duration::from_secs(2),
            "{first:?}: ended after {took:?}"
        );
    }
    let id = SpiffeId::parse(AGENT).unwrap();
    assert!(s.ds.get_agent(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn server_failures_reach_the_caller_as_an_error_id_only() {
    let s = serve(AgentApiLimits::default()).await;
    for attestation_type in ["datastore", "kube"] {
        let mut c = client(s.addr).await;
        let status = match c
            .attest(tokio_stream::iter([params(attestation_type)]))
            .await
        {
            Ok(r) => r.into_inner().message().await.unwrap_err(),
            Err(s) => s,
        };
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
        let msg = status.message();
        let id = msg
            .strip_prefix("attestation failed (error id ")
            .and_then(|m| m.strip_suffix("); the server log has the details"))
            .unwrap_or_else(|| panic!("{attestation_type}: {msg}"));
        assert!(
            id.len() == 8 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{msg}"
        );
        assert!(
            !msg.contains("SECRET") && !msg.contains("db.internal"),
            "{msg}"
        );
    }
}

#[tokio::test]
async fn attestations_beyond_the_limit_are_refused_at_once() {
    let s = serve(AgentApiLimits {
        max_attestations: 2,
        max_attestations_per_ip: 2,
        ..limits(Duration::from_secs(3))
    })
    .await;
    let addr = s.addr;
    // Two attestations in flight: the server has challenged both.
    let mut holders = Vec::new();
    for _ in 0..2 {
        let requests = tokio_stream::StreamExt::chain(
            tokio_stream::iter([params("stall")]),
            tokio_stream::pending::<pb::AttestRequest>(),
        );
        let mut stream = client(addr)
            .await
            .attest(requests)
            .await
            .unwrap()
            .into_inner();
        let challenge = stream.message().await.unwrap().unwrap();
        assert!(matches!(
            challenge.step,
            Some(pb::attest_response::Step::Challenge(_))
        ));
        holders.push(stream);
    }
    let started = Instant::now();
    let status = stalled(addr, None).await;
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(
        status.message(),
        "too many attestations in progress: retry in a few seconds"
    );
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "refused after {took:?}");
    for mut h in holders {
        assert_eq!(
            h.message().await.unwrap_err().code(),
            Code::DeadlineExceeded
        );
    }
    // Their places are free again: the next one is served (and fails on its evidence).
    let mut c = client(addr).await;
    let status = match c.attest(tokio_stream::iter([params("kube")])).await {
        Ok(r) => r.into_inner().message().await.unwrap_err(),
        Err(s) => s,
    };
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
}
