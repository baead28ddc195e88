//! Kubernetes integration beyond node attestation (which is `attest::k8s_psat`):
//!
//! - [`crd`]: the `ClusterSPIFFEID` custom resource and its CustomResourceDefinition.
//! - [`template`]: the SPIRE-compatible templates of its `spiffeIDTemplate` and
//!   `dnsNameTemplates`.
//! - [`controller`]: auto-registration, one entry per matching pod, kept in step.
//! - [`bundle_writer`]: the trust bundle kept in the agents' bootstrap ConfigMap.
//! - [`leader`]: which server of several runs the controller and the writer (a Lease).

pub mod bundle_writer;
pub mod controller;
pub mod crd;
pub mod leader;
pub mod template;

/// A client of a [`lanyard_test_support::kube::FakeKube`], as the server builds one from a
/// kubeconfig.
#[cfg(test)]
pub(crate) async fn fake_client(kube: &lanyard_test_support::kube::FakeKube) -> kube::Client {
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&kube.kubeconfig("test-token")).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    kube::Client::try_from(config).unwrap()
}
