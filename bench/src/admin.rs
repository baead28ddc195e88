//! The server's admin API (`Entries`, `LocalAuthority`, `Bundles`) over its Unix socket: the same services
//! the `lanyard-server entry ...` / `authority ...` commands call, used directly so that a timed
//! create, delete or taint is not dominated by starting a CLI process, and so that 1,000 entries
//! go in two batches.

use std::path::Path;

use anyhow::{Result, anyhow, bail};
use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::admin::v1::bundles_client::BundlesClient;
use lanyard_proto::lanyard::admin::v1::entries_client::EntriesClient;
use lanyard_proto::lanyard::admin::v1::entry_result::Result as EntryOutcome;
use lanyard_proto::lanyard::admin::v1::local_authority_client::LocalAuthorityClient;
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

/// `Entries`, `LocalAuthority` and `Bundles` clients on one connection to the admin socket.
pub(crate) struct Admin {
    entries: EntriesClient<Channel>,
    authorities: LocalAuthorityClient<Channel>,
    bundles: BundlesClient<Channel>,
}

/// One X.509 authority of the server, as `LocalAuthority` lists it.
#[derive(Debug, Clone)]
pub(crate) struct Authority {
    /// Its Subject Key Identifier, lowercase hex (the id the calls take).
    pub(crate) id: String,
    /// The CA certificate, DER.
    pub(crate) certificate: Vec<u8>,
    /// `ACTIVE`, `PREPARED`, `OLD`.
    pub(crate) state: api::AuthorityState,
}

impl Authority {
    fn of(info: Option<api::X509AuthorityInfo>, call: &str) -> Result<Authority> {
        let info = info.ok_or_else(|| anyhow!("{call} returned no authority"))?;
        Ok(Authority {
            state: info.state(),
            id: info.authority_id,
            certificate: info.certificate,
        })
    }
}

impl Admin {
    /// Connects to the admin socket at `socket`.
    pub(crate) async fn connect(socket: &Path) -> Result<Admin> {
        let channel = unix_channel(socket).await?;
        Ok(Admin {
            entries: EntriesClient::new(channel.clone()),
            authorities: LocalAuthorityClient::new(channel.clone()),
            bundles: BundlesClient::new(channel),
        })
    }

    /// `GetX509Authorities`: every published X.509 authority.
    pub(crate) async fn x509_authorities(&mut self) -> Result<Vec<Authority>> {
        let resp = self
            .authorities
            .get_x509_authorities(api::GetX509AuthoritiesRequest {})
            .await?
            .into_inner();
        resp.authorities
            .into_iter()
            .map(|a| Authority::of(Some(a), "GetX509Authorities"))
            .collect()
    }

    /// `PrepareX509Authority`: the new, published but not yet signing, authority.
    pub(crate) async fn prepare_x509(&mut self) -> Result<Authority> {
        let resp = self
            .authorities
            .prepare_x509_authority(api::PrepareX509AuthorityRequest {})
            .await?
            .into_inner();
        Authority::of(resp.prepared, "PrepareX509Authority")
    }

    /// `ActivateX509Authority`: the prepared authority `id` signs from now on; the one that did
    /// becomes old.
    pub(crate) async fn activate_x509(&mut self, id: &str) -> Result<Authority> {
        let resp = self
            .authorities
            .activate_x509_authority(api::ActivateX509AuthorityRequest {
                authority_id: id.to_owned(),
            })
            .await?
            .into_inner();
        Authority::of(resp.activated, "ActivateX509Authority")
    }

    /// `TaintX509Authority`: agents re-sign everything the old authority `id` signed.
    pub(crate) async fn taint_x509(&mut self, id: &str) -> Result<Authority> {
        let resp = self
            .authorities
            .taint_x509_authority(api::TaintX509AuthorityRequest {
                authority_id: id.to_owned(),
            })
            .await?
            .into_inner();
        Authority::of(resp.tainted, "TaintX509Authority")
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

    /// `SetFederatedBundle`: stores `trust_domain`'s bundle with these X.509 `authorities`
    /// (DER) and `sequence`, as `lanyard-server bundle set` does.
    pub(crate) async fn set_federated_bundle(
        &mut self,
        trust_domain: &str,
        authorities: &[Vec<u8>],
        sequence: u64,
    ) -> Result<()> {
        let bundle = types::Bundle {
            trust_domain: trust_domain.to_owned(),
            x509_authorities: authorities
                .iter()
                .map(|der| types::X509Authority {
                    asn1: der.clone(),
                    tainted: false,
                })
                .collect(),
            sequence_number: sequence,
            ..Default::default()
        };
        self.bundles
            .set_federated_bundle(api::SetFederatedBundleRequest {
                bundle: Some(bundle),
            })
            .await?;
        Ok(())
    }
}
