//! `https_spiffe` federation both ways between two real trust domains (issue 16 point 4, first
//! bullet), the relationship declared in server.toml instead, and how long a foreign bundle
//! change takes to reach a workload's open stream.

use std::time::{Instant, SystemTime};

use lanyard_proto::workload::X509svidResponse;
use lanyard_x509::{CertDer, verify_x509_svid};
use serde_json::Value;
use spiffe::{JwtSvid, WorkloadApiClient};

use super::{
    ORDERS, PAY, Publish, agent_with_paths, await_fetched, bundle_of, endpoint_url,
    federate_https_spiffe, federated, federating_server, federation_toml, own_authorities,
    own_spiffe_bundle, set_bundle, this_program,
};
use crate::agent_client::{SvidWatch, json_out, run_guarded, wait_for_svids};
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::{PATIENCE, Server};
use crate::store::Store;

/// A's workload that calls B: its entry federates with B.
const CHECKOUT: &str = "spiffe://pay.example/checkout";
/// A's workload whose entry does not federate (the Python script).
const BATCH: &str = "spiffe://pay.example/batch";
/// B's workload, which federates with A.
const ORDERS_API: &str = "spiffe://orders.example/orders-api";

/// The leaf-first chain of the one SVID of `resp`.
fn chain(resp: &X509svidResponse) -> Vec<CertDer> {
    lanyard_x509::split_der_certificates(&resp.svids[0].x509_svid).unwrap()
}

/// Reads `watch` until a response carries a foreign bundle of `td`; returns the response and
/// that bundle's authorities.
async fn await_federated(
    watch: &mut SvidWatch,
    first: X509svidResponse,
    td: &str,
) -> (X509svidResponse, Vec<CertDer>) {
    let resp = watch
        .until_from(first, PATIENCE, |r| federated(r, td).is_some())
        .await;
    let authorities = federated(&resp, td).unwrap();
    (resp, authorities)
}

/// A JWT-SVID for `audience` of whatever this process is on `agent`, through the Rust crate.
async fn jwt_for(agent: &Agent, audience: &str) -> String {
    let client = WorkloadApiClient::connect_to(agent.endpoint())
        .await
        .unwrap();
    let svid = client
        .fetch_jwt_svid([audience], None)
        .await
        .unwrap_or_else(|e| panic!("fetch_jwt_svid: {e}\n{}", agent.log_text()));
    svid.token().to_owned()
}

