//! Text renderings of entries, agents, X.509 authorities and JWT keys. Their JSON is the proto
//! messages themselves (see `push_json`).

use std::fmt::Write as _;
use std::time::{Duration, UNIX_EPOCH};

use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::types::v1 as pb;

/// `2024-05-01T12:00:00Z` for Unix seconds; `-` for 0.
/// 9999-12-31T23:59:59Z, the last second RFC 3339 can write.
const MAX_RFC3339_SECONDS: u64 = 253_402_300_799;

pub(super) fn time(unix: i64) -> String {
    match u64::try_from(unix) {
        // RFC 3339 ends at 9999-12-31T23:59:59Z (humantime panics past it); an older server
        // stored such values.
        Ok(s) if s > MAX_RFC3339_SECONDS => format!("{s} (Unix time, after the year 9999)"),
        Ok(s) if s > 0 => {
            humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(s)).to_string()
        }
        _ => "-".to_owned(),
    }
}

fn ttl(seconds: u32) -> String {
    match seconds {
        0 => "server default".to_owned(),
        s => format!(
            "{}",
            humantime::format_duration(Duration::from_secs(s.into()))
        ),
    }
}

pub(super) fn line(out: &mut String, label: &str, value: impl std::fmt::Display) {
    // Writing to a String cannot fail.
    let _ = writeln!(out, "{label:<19}: {value}");
}

/// An entry as a block of `Label : value` lines; optional fields only when set.
pub(super) fn entry_text(out: &mut String, e: &pb::Entry) {
    line(out, "Entry ID", &e.id);
    line(out, "SPIFFE ID", &e.spiffe_id);
    line(out, "Parent ID", &e.parent_id);
    line(out, "Revision", e.revision);
    line(out, "X509-SVID TTL", ttl(e.x509_svid_ttl_seconds));
    line(out, "JWT-SVID TTL", ttl(e.jwt_svid_ttl_seconds));
    for s in &e.selectors {
        line(out, "Selector", format_args!("{}:{}", s.r#type, s.value));
    }
    for d in &e.dns_names {
        line(out, "DNS name", d);
    }
    for td in &e.federates_with {
        line(out, "Federates with", td);
    }
    if !e.hint.is_empty() {
        line(out, "Hint", &e.hint);
    }
    if e.admin {
        line(out, "Admin", true);
    }
    if e.downstream {
        line(out, "Downstream", true);
    }
    if e.expires_at > 0 {
        line(out, "Expires at", time(e.expires_at));
    }
    if !e.owner.is_empty() {
        line(out, "Owner", &e.owner);
    }
    if !e.description.is_empty() {
        line(out, "Description", &e.description);
    }
    line(out, "Created at", time(e.created_at));
}

/// An agent as a block of `Label : value` lines.
pub(super) fn agent_text(out: &mut String, a: &api::Agent) {
    line(out, "SPIFFE ID", &a.spiffe_id);
    line(out, "Attestation type", &a.attestation_type);
    line(out, "Banned", a.banned);
    line(out, "Can re-attest", a.reattestable);
    if !a.x509_svid_serial_number.is_empty() {
        line(out, "SVID serial number", &a.x509_svid_serial_number);
    }
    line(out, "SVID expires at", time(a.x509_svid_expires_at));
    for s in &a.selectors {
        line(out, "Selector", format_args!("{}:{}", s.r#type, s.value));
    }
    line(out, "First attested at", time(a.created_at));
    line(out, "Last seen at", time(a.last_seen_at));
}

pub(super) fn state_name(state: i32) -> &'static str {
    match api::AuthorityState::try_from(state) {
        Ok(api::AuthorityState::Prepared) => "prepared",
        Ok(api::AuthorityState::Active) => "active",
        Ok(api::AuthorityState::Old) => "old",
        _ => "unknown",
    }
}

/// An X.509 authority as a block of `Label : value` lines.
pub(super) fn authority_text(out: &mut String, a: &api::X509AuthorityInfo) {
    line(out, "Authority ID", &a.authority_id);
    line(out, "State", state_name(a.state));
    line(out, "Tainted", a.tainted);
    line(out, "Held here", a.local);
    line(out, "Expires at", time(a.expires_at));
}

/// A JWT signing key as a block of `Label : value` lines.
pub(super) fn jwt_key_text(out: &mut String, a: &api::JwtAuthorityInfo) {
    line(out, "Key ID", &a.authority_id);
    line(out, "State", state_name(a.state));
    line(out, "Tainted", a.tainted);
    line(out, "Expires at", time(a.expires_at));
}
