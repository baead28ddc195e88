//! Kubernetes projected service-account token (PSAT) attestation, after SPIRE's `k8s_psat`.
//!
//! The agent sends `{"cluster": "<name>", "token": "<projected SA token>"}`. The server:
//!
//! 1. asks the cluster's API server to review the token (`TokenReview`, with the configured
//!    audience): it must be authenticated and issued for that audience;
//! 2. checks the token's service account against the cluster's allow list;
//! 3. binds the token to the live pod: the pod named in the token must exist with the token's
//!    pod UID (a deleted and recreated pod has a new UID), and its node must exist;
//! 4. names the agent `spiffe://<td>/lanyard/agent/k8s_psat/<cluster>/<node UID>`, so a node
//!    keeps its agent ID across agent pod restarts and re-attestations.
//!
//! Node selectors (type `k8s_psat`): `cluster:`, `agent_ns:`, `agent_sa:`, `agent_pod_name:`,
//! `agent_pod_uid:`, `agent_node_name:`, `agent_node_uid:`, and `agent_node_label:<k>:<v>` /
//! `agent_pod_label:<k>:<v>` for allow-listed label keys.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec, TokenReviewStatus};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, PostParams};
use lanyard_datastore::Selector;
use lanyard_id::TrustDomain;
use serde::Deserialize;

use super::{AttestError, Attested, Challenger, NodeAttestor};
use crate::config::{K8sClusterConfig, K8sPsatConfig};

/// The `attestation_type` agents send.
pub const ATTESTATION_TYPE: &str = "k8s_psat";
/// The selector type of the node selectors.
pub const SELECTOR_TYPE: &str = "k8s_psat";
/// How long one call to a cluster's API server may take.
const API_TIMEOUT: Duration = Duration::from_secs(10);

/// What the agent sends.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PsatPayload {
    /// The cluster name, as configured on the server.
    pub cluster: String,
    /// The projected service-account token.
    pub token: String,
}

