//! `lanyard-server jwt mint` (the JWT signing keys' rotation is `localauthority jwt`, in
//! [`super::authority`]).
//!
//! `jwt mint` prints the token alone on the first line (text mode), so
//! `lanyard-server jwt mint ... | head -1` is the token.

use clap::{Args, Subcommand};
use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::admin::v1::jwt_client::JwtClient;

use super::render::{line, time};
use super::{CliError, Common, Output, client, push_json, rpc};

/// `jwt` commands.
#[derive(Debug, Subcommand)]
pub enum JwtCmd {
    /// Mint a JWT-SVID for any workload ID of the trust domain (no entry needed).
    Mint(MintArgs),
}

/// `jwt mint`.
#[derive(Debug, Args)]
pub struct MintArgs {
    /// The token's `sub`, e.g. spiffe://example.org/web.
    #[arg(long)]
    spiffe_id: String,
    /// An `aud` value; repeat for several.
    #[arg(long, required = true)]
    audience: Vec<String>,
    /// Lifetime, e.g. "5m" (default: the server's svid.default_jwt_ttl).
    #[arg(long)]
    ttl: Option<String>,
    #[command(flatten)]
    common: Common,
}

/// Runs `jwt mint`.
pub(super) async fn execute(cmd: JwtCmd, out: &mut String) -> Result<(), CliError> {
    let JwtCmd::Mint(a) = cmd;
    let ttl_seconds = match &a.ttl {
        None => 0,
        Some(s) => {
            let d = humantime::parse_duration(s).map_err(|e| {
                CliError::Usage(format!("--ttl {s:?}: {e} (use e.g. \"5m\" or \"90s\")"))
            })?;
            match u32::try_from(d.as_secs()) {
                Ok(0) | Err(_) => {
                    return Err(CliError::Usage(format!(
                        "--ttl {s:?} must be at least 1s, e.g. \"5m\""
                    )));
                }
                Ok(n) => n,
            }
        }
    };
    if a.audience.iter().any(String::is_empty) {
        return Err(CliError::Usage(
            "--audience must not be empty, e.g. --audience https://api.example.org".to_owned(),
        ));
    }
    let mut c = JwtClient::new(client::connect(&a.common.socket.socket_path).await?);
    let svid = c
        .mint_jwt_svid(api::MintJwtSvidRequest {
            spiffe_id: a.spiffe_id,
            audience: a.audience,
            ttl_seconds,
        })
        .await
        .map_err(rpc("mint JWT-SVID"))?
        .into_inner()
        .svid
        .unwrap_or_default();
    match a.common.output {
        Output::Json => push_json(out, &svid),
        Output::Text => {
            out.push_str(&svid.token);
            out.push('\n');
            line(out, "SPIFFE ID", &svid.spiffe_id);
            line(out, "Expires at", time(svid.expires_at));
        }
    }
    Ok(())
}
