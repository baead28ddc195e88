//! The JSON the CLIs print (`--output json`) is the proto3 JSON mapping of the messages: proto
//! field names, every field present, int64 as strings, enums by name, bytes as base64, and
//! `google.protobuf.Struct` as a plain object.
#![allow(
    clippy::unwrap_used,
    reason = "a test helper that fails is a failed test"
)]

use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::types::v1 as pb;
use lanyard_proto::workload;
use prost::Message;
use serde_json::{Value, json};

fn to_json(message: &impl serde::Serialize) -> Value {
    serde_json::to_value(message).unwrap()
}

/// The field names `proto/` declares for `message` (fully qualified, without the leading dot).
fn proto_field_names(message: &str) -> Vec<String> {
    let set = prost_types::FileDescriptorSet::decode(lanyard_proto::FILE_DESCRIPTOR_SET).unwrap();
    let (package, name) = message.rsplit_once('.').unwrap();
    let file = set
        .file
        .iter()
        .find(|f| f.package() == package && f.message_type.iter().any(|m| m.name() == name))
        .unwrap_or_else(|| panic!("{message} is not in the descriptor set"));
    let m = file.message_type.iter().find(|m| m.name() == name).unwrap();
    let mut names: Vec<String> = m.field.iter().map(|f| f.name().to_owned()).collect();
    names.sort();
    names
}

fn json_keys(v: &Value) -> Vec<String> {
    let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

#[test]
fn every_proto_field_is_printed_under_its_proto_name_even_when_unset() {
    for (printed, message) in [
        (to_json(&pb::Entry::default()), "lanyard.types.v1.Entry"),
        (to_json(&api::Agent::default()), "lanyard.admin.v1.Agent"),
        (
            to_json(&api::X509AuthorityInfo::default()),
            "lanyard.admin.v1.X509AuthorityInfo",
        ),
        (
            to_json(&api::JwtAuthorityInfo::default()),
            "lanyard.admin.v1.JwtAuthorityInfo",
        ),
    ] {
        assert_eq!(json_keys(&printed), proto_field_names(message), "{message}");
    }
}

#[test]
fn int64_is_a_string_enums_are_names_and_bytes_are_base64() {
    let authority = api::X509AuthorityInfo {
        authority_id: "ab12".to_owned(),
        certificate: vec![0x30, 0x82],
        state: api::AuthorityState::Active.into(),
        expires_at: 1_900_000_000,
        tainted: false,
        local: true,
    };
    let printed = to_json(&authority);
    assert_eq!(
        printed,
        json!({
            "authority_id": "ab12",
            "certificate": "MII=",
            "state": "AUTHORITY_STATE_ACTIVE",
            "expires_at": "1900000000",
            "tainted": false,
            "local": true,
        })
    );
    // And back: the mapping reads what it writes.
    let read: api::X509AuthorityInfo = serde_json::from_value(printed).unwrap();
    assert_eq!(read, authority);
}

#[test]
fn claims_print_as_a_plain_json_object() {
    let claims: pbjson_types::Struct = serde_json::from_value(json!({
        "sub": "spiffe://example.org/w",
        "aud": ["a"],
        "exp": 1_900_000_000,
    }))
    .unwrap();
    let resp = workload::ValidateJwtsvidResponse {
        spiffe_id: "spiffe://example.org/w".to_owned(),
        claims: Some(claims),
    };
    assert_eq!(
        to_json(&resp),
        json!({
            "spiffe_id": "spiffe://example.org/w",
            "claims": {"sub": "spiffe://example.org/w", "aud": ["a"], "exp": 1_900_000_000.0},
        })
    );
}
