//! The `Federation` service: relationships with foreign trust domains (SPIFFE Federation §6),
//! their refresh status on this server, and refreshes on demand; plus the conversions the
//! federated bundle RPCs of `Bundles` share.
//!
//! A relationship declared in server.toml is listed like the others but changed only by editing
//! the file (the datastore refuses, `FailedPrecondition`). The server's own trust domain is
//! refused everywhere (`InvalidArgument`): its bundle is managed with `localauthority`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lanyard_datastore::{BundleOrigin, EndpointProfile, FederatedBundle, FederationRelationship};
use lanyard_id::{SpiffeId, TrustDomain};
use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::types::v1 as pb;
use lanyard_x509::{Bundle, CertDer, JwtAuthority};
use tonic::{Request, Response, Status};

use super::caller;
use super::error::status;
use crate::convert::federated_bundle_to_pb;
use crate::federation::refresher::RefreshError;
use crate::federation::status::RefreshStatus;
use crate::federation::url::EndpointUrl;
use crate::state::ServerState;

/// Implements [`api::federation_server::Federation`].
#[derive(Debug, Clone)]
pub(super) struct FederationService {
    pub(super) state: ServerState,
}

/// A foreign trust domain from a request's `field`: a bare name or a `spiffe://` ID, not the
/// server's own.
pub(super) fn foreign_trust_domain(
    state: &ServerState,
    field: &str,
    value: &str,
) -> Result<TrustDomain, Status> {
    if value.is_empty() {
        return Err(Status::invalid_argument(format!(
            "`{field}` is required: the foreign trust domain, e.g. orders.example"
        )));
    }
    let td = TrustDomain::new(value).map_err(|e| {
        Status::invalid_argument(format!(
            "`{field}` {value:?} is not a trust domain name: {e}"
        ))
    })?;
    if td == *state.trust_domain() {
        return Err(Status::invalid_argument(format!(
            "{td} is this server's own trust domain: its bundle is managed with `localauthority`, not federation"
        )));
    }
    Ok(td)
}

/// Unix seconds of `t`; 0 for never.
fn unix(t: Option<SystemTime>) -> i64 {
    t.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_secs()).ok())
        .unwrap_or(0)
}

fn status_to_pb(s: &RefreshStatus) -> api::RefreshStatus {
    api::RefreshStatus {
        last_attempt_at: unix(s.last_attempt_at),
        last_success_at: unix(s.last_success_at),
        last_error: s.last_error.clone().unwrap_or_default(),
        next_attempt_at: unix(s.next_attempt_at),
        consecutive_failures: s.consecutive_failures,
    }
}

fn profile_to_pb(p: EndpointProfile) -> api::BundleEndpointProfile {
    match p {
        EndpointProfile::HttpsWeb => api::BundleEndpointProfile::HttpsWeb,
        EndpointProfile::HttpsSpiffe => api::BundleEndpointProfile::HttpsSpiffe,
    }
}

impl FederationService {
    fn to_pb(&self, rel: &FederationRelationship) -> api::FederationRelationship {
        api::FederationRelationship {
            trust_domain: rel.trust_domain.name().to_owned(),
            bundle_endpoint_url: rel.endpoint_url.clone(),
            profile: profile_to_pb(rel.profile).into(),
            endpoint_spiffe_id: rel
                .endpoint_spiffe_id
                .as_ref()
                .map(|id| id.as_str().to_owned())
                .unwrap_or_default(),
            declared_in_config: rel.declared_in_config,
            status: self
                .state
                .federation()
                .and_then(|f| f.status(&rel.trust_domain))
                .as_ref()
                .map(status_to_pb),
        }
    }

    /// The relationship and bootstrap bundle of a create or update request.
    fn parse_request(
        &self,
        rel: Option<api::FederationRelationship>,
        bootstrap: Option<pb::Bundle>,
    ) -> Result<(FederationRelationship, Option<FederatedBundle>), Status> {
        let rel = rel.ok_or_else(|| {
            Status::invalid_argument(
                "`relationship` is required: trust_domain, bundle_endpoint_url, profile (and endpoint_spiffe_id for https_spiffe)",
            )
        })?;
        let td = foreign_trust_domain(&self.state, "relationship.trust_domain", &rel.trust_domain)?;
        let url = rel.bundle_endpoint_url.trim();
        EndpointUrl::parse(url).map_err(|e| {
            Status::invalid_argument(format!("`relationship.bundle_endpoint_url`: {e}"))
        })?;
        let profile = match api::BundleEndpointProfile::try_from(rel.profile) {
            Ok(api::BundleEndpointProfile::HttpsWeb) => EndpointProfile::HttpsWeb,
            Ok(api::BundleEndpointProfile::HttpsSpiffe) => EndpointProfile::HttpsSpiffe,
            _ => {
                return Err(Status::invalid_argument(
                    "`relationship.profile` is required: HTTPS_WEB or HTTPS_SPIFFE (never inferred, SPIFFE Federation §7.2)",
                ));
            }
        };
        let endpoint_spiffe_id = match (profile, rel.endpoint_spiffe_id.as_str()) {
            (EndpointProfile::HttpsWeb, "") => None,
            (EndpointProfile::HttpsWeb, id) => {
                return Err(Status::invalid_argument(format!(
                    "`relationship.endpoint_spiffe_id` ({id}) is only for profile https_spiffe; an https_web endpoint is checked by the URL's host name"
                )));
            }
            (EndpointProfile::HttpsSpiffe, "") => {
                return Err(Status::invalid_argument(format!(
                    "`relationship.endpoint_spiffe_id` is required with profile https_spiffe: the SPIFFE ID the endpoint presents, e.g. spiffe://{td}/lanyard/server"
                )));
            }
            (EndpointProfile::HttpsSpiffe, id) => Some(SpiffeId::parse(id).map_err(|e| {
                Status::invalid_argument(format!(
                    "`relationship.endpoint_spiffe_id` {id:?} is not a SPIFFE ID: {e}"
                ))
            })?),
        };
        let bootstrap = bootstrap
            .map(|b| stored_from_pb(b, &td, "bootstrap_bundle"))
            .transpose()?;
        let rel = FederationRelationship {
            trust_domain: td,
            endpoint_url: url.to_owned(),
            profile,
            endpoint_spiffe_id,
            declared_in_config: false,
            created_at: 0,
            updated_at: 0,
        };
        Ok((rel, bootstrap))
    }
}

