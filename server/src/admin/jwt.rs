//! The `Jwt` service: `MintJwtSvid` lets an operator mint a token for any non-root ID of the
//! trust domain, without an entry. (The JWT signing keys' rotation is in [`super::authority`].)

use std::time::{Duration, SystemTime};

use lanyard_id::SpiffeId;
use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::types::v1 as types;
use tonic::Status;

use super::error::status;
use super::required;
use crate::state::ServerState;

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
    audit!(
        who,
        "jwt_svid.mint",
        spiffe_id = %id,
        authority_id = %minted.kid,
        expires_at = minted.expires_at,
        "admin minted a JWT-SVID"
    );
    Ok(types::JwtSvid {
        token: minted.token,
        spiffe_id: id.to_string(),
        expires_at: minted.expires_at,
    })
}
