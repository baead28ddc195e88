//! B rotates its CA (prepare, activate, taint, revoke) while A federates with it over
//! `https_spiffe` (issue 16 point 4, third bullet): A's workload holds B's new authority before
//! B's old one is revoked, by A's refresher polling at B's refresh hint (no `federation
//! refresh`, no restart), and loses the old one after the revoke; B's workload re-issued by the
//! new authority verifies with what A's workload was handed.

use std::time::{Instant, SystemTime};

use lanyard_x509::{CertDer, verify_x509_svid};

use super::{
    ORDERS, PAY, Publish, await_fetched, bundle_of, federate_https_spiffe, federated,
    federating_server, own_authorities,
};
use crate::agent_client::{SvidWatch, wait_for_svids};
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::PATIENCE;
use crate::hostile_agent::first_x509_authority;

const CHECKOUT: &str = "spiffe://pay.example/checkout";
const ORDERS_API: &str = "spiffe://orders.example/orders-api";

/// The chain of the one SVID in `watch`'s next message that verifies with `authorities` alone.
async fn await_signed_by(watch: &mut SvidWatch, authorities: &[CertDer]) -> Vec<CertDer> {
    let only = bundle_of(ORDERS, authorities, 0);
    let chain = |r: &lanyard_proto::workload::X509svidResponse| {
        lanyard_x509::split_der_certificates(&r.svids[0].x509_svid).unwrap()
    };
    let resp = watch
        .until(PATIENCE, |r| {
            verify_x509_svid(&chain(r), &only, SystemTime::now()).is_ok()
        })
        .await;
    chain(&resp)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_rotation_of_b_reaches_a_workloads_before_the_old_authority_is_revoked() {
    let a = federating_server(PAY, Publish::Nothing).await;
    let b = federating_server(ORDERS, Publish::HttpsSpiffe).await;
    let a_agent = Agent::start(&a).await;
    let b_agent = Agent::start(&b).await;
    federate_https_spiffe(&a, &b).await;
    await_fetched(&a, ORDERS).await;
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
    let pids = [a.pid(), b.pid(), a_agent.pid(), b_agent.pid()];

    let old = own_authorities(&b).await;
    assert_eq!(old.len(), 1, "B starts with one authority");
    let old_id = first_x509_authority(&b).await;
    let (mut a_watch, first) = wait_for_svids(&a_agent.socket, &[CHECKOUT]).await;
    a_watch
        .until_from(first, PATIENCE, |r| {
            federated(r, ORDERS).as_ref() == Some(&old)
        })
        .await;
    let (mut b_watch, _) = wait_for_svids(&b_agent.socket, &[ORDERS_API]).await;

    // prepare: B publishes the next authority; A's refresher picks it up at B's refresh hint.
    let prepared = b
        .cli(&["localauthority", "x509", "prepare", "--output", "json"])
        .await
        .json();
    let new_id = prepared["authority_id"].as_str().unwrap().to_owned();
    let both = own_authorities(&b).await;
    assert_eq!(both.len(), 2, "B publishes the prepared authority");
    let new: CertDer = both.iter().find(|c| !old.contains(c)).unwrap().clone();
    let started = Instant::now();
    a_watch
        .until(PATIENCE, |r| {
            federated(r, ORDERS).is_some_and(|certs| certs.contains(&new))
        })
        .await;
    println!(
        "federation rotation_prepared_to_foreign_workload_ms={}",
        started.elapsed().as_millis()
    );

    // activate, taint the old one: B's workload is re-issued by the new authority, and verifies
    // with the bundle A's workload already holds.
    for (verb, id) in [("activate", &new_id), ("taint", &old_id)] {
        b.cli(&["localauthority", "x509", verb, "--authority-id", id])
            .await
            .ok();
    }
    let reissued = await_signed_by(&mut b_watch, std::slice::from_ref(&new)).await;
    let held = SvidWatch::open(&a_agent.socket).await.unwrap().next().await;
    let held = federated(&held, ORDERS).expect("A's workload lost B's bundle");
    assert!(
        held.contains(&new) && held.contains(&old[0]),
        "before the revoke A's workload holds both authorities"
    );
    verify_x509_svid(&reissued, &bundle_of(ORDERS, &held, 0), SystemTime::now())
        .unwrap_or_else(|e| panic!("B's re-issued SVID does not verify on A's side: {e}"));

    // revoke: the old authority leaves B's bundle, then A's workload's.
    b.cli(&[
        "localauthority",
        "x509",
        "revoke",
        "--authority-id",
        &old_id,
    ])
    .await
    .ok();
    let resp = a_watch
        .until(PATIENCE, |r| {
            federated(r, ORDERS).as_ref() == Some(&vec![new.clone()])
        })
        .await;
    let handed = federated(&resp, ORDERS).unwrap();
    verify_x509_svid(&reissued, &bundle_of(ORDERS, &handed, 0), SystemTime::now())
        .unwrap_or_else(|e| panic!("B's SVID does not verify after the revoke: {e}"));

    assert_eq!(
        pids,
        [a.pid(), b.pid(), a_agent.pid(), b_agent.pid()],
        "nothing was restarted"
    );
}
