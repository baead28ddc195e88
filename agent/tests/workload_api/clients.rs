//! The socket's life cycle, and the clients workloads use: the Rust `spiffe` crate and our CLI.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::process::ExitCode;

use clap::Parser;
use lanyard_agent::cli::{ApiCommand, healthcheck, run_api};
use lanyard_agent::store::SvidStore;
use lanyard_agent::workload::{UnixAttestorConfig, WorkloadApiError};
use lanyard_x509::{KeyPair, certificates_from_pem, parse_x509_svid};
use spiffe::WorkloadApiClient;

use lanyard_proto::workload::X509svidRequest;

use super::support::{Agent, Ca, my_uid, other_uid, serve, snapshot, with_header, within};

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn the_socket_is_world_connectable_in_a_0755_directory_and_removed_at_shutdown() {
    let agent = Agent::start().await;
    let socket = agent.socket.clone();
    assert!(
        std::fs::symlink_metadata(&socket)
            .unwrap()
            .file_type()
            .is_socket()
    );
    assert_eq!(mode(&socket), 0o777);
    assert_eq!(mode(socket.parent().unwrap()), 0o755);
    agent.stop().await.unwrap();
    assert!(!socket.exists(), "the socket is removed at shutdown");
}

#[tokio::test]
async fn shutdown_ends_open_streams_instead_of_waiting_for_them() {
    let agent = Agent::start().await;
    let ca = Ca::new("example.org");
    agent
        .store
        .publish(snapshot(vec![ca.svid("e1", "/w", &[my_uid()], "")], &[&ca]));
    let mut client = agent.raw_client().await;
    let mut stream = client
        .fetch_x509svid(with_header(X509svidRequest {}))
        .await
        .unwrap()
        .into_inner();
    within(stream.message()).await.unwrap().unwrap();

    agent.stop().await.unwrap();
    let status = within(stream.message()).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
}

#[tokio::test]
async fn a_stale_socket_is_replaced_but_a_live_socket_or_a_file_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("api.sock");
    let store = SvidStore::new();
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    assert!(socket.exists(), "a stale socket file stays behind");

    let (task, stop) = serve(&socket, &store, UnixAttestorConfig::default())
        .await
        .unwrap();
    let second = serve(&socket, &store, UnixAttestorConfig::default()).await;
    assert!(matches!(second, Err(WorkloadApiError::InUse { .. })));
    stop.send(()).unwrap();
    within(task).await.unwrap().unwrap();

    std::fs::write(&socket, "not a socket").unwrap();
    let refused = serve(&socket, &store, UnixAttestorConfig::default()).await;
    assert!(matches!(refused, Err(WorkloadApiError::NotASocket { .. })));
    assert_eq!(std::fs::read_to_string(&socket).unwrap(), "not a socket");
}

#[tokio::test]
async fn the_rust_spiffe_crate_fetches_the_svid_and_bundles() {
    let agent = Agent::start().await;
    let ca = Ca::new("example.org");
    agent.store.publish(snapshot(
        vec![ca.svid("e1", "/w", &[my_uid()], "db")],
        &[&ca],
    ));

    let client = within(WorkloadApiClient::connect_to(agent.uri()))
        .await
        .unwrap();
    let svid = within(client.fetch_x509_svid()).await.unwrap();
    assert_eq!(svid.spiffe_id().to_string(), "spiffe://example.org/w");
    assert_eq!(svid.hint(), Some("db"));
    assert_eq!(svid.cert_chain().len(), 1);
    let bundles = within(client.fetch_x509_bundles()).await.unwrap();
    let td = spiffe::TrustDomain::new("example.org").unwrap();
    assert_eq!(bundles.get(&td).unwrap().authorities().len(), 1);

    // The crate recognises the denial by its text.
    agent.store.publish(snapshot(
        vec![ca.svid("e1", "/w", &[other_uid()], "")],
        &[&ca],
    ));
    let single_slash = format!("unix:{}", agent.socket.display());
    let client = within(WorkloadApiClient::connect_to(single_slash))
        .await
        .unwrap();
    let err = within(client.fetch_x509_svid()).await.unwrap_err();
    assert!(
        matches!(err, spiffe::WorkloadApiError::NoIdentityIssued),
        "{err:?}"
    );
}

#[derive(Debug, Parser)]
struct Cli {
    #[command(subcommand)]
    api: ApiCommand,
}

#[tokio::test]
async fn cli_fetch_x509_writes_the_chain_a_private_key_file_and_the_bundle() {
    let agent = Agent::start().await;
    let ca = Ca::new("example.org");
    let svid = ca.svid("e1", "/w", &[my_uid()], "");
    agent.store.publish(snapshot(vec![svid.clone()], &[&ca]));
    let out = agent.dir.path().join("out");
    let cli = Cli::try_parse_from([
        "api",
        "fetch",
        "x509",
        "--socket-path",
        &agent.uri(),
        "--write",
        out.to_str().unwrap(),
        "--output",
        "json",
    ])
    .unwrap();
    assert_eq!(run_api(cli.api).await, ExitCode::SUCCESS);

    let chain = certificates_from_pem(&std::fs::read(out.join("svid.0.pem")).unwrap()).unwrap();
    assert_eq!(parse_x509_svid(&chain).unwrap().spiffe_id, svid.spiffe_id);
    let key_path = out.join("svid.0.key");
    assert_eq!(mode(&key_path), 0o600);
    let key = KeyPair::from_pkcs8_pem(&std::fs::read_to_string(&key_path).unwrap()).unwrap();
    assert_eq!(key.pkcs8_der(), svid.key_pkcs8.as_slice());
    let bundle = certificates_from_pem(&std::fs::read(out.join("bundle.0.pem")).unwrap()).unwrap();
    assert_eq!(bundle, ca.bundle().x509_authorities);
}

#[tokio::test]
async fn cli_rejects_tcp_and_relative_socket_paths() {
    for bad in ["tcp://127.0.0.1:8081", "relative/api.sock"] {
        let cli = Cli::try_parse_from(["api", "watch", "--socket-path", bad]).unwrap();
        assert_eq!(run_api(cli.api).await, ExitCode::FAILURE);
    }
}

#[tokio::test]
async fn healthcheck_passes_when_the_agent_answers_even_without_an_identity() {
    let agent = Agent::start().await;
    let uri = agent.uri();
    assert_eq!(
        healthcheck(Some(&uri)).await,
        ExitCode::FAILURE,
        "not synced yet"
    );

    let ca = Ca::new("example.org");
    agent.store.publish(snapshot(
        vec![ca.svid("e1", "/w", &[other_uid()], "")],
        &[&ca],
    ));
    assert_eq!(healthcheck(Some(&uri)).await, ExitCode::SUCCESS);

    agent.stop().await.unwrap();
    assert_eq!(
        healthcheck(Some(&uri)).await,
        ExitCode::FAILURE,
        "nobody listening"
    );
}
