//! The `LocalAuthority` service (and `Jwt`, whose `MintJwtSvid` is in [`super::jwt`]).
//!
//! Show, prepare, activate, taint and revoke drive [`crate::ca::Ca`]'s manual rotation once for
//! both kinds of authority, generic over [`Kind`], which carries what differs (the CA calls, the
//! proto message, the words of messages). The rules are the CA's: activate only the prepared
//! one, taint only an old one, revoke only a tainted one.

use std::time::SystemTime;

use lanyard_datastore::AuthorityState;
use lanyard_proto::lanyard::admin::v1 as api;
use tonic::{Request, Response, Status};

use super::error::status;
use super::{caller, jwt, required};
use crate::ca::{AuthorityInfo, Ca, CaError, JwtAuthorityInfo, JwtKeyError};
use crate::state::ServerState;

/// Implements [`api::local_authority_server::LocalAuthority`] and [`api::jwt_server::Jwt`].
#[derive(Debug, Clone)]
pub(super) struct LocalAuthorityService {
    pub(super) state: ServerState,
}

/// The calls that change an authority, as named in audit actions (`authority.<kind>.<verb>`).
#[derive(Debug, Clone, Copy)]
enum Verb {
    Prepare,
    Activate,
    Taint,
    Revoke,
}

impl Verb {
    fn name(self) -> &'static str {
        match self {
            Verb::Prepare => "prepare",
            Verb::Activate => "activate",
            Verb::Taint => "taint",
            Verb::Revoke => "revoke",
        }
    }
}

/// What differs between the X.509 authorities and the JWT signing keys in the admin API.
trait Kind {
    /// The CA's view of one authority.
    type Info: Send;
    /// Its proto message.
    type Pb;
    /// `x509` or `jwt`: `localauthority <NAME>` and the audit action `authority.<NAME>.<verb>`.
    const NAME: &'static str;
    /// One of them in messages, e.g. "X.509 authority".
    const NOUN: &'static str;
    /// Its last word, e.g. "authority".
    const SHORT: &'static str;
    /// Where its ID comes from, e.g. "an id printed by `localauthority x509 show`".
    const ID_EXAMPLE: &'static str;
    /// The audit event's message, e.g. "admin changed an X.509 authority".
    const AUDIT: &'static str;
    /// Its ID, and whether it is this server's prepared one.
    fn id_and_prepared(a: &Self::Info) -> (&str, bool);
    fn to_pb(a: Self::Info) -> Self::Pb;
    /// The CA's error for an ID it does not know.
    fn not_found(id: &str) -> CaError;
    /// Every authority of this kind in the datastore.
    async fn list(ca: &Ca) -> Result<Vec<Self::Info>, CaError>;
    /// The CA's call for `verb`; `prepare` and `activate` ignore `id` (the CA acts on the one
    /// it prepared).
    async fn change(ca: &Ca, verb: Verb, id: &str) -> Result<Self::Info, CaError>;
}

fn state_to_pb(s: AuthorityState) -> i32 {
    match s {
        AuthorityState::Prepared => api::AuthorityState::Prepared,
        AuthorityState::Active => api::AuthorityState::Active,
        AuthorityState::Old => api::AuthorityState::Old,
    }
    .into()
}

/// The X.509 certificate authorities.
struct X509;

impl Kind for X509 {
    type Info = AuthorityInfo;
    type Pb = api::X509AuthorityInfo;
    const NAME: &'static str = "x509";
    const NOUN: &'static str = "X.509 authority";
    const SHORT: &'static str = "authority";
    const ID_EXAMPLE: &'static str = "an id printed by `localauthority x509 show`";
    const AUDIT: &'static str = "admin changed an X.509 authority";

    fn id_and_prepared(a: &AuthorityInfo) -> (&str, bool) {
        (&a.id, a.local && a.state == AuthorityState::Prepared)
    }

    fn to_pb(a: AuthorityInfo) -> api::X509AuthorityInfo {
        api::X509AuthorityInfo {
            authority_id: a.id,
            certificate: a.cert.into_vec(),
            state: state_to_pb(a.state),
            expires_at: a.not_after,
            tainted: a.tainted,
            local: a.local,
        }
    }

    fn not_found(id: &str) -> CaError {
        CaError::NotFound { id: id.to_owned() }
    }

    async fn list(ca: &Ca) -> Result<Vec<AuthorityInfo>, CaError> {
        ca.authorities().await
    }

