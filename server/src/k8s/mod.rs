//! Kubernetes integration beyond node attestation (which is `attest::k8s_psat`):
//!
//! - [`crd`]: the `ClusterSPIFFEID` custom resource and its CustomResourceDefinition.
//! - [`template`]: the SPIRE-compatible templates of its `spiffeIDTemplate` and
//!   `dnsNameTemplates`.
//! - [`controller`]: auto-registration, one entry per matching pod, kept in step.

pub mod controller;
pub mod crd;
pub mod template;
