//! Which server the agent talks to, of the ones `server_address` names, and failing over.
//!
//! Every name is resolved when the agent starts and again at every failover (never cached for
//! the agent's lifetime: servers come and go behind a name). The candidates are the resolved
//! addresses in the configured order, each name's addresses in the resolver's order, none
//! twice. The agent stays with one server while it works; when connecting, the TLS handshake or
//! the Sync stream fails, it moves to the candidate after it (wrapping around), so that a dead
//! server costs one backoff step, not a wait for it to come back. Trust does not depend on the
//! address: every server is verified by its SVID.
//!
//! A resolution that finds nothing (a DNS outage) keeps the candidates known from the last one
//! that did: a server known to have existed is a better bet than none.

use std::net::SocketAddr;
use std::time::Duration;

use crate::config::{ServerAddress, ServerAddresses};

/// How long one name may take to resolve: past it the name counts as unresolved this round.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(10);

/// The servers the agent may talk to and the one it talks to.
#[derive(Debug)]
pub(crate) struct Servers {
    configured: ServerAddresses,
    /// The last non-empty resolution, in order.
    known: Vec<SocketAddr>,
    /// The server in use: an element of `known`.
    current: SocketAddr,
}

impl Servers {
    /// Resolves every configured address; the first candidate is the server in use. `Err`
    /// says why nothing resolved.
    pub(crate) async fn resolve(configured: &ServerAddresses) -> Result<Servers, String> {
        let (known, failures) = resolve_all(configured).await;
        match known.first() {
            Some(first) => Ok(Servers {
                configured: configured.clone(),
                current: *first,
                known,
            }),
            None => Err(format!(
                "server_address resolves to no address: {}",
                failures.join("; ")
            )),
        }
    }

    /// The server in use.
    pub(crate) fn current(&self) -> SocketAddr {
        self.current
    }

    /// How many servers the last resolution found.
    pub(crate) fn count(&self) -> usize {
        self.known.len()
    }

    /// The server in use failed: resolves every name again and moves to the candidate after it
    /// (the first, if it is no longer one). With a single candidate that is the same server.
    /// Returns the server to use from now on.
    pub(crate) async fn fail_over(&mut self) -> SocketAddr {
        let (resolved, failures) = resolve_all(&self.configured).await;
        if !failures.is_empty() {
            tracing::warn!(
                failures = %failures.join("; "),
                "some server addresses did not resolve; trying the others"
            );
        }
        if !resolved.is_empty() {
            self.known = resolved;
        }
        let from = self.current;
        self.current = self.known[after(&self.known, from)];
        if self.current != from {
            tracing::info!(%from, to = %self.current, "trying the next server");
        }
        self.current
    }
}

/// The index of the candidate after `current` in `known` (non-empty), wrapping around; 0 when
/// `current` is not in it.
fn after(known: &[SocketAddr], current: SocketAddr) -> usize {
    known
        .iter()
        .position(|a| *a == current)
        .map_or(0, |i| (i + 1) % known.len())
}

/// Every configured address resolved, in order, none twice; and what failed to resolve.
async fn resolve_all(configured: &ServerAddresses) -> (Vec<SocketAddr>, Vec<String>) {
    let mut all: Vec<SocketAddr> = Vec::new();
    let mut failures = Vec::new();
    for address in configured.iter() {
        match resolve_one(address).await {
            Ok(found) if found.is_empty() => failures.push(format!("{address}: no address")),
            Ok(found) => {
                for a in found {
                    if !all.contains(&a) {
                        all.push(a);
                    }
                }
            }
            Err(e) => failures.push(format!("{address}: {e}")),
        }
    }
    (all, failures)
}

async fn resolve_one(address: &ServerAddress) -> Result<Vec<SocketAddr>, String> {
    let lookup = tokio::net::lookup_host((address.host(), address.port()));
    match tokio::time::timeout(RESOLVE_TIMEOUT, lookup).await {
        Ok(Ok(found)) => Ok(found.collect()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!(
            "no answer within {}",
            humantime::format_duration(RESOLVE_TIMEOUT)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn the_next_candidate_follows_the_current_one_and_wraps_around() {
        let known = addrs(&["10.0.0.1:8081", "10.0.0.2:8081", "[::1]:8081"]);
        assert_eq!(after(&known, known[0]), 1);
        assert_eq!(after(&known, known[1]), 2);
        assert_eq!(after(&known, known[2]), 0);
        // Gone from the names' answers: start over at the first.
        assert_eq!(after(&known, "10.0.0.9:8081".parse().unwrap()), 0);
        assert_eq!(after(&known[..1], known[0]), 0);
    }

    #[tokio::test]
    async fn names_and_addresses_resolve_in_order_once_each() {
        // `localhost` resolves to 127.0.0.1 (and maybe ::1) on any host, without a network.
        let configured =
            ServerAddresses::parse(&["127.0.0.1:1", "localhost:2", "[::1]:3"]).unwrap();
        let mut servers = Servers::resolve(&configured).await.unwrap();
        assert_eq!(servers.current(), "127.0.0.1:1".parse().unwrap());
        assert!(servers.known.contains(&"127.0.0.1:2".parse().unwrap()));
        assert_eq!(servers.known.last(), Some(&"[::1]:3".parse().unwrap()));
        // Round the list and back to the first.
        let mut seen = vec![servers.current()];
        for _ in 1..servers.known.len() {
            seen.push(servers.fail_over().await);
        }
        assert_eq!(seen, servers.known);
        assert_eq!(servers.fail_over().await, "127.0.0.1:1".parse().unwrap());
    }

    #[tokio::test]
    async fn nothing_resolving_is_an_error_naming_each_address() {
        let configured = ServerAddresses::parse(&["nonexistent.invalid:8081"]).unwrap();
        let e = Servers::resolve(&configured).await.unwrap_err();
        assert!(
            e.contains("server_address resolves to no address: nonexistent.invalid:8081:"),
            "{e}"
        );
    }
}
