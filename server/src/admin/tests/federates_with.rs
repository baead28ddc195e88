//! Entries that federate: `--federates-with` through the CLI and the API, the datastore's
//! unknown-trust-domain refusal as the user sees it, and the `federates_with` filter.

use lanyard_datastore::{BundleOrigin, FederatedBundle};
use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::admin::v1::entries_client::EntriesClient;
use tonic::Code;

use super::entries::{create, entry, sel};
use super::*;

/// Stores an (empty) operator bundle for `td`, which lets entries federate with it.
async fn store_bundle(server: &TestServer, td: &str) {
    let td = TrustDomain::new(td).unwrap();
    let json = lanyard_x509::Bundle::new(td.clone())
        .to_jwks_json()
        .unwrap();
    server
        .state
        .datastore()
        .set_federated_bundle(FederatedBundle {
            trust_domain: td,
            bundle_json: json,
            sequence: 1,
            origin: BundleOrigin::Operator,
            updated_at: 0,
        })
        .await
        .unwrap();
}

const CREATE: [&str; 8] = [
    "entry",
    "create",
    "--spiffe-id",
    "spiffe://example.org/web",
    "--parent-id",
    "spiffe://example.org/host",
    "--selector",
    "unix:uid:1000",
];

#[tokio::test]
async fn cli_federates_with_round_trips_and_filters() {
    let server = TestServer::sqlite().await;

    // Nothing names orders.example yet: refused, saying how to make it known.
    let mut args = CREATE.to_vec();
    args.extend(["--federates-with", "spiffe://orders.example"]);
    let err = server.cli(&args).await.unwrap_err().to_string();
    assert!(
        err.contains("orders.example")
            && err.contains("federation create --trust-domain orders.example")
            && err.contains("bundle set --trust-domain orders.example"),
        "{err}"
    );
    assert_eq!(server.cli_ok(&["entry", "count"]).await, "0 entries\n");

    store_bundle(&server, "orders.example").await;
    store_bundle(&server, "pay.example").await;
    // Name and ID of one domain: stored once; text shows each domain.
    args.extend(["--federates-with", "orders.example"]);
    args.extend(["--federates-with", "pay.example"]);
    let text = server.cli_ok(&args).await;
    assert!(
        text.contains("Federates with     : orders.example\nFederates with     : pay.example\n"),
        "{text}"
    );
    let json = server
        .cli_ok(&[
            "entry",
            "show",
            "--spiffe-id",
            "spiffe://example.org/web",
            "--output",
            "json",
        ])
        .await;
    let listed = json_value(&json);
    let e = &listed["entries"][0];
    assert_eq!(
        e["federates_with"],
        serde_json::json!(["orders.example", "pay.example"])
    );
    let id = e["id"].as_str().unwrap().to_owned();

    // A second entry that federates with nothing; the filter finds only the first.
    let mut other = CREATE.to_vec();
    other[3] = "spiffe://example.org/db";
    server.cli_ok(&other).await;
    let shown = server
        .cli_ok(&[
            "entry",
            "show",
            "--federates-with",
            "spiffe://orders.example",
        ])
        .await;
    assert!(
        shown.starts_with("Found 1 entry\n") && shown.contains("spiffe://example.org/web"),
        "{shown}"
    );
    assert_eq!(
        server
            .cli_ok(&["entry", "count", "--federates-with", "pay.example"])
            .await,
        "1 entries\n"
    );
    assert_eq!(
        server
            .cli_ok(&["entry", "count", "--federates-with", "other.example"])
            .await,
        "0 entries\n"
    );

    // Update replaces the list: flags left out drop the domains.
    let mut update = vec!["entry", "update", "--id", &id];
    update.extend(&CREATE[2..]);
    update.extend(["--federates-with", "pay.example"]);
    let text = server.cli_ok(&update).await;
    assert!(
        text.contains("Federates with     : pay.example\n") && !text.contains("orders.example"),
        "{text}"
    );
    assert_eq!(
        server
            .cli_ok(&["entry", "count", "--federates-with", "orders.example"])
            .await,
        "0 entries\n"
    );
}

#[tokio::test]
async fn cli_refuses_a_malformed_trust_domain_before_sending() {
    let server = TestServer::sqlite().await;
    let mut args = CREATE.to_vec();
    args.extend(["--federates-with", "spiffe://orders.example/web"]);
    let err = server.cli(&args).await.unwrap_err();
    assert_eq!(err.exit_code(), std::process::ExitCode::from(2), "{err}");
    assert!(
        err.to_string()
            .contains("--federates-with \"spiffe://orders.example/web\" is not a trust domain"),
        "{err}"
    );
    let err = server
        .cli(&["entry", "show", "--federates-with", "Orders"])
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), std::process::ExitCode::from(2), "{err}");
}

#[tokio::test]
async fn api_refuses_own_domain_unknown_domain_and_bad_filter() {
    let server = TestServer::sqlite().await;
    let mut c = EntriesClient::new(server.channel().await);
    let with = |tds: &[&str]| {
        let mut e = entry("spiffe://example.org/web", vec![sel("unix", "uid:1000")]);
        e.federates_with = tds.iter().map(|t| (*t).to_owned()).collect();
        e
    };
    let s = create(&mut c, with(&["spiffe://example.org"]))
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
    assert!(
        s.message().contains("`federates_with`")
            && s.message().contains("this server's own trust domain"),
        "{s:?}"
    );
    let s = create(&mut c, with(&["orders.example"])).await.unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
    assert!(s.message().contains("federation create"), "{s:?}");

    // In a batch, the unknown domain fails its item; the valid item is stored.
    store_bundle(&server, "pay.example").await;
    let mut ok = with(&["pay.example"]);
    ok.spiffe_id = "spiffe://example.org/ok".into();
    let r = c
        .batch_create_entries(api::BatchCreateEntriesRequest {
            entries: vec![with(&["orders.example"]), ok],
        })
        .await
        .unwrap()
        .into_inner()
        .results;
    assert!(
        matches!(&r[0].result, Some(api::entry_result::Result::Error(e))
            if e.code == i32::from(Code::InvalidArgument) && e.message.contains("federation create")),
        "{r:?}"
    );
    assert!(
        matches!(&r[1].result, Some(api::entry_result::Result::Entry(e)) if e.federates_with == ["pay.example"]),
        "{r:?}"
    );

    let s = c
        .list_entries(api::ListEntriesRequest {
            filter: Some(api::EntryFilter {
                federates_with: Some("not a domain".into()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
    assert!(s.message().contains("`filter.federates_with`"), "{s:?}");
}

fn json_value(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap()
}
