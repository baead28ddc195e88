//! The `LocalAuthority` service and the `Jwt` service.
//!
//! X.509 calls drive [`crate::ca::Ca`]'s manual rotation here; the JWT calls and `MintJwtSvid`
//! delegate to [`super::jwt`].

use lanyard_datastore::AuthorityState;
use lanyard_proto::lanyard::admin::v1 as api;
use tonic::{Request, Response, Status};

use super::error::status;
use super::{caller, jwt, required};
use crate::ca::{AuthorityInfo, CaError};
use crate::state::ServerState;

/// Implements [`api::local_authority_server::LocalAuthority`] and [`api::jwt_server::Jwt`].
#[derive(Debug, Clone)]
pub(super) struct LocalAuthorityService {
    pub(super) state: ServerState,
}

fn info_to_pb(a: AuthorityInfo) -> api::X509AuthorityInfo {
    let state = match a.state {
        AuthorityState::Prepared => api::AuthorityState::Prepared,
        AuthorityState::Active => api::AuthorityState::Active,
        AuthorityState::Old => api::AuthorityState::Old,
    };
    api::X509AuthorityInfo {
        authority_id: a.id,
        certificate: a.cert.into_vec(),
        state: state.into(),
        expires_at: a.not_after,
        tainted: a.tainted,
        local: a.local,
    }
}

fn audit(who: &str, action: &str, id: &str) {
    tracing::info!(
        target: "audit",
        caller = %who,
        action,
        authority_id = %id,
        "admin changed an X.509 authority"
    );
}

fn authority_id(value: &str) -> Result<&str, Status> {
    required(
        "authority_id",
        value,
        "an id printed by `localauthority x509 show`",
    )
}

#[tonic::async_trait]
impl api::local_authority_server::LocalAuthority for LocalAuthorityService {
    async fn get_x509_authorities(
        &self,
        _req: Request<api::GetX509AuthoritiesRequest>,
    ) -> Result<Response<api::GetX509AuthoritiesResponse>, Status> {
        let authorities = self.state.ca().authorities().await.map_err(status)?;
        Ok(Response::new(api::GetX509AuthoritiesResponse {
            authorities: authorities.into_iter().map(info_to_pb).collect(),
        }))
    }

    async fn prepare_x509_authority(
        &self,
        req: Request<api::PrepareX509AuthorityRequest>,
    ) -> Result<Response<api::PrepareX509AuthorityResponse>, Status> {
        let who = caller(&req);
        let prepared = self
            .state
            .ca()
            .prepare(std::time::SystemTime::now())
            .await
            .map_err(status)?;
        audit(&who, "authority.x509.prepare", &prepared.id);
        Ok(Response::new(api::PrepareX509AuthorityResponse {
            prepared: Some(info_to_pb(prepared)),
        }))
    }

    async fn activate_x509_authority(
        &self,
        req: Request<api::ActivateX509AuthorityRequest>,
    ) -> Result<Response<api::ActivateX509AuthorityResponse>, Status> {
        let who = caller(&req);
        let req = req.into_inner();
        let id = authority_id(&req.authority_id)?;
        let ca = self.state.ca();
        // The CA activates whichever authority it prepared; check it is the one the caller saw,
        // so an activation never lands on a key the operator did not mean.
        let rows = ca.authorities().await.map_err(status)?;
        let Some(named) = rows.iter().find(|a| a.id == id) else {
            return Err(status(CaError::NotFound { id: id.to_owned() }));
        };
        if !(named.local && named.state == AuthorityState::Prepared) {
            let prepared = rows
                .iter()
                .find(|a| a.local && a.state == AuthorityState::Prepared)
                .map_or_else(
                    || "none is; run `localauthority x509 prepare` first".to_owned(),
                    |p| format!("{} is", p.id),
                );
            return Err(Status::failed_precondition(format!(
                "X.509 authority {id} is not this server's prepared authority ({prepared})"
            )));
        }
        let activated = ca.activate().await.map_err(status)?;
        audit(&who, "authority.x509.activate", &activated.id);
        Ok(Response::new(api::ActivateX509AuthorityResponse {
            activated: Some(info_to_pb(activated)),
        }))
    }

    async fn taint_x509_authority(
        &self,
        req: Request<api::TaintX509AuthorityRequest>,
    ) -> Result<Response<api::TaintX509AuthorityResponse>, Status> {
        let who = caller(&req);
        let req = req.into_inner();
        let id = authority_id(&req.authority_id)?;
        let tainted = self.state.ca().taint(id).await.map_err(status)?;
        audit(&who, "authority.x509.taint", id);
        Ok(Response::new(api::TaintX509AuthorityResponse {
            tainted: Some(info_to_pb(tainted)),
        }))
    }

    async fn revoke_x509_authority(
        &self,
        req: Request<api::RevokeX509AuthorityRequest>,
    ) -> Result<Response<api::RevokeX509AuthorityResponse>, Status> {
        let who = caller(&req);
        let req = req.into_inner();
        let id = authority_id(&req.authority_id)?;
        let revoked = self.state.ca().revoke(id).await.map_err(status)?;
        audit(&who, "authority.x509.revoke", id);
        Ok(Response::new(api::RevokeX509AuthorityResponse {
            revoked: Some(info_to_pb(revoked)),
        }))
    }

    async fn get_jwt_authorities(
        &self,
        _req: Request<api::GetJwtAuthoritiesRequest>,
    ) -> Result<Response<api::GetJwtAuthoritiesResponse>, Status> {
        Ok(Response::new(api::GetJwtAuthoritiesResponse {
            authorities: jwt::get(&self.state).await?,
        }))
    }

    async fn prepare_jwt_authority(
        &self,
        req: Request<api::PrepareJwtAuthorityRequest>,
    ) -> Result<Response<api::PrepareJwtAuthorityResponse>, Status> {
        let who = caller(&req);
        Ok(Response::new(api::PrepareJwtAuthorityResponse {
            prepared: Some(jwt::prepare(&self.state, &who).await?),
        }))
    }

    async fn activate_jwt_authority(
        &self,
        req: Request<api::ActivateJwtAuthorityRequest>,
    ) -> Result<Response<api::ActivateJwtAuthorityResponse>, Status> {
        let who = caller(&req);
        let id = req.into_inner().authority_id;
        Ok(Response::new(api::ActivateJwtAuthorityResponse {
            activated: Some(jwt::activate(&self.state, &who, &id).await?),
        }))
    }

    async fn taint_jwt_authority(
        &self,
        req: Request<api::TaintJwtAuthorityRequest>,
    ) -> Result<Response<api::TaintJwtAuthorityResponse>, Status> {
        let who = caller(&req);
        let id = req.into_inner().authority_id;
        Ok(Response::new(api::TaintJwtAuthorityResponse {
            tainted: Some(jwt::taint(&self.state, &who, &id).await?),
        }))
    }

    async fn revoke_jwt_authority(
        &self,
        req: Request<api::RevokeJwtAuthorityRequest>,
    ) -> Result<Response<api::RevokeJwtAuthorityResponse>, Status> {
        let who = caller(&req);
        let id = req.into_inner().authority_id;
        Ok(Response::new(api::RevokeJwtAuthorityResponse {
            revoked: Some(jwt::revoke(&self.state, &who, &id).await?),
        }))
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
