//! `lanyard-server localauthority x509|jwt show|prepare|activate|taint|revoke`: one
//! implementation for both kinds of authority, generic over [`AuthorityKind`], which carries what
//! differs (the calls, the proto message, how one is printed, the words of help and messages).
//!
//! A manual rotation is: `prepare` (the new CA or key is published, agents learn to trust it),
//! `activate` (it signs; the previous one becomes old and stays published until it expires),
//! then, to stop trusting the old one before it expires, `taint` it (agents re-issue what it
//! signed) and `revoke` it.

use std::marker::PhantomData;

use clap::{Args, Subcommand};
use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::admin::v1::local_authority_client::LocalAuthorityClient;
use tonic::Status;
use tonic::transport::Channel;

use super::render::{authority_text, jwt_key_text};
use super::{CliError, Common, Output, client, push_json, rpc};

/// The admin API client of the `localauthority` commands.
pub type Client = LocalAuthorityClient<Channel>;

/// Local authority commands.
#[derive(Debug, Subcommand)]
pub enum LocalauthorityCmd {
    /// The X.509 certificate authorities.
    #[command(subcommand)]
    X509(AuthorityCmd<X509>),
    /// The JWT-SVID signing keys.
    #[command(subcommand)]
    Jwt(AuthorityCmd<Jwt>),
}

/// The commands of one kind of authority; their help is the kind's [`Words`].
#[derive(Debug, Subcommand)]
pub enum AuthorityCmd<K: AuthorityKind> {
    /// List the authorities in the bundle with their states.
    #[command(about = K::WORDS.show)]
    Show(Common),
    /// Create the next authority (published, not yet signing).
    #[command(about = K::WORDS.prepare)]
    Prepare(Common),
    /// Make the prepared authority sign; the active one becomes old.
    #[command(about = K::WORDS.activate)]
    Activate(ActivateArgs<K>),
    /// Taint an old authority: agents re-issue everything it signed.
    #[command(about = K::WORDS.taint)]
    Taint(IdArgs<K>),
    /// Remove a tainted authority from the bundle.
    #[command(about = K::WORDS.revoke)]
    Revoke(IdArgs<K>),
}

/// `localauthority <kind> activate`.
#[derive(Debug, Args)]
pub struct ActivateArgs<K: AuthorityKind> {
    /// The prepared authority (default: whichever is prepared, as `show` lists it).
    #[arg(long, help = K::WORDS.prepared_id)]
    authority_id: Option<String>,
    #[command(flatten)]
    common: Common,
    #[arg(skip)]
    kind: PhantomData<K>,
}

/// `localauthority <kind> taint|revoke`: commands about one authority.
#[derive(Debug, Args)]
pub struct IdArgs<K: AuthorityKind> {
    /// The authority's ID, as `show` prints it.
    #[arg(long, help = K::WORDS.id)]
    authority_id: String,
    #[command(flatten)]
    common: Common,
    #[arg(skip)]
    kind: PhantomData<K>,
}

/// What a kind of authority is called in help and messages.
#[derive(Debug)]
pub struct Words {
    /// `show`'s help.
    pub show: &'static str,
    /// `prepare`'s help.
    pub prepare: &'static str,
    /// `activate`'s help.
    pub activate: &'static str,
    /// `taint`'s help.
    pub taint: &'static str,
    /// `revoke`'s help.
    pub revoke: &'static str,
    /// The help of `activate --authority-id`.
    pub prepared_id: &'static str,
    /// The help of `taint|revoke --authority-id`.
    pub id: &'static str,
    /// The subcommand, `localauthority <name>`.
    pub name: &'static str,
    /// One of them in messages, e.g. "X.509 authority".
    pub noun: &'static str,
    /// Several, e.g. "X.509 authorities".
    pub nouns: &'static str,
}

/// What differs between the X.509 authorities and the JWT signing keys on the CLI's side: the
/// proto message, how it is printed, the calls and the words.
#[tonic::async_trait]
pub trait AuthorityKind: std::fmt::Debug + Send + Sync + 'static {
    /// The proto message of one authority (`--output json` prints it as it is).
    type Info: Default + Send + serde::Serialize;
    /// The proto message that lists them all (`show --output json` prints it as it is).
    type Listed: Send + serde::Serialize;
    /// What it is called.
    const WORDS: Words;
    /// Its ID and state, as `show` lists them.
    fn id_and_state(a: &Self::Info) -> (&str, i32);
    /// The authorities `Listed` carries.
    fn authorities(l: &Self::Listed) -> &[Self::Info];
    /// As a block of `Label : value` lines.
    fn text(out: &mut String, a: &Self::Info);
    /// Every authority of this kind.
    async fn list(c: &mut Client) -> Result<Self::Listed, Status>;
    /// `prepare`.
    async fn prepare(c: &mut Client) -> Result<Option<Self::Info>, Status>;
    /// `activate` the prepared authority `id`.
    async fn activate(c: &mut Client, id: String) -> Result<Option<Self::Info>, Status>;
    /// `taint` an old authority.
    async fn taint(c: &mut Client, id: String) -> Result<Option<Self::Info>, Status>;
    /// `revoke` a tainted authority.
    async fn revoke(c: &mut Client, id: String) -> Result<Option<Self::Info>, Status>;
}