    async fn change(ca: &Ca, verb: Verb, id: &str) -> Result<AuthorityInfo, CaError> {
        match verb {
            Verb::Prepare => ca.prepare(SystemTime::now()).await,
            Verb::Activate => ca.activate().await,
            Verb::Taint => ca.taint(id).await,
            Verb::Revoke => ca.revoke(id).await,
        }
    }
}

/// The JWT-SVID signing keys.
struct Jwt;

impl Kind for Jwt {
    type Info = JwtAuthorityInfo;
    type Pb = api::JwtAuthorityInfo;
    const NAME: &'static str = "jwt";
    const NOUN: &'static str = "JWT key";
    const SHORT: &'static str = "key";
    const ID_EXAMPLE: &'static str = "a kid printed by `localauthority jwt show`";
    const AUDIT: &'static str = "admin changed a JWT signing key";

    fn id_and_prepared(a: &JwtAuthorityInfo) -> (&str, bool) {
        (&a.id, a.local && a.state == AuthorityState::Prepared)
    }

    fn to_pb(a: JwtAuthorityInfo) -> api::JwtAuthorityInfo {
        api::JwtAuthorityInfo {
            authority_id: a.id,
            public_key: a.public_key,
            state: state_to_pb(a.state),
            expires_at: a.not_after,
            tainted: a.tainted,
        }
    }

    fn not_found(id: &str) -> CaError {
        JwtKeyError::NotFound { id: id.to_owned() }.into()
    }

    async fn list(ca: &Ca) -> Result<Vec<JwtAuthorityInfo>, CaError> {
        ca.jwt_authorities().await
    }

    async fn change(ca: &Ca, verb: Verb, id: &str) -> Result<JwtAuthorityInfo, CaError> {
        match verb {
            Verb::Prepare => ca.prepare_jwt(SystemTime::now()).await,
            Verb::Activate => ca.activate_jwt().await,
            Verb::Taint => ca.taint_jwt(id).await,
            Verb::Revoke => ca.revoke_jwt(id).await,
        }
    }
}

impl LocalAuthorityService {
    async fn show<K: Kind>(&self) -> Result<Vec<K::Pb>, Status> {
        let all = K::list(self.state.ca()).await.map_err(status)?;
        Ok(all.into_iter().map(K::to_pb).collect())
    }

    /// `prepare`, or `activate`/`taint`/`revoke` of the authority `id` names.
    async fn change<K: Kind>(&self, who: &str, verb: Verb, id: &str) -> Result<K::Pb, Status> {
        let ca = self.state.ca();
        if !matches!(verb, Verb::Prepare) {
            required("authority_id", id, K::ID_EXAMPLE)?;
        }
        if matches!(verb, Verb::Activate) {
            check_prepared::<K>(ca, id).await?;
        }
        let changed = K::change(ca, verb, id).await.map_err(status)?;
        let (changed_id, _) = K::id_and_prepared(&changed);
        let action = format!("authority.{}.{}", K::NAME, verb.name());
        audit!(who, action.as_str(), authority_id = %changed_id, "{}", K::AUDIT);
        Ok(K::to_pb(changed))
    }
}

/// The CA activates whichever authority it prepared; check it is the one the caller named, so an
/// activation never lands on a key the operator did not mean.
async fn check_prepared<K: Kind>(ca: &Ca, id: &str) -> Result<(), Status> {
    let rows = K::list(ca).await.map_err(status)?;
    let Some(named) = rows.iter().find(|a| K::id_and_prepared(a).0 == id) else {
        return Err(status(K::not_found(id)));
    };
    if K::id_and_prepared(named).1 {
        return Ok(());
    }
    let prepared = rows
        .iter()
        .map(K::id_and_prepared)
        .find(|(_, prepared)| *prepared)
        .map_or_else(
            || format!("none is; run `localauthority {} prepare` first", K::NAME),
            |(p, _)| format!("{p} is"),
        );
    Err(Status::failed_precondition(format!(
        "{} {id} is not this server's prepared {} ({prepared})",
        K::NOUN,
        K::SHORT
    )))
}

#[tonic::async_trait]
impl api::local_authority_server::LocalAuthority for LocalAuthorityService {
    async fn get_x509_authorities(
        &self,
        _req: Request<api::GetX509AuthoritiesRequest>,
    ) -> Result<Response<api::GetX509AuthoritiesResponse>, Status> {
        let authorities = self.show::<X509>().await?;
        Ok(Response::new(api::GetX509AuthoritiesResponse {
            authorities,
        }))
    }

