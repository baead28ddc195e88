//! Issue 13 item 4: the agent will not serve on a socket another user could replace.

use std::os::unix::fs::MetadataExt as _;
use std::path::Path;

use crate::agent_client::wait_for_svids;
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::Server;
use crate::store::Store;

/// Starts an agent after `prepare` has arranged its tempdir (the socket goes to
/// `<dir>/public/api.sock`).
async fn start(server: &Server, prepare: impl FnOnce(&Path)) -> Result<Agent, String> {
    let (token, id, _) = server.token(&[]).await;
    Agent::try_start_with(server, id, Some(token), |dir| {
        prepare(dir);
        String::new()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_directory_owned_by_another_user_is_refused() {
    let server = Server::start(Store::Sqlite).await;
    let foreign = |dir: &Path| {
        std::fs::create_dir(dir.join("public")).unwrap();
        std::os::unix::fs::chown(dir.join("public"), Some(65534), Some(65534)).unwrap();
    };
    let log = match start(&server, foreign).await {
        Ok(_) => panic!("the agent served in a directory uid 65534 owns"),
        Err(log) => log,
    };
    assert!(log.contains("public: owned by uid 65534"), "{log}");
    assert!(
        log.contains("another user could replace the Workload API socket"),
        "{log}"
    );
    assert!(log.contains("chmod go-w"), "{log}");

    // The same directory owned by root: the agent starts and serves.
    let owned = |dir: &Path| std::fs::create_dir(dir.join("public")).unwrap();
    let agent = start(&server, owned).await.unwrap();
    let id = "spiffe://example.org/hostile/after-the-fix";
    create_uid_entry(&server, id, &agent.id, my_uid(), &[]).await;
    wait_for_svids(&agent.socket, &[id]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_at_the_socket_path_is_refused_and_its_target_untouched() {
    let server = Server::start(Store::Sqlite).await;
    let target = tempfile::tempdir().unwrap();
    let victim = target.path().join("victim");
    std::fs::write(&victim, b"not yours").unwrap();
    let mode_before = std::fs::metadata(&victim).unwrap().mode();
    let link = |dir: &Path| {
        std::fs::create_dir(dir.join("public")).unwrap();
        std::os::unix::fs::symlink(&victim, dir.join("public/api.sock")).unwrap();
    };
    let log = match start(&server, link).await {
        Ok(_) => panic!("the agent served through a symbolic link"),
        Err(log) => log,
    };
    assert!(log.contains("api.sock is a symbolic link"), "{log}");
    assert_eq!(
        std::fs::metadata(&victim).unwrap().mode(),
        mode_before,
        "no chmod through the link"
    );
    assert_eq!(std::fs::read(&victim).unwrap(), b"not yours");
}
