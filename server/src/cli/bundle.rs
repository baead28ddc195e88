//! `lanyard-server bundle show` and `lanyard-server healthcheck`.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use clap::{Args, Subcommand, ValueEnum};
use lanyard_id::TrustDomain;
use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::admin::v1::bundles_client::BundlesClient;
use lanyard_proto::lanyard::types::v1 as pb;
use lanyard_x509::{Bundle, CertDer, JwtAuthority};

use super::{CliError, SocketArg, client, push_json, rpc};

/// Bundle commands.
#[derive(Debug, Subcommand)]
pub enum BundleCmd {
    /// Print this trust domain's bundle.
    Show(ShowArgs),
}

/// Bundle encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The X.509 authorities as PEM CERTIFICATE blocks.
    Pem,
    /// The SPIFFE bundle: a JWK Set (JSON), as a federation endpoint serves it.
    Spiffe,
    /// The bundle as the admin API carries it (JSON, the proto3 mapping of
    /// `lanyard.types.v1.Bundle`): each X.509 authority (base64 DER) and JWT key (by `kid`) with
    /// whether it is tainted, the sequence number and refresh hint.
    Json,
}

/// `bundle show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Encoding.
    #[arg(long, value_enum, default_value_t = Format::Pem)]
    format: Format,
    #[command(flatten)]
    socket: SocketArg,
}

/// `healthcheck`.
#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    #[command(flatten)]
    pub(super) socket: SocketArg,
}

/// Rebuilds the library bundle from its protobuf form, so it encodes like everywhere else.
fn from_pb(b: pb::Bundle) -> Result<Bundle, String> {
    let td = TrustDomain::new(&b.trust_domain)
        .map_err(|e| format!("the server sent trust domain {:?}: {e}", b.trust_domain))?;
    let mut bundle = Bundle::new(td);
    for a in b.x509_authorities {
        let cert = CertDer::from_der(a.asn1)
            .map_err(|e| format!("the server sent an unreadable X.509 authority: {e}"))?;
        bundle.add_x509_authority(cert);
    }
    bundle.jwt_authorities = b
        .jwt_authorities
        .into_iter()
        .map(|a| {
            let expires_at = u64::try_from(a.expires_at)
                .ok()
                .filter(|s| *s > 0)
                .map(|s| UNIX_EPOCH + Duration::from_secs(s));
            (
                a.key_id,
                JwtAuthority {
                    public_key: a.public_key,
                    expires_at,
                },
            )
        })
        .collect::<BTreeMap<_, _>>();
    bundle.sequence_number = b.sequence_number;
    bundle.refresh_hint = u64::try_from(b.refresh_hint_seconds)
        .ok()
        .filter(|s| *s > 0)
        .map(Duration::from_secs);
    Ok(bundle)
}

async fn fetch_pb(socket: &SocketArg, what: &'static str) -> Result<pb::Bundle, CliError> {
    let mut c = BundlesClient::new(client::connect(&socket.socket_path).await?);
    Ok(c.get_bundle(api::GetBundleRequest::default())
        .await
        .map_err(rpc(what))?
        .into_inner()
        .bundle
        .unwrap_or_default())
}

async fn fetch(socket: &SocketArg, what: &'static str) -> Result<Bundle, CliError> {
    from_pb(fetch_pb(socket, what).await?).map_err(|message| CliError::Output { what, message })
}

/// Runs a `bundle` command.
pub(super) async fn execute(cmd: BundleCmd, out: &mut String) -> Result<(), CliError> {
    let BundleCmd::Show(a) = cmd;
    let what = "show bundle";
    match a.format {
        Format::Pem => out.push_str(&fetch(&a.socket, what).await?.x509_authorities_pem()),
        Format::Spiffe => {
            let bundle = fetch(&a.socket, what).await?;
            let json = bundle.to_jwks_json().map_err(|e| CliError::Output {
                what,
                message: e.to_string(),
            })?;
            out.push_str(&json);
            out.push('\n');
        }
        Format::Json => push_json(out, &fetch_pb(&a.socket, what).await?),
    }
    Ok(())
}

/// Runs `healthcheck`: the server is healthy if it serves a bundle with an X.509 authority
/// (which needs both the CA and the datastore).
pub(super) async fn healthcheck(a: HealthcheckArgs, out: &mut String) -> Result<(), CliError> {
    let what = "healthcheck";
    let bundle = fetch(&a.socket, what).await?;
    if bundle.x509_authorities.is_empty() {
        return Err(CliError::Output {
            what,
            message: "the server's bundle has no X.509 authority; see the server's log".to_owned(),
        });
    }
    out.push_str("server is healthy\n");
    Ok(())
}
