//! `lanyard-server token generate`.

use std::time::Duration;

use clap::{Args, Subcommand};
use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::admin::v1::join_tokens_client::JoinTokensClient;

use super::render::time;
use super::{CliError, Common, Output, client, push_json, rpc};

/// Join token commands.
#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Generate a single-use join token. Text output prints the token alone on the first line
    /// (`| head -1` gets it).
    Generate(GenerateArgs),
}

/// `token generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The SPIFFE ID the agent gets; by default the server picks
    /// spiffe://<trust domain>/lanyard/agent/join_token/<random>.
    #[arg(long)]
    spiffe_id: Option<String>,
    /// How long the token can be used, e.g. 10m, 1h (at most 1 day). Default: 10m.
    #[arg(long, value_parser = humantime::parse_duration)]
    ttl: Option<Duration>,
    #[command(flatten)]
    common: Common,
}

fn ttl_seconds(ttl: Option<Duration>) -> Result<u32, CliError> {
    let Some(ttl) = ttl else { return Ok(0) };
    let secs = ttl.as_secs();
    if secs == 0 {
        return Err(CliError::Usage(
            "--ttl must be at least 1s (omit it for the default of 10m)".to_owned(),
        ));
    }
    u32::try_from(secs).map_err(|_| CliError::Usage("--ttl is too long; at most 1 day".to_owned()))
}

/// Runs a `token` command.
pub(super) async fn execute(cmd: TokenCmd, out: &mut String) -> Result<(), CliError> {
    let TokenCmd::Generate(a) = cmd;
    let ttl_seconds = ttl_seconds(a.ttl)?;
    let mut c = JoinTokensClient::new(client::connect(&a.common.socket.socket_path).await?);
    let t = c
        .generate_join_token(api::GenerateJoinTokenRequest {
            spiffe_id: a.spiffe_id.unwrap_or_default(),
            ttl_seconds,
        })
        .await
        .map_err(rpc("generate join token"))?
        .into_inner();
    match a.common.output {
        Output::Json => push_json(out, &t),
        Output::Text => {
            out.push_str(&format!(
                "{}\nagent SPIFFE ID: {}\nexpires at: {}\n",
                t.token,
                t.agent_spiffe_id,
                time(t.expires_at)
            ));
        }
    }
    Ok(())
}
