//! The selector types this trust domain's attestors produce, and what their values look like,
//! so that an entry can only be registered with selectors some attestor could ever match.
//!
//! - Workload selectors come from the agent's attestors: `unix` (`agent/src/workload/attestor/
//!   unix.rs`) and `k8s` (`.../attestor/k8s/pods.rs`).
//! - Node selectors come from the server's node attestors: `k8s_psat` (`attest/k8s_psat.rs`),
//!   `x509pop` (`attest/x509pop.rs`);
//!   join tokens give none. They appear on node-alias entries (parent: the server's ID).
//! - Any other type (a SPIRE plugin's, a future attestor's) is refused unless the operator lists
//!   it in `[entries] extra_selector_types`; its values are then taken as they are.
//!
//! A value is refused when no attestor could produce it (`unix:uid:abc`, `k8s:ns:Bad_Name`), so
//! the mistake shows at `entry create` instead of as a workload that silently gets nothing.

use lanyard_datastore::Selector;

/// The workload selector types built in.
pub const WORKLOAD_TYPES: [&str; 2] = ["unix", "k8s"];
/// The node selector types built in.
pub const NODE_TYPES: [&str; 2] = [
    crate::attest::k8s_psat::SELECTOR_TYPE,
    crate::attest::x509pop::SELECTOR_TYPE,
];

/// The `unix` selectors: `<kind>:<value>`.
const UNIX: &[(&str, Value)] = &[
    ("uid", Value::Id),
    ("gid", Value::Id),
    ("supplementary_gid", Value::Id),
    ("user", Value::Name),
    ("group", Value::Name),
    ("supplementary_group", Value::Name),
    ("path", Value::AbsolutePath),
    ("sha256", Value::Sha256),
];

/// The `k8s` selectors (SPIRE's `k8s` workload attestor's set).
const K8S: &[(&str, Value)] = &[
    ("ns", Value::DnsLabel),
    ("sa", Value::DnsSubdomain),
    ("node-name", Value::DnsSubdomain),
    ("pod-uid", Value::Token),
    ("pod-name", Value::DnsSubdomain),
    ("pod-label", Value::Pair),
    ("pod-owner", Value::Pair),
    ("pod-owner-uid", Value::Pair),
    ("pod-image-count", Value::Count),
    ("pod-init-image-count", Value::Count),
    ("pod-image", Value::Token),
    ("pod-init-image", Value::Token),
    ("container-name", Value::DnsLabel),
    ("container-image", Value::Token),
];

/// The `k8s_psat` node selectors.
const K8S_PSAT: &[(&str, Value)] = &[
    ("cluster", Value::Token),
    ("agent_ns", Value::DnsLabel),
    ("agent_sa", Value::DnsSubdomain),
    ("agent_pod_name", Value::DnsSubdomain),
    ("agent_pod_uid", Value::Token),
    ("agent_node_name", Value::DnsSubdomain),
    ("agent_node_uid", Value::Token),
    ("agent_node_label", Value::Pair),
    ("agent_pod_label", Value::Pair),
];

/// The `x509pop` node selectors (`attest/x509pop.rs`).
const X509POP: &[(&str, Value)] = &[
    ("subject", Value::Sub(&[("cn", Value::Text)])),
    ("ca", Value::Sub(&[("fingerprint", Value::Sha1)])),
    ("serialnumber", Value::Hex),
    (
        "san",
        Value::Sub(&[("dns", Value::Token), ("uri", Value::Token)]),
    ),
];

/// What a selector's value (after its `<kind>:`) must look like.
#[derive(Debug, Clone, Copy)]
enum Value {
    /// A decimal uid or gid.
    Id,
    /// A user or group name: no whitespace and no `:` (`/etc/passwd`'s separator).
    Name,
    /// An absolute path, as `/proc/<pid>/exe` reads.
    AbsolutePath,
    /// 64 lowercase hex digits.
    Sha256,
    /// A Kubernetes DNS label (RFC 1123): namespaces, container names.
    DnsLabel,
    /// A Kubernetes DNS subdomain (RFC 1123): most object names.
    DnsSubdomain,
    /// `<key>:<value>`, the key non-empty (labels, owner kind and name).
    Pair,
    /// A decimal count.
    Count,
    /// Anything without whitespace (uids, image references, cluster names).
    Token,
    /// Anything without control characters (a certificate's common name may hold spaces).
    Text,
    /// Lowercase hex digits (a serial number).
    Hex,
    /// 40 lowercase hex digits (a SHA-1 fingerprint).
    Sha1,
    /// `<sub-kind>:<value>`, each sub-kind with its own rule.
    Sub(&'static [(&'static str, Value)]),
}

