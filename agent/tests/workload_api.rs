//! The Workload API end to end: a real Unix socket, the real handler and unix attestor, a store
//! filled with SVIDs minted at test time; this test process is the workload.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on unexpected errors"
)]

#[path = "workload_api/clients.rs"]
mod clients;
#[path = "workload_api/support.rs"]
mod support;

use lanyard_agent::workload::UnixAttestorConfig;
use lanyard_proto::workload::{
    JwtBundlesRequest, JwtsvidRequest, ValidateJwtsvidRequest, X509BundlesRequest, X509svidRequest,
    X509svidResponse,
};
use lanyard_x509::{KeyPair, parse_x509_svid, split_der_certificates};
use tonic::{Code, Request, Streaming};

use support::{Agent, Ca, my_uid, other_uid, snapshot, with_header, within};

async fn next(stream: &mut Streaming<X509svidResponse>) -> Result<X509svidResponse, tonic::Status> {
    within(stream.message())
        .await
        .map(|m| m.expect("the stream ended without a status"))
}

fn ids(resp: &X509svidResponse) -> Vec<&str> {
    resp.svids.iter().map(|s| s.spiffe_id.as_str()).collect()
}

#[tokio::test]
async fn a_request_without_the_security_header_is_invalid_argument() {
    let agent = Agent::start().await;
    let ca = Ca::new("example.org");
    agent
        .store
        .publish(snapshot(vec![ca.svid("e1", "/w", &[my_uid()], "")], &[&ca]));
    let mut client = agent.raw_client().await;

    let status = client.fetch_x509svid(X509svidRequest {}).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(status.message(), "security header missing from request");
    let status = client
        .fetch_x509_bundles(X509BundlesRequest {})
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let mut wrong = Request::new(JwtsvidRequest::default());
    wrong
        .metadata_mut()
        .insert("workload.spiffe.io", "false".parse().unwrap());
    let status = client.fetch_jwtsvid(wrong).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn an_agent_that_has_not_synced_is_unavailable() {
    let agent = Agent::start().await;
    let mut client = agent.raw_client().await;
    let status = client
        .fetch_x509svid(with_header(X509svidRequest {}))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
}

#[tokio::test]
async fn a_caller_matching_no_entry_is_denied_no_identity_issued() {
    let agent = Agent::start().await;
    let ca = Ca::new("example.org");
    agent.store.publish(snapshot(
        vec![ca.svid("e1", "/someone-else", &[other_uid()], "")],
        &[&ca],
    ));
    let mut client = agent.raw_client().await;
    for status in [
        client
            .fetch_x509svid(with_header(X509svidRequest {}))
            .await
            .unwrap_err(),
        client
            .fetch_x509_bundles(with_header(X509BundlesRequest {}))
            .await
            .unwrap_err(),
    ] {
        assert_eq!(status.code(), Code::PermissionDenied);
        assert!(
            status.message().contains("no identity issued"),
            "{status:?}"
        );
    }
}

#[tokio::test]
async fn a_matching_entry_gets_its_svid_key_and_bundle_and_not_another_uids() {
    let agent = Agent::start().await;
    let ca = Ca::new("example.org");
    let federated = Ca::new("partner.org");
    let mine = ca.svid("e1", "/mine", &[my_uid()], "internal");
    agent.store.publish(snapshot(
        vec![mine.clone(), ca.svid("e2", "/theirs", &[other_uid()], "")],
        &[&ca, &federated],
    ));
    let mut client = agent.raw_client().await;
    let mut stream = client
        .fetch_x509svid(with_header(X509svidRequest {}))
        .await
        .unwrap()
        .into_inner();
    let resp = next(&mut stream).await.unwrap();

    assert_eq!(
        ids(&resp),
        ["spiffe://example.org/mine"],
        "only this uid's entry"
    );
    let svid = &resp.svids[0];
    assert_eq!(svid.hint, "internal");
    let chain = split_der_certificates(&svid.x509_svid).unwrap();
    let parsed = parse_x509_svid(&chain).unwrap();
    assert_eq!(parsed.spiffe_id, mine.spiffe_id);
    let key = KeyPair::from_pkcs8_der(&svid.x509_svid_key).unwrap();
    assert_eq!(key.public_key_spki_der(), parsed.public_key_spki_der);
    assert_eq!(svid.bundle, ca.bundle().x509_authorities_der());
    assert_eq!(resp.federated_bundles.len(), 1);
    assert_eq!(
        resp.federated_bundles["spiffe://partner.org"],
        federated.bundle().x509_authorities_der()
    );
}

#[tokio::test]
async fn the_stream_pushes_a_resigned_svid_as_its_next_message() {
    let agent = Agent::start().await;
    let ca = Ca::new("example.org");
    let first = ca.svid("e1", "/w", &[my_uid()], "");
    agent.store.publish(snapshot(vec![first.clone()], &[&ca]));
    let mut client = agent.raw_client().await;
    let mut stream = client
        .fetch_x509svid(with_header(X509svidRequest {}))
        .await
        .unwrap()
        .into_inner();
    let before = next(&mut stream).await.unwrap();

    // Another uid's entry appears: nothing changes for this caller (the handler's unit tests
    // show nothing is sent)...
    let theirs = ca.svid("e2", "/theirs", &[other_uid()], "");
    agent
        .store
        .publish(snapshot(vec![first.clone(), theirs.clone()], &[&ca]));
    // ...and the next message is the re-signed SVID.
    let resigned = ca.svid("e1", "/w", &[my_uid()], "");
    agent
        .store
        .publish(snapshot(vec![resigned.clone(), theirs], &[&ca]));
    let after = next(&mut stream).await.unwrap();

    assert_ne!(before.svids[0].x509_svid, after.svids[0].x509_svid);
    let chain = split_der_certificates(&after.svids[0].x509_svid).unwrap();
    assert_eq!(chain, resigned.chain);
    assert_eq!(*after.svids[0].x509_svid_key, *resigned.key_pkcs8);
}

#[tokio::test]
async fn a_removed_entry_is_absent_from_the_next_message_and_the_last_one_ends_the_stream() {
    let agent = Agent::start().await;
    let ca = Ca::new("example.org");
    let a = ca.svid("a", "/a", &[my_uid()], "");
    let b = ca.svid("b", "/b", &[my_uid()], "");
    agent
        .store
        .publish(snapshot(vec![a.clone(), b.clone()], &[&ca]));
    let mut client = agent.raw_client().await;
    let mut stream = client
        .fetch_x509svid(with_header(X509svidRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        ids(&next(&mut stream).await.unwrap()),
        ["spiffe://example.org/a", "spiffe://example.org/b"]
    );

    agent.store.publish(snapshot(vec![b], &[&ca]));
    assert_eq!(
        ids(&next(&mut stream).await.unwrap()),
        ["spiffe://example.org/b"]
    );

    agent.store.publish(snapshot(vec![], &[&ca]));
    let status = next(&mut stream).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(status.message().contains("no identity issued"));
}

#[tokio::test]
async fn fetch_x509_bundles_streams_every_trust_domain_keyed_by_id() {
    let agent = Agent::start().await;
    let ca = Ca::new("example.org");
    let partner = Ca::new("partner.org");
    let svids = vec![ca.svid("e1", "/w", &[my_uid()], "")];
    agent.store.publish(snapshot(svids.clone(), &[&ca]));
    let mut client = agent.raw_client().await;
    let mut stream = client
        .fetch_x509_bundles(with_header(X509BundlesRequest {}))
        .await
        .unwrap()
        .into_inner();
    let first = within(stream.message()).await.unwrap().unwrap();
    assert_eq!(
        first.bundles.keys().collect::<Vec<_>>(),
        ["spiffe://example.org"]
    );

    agent.store.publish(snapshot(svids, &[&ca, &partner]));
    let second = within(stream.message()).await.unwrap().unwrap();
    assert_eq!(second.bundles.len(), 2);
    assert_eq!(
        second.bundles["spiffe://partner.org"],
        partner.bundle().x509_authorities_der()
    );
}

#[tokio::test]
async fn jwt_rpcs_are_unimplemented_for_now() {
    let agent = Agent::start().await;
    let mut client = agent.raw_client().await;
    let statuses = [
        client
            .fetch_jwtsvid(with_header(JwtsvidRequest {
                audience: vec!["x".into()],
                spiffe_id: String::new(),
            }))
            .await
            .unwrap_err(),
        client
            .fetch_jwt_bundles(with_header(JwtBundlesRequest {}))
            .await
            .unwrap_err(),
        client
            .validate_jwtsvid(with_header(ValidateJwtsvidRequest {
                audience: "x".into(),
                svid: "a.b.c".into(),
            }))
            .await
            .unwrap_err(),
    ];
    for status in statuses {
        assert_eq!(status.code(), Code::Unimplemented);
        assert!(
            status.message().contains("JWT-SVIDs are not supported"),
            "{status:?}"
        );
    }
}

#[tokio::test]
async fn an_entry_selecting_the_test_binarys_sha256_is_served_when_path_discovery_is_on() {
    let agent = Agent::start_with(UnixAttestorConfig {
        discover_workload_path: true,
        workload_size_limit: 0,
    })
    .await;
    let exe = std::env::current_exe().unwrap();
    let digest = ring::digest::digest(&ring::digest::SHA256, &std::fs::read(&exe).unwrap());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    let ca = Ca::new("example.org");
    let by_hash = lanyard_agent::store::Selector::new("unix", format!("sha256:{hex}"));
    let by_path = lanyard_agent::store::Selector::new("unix", format!("path:{}", exe.display()));
    agent.store.publish(snapshot(
        vec![ca.svid("e1", "/binary", &[by_hash, by_path], "")],
        &[&ca],
    ));
    let mut client = agent.raw_client().await;
    let mut stream = client
        .fetch_x509svid(with_header(X509svidRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        ids(&next(&mut stream).await.unwrap()),
        ["spiffe://example.org/binary"]
    );
}
