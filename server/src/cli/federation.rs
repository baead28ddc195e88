//! `lanyard-server federation create|update|delete|list|show|refresh`: relationships with
//! foreign trust domains (SPIFFE Federation §6) and their refresh state on the answering server.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use lanyard_id::{SpiffeId, TrustDomain};
use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::admin::v1::federation_client::FederationClient;

use super::render::{line, time};
use super::{CliError, Common, Output, client, push_json, rpc};
use crate::convert::federated_bundle_to_pb;
use crate::federation::input::{InputFormat, parse_bundle};
use crate::federation::url::EndpointUrl;

/// Federation relationship commands.
#[derive(Debug, Subcommand)]
pub enum FederationCmd {
    /// Create a relationship: fetch a foreign trust domain's bundle from its bundle endpoint.
    Create(RelationshipArgs),
    /// Change a relationship's endpoint, profile or endpoint SPIFFE ID (one declared in
    /// server.toml is changed in the file).
    Update(RelationshipArgs),
    /// End a relationship: stop refreshing and delete the stored bundle.
    Delete(TrustDomainArgs),
    /// List every relationship with its refresh status.
    List(Common),
    /// Show one relationship with its refresh status.
    Show(TrustDomainArgs),
    /// Fetch the foreign bundle now; exit 1 with the cause when the fetch fails or the bundle
    /// is refused (the stored one is kept).
    Refresh(TrustDomainArgs),
}

/// How a bundle endpoint is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Profile {
    /// Web PKI: a certificate for the URL's host from a trusted CA.
    #[value(name = "https_web")]
    HttpsWeb,
    /// An X.509-SVID with --endpoint-spiffe-id, verified with that trust domain's bundle.
    #[value(name = "https_spiffe")]
    HttpsSpiffe,
}

/// `federation create|update`.
#[derive(Debug, Args)]
pub struct RelationshipArgs {
    /// The foreign trust domain, e.g. orders.example or spiffe://orders.example.
    #[arg(long)]
    trust_domain: String,
    /// Its bundle endpoint, e.g. https://orders.example:8443/.
    #[arg(long)]
    bundle_endpoint_url: String,
    /// How the endpoint is authenticated.
    #[arg(long, value_enum)]
    profile: Profile,
    /// https_spiffe only: the SPIFFE ID the endpoint presents, e.g.
    /// spiffe://orders.example/lanyard/server.
    #[arg(long)]
    endpoint_spiffe_id: Option<String>,
    /// The foreign bundle to start from, a file or `-` for stdin: SPIFFE bundle JSON (what the
    /// other side's `bundle show --format spiffe` prints) or PEM CA certificates. https_spiffe
    /// needs it to verify the endpoint the first time.
    #[arg(long, value_name = "FILE|-")]
    bootstrap_bundle: Option<PathBuf>,
    #[command(flatten)]
    common: Common,
}

/// `federation delete|show|refresh`.
#[derive(Debug, Args)]
pub struct TrustDomainArgs {
    /// The foreign trust domain.
    #[arg(long)]
    trust_domain: String,
    #[command(flatten)]
    common: Common,
}

/// A `--trust-domain` value.
pub(super) fn trust_domain(value: &str) -> Result<TrustDomain, CliError> {
    TrustDomain::new(value).map_err(|e| {
        CliError::Usage(format!(
            "--trust-domain {value:?} is not a trust domain name ({e}): give e.g. orders.example"
        ))
    })
}

/// The bytes of `path`, or of stdin for `-`.
pub(super) fn read_input(path: &Path, flag: &str) -> Result<Vec<u8>, CliError> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)
            .map_err(|e| CliError::Usage(format!("{flag} -: cannot read stdin: {e}")))?;
        return Ok(bytes);
    }
    std::fs::read(path)
        .map_err(|e| CliError::Usage(format!("{flag} {}: cannot read it: {e}", path.display())))
}

