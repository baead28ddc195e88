//! Conversions between the datastore model and protobuf messages, and the validation of entries
//! that arrive over the admin API. Every error names the field and the rule.

use lanyard_datastore::{Entry, Selector};
use lanyard_id::{SpiffeId, TrustDomain};
use lanyard_proto::lanyard::types::v1 as pb;
use lanyard_x509::Bundle;

use crate::selectors::{self, Selects};
use crate::taint::Taint;

/// Maximum hint length (Workload API: "hints ... at most 1024 bytes").
pub const MAX_HINT_LEN: usize = 1024;
/// Longest entry `description`, in bytes.
pub const MAX_DESCRIPTION_LEN: usize = 1024;
/// Longest entry `owner`, in bytes.
pub const MAX_OWNER_LEN: usize = 256;
/// The latest `expires_at`: 9999-12-31T23:59:59Z, the last second RFC 3339 (and the CLI) can
/// write.
pub const MAX_EXPIRES_AT: i64 = 253_402_300_799;

/// Why an entry from the API is invalid; `Display` names the field and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid entry: `{field}` {problem}")]
pub struct InvalidEntry {
    /// The offending field.
    pub field: &'static str,
    /// What is wrong and what to do.
    pub problem: String,
}

fn invalid(field: &'static str, problem: impl Into<String>) -> InvalidEntry {
    InvalidEntry {
        field,
        problem: problem.into(),
    }
}

/// Parses a SPIFFE ID field that must belong to `td`.
pub fn parse_member_id(
    field: &'static str,
    value: &str,
    td: &TrustDomain,
) -> Result<SpiffeId, InvalidEntry> {
    if value.is_empty() {
        return Err(invalid(field, "is required, e.g. spiffe://example.org/web"));
    }
    let id = SpiffeId::parse(value).map_err(|e| invalid(field, format!("{value:?}: {e}")))?;
    if !id.is_member_of(td) {
        return Err(invalid(
            field,
            format!("{value:?} is outside this server's trust domain {td}; use spiffe://{td}/..."),
        ));
    }
    Ok(id)
}

/// What an entry from the admin API is checked against (see `ServerState::entry_rules`).
#[derive(Debug, Clone, Copy)]
pub struct EntryRules<'a> {
    /// IDs must be members of it.
    pub trust_domain: &'a TrustDomain,
    /// The CA lifetime: no TTL may exceed it.
    pub max_ttl_seconds: u64,
    /// Unix seconds: `expires_at` must be later.
    pub now: i64,
    /// `[entries] extra_selector_types`.
    pub extra_selector_types: &'a [String],
}

