//! The `Entries` service: registration entry CRUD, listing and counting.

use lanyard_datastore::{EntryFilter, MatchMode, PageRequest, Selector, SelectorMatch};
use lanyard_id::SpiffeId;
use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::types::v1 as pb;
use tonic::{Request, Response, Status};

use super::error::status;
use super::{caller, page_size, required};
use crate::convert::{entry_from_pb, entry_to_pb};
use crate::state::ServerState;

/// Most entries one `BatchCreateEntries` call may carry (admin.proto).
const MAX_BATCH: usize = 500;

/// Implements [`api::entries_server::Entries`].
#[derive(Debug, Clone)]
pub(super) struct EntriesService {
    pub(super) state: ServerState,
}

impl EntriesService {
    fn validate(&self, e: pb::Entry) -> Result<lanyard_datastore::Entry, Status> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        entry_from_pb(e, &self.state.entry_rules(now)).map_err(status)
    }
}

fn audit_entry(who: &str, action: &str, e: &lanyard_datastore::Entry) {
    audit!(
        who,
        action,
        entry_id = %e.id,
        spiffe_id = %e.spiffe_id,
        parent_id = %e.parent_id,
        "admin changed a registration entry"
    );
}

fn entry_arg(e: Option<pb::Entry>) -> Result<pb::Entry, Status> {
    e.ok_or_else(|| Status::invalid_argument("`entry` is required"))
}

