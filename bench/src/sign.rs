//! `sign`: X.509-SVIDs signed per second through the agent API of a real `lanyard-server`
//! (`BatchSignX509Svids` over mTLS from an agent attested with a join token, several callers at
//! once), against the baseline of the same work done in this process with the same library and
//! key type: `lanyard_x509::parse_csr` (parse + signature check) and
//! `SigningCa::issue_x509_svid` with an EC P-256 CA (the server's default), on the same cores.
//!
//! The baseline runs as many threads as the server has batches in flight (two callers per core):
//! on an idle machine that is the same throughput as one thread per core, and on a shared one
//! both sides compete for the cores with the same number of runnable threads. Rounds alternate
//! between the two sides. Wall-clock rates are the target's metric; CPU time per SVID (from
//! `/proc/<pid>/stat`) is reported next to it because it does not depend on what else runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, Result, bail};
use lanyard_agent::node::client;
use lanyard_id::{SpiffeId, TrustDomain};
use lanyard_proto::lanyard::agent::v1 as pb;
use lanyard_proto::lanyard::agent::v1::agent_service_client::AgentServiceClient;
use lanyard_proto::lanyard::agent::v1::sign_x509_svid_result::Result as SignOutcome;
use lanyard_tls::{Identity, TrustStore};
use lanyard_x509::{
    Bundle, BundleSet, CaParams, KeyPair, KeyType, SigningCa, Subject, SvidParams, build_csr,
    parse_csr, self_signed_ca,
};
use tonic::transport::Channel;

use crate::admin::{Admin, uid_entry};
use crate::procs::{Bins, Server, cpu_seconds};
use crate::report::{Metric, Target};
use crate::stats::Samples;

const SCENARIO: &str = "sign";
/// Items per `BatchSignX509Svids` call (the agent itself sends up to its own batch size).
const BATCH: usize = 100;
/// Concurrent callers, each on its own mTLS connection: two per core keeps the server busy
/// while a batch is on the wire.
const CALLERS_PER_CORE: usize = 2;
/// Distinct CSRs, cycled through; each is parsed and verified again on every use.
const POOL: usize = 1000;

/// An agent attested with a join token, as the real agent does on first start (trust bootstrapped
/// from the CLI's PEM), whose identity opens new mTLS connections to the agent API.
pub(crate) struct BenchAgent {
    addr: std::net::SocketAddr,
    td: TrustDomain,
    identity: Identity,
    trust: TrustStore,
    /// The agent's SPIFFE ID.
    pub(crate) spiffe_id: String,
}

impl BenchAgent {
    /// Attests a new agent to `server`.
    pub(crate) async fn attest(server: &Server, td: &TrustDomain) -> Result<BenchAgent> {
        let (token, _) = server.join_token().await?;
        let mut bootstrap = Bundle::new(td.clone());
        for c in lanyard_x509::certificates_from_pem(server.bundle_pem().await?.as_bytes())? {
            bootstrap.add_x509_authority(c);
        }
        let trust = TrustStore::new(BundleSet::from_iter([bootstrap]));
        let mut c = client::connect(server.agent_addr, td, Identity::new(), trust)?;
        let (svid, bundle) = client::attest_join_token(&mut c, &token).await?;
        let identity = Identity::new();
        svid.install(&identity)?;
        Ok(BenchAgent {
            addr: server.agent_addr,
            td: td.clone(),
            identity,
            trust: TrustStore::new(BundleSet::from_iter([bundle])),
            spiffe_id: svid.spiffe_id.to_string(),
        })
    }

    /// A new mTLS connection as this agent.
    pub(crate) fn connect(&self) -> Result<AgentServiceClient<Channel>> {
        Ok(client::connect(
            self.addr,
            &self.td,
            self.identity.clone(),
            self.trust.clone(),
        )?)
    }

    /// Creates `n` entries parented to this agent (`spiffe://example.org/bench/<name>/<i>`);
    /// their IDs.
    pub(crate) async fn entries(
        &self,
        admin: &mut Admin,
        name: &str,
        n: usize,
    ) -> Result<Vec<String>> {
        let entries = (0..n)
            .map(|i| {
                uid_entry(
                    format!("spiffe://example.org/bench/{name}/{i}"),
                    &self.spiffe_id,
                    0,
                )
            })
            .collect();
        admin.create_all(entries).await
    }
}

/// A batch of `size` items for `entry_ids[..size]`, with CSRs from `pool` starting at `offset`.
pub(crate) fn batch(
    entry_ids: &[String],
    pool: &[Vec<u8>],
    size: usize,
    offset: usize,
) -> pb::BatchSignX509SvidsRequest {
    pb::BatchSignX509SvidsRequest {
        items: (0..size)
            .map(|i| pb::SignX509SvidItem {
                entry_id: entry_ids[i].clone(),
                csr: pool[(offset + i) % pool.len()].clone(),
            })
            .collect(),
    }
}