/// The X.509 certificate authorities.
#[derive(Debug)]
pub struct X509;

#[tonic::async_trait]
impl AuthorityKind for X509 {
    type Info = api::X509AuthorityInfo;
    type Listed = api::GetX509AuthoritiesResponse;
    const WORDS: Words = Words {
        show: "List the authorities in the bundle with their states",
        prepare: "Create the next authority (published, not yet signing)",
        activate: "Make the prepared authority sign; the active one becomes old",
        taint: "Taint an old authority: agents re-issue everything it signed",
        revoke: "Remove a tainted authority from the bundle",
        prepared_id: "The prepared authority (default: whichever is prepared, as `show` lists it)",
        id: "The authority's ID, as `localauthority x509 show` prints it",
        name: "x509",
        noun: "X.509 authority",
        nouns: "X.509 authorities",
    };

    fn id_and_state(a: &api::X509AuthorityInfo) -> (&str, i32) {
        (&a.authority_id, a.state)
    }

    fn authorities(l: &api::GetX509AuthoritiesResponse) -> &[api::X509AuthorityInfo] {
        &l.authorities
    }

    fn text(out: &mut String, a: &api::X509AuthorityInfo) {
        authority_text(out, a);
    }

    async fn list(c: &mut Client) -> Result<api::GetX509AuthoritiesResponse, Status> {
        let r = c.get_x509_authorities(api::GetX509AuthoritiesRequest {});
        Ok(r.await?.into_inner())
    }

    async fn prepare(c: &mut Client) -> Result<Option<api::X509AuthorityInfo>, Status> {
        let r = c.prepare_x509_authority(api::PrepareX509AuthorityRequest {});
        Ok(r.await?.into_inner().prepared)
    }

    async fn activate(c: &mut Client, authority_id: String) -> Result<Option<Self::Info>, Status> {
        let r = c.activate_x509_authority(api::ActivateX509AuthorityRequest { authority_id });
        Ok(r.await?.into_inner().activated)
    }

    async fn taint(c: &mut Client, authority_id: String) -> Result<Option<Self::Info>, Status> {
        let r = c.taint_x509_authority(api::TaintX509AuthorityRequest { authority_id });
        Ok(r.await?.into_inner().tainted)
    }

    async fn revoke(c: &mut Client, authority_id: String) -> Result<Option<Self::Info>, Status> {
        let r = c.revoke_x509_authority(api::RevokeX509AuthorityRequest { authority_id });
        Ok(r.await?.into_inner().revoked)
    }
}

/// The JWT-SVID signing keys.
#[derive(Debug)]
pub struct Jwt;

#[tonic::async_trait]
impl AuthorityKind for Jwt {
    type Info = api::JwtAuthorityInfo;
    type Listed = api::GetJwtAuthoritiesResponse;
    const WORDS: Words = Words {
        show: "List the JWT signing keys in the bundle with their states",
        prepare: "Create the next key (published, not yet signing)",
        activate: "Make the prepared key sign; the active one becomes old",
        taint: "Taint an old key: agents re-mint every token it signed",
        revoke: "Remove a tainted key from the bundle",
        prepared_id: "The prepared key's kid (default: whichever is prepared, as `show` lists it)",
        id: "The key's kid, as `localauthority jwt show` prints it",
        name: "jwt",
        noun: "JWT key",
        nouns: "JWT keys",
    };

    fn id_and_state(a: &api::JwtAuthorityInfo) -> (&str, i32) {
        (&a.authority_id, a.state)
    }

    fn authorities(l: &api::GetJwtAuthoritiesResponse) -> &[api::JwtAuthorityInfo] {
        &l.authorities
    }

    fn text(out: &mut String, a: &api::JwtAuthorityInfo) {
        jwt_key_text(out, a);
    }