/// Validates and converts an entry from the admin API.
pub fn entry_from_pb(e: pb::Entry, rules: &EntryRules<'_>) -> Result<Entry, InvalidEntry> {
    let EntryRules {
        trust_domain: td,
        max_ttl_seconds,
        now,
        extra_selector_types,
    } = *rules;
    let spiffe_id = parse_member_id("spiffe_id", &e.spiffe_id, td)?;
    if spiffe_id.is_root() {
        return Err(invalid(
            "spiffe_id",
            "must have a path: the trust domain's own ID cannot be issued to a workload",
        ));
    }
    if crate::state::is_reserved_path(spiffe_id.path()) {
        return Err(invalid(
            "spiffe_id",
            format!(
                "{spiffe_id} is under {}/, which is reserved for the server's and the agents' own IDs; choose a path outside it",
                crate::state::RESERVED_PATH
            ),
        ));
    }
    let parent_id = parse_member_id("parent_id", &e.parent_id, td)?;
    if e.selectors.is_empty() {
        return Err(invalid(
            "selectors",
            "must have at least one selector, e.g. unix:uid:1000",
        ));
    }
    let selects = if parent_id == crate::state::server_id(td) {
        Selects::Nodes
    } else {
        Selects::Workloads
    };
    let selectors = e
        .selectors
        .into_iter()
        .map(|s| {
            let named = |err: String| {
                invalid(
                    "selectors",
                    format!("{:?}: {err}", format!("{}:{}", s.r#type, s.value)),
                )
            };
            let selector = Selector::new(s.r#type.clone(), s.value.clone())
                .map_err(|err| named(err.to_string()))?;
            selectors::check(&selector, selects, extra_selector_types).map_err(named)?;
            Ok(selector)
        })
        .collect::<Result<Vec<_>, _>>()?;
    for (field, ttl) in [
        ("x509_svid_ttl", e.x509_svid_ttl_seconds),
        ("jwt_svid_ttl", e.jwt_svid_ttl_seconds),
    ] {
        if u64::from(ttl) > max_ttl_seconds {
            return Err(invalid(
                field,
                format!(
                    "is {ttl}s, beyond the CA lifetime of {max_ttl_seconds}s; use a shorter TTL"
                ),
            ));
        }
    }
    for name in &e.dns_names {
        if name.parse::<std::net::IpAddr>().is_ok() {
            return Err(invalid(
                "dns_names",
                format!("{name:?} is an IP address, not a DNS name (IP SANs are not supported)"),
            ));
        }
        if !valid_dns_name(name) {
            return Err(invalid(
                "dns_names",
                format!("{name:?} is not a valid DNS name"),
            ));
        }
    }
    for (field, value, max) in [
        ("hint", &e.hint, MAX_HINT_LEN),
        ("description", &e.description, MAX_DESCRIPTION_LEN),
        ("owner", &e.owner, MAX_OWNER_LEN),
    ] {
        if value.len() > max {
            return Err(invalid(
                field,
                format!("is {} bytes; at most {max} are allowed", value.len()),
            ));
        }
        if let Some(c) = value.chars().find(|c| c.is_control()) {
            return Err(invalid(
                field,
                format!(
                    "contains the control character {:?}; use printable text only",
                    c
                ),
            ));
        }
    }
    for (field, set) in [("admin", e.admin), ("downstream", e.downstream)] {
        if set {
            return Err(invalid(
                field,
                "is not supported yet: such an entry would be stored and do nothing; leave it unset",
            ));
        }
    }
    if e.expires_at < 0 {
        return Err(invalid("expires_at", "must be a Unix time or 0 for never"));
    }
    if e.expires_at > 0 && e.expires_at <= now {
        return Err(invalid(
            "expires_at",
            format!(
                "is {}, which has passed (now {now}): an expired entry would never be served; give a future time or 0 for never",
                e.expires_at
            ),
        ));
    }
    if e.expires_at > MAX_EXPIRES_AT {
        return Err(invalid(
            "expires_at",
            format!(
                "is {}, after 9999-12-31T23:59:59Z ({MAX_EXPIRES_AT}); give an earlier time or 0 for never",
                e.expires_at
            ),
        ));
    }
    Ok(Entry {
        id: e.id,
        spiffe_id,
        parent_id,
        selectors,
        x509_svid_ttl: e.x509_svid_ttl_seconds,
        jwt_svid_ttl: e.jwt_svid_ttl_seconds,
        dns_names: e.dns_names,
        hint: e.hint,
        admin: e.admin,
        downstream: e.downstream,
        expires_at: (e.expires_at > 0).then_some(e.expires_at),
        owner: e.owner,
        description: e.description,
        // Federation: parsing `federates_with` is not wired up yet.
        federates_with: Vec::new(),
        created_at: 0,
        revision: i64::try_from(e.revision).unwrap_or(0),
    })
}

/// A DNS name as X.509 dNSName allows: labels of letters, digits and '-', optional leading
/// `*.` wildcard, at most 253 bytes.
fn valid_dns_name(name: &str) -> bool {
    let name = name.strip_prefix("*.").unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The protobuf form of a stored entry.
pub fn entry_to_pb(e: &Entry) -> pb::Entry {
    pb::Entry {
        id: e.id.clone(),
        spiffe_id: e.spiffe_id.to_string(),
        parent_id: e.parent_id.to_string(),
        selectors: e
            .selectors
            .iter()
            .map(|s| pb::Selector {
                r#type: s.kind.clone(),
                value: s.value.clone(),
            })
            .collect(),
        x509_svid_ttl_seconds: e.x509_svid_ttl,
        jwt_svid_ttl_seconds: e.jwt_svid_ttl,
        dns_names: e.dns_names.clone(),
        hint: e.hint.clone(),
        admin: e.admin,
        downstream: e.downstream,
        expires_at: e.expires_at.unwrap_or(0),
        owner: e.owner.clone(),
        description: e.description.clone(),
        created_at: e.created_at,
        revision: u64::try_from(e.revision).unwrap_or(0),
        federates_with: Vec::new(),
    }
}

/// The protobuf form of a bundle. `tainted` lists the IDs (SKI hex) of tainted authorities.
/// `b` with each authority's tainted flag from `taint`.
pub fn bundle_to_pb(b: &Bundle, taint: &Taint) -> pb::Bundle {
    pb::Bundle {
        trust_domain: b.trust_domain.name().to_owned(),
        x509_authorities: b
            .x509_authorities
            .iter()
            .map(|c| pb::X509Authority {
                asn1: c.as_bytes().to_vec(),
                tainted: taint.is_x509_tainted(c.as_bytes()),
            })
            .collect(),
        jwt_authorities: b
            .jwt_authorities
            .iter()
            .map(|(kid, a)| pb::JwtAuthority {
                key_id: kid.clone(),
                public_key: a.public_key.clone(),
                expires_at: a
                    .expires_at
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .and_then(|d| i64::try_from(d.as_secs()).ok())
                    .unwrap_or(0),
                tainted: taint.is_jwt_tainted(kid),
            })
            .collect(),
        sequence_number: b.sequence_number,
        refresh_hint_seconds: b
            .refresh_hint
            .and_then(|d| i64::try_from(d.as_secs()).ok())
            .unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-07T00:00:00Z: "now" for these tests.
    const NOW: i64 = 1_796_601_600;

    fn rules(td: &TrustDomain) -> EntryRules<'_> {
        EntryRules {
            trust_domain: td,
            max_ttl_seconds: 86400,
            now: NOW,
            extra_selector_types: &[],
        }
    }

    fn td() -> TrustDomain {
        TrustDomain::new("example.org").unwrap()
    }

    #[test]
    fn expiry_in_the_past_or_past_year_9999_is_refused() {
        let m = err(pb::Entry {
            expires_at: NOW - 1,
            ..entry()
        });
        assert!(
            m.contains("`expires_at`") && m.contains("has passed"),
            "{m}"
        );
        let m = err(pb::Entry {
            expires_at: 99_999_999_999_999,
            ..entry()
        });
        assert!(m.contains("after 9999-12-31T23:59:59Z"), "{m}");
        for ok in [0, NOW + 1, MAX_EXPIRES_AT] {
            entry_from_pb(
                pb::Entry {
                    expires_at: ok,
                    ..entry()
                },
                &rules(&td()),
            )
            .unwrap();
        }
    }

    #[test]
    fn an_ip_address_is_not_a_dns_name() {
        for ip in ["1.2.3.4", "::1", "2001:db8::1"] {
            let m = err(pb::Entry {
                dns_names: vec![ip.into()],
                ..entry()
            });
            assert!(
                m.contains("`dns_names`") && m.contains("is an IP address"),
                "{ip}: {m}"
            );
        }
    }

    #[test]
    fn description_owner_and_hint_are_bounded_and_printable() {
        let m = err(pb::Entry {
            description: "x".repeat(MAX_DESCRIPTION_LEN + 1),
            ..entry()
        });
        assert!(
            m.contains("`description` is 1025 bytes; at most 1024"),
            "{m}"
        );
        let m = err(pb::Entry {
            owner: "x".repeat(MAX_OWNER_LEN + 1),
            ..entry()
        });
        assert!(m.contains("`owner` is 257 bytes; at most 256"), "{m}");
        let m = err(pb::Entry {
            description: "red \u{1b}[31mtext".into(),
            ..entry()
        });
        assert!(
            m.contains("`description` contains the control character '\\u{1b}'"),
            "{m}"
        );
        let m = err(pb::Entry {
            hint: "a\nb".into(),
            ..entry()
        });
        assert!(m.contains("`hint` contains the control character"), "{m}");
        let e = pb::Entry {
            description: "payments API — team ünïcode".into(),
            owner: "team-payments@example.org".into(),
            ..entry()
        };
        entry_from_pb(e, &rules(&td())).unwrap();
    }

    fn entry() -> pb::Entry {
        pb::Entry {
            spiffe_id: "spiffe://example.org/web".into(),
            parent_id: "spiffe://example.org/host".into(),
            selectors: vec![pb::Selector {
                r#type: "unix".into(),
                value: "uid:1000".into(),
            }],
            ..Default::default()
        }
    }

    fn err(e: pb::Entry) -> String {
        entry_from_pb(e, &rules(&td())).unwrap_err().to_string()
    }

    #[test]
    fn valid_entry_round_trips() {
        let e = entry_from_pb(entry(), &rules(&td())).unwrap();
        let back = entry_to_pb(&e);
        assert_eq!(back.spiffe_id, "spiffe://example.org/web");
        assert_eq!(back.selectors, entry().selectors);
    }

    #[test]
    fn malformed_spiffe_id_names_field_and_rule() {
        let m = err(pb::Entry {
            spiffe_id: "spiffe://example.org/a/../b".into(),
            ..entry()
        });
        assert!(m.contains("`spiffe_id`") && m.contains(".."), "{m}");
    }

    #[test]
    fn foreign_trust_domain_is_refused() {
        let m = err(pb::Entry {
            spiffe_id: "spiffe://other.org/web".into(),
            ..entry()
        });
        assert!(m.contains("outside this server's trust domain"), "{m}");
        let m = err(pb::Entry {
            parent_id: "spiffe://other.org/host".into(),
            ..entry()
        });
        assert!(m.contains("`parent_id`"), "{m}");
    }

    #[test]
    fn selector_without_type_or_value_is_refused() {
        for (t, v) in [("", "uid:1"), ("unix", "")] {
            let m = err(pb::Entry {
                selectors: vec![pb::Selector {
                    r#type: t.into(),
                    value: v.into(),
                }],
                ..entry()
            });
            assert!(m.contains("`selectors`"), "{m}");
        }
        let m = err(pb::Entry {
            selectors: vec![],
            ..entry()
        });
        assert!(m.contains("at least one selector"), "{m}");
    }

    #[test]
    fn selectors_are_checked_for_what_the_entry_selects() {
        let with = |parent: &str, t: &str, v: &str| pb::Entry {
            parent_id: parent.into(),
            selectors: vec![pb::Selector {
                r#type: t.into(),
                value: v.into(),
            }],
            ..entry()
        };
        let m = err(with("spiffe://example.org/host", "unix", "uid:abc"));
        assert!(
            m.contains("`selectors` \"unix:uid:abc\": unix:uid takes a decimal id"),
            "{m}"
        );
        let server = "spiffe://example.org/lanyard/server";
        let m = err(with(server, "unix", "uid:1000"));
        assert!(m.contains("selects nodes"), "{m}");
        entry_from_pb(with(server, "k8s_psat", "cluster:prod"), &rules(&td())).unwrap();
        let (extra, td) = (["docker".to_owned()], td());
        let rules = EntryRules {
            extra_selector_types: &extra,
            ..rules(&td)
        };
        entry_from_pb(
            with("spiffe://example.org/host", "docker", "label:a:b"),
            &rules,
        )
        .unwrap();
    }

    #[test]
    fn ttl_beyond_ca_lifetime_is_refused() {
        let m = err(pb::Entry {
            x509_svid_ttl_seconds: 90000,
            ..entry()
        });
        assert!(
            m.contains("`x509_svid_ttl`") && m.contains("CA lifetime"),
            "{m}"
        );
    }

    #[test]
    fn bad_dns_name_and_long_hint_are_refused() {
        let m = err(pb::Entry {
            dns_names: vec!["bad name".into()],
            ..entry()
        });
        assert!(m.contains("`dns_names`"), "{m}");
        let m = err(pb::Entry {
            hint: "x".repeat(1025),
            ..entry()
        });
        assert!(m.contains("`hint`"), "{m}");
    }
}
