//! The node the `fetch_latency`, `propagation`, `federated_bundle`, `conn_rate`, `taint_resign`
//! and `agent_rss` scenarios share: a real `lanyard-server`, a real `lanyard-agent` attested
//! with a join token, `entries` registration entries under that agent, and `streams` open
//! `FetchX509SVID` streams (one connection each) from this process.
//!
//! One entry selects this process's uid (`unix:uid:<euid>`), so every stream of ours gets that
//! SVID. The others select uids no process has (`unix:uid:100000+i`): the agent signs, holds and
//! rotates an SVID for each, as it would for the workloads of a busy node, but our streams do not
//! carry them. The entries exist before the agent starts, so its first publish (after signing all
//! of them in one pass) is what the first stream sees.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use lanyard_proto::workload::X509svidResponse;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;

use crate::admin::{Admin, uid_entry};
use crate::procs::{Agent, Bins, Server, status_mib};
use crate::workload::{self, first_response_new_conn, ids};

/// The SPIFFE ID of the entry that selects this process.
pub(crate) const WORKLOAD_ID: &str = "spiffe://example.org/bench/workload";
/// Streams opened at once while setting up.
const OPEN_AT_ONCE: usize = 50;

/// A message one of the open streams received.
#[derive(Debug)]
pub(crate) struct Event {
    /// Which stream (0-based).
    pub(crate) stream: usize,
    /// When it was read.
    pub(crate) at: Instant,
    /// The SPIFFE IDs it carries; `None` when the stream ended or failed.
    pub(crate) ids: Option<Vec<String>>,
    /// Its `federated_bundles` (trust domain ID → DER authorities), moved out of the message;
    /// empty when the stream ended or failed.
    pub(crate) federated: HashMap<String, Vec<u8>>,
}

/// The shared node.
pub(crate) struct Node {
    /// The server (its admin socket takes the entry and authority changes).
    pub(crate) server: Server,
    /// The agent under test.
    pub(crate) agent: Agent,
    /// The agent's SPIFFE ID, the parent of every entry.
    pub(crate) agent_id: String,
    /// This process's effective uid.
    pub(crate) uid: u32,
    /// Registration entries under the agent.
    pub(crate) entries: usize,
    /// Open streams.
    pub(crate) streams: usize,
    /// Every message the open streams receive.
    pub(crate) events: mpsc::UnboundedReceiver<Event>,
    /// A response the agent served, for the echo baseline to send back.
    pub(crate) sample_response: X509svidResponse,
    /// From spawning the agent to its first SVID on a stream (all entries signed).
    pub(crate) startup: Duration,
    /// The agent's `VmRSS` (MiB) with every entry signed, before the streams were opened.
    pub(crate) rss_before_streams: f64,
    admin: Admin,
    holders: Vec<JoinHandle<()>>,
    ended: Arc<AtomicUsize>,
}

/// The effective uid, as the agent's unix attestor reads it (`/proc/<pid>/status`, `Uid:`'s
/// second field).
fn effective_uid() -> Result<u32> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|r| r.split_whitespace().nth(1))
        .ok_or_else(|| anyhow!("no Uid: line in /proc/self/status"))?
        .parse()
        .map_err(Into::into)
}

