//! The ready line is a promise scripts rely on: once `lanyard-server ready ...` is printed, the
//! admin socket, the agent API and the health endpoint all answer at once.

use crate::harness::Server;
use crate::store::Store;

/// Starts and restarts a server several times; after every ready line, each listener answers
/// straight away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_line_means_every_listener_answers() {
    let mut server = Server::start(Store::Sqlite).await;
    let mut late = 0;
    for round in 0..10 {
        if round > 0 {
            server.restart().await;
        }
        late += usize::from(server.admin_was_late());
        tokio::net::TcpStream::connect(server.agent_addr)
            .await
            .unwrap_or_else(|e| panic!("agent API {}: {e}", server.agent_addr));
        let ready = server.health("/ready").await;
        assert!(ready.contains(" 200 "), "GET /ready: {ready}");
        server.cli(&["healthcheck"]).await.ok();
    }
    assert_eq!(
        late, 0,
        "in {late} of 10 starts the admin socket did not accept connections when \
         `lanyard-server ready` was printed; scripts running an admin command right after it fail"
    );
}