/// Parses a selector filter; `field` names it in errors (`filter.selectors`).
pub(super) fn selector_match(
    field: &str,
    f: Option<api::SelectorFilter>,
) -> Result<Option<SelectorMatch>, Status> {
    let Some(f) = f else { return Ok(None) };
    if f.selectors.is_empty() {
        return Err(Status::invalid_argument(format!(
            "`{field}.selectors` is empty: give at least one selector, or omit the selector filter"
        )));
    }
    let selectors = f
        .selectors
        .into_iter()
        .map(|s| {
            Selector::new(s.r#type.clone(), s.value.clone()).map_err(|e| {
                Status::invalid_argument(format!(
                    "`{field}.selectors`: {:?}: {e}",
                    format!("{}:{}", s.r#type, s.value)
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mode = match api::SelectorMatch::try_from(f.r#match) {
        Ok(api::SelectorMatch::Unspecified | api::SelectorMatch::Exact) => MatchMode::Exact,
        Ok(api::SelectorMatch::Subset) => MatchMode::Subset,
        Ok(api::SelectorMatch::Superset) => MatchMode::Superset,
        Ok(api::SelectorMatch::Any) => MatchMode::Any,
        Err(_) => {
            return Err(Status::invalid_argument(format!(
                "`{field}.match` {} is not a known SelectorMatch value (1 = exact .. 4 = any)",
                f.r#match
            )));
        }
    };
    Ok(Some(SelectorMatch { selectors, mode }))
}

fn filter_id(field: &str, value: Option<String>) -> Result<Option<SpiffeId>, Status> {
    value
        .map(|v| {
            SpiffeId::parse(&v).map_err(|e| {
                Status::invalid_argument(format!("`{field}` {v:?} is not a SPIFFE ID: {e}"))
            })
        })
        .transpose()
}

fn entry_filter(f: Option<api::EntryFilter>) -> Result<EntryFilter, Status> {
    let f = f.unwrap_or_default();
    Ok(EntryFilter {
        spiffe_id: filter_id("filter.spiffe_id", f.spiffe_id)?,
        parent_id: filter_id("filter.parent_id", f.parent_id)?,
        selectors: selector_match("filter.selectors", f.selectors)?,
        // Federation: the `federates_with` filter is not wired up yet.
        federates_with: None,
    })
}

#[tonic::async_trait]
impl api::entries_server::Entries for EntriesService {
    async fn create_entry(
        &self,
        req: Request<api::CreateEntryRequest>,
    ) -> Result<Response<api::CreateEntryResponse>, Status> {
        let who = caller(&req);
        let entry = self.validate(entry_arg(req.into_inner().entry)?)?;
        let stored = self
            .state
            .datastore()
            .create_entry(entry)
            .await
            .map_err(status)?;
        audit_entry(&who, "entry.create", &stored);
        Ok(Response::new(api::CreateEntryResponse {
            entry: Some(entry_to_pb(&stored)),
        }))
    }

    async fn batch_create_entries(
        &self,
        req: Request<api::BatchCreateEntriesRequest>,
    ) -> Result<Response<api::BatchCreateEntriesResponse>, Status> {
        let who = caller(&req);
        let entries = req.into_inner().entries;
        if entries.len() > MAX_BATCH {
            return Err(Status::invalid_argument(format!(
                "`entries` has {} items; at most {MAX_BATCH} per call, split the batch",
                entries.len()
            )));
        }
        // Invalid items fail on their own; the valid ones go to the datastore in one commit.
        let checked: Vec<Result<lanyard_datastore::Entry, Status>> =
            entries.into_iter().map(|e| self.validate(e)).collect();
        let valid = checked.iter().filter_map(|c| c.as_ref().ok().cloned());
        let mut stored = self
            .state
            .datastore()
            .create_entries(valid.collect())
            .await
            .map_err(status)?
            .into_iter();
        let mut results = Vec::with_capacity(checked.len());
        for c in checked {
            let outcome = match c {
                Err(s) => Err(s),
                Ok(_) => match stored.next() {
                    Some(r) => r.map_err(status),
                    None => Err(Status::internal("datastore returned too few batch results")),
                },
            };
            let result = match outcome {
                Ok(e) => {
                    audit_entry(&who, "entry.create", &e);
                    api::entry_result::Result::Entry(entry_to_pb(&e))
                }
                Err(s) => api::entry_result::Result::Error(pb::Status {
                    code: i32::from(s.code()),
                    message: s.message().to_owned(),
                }),
            };
            results.push(api::EntryResult {
                result: Some(result),
            });
        }
        Ok(Response::new(api::BatchCreateEntriesResponse { results }))
    }

    async fn update_entry(
        &self,
        req: Request<api::UpdateEntryRequest>,
    ) -> Result<Response<api::UpdateEntryResponse>, Status> {
        let who = caller(&req);
        let e = entry_arg(req.into_inner().entry)?;
        required("entry.id", &e.id, "the id printed by `entry show`")?;
        let entry = self.validate(e)?;
        let expected = (entry.revision != 0).then_some(entry.revision);
        let stored = self
            .state
            .datastore()
            .update_entry(entry, expected)
            .await
            .map_err(status)?;
        audit_entry(&who, "entry.update", &stored);
        Ok(Response::new(api::UpdateEntryResponse {
            entry: Some(entry_to_pb(&stored)),
        }))
    }

    async fn delete_entry(
        &self,
        req: Request<api::DeleteEntryRequest>,
    ) -> Result<Response<api::DeleteEntryResponse>, Status> {
        let who = caller(&req);
        let id = req.into_inner().id;
        required("id", &id, "the id printed by `entry show`")?;
        let gone = self
            .state
            .datastore()
            .delete_entry(&id)
            .await
            .map_err(status)?;
        audit_entry(&who, "entry.delete", &gone);
        Ok(Response::new(api::DeleteEntryResponse {}))
    }

    async fn get_entry(
        &self,
        req: Request<api::GetEntryRequest>,
    ) -> Result<Response<api::GetEntryResponse>, Status> {
        let id = req.into_inner().id;
        required("id", &id, "the id printed by `entry show`")?;
        let entry = self
            .state
            .datastore()
            .get_entry(&id)
            .await
            .map_err(status)?
            .ok_or_else(|| {
                Status::not_found(format!(
                    "registration entry not found: {id}; list entries with `entry show`"
                ))
            })?;
        Ok(Response::new(api::GetEntryResponse {
            entry: Some(entry_to_pb(&entry)),
        }))
    }

    async fn list_entries(
        &self,
        req: Request<api::ListEntriesRequest>,
    ) -> Result<Response<api::ListEntriesResponse>, Status> {
        let req = req.into_inner();
        let filter = entry_filter(req.filter)?;
        let page = PageRequest {
            page_size: page_size(req.page_size),
            page_token: (!req.page_token.is_empty()).then_some(req.page_token),
        };
        let page = self
            .state
            .datastore()
            .list_entries(&filter, &page)
            .await
            .map_err(status)?;
        Ok(Response::new(api::ListEntriesResponse {
            entries: page.items.iter().map(entry_to_pb).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn count_entries(
        &self,
        req: Request<api::CountEntriesRequest>,
    ) -> Result<Response<api::CountEntriesResponse>, Status> {
        let filter = entry_filter(req.into_inner().filter)?;
        let count = self
            .state
            .datastore()
            .count_entries(&filter)
            .await
            .map_err(status)?;
        Ok(Response::new(api::CountEntriesResponse { count }))
    }
}