    async fn prepare_x509_authority(
        &self,
        req: Request<api::PrepareX509AuthorityRequest>,
    ) -> Result<Response<api::PrepareX509AuthorityResponse>, Status> {
        let prepared = Some(
            self.change::<X509>(&caller(&req), Verb::Prepare, "")
                .await?,
        );
        Ok(Response::new(api::PrepareX509AuthorityResponse {
            prepared,
        }))
    }

    async fn activate_x509_authority(
        &self,
        req: Request<api::ActivateX509AuthorityRequest>,
    ) -> Result<Response<api::ActivateX509AuthorityResponse>, Status> {
        let id = &req.get_ref().authority_id;
        let activated = Some(
            self.change::<X509>(&caller(&req), Verb::Activate, id)
                .await?,
        );
        Ok(Response::new(api::ActivateX509AuthorityResponse {
            activated,
        }))
    }

    async fn taint_x509_authority(
        &self,
        req: Request<api::TaintX509AuthorityRequest>,
    ) -> Result<Response<api::TaintX509AuthorityResponse>, Status> {
        let id = &req.get_ref().authority_id;
        let tainted = Some(self.change::<X509>(&caller(&req), Verb::Taint, id).await?);
        Ok(Response::new(api::TaintX509AuthorityResponse { tainted }))
    }

    async fn revoke_x509_authority(
        &self,
        req: Request<api::RevokeX509AuthorityRequest>,
    ) -> Result<Response<api::RevokeX509AuthorityResponse>, Status> {
        let id = &req.get_ref().authority_id;
        let revoked = Some(self.change::<X509>(&caller(&req), Verb::Revoke, id).await?);
        Ok(Response::new(api::RevokeX509AuthorityResponse { revoked }))
    }

    async fn get_jwt_authorities(
        &self,
        _req: Request<api::GetJwtAuthoritiesRequest>,
    ) -> Result<Response<api::GetJwtAuthoritiesResponse>, Status> {
        let authorities = self.show::<Jwt>().await?;
        Ok(Response::new(api::GetJwtAuthoritiesResponse {
            authorities,
        }))
    }

    async fn prepare_jwt_authority(
        &self,
        req: Request<api::PrepareJwtAuthorityRequest>,
    ) -> Result<Response<api::PrepareJwtAuthorityResponse>, Status> {
        let prepared = Some(self.change::<Jwt>(&caller(&req), Verb::Prepare, "").await?);
        Ok(Response::new(api::PrepareJwtAuthorityResponse { prepared }))
    }

    async fn activate_jwt_authority(
        &self,
        req: Request<api::ActivateJwtAuthorityRequest>,
    ) -> Result<Response<api::ActivateJwtAuthorityResponse>, Status> {
        let id = &req.get_ref().authority_id;
        let activated = Some(
            self.change::<Jwt>(&caller(&req), Verb::Activate, id)
                .await?,
        );
        Ok(Response::new(api::ActivateJwtAuthorityResponse {
            activated,
        }))
    }

    async fn taint_jwt_authority(
        &self,
        req: Request<api::TaintJwtAuthorityRequest>,
    ) -> Result<Response<api::TaintJwtAuthorityResponse>, Status> {
        let id = &req.get_ref().authority_id;
        let tainted = Some(self.change::<Jwt>(&caller(&req), Verb::Taint, id).await?);
        Ok(Response::new(api::TaintJwtAuthorityResponse { tainted }))
    }

    async fn revoke_jwt_authority(
        &self,
        req: Request<api::RevokeJwtAuthorityRequest>,
    ) -> Result<Response<api::RevokeJwtAuthorityResponse>, Status> {
        let id = &req.get_ref().authority_id;
        let revoked = Some(self.change::<Jwt>(&caller(&req), Verb::Revoke, id).await?);
        Ok(Response::new(api::RevokeJwtAuthorityResponse { revoked }))
    }
}

#[tonic::async_trait]
impl api::jwt_server::Jwt for LocalAuthorityService {
    async fn mint_jwt_svid(
        &self,
        req: Request<api::MintJwtSvidRequest>,
    ) -> Result<Response<api::MintJwtSvidResponse>, Status> {
        let who = caller(&req);
        Ok(Response::new(api::MintJwtSvidResponse {
            svid: Some(jwt::mint(&self.state, &who, req.into_inner()).await?),
        }))
    }
}