/// `n` CSRs for fresh EC P-256 keys.
pub(crate) async fn csr_pool(n: usize) -> Result<Vec<Vec<u8>>> {
    tokio::task::spawn_blocking(move || -> Result<Vec<Vec<u8>>> {
        (0..n)
            .map(|_| Ok(build_csr(&KeyPair::generate(KeyType::EcP256)?)?))
            .collect()
    })
    .await?
}

/// Sends `request` until every item is signed: the server's entry cache follows the change log,
/// so entries just created may not be signable yet.
pub(crate) async fn wait_signable(
    client: &mut AgentServiceClient<Channel>,
    request: pb::BatchSignX509SvidsRequest,
) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let resp = client
            .batch_sign_x509_svids(request.clone())
            .await?
            .into_inner();
        if resp
            .results
            .iter()
            .all(|r| matches!(r.result, Some(SignOutcome::Svid(_))))
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "the server never signed for the new entries: {:?}",
                resp.results.first()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sizes of one run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignConfig {
    /// Rounds; each measures the server, then the baseline.
    pub(crate) rounds: u32,
    /// How long each side is measured per round.
    pub(crate) round: Duration,
}

/// The trust domain the bench's servers run.
pub(crate) fn td() -> Result<TrustDomain> {
    Ok(TrustDomain::new("example.org")?)
}

/// Runs the scenario on a server of its own.
pub(crate) async fn run(bins: &Bins, cfg: SignConfig) -> Result<Vec<Metric>> {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let server = Server::start(bins).await?;
    let td = td()?;

    let agent = BenchAgent::attest(&server, &td).await?;
    let mut admin = Admin::connect(&server.socket).await?;
    // One entry per item: a batch names each entry once (the server refuses repeats).
    let entry_ids = agent.entries(&mut admin, "sign", BATCH).await?;

    let pool = Arc::new(csr_pool(POOL).await?);
    let batch = |offset: usize| batch(&entry_ids, &pool, BATCH, offset);

    let mut probe = agent.connect()?;
    wait_signable(&mut probe, batch(0)).await?;

    // CALLERS_PER_CORE * cores callers, each on its own connection, warmed up.
    let callers = CALLERS_PER_CORE * cores;
    let mut clients = Vec::new();
    for n in 0..callers {
        let mut cl = agent.connect()?;
        cl.batch_sign_x509_svids(batch(0)).await?;
        let requests: Vec<_> = (0..POOL / BATCH).map(|k| batch(k * BATCH + n)).collect();
        clients.push((cl, Arc::new(requests)));
    }
    let reference = Arc::new(Reference::new()?);

    // Rounds alternate between the server and the baseline, so load that others put on the
    // machine meanwhile falls on both.
    let mut server_total = Tally::default();
    let mut base_total = Tally::default();
    for _ in 0..cfg.rounds {
        server_total.add(server_round(&clients, server.pid(), cfg.round).await?);
        let (reference, pool) = (Arc::clone(&reference), Arc::clone(&pool));
        base_total.add(
            tokio::task::spawn_blocking(move || reference.round(&pool, callers, cfg.round))
                .await??,
        );
    }
    drop(server);
    if server_total.signed == 0 {
        bail!(
            "the server signed nothing ({} items refused)",
            server_total.refused
        );
    }
    let batches = Samples::new(&server_total.latencies);
    let mut m = vec![
        Metric::new(SCENARIO, "svids_per_sec", server_total.rate(), "SVID/s")
            .baseline(base_total.rate())
            .target(Target::RatioAtLeast(0.70)),
        // The same comparison per CPU-second spent signing: independent of the share of the
        // cores each side got from a busy machine.
        Metric::new(
            SCENARIO,
            "svids_per_cpu_second",
            1.0 / server_total.cpu_per_svid(),
            "SVID/cpu-s",
        )
        .baseline(1.0 / base_total.cpu_per_svid())
        .target(Target::RatioAtLeast(0.70)),
        Metric::new(
            SCENARIO,
            "bench_client_cpu_per_svid",
            server_total.client_cpu / server_total.signed as f64 * 1e6,
            "us",
        ),
        Metric::new(
            SCENARIO,
            "batch100_latency_p50",
            batches.percentile(50.0),
            "ms",
        ),
        Metric::new(
            SCENARIO,
            "batch100_latency_p99",
            batches.percentile(99.0),
            "ms",
        ),
    ];
    if server_total.refused > 0 {
        m.push(Metric::new(
            SCENARIO,
            "items_refused",
            server_total.refused as f64,
            "items",
        ));
    }
    Ok(m)
}

