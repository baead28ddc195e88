//! The socket and its directory; the CLI's connection errors and healthcheck.

use std::os::unix::fs::PermissionsExt as _;

use super::*;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn socket_directory_is_created_0700_and_socket_removed_on_shutdown() {
    let server = TestServer::sqlite().await;
    let dir = server.socket.parent().unwrap().to_owned();
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(server.cli_ok(&["healthcheck"]).await, "server is healthy\n");
    let socket = server.socket.clone();
    server.stop().await.unwrap();
    assert!(!socket.exists(), "socket left behind after shutdown");
}

async fn serve_once(dir: &tempfile::TempDir, socket: &Path) -> Result<(), AdminServeError> {
    let url = dir.path().join("ds.sqlite3").to_str().unwrap().to_owned();
    let ds = Datastore::connect(&url).await.unwrap();
    let td = TrustDomain::new("example.org").unwrap();
    let ca = Ca::open(
        td,
        KeyType::EcP256,
        CA_TTL,
        &dir.path().join("ca"),
        ds.clone(),
        SystemTime::now(),
    )
    .await
    .unwrap();
    let state = ServerState::new(ds, ca, CA_TTL, CA_TTL, CA_TTL, Vec::new());
    // Shut down at once: these tests are about what happens before serving.
    serve_admin(state, socket, async {}).await
}

#[tokio::test]
async fn refuses_a_directory_others_can_enter() {
    let dir = tempfile::tempdir().unwrap();
    let open = dir.path().join("shared");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = serve_once(&dir, &open.join("api.sock")).await.unwrap_err();
    assert!(
        matches!(err, AdminServeError::DirectoryTooOpen { mode: 0o755, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("chmod 700"), "{err}");
    assert_eq!(mode(&open), 0o755, "the directory must be left alone");
}

#[tokio::test]
async fn refuses_a_directory_another_user_owns() {
    let dir = tempfile::tempdir().unwrap();
    let me = nix::unistd::geteuid().as_raw();
    // As root: a private directory given to nobody. Otherwise root's own `/` is another's.
    let foreign = if me == 0 {
        let d = dir.path().join("nobodys");
        std::fs::create_dir(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::os::unix::fs::chown(&d, Some(65534), Some(65534)).unwrap();
        d
    } else {
        PathBuf::from("/")
    };
    let err = serve_once(&dir, &foreign.join("api.sock"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AdminServeError::DirectoryNotOwned { server, .. } if server == me),
        "{err}"
    );
    assert!(err.to_string().contains("chown"), "{err}");
    assert!(!foreign.join("api.sock").exists(), "nothing bound there");
}

#[tokio::test]
async fn replaces_a_stale_socket_but_not_a_live_one_or_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("private");
    std::fs::create_dir(&private).unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    let socket = private.join("api.sock");

    // Stale: bound then closed, the file stays.
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    assert!(socket.exists());
    serve_once(&dir, &socket).await.unwrap();

    // Live: someone accepts on it.
    let live = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let err = serve_once(&dir, &socket).await.unwrap_err();
    assert!(matches!(err, AdminServeError::InUse { .. }), "{err}");
    drop(live);
    std::fs::remove_file(&socket).unwrap();

    // Not a socket: never deleted.
    std::fs::write(&socket, b"precious").unwrap();
    let err = serve_once(&dir, &socket).await.unwrap_err();
    assert!(matches!(err, AdminServeError::NotASocket { .. }), "{err}");
    assert_eq!(std::fs::read(&socket).unwrap(), b"precious");
}

#[tokio::test]
async fn cli_says_when_the_socket_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.sock");
    let mut out = String::new();
    let err = cli::execute(
        cli::tests_support::parse(&["healthcheck", "--socket-path", missing.to_str().unwrap()]),
        &mut out,
    )
    .await
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "cannot reach the admin socket at {}: is lanyard-server running? (set --socket-path)",
            missing.display()
        )),
        "{msg}"
    );
    assert_eq!(err.exit_code(), std::process::ExitCode::FAILURE);
}

#[tokio::test]
async fn jwt_calls_answer_over_the_socket() {
    use lanyard_proto::lanyard::admin::v1 as api;
    let server = TestServer::sqlite().await;
    let mut la = api::local_authority_client::LocalAuthorityClient::new(server.channel().await);
    let keys = la
        .get_jwt_authorities(api::GetJwtAuthoritiesRequest {})
        .await
        .unwrap()
        .into_inner()
        .authorities;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].state, i32::from(api::AuthorityState::Active));
    let mut jwt = api::jwt_client::JwtClient::new(server.channel().await);
    let s = jwt
        .mint_jwt_svid(api::MintJwtSvidRequest::default())
        .await
        .unwrap_err();
    assert_eq!(s.code(), tonic::Code::InvalidArgument);
    assert!(s.message().contains("spiffe_id"), "{}", s.message());
}
