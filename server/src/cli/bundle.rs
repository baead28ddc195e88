//! `lanyard-server bundle show|list|set|delete` and `lanyard-server healthcheck`: this trust
//! domain's bundle, and the foreign trust domains' bundles the server stores (federation).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use clap::{Args, Subcommand, ValueEnum};
use lanyard_id::TrustDomain;
use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::admin::v1::bundles_client::BundlesClient;
use lanyard_proto::lanyard::types::v1 as pb;
use lanyard_x509::{Bundle, CertDer, JwtAuthority};

use super::federation::{read_input, trust_domain};
use super::{CliError, SocketArg, client, push_json, rpc};
use crate::convert::federated_bundle_to_pb;
use crate::federation::input::{InputFormat, parse_bundle};

/// Bundle commands.
#[derive(Debug, Subcommand)]
pub enum BundleCmd {
    /// Print this trust domain's bundle, or a stored foreign one with --trust-domain.
    Show(ShowArgs),
    /// Print every stored foreign bundle (not this trust domain's own).
    List(ListArgs),
    /// Store a foreign trust domain's bundle by hand (replaced by the next successful refresh
    /// if a federation relationship names the trust domain); prints it as SPIFFE JSON.
    Set(SetArgs),
    /// Delete a stored foreign bundle.
    Delete(DeleteArgs),
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
    /// A foreign trust domain whose stored bundle to print; this server's own when omitted.
    #[arg(long)]
    trust_domain: Option<String>,
    /// Encoding.
    #[arg(long, value_enum, default_value_t = Format::Pem)]
    format: Format,
    #[command(flatten)]
    socket: SocketArg,
}

/// `bundle list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Encoding: pem (each bundle after a `# <trust domain>` line), spiffe (one JSON object
    /// keyed by trust domain) or json (the admin API's `ListFederatedBundlesResponse`).
    #[arg(long, value_enum, default_value_t = Format::Pem)]
    format: Format,
    #[command(flatten)]
    socket: SocketArg,
}

/// `bundle set`.
#[derive(Debug, Args)]
pub struct SetArgs {
    /// The foreign trust domain the bundle belongs to.
    #[arg(long)]
    trust_domain: String,
    /// How the input is encoded.
    #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
    input_format: InputFormat,
    /// Where the bundle is: a file, or `-` for stdin.
    #[arg(long, value_name = "FILE|-", default_value = "-")]
    path: PathBuf,
    #[command(flatten)]
    socket: SocketArg,
}

/// `bundle delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The foreign trust domain whose stored bundle to delete.
    #[arg(long)]
    trust_domain: String,
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

/// The bundle of `trust_domain` (empty: the server's own).
async fn fetch_pb(
    socket: &SocketArg,
    trust_domain: &str,
    what: &'static str,
) -> Result<pb::Bundle, CliError> {
    let mut c = BundlesClient::new(client::connect(&socket.socket_path).await?);
    Ok(c.get_bundle(api::GetBundleRequest {
        trust_domain: trust_domain.to_owned(),
    })
    .await
    .map_err(rpc(what))?
    .into_inner()
    .bundle
    .unwrap_or_default())
}

async fn fetch(socket: &SocketArg, what: &'static str) -> Result<Bundle, CliError> {
    from_pb(fetch_pb(socket, "", what).await?).map_err(|message| CliError::Output { what, message })
}

/// `bundle` in `format`, appended to `out`.
fn push_bundle(
    out: &mut String,
    b: pb::Bundle,
    format: Format,
    what: &'static str,
) -> Result<(), CliError> {
    if format == Format::Json {
        push_json(out, &b);
        return Ok(());
    }
    let bundle = from_pb(b).map_err(|message| CliError::Output { what, message })?;
    match format {
        Format::Pem => out.push_str(&bundle.x509_authorities_pem()),
        _ => {
            out.push_str(&spiffe_json(&bundle, what)?);
            out.push('\n');
        }
    }
    Ok(())
}

fn spiffe_json(bundle: &Bundle, what: &'static str) -> Result<String, CliError> {
    bundle.to_jwks_json().map_err(|e| CliError::Output {
        what,
        message: e.to_string(),
    })
}

/// Runs a `bundle` command.
pub(super) async fn execute(cmd: BundleCmd, out: &mut String) -> Result<(), CliError> {
    match cmd {
        BundleCmd::Show(a) => {
            let what = "show bundle";
            let td = match &a.trust_domain {
                Some(name) => trust_domain(name)?.name().to_owned(),
                None => String::new(),
            };
            let b = fetch_pb(&a.socket, &td, what).await?;
            push_bundle(out, b, a.format, what)
        }
        BundleCmd::List(a) => list(a, out).await,
        BundleCmd::Set(a) => set(a, out).await,
        BundleCmd::Delete(a) => {
            let td = trust_domain(&a.trust_domain)?;
            let mut c = BundlesClient::new(client::connect(&a.socket.socket_path).await?);
            c.delete_federated_bundle(api::DeleteFederatedBundleRequest {
                trust_domain: td.name().to_owned(),
            })
            .await
            .map_err(rpc(format!("delete the bundle of {td}")))?;
            out.push_str(&format!("Deleted the stored bundle of {td}\n"));
            Ok(())
        }
    }
}

async fn list(a: ListArgs, out: &mut String) -> Result<(), CliError> {
    let what = "list bundles";
    let mut c = BundlesClient::new(client::connect(&a.socket.socket_path).await?);
    let r = c
        .list_federated_bundles(api::ListFederatedBundlesRequest {})
        .await
        .map_err(rpc(what))?
        .into_inner();
    match a.format {
        Format::Json => push_json(out, &r),
        Format::Pem => {
            for b in r.bundles {
                out.push_str(&format!(
                    "# {} (sequence {})\n",
                    b.trust_domain, b.sequence_number
                ));
                push_bundle(out, b, Format::Pem, what)?;
            }
        }
        Format::Spiffe => {
            let mut all = serde_json::Map::new();
            for b in r.bundles {
                let td = b.trust_domain.clone();
                let bundle = from_pb(b).map_err(|message| CliError::Output { what, message })?;
                let doc: serde_json::Value = serde_json::from_str(&spiffe_json(&bundle, what)?)
                    .map_err(|e| CliError::Output {
                        what,
                        message: e.to_string(),
                    })?;
                all.insert(td, doc);
            }
            push_json(out, &all);
        }
    }
    Ok(())
}

async fn set(a: SetArgs, out: &mut String) -> Result<(), CliError> {
    let td = trust_domain(&a.trust_domain)?;
    let bytes = read_input(&a.path, "--path")?;
    let bundle = parse_bundle(&td, &bytes, a.input_format)
        .map_err(|e| CliError::Usage(format!("--path {}: {e}", a.path.display())))?;
    let mut c = BundlesClient::new(client::connect(&a.socket.socket_path).await?);
    let stored = c
        .set_federated_bundle(api::SetFederatedBundleRequest {
            bundle: Some(federated_bundle_to_pb(&bundle)),
        })
        .await
        .map_err(rpc(format!("set the bundle of {td}")))?
        .into_inner()
        .bundle
        .unwrap_or_default();
    push_bundle(out, stored, Format::Spiffe, "set bundle")
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
