//! `lanyard-server jwt mint` and `lanyard-server localauthority jwt show|prepare|activate|taint|revoke`.
//!
//! `jwt mint` prints the token alone on the first line (text mode), so
//! `lanyard-server jwt mint ... | head -1` is the token. JWT key rotation mirrors the X.509 one:
//! `prepare` (published), `activate` (signs; the previous key stays published until it expires),
//! then optionally `taint` (agents re-mint what it signed) and `revoke`.

use clap::{Args, Subcommand};
use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::admin::v1::jwt_client::JwtClient;
use lanyard_proto::lanyard::admin::v1::local_authority_client::LocalAuthorityClient;
use serde_json::{Value, json};
use tonic::transport::Channel;

use super::render::{line, state_name, time};
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

/// `localauthority jwt` commands.
#[derive(Debug, Subcommand)]
pub enum JwtAuthorityCmd {
    /// List the JWT signing keys in the bundle with their states.
    Show(Common),
    /// Create the next key (published, not yet signing).
    Prepare(Common),
    /// Make the prepared key sign; the active one becomes old.
    Activate(ActivateArgs),
    /// Taint an old key: agents re-mint every token it signed.
    Taint(KeyArgs),
    /// Remove a tainted key from the bundle.
    Revoke(KeyArgs),
}

/// `localauthority jwt activate`.
#[derive(Debug, Args)]
pub struct ActivateArgs {
    /// The prepared key's kid (default: whichever is prepared, as `show` lists it).
    #[arg(long)]
    authority_id: Option<String>,
    #[command(flatten)]
    common: Common,
}

/// Commands about one key.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// The key's kid, as `localauthority jwt show` prints it.
    #[arg(long)]
    authority_id: String,
    #[command(flatten)]
    common: Common,
}

fn key_json(a: &api::JwtAuthorityInfo) -> Value {
    json!({
        "authority_id": a.authority_id,
        "state": state_name(a.state),
        "expires_at": a.expires_at,
        "tainted": a.tainted,
        "public_key": a.public_key.iter().map(|b| format!("{b:02x}")).collect::<String>(),
    })
}

fn key_text(out: &mut String, a: &api::JwtAuthorityInfo) {
    line(out, "Key ID", &a.authority_id);
    line(out, "State", state_name(a.state));
    line(out, "Tainted", a.tainted);
    line(out, "Expires at", time(a.expires_at));
}

fn print_one(out: &mut String, output: Output, a: &api::JwtAuthorityInfo) {
    match output {
        Output::Json => push_json(out, &key_json(a)),
        Output::Text => key_text(out, a),
    }
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
        Output::Json => push_json(
            out,
            &json!({"token": svid.token, "spiffe_id": svid.spiffe_id, "expires_at": svid.expires_at}),
        ),
        Output::Text => {
            out.push_str(&svid.token);
            out.push('\n');
            line(out, "SPIFFE ID", &svid.spiffe_id);
            line(out, "Expires at", time(svid.expires_at));
        }
    }
    Ok(())
}

async fn connect(common: &Common) -> Result<LocalAuthorityClient<Channel>, CliError> {
    Ok(LocalAuthorityClient::new(
        client::connect(&common.socket.socket_path).await?,
    ))
}

async fn list(
    c: &mut LocalAuthorityClient<Channel>,
    what: &'static str,
) -> Result<Vec<api::JwtAuthorityInfo>, CliError> {
    Ok(c.get_jwt_authorities(api::GetJwtAuthoritiesRequest {})
        .await
        .map_err(rpc(what))?
        .into_inner()
        .authorities)
}

/// Runs a `localauthority jwt` command.
pub(super) async fn execute_authority(
    cmd: JwtAuthorityCmd,
    out: &mut String,
) -> Result<(), CliError> {
    match cmd {
        JwtAuthorityCmd::Show(common) => {
            let mut c = connect(&common).await?;
            let all = list(&mut c, "show JWT keys").await?;
            match common.output {
                Output::Json => push_json(
                    out,
                    &json!({"authorities": all.iter().map(key_json).collect::<Vec<_>>()}),
                ),
                Output::Text => {
                    for (i, a) in all.iter().enumerate() {
                        if i > 0 {
                            out.push('\n');
                        }
                        key_text(out, a);
                    }
                }
            }
        }
        JwtAuthorityCmd::Prepare(common) => {
            let mut c = connect(&common).await?;
            let a = c
                .prepare_jwt_authority(api::PrepareJwtAuthorityRequest {})
                .await
                .map_err(rpc("prepare JWT key"))?
                .into_inner()
                .prepared
                .unwrap_or_default();
            print_one(out, common.output, &a);
        }
        JwtAuthorityCmd::Activate(a) => {
            let what = "activate JWT key";
            let mut c = connect(&a.common).await?;
            let authority_id = match a.authority_id {
                Some(id) => id,
                None => list(&mut c, what)
                    .await?
                    .into_iter()
                    .find(|x| x.state == i32::from(api::AuthorityState::Prepared))
                    .map(|x| x.authority_id)
                    .ok_or_else(|| CliError::Rpc {
                        what,
                        message: "no JWT key is prepared: run `localauthority jwt prepare` first"
                            .to_owned(),
                        code: tonic::Code::FailedPrecondition,
                    })?,
            };
            let activated = c
                .activate_jwt_authority(api::ActivateJwtAuthorityRequest { authority_id })
                .await
                .map_err(rpc(what))?
                .into_inner()
                .activated
                .unwrap_or_default();
            print_one(out, a.common.output, &activated);
        }
        JwtAuthorityCmd::Taint(a) => {
            let mut c = connect(&a.common).await?;
            let tainted = c
                .taint_jwt_authority(api::TaintJwtAuthorityRequest {
                    authority_id: a.authority_id,
                })
                .await
                .map_err(rpc("taint JWT key"))?
                .into_inner()
                .tainted
                .unwrap_or_default();
            print_one(out, a.common.output, &tainted);
        }
        JwtAuthorityCmd::Revoke(a) => {
            let mut c = connect(&a.common).await?;
            let revoked = c
                .revoke_jwt_authority(api::RevokeJwtAuthorityRequest {
                    authority_id: a.authority_id,
                })
                .await
                .map_err(rpc("revoke JWT key"))?
                .into_inner()
                .revoked
                .unwrap_or_default();
            print_one(out, a.common.output, &revoked);
        }
    }
    Ok(())
}
