//! The Delegated Identity API (issue 17 point 4) on a real agent synced with a real server,
//! called with the public `spire-api` client a Cilium-style delegate uses: SVIDs by selectors
//! and by the PID of a child process, a rotation pushed on the open stream, bundles, JWT-SVIDs
//! that validate against the JWT bundles it streams; a delegate authorized by SPIFFE ID; and a
//! caller in neither list refused with `PermissionDenied` on every method.

use std::path::{Path, PathBuf};
use std::time::Duration;

use spiffe::transport::GrpcStatusCode;
use spiffe::{JwtSvid, TrustDomain, X509Svid};
use spire_api::pb::spire::api::agent::delegatedidentity::v1 as api;
use spire_api::pb::spire::api::types::Selector as ProtoSelector;
use spire_api::selectors::Selector;
use spire_api::{DelegateAttestationRequest, DelegatedIdentityClient, DelegatedIdentityError};
use tokio_stream::StreamExt as _;

use crate::agent_client::{unix_channel, wait_for_svids};
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::{PATIENCE, Server};
use crate::store::Store;

/// Selected by uid alone, short-lived so that it rotates during the test.
const BY_UID: &str = "spiffe://example.org/delegated/by-uid";
/// Selected by uid and gid: a PID's attestation gives both, the uid selector alone does not.
const BY_UID_GID: &str = "spiffe://example.org/delegated/by-uid-gid";
/// The delegate's own identity, in the SPIFFE ID test.
const DELEGATE: &str = "spiffe://example.org/delegated/delegate";
const TTL: u64 = 30;

/// `[delegated_identity]` with the socket in the agent's tempdir and `lists` appended.
fn delegated_table(lists: &str) -> impl FnOnce(&Path) -> String {
    let lists = lists.to_owned();
    move |dir: &Path| {
        format!(
            "[delegated_identity]\nsocket_path = \"{}\"\n{lists}\n",
            socket(dir).display()
        )
    }
}

fn socket(dir: &Path) -> PathBuf {
    dir.join("delegated").join("api.sock")
}

/// A server and an agent with `[delegated_identity]` listing `lists`.
async fn agent_with(lists: &str) -> (Server, Agent, PathBuf) {
    let server = Server::start(Store::Sqlite).await;
    let (token, id, _) = server.token(&[]).await;
    let mut dir = None;
    let table = delegated_table(lists);
    let agent = Agent::start_with(&server, id, Some(token), |d| {
        dir = Some(socket(d));
        table(d)
    })
    .await;
    (server, agent, dir.unwrap())
}

async fn client(socket: &Path) -> DelegatedIdentityClient {
    tokio::time::timeout(
        PATIENCE,
        DelegatedIdentityClient::connect_to(format!("unix://{}", socket.display())),
    )
    .await
    .expect("connecting to the delegated identity socket hung")
    .unwrap_or_else(|e| panic!("connecting to {}: {e}", socket.display()))
}

fn by_uid() -> DelegateAttestationRequest {
    DelegateAttestationRequest::for_selectors(vec![Selector::Generic((
        "unix".into(),
        format!("uid:{}", my_uid()),
    ))])
    .unwrap()
}

