//! `[workload_api]`: what one caller, authenticated or not, may hold of the Workload API socket.
//!
//! Every connection is accepted before anything is known about its caller but its peer
//! credentials, so these bounds apply to everyone: per connection (the `:authority` rewrite
//! holds at most one frame and one header block, and a connection must finish its preface and
//! first header block within `handshake_timeout`), per uid (`max_connections_per_uid` of the
//! `max_connections` slots) and per request (`attestation_timeout`). A connection with no open
//! call is closed after `idle_timeout`.

use std::time::Duration;

use serde::Deserialize;

/// The Workload API's limits (`[workload_api]` in agent.toml). Every key is documented in
/// `deploy/conf/agent.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkloadApiLimits {
    /// Open connections at once, all uids together; further ones are closed at accept.
    pub max_connections: usize,
    /// Open connections at once of one uid; further ones of that uid are closed at accept.
    pub max_connections_per_uid: usize,
    /// A connection with no open call for this long is closed.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// A connection must send the HTTP/2 preface and its first complete header block within
    /// this long of being accepted.
    #[serde(with = "humantime_serde")]
    pub handshake_timeout: Duration,
    /// Attesting one caller may take this long; then the call fails with `Unavailable`.
    #[serde(with = "humantime_serde")]
    pub attestation_timeout: Duration,
}

impl Default for WorkloadApiLimits {
    fn default() -> Self {
        Self {
            max_connections: 4096,
            max_connections_per_uid: 1024,
            idle_timeout: Duration::from_secs(120),
            handshake_timeout: Duration::from_secs(10),
            attestation_timeout: Duration::from_secs(5),
        }
    }
}

impl WorkloadApiLimits {
    /// Checks the values against each other: `Err((key, problem))`.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.max_connections == 0 {
            return Err(("workload_api.max_connections", "must be at least 1".into()));
        }
        if !(1..=self.max_connections).contains(&self.max_connections_per_uid) {
            return Err((
                "workload_api.max_connections_per_uid",
                format!(
                    "must be 1 to max_connections ({}); keep it well below so one uid cannot take every slot",
                    self.max_connections
                ),
            ));
        }
        for (key, value) in [
            ("workload_api.idle_timeout", self.idle_timeout),
            ("workload_api.handshake_timeout", self.handshake_timeout),
            ("workload_api.attestation_timeout", self.attestation_timeout),
        ] {
            if value.is_zero() {
                return Err((key, "must be more than 0s".into()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::AgentConfig;

    const BASE: &str = "trust_domain = \"example.org\"\nserver_address = \"127.0.0.1:8081\"\ninsecure_bootstrap = true\n";

    fn refusal(table: &str) -> String {
        AgentConfig::from_toml(&format!("{BASE}[workload_api]\n{table}\n"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn defaults_hold_and_each_key_is_read() {
        let config = AgentConfig::from_toml(BASE).unwrap();
        assert_eq!(config.workload_api, super::WorkloadApiLimits::default());
        let config = AgentConfig::from_toml(&format!(
            "{BASE}[workload_api]\nmax_connections = 10\nmax_connections_per_uid = 2\nidle_timeout = \"3s\"\nhandshake_timeout = \"4s\"\nattestation_timeout = \"5s\"\n"
        ))
        .unwrap();
        let limits = config.workload_api;
        assert_eq!(
            (limits.max_connections, limits.max_connections_per_uid),
            (10, 2)
        );
        assert_eq!(limits.idle_timeout.as_secs(), 3);
        assert_eq!(limits.handshake_timeout.as_secs(), 4);
    }

    #[test]
    fn inconsistent_limits_are_refused_by_name() {
        let text = refusal("max_connections = 10\nmax_connections_per_uid = 11");
        assert!(
            text.contains(
                "`workload_api.max_connections_per_uid` must be 1 to max_connections (10)"
            ),
            "{text}"
        );
        let text = refusal("max_connections = 0");
        assert!(
            text.contains("`workload_api.max_connections` must be at least 1"),
            "{text}"
        );
        let text = refusal("idle_timeout = \"0s\"");
        assert!(
            text.contains("`workload_api.idle_timeout` must be more than 0s"),
            "{text}"
        );
        let text = AgentConfig::from_toml(&format!(
            "{BASE}[workload_api]\nattestation_timeout = \"2s\"\n[workload_attestors.k8s]\nnode_name = \"n1\"\nmax_poll_attempts = 11\npoll_retry_interval = \"250ms\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            text.contains(
                "`workload_api.attestation_timeout` is 2s, but the k8s attestor may wait 2s 500ms"
            ),
            "{text}"
        );
        let text = refusal("idle_timeut = \"1s\"");
        assert!(text.contains("unknown field `idle_timeut`"), "{text}");
    }
}
