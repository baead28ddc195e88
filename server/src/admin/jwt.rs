//! The JWT half of `LocalAuthority` and the `Jwt` service.
//!
//! JWT key calls drive [`crate::ca::Ca`]'s JWT key rotation with the X.509 rules: activate only
//! the prepared key, taint only an old one, revoke only a tainted one. `MintJwtSvid` lets an
//! operator mint a token for any non-root ID of the trust domain, without an entry.

use std::time::{Duration, SystemTime};

use lanyard_datastore::AuthorityState;
use lanyard_id::SpiffeId;
use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::types::v1 as types;
use tonic::Status;

use super::error::status;
use super::required;
use crate::ca::{CaError, JwtAuthorityInfo, JwtKeyError};
use crate::state::ServerState;

pub(super) fn info_to_pb(a: JwtAuthorityInfo) -> api::JwtAuthorityInfo {
    let state = match a.state {
        AuthorityState::Prepared => api::AuthorityState::Prepared,
        AuthorityState::Active => api::AuthorityState::Active,
        AuthorityState::Old => api::AuthorityState::Old,
    };
    api::JwtAuthorityInfo {
        authority_id: a.id,
        public_key: a.public_key,
        state: state.into(),
        expires_at: a.not_after,
        tainted: a.tainted,
    }
}

fn audit(who: &str, action: &str, id: &str) {
    tracing::info!(
        target: "audit",
        caller = %who,
        action,
        authority_id = %id,
        "admin changed a JWT signing key"
    );
}

fn kid(value: &str) -> Result<&str, Status> {
    required(
        "authority_id",
        value,
        "a kid printed by `localauthority jwt show`",
    )
}

pub(super) async fn get(state: &ServerState) -> Result<Vec<api::JwtAuthorityInfo>, Status> {
    let keys = state.ca().jwt_authorities().await.map_err(status)?;
    Ok(keys.into_iter().map(info_to_pb).collect())
}

pub(super) async fn prepare(
    state: &ServerState,
    who: &str,
) -> Result<api::JwtAuthorityInfo, Status> {
    let prepared = state
        .ca()
        .prepare_jwt(SystemTime::now())
        .await
        .map_err(status)?;
    audit(who, "authority.jwt.prepare", &prepared.id);
    Ok(info_to_pb(prepared))
}

pub(super) async fn activate(
    state: &ServerState,
    who: &str,
    id: &str,
) -> Result<api::JwtAuthorityInfo, Status> {
    let id = kid(id)?;
    let ca = state.ca();
    // The CA activates whichever key it prepared; check it is the one the caller named.
    let rows = ca.jwt_authorities().await.map_err(status)?;
    let Some(named) = rows.iter().find(|a| a.id == id) else {
        return Err(status(CaError::from(JwtKeyError::NotFound {
            id: id.to_owned(),
        })));
    };
    if !(named.local && named.state == AuthorityState::Prepared) {
        let prepared = rows
            .iter()
            .find(|a| a.local && a.state == AuthorityState::Prepared)
            .map_or_else(
                || "none is; run `localauthority jwt prepare` first".to_owned(),
                |p| format!("{} is", p.id),
            );
        return Err(Status::failed_precondition(format!(
            "JWT key {id} is not this server's prepared key ({prepared})"
        )));
    }
    let activated = ca.activate_jwt().await.map_err(status)?;
    audit(who, "authority.jwt.activate", &activated.id);
    Ok(info_to_pb(activated))
}

pub(super) async fn taint(
    state: &ServerState,
    who: &str,
    id: &str,
) -> Result<api::JwtAuthorityInfo, Status> {
    let id = kid(id)?;
    let tainted = state.ca().taint_jwt(id).await.map_err(status)?;
    audit(who, "authority.jwt.taint", id);
    Ok(info_to_pb(tainted))
}

pub(super) async fn revoke(
    state: &ServerState,
    who: &str,
    id: &str,
) -> Result<api::JwtAuthorityInfo, Status> {
    let id = kid(id)?;
    let revoked = state.ca().revoke_jwt(id).await.map_err(status)?;
    audit(who, "authority.jwt.revoke", id);
    Ok(info_to_pb(revoked))
}

/// `Jwt.MintJwtSvid`: a token for `spiffe_id` (our trust domain, not its root).
pub(super) async fn mint(
    state: &ServerState,
    who: &str,
    req: api::MintJwtSvidRequest,
) -> Result<types::JwtSvid, Status> {
    let raw = required("spiffe_id", &req.spiffe_id, "spiffe://example.org/web")?;
    let id = SpiffeId::parse(raw)
        .map_err(|e| Status::invalid_argument(format!("`spiffe_id` {raw:?}: {e}")))?;
    let td = state.trust_domain();
    if !id.is_member_of(td) {
        return Err(Status::invalid_argument(format!(
            "`spiffe_id` {id} is not in this server's trust domain {td}: use spiffe://{}/...",
            td.name()
        )));
    }
    if id.is_root() {
        return Err(Status::invalid_argument(format!(
            "`spiffe_id` {id} is the trust domain's root ID; a JWT-SVID names a workload, e.g. {}/web",
            td.id_string()
        )));
    }
    crate::agent_api::check_audience(&req.audience)?;
    let ttl = match req.ttl_seconds {
        0 => state.default_jwt_ttl(),
        s => Duration::from_secs(u64::from(s)),
    };
    let ca = state.ca().clone();
    let (sub, aud) = (id.clone(), req.audience);
    let minted =
        tokio::task::spawn_blocking(move || ca.mint_jwt_svid(sub, aud, ttl, SystemTime::now()))
            .await
            .map_err(|e| Status::internal(format!("minting task failed: {e}")))?
            .map_err(status)?;
    tracing::info!(
        target: "audit",
        event = "jwt_svid_issued",
        caller = %who,
        spiffe_id = %id,
        kid = %minted.kid,
        expires_at = minted.expires_at,
        "admin minted a JWT-SVID"
    );
    Ok(types::JwtSvid {
        token: minted.token,
        spiffe_id: id.to_string(),
        expires_at: minted.expires_at,
    })
}
