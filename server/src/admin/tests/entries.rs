//! Registration entries through the API and the CLI.

use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::admin::v1::entries_client::EntriesClient;
use lanyard_proto::lanyard::types::v1 as pb;
use tonic::Code;

use super::*;

pub(super) fn sel(t: &str, v: &str) -> pb::Selector {
    pb::Selector {
        r#type: t.into(),
        value: v.into(),
    }
}

pub(super) fn entry(spiffe_id: &str, selectors: Vec<pb::Selector>) -> pb::Entry {
    pb::Entry {
        spiffe_id: spiffe_id.into(),
        parent_id: "spiffe://example.org/host".into(),
        selectors,
        ..Default::default()
    }
}

pub(super) async fn create(
    c: &mut EntriesClient<Channel>,
    e: pb::Entry,
) -> Result<pb::Entry, tonic::Status> {
    c.create_entry(api::CreateEntryRequest { entry: Some(e) })
        .await
        .map(|r| r.into_inner().entry.unwrap())
}

/// Create, read, update, list, count and delete, with the errors a user meets on the way.
async fn entry_crud(server: &TestServer) {
    let mut c = EntriesClient::new(server.channel().await);
    let created = create(
        &mut c,
        entry("spiffe://example.org/web", vec![sel("unix", "uid:1000")]),
    )
    .await
    .unwrap();
    assert_eq!(created.id.len(), 32);
    assert_eq!(created.revision, 1);

    let dup = create(
        &mut c,
        entry("spiffe://example.org/web", vec![sel("unix", "uid:1000")]),
    )
    .await
    .unwrap_err();
    assert_eq!(dup.code(), Code::AlreadyExists, "{dup:?}");
    assert!(dup.message().contains(&created.id), "{dup:?}");

    let got = c
        .get_entry(api::GetEntryRequest {
            id: created.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .entry
        .unwrap();
    assert_eq!(got, created);

    let updated = c
        .update_entry(api::UpdateEntryRequest {
            entry: Some(pb::Entry {
                id: created.id.clone(),
                revision: 1,
                x509_svid_ttl_seconds: 600,
                ..entry("spiffe://example.org/web2", vec![sel("unix", "uid:1001")])
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .entry
        .unwrap();
    assert_eq!(
        (updated.revision, updated.spiffe_id.as_str()),
        (2, "spiffe://example.org/web2")
    );
    let stale = c
        .update_entry(api::UpdateEntryRequest {
            entry: Some(pb::Entry {
                id: created.id.clone(),
                revision: 1,
                ..entry("spiffe://example.org/web3", vec![sel("unix", "uid:1")])
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted, "{stale:?}");

    // The CLI sees the same entry, in both formats.
    let text = server.cli_ok(&["entry", "show", "--id", &created.id]).await;
    assert!(text.contains("spiffe://example.org/web2"), "{text}");
    assert!(
        text.contains("unix:uid:1001") && text.contains("10m"),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&server.cli_ok(&["entry", "show", "--output", "json"]).await).unwrap();
    assert_eq!(json["entries"][0]["id"], created.id.as_str());
    assert_eq!(json["entries"][0]["selectors"][0]["type"], "unix");
    assert_eq!(json["entries"][0]["x509_svid_ttl_seconds"], 600);

    let count = c
        .count_entries(api::CountEntriesRequest { filter: None })
        .await
        .unwrap()
        .into_inner()
        .count;
    assert_eq!(count, 1);

    c.delete_entry(api::DeleteEntryRequest {
        id: created.id.clone(),
    })
    .await
    .unwrap();
    let gone = c
        .get_entry(api::GetEntryRequest {
            id: created.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    let again = c
        .delete_entry(api::DeleteEntryRequest { id: created.id })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::NotFound);
}

#[tokio::test]
async fn entry_crud_sqlite() {
    entry_crud(&TestServer::sqlite().await).await;
}

#[tokio::test]
async fn entry_crud_postgres() {
    let Some(server) = TestServer::postgres().await else {
        return;
    };
    entry_crud(&server).await;
    let ds = server.state.datastore().clone();
    server.stop().await.unwrap();
    ds.close().await;
}

#[tokio::test]
async fn cli_create_update_delete_round_trip() {
    let server = TestServer::sqlite().await;
    let json = server
        .cli_ok(&[
            "entry",
            "create",
            "--spiffe-id",
            "spiffe://example.org/db",
            "--parent-id",
            "spiffe://example.org/host",
            "--selector",
            "unix:uid:70",
            "--selector",
            "unix:gid:70",
            "--x509-svid-ttl",
            "120",
            "--dns-name",
            "db.local",
            "--hint",
            "db",
            "--expires-at",
            "4102444800",
            "--owner",
            "ops",
            "--description",
            "the db",
            "--output",
            "json",
        ])
        .await;
    let e: serde_json::Value = serde_json::from_str(&json).unwrap();
    let id = e["id"].as_str().unwrap().to_owned();
    assert_eq!(e["dns_names"][0], "db.local");
    assert_eq!(e["hint"], "db");
    assert_eq!(e["expires_at"], "4102444800");

    // Update replaces: flags left out go back to their defaults.
    let text = server
        .cli_ok(&[
            "entry",
            "update",
            "--id",
            &id,
            "--spiffe-id",
            "spiffe://example.org/db",
            "--parent-id",
            "spiffe://example.org/host",
            "--selector",
            "unix:uid:71",
        ])
        .await;
    assert!(text.contains("Revision           : 2"), "{text}");
    assert!(
        !text.contains("db.local") && !text.contains("Admin"),
        "{text}"
    );

    assert_eq!(server.cli_ok(&["entry", "count"]).await, "1 entries\n");
    let deleted = server.cli_ok(&["entry", "delete", "--id", &id]).await;
    assert_eq!(deleted, format!("Deleted entry {id}\n"));
    let err = server
        .cli(&["entry", "delete", "--id", &id])
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("delete entry : registration entry not found"),
        "{err}"
    );
    assert_eq!(err.exit_code(), std::process::ExitCode::FAILURE);
}

#[tokio::test]
async fn batch_create_reports_each_item() {
    let server = TestServer::sqlite().await;
    let mut c = EntriesClient::new(server.channel().await);
    create(
        &mut c,
        entry("spiffe://example.org/dup", vec![sel("unix", "uid:1")]),
    )
    .await
    .unwrap();
    let results = c
        .batch_create_entries(api::BatchCreateEntriesRequest {
            entries: vec![
                entry("spiffe://example.org/a", vec![sel("unix", "uid:1")]),
                entry("spiffe://other.org/b", vec![sel("unix", "uid:1")]),
                entry("spiffe://example.org/dup", vec![sel("unix", "uid:1")]),
                entry("spiffe://example.org/c", vec![sel("unix", "uid:1")]),
            ],
        })
        .await
        .unwrap()
        .into_inner()
        .results;
    let codes: Vec<i32> = results
        .iter()
        .map(|r| match r.result.as_ref().unwrap() {
            api::entry_result::Result::Entry(_) => 0,
            api::entry_result::Result::Error(s) => s.code,
        })
        .collect();
    assert_eq!(
        codes,
        [
            0,
            i32::from(Code::InvalidArgument),
            i32::from(Code::AlreadyExists),
            0
        ]
    );
    let n = c
        .count_entries(api::CountEntriesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .count;
    assert_eq!(n, 3);
}

/// Issue 14: IDs under /lanyard/ (the server's and the agents') cannot be given to workloads.
#[tokio::test]
async fn reserved_ids_are_refused_and_nothing_is_stored() {
    let server = TestServer::sqlite().await;
    let mut c = EntriesClient::new(server.channel().await);
    for id in [
        "spiffe://example.org/lanyard/server",
        "spiffe://example.org/lanyard",
        "spiffe://example.org/lanyard/agent/join_token/abc",
        "spiffe://example.org/lanyard/anything",
    ] {
        let refused = create(&mut c, entry(id, vec![sel("unix", "uid:1000")]))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{id}: {refused:?}");
        assert!(
            refused.message().contains("`spiffe_id`")
                && refused
                    .message()
                    .contains("reserved for the server's and the agents' own IDs"),
            "{id}: {refused:?}"
        );
        let mut update = entry(id, vec![sel("unix", "uid:1000")]);
        update.id = "no-such-entry".into();
        let refused = c
            .update_entry(api::UpdateEntryRequest {
                entry: Some(update),
            })
            .await
            .unwrap_err();
        assert_eq!(
            refused.code(),
            Code::InvalidArgument,
            "update {id}: {refused:?}"
        );
    }
    let listed = c
        .count_entries(api::CountEntriesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.count, 0, "nothing was stored");
    // A path that only begins with the same letters is not reserved.
    create(
        &mut c,
        entry(
            "spiffe://example.org/lanyardish",
            vec![sel("unix", "uid:1000")],
        ),
    )
    .await
    .unwrap();
}

/// Issue 21: flags that would be stored but do nothing are refused.
#[tokio::test]
async fn admin_and_downstream_are_refused_until_they_do_something() {
    let server = TestServer::sqlite().await;
    for flag in ["--admin", "--downstream"] {
        let err = server
            .cli(&[
                "entry",
                "create",
                "--spiffe-id",
                "spiffe://example.org/db",
                "--parent-id",
                "spiffe://example.org/host",
                "--selector",
                "unix:uid:70",
                flag,
            ])
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("not supported yet"), "{flag}: {err}");
    }
    assert_eq!(server.cli_ok(&["entry", "count"]).await, "0 entries\n");
}
