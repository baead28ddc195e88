//! A minimal agent inside the test: the agent library's client pieces
//! (`lanyard_agent::node::client`) plus the generated `AgentServiceClient`, so a test can
//! attest, hold a Sync stream and ask for SVIDs exactly as `lanyard-agent` would, and look at
//! every message and status the server sends.

use std::net::SocketAddr;

use lanyard_agent::node::NodeError;
use lanyard_agent::node::client::{self, AgentSvid};
use lanyard_id::{SpiffeId, TrustDomain};
use lanyard_proto::lanyard::agent::v1 as pb;
use lanyard_proto::lanyard::agent::v1::agent_service_client::AgentServiceClient;
use lanyard_proto::lanyard::agent::v1::sync_message::Event;
use lanyard_tls::{Identity, TrustStore};
use lanyard_x509::{Bundle, BundleSet, KeyPair, KeyType};
use tonic::Status;
use tonic::transport::Channel;

use crate::harness::{PATIENCE, Server};

/// The trust domain of every test server.
pub(crate) fn td() -> TrustDomain {
    TrustDomain::new("example.org").unwrap()
}

/// A bundle of `td()` holding the authorities of a PEM text.
pub(crate) fn bundle_from_pem(pem: &str) -> Bundle {
    let mut bundle = Bundle::new(td());
    let certs = lanyard_x509::certificates_from_pem(pem.as_bytes()).unwrap();
    assert!(
        !certs.is_empty(),
        "no certificate in the bundle PEM:\n{pem}"
    );
    for c in certs {
        bundle.add_x509_authority(c);
    }
    bundle
}

/// Bootstrap trust for attestation, from `bundle show --format pem` (what an operator copies to
/// the node).
pub(crate) async fn bootstrap_trust(server: &Server) -> TrustStore {
    let pem = server.bundle_pem().await;
    TrustStore::new(BundleSet::from_iter([bundle_from_pem(&pem)]))
}

/// The server's answer as a status (attestation refusals are `NodeError::Rpc`).
fn status(e: NodeError) -> Status {
    match e {
        NodeError::Rpc(s) => s,
        other => panic!("not a server refusal: {other}"),
    }
}

/// Attests with `token` over a connection of its own, without a client certificate.
pub(crate) async fn attest(
    addr: SocketAddr,
    trust: &TrustStore,
    token: &str,
) -> Result<(AgentSvid, Bundle), Status> {
    let mut c = client::connect(addr, &td(), Identity::new(), trust.clone()).unwrap();
    client::attest_join_token(&mut c, token)
        .await
        .map_err(status)
}

/// An attested agent with an mTLS client presenting its SVID.
pub(crate) struct TestAgent {
    /// The agent's SPIFFE ID.
    pub(crate) id: SpiffeId,
    identity: Identity,
    trust: TrustStore,
    client: AgentServiceClient<Channel>,
}

impl TestAgent {
    /// Attests with `token`, trusting the bundle the server's CLI prints.
    pub(crate) async fn attest(server: &Server, token: &str) -> Result<TestAgent, Status> {
        let trust = bootstrap_trust(server).await;
        let (svid, bundle) = attest(server.agent_addr, &trust, token).await?;
        let identity = Identity::new();
        svid.install(&identity).unwrap();
        let trust = TrustStore::new(BundleSet::from_iter([bundle]));
        let client =
            client::connect(server.agent_addr, &td(), identity.clone(), trust.clone()).unwrap();
        Ok(TestAgent {
            id: svid.spiffe_id,
            identity,
            trust,
            client,
        })
    }

    /// A fresh agent attested with a new join token, and the ID of an entry `spiffe_id` it is
    /// authorized for.
    pub(crate) async fn with_entry(server: &Server, spiffe_id: &str) -> (TestAgent, String) {
        let (token, agent_id, _) = server.token(&[]).await;
        let agent = TestAgent::attest(server, &token).await.unwrap();
        let entry = server.create_entry(spiffe_id, &agent_id).await;
        (agent, entry["id"].as_str().unwrap().to_owned())
    }

