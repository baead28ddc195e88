//! Backup and restore as docs/operations.md tells an operator: the datastore of a running
//! server (SQLite: `sqlite3 .backup`; PostgreSQL: `pg_dump`) and its CA keys
//! (`<data_dir>/ca`), restored into a fresh server directory (and, for PostgreSQL, a fresh
//! schema). The restored server lists the same entries and agents, and the agent of the lost
//! server syncs with it on its stored identity: no new attestation, and a new entry reaches its
//! workload.

use std::os::unix::fs::DirBuilderExt as _;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::agent_client::wait_for_svids;
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::Server;
use crate::store::Store;

datastore_tests!(a_backup_of_a_running_server_restores_into_a_fresh_one_its_agents_follow);

/// Runs `program args`, panicking with its output unless it succeeds; returns its stdout.
fn run(program: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (install it to run this test): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `cp -a from to`: the CA keys with their modes.
fn copy_dir(from: &Path, to: &Path) {
    run("cp", &["-a", from.to_str().unwrap(), to.to_str().unwrap()]);
}

fn sorted(mut list: Vec<Value>) -> Vec<Value> {
    list.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    list
}

async fn agents(server: &Server) -> Value {
    server
        .cli(&["agent", "list", "--output", "json"])
        .await
        .json()["agents"]
        .clone()
}

async fn a_backup_of_a_running_server_restores_into_a_fresh_one_its_agents_follow(store: Store) {
    // PostgreSQL: where the dump comes from.
    let source = match &store {
        Store::Postgres(pg) => Some((pg.database_url().to_owned(), pg.schema().to_owned())),
        _ => None,
    };
    let mut server = Server::start(store).await;
    let agent = Agent::start(&server).await;
    let id = "spiffe://example.org/backup/workload";
    create_uid_entry(&server, id, &agent.id, my_uid(), &[]).await;
    wait_for_svids(&agent.socket, &[id]).await;
    agent.wait_ready().await;
    let entries = sorted(server.entries().await);
    let agents_before = agents(&server).await;

    // The backup, taken while the server runs: the datastore first, then the CA keys.
    let backup = tempfile::tempdir().unwrap();
    let data = server.data_dir();
    let restored_store = match &source {
        None => {
            let db = data.join("datastore.sqlite3");
            let to = backup.path().join("datastore.sqlite3");
            run(
                "sqlite3",
                &[db.to_str().unwrap(), &format!(".backup '{}'", to.display())],
            );
            Store::Sqlite
        }
        Some((database, schema)) => {
            let dump = run(
                "pg_dump",
                &[
                    "--dbname",
                    database,
                    "--schema",
                    schema,
                    "--no-owner",
                    "--no-privileges",
                ],
            );
            // Restored into a fresh schema of this test, as into a new database.
            let Some(Store::Postgres(fresh)) = Store::postgres().await else {
                unreachable!("LANYARD_TEST_POSTGRES_URL is set: the source schema exists");
            };
            let sql = String::from_utf8(dump)
                .unwrap()
                .replace(schema, fresh.schema());
            // The schema exists already (an empty database's `public` would, too).
            let sql: String = sql
                .lines()
                .filter(|l| !l.starts_with("CREATE SCHEMA "))
                .map(|l| format!("{l}\n"))
                .collect();
            let file = backup.path().join("dump.sql");
            std::fs::write(&file, sql).unwrap();
            run(
                "psql",
                &[
                    "--dbname",
                    database,
                    "--quiet",
                    "--set",
                    "ON_ERROR_STOP=1",
                    "--file",
                    file.to_str().unwrap(),
                ],
            );
            Store::Postgres(fresh)
        }
    };
    copy_dir(&data.join("ca"), &backup.path().join("ca"));

    // The server and its directory are lost.
    server.kill9();
    std::fs::remove_dir_all(&data).unwrap();

    // A fresh server directory with the backup in its data_dir.
    let restored = Server::start_with(restored_store, |dir| {
        let data = dir.join("data");
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&data)
            .unwrap();
        copy_dir(&backup.path().join("ca"), &data.join("ca"));
        if source.is_none() {
            std::fs::copy(
                backup.path().join("datastore.sqlite3"),
                data.join("datastore.sqlite3"),
            )
            .unwrap();
        }
        String::new()
    })
    .await;
    assert_eq!(sorted(restored.entries().await), entries);
    assert_eq!(agents(&restored).await, agents_before);

    // The agent reaches the restored server at its address and syncs on its stored identity:
    // a new entry reaches its workload, and it never attested again.
    agent.follow(&restored);
    let after = "spiffe://example.org/backup/after-restore";
    create_uid_entry(&restored, after, &agent.id, my_uid(), &[]).await;
    wait_for_svids(&agent.socket, &[id, after]).await;
    agent.wait_ready().await;
    let log = agent.log_text();
    assert_eq!(log.matches("node attested").count(), 1, "{log}");
}
