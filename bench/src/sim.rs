//! The agent simulator: thousands of node agents in one process, each speaking the real
//! agent↔server protocol with the workspace's own client code ([`lanyard_agent::node::client`]):
//! join-token `Attest` over server-authenticated TLS, then `Sync` over mTLS presenting its own
//! agent X.509-SVID, on a TCP connection of its own. What it leaves out is everything the server
//! does not see: no Workload API, no workload keys, no SVID signing for workloads. Each open
//! `Sync` stream is drained by a task, as an agent applies what it is sent.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow};
use lanyard_agent::node::client;
use lanyard_id::TrustDomain;
use lanyard_proto::lanyard::admin::v1 as admin_api;
use lanyard_proto::lanyard::admin::v1::join_tokens_client::JoinTokensClient;
use lanyard_proto::lanyard::agent::v1 as pb;
use lanyard_proto::lanyard::agent::v1::agent_service_client::AgentServiceClient;
use lanyard_tls::{Identity, TrustStore};
use lanyard_x509::{Bundle, BundleSet};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tonic::Streaming;
use tonic::transport::Channel;

use crate::procs::Server;
use crate::workload::unix_channel;

/// Join tokens requested at once over the admin socket (one HTTP/2 connection).
const TOKEN_CONCURRENCY: usize = 16;
/// Attestations in flight at once: each is a TLS handshake, a key pair, a CSR and a signature on
/// both sides.
const ATTEST_CONCURRENCY: usize = 32;

/// One simulated node agent: its attested identity and (once connected) its mTLS channel.
pub(crate) struct SimAgent {
    /// The agent's SPIFFE ID.
    pub(crate) spiffe_id: String,
    identity: Identity,
    trust: TrustStore,
    client: Option<AgentServiceClient<Channel>>,
}

/// What one full sync (a `Sync` call answered with a snapshot) took and carried.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Synced {
    /// From sending `SyncRequest` (and, on a new connection, dialling) to the whole snapshot.
    pub(crate) latency: Duration,
    /// Entries in the snapshot.
    pub(crate) entries: usize,
}

impl SimAgent {
    /// Opens this agent's mTLS connection to `addr` (lazily: the first call dials).
    pub(crate) fn connect(&mut self, addr: SocketAddr, td: &TrustDomain) -> Result<()> {
        self.client = Some(client::connect(
            addr,
            td,
            self.identity.clone(),
            self.trust.clone(),
        )?);
        Ok(())
    }

    /// A full sync: `Sync` with no resume revision, read until the snapshot.
    pub(crate) async fn full_sync(&mut self) -> Result<(Synced, Streaming<pb::SyncMessage>)> {
        let client = self
            .client
            .as_mut()
            .ok_or_else(|| anyhow!("{} is not connected", self.spiffe_id))?;
        let started = Instant::now();
        let mut stream = client
            .sync(pb::SyncRequest { resume_revision: 0 })
            .await
            .with_context(|| format!("Sync of {}", self.spiffe_id))?
            .into_inner();
        loop {
            let msg = stream
                .message()
                .await?
                .ok_or_else(|| anyhow!("Sync of {} ended before a snapshot", self.spiffe_id))?;
            if let Some(pb::sync_message::Event::Snapshot(s)) = msg.event {
                let synced = Synced {
                    latency: started.elapsed(),
                    entries: s.entries.len(),
                };
                return Ok((synced, stream));
            }
        }
    }
}

/// `JoinTokens.GenerateJoinToken` `n` times over the admin socket, `TOKEN_CONCURRENCY` at once.
pub(crate) async fn join_tokens(server: &Server, n: usize) -> Result<Vec<String>> {
    let channel = unix_channel(&server.socket).await?;
    let gate = Arc::new(Semaphore::new(TOKEN_CONCURRENCY));
    let mut set = JoinSet::new();
    for _ in 0..n {
        let permit = Arc::clone(&gate).acquire_owned().await?;
        let mut tokens = JoinTokensClient::new(channel.clone());
        set.spawn(async move {
            let _permit = permit;
            let resp = tokens
                .generate_join_token(admin_api::GenerateJoinTokenRequest {
                    spiffe_id: String::new(),
                    ttl_seconds: 3600,
                })
                .await?
                .into_inner();
            Ok::<_, anyhow::Error>(resp.token)
        });
    }
    let mut out = Vec::with_capacity(n);
    while let Some(t) = set.join_next().await {
        out.push(t??);
    }
    Ok(out)
}

/// Attests one agent per token with the real `Attest` RPC, `ATTEST_CONCURRENCY` at once. Each
/// attestation uses a connection of its own that is closed afterwards, as an agent's is.
pub(crate) async fn attest_all(
    addr: SocketAddr,
    td: &TrustDomain,
    bundle_pem: &str,
    tokens: Vec<String>,
) -> Result<Vec<SimAgent>> {
    let mut bootstrap = Bundle::new(td.clone());
    for c in lanyard_x509::certificates_from_pem(bundle_pem.as_bytes())? {
        bootstrap.add_x509_authority(c);
    }
    let bootstrap = TrustStore::new(BundleSet::from_iter([bootstrap]));
    let gate = Arc::new(Semaphore::new(ATTEST_CONCURRENCY));
    let mut set = JoinSet::new();
    for token in tokens {
        let permit = Arc::clone(&gate).acquire_owned().await?;
        let (td, bootstrap) = (td.clone(), bootstrap.clone());
        set.spawn(async move {
            let _permit = permit;
            let mut c = client::connect(addr, &td, Identity::new(), bootstrap)?;
            let (svid, bundle) = client::attest_join_token(&mut c, &token).await?;
            let identity = Identity::new();
            svid.install(&identity)?;
            Ok::<_, anyhow::Error>(SimAgent {
                spiffe_id: svid.spiffe_id.to_string(),
                identity,
                trust: TrustStore::new(BundleSet::from_iter([bundle])),
                client: None,
            })
        });
    }
    let mut agents = Vec::new();
    while let Some(a) = set.join_next().await {
        agents.push(a??);
    }
    // Join order is completion order; a stable order makes entry assignment reproducible.
    agents.sort_by(|a, b| a.spiffe_id.cmp(&b.spiffe_id));
    Ok(agents)
}

/// Keeps `stream` applied (read) until it ends; counts streams that ended early in `ended`.
pub(crate) fn drain(mut stream: Streaming<pb::SyncMessage>, ended: Arc<AtomicUsize>) {
    tokio::spawn(async move {
        while let Ok(Some(_)) = stream.message().await {}
        ended.fetch_add(1, Ordering::Relaxed);
    });
}