    /// Reconnects (same SVID, same trust) to the server's current address, e.g. after a
    /// restart on a new port.
    pub(crate) fn reconnect(&mut self, server: &Server) {
        self.client = client::connect(
            server.agent_addr,
            &td(),
            self.identity.clone(),
            self.trust.clone(),
        )
        .unwrap();
    }

    /// Opens the Sync stream from scratch and returns it with its first message, which must be
    /// the snapshot.
    pub(crate) async fn sync(&mut self) -> Result<(SyncStream, pb::Snapshot), Status> {
        let call = self.client.sync(pb::SyncRequest { resume_revision: 0 });
        let mut stream = SyncStream {
            inner: guard(call).await?.into_inner(),
        };
        match stream.next().await {
            Some(Ok(Event::Snapshot(s))) => Ok((stream, s)),
            Some(Err(s)) => Err(s),
            other => panic!("the first Sync message is not a snapshot: {other:?}"),
        }
    }

    /// BatchSignX509Svids with `(entry_id, csr)` items.
    pub(crate) async fn sign(
        &mut self,
        items: Vec<(String, Vec<u8>)>,
    ) -> Result<Vec<pb::SignX509SvidResult>, Status> {
        let req = pb::BatchSignX509SvidsRequest {
            items: items
                .into_iter()
                .map(|(entry_id, csr)| pb::SignX509SvidItem { entry_id, csr })
                .collect(),
        };
        let resp = guard(self.client.batch_sign_x509_svids(req)).await?;
        Ok(resp.into_inner().results)
    }

    /// Signs one fresh key for `entry_id`; the item's result.
    pub(crate) async fn sign_one(
        &mut self,
        entry_id: &str,
    ) -> Result<pb::sign_x509_svid_result::Result, Status> {
        let key = KeyPair::generate(KeyType::EcP256).unwrap();
        let csr = lanyard_x509::build_csr(&key).unwrap();
        let mut results = self.sign(vec![(entry_id.to_owned(), csr)]).await?;
        assert_eq!(results.len(), 1);
        Ok(results.remove(0).result.unwrap())
    }

    /// MintJwtSvids for `entry_ids` and `audience`.
    pub(crate) async fn mint_jwt(
        &mut self,
        entry_ids: &[&str],
        audience: &[&str],
    ) -> Result<Vec<pb::MintJwtSvidResult>, Status> {
        let req = pb::MintJwtSvidsRequest {
            entry_ids: entry_ids.iter().map(|e| (*e).to_owned()).collect(),
            audience: audience.iter().map(|a| (*a).to_owned()).collect(),
        };
        let resp = guard(self.client.mint_jwt_svids(req)).await?;
        Ok(resp.into_inner().results)
    }

    /// RenewAgent; on success the new SVID becomes the one presented.
    pub(crate) async fn renew(&mut self) -> Result<(), Status> {
        let svid = guard(client::renew(&mut self.client))
            .await
            .map_err(status)?;
        svid.install(&self.identity).unwrap();
        Ok(())
    }
}

/// A Sync stream.
pub(crate) struct SyncStream {
    inner: tonic::Streaming<pb::SyncMessage>,
}

impl SyncStream {
    /// The next event other than a heartbeat: `None` when the stream ended cleanly, `Err` when
    /// it ended with a status. Fails the test if nothing comes within [`PATIENCE`].
    pub(crate) async fn next(&mut self) -> Option<Result<Event, Status>> {
        loop {
            match guard(self.inner.message()).await {
                Ok(Some(pb::SyncMessage {
                    event: Some(Event::Heartbeat(_)),
                    ..
                })) => {}
                Ok(Some(pb::SyncMessage { event, .. })) => {
                    return Some(Ok(event.expect("a SyncMessage without an event")));
                }
                Ok(None) => return None,
                Err(s) => return Some(Err(s)),
            }
        }
    }
}

/// Awaits `f`, failing the test if it takes longer than [`PATIENCE`].
pub(crate) async fn guard<F: std::future::IntoFuture>(f: F) -> F::Output {
    tokio::time::timeout(PATIENCE, f)
        .await
        .unwrap_or_else(|_| panic!("no answer within {PATIENCE:?}"))
}
