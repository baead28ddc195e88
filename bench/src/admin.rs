//! The server's admin API (`Entries`) over its Unix socket: the same service the
//! `lanyard-server entry ...` commands call, used directly so that a timed create or delete is
//! not dominated by starting a CLI process, and so that 1,000 entries go in two batches.

use std::path::Path;

use anyhow::{Result, anyhow, bail};
use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::admin::v1::entries_client::EntriesClient;
use lanyard_proto::lanyard::admin::v1::entry_result::Result as EntryOutcome;
use lanyard_proto::lanyard::types::v1 as types;
use tonic::transport::Channel;

use crate::workload::unix_channel;

/// The admin API's limit per `BatchCreateEntries` call.
const BATCH: usize = 500;

/// An entry for `spiffe_id` under `parent_id` selecting `unix:uid:<uid>`.
pub(crate) fn uid_entry(spiffe_id: String, parent_id: &str, uid: u32) -> types::Entry {
    types::Entry {
        spiffe_id,
        parent_id: parent_id.to_owned(),
        selectors: vec![types::Selector {
            r#type: "unix".to_owned(),
            value: format!("uid:{uid}"),
        }],
        ..Default::default()
    }
}

/// An `Entries` client on the admin socket.
pub(crate) struct Admin {
    entries: EntriesClient<Channel>,
}

impl Admin {
    /// Connects to the admin socket at `socket`.
    pub(crate) async fn connect(socket: &Path) -> Result<Admin> {
        Ok(Admin {
            entries: EntriesClient::new(unix_channel(socket).await?),
        })
    }

    /// `CreateEntry`; the new entry's ID.
    pub(crate) async fn create(&mut self, entry: types::Entry) -> Result<String> {
        let resp = self
            .entries
            .create_entry(api::CreateEntryRequest { entry: Some(entry) })
            .await?
            .into_inner();
        resp.entry
            .map(|e| e.id)
            .ok_or_else(|| anyhow!("CreateEntry returned no entry"))
    }

    /// `BatchCreateEntries` in batches of at most [`BATCH`]; every item must succeed.
    pub(crate) async fn create_all(&mut self, entries: Vec<types::Entry>) -> Result<Vec<String>> {
        let mut ids = Vec::with_capacity(entries.len());
        for chunk in entries.chunks(BATCH) {
            let resp = self
                .entries
                .batch_create_entries(api::BatchCreateEntriesRequest {
                    entries: chunk.to_vec(),
                })
                .await?
                .into_inner();
            for r in resp.results {
                match r.result {
                    Some(EntryOutcome::Entry(e)) => ids.push(e.id),
                    Some(EntryOutcome::Error(s)) => {
                        bail!("BatchCreateEntries item failed: {}", s.message)
                    }
                    None => bail!("BatchCreateEntries item without a result"),
                }
            }
        }
        Ok(ids)
    }

    /// `DeleteEntry`.
    pub(crate) async fn delete(&mut self, id: &str) -> Result<()> {
        self.entries
            .delete_entry(api::DeleteEntryRequest { id: id.to_owned() })
            .await?;
        Ok(())
    }
}
