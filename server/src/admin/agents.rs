//! The `Agents` service: list, show, evict and ban attested agents.
//!
//! Banning only marks the record; the agent's push stream is closed by the Sync handler when it
//! sees the datastore's `AgentBanned` change event.

use lanyard_datastore::{AttestedAgent, MatchMode, PageRequest, Selector, SelectorMatch};
use lanyard_id::SpiffeId;
use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::types::v1 as pb;
use tonic::{Request, Response, Status};

use super::entries::selector_match;
use super::error::status;
use super::{caller, page_size, required};
use crate::state::ServerState;

/// Implements [`api::agents_server::Agents`].
#[derive(Debug, Clone)]
pub(super) struct AgentsService {
    pub(super) state: ServerState,
}

fn agent_to_pb(a: &AttestedAgent) -> api::Agent {
    api::Agent {
        spiffe_id: a.spiffe_id.to_string(),
        attestation_type: a.attestation_type.clone(),
        x509_svid_serial_number: a.serial.clone(),
        x509_svid_expires_at: a.expires_at,
        banned: a.banned,
        selectors: a
            .selectors
            .iter()
            .map(|s| pb::Selector {
                r#type: s.kind.clone(),
                value: s.value.clone(),
            })
            .collect(),
        created_at: a.created_at,
        last_seen_at: a.last_seen_at,
        reattestable: a.can_reattest,
    }
}

/// The `spiffe_id` field of a request, parsed.
fn agent_id(value: &str) -> Result<SpiffeId, Status> {
    required(
        "spiffe_id",
        value,
        "spiffe://example.org/lanyard/agent/join_token/...",
    )?;
    SpiffeId::parse(value).map_err(|e| {
        Status::invalid_argument(format!("`spiffe_id` {value:?} is not a SPIFFE ID: {e}"))
    })
}

/// Whether `item` matches the selector condition, with the datastore's set semantics.
fn selectors_match(m: &SelectorMatch, item: &[Selector]) -> bool {
    let given = &m.selectors;
    match m.mode {
        MatchMode::Exact => {
            item.iter().all(|s| given.contains(s)) && given.iter().all(|s| item.contains(s))
        }
        MatchMode::Subset => item.iter().all(|s| given.contains(s)),
        MatchMode::Superset => given.iter().all(|s| item.contains(s)),
        MatchMode::Any => item.iter().any(|s| given.contains(s)),
    }
}

struct AgentFilter {
    attestation_type: Option<String>,
    banned: Option<bool>,
    selectors: Option<SelectorMatch>,
}

impl AgentFilter {
    fn parse(f: Option<api::AgentFilter>) -> Result<Self, Status> {
        let f = f.unwrap_or_default();
        Ok(Self {
            attestation_type: f.attestation_type,
            banned: f.banned,
            selectors: selector_match("filter.selectors", f.selectors)?,
        })
    }

    fn matches(&self, a: &AttestedAgent) -> bool {
        self.attestation_type
            .as_ref()
            .is_none_or(|t| *t == a.attestation_type)
            && self.banned.is_none_or(|b| b == a.banned)
            && self
                .selectors
                .as_ref()
                .is_none_or(|m| selectors_match(m, &a.selectors))
    }
}

fn audit_agent(who: &str, action: &str, id: &SpiffeId) {
    audit!(who, action, agent_id = %id, "admin changed an agent");
}

#[tonic::async_trait]
impl api::agents_server::Agents for AgentsService {
    async fn list_agents(
        &self,
        req: Request<api::ListAgentsRequest>,
    ) -> Result<Response<api::ListAgentsResponse>, Status> {
        let req = req.into_inner();
        let filter = AgentFilter::parse(req.filter)?;
        let want = usize::try_from(page_size(req.page_size)).unwrap_or(usize::MAX);
        // The datastore pages by SPIFFE ID without a filter; filter here, reading datastore pages
        // until this page is full. The page token is the last agent ID returned either way.
        let mut token = (!req.page_token.is_empty()).then_some(req.page_token);
        let mut agents = Vec::new();
        let next_page_token = loop {
            let page = self
                .state
                .datastore()
                .list_agents(&PageRequest {
                    page_size: page_size(req.page_size),
                    page_token: token.clone(),
                })
                .await
                .map_err(status)?;
            let mut items = page.items.into_iter().filter(|a| filter.matches(a));
            for a in items.by_ref() {
                agents.push(a);
                if agents.len() == want {
                    break;
                }
            }
            let more_here = items.next().is_some();
            if agents.len() == want && (more_here || page.next_page_token.is_some()) {
                break agents.last().map(|a| a.spiffe_id.to_string());
            }
            match page.next_page_token {
                Some(t) => token = Some(t),
                None => break None,
            }
        };
        Ok(Response::new(api::ListAgentsResponse {
            agents: agents.iter().map(agent_to_pb).collect(),
            next_page_token: next_page_token.unwrap_or_default(),
        }))
    }

    async fn get_agent(
        &self,
        req: Request<api::GetAgentRequest>,
    ) -> Result<Response<api::GetAgentResponse>, Status> {
        let id = agent_id(&req.into_inner().spiffe_id)?;
        let agent = self
            .state
            .datastore()
            .get_agent(&id)
            .await
            .map_err(status)?
            .ok_or_else(|| {
                Status::not_found(format!(
                    "agent not found: {id}; list attested agents with `agent list`"
                ))
            })?;
        Ok(Response::new(api::GetAgentResponse {
            agent: Some(agent_to_pb(&agent)),
        }))
    }

    async fn evict_agent(
        &self,
        req: Request<api::EvictAgentRequest>,
    ) -> Result<Response<api::EvictAgentResponse>, Status> {
        let who = caller(&req);
        let id = agent_id(&req.into_inner().spiffe_id)?;
        self.state
            .datastore()
            .delete_agent(&id)
            .await
            .map_err(status)?;
        audit_agent(&who, "agent.evict", &id);
        Ok(Response::new(api::EvictAgentResponse {}))
    }

    async fn ban_agent(
        &self,
        req: Request<api::BanAgentRequest>,
    ) -> Result<Response<api::BanAgentResponse>, Status> {
        let who = caller(&req);
        let id = agent_id(&req.into_inner().spiffe_id)?;
        self.state
            .datastore()
            .ban_agent(&id)
            .await
            .map_err(status)?;
        audit_agent(&who, "agent.ban", &id);
        Ok(Response::new(api::BanAgentResponse {}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sels(list: &[&str]) -> Vec<Selector> {
        list.iter().map(|s| Selector::parse(s).unwrap()).collect()
    }

    #[test]
    fn selector_modes_have_set_semantics() {
        let item = sels(&["a:1", "b:2"]);
        let m = |mode, given: &[&str]| SelectorMatch {
            selectors: sels(given),
            mode,
        };
        assert!(selectors_match(
            &m(MatchMode::Exact, &["b:2", "a:1"]),
            &item
        ));
        assert!(!selectors_match(&m(MatchMode::Exact, &["a:1"]), &item));
        assert!(selectors_match(
            &m(MatchMode::Subset, &["a:1", "b:2", "c:3"]),
            &item
        ));
        assert!(!selectors_match(&m(MatchMode::Subset, &["a:1"]), &item));
        assert!(selectors_match(&m(MatchMode::Superset, &["a:1"]), &item));
        assert!(selectors_match(&m(MatchMode::Any, &["z:9", "b:2"]), &item));
        assert!(!selectors_match(&m(MatchMode::Any, &["z:9"]), &item));
    }
}