    async fn list(c: &mut Client) -> Result<api::GetJwtAuthoritiesResponse, Status> {
        let r = c.get_jwt_authorities(api::GetJwtAuthoritiesRequest {});
        Ok(r.await?.into_inner())
    }

    async fn prepare(c: &mut Client) -> Result<Option<api::JwtAuthorityInfo>, Status> {
        let r = c.prepare_jwt_authority(api::PrepareJwtAuthorityRequest {});
        Ok(r.await?.into_inner().prepared)
    }

    async fn activate(c: &mut Client, authority_id: String) -> Result<Option<Self::Info>, Status> {
        let r = c.activate_jwt_authority(api::ActivateJwtAuthorityRequest { authority_id });
        Ok(r.await?.into_inner().activated)
    }

    async fn taint(c: &mut Client, authority_id: String) -> Result<Option<Self::Info>, Status> {
        let r = c.taint_jwt_authority(api::TaintJwtAuthorityRequest { authority_id });
        Ok(r.await?.into_inner().tainted)
    }

    async fn revoke(c: &mut Client, authority_id: String) -> Result<Option<Self::Info>, Status> {
        let r = c.revoke_jwt_authority(api::RevokeJwtAuthorityRequest { authority_id });
        Ok(r.await?.into_inner().revoked)
    }
}

/// Runs a `localauthority` command.
pub(super) async fn execute(cmd: LocalauthorityCmd, out: &mut String) -> Result<(), CliError> {
    match cmd {
        LocalauthorityCmd::X509(cmd) => run(cmd, out).await,
        LocalauthorityCmd::Jwt(cmd) => run(cmd, out).await,
    }
}

async fn connect(common: &Common) -> Result<Client, CliError> {
    Ok(LocalAuthorityClient::new(
        client::connect(&common.socket.socket_path).await?,
    ))
}

/// Runs a `localauthority <kind>` command.
async fn run<K: AuthorityKind>(cmd: AuthorityCmd<K>, out: &mut String) -> Result<(), CliError> {
    let noun = K::WORDS.noun;
    let (changed, output) = match cmd {
        AuthorityCmd::Show(common) => return show::<K>(&common, out).await,
        AuthorityCmd::Prepare(common) => {
            let c = &mut connect(&common).await?;
            let what = format!("prepare {noun}");
            (K::prepare(c).await.map_err(rpc(what))?, common.output)
        }
        AuthorityCmd::Activate(a) => {
            let c = &mut connect(&a.common).await?;
            let what = format!("activate {noun}");
            let id = match a.authority_id {
                Some(id) => id,
                None => prepared_id::<K>(c, &what).await?,
            };
            (
                K::activate(c, id).await.map_err(rpc(what))?,
                a.common.output,
            )
        }
        AuthorityCmd::Taint(a) => {
            let c = &mut connect(&a.common).await?;
            let what = format!("taint {noun}");
            (
                K::taint(c, a.authority_id).await.map_err(rpc(what))?,
                a.common.output,
            )
        }
        AuthorityCmd::Revoke(a) => {
            let c = &mut connect(&a.common).await?;
            let what = format!("revoke {noun}");
            (
                K::revoke(c, a.authority_id).await.map_err(rpc(what))?,
                a.common.output,
            )
        }
    };
    let changed = changed.unwrap_or_default();
    match output {
        Output::Json => push_json(out, &changed),
        Output::Text => K::text(out, &changed),
    }
    Ok(())
}

async fn show<K: AuthorityKind>(common: &Common, out: &mut String) -> Result<(), CliError> {
    let mut c = connect(common).await?;
    let listed = K::list(&mut c)
        .await
        .map_err(rpc(format!("show {}", K::WORDS.nouns)))?;
    match common.output {
        Output::Json => push_json(out, &listed),
        Output::Text => {
            for (i, a) in K::authorities(&listed).iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                K::text(out, a);
            }
        }
    }
    Ok(())
}

/// `activate` without `--authority-id`: whichever is prepared, as `show` lists it.
async fn prepared_id<K: AuthorityKind>(c: &mut Client, what: &str) -> Result<String, CliError> {
    let listed = K::list(c).await.map_err(rpc(what.to_owned()))?;
    K::authorities(&listed)
        .iter()
        .map(K::id_and_state)
        .find(|(_, state)| *state == i32::from(api::AuthorityState::Prepared))
        .map(|(id, _)| id.to_owned())
        .ok_or_else(|| CliError::Rpc {
            what: what.to_owned().into(),
            message: format!(
                "no {} is prepared: run `localauthority {} prepare` first",
                K::WORDS.noun,
                K::WORDS.name
            ),
            code: tonic::Code::FailedPrecondition,
        })
}