impl Node {
    /// Sets the node up; see the module docs. The streams share connections,
    /// `per_connection` on each (1: a connection per stream, as separate workloads have).
    pub(crate) async fn start(
        bins: &Bins,
        entries: usize,
        streams: usize,
        per_connection: usize,
    ) -> Result<Node> {
        let uid = effective_uid()?;
        let server = Server::start(bins).await?;
        let (token, agent_id) = server.join_token().await?;
        // The entry for us through the CLI, as an operator registers a workload.
        let selector = format!("unix:uid:{uid}");
        server
            .cli(&[
                "entry",
                "create",
                "--spiffe-id",
                WORKLOAD_ID,
                "--parent-id",
                &agent_id,
                "--selector",
                &selector,
            ])
            .await?;
        let mut admin = Admin::connect(&server.socket).await?;
        let fillers = (1..entries)
            .map(|i| {
                uid_entry(
                    format!("spiffe://example.org/bench/filler/{i}"),
                    &agent_id,
                    100_000 + u32::try_from(i).unwrap_or(u32::MAX - 100_000),
                )
            })
            .collect();
        admin.create_all(fillers).await?;

        let spawned = Instant::now();
        let agent = Agent::start(bins, &server, &token).await?;
        let deadline = spawned + Duration::from_secs(120);
        let sample_response = loop {
            match first_response_new_conn(&agent.socket).await {
                Ok((_, resp)) if ids(&resp).any(|id| id == WORKLOAD_ID) => break resp,
                // Not synced yet (Unavailable) or not signed yet (PermissionDenied).
                _ if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                other => bail!(
                    "the agent served no SVID for {WORKLOAD_ID} within 120 s ({:?}); agent log:\n{}",
                    other.map(|(_, r)| ids(&r).map(str::to_owned).collect::<Vec<_>>()),
                    agent.log_tail()
                ),
            }
        };
        let startup = spawned.elapsed();
        let rss_before_streams = status_mib(agent.pid(), "VmRSS")?;

        let (tx, events) = mpsc::unbounded_channel();
        let ended = Arc::new(AtomicUsize::new(0));
        let opening = Arc::new(Semaphore::new(OPEN_AT_ONCE));
        let mut conns = Vec::new();
        for _ in 0..streams.div_ceil(per_connection) {
            conns.push(workload::connect(&agent.socket).await?);
        }
        let holders = (0..streams)
            .map(|stream| {
                let (tx, ended, opening) = (tx.clone(), Arc::clone(&ended), Arc::clone(&opening));
                let mut client = conns[stream / per_connection].clone();
                tokio::spawn(async move {
                    let permit = opening.acquire_owned().await;
                    let opened = async {
                        let stream = workload::fetch(&mut client).await?;
                        anyhow::Ok((client, stream))
                    };
                    let (_client, mut s) = match opened.await {
                        Ok(x) => x,
                        Err(e) => {
                            eprintln!("stream {stream}: {e:#}");
                            ended.fetch_add(1, Ordering::Relaxed);
                            let _ = tx.send(Event {
                                stream,
                                at: Instant::now(),
                                ids: None,
                                federated: HashMap::new(),
                            });
                            return;
                        }
                    };
                    let mut permit = Some(permit);
                    loop {
                        let msg = s.message().await;
                        let at = Instant::now();
                        permit.take();
                        let (ids, federated) = match msg {
                            Ok(Some(resp)) => (
                                Some(ids(&resp).map(str::to_owned).collect()),
                                resp.federated_bundles,
                            ),
                            _ => (None, HashMap::new()),
                        };
                        let last = ids.is_none();
                        if last {
                            ended.fetch_add(1, Ordering::Relaxed);
                        }
                        let ev = Event {
                            stream,
                            at,
                            ids,
                            federated,
                        };
                        if tx.send(ev).is_err() || last {
                            return;
                        }
                    }
                })
            })
            .collect();
        let mut node = Node {
            server,
            agent,
            agent_id,
            uid,
            entries,
            streams,
            events,
            sample_response,
            startup,
            rss_before_streams,
            admin,
            holders,
            ended,
        };
        // Every stream's first message.
        let mut first = vec![false; streams];
        let mut open = 0;
        let deadline = Instant::now() + Duration::from_secs(120);
        while open < streams {
            let left = deadline.saturating_duration_since(Instant::now());
            let ev = tokio::time::timeout(left, node.events.recv())
                .await
                .map_err(|_| anyhow!("only {open} of {streams} streams answered within 120 s"))?
                .ok_or_else(|| anyhow!("event channel closed"))?;
            match ev.ids {
                Some(_) if !first[ev.stream] => {
                    first[ev.stream] = true;
                    open += 1;
                }
                Some(_) => {}
                None => bail!(
                    "stream {} failed while opening {streams}; agent log:\n{}",
                    ev.stream,
                    node.agent.log_tail()
                ),
            }
        }
        Ok(node)
    }

    /// How many of the streams have ended or failed so far.
    pub(crate) fn ended(&self) -> usize {
        self.ended.load(Ordering::Relaxed)
    }

    /// The admin API.
    pub(crate) fn admin(&mut self) -> &mut Admin {
        &mut self.admin
    }

    /// The agent's log file (its stderr): `agent.log` next to the `public/` directory of its
    /// socket, the layout `procs::Agent::start` writes; `None` if it is not there.
    pub(crate) fn agent_log(&self) -> Option<PathBuf> {
        let log = self.agent.socket.parent()?.parent()?.join("agent.log");
        log.is_file().then_some(log)
    }

    /// The agent's log's length in bytes now, if it is there.
    pub(crate) fn agent_log_len(&self) -> Option<u64> {
        Some(std::fs::metadata(self.agent_log()?).ok()?.len())
    }

    /// The agent's log from byte `from` to byte `to` (or its end), without ANSI colours.
    pub(crate) fn agent_log_between(&self, from: u64, to: u64) -> Result<String> {
        let log = self
            .agent_log()
            .ok_or_else(|| anyhow!("the agent's log file is not where it was expected"))?;
        let bytes = std::fs::read(log)?;
        let end = usize::try_from(to).unwrap_or(usize::MAX).min(bytes.len());
        let start = usize::try_from(from)?.min(end);
        Ok(strip_ansi(&String::from_utf8_lossy(&bytes[start..end])))
    }
}

/// `text` without ANSI escape sequences (`ESC [ ... letter`): the agent's text log is coloured.
pub(crate) fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl Drop for Node {
    fn drop(&mut self) {
        for h in &self.holders {
            h.abort();
        }
    }
}
