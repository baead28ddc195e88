//! Issue 21's cases that held before it, kept holding: a `kill -9` in the middle of entry
//! creations loses nothing that was acknowledged (four kills in a row), and a CA key file that
//! is garbled stops the start, naming the file, rather than being replaced.

use std::collections::BTreeSet;

use serde_json::Value;
use tokio::sync::mpsc;

use crate::harness::{PATIENCE, Server};
use crate::store::Store;

use super::faults::the_active;

datastore_tests!(kill9_loses_no_acknowledged_entry);

/// Entries are created one after another with the CLI while the server gets `kill -9`, four
/// times; every create that reported success is there after each restart.
async fn kill9_loses_no_acknowledged_entry(store: Store) {
    const BEFORE_KILL: usize = 10;
    let mut server = Server::start(store).await;
    let mut acknowledged = Vec::new();
    for round in 0..4 {
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        let socket = server.socket.clone();
        let creator = tokio::spawn(async move {
            let socket = socket.to_str().unwrap().to_owned();
            for i in 0.. {
                let spiffe_id = format!("spiffe://example.org/crash/{round}/{i}");
                let out = crate::cli::lanyard_server(&[
                    "entry",
                    "create",
                    "--spiffe-id",
                    &spiffe_id,
                    "--parent-id",
                    "spiffe://example.org/node",
                    "--selector",
                    "unix:uid:1000",
                    "--output",
                    "json",
                    "--socket-path",
                    &socket,
                ])
                .await;
                if !out.status.success() {
                    return (i, out);
                }
                let e: Value = serde_json::from_str(&out.stdout).unwrap();
                if tx.send(e["id"].as_str().unwrap().to_owned()).is_err() {
                    panic!("the test stopped listening");
                }
            }
            unreachable!()
        });

        let before = acknowledged.len();
        while acknowledged.len() < before + BEFORE_KILL {
            let id = tokio::time::timeout(PATIENCE, rx.recv())
                .await
                .expect("entry creates stalled")
                .expect("the create loop ended before the kill");
            acknowledged.push(id);
        }
        server.kill9();
        let (attempts, failure) = tokio::time::timeout(PATIENCE, creator)
            .await
            .expect("the create loop did not notice the kill")
            .unwrap();
        while let Ok(id) = rx.try_recv() {
            acknowledged.push(id);
        }
        assert!(acknowledged.len() >= before + BEFORE_KILL);

        server.start_again().await;
        let stored: BTreeSet<String> = server
            .entries()
            .await
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect();
        let lost: Vec<&String> = acknowledged
            .iter()
            .filter(|id| !stored.contains(*id))
            .collect();
        assert!(
            lost.is_empty(),
            "kill {round}: {} of {} acknowledged creates lost after kill -9 (attempts: \
             {attempts}): {lost:?}\nthe create that failed: {failure}",
            lost.len(),
            acknowledged.len()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbled_ca_key_is_refused_at_start_naming_the_file() {
    let mut server = Server::start(Store::Sqlite).await;
    let active = the_active(&server, "x509").await;
    server.stop().await;
    let key = server.data_dir().join("ca").join(format!("{active}.key"));
    std::fs::write(&key, b"-----BEGIN GARBAGE-----\nnot a key\n").unwrap();
    let (status, log) = server.try_start_again_with(&[]).await.unwrap_err();
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(
        log.contains(&format!("CA key {} is unreadable", key.display())),
        "{log}"
    );
    // Refused, not replaced: the key file is as the operator left it.
    assert_eq!(
        std::fs::read(&key).unwrap(),
        b"-----BEGIN GARBAGE-----\nnot a key\n"
    );
}
