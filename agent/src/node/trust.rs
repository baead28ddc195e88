//! Trust in the server lost: the server's certificate no longer chains to any authority the
//! agent holds (the one it trusted was revoked while the agent was away, so the server's
//! cross-signed chain no longer reaches it). Told apart from a network failure and from the
//! server refusing the agent by the TLS verifier's typed verdict ([`PeerRejected`]), never by
//! the error's text.
//!
//! A re-attestable agent (k8s_psat, x509pop) can prove its node again: it attests anew trusting
//! `trust_bundle_path`, the file it bootstrapped from, read at each try (an operator may update
//! it, or the ConfigMap it is mounted from), with backoff. A join-token agent cannot: it says
//! what it needs and stops retrying.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use lanyard_tls::{PeerRejected, TrustStore};
use lanyard_x509::{Bundle, certificates_from_pem};
use tonic::Status;

use super::client::AgentSvid;
use super::{NodeConfig, NodeError, Reattestable, attest_again, bundle_set};

/// How to get the current bundle, as the operator types it.
const BUNDLE_SHOW: &str = "`lanyard-server bundle show --format pem`";

/// The verifier's verdict when `status` failed because the server's certificate leads to no
/// authority the agent trusts.
pub(super) fn untrusted_server(status: &Status) -> Option<&PeerRejected> {
    PeerRejected::find(status).filter(|r| r.is_unknown_issuer())
}

/// [`untrusted_server`] for a node-side error.
pub(super) fn untrusted(e: &NodeError) -> Option<&PeerRejected> {
    match e {
        NodeError::Rpc(s) => untrusted_server(s),
        _ => None,
    }
}

/// `trust_bundle_path` for messages: the file, or that none is set.
fn path_of(cfg: &NodeConfig) -> String {
    cfg.trust_bundle_path.as_deref().map_or_else(
        || "trust_bundle_path (not set)".to_owned(),
        |p: &Path| format!("trust_bundle_path {}", p.display()),
    )
}

/// The bundle for a first contact: `trust_bundle_path` read now (it may have been updated since
/// the agent started), else the one the agent was started with.
pub(super) fn bootstrap_bundle(cfg: &NodeConfig) -> Result<Bundle, String> {
    let certs = match &cfg.trust_bundle_path {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path_of(cfg)))?;
            certificates_from_pem(&pem).map_err(|e| format!("{}: {e}", path_of(cfg)))?
        }
        None => match &cfg.bootstrap_bundle {
            Some(certs) => certs.clone(),
            None => {
                return Err(format!(
                    "trust_bundle_path is not set (the agent started with insecure_bootstrap), \
                     so it has nothing to trust the server with anew: set trust_bundle_path to a \
                     file holding the current bundle ({BUNDLE_SHOW}) and restart the agent"
                ));
            }
        },
    };
    if certs.is_empty() {
        return Err(format!(
            "{} holds no CERTIFICATE block: write the current bundle there ({BUNDLE_SHOW})",
            path_of(cfg)
        ));
    }
    let mut bundle = Bundle::new(cfg.trust_domain.clone());
    for a in certs {
        bundle.add_x509_authority(a);
    }
    Ok(bundle)
}

/// Attests with `evidence` over a connection that trusts the bootstrap bundle read now.
pub(super) async fn rebootstrap(
    cfg: &NodeConfig,
    evidence: Reattestable<'_>,
    addr: SocketAddr,
) -> Result<(AgentSvid, Bundle), NodeError> {
    let bundle = bootstrap_bundle(cfg).map_err(NodeError::CannotAttest)?;
    let trust = TrustStore::new(bundle_set(&bundle));
    attest_again(evidence, addr, &cfg.trust_domain, &trust).await
}

/// Logged when a re-attestable agent starts attesting anew with `attestor`.
pub(super) fn rebootstrapping(cfg: &NodeConfig, attestor: &str, why: &PeerRejected) -> String {
    format!(
        "the server's certificate no longer verifies against the agent's stored bundle ({why}): \
         the authority the agent trusted was revoked while it was away; attesting again with \
         {attestor}, trusting {}",
        path_of(cfg)
    )
}

/// Why a re-bootstrap with `attestor` failed (in the first attestation too) and what the
/// operator can do, for the log and `/ready`; `true` when it is the bootstrap bundle that does
/// not verify the server or the evidence cannot be read (not ready), `false` for a server that
/// is unreachable or refused (degraded: the next try may work).
pub(super) fn rebootstrap_failed(
    cfg: &NodeConfig,
    attestor: &str,
    e: &NodeError,
    retry_in: Duration,
) -> (String, bool) {
    let retry = humantime::format_duration(Duration::from_secs(retry_in.as_secs().max(1)));
    // A PSAT agent runs in a pod: its trust_bundle_path is mounted from a ConfigMap.
    let configmap = if attestor == "k8s_psat" {
        "; on Kubernetes, update the ConfigMap it is mounted from"
    } else {
        ""
    };
    match untrusted(e) {
        Some(why) => (
            format!(
                "the server's certificate verifies neither against the agent's stored bundle \
                 nor against {} ({why}): write the current bundle there \
                 ({BUNDLE_SHOW}{configmap}); the agent reads it again and attests with \
                 {attestor} at its next try, in {retry}",
                path_of(cfg)
            ),
            true,
        ),
        None => (
            format!(
                "attesting again with {attestor} after the server's certificate stopped verifying \
                 against the stored bundle failed ({e}); retrying in {retry}"
            ),
            matches!(e, NodeError::CannotAttest(_)),
        ),
    }
}

/// What a join-token agent whose trust in the server is gone must be given to come back.
pub(super) fn join_token_trust_lost(
    me: &AgentSvid,
    cfg: &NodeConfig,
    why: &PeerRejected,
) -> String {
    let id = &me.spiffe_id;
    format!(
        "trust in the server is gone: its certificate no longer verifies against the agent's \
         stored bundle ({why}), because the authority the agent trusted was revoked while it was \
         away (or server_address reaches a server of another CA). A join-token agent cannot come \
         back by itself: write the current bundle into {} ({BUNDLE_SHOW}) and restart the agent \
         with a new join token for its ID (`lanyard-server agent evict --spiffe-id {id}`, then \
         `lanyard-server token generate --spiffe-id {id}`). Its stored identity has been \
         deleted so that the new token is used; until then it serves the SVIDs it holds",
        path_of(cfg)
    )
}