/// The workload on `local`'s agent validates `remote_chain` (an X.509-SVID of `remote_td`) and
/// `remote_token` (a JWT-SVID of `remote_td` for `audience`) the way a Rust service would: with
/// the bundle the agent handed it (`spiffe` crate's X509Context and JwtBundleSet), and through
/// the agent's ValidateJWTSVID. Returns the SPIFFE ID the agent validated.
async fn validates_foreign_svids(
    local: &Agent,
    remote_td: &str,
    remote_chain: &[CertDer],
    remote_token: &str,
    audience: &str,
) -> String {
    let client = WorkloadApiClient::connect_to(local.endpoint())
        .await
        .unwrap();
    let td = spiffe::TrustDomain::new(remote_td).unwrap();
    let context = client.fetch_x509_context().await.unwrap();
    let handed = context
        .bundle_set()
        .get(&td)
        .unwrap_or_else(|| panic!("the X509Context holds no bundle of {remote_td}"));
    let authorities: Vec<CertDer> = handed
        .authorities()
        .iter()
        .map(|c| CertDer::from_der(c.as_bytes()).unwrap())
        .collect();
    verify_x509_svid(
        remote_chain,
        &bundle_of(remote_td, &authorities, 0),
        SystemTime::now(),
    )
    .unwrap_or_else(|e| panic!("{remote_td}'s SVID does not verify with the handed bundle: {e}"));

    let jwt_bundles = client.fetch_jwt_bundles().await.unwrap();
    assert!(
        jwt_bundles.get(&td).is_some(),
        "FetchJWTBundles holds no bundle of {remote_td}"
    );
    JwtSvid::parse_and_validate(remote_token, &jwt_bundles, &[audience])
        .unwrap_or_else(|e| panic!("{remote_td}'s JWT-SVID does not validate locally: {e}"));

    let validated = client
        .validate_jwt_token(audience, remote_token)
        .await
        .unwrap_or_else(|e| panic!("ValidateJWTSVID refused: {e}\n{}", local.log_text()));
    validated.spiffe_id().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_spiffe_both_ways_hands_each_side_the_other_only_where_entries_federate() {
    let a = federating_server(PAY, Publish::HttpsSpiffe).await;
    let b = federating_server(ORDERS, Publish::HttpsSpiffe).await;
    let a_agent = agent_with_paths(&a).await;
    let b_agent = Agent::start(&b).await;
    federate_https_spiffe(&a, &b).await;
    federate_https_spiffe(&b, &a).await;
    // Each side fetched the other's bundle from its endpoint (verified as the other's server
    // SVID against the bootstrap bundle), not only stored the bootstrap bundle.
    await_fetched(&a, ORDERS).await;
    await_fetched(&b, PAY).await;

    let uid = my_uid();
    let me = this_program();
    // The Python script's entry first: once CHECKOUT (created after it) is served, the agent
    // has synced and signed BATCH too.
    let py = lanyard_test_support::python();
    if let Some(py) = &py {
        let python = std::fs::canonicalize(py.interpreter()).unwrap();
        let python = format!("unix:path:{}", python.display());
        create_uid_entry(&a, BATCH, &a_agent.id, uid, &["--selector", &python]).await;
    }
    create_uid_entry(
        &a,
        CHECKOUT,
        &a_agent.id,
        uid,
        &[
            "--selector",
            &me,
            "--federates-with",
            "spiffe://orders.example",
        ],
    )
    .await;
    create_uid_entry(&b, ORDERS_API, &b_agent.id, uid, &["--federates-with", PAY]).await;

    // B's workload: its SVID, a JWT-SVID for A's audience, and A's bundle.
    let (mut b_watch, first) = wait_for_svids(&b_agent.socket, &[ORDERS_API]).await;
    let (orders_resp, pay_handed_to_b) = await_federated(&mut b_watch, first, PAY).await;
    let orders_chain = chain(&orders_resp);
    let orders_token = jwt_for(&b_agent, "pay").await;

    // A's federating workload: B's bundle, under its own key, beside (not instead of) A's own.
    let (mut a_watch, first) = wait_for_svids(&a_agent.socket, &[CHECKOUT]).await;
    let (checkout_resp, orders_handed_to_a) = await_federated(&mut a_watch, first, ORDERS).await;
    assert_eq!(orders_handed_to_a, own_authorities(&b).await);
    assert_eq!(
        lanyard_x509::split_der_certificates(&checkout_resp.svids[0].bundle).unwrap(),
        own_authorities(&a).await,
        "the SVID's own bundle is still A's"
    );
    assert!(
        !checkout_resp
            .federated_bundles
            .contains_key("spiffe://pay.example"),
        "the own trust domain is not a federated bundle: {:?}",
        checkout_resp.federated_bundles.keys()
    );
    let validated =
        validates_foreign_svids(&a_agent, ORDERS, &orders_chain, &orders_token, "pay").await;
    assert_eq!(validated, ORDERS_API);

    // The other way: B's workload validates A's SVIDs with what B's agent handed it.
    assert_eq!(pay_handed_to_b, own_authorities(&a).await);
    let checkout_chain = chain(&checkout_resp);
    let checkout_token = jwt_for(&a_agent, "orders").await;
    let validated =
        validates_foreign_svids(&b_agent, PAY, &checkout_chain, &checkout_token, "orders").await;
    assert_eq!(validated, CHECKOUT);

    // A's workload whose entry does not federate is handed nothing of B, and A's agent does not
    // validate B's token for it.
    let Some(py) = py else {
        return;
    };
    let out = run_guarded(
        py.command(
            "federation_client.py",
            &[&a_agent.endpoint(), ORDERS, &orders_token, "pay"],
        ),
        PATIENCE,
    )
    .await;
    let seen = json_out(&out);
    let own_only = serde_json::json!(["spiffe://pay.example"]);
    assert_eq!(seen["spiffe_id"], BATCH, "{seen}");
    assert_eq!(seen["federated_bundles"], serde_json::json!([]), "{seen}");
    assert_eq!(seen["x509_bundles"], own_only, "{seen}");
    assert_eq!(seen["jwt_bundles"], own_only, "{seen}");
    assert_eq!(seen["py_spiffe_foreign_bundle"], false, "{seen}");
    assert_eq!(seen["validated"], Value::Null, "{seen}");
    assert!(
        seen["validate_error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{seen}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relationship_declared_in_server_toml_federates_and_is_not_deleted_by_the_cli() {
    let b = federating_server(ORDERS, Publish::HttpsSpiffe).await;
    let bootstrap = own_spiffe_bundle(&b).await;
    let declared = format!(
        "[[federation.federates_with]]\ntrust_domain = \"{ORDERS}\"\n\
         bundle_endpoint_url = \"{}\"\nprofile = \"https_spiffe\"\n\
         endpoint_spiffe_id = \"{}\"\n",
        endpoint_url(&b),
        b.spiffe_id()
    );
    let a = Server::start_in(Store::Sqlite, PAY, |dir| {
        let file = dir.join("orders.example.bundle.json");
        std::fs::write(&file, &bootstrap).unwrap();
        let declared = format!("{declared}bootstrap_bundle_path = \"{}\"\n", file.display());
        federation_toml(&Publish::Nothing, None, &declared)
    })
    .await;
    let rel = await_fetched(&a, ORDERS).await;
    assert_eq!(rel["declared_in_config"], true, "{rel}");
    assert_eq!(rel["trust_domain"], ORDERS, "{rel}");

    let refused = a
        .cli(&["federation", "delete", "--trust-domain", ORDERS])
        .await;
    assert!(!refused.status.success(), "{refused}");
    assert!(
        refused.stderr.contains("server.toml"),
        "the refusal says where the relationship is declared: {refused}"
    );

    let a_agent = Agent::start(&a).await;
    let b_agent = Agent::start(&b).await;
    let uid = my_uid();
    create_uid_entry(
        &a,
        CHECKOUT,
        &a_agent.id,
        uid,
        &["--federates-with", ORDERS],
    )
    .await;
    create_uid_entry(&b, ORDERS_API, &b_agent.id, uid, &[]).await;
    let (_, orders_resp) = wait_for_svids(&b_agent.socket, &[ORDERS_API]).await;
    let (mut watch, first) = wait_for_svids(&a_agent.socket, &[CHECKOUT]).await;
    let (_, handed) = await_federated(&mut watch, first, ORDERS).await;
    verify_x509_svid(
        &chain(&orders_resp),
        &bundle_of(ORDERS, &handed, 0),
        SystemTime::now(),
    )
    .unwrap_or_else(|e| panic!("B's SVID does not verify with the handed bundle: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_bundle_change_reaches_an_open_stream_promptly() {
    const OTHER: &str = "other.example";
    let a = federating_server(PAY, Publish::Nothing).await;
    let agent = Agent::start(&a).await;
    let first = super::certs::TestCa::new("other.example CA 1").der();
    let second = super::certs::TestCa::new("other.example CA 2").der();
    set_bundle(&a, &bundle_of(OTHER, std::slice::from_ref(&first), 1)).await;

    let uid = my_uid();
    let entry = create_uid_entry(&a, CHECKOUT, &agent.id, uid, &[]).await;
    let (mut watch, resp) = wait_for_svids(&agent.socket, &[CHECKOUT]).await;
    assert!(
        resp.federated_bundles.is_empty(),
        "an entry that federates with nothing: {:?}",
        resp.federated_bundles.keys()
    );

    // The entry starts to federate: the open stream gains the bundle.
    let selector = format!("unix:uid:{uid}");
    let update = |federate: bool| {
        let mut args = vec![
            "entry",
            "update",
            "--id",
            &entry,
            "--spiffe-id",
            CHECKOUT,
            "--parent-id",
            &agent.id,
            "--selector",
            &selector,
        ];
        if federate {
            args.extend(["--federates-with", OTHER]);
        }
        let a = &a;
        async move { a.cli(&args).await.ok() }
    };
    update(true).await;
    let v1 = watch
        .until(PATIENCE, |r| federated(r, OTHER).is_some())
        .await;
    assert_eq!(federated(&v1, OTHER).unwrap(), vec![first.clone()]);

    // A new version of the foreign bundle: admin → change log → cache → Sync → agent → stream.
    let started = Instant::now();
    set_bundle(&a, &bundle_of(OTHER, &[first.clone(), second.clone()], 2)).await;
    let v2 = watch
        .until(PATIENCE, |r| {
            federated(r, OTHER).is_some_and(|certs| certs.len() == 2)
        })
        .await;
    let took = started.elapsed();
    println!("federation propagation_ms={}", took.as_millis());
    assert_eq!(federated(&v2, OTHER).unwrap(), vec![first, second]);
    assert!(
        took < std::time::Duration::from_secs(5),
        "the foreign bundle took {took:?} to reach the stream"
    );
    assert_eq!(
        lanyard_x509::split_der_certificates(&v2.svids[0].bundle).unwrap(),
        own_authorities(&a).await,
        "a foreign bundle update replaced the own trust domain's bundle"
    );

    // The entry stops federating: the stream loses the bundle.
    update(false).await;
    watch
        .until(PATIENCE, |r| federated(r, OTHER).is_none())
        .await;
}