/// A bundle from a request's `field`, checked: for trust domain `td` (an empty `trust_domain`
/// means `td`), every authority readable, and encodable as a SPIFFE bundle document that decodes
/// again (what the cache and the agents will read). Taint flags are ignored.
pub(super) fn bundle_from_pb(
    b: pb::Bundle,
    td: &TrustDomain,
    field: &str,
) -> Result<Bundle, Status> {
    let invalid = |what: String| Status::invalid_argument(format!("`{field}`: {what}"));
    if !b.trust_domain.is_empty() {
        let named = TrustDomain::new(&b.trust_domain)
            .map_err(|e| invalid(format!("trust_domain {:?}: {e}", b.trust_domain)))?;
        if named != *td {
            return Err(invalid(format!("is the bundle of {named}, not of {td}")));
        }
    }
    let mut bundle = Bundle::new(td.clone());
    for (i, a) in b.x509_authorities.into_iter().enumerate() {
        let cert = CertDer::from_der(a.asn1).map_err(|e| {
            invalid(format!(
                "x509_authorities[{i}] is not a DER certificate: {e}"
            ))
        })?;
        bundle.add_x509_authority(cert);
    }
    for a in b.jwt_authorities {
        if a.key_id.is_empty() {
            return Err(invalid(
                "a JWT authority has no key_id (JWT-SVID §6.1: `kid` is required)".to_owned(),
            ));
        }
        let expires_at = u64::try_from(a.expires_at)
            .ok()
            .filter(|s| *s > 0)
            .map(|s| UNIX_EPOCH + Duration::from_secs(s));
        bundle.jwt_authorities.insert(
            a.key_id,
            JwtAuthority {
                public_key: a.public_key,
                expires_at,
            },
        );
    }
    if bundle.x509_authorities.is_empty() && bundle.jwt_authorities.is_empty() {
        return Err(invalid(format!(
            "the bundle of {td} holds no X.509 authority and no JWT key"
        )));
    }
    bundle.sequence_number = b.sequence_number;
    bundle.refresh_hint = u64::try_from(b.refresh_hint_seconds)
        .ok()
        .filter(|s| *s > 0)
        .map(Duration::from_secs);
    let json = bundle
        .to_jwks_json()
        .map_err(|e| invalid(format!("not encodable as a SPIFFE bundle: {e}")))?;
    Bundle::from_jwks_json(td.clone(), json.as_bytes())
        .map_err(|e| invalid(format!("not readable as a SPIFFE bundle once encoded: {e}")))?;
    Ok(bundle)
}

/// A bundle from a request, as stored (origin operator).
pub(super) fn stored_from_pb(
    b: pb::Bundle,
    td: &TrustDomain,
    field: &str,
) -> Result<FederatedBundle, Status> {
    let bundle = bundle_from_pb(b, td, field)?;
    let bundle_json = bundle
        .to_jwks_json()
        .map_err(|e| Status::invalid_argument(format!("`{field}`: {e}")))?;
    Ok(FederatedBundle {
        trust_domain: td.clone(),
        bundle_json,
        sequence: bundle.sequence_number,
        origin: BundleOrigin::Operator,
        updated_at: 0,
    })
}

/// The API form of a stored foreign bundle, with the stored sequence number (a refresh may have
/// raised it past the document's).
pub(super) fn stored_to_pb(stored: &FederatedBundle) -> Result<pb::Bundle, Status> {
    let td = &stored.trust_domain;
    let mut bundle =
        Bundle::from_jwks_json(td.clone(), stored.bundle_json.as_bytes()).map_err(|e| {
            let message = format!(
                "the stored bundle of {td} does not decode ({e}); replace it with `bundle set --trust-domain {td}`"
            );
            tracing::error!(trust_domain = %td, error = %e, "a stored federated bundle does not decode");
            Status::internal(message)
        })?;
    bundle.sequence_number = stored.sequence;
    Ok(federated_bundle_to_pb(&bundle))
}

