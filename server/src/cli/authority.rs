//! `lanyard-server localauthority x509 show|prepare|activate|taint|revoke` (the `jwt` half is
//! in [`super::jwt`]).
//!
//! A manual rotation is: `prepare` (the new CA is published, agents learn to trust it),
//! `activate` (it signs; the previous one becomes old), then, to stop trusting the old one
//! before it expires, `taint` it (agents re-issue what it signed) and `revoke` it.

use clap::{Args, Subcommand};
use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::admin::v1::local_authority_client::LocalAuthorityClient;
use serde_json::json;
use tonic::transport::Channel;

use super::render::{authority_json, authority_text};
use super::{CliError, Common, Output, client, push_json, rpc};

/// Local authority commands.
#[derive(Debug, Subcommand)]
pub enum LocalauthorityCmd {
    /// The X.509 certificate authorities.
    #[command(subcommand)]
    X509(X509Cmd),
    /// The JWT-SVID signing keys.
    #[command(subcommand)]
    Jwt(super::jwt::JwtAuthorityCmd),
}

/// X.509 authority commands.
#[derive(Debug, Subcommand)]
pub enum X509Cmd {
    /// List the authorities in the bundle with their states.
    Show(Common),
    /// Create the next authority (published, not yet signing).
    Prepare(Common),
    /// Make the prepared authority sign; the active one becomes old.
    Activate(ActivateArgs),
    /// Taint an old authority: agents re-issue everything it signed.
    Taint(AuthorityArgs),
    /// Remove a tainted authority from the bundle.
    Revoke(AuthorityArgs),
}

/// `localauthority x509 activate`.
#[derive(Debug, Args)]
pub struct ActivateArgs {
    /// The prepared authority (default: whichever is prepared, as `show` lists it).
    #[arg(long)]
    authority_id: Option<String>,
    #[command(flatten)]
    common: Common,
}

/// Commands about one authority.
#[derive(Debug, Args)]
pub struct AuthorityArgs {
    /// The authority's ID, as `localauthority x509 show` prints it.
    #[arg(long)]
    authority_id: String,
    #[command(flatten)]
    common: Common,
}

fn print_one(out: &mut String, output: Output, a: &api::X509AuthorityInfo) {
    match output {
        Output::Json => push_json(out, &authority_json(a)),
        Output::Text => authority_text(out, a),
    }
}

async fn connect(common: &Common) -> Result<LocalAuthorityClient<Channel>, CliError> {
    Ok(LocalAuthorityClient::new(
        client::connect(&common.socket.socket_path).await?,
    ))
}

async fn list(
    c: &mut LocalAuthorityClient<Channel>,
    what: &'static str,
) -> Result<Vec<api::X509AuthorityInfo>, CliError> {
    Ok(c.get_x509_authorities(api::GetX509AuthoritiesRequest {})
        .await
        .map_err(rpc(what))?
        .into_inner()
        .authorities)
}

/// Runs a `localauthority` command.
pub(super) async fn execute(cmd: LocalauthorityCmd, out: &mut String) -> Result<(), CliError> {
    let cmd = match cmd {
        LocalauthorityCmd::X509(cmd) => cmd,
        LocalauthorityCmd::Jwt(cmd) => return super::jwt::execute_authority(cmd, out).await,
    };
    match cmd {
        X509Cmd::Show(common) => {
            let mut c = connect(&common).await?;
            let all = list(&mut c, "show X.509 authorities").await?;
            match common.output {
                Output::Json => push_json(
                    out,
                    &json!({"authorities": all.iter().map(authority_json).collect::<Vec<_>>()}),
                ),
                Output::Text => {
                    for (i, a) in all.iter().enumerate() {
                        if i > 0 {
                            out.push('\n');
                        }
                        authority_text(out, a);
                    }
                }
            }
        }
        X509Cmd::Prepare(common) => {
            let mut c = connect(&common).await?;
            let a = c
                .prepare_x509_authority(api::PrepareX509AuthorityRequest {})
                .await
                .map_err(rpc("prepare X.509 authority"))?
                .into_inner()
                .prepared
                .unwrap_or_default();
            print_one(out, common.output, &a);
        }
        X509Cmd::Activate(a) => {
            let what = "activate X.509 authority";
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
                        message: "no X.509 authority is prepared: run `localauthority x509 \
                                  prepare` first"
                            .to_owned(),
                        code: tonic::Code::FailedPrecondition,
                    })?,
            };
            let activated = c
                .activate_x509_authority(api::ActivateX509AuthorityRequest { authority_id })
                .await
                .map_err(rpc(what))?
                .into_inner()
                .activated
                .unwrap_or_default();
            print_one(out, a.common.output, &activated);
        }
        X509Cmd::Taint(a) => {
            let mut c = connect(&a.common).await?;
            let tainted = c
                .taint_x509_authority(api::TaintX509AuthorityRequest {
                    authority_id: a.authority_id,
                })
                .await
                .map_err(rpc("taint X.509 authority"))?
                .into_inner()
                .tainted
                .unwrap_or_default();
            print_one(out, a.common.output, &tainted);
        }
        X509Cmd::Revoke(a) => {
            let mut c = connect(&a.common).await?;
            let revoked = c
                .revoke_x509_authority(api::RevokeX509AuthorityRequest {
                    authority_id: a.authority_id,
                })
                .await
                .map_err(rpc("revoke X.509 authority"))?
                .into_inner()
                .revoked
                .unwrap_or_default();
            print_one(out, a.common.output, &revoked);
        }
    }
    Ok(())
}
