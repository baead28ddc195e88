//! The `Bundles` service: the trust domain's bundle as agents and relying parties see it, and
//! the foreign trust domains' bundles this server stores (federation: fetched by the refresher
//! or set by hand).

use lanyard_id::TrustDomain;
use lanyard_proto::lanyard::admin::v1 as api;
use tonic::{Request, Response, Status};

use super::caller;
use super::error::status;
use super::federation::{foreign_trust_domain, stored_from_pb, stored_to_pb};
use crate::convert::bundle_to_pb;
use crate::state::ServerState;
use crate::taint::Taint;

/// Implements [`api::bundles_server::Bundles`].
#[derive(Debug, Clone)]
pub(super) struct BundlesService {
    pub(super) state: ServerState,
}

#[tonic::async_trait]
impl api::bundles_server::Bundles for BundlesService {
    async fn get_bundle(
        &self,
        req: Request<api::GetBundleRequest>,
    ) -> Result<Response<api::GetBundleResponse>, Status> {
        let name = req.into_inner().trust_domain;
        let ours = self.state.trust_domain();
        if !name.is_empty() {
            let td = TrustDomain::new(&name).map_err(|e| {
                Status::invalid_argument(format!(
                    "`trust_domain` {name:?} is not a trust domain name: {e}"
                ))
            })?;
            if td != *ours {
                let stored = self
                    .state
                    .datastore()
                    .get_federated_bundle(&td)
                    .await
                    .map_err(status)?
                    .ok_or_else(|| {
                        Status::not_found(format!(
                            "no bundle of trust domain {td} is stored: this server holds its own ({ours}) and those of `bundle list`; store one with `bundle set --trust-domain {td}` or `federation create --trust-domain {td}`"
                        ))
                    })?;
                return Ok(Response::new(api::GetBundleResponse {
                    bundle: Some(stored_to_pb(&stored)?),
                }));
            }
        }
        let bundle = self.state.ca().bundle().await.map_err(status)?;
        let taint = Taint::load(self.state.datastore()).await.map_err(status)?;
        Ok(Response::new(api::GetBundleResponse {
            bundle: Some(bundle_to_pb(&bundle, &taint)),
        }))
    }

    async fn list_federated_bundles(
        &self,
        _req: Request<api::ListFederatedBundlesRequest>,
    ) -> Result<Response<api::ListFederatedBundlesResponse>, Status> {
        let stored = self
            .state
            .datastore()
            .list_federated_bundles()
            .await
            .map_err(status)?;
        Ok(Response::new(api::ListFederatedBundlesResponse {
            bundles: stored.iter().map(stored_to_pb).collect::<Result<_, _>>()?,
        }))
    }

    async fn set_federated_bundle(
        &self,
        req: Request<api::SetFederatedBundleRequest>,
    ) -> Result<Response<api::SetFederatedBundleResponse>, Status> {
        let who = caller(&req);
        let bundle = req.into_inner().bundle.ok_or_else(|| {
            Status::invalid_argument("`bundle` is required, with its `trust_domain`")
        })?;
        let td = foreign_trust_domain(&self.state, "bundle.trust_domain", &bundle.trust_domain)?;
        let bundle = stored_from_pb(bundle, &td, "bundle")?;
        let stored = self
            .state
            .datastore()
            .set_federated_bundle(bundle)
            .await
            .map_err(status)?;
        audit!(
            who,
            "bundle.set",
            trust_domain = %td,
            sequence = stored.sequence,
            "admin set a federated bundle"
        );
        Ok(Response::new(api::SetFederatedBundleResponse {
            bundle: Some(stored_to_pb(&stored)?),
        }))
    }

    async fn delete_federated_bundle(
        &self,
        req: Request<api::DeleteFederatedBundleRequest>,
    ) -> Result<Response<api::DeleteFederatedBundleResponse>, Status> {
        let who = caller(&req);
        let td = foreign_trust_domain(&self.state, "trust_domain", &req.get_ref().trust_domain)?;
        let deleted = self
            .state
            .datastore()
            .delete_federated_bundle(&td)
            .await
            .map_err(status)?;
        audit!(
            who,
            "bundle.delete",
            trust_domain = %td,
            sequence = deleted.sequence,
            "admin deleted a federated bundle"
        );
        Ok(Response::new(api::DeleteFederatedBundleResponse {}))
    }
}