#[tonic::async_trait]
impl api::federation_server::Federation for FederationService {
    async fn create_federation_relationship(
        &self,
        req: Request<api::CreateFederationRelationshipRequest>,
    ) -> Result<Response<api::CreateFederationRelationshipResponse>, Status> {
        let who = caller(&req);
        let r = req.into_inner();
        let (rel, bootstrap) = self.parse_request(r.relationship, r.bootstrap_bundle)?;
        let with_bootstrap = bootstrap.is_some();
        let stored = self
            .state
            .datastore()
            .create_relationship(rel, bootstrap)
            .await
            .map_err(status)?;
        audit!(
            who,
            "federation.create",
            trust_domain = %stored.trust_domain,
            url = %stored.endpoint_url,
            profile = %stored.profile,
            bootstrap_bundle = with_bootstrap,
            "admin created a federation relationship"
        );
        Ok(Response::new(api::CreateFederationRelationshipResponse {
            relationship: Some(self.to_pb(&stored)),
        }))
    }

    async fn update_federation_relationship(
        &self,
        req: Request<api::UpdateFederationRelationshipRequest>,
    ) -> Result<Response<api::UpdateFederationRelationshipResponse>, Status> {
        let who = caller(&req);
        let r = req.into_inner();
        let (rel, bootstrap) = self.parse_request(r.relationship, r.bootstrap_bundle)?;
        let with_bootstrap = bootstrap.is_some();
        let stored = self
            .state
            .datastore()
            .update_relationship(rel, bootstrap)
            .await
            .map_err(status)?;
        audit!(
            who,
            "federation.update",
            trust_domain = %stored.trust_domain,
            url = %stored.endpoint_url,
            profile = %stored.profile,
            bootstrap_bundle = with_bootstrap,
            "admin changed a federation relationship"
        );
        Ok(Response::new(api::UpdateFederationRelationshipResponse {
            relationship: Some(self.to_pb(&stored)),
        }))
    }

    async fn delete_federation_relationship(
        &self,
        req: Request<api::DeleteFederationRelationshipRequest>,
    ) -> Result<Response<api::DeleteFederationRelationshipResponse>, Status> {
        let who = caller(&req);
        let td = foreign_trust_domain(&self.state, "trust_domain", &req.get_ref().trust_domain)?;
        self.state
            .datastore()
            .delete_relationship(&td)
            .await
            .map_err(status)?;
        audit!(
            who,
            "federation.delete",
            trust_domain = %td,
            "admin deleted a federation relationship and its bundle"
        );
        Ok(Response::new(api::DeleteFederationRelationshipResponse {}))
    }

    async fn list_federation_relationships(
        &self,
        _req: Request<api::ListFederationRelationshipsRequest>,
    ) -> Result<Response<api::ListFederationRelationshipsResponse>, Status> {
        let rels = self
            .state
            .datastore()
            .list_relationships()
            .await
            .map_err(status)?;
        Ok(Response::new(api::ListFederationRelationshipsResponse {
            relationships: rels.iter().map(|r| self.to_pb(r)).collect(),
        }))
    }

    async fn get_federation_relationship(
        &self,
        req: Request<api::GetFederationRelationshipRequest>,
    ) -> Result<Response<api::GetFederationRelationshipResponse>, Status> {
        let td = foreign_trust_domain(&self.state, "trust_domain", &req.get_ref().trust_domain)?;
        let rel = self
            .state
            .datastore()
            .get_relationship(&td)
            .await
            .map_err(status)?
            .ok_or_else(|| no_relationship(&td))?;
        Ok(Response::new(api::GetFederationRelationshipResponse {
            relationship: Some(self.to_pb(&rel)),
        }))
    }

    async fn refresh_bundle(
        &self,
        req: Request<api::RefreshBundleRequest>,
    ) -> Result<Response<api::RefreshBundleResponse>, Status> {
        let who = caller(&req);
        let td = foreign_trust_domain(&self.state, "trust_domain", &req.get_ref().trust_domain)?;
        let Some(refresher) = self.state.federation() else {
            return Err(Status::unavailable(
                "this server runs no federation refresher",
            ));
        };
        audit!(
            who,
            "federation.refresh",
            trust_domain = %td,
            "admin asked for a bundle refresh"
        );
        let stored = refresher.refresh_now(&td).await.map_err(|e| match e {
            RefreshError::NoRelationship(_) => no_relationship(&td),
            RefreshError::Datastore(e) => status(e),
            // Logged by the refresher already.
            RefreshError::Failed(message) => Status::unavailable(message),
        })?;
        Ok(Response::new(api::RefreshBundleResponse {
            bundle: Some(stored_to_pb(&stored)?),
        }))
    }
}

fn no_relationship(td: &TrustDomain) -> Status {
    Status::not_found(format!(
        "no federation relationship with trust domain {td}: list them with `federation list`, create one with `federation create --trust-domain {td}`"
    ))
}

#[cfg(test)]
#[path = "federation_tests.rs"]
mod tests;
