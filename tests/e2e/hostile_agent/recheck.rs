//! Issue 14 item 2: a connection is authenticated once, at its TLS handshake, but every call on
//! it — and every message of its Sync stream — checks the caller again. A raw client keeps one
//! HTTP/2 connection open past its SVID's expiry, or past the revocation of the authority that
//! signed it: its Sync stream ends and later calls on the same connection are refused with
//! `Unauthenticated`.

use tonic::Code;

use crate::agent::TestAgent;
use crate::harness::Server;
use crate::store::Store;

/// Asserts `result` is `Unauthenticated` with `words` in its message.
fn unauthenticated<T: std::fmt::Debug>(result: Result<T, tonic::Status>, words: &str) {
    let status = result.expect_err("the call was served");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert!(status.message().contains(words), "{status:?}");
}

/// The agent SVID lives 8 s; the connection outlives it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_outliving_its_svid_gets_nothing_more() {
    let server = Server::start_with(Store::Sqlite, |_| {
        "[svid]\ndefault_x509_ttl = \"8s\"\n".to_owned()
    })
    .await;
    let memory = super::MemoryBound::new(&server, 32);
    let (mut agent, entry_id) = TestAgent::with_entry(&server, "spiffe://example.org/web").await;
    let (mut stream, snapshot) = agent.sync().await.unwrap();
    assert_eq!(snapshot.entries.len(), 1);
    // Served while the SVID is valid.
    agent.sign_one(&entry_id).await.unwrap();

    // The stream ends at the expiry (within the harness's patience), with the reason.
    match stream.next().await {
        Some(Err(status)) => {
            assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
            assert!(status.message().contains("has expired"), "{status:?}");
        }
        other => panic!("the Sync stream went on past the SVID's expiry: {other:?}"),
    }
    // The same connection (the client has not reconnected: a new handshake with an expired
    // certificate would fail as a transport error, not with this status) is refused.
    unauthenticated(agent.sign_one(&entry_id).await, "has expired");
    unauthenticated(agent.mint_jwt(&[&entry_id], &["a"]).await, "has expired");
    memory.check(&server);
}

/// Taint then revoke the authority that signed the agent's SVID: a client that did not renew
/// (as a real agent does on taint) is cut off the moment the authority leaves the bundle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_whose_authority_is_revoked_gets_nothing_more() {
    let server = Server::start(Store::Sqlite).await;
    let memory = super::MemoryBound::new(&server, 32);
    let (mut agent, entry_id) = TestAgent::with_entry(&server, "spiffe://example.org/web").await;
    let (mut stream, _) = agent.sync().await.unwrap();

    let old = super::first_x509_authority(&server).await;
    let authority = |verb: &'static str, id: String| {
        let server = &server;
        async move {
            let mut args = vec!["localauthority", "x509", verb];
            if !id.is_empty() {
                args.extend(["--authority-id", id.as_str()]);
            }
            server.cli(&args).await.ok();
        }
    };
    authority("prepare", String::new()).await;
    authority("activate", String::new()).await;
    authority("taint", old.clone()).await;
    // Still in the bundle while tainted: served (a real agent re-signs now).
    agent.sign_one(&entry_id).await.unwrap();
    authority("revoke", old).await;

    loop {
        match stream.next().await {
            // The bundle updates and the taint notice may come first.
            Some(Ok(_)) => {}
            Some(Err(status)) => {
                assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
                assert!(
                    status.message().contains("no longer in the bundle"),
                    "{status:?}"
                );
                break;
            }
            None => panic!("the Sync stream ended without a status"),
        }
    }
    unauthenticated(agent.sign_one(&entry_id).await, "no longer in the bundle");
    memory.check(&server);
}