/// One configured cluster and its API client.
#[derive(Clone)]
struct Cluster {
    config: K8sClusterConfig,
    client: kube::Client,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The `k8s_psat` attestor.
#[derive(Debug, Clone)]
pub struct K8sPsatAttestor {
    td: TrustDomain,
    clusters: BTreeMap<String, Cluster>,
}

/// Why a cluster's API client could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("k8s_psat cluster {cluster:?}: {reason}")]
pub struct ClusterSetupError {
    /// The cluster name.
    pub cluster: String,
    /// What went wrong and what to do.
    pub reason: String,
}

impl K8sPsatAttestor {
    /// Builds an API client per configured cluster: from its `kube_config_file`, or the
    /// in-cluster configuration.
    pub async fn new(td: TrustDomain, config: &K8sPsatConfig) -> Result<Self, ClusterSetupError> {
        let mut clusters = BTreeMap::new();
        for (name, cluster) in &config.clusters {
            let client = kube_client(name, cluster, false).await?;
            clusters.insert(
                name.clone(),
                Cluster {
                    config: cluster.clone(),
                    client,
                },
            );
        }
        Ok(Self { td, clusters })
    }
}

/// An API client for cluster `name`: from its `kube_config_file`, or the in-cluster
/// configuration. A `watching` client has no read timeout (watch streams stay open for minutes).
pub async fn kube_client(
    name: &str,
    cluster: &K8sClusterConfig,
    watching: bool,
) -> Result<kube::Client, ClusterSetupError> {
    let setup = |reason: String| ClusterSetupError {
        cluster: name.to_owned(),
        reason,
    };
    let mut kube_config = match &cluster.kube_config_file {
        Some(path) => {
            let kubeconfig = kube::config::Kubeconfig::read_from(path)
                .map_err(|e| setup(format!("kube_config_file {}: {e}", path.display())))?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
                .await
                .map_err(|e| setup(format!("kube_config_file {}: {e}", path.display())))?
        }
        None => kube::Config::incluster().map_err(|e| {
            setup(format!(
                "no kube_config_file and not running in a pod ({e}); set kube_config_file"
            ))
        })?,
    };
    kube_config.connect_timeout = Some(API_TIMEOUT);
    kube_config.read_timeout = (!watching).then_some(API_TIMEOUT);
    kube_config.write_timeout = Some(API_TIMEOUT);
    kube::Client::try_from(kube_config)
        .map_err(|e| setup(format!("cannot build the API client: {e}")))
}

/// The claims of a projected service-account token that name its pod (`kubernetes.io`).
#[derive(Debug, Default, Deserialize)]
struct TokenClaims {
    #[serde(rename = "kubernetes.io", default)]
    kubernetes: Option<KubernetesClaims>,
}

#[derive(Debug, Default, Deserialize)]
struct KubernetesClaims {
    #[serde(default)]
    pod: Option<NamedRef>,
}

#[derive(Debug, Default, Deserialize)]
struct NamedRef {
    #[serde(default)]
    name: String,
    #[serde(default)]
    uid: String,
}

/// The pod a reviewed token was issued for: from the review's `user.extra` (API server ≥ 1.21
/// with bound tokens), else from the token's own `kubernetes.io.pod` claim, which the review
/// has just authenticated.
fn token_pod(status: &TokenReviewStatus, token: &str) -> Option<(String, String)> {
    let extra = status.user.as_ref().and_then(|u| u.extra.as_ref());
    let from_extra = |key: &str| {
        extra
            .and_then(|e| e.get(key))
            .and_then(|v| v.first())
            .cloned()
    };
    if let (Some(name), Some(uid)) = (
        from_extra("authentication.kubernetes.io/pod-name"),
        from_extra("authentication.kubernetes.io/pod-uid"),
    ) {
        return Some((name, uid));
    }
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: TokenClaims = serde_json::from_slice(&bytes).ok()?;
    let pod = claims.kubernetes?.pod?;
    (!pod.name.is_empty() && !pod.uid.is_empty()).then_some((pod.name, pod.uid))
}

fn selector(value: String) -> Result<Selector, AttestError> {
    Selector::new(SELECTOR_TYPE, value)
        .map_err(|e| AttestError::Rejected(format!("cannot build a node selector: {e}")))
}

fn api_error(cluster: &str, what: &str, e: &kube::Error) -> AttestError {
    // The API server being unreachable is the server's problem, not the agent's evidence; its
    // error text is for the server log only.
    AttestError::Unavailable(format!(
        "cluster {cluster:?}: {what} failed: {e}; check the server's access to the cluster's API server"
    ))
}

#[tonic::async_trait]
impl NodeAttestor for K8sPsatAttestor {
    fn name(&self) -> &'static str {
        ATTESTATION_TYPE
    }