/// The request's relationship and bootstrap bundle, checked before anything is sent.
fn request_parts(
    a: &RelationshipArgs,
) -> Result<
    (
        api::FederationRelationship,
        Option<lanyard_proto::lanyard::types::v1::Bundle>,
    ),
    CliError,
> {
    let td = trust_domain(&a.trust_domain)?;
    EndpointUrl::parse(&a.bundle_endpoint_url)
        .map_err(|e| CliError::Usage(format!("--bundle-endpoint-url: {e}")))?;
    let (profile, endpoint_spiffe_id) = match (a.profile, &a.endpoint_spiffe_id) {
        (Profile::HttpsWeb, None) => (api::BundleEndpointProfile::HttpsWeb, String::new()),
        (Profile::HttpsWeb, Some(_)) => {
            return Err(CliError::Usage(
                "--endpoint-spiffe-id is only for --profile https_spiffe; an https_web endpoint is checked by the URL's host name".to_owned(),
            ));
        }
        (Profile::HttpsSpiffe, None) => {
            return Err(CliError::Usage(format!(
                "--profile https_spiffe needs --endpoint-spiffe-id, the SPIFFE ID the endpoint presents, e.g. spiffe://{td}/lanyard/server"
            )));
        }
        (Profile::HttpsSpiffe, Some(id)) => {
            SpiffeId::parse(id).map_err(|e| {
                CliError::Usage(format!(
                    "--endpoint-spiffe-id {id:?} is not a SPIFFE ID: {e}"
                ))
            })?;
            (api::BundleEndpointProfile::HttpsSpiffe, id.clone())
        }
    };
    let bootstrap = match &a.bootstrap_bundle {
        None => None,
        Some(path) => {
            let bytes = read_input(path, "--bootstrap-bundle")?;
            let bundle = parse_bundle(&td, &bytes, InputFormat::Auto).map_err(|e| {
                CliError::Usage(format!("--bootstrap-bundle {}: {e}", path.display()))
            })?;
            Some(federated_bundle_to_pb(&bundle))
        }
    };
    let rel = api::FederationRelationship {
        trust_domain: td.name().to_owned(),
        bundle_endpoint_url: a.bundle_endpoint_url.clone(),
        profile: profile.into(),
        endpoint_spiffe_id,
        declared_in_config: false,
        status: None,
    };
    Ok((rel, bootstrap))
}

fn profile_name(profile: i32) -> &'static str {
    match api::BundleEndpointProfile::try_from(profile) {
        Ok(api::BundleEndpointProfile::HttpsWeb) => "https_web",
        Ok(api::BundleEndpointProfile::HttpsSpiffe) => "https_spiffe",
        _ => "unspecified",
    }
}

/// A relationship as a block of `Label : value` lines.
fn relationship_text(out: &mut String, r: &api::FederationRelationship) {
    line(out, "Trust domain", &r.trust_domain);
    line(out, "Bundle endpoint", &r.bundle_endpoint_url);
    line(out, "Profile", profile_name(r.profile));
    if !r.endpoint_spiffe_id.is_empty() {
        line(out, "Endpoint SPIFFE ID", &r.endpoint_spiffe_id);
    }
    line(
        out,
        "Declared in",
        if r.declared_in_config {
            "server.toml"
        } else {
            "admin API"
        },
    );
    match &r.status {
        None => line(out, "Last attempt", "- (not refreshed by this server yet)"),
        Some(s) => {
            line(out, "Last attempt", time(s.last_attempt_at));
            line(out, "Last success", time(s.last_success_at));
            if !s.last_error.is_empty() {
                line(out, "Last error", &s.last_error);
            }
            line(out, "Failures in a row", s.consecutive_failures);
            line(out, "Next attempt", time(s.next_attempt_at));
        }
    }
}

