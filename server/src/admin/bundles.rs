//! The `Bundles` service: the trust domain's bundle as agents and relying parties see it.

use lanyard_id::TrustDomain;
use lanyard_proto::lanyard::admin::v1 as api;
use tonic::{Request, Response, Status};

use super::error::status;
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
                return Err(Status::not_found(format!(
                    "no bundle for trust domain {td}: this server holds only its own ({ours})"
                )));
            }
        }
        let bundle = self.state.ca().bundle().await.map_err(status)?;
        let taint = Taint::load(self.state.datastore()).await.map_err(status)?;
        Ok(Response::new(api::GetBundleResponse {
            bundle: Some(bundle_to_pb(&bundle, &taint)),
        }))
    }

    // Federation (issue 16): placeholders until the federated bundle RPCs are implemented.
    async fn list_federated_bundles(
        &self,
        _req: Request<api::ListFederatedBundlesRequest>,
    ) -> Result<Response<api::ListFederatedBundlesResponse>, Status> {
        Err(not_yet())
    }

    async fn set_federated_bundle(
        &self,
        _req: Request<api::SetFederatedBundleRequest>,
    ) -> Result<Response<api::SetFederatedBundleResponse>, Status> {
        Err(not_yet())
    }

    async fn delete_federated_bundle(
        &self,
        _req: Request<api::DeleteFederatedBundleRequest>,
    ) -> Result<Response<api::DeleteFederatedBundleResponse>, Status> {
        Err(not_yet())
    }
}

fn not_yet() -> Status {
    Status::unimplemented("federated bundles are not implemented by this server yet")
}