impl Value {
    fn check(self, v: &str) -> Result<(), &'static str> {
        let ok = match self {
            Value::Id => v.parse::<u32>().is_ok() && !v.starts_with('+'),
            Value::Name => token(v) && !v.contains(':'),
            Value::AbsolutePath => v.starts_with('/') && !v.contains('\0'),
            Value::Sha256 => {
                v.len() == 64 && v.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            }
            Value::DnsLabel => dns_label(v),
            Value::DnsSubdomain => v.len() <= 253 && v.split('.').all(dns_label),
            Value::Pair => v
                .split_once(':')
                .is_some_and(|(k, rest)| token(k) && !rest.chars().any(char::is_whitespace)),
            Value::Count => v.parse::<u32>().is_ok() && !v.starts_with('+'),
            Value::Token => token(v),
            Value::Text => !v.is_empty() && !v.chars().any(char::is_control),
            Value::Hex => hex(v),
            Value::Sha1 => v.len() == 40 && hex(v),
            Value::Sub(kinds) => {
                return match v.split_once(':') {
                    Some((k, rest)) => match kinds.iter().find(|(name, _)| *name == k) {
                        Some((_, rule)) => rule.check(rest),
                        None => Err(self.expected()),
                    },
                    None => Err(self.expected()),
                };
            }
        };
        if ok { Ok(()) } else { Err(self.expected()) }
    }

    fn expected(self) -> &'static str {
        match self {
            Value::Id => "a decimal id, e.g. 1000",
            Value::Name => "a name without spaces or ':', e.g. www-data",
            Value::AbsolutePath => "an absolute path, e.g. /usr/bin/server",
            Value::Sha256 => "64 lowercase hex digits (sha256sum's output)",
            Value::DnsLabel => {
                "a Kubernetes name: at most 63 lowercase letters, digits and '-', e.g. payments"
            }
            Value::DnsSubdomain => {
                "a Kubernetes name: lowercase letters, digits, '-' and '.', e.g. api-server"
            }
            Value::Pair => "key:value, e.g. app:web",
            Value::Count => "a decimal count, e.g. 2",
            Value::Token => "a value without spaces",
            Value::Text => "a value without control characters",
            Value::Hex => "lowercase hex digits, e.g. 1a2b",
            Value::Sha1 => "40 lowercase hex digits (a SHA-1 fingerprint)",
            Value::Sub(kinds) => match kinds {
                [("cn", _)] => "cn:<common name>, e.g. cn:node-1.example.org",
                [("fingerprint", _)] => "fingerprint:<40 lowercase hex digits>",
                _ => "dns:<name> or uri:<uri>, e.g. dns:node-1.example.org",
            },
        }
    }
}