/// The code and message of a refused call.
fn refusal(e: DelegatedIdentityError) -> (GrpcStatusCode, String) {
    match e {
        DelegatedIdentityError::Transport(spiffe::transport::TransportError::Status(s)) => {
            (s.code(), s.message().to_owned())
        }
        other => panic!("expected a gRPC status, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delegate_by_uid_gets_other_workloads_svids_bundles_and_jwt_svids() {
    let (server, agent, socket) = agent_with(&format!("authorized_uids = [{}]", my_uid())).await;
    let ttl = TTL.to_string();
    create_uid_entry(
        &server,
        BY_UID,
        &agent.id,
        my_uid(),
        &["--x509-svid-ttl", &ttl],
    )
    .await;
    let gid = format!("unix:gid:{}", nix::unistd::getgid().as_raw());
    create_uid_entry(
        &server,
        BY_UID_GID,
        &agent.id,
        my_uid(),
        &["--selector", &gid],
    )
    .await;
    wait_for_svids(&agent.socket, &[BY_UID, BY_UID_GID]).await;
    let delegate = client(&socket).await;

    // By selectors: only the entry whose selectors are all among them.
    let mut svids = delegate.stream_x509_svids(by_uid()).await.unwrap();
    let first: X509Svid = tokio::time::timeout(PATIENCE, svids.next())
        .await
        .expect("no first X.509 response")
        .expect("the stream ended")
        .unwrap();
    assert_eq!(first.spiffe_id().to_string(), BY_UID);

    // By the PID of a child process: the agent attests it (uid and gid), so both entries.
    let mut child = tokio::process::Command::new("sleep")
        .arg("600")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = i32::try_from(child.id().unwrap()).unwrap();
    let mut raw =
        api::delegated_identity_client::DelegatedIdentityClient::new(unix_channel(&socket).await);
    let mut by_pid = raw
        .subscribe_to_x509svi_ds(api::SubscribeToX509sviDsRequest {
            selectors: vec![],
            pid,
        })
        .await
        .unwrap_or_else(|s| panic!("by pid: {s:?}\n{}", agent.log_text()))
        .into_inner();
    let resp = tokio::time::timeout(PATIENCE, by_pid.message())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let mut ids: Vec<String> = resp
        .x509_svids
        .iter()
        .map(|s| {
            let id = s.x509_svid.as_ref().unwrap().id.as_ref().unwrap();
            format!("spiffe://{}{}", id.trust_domain, id.path)
        })
        .collect();
    ids.sort();
    assert_eq!(ids, [BY_UID, BY_UID_GID]);
    for svid in &resp.x509_svids {
        let chain: Vec<u8> = svid.x509_svid.as_ref().unwrap().cert_chain.concat();
        X509Svid::parse_from_der(&chain, &svid.x509_svid_key).expect("a usable SVID and key");
    }
    // Both fields at once is the caller's mistake.
    let both = raw
        .subscribe_to_x509svi_ds(api::SubscribeToX509sviDsRequest {
            selectors: vec![ProtoSelector {
                r#type: "unix".into(),
                value: "uid:0".into(),
            }],
            pid,
        })
        .await
        .unwrap_err();
    assert_eq!(both.code(), tonic::Code::InvalidArgument, "{both:?}");
    child.kill().await.unwrap();

    // The bundle is the server's.
    let bundles = delegate.fetch_x509_bundles().await.unwrap();
    let td = TrustDomain::new("example.org").unwrap();
    let bundle = bundles.get(&td).expect("no example.org X.509 bundle");
    let server_certs =
        lanyard_x509::certificates_from_pem(server.bundle_pem().await.as_bytes()).unwrap();
    let served: Vec<&[u8]> = bundle.authorities().iter().map(|c| c.as_bytes()).collect();
    let expected: Vec<&[u8]> = server_certs.iter().map(|c| c.as_bytes()).collect();
    assert_eq!(served, expected);

    // JWT-SVIDs validate against the JWT bundles the API hands out.
    let jwts = delegate
        .fetch_jwt_svids(&["delegated-audience"], by_uid())
        .await
        .unwrap();
    assert_eq!(jwts.len(), 1, "{jwts:?}");
    let jwt_bundles = delegate.fetch_jwt_bundles().await.unwrap();
    let valid = JwtSvid::parse_and_validate(jwts[0].token(), &jwt_bundles, &["delegated-audience"])
        .expect("the JWT-SVID validates against the delegated JWT bundle");
    assert_eq!(valid.spiffe_id().to_string(), BY_UID);

    // The open stream pushes the rotated SVID (half of the TTL, then signing).
    let guard = Duration::from_secs(TTL) + PATIENCE;
    let rotated = tokio::time::timeout(guard, async {
        loop {
            let next = svids.next().await.expect("the stream ended").unwrap();
            if next.leaf().as_bytes() != first.leaf().as_bytes() {
                return next;
            }
        }
    })
    .await
    .expect("no rotation pushed on the open stream");
    assert_eq!(rotated.spiffe_id().to_string(), BY_UID);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delegate_by_spiffe_id_is_served() {
    let (server, agent, socket) =
        agent_with(&format!("authorized_delegates = [\"{DELEGATE}\"]")).await;
    create_uid_entry(&server, DELEGATE, &agent.id, my_uid(), &[]).await;
    wait_for_svids(&agent.socket, &[DELEGATE]).await;
    let delegate = client(&socket).await;
    let bundles = delegate.fetch_jwt_bundles().await.unwrap();
    assert!(
        bundles
            .get(&TrustDomain::new("example.org").unwrap())
            .is_some(),
        "no JWT bundle for example.org"
    );
    let svid = delegate.fetch_x509_svid(by_uid()).await.unwrap();
    assert_eq!(svid.spiffe_id().to_string(), DELEGATE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_in_neither_list_is_refused_on_every_method() {
    let other = my_uid().wrapping_add(4242);
    let (server, agent, socket) = agent_with(&format!(
        "authorized_uids = [{other}]\nauthorized_delegates = [\"spiffe://example.org/someone-else\"]"
    ))
    .await;
    // The caller holds an identity, just not a listed one.
    create_uid_entry(&server, DELEGATE, &agent.id, my_uid(), &[]).await;
    wait_for_svids(&agent.socket, &[DELEGATE]).await;
    // Only the agent's user (and root) can reach the socket at all.
    let dir = std::fs::metadata(socket.parent().unwrap()).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&dir.permissions()) & 0o777,
        0o700
    );
    assert_eq!(std::os::unix::fs::MetadataExt::uid(&dir), my_uid());
    let delegate = client(&socket).await;
    let refused = [
        delegate.fetch_x509_svid(by_uid()).await.map(|_| ()),
        delegate.fetch_x509_bundles().await.map(|_| ()),
        delegate
            .fetch_jwt_svids(&["aud"], by_uid())
            .await
            .map(|_| ()),
        delegate.fetch_jwt_bundles().await.map(|_| ()),
    ];
    for result in refused {
        let (code, message) = refusal(result.unwrap_err());
        assert_eq!(code, GrpcStatusCode::PermissionDenied, "{message}");
        assert!(
            message.contains("not an authorized delegate") && message.contains("authorized_uids"),
            "{message}"
        );
    }
}