/// What one or more rounds of one side did.
#[derive(Debug, Default)]
struct Tally {
    signed: u64,
    refused: u64,
    /// Wall time.
    secs: f64,
    /// CPU time of the process that signed (the server, or this one for the baseline).
    cpu: f64,
    /// CPU time of this process while the server signed (the callers: TLS, protobuf).
    client_cpu: f64,
    /// Per batch, server side only.
    latencies: Vec<Duration>,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.signed += other.signed;
        self.refused += other.refused;
        self.secs += other.secs;
        self.cpu += other.cpu;
        self.client_cpu += other.client_cpu;
        self.latencies.extend(other.latencies);
    }

    fn rate(&self) -> f64 {
        self.signed as f64 / self.secs
    }

    fn cpu_per_svid(&self) -> f64 {
        self.cpu / (self.signed as f64).max(1.0)
    }
}

type Caller = (
    AgentServiceClient<Channel>,
    Arc<Vec<pb::BatchSignX509SvidsRequest>>,
);

/// Every caller sends batches back to back for `duration`; the round ends when the last batch
/// in flight has come back.
async fn server_round(callers: &[Caller], server_pid: u32, duration: Duration) -> Result<Tally> {
    let server_cpu0 = cpu_seconds(server_pid)?;
    let self_cpu0 = cpu_seconds(std::process::id())?;
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = callers
        .iter()
        .map(|(cl, requests)| {
            let (mut cl, requests) = (cl.clone(), Arc::clone(requests));
            tokio::spawn(async move {
                let mut t = Tally::default();
                let mut k = 0;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let resp = cl
                        .batch_sign_x509_svids(requests[k % requests.len()].clone())
                        .await?
                        .into_inner();
                    t.latencies.push(sent.elapsed());
                    k += 1;
                    for r in resp.results {
                        match r.result {
                            Some(SignOutcome::Svid(_)) => t.signed += 1,
                            _ => t.refused += 1,
                        }
                    }
                }
                anyhow::Ok(t)
            })
        })
        .collect();
    let mut total = Tally::default();
    for t in tasks {
        total.add(t.await??);
    }
    total.secs = start.elapsed().as_secs_f64();
    total.cpu = cpu_seconds(server_pid)? - server_cpu0;
    total.client_cpu = cpu_seconds(std::process::id())? - self_cpu0;
    Ok(total)
}

/// The baseline: an EC P-256 CA like the server's (same subject, same library), signing in
/// this process.
struct Reference {
    ca: SigningCa,
    id: SpiffeId,
}

impl Reference {
    fn new() -> Result<Reference> {
        let key = KeyPair::generate(KeyType::EcP256)?;
        let now = SystemTime::now();
        let td = td()?;
        let params = CaParams {
            trust_domain: td.clone(),
            subject: Subject {
                country: Some("US".to_owned()),
                organization: Some("SPIFFE".to_owned()),
                common_name: Some(format!("Lanyard CA {td}")),
            },
            not_before: now - Duration::from_secs(10),
            not_after: now + Duration::from_secs(86_400),
            path_len: None,
        };
        Ok(Reference {
            ca: SigningCa::new(self_signed_ca(&params, &key)?, key, vec![])?,
            id: SpiffeId::parse("spiffe://example.org/bench/sign")?,
        })
    }

    /// `threads` threads parse + verify a CSR from `pool` and issue an SVID for its key, until
    /// `duration` is over.
    fn round(&self, pool: &[Vec<u8>], threads: usize, duration: Duration) -> Result<Tally> {
        let done = AtomicU64::new(0);
        let stop = AtomicBool::new(false);
        let cpu0 = cpu_seconds(std::process::id())?;
        let start = Instant::now();
        std::thread::scope(|s| -> Result<()> {
            let workers = (0..threads)
                .map(|t| {
                    let (done, stop) = (&done, &stop);
                    // Named, so a profile of this process tells the baseline apart.
                    std::thread::Builder::new()
                        .name("sign-baseline".to_owned())
                        .spawn_scoped(s, move || -> Result<()> {
                            let mut i = t * 7919;
                            while !stop.load(Ordering::Relaxed) {
                                let spki = parse_csr(&pool[i % pool.len()])?;
                                let now = SystemTime::now();
                                self.ca.issue_x509_svid(
                                    &spki,
                                    &SvidParams {
                                        spiffe_id: self.id.clone(),
                                        dns_names: vec![],
                                        not_before: now,
                                        not_after: now + Duration::from_secs(3600),
                                        backdate: Duration::from_secs(10),
                                    },
                                )?;
                                done.fetch_add(1, Ordering::Relaxed);
                                i += 1;
                            }
                            Ok(())
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            std::thread::sleep(duration);
            stop.store(true, Ordering::Relaxed);
            for w in workers {
                w.join()
                    .map_err(|_| anyhow::anyhow!("a baseline thread panicked"))?
                    .context("baseline signing failed")?;
            }
            Ok(())
        })?;
        Ok(Tally {
            signed: done.load(Ordering::Relaxed),
            secs: start.elapsed().as_secs_f64(),
            cpu: cpu_seconds(std::process::id())? - cpu0,
            ..Tally::default()
        })
    }
}