fn token(v: &str) -> bool {
    !v.is_empty() && !v.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn hex(v: &str) -> bool {
    !v.is_empty() && v.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn dns_label(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 63
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !v.starts_with('-')
        && !v.ends_with('-')
}

/// Whether an entry selects nodes (its parent is the server) or workloads (its parent is an
/// agent or a node alias).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selects {
    /// A node alias: its selectors are node selectors.
    Nodes,
    /// A workload entry.
    Workloads,
}

/// Checks `s` for an entry that [`Selects`] `selects`; `extra_types` are the operator's
/// `[entries] extra_selector_types`. `Err` says what is wrong and what to write instead.
pub fn check(s: &Selector, selects: Selects, extra_types: &[String]) -> Result<(), String> {
    if extra_types.contains(&s.kind) {
        return Ok(());
    }
    let known: &[(&str, Value)] = match (s.kind.as_str(), selects) {
        ("unix", Selects::Workloads) => UNIX,
        ("k8s", Selects::Workloads) => K8S,
        ("k8s_psat", Selects::Nodes) => K8S_PSAT,
        ("x509pop", Selects::Nodes) => X509POP,
        (kind, Selects::Nodes) if WORKLOAD_TYPES.contains(&kind) => {
            return Err(format!(
                "{kind} selectors describe workloads, but this entry's parent is the server, so it selects nodes: use node selectors ({}) or give a workload entry an agent's ID as parent",
                NODE_TYPES.join(", ")
            ));
        }
        (kind, Selects::Workloads) if NODE_TYPES.contains(&kind) => {
            return Err(format!(
                "{kind} selectors describe nodes, which only an entry whose parent is the server's ID selects: use workload selectors ({}) here",
                WORKLOAD_TYPES.join(", ")
            ));
        }
        (kind, _) => {
            return Err(format!(
                "unknown selector type {kind:?}: this server's attestors produce {} (workloads) and {} (nodes); to register another attestor's selectors, list its type in [entries] extra_selector_types",
                WORKLOAD_TYPES.join(", "),
                NODE_TYPES.join(", ")
            ));
        }
    };
    let kinds = || known.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ");
    let Some((kind, value)) = s.value.split_once(':') else {
        return Err(format!(
            "{}:{} has no value: write {}:<kind>:<value> with kind one of {}",
            s.kind,
            s.value,
            s.kind,
            kinds()
        ));
    };
    let Some((_, rule)) = known.iter().find(|(k, _)| *k == kind) else {
        return Err(format!(
            "unknown {} selector {kind:?}: known are {}",
            s.kind,
            kinds()
        ));
    };
    rule.check(value)
        .map_err(|expected| format!("{}:{kind} takes {expected}", s.kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(s: &str) -> Selector {
        Selector::parse(s).unwrap()
    }

    fn workload(s: &str) -> Result<(), String> {
        check(&sel(s), Selects::Workloads, &[])
    }

    #[test]
    fn what_the_attestors_produce_is_accepted() {
        for s in [
            "unix:uid:0",
            "unix:uid:4294967295",
            "unix:gid:1000",
            "unix:supplementary_gid:27",
            "unix:user:www-data",
            "unix:group:systemd-journal",
            "unix:supplementary_group:sudo",
            "unix:path:/usr/bin/sleep",
            "unix:path:/opt/my app/bin",
            "unix:sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "k8s:ns:payments",
            "k8s:sa:api-server",
            "k8s:node-name:node-1.example.internal",
            "k8s:pod-uid:0f1e2d3c-aaaa-bbbb-cccc-000000000001",
            "k8s:pod-name:web-7c9f8-abcde",
            "k8s:pod-label:app:web",
            "k8s:pod-label:app.kubernetes.io/name:web",
            "k8s:pod-label:tier:",
            "k8s:pod-owner:ReplicaSet:web-7c9f8",
            "k8s:pod-owner-uid:ReplicaSet:0f1e2d3c",
            "k8s:pod-image-count:2",
            "k8s:pod-init-image-count:0",
            "k8s:pod-image:docker.io/library/nginx:1.27",
            "k8s:pod-init-image:busybox@sha256:abcd",
            "k8s:container-name:app",
            "k8s:container-image:ghcr.io/x/y:v1",
        ] {
            assert_eq!(workload(s), Ok(()), "{s}");
        }
        for s in [
            "k8s_psat:cluster:prod",
            "k8s_psat:agent_ns:lanyard",
            "k8s_psat:agent_sa:lanyard-agent",
            "k8s_psat:agent_node_label:topology.kubernetes.io/zone:eu-1a",
            "x509pop:subject:cn:node-1.example.org",
            "x509pop:subject:cn:Rack 4 Node 1",
            "x509pop:ca:fingerprint:0beec7b5ea3f0fdbc95d0dd47f3c5bc275da8a33",
            "x509pop:serialnumber:1a2b3c",
            "x509pop:san:dns:node-1.example.org",
            "x509pop:san:uri:urn:example:node:1",
        ] {
            assert_eq!(check(&sel(s), Selects::Nodes, &[]), Ok(()), "{s}");
        }
    }

    #[test]
    fn x509pop_values_no_certificate_gives_are_refused() {
        for (s, words) in [
            ("x509pop:ca:fingerprint:0BEEC7", "40 lowercase hex digits"),
            (
                "x509pop:ca:sha256:00",
                "fingerprint:<40 lowercase hex digits>",
            ),
            ("x509pop:subject:o:Example", "cn:<common name>"),
            ("x509pop:serialnumber:0x1A", "lowercase hex digits"),
            ("x509pop:san:ip:10.0.0.1", "dns:<name> or uri:<uri>"),
        ] {
            let err = check(&sel(s), Selects::Nodes, &[]).unwrap_err();
            assert!(err.contains(words), "{s}: {err}");
        }
        let err = workload("x509pop:serialnumber:1a").unwrap_err();
        assert!(err.contains("describe nodes"), "{err}");
    }

    #[test]
    fn values_no_attestor_produces_are_refused_with_what_to_write() {
        for (s, words) in [
            ("unix:uid:abc", "unix:uid takes a decimal id"),
            ("unix:uid:-1", "decimal id"),
            ("unix:uid:+5", "decimal id"),
            ("unix:uid:99999999999", "decimal id"),
            (
                "unix:bogus:1",
                "unknown unix selector \"bogus\": known are uid, gid",
            ),
            ("unix:uid", "has no value: write unix:<kind>:<value>"),
            ("unix:user:two words", "without spaces"),
            ("unix:path:usr/bin/x", "an absolute path"),
            ("unix:sha256:ABCDEF", "64 lowercase hex"),
            ("k8s:ns:Payments", "a Kubernetes name"),
            ("k8s:ns:-x", "a Kubernetes name"),
            ("k8s:pod-label:app", "key:value"),
            ("k8s:pod-image-count:two", "decimal count"),
            ("bogus:foo", "unknown selector type \"bogus\""),
            ("k8s_psat:cluster:prod", "describe nodes"),
        ] {
            let err = workload(s).unwrap_err();
            assert!(err.contains(words), "{s}: {err}");
        }
        let err = check(&sel("unix:uid:1000"), Selects::Nodes, &[]).unwrap_err();
        assert!(err.contains("this entry's parent is the server"), "{err}");
    }

    #[test]
    fn an_extra_type_is_taken_as_it_is() {
        let extra = ["docker".to_owned()];
        assert_eq!(
            check(&sel("docker:label:a:b"), Selects::Workloads, &extra),
            Ok(())
        );
        assert_eq!(check(&sel("docker:x"), Selects::Nodes, &extra), Ok(()));
        assert!(check(&sel("bogus:x"), Selects::Workloads, &extra).is_err());
    }
}