    async fn attest(
        &self,
        payload: &[u8],
        _challenger: &mut dyn Challenger,
        _now: i64,
    ) -> Result<Attested, AttestError> {
        let payload: PsatPayload = serde_json::from_slice(payload).map_err(|e| {
            AttestError::InvalidEvidence(format!(
                "k8s_psat payload must be JSON {{\"cluster\": ..., \"token\": ...}}: {e}"
            ))
        })?;
        let token = payload.token.trim();
        if token.is_empty() {
            return Err(AttestError::InvalidEvidence(
                "k8s_psat payload has an empty token: check the agent's token_path".into(),
            ));
        }
        let name = payload.cluster.as_str();
        let Some(cluster) = self.clusters.get(name) else {
            let known: Vec<&str> = self.clusters.keys().map(String::as_str).collect();
            return Err(AttestError::Rejected(format!(
                "cluster {name:?} is not configured on this server (configured: {}); set the agent's k8s_psat cluster to one of them",
                known.join(", ")
            )));
        };
        let audience = &cluster.config.audience;

        // 1. The API server authenticates the token for our audience.
        let reviews: Api<TokenReview> = Api::all(cluster.client.clone());
        let review = TokenReview {
            spec: TokenReviewSpec {
                token: token.to_owned(),
                audiences: Some(vec![audience.clone()]),
            },
            ..TokenReview::default()
        };
        let reviewed = reviews
            .create(&PostParams::default(), &review)
            .await
            .map_err(|e| api_error(name, "TokenReview", &e))?;
        let status = reviewed.status.unwrap_or_default();
        if status.authenticated != Some(true) {
            let why = status.error.unwrap_or_else(|| "no reason given".to_owned());
            return Err(AttestError::Rejected(format!(
                "cluster {name:?} did not authenticate the token for audience {audience:?}: {why}"
            )));
        }
        if let Some(audiences) = &status.audiences
            && !audiences.iter().any(|a| a == audience)
        {
            return Err(AttestError::Rejected(format!(
                "the token is for audiences {audiences:?}, not {audience:?}: set the agent's projected token audience to {audience:?}"
            )));
        }

        // 2. The service account is allowed.
        let username = status
            .user
            .as_ref()
            .and_then(|u| u.username.clone())
            .unwrap_or_default();
        let Some((namespace, service_account)) = username
            .strip_prefix("system:serviceaccount:")
            .and_then(|rest| rest.split_once(':'))
        else {
            return Err(AttestError::Rejected(format!(
                "the token belongs to {username:?}, not a service account"
            )));
        };
        let sa = format!("{namespace}:{service_account}");
        if !cluster.config.service_account_allow_list.contains(&sa) {
            return Err(AttestError::Rejected(format!(
                "service account {sa} is not allowed to attest in cluster {name:?}: add it to service_account_allow_list"
            )));
        }

        // 3. The token's pod is alive, with the token's UID, on an existing node.
        let (pod_name, pod_uid) = token_pod(&status, token).ok_or_else(|| {
            AttestError::Rejected(
                "the token names no pod: agents must use a projected service-account token (a pod-bound token), not a legacy secret token".into(),
            )
        })?;
        let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), namespace);
        let pod = match pods.get_opt(&pod_name).await {
            Ok(Some(pod)) => pod,
            Ok(None) => {
                return Err(AttestError::Rejected(format!(
                    "pod {namespace}/{pod_name} of the token no longer exists"
                )));
            }
            Err(e) => return Err(api_error(name, "getting the agent's pod", &e)),
        };
        let live_uid = pod.metadata.uid.clone().unwrap_or_default();
        if live_uid != pod_uid {
            return Err(AttestError::Rejected(format!(
                "pod {namespace}/{pod_name} has UID {live_uid}, but the token was issued for UID {pod_uid} (a replaced pod)"
            )));
        }
        let node_name = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                AttestError::Rejected(format!(
                    "pod {namespace}/{pod_name} is not scheduled on a node"
                ))
            })?;
        let nodes: Api<Node> = Api::all(cluster.client.clone());
        let node = match nodes.get_opt(&node_name).await {
            Ok(Some(node)) => node,
            Ok(None) => {
                return Err(AttestError::Rejected(format!(
                    "node {node_name} of pod {namespace}/{pod_name} does not exist"
                )));
            }
            Err(e) => return Err(api_error(name, "getting the agent's node", &e)),
        };
        let node_uid = node
            .metadata
            .uid
            .clone()
            .filter(|u| !u.is_empty())
            .ok_or_else(|| AttestError::Rejected(format!("node {node_name} has no UID")))?;

        // 4. The agent ID and selectors.
        let agent_id = self
            .td
            .id_with_path(&format!("/lanyard/agent/k8s_psat/{name}/{node_uid}"))
            .map_err(|e| AttestError::Rejected(format!("cannot name the agent: {e}")))?;
        let mut selectors = vec![
            selector(format!("cluster:{name}"))?,
            selector(format!("agent_ns:{namespace}"))?,
            selector(format!("agent_sa:{service_account}"))?,
            selector(format!("agent_pod_name:{pod_name}"))?,
            selector(format!("agent_pod_uid:{pod_uid}"))?,
            selector(format!("agent_node_name:{node_name}"))?,
            selector(format!("agent_node_uid:{node_uid}"))?,
        ];
        let labels = |labels: Option<&BTreeMap<String, String>>, allowed: &[String], kind: &str| {
            labels
                .into_iter()
                .flatten()
                .filter(|(k, _)| allowed.contains(k))
                .map(|(k, v)| selector(format!("{kind}:{k}:{v}")))
                .collect::<Result<Vec<_>, _>>()
        };
        selectors.extend(labels(
            node.metadata.labels.as_ref(),
            &cluster.config.allowed_node_label_keys,
            "agent_node_label",
        )?);
        selectors.extend(labels(
            pod.metadata.labels.as_ref(),
            &cluster.config.allowed_pod_label_keys,
            "agent_pod_label",
        )?);
        Ok(Attested {
            agent_id,
            selectors,
            reattestable: true,
        })
    }
}