/// Runs a `federation` command.
pub(super) async fn execute(cmd: FederationCmd, out: &mut String) -> Result<(), CliError> {
    match cmd {
        FederationCmd::Create(a) => {
            let (relationship, bootstrap_bundle) = request_parts(&a)?;
            let mut c = connect(&a.common).await?;
            let r = c
                .create_federation_relationship(api::CreateFederationRelationshipRequest {
                    relationship: Some(relationship),
                    bootstrap_bundle,
                })
                .await
                .map_err(rpc("create federation relationship"))?
                .into_inner();
            match a.common.output {
                Output::Json => push_json(out, &r),
                Output::Text => {
                    out.push_str("Created federation relationship:\n");
                    relationship_text(out, &r.relationship.unwrap_or_default());
                }
            }
        }
        FederationCmd::Update(a) => {
            let (relationship, bootstrap_bundle) = request_parts(&a)?;
            let mut c = connect(&a.common).await?;
            let r = c
                .update_federation_relationship(api::UpdateFederationRelationshipRequest {
                    relationship: Some(relationship),
                    bootstrap_bundle,
                })
                .await
                .map_err(rpc("update federation relationship"))?
                .into_inner();
            match a.common.output {
                Output::Json => push_json(out, &r),
                Output::Text => {
                    out.push_str("Updated federation relationship:\n");
                    relationship_text(out, &r.relationship.unwrap_or_default());
                }
            }
        }
        FederationCmd::Delete(a) => {
            let td = trust_domain(&a.trust_domain)?;
            let mut c = connect(&a.common).await?;
            let r = c
                .delete_federation_relationship(api::DeleteFederationRelationshipRequest {
                    trust_domain: td.name().to_owned(),
                })
                .await
                .map_err(rpc("delete federation relationship"))?
                .into_inner();
            match a.common.output {
                Output::Json => push_json(out, &r),
                Output::Text => out.push_str(&format!(
                    "Deleted the federation relationship with {td} and its bundle\n"
                )),
            }
        }
        FederationCmd::List(common) => {
            let mut c = connect(&common).await?;
            let r = c
                .list_federation_relationships(api::ListFederationRelationshipsRequest {})
                .await
                .map_err(rpc("list federation relationships"))?
                .into_inner();
            match common.output {
                Output::Json => push_json(out, &r),
                Output::Text => {
                    if r.relationships.is_empty() {
                        out.push_str("No federation relationships\n");
                    }
                    for (i, rel) in r.relationships.iter().enumerate() {
                        if i > 0 {
                            out.push('\n');
                        }
                        relationship_text(out, rel);
                    }
                }
            }
        }
        FederationCmd::Show(a) => {
            let td = trust_domain(&a.trust_domain)?;
            let mut c = connect(&a.common).await?;
            let r = c
                .get_federation_relationship(api::GetFederationRelationshipRequest {
                    trust_domain: td.name().to_owned(),
                })
                .await
                .map_err(rpc("show federation relationship"))?
                .into_inner();
            match a.common.output {
                Output::Json => push_json(out, &r),
                Output::Text => relationship_text(out, &r.relationship.unwrap_or_default()),
            }
        }
        FederationCmd::Refresh(a) => {
            let td = trust_domain(&a.trust_domain)?;
            let mut c = connect(&a.common).await?;
            let r = c
                .refresh_bundle(api::RefreshBundleRequest {
                    trust_domain: td.name().to_owned(),
                })
                .await
                .map_err(rpc(format!("refresh the bundle of {td}")))?
                .into_inner();
            match a.common.output {
                Output::Json => push_json(out, &r),
                Output::Text => {
                    let b = r.bundle.unwrap_or_default();
                    out.push_str(&format!(
                        "Refreshed the bundle of {td}: sequence {}, {} X.509 authorities, {} JWT keys\n",
                        b.sequence_number,
                        b.x509_authorities.len(),
                        b.jwt_authorities.len()
                    ));
                }
            }
        }
    }
    Ok(())
}

async fn connect(common: &Common) -> Result<FederationClient<tonic::transport::Channel>, CliError> {
    Ok(FederationClient::new(
        client::connect(&common.socket.socket_path).await?,
    ))
}
