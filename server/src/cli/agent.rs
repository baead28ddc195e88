//! `lanyard-server agent list|show|evict|ban`.

use clap::{Args, Subcommand};
use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::admin::v1::agents_client::AgentsClient;

use super::render::agent_text;
use super::{CliError, Common, Output, client, push_json, rpc};

/// Agent commands.
#[derive(Debug, Subcommand)]
pub enum AgentCmd {
    /// List every attested agent.
    List(ListArgs),
    /// Show one agent.
    Show(AgentArgs),
    /// Delete the agent's record: its SVID stops working and it must attest again (join-token
    /// agents need a new token). Also lifts a ban.
    Evict(AgentArgs),
    /// Ban the agent: its SVID stops working and it cannot attest again until evicted.
    Ban(AgentArgs),
}

/// `agent list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    common: Common,
}

/// Commands about one agent.
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// The agent's SPIFFE ID.
    #[arg(long)]
    spiffe_id: String,
    #[command(flatten)]
    common: Common,
}

/// Runs an `agent` command.
pub(super) async fn execute(cmd: AgentCmd, out: &mut String) -> Result<(), CliError> {
    match cmd {
        AgentCmd::List(a) => {
            let mut c = AgentsClient::new(client::connect(&a.common.socket.socket_path).await?);
            let mut agents = Vec::new();
            let mut page_token = String::new();
            loop {
                let page = c
                    .list_agents(api::ListAgentsRequest {
                        filter: None,
                        page_size: 0,
                        page_token,
                    })
                    .await
                    .map_err(rpc("list agents"))?
                    .into_inner();
                agents.extend(page.agents);
                page_token = page.next_page_token;
                if page_token.is_empty() {
                    break;
                }
            }
            match a.common.output {
                Output::Json => push_json(
                    out,
                    &api::ListAgentsResponse {
                        agents,
                        next_page_token: String::new(),
                    },
                ),
                Output::Text => {
                    let n = agents.len();
                    out.push_str(&format!(
                        "Found {n} attested {}\n",
                        if n == 1 { "agent" } else { "agents" }
                    ));
                    for agent in &agents {
                        out.push('\n');
                        agent_text(out, agent);
                    }
                }
            }
        }
        AgentCmd::Show(a) => {
            let mut c = AgentsClient::new(client::connect(&a.common.socket.socket_path).await?);
            let agent = c
                .get_agent(api::GetAgentRequest {
                    spiffe_id: a.spiffe_id,
                })
                .await
                .map_err(rpc("show agent"))?
                .into_inner()
                .agent
                .unwrap_or_default();
            match a.common.output {
                Output::Json => push_json(out, &agent),
                Output::Text => agent_text(out, &agent),
            }
        }
        AgentCmd::Evict(a) => {
            let mut c = AgentsClient::new(client::connect(&a.common.socket.socket_path).await?);
            let resp = c
                .evict_agent(api::EvictAgentRequest {
                    spiffe_id: a.spiffe_id.clone(),
                })
                .await
                .map_err(rpc("evict agent"))?
                .into_inner();
            done(out, a.common.output, "evicted", &a.spiffe_id, &resp);
        }
        AgentCmd::Ban(a) => {
            let mut c = AgentsClient::new(client::connect(&a.common.socket.socket_path).await?);
            let resp = c
                .ban_agent(api::BanAgentRequest {
                    spiffe_id: a.spiffe_id.clone(),
                })
                .await
                .map_err(rpc("ban agent"))?
                .into_inner();
            done(out, a.common.output, "banned", &a.spiffe_id, &resp);
        }
    }
    Ok(())
}

/// `evict` and `ban`: the (empty) response as JSON, a sentence as text.
fn done(out: &mut String, output: Output, what: &str, id: &str, resp: &impl serde::Serialize) {
    match output {
        Output::Json => push_json(out, resp),
        Output::Text => out.push_str(&format!("Agent {id} {what}\n")),
    }
}
