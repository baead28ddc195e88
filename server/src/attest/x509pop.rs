//! x509pop: X.509 proof-of-possession node attestation, after SPIRE's `x509pop`, for nodes an
//! operator's PKI has given a certificate (VMs, bare metal).
//!
//! 1. The agent sends its node certificate chain (`AttestParams.payload`: DER certificates
//!    concatenated, leaf first). The server verifies it against `[node_attestors.x509pop]
//!    ca_bundle_path` at bounded cost (`lanyard_x509::node`: at most 4 intermediates of at most
//!    16 KiB, RSA keys of at most 4096 bits, all checked before any signature).
//! 2. Only a chain that verified gets a challenge: 32 random bytes (the nonce).
//! 3. The agent answers `{"algorithm": "<name>", "signature": "<hex>"}`: the leaf's key's
//!    signature over [`lanyard_x509::node::pop_message`] (context string, nonce, SHA-256 of the
//!    leaf, SHA-256 of the attestation's CSR). A response made for another nonce, another
//!    certificate or another CSR does not verify.
//! 4. The agent is `spiffe://<td>/lanyard/agent/x509pop/<agent_path_template>` (default: the SHA-1
//!    fingerprint of the leaf, as SPIRE), so the same certificate always names the same agent,
//!    which may attest again (re-attestable).
//!
//! Node selectors (type `x509pop`): `subject:cn:<cn>`, `ca:fingerprint:<sha1>` for every
//! certificate of the path after the leaf (intermediates and the root), `serialnumber:<hex>`,
//! `san:dns:<name>` and `san:uri:<uri>`.
//!
//! Malformed or oversized evidence is `InvalidEvidence` (InvalidArgument); a chain that does not
//! verify (unknown CA, expired, wrong key usage) or a wrong response is `Rejected`
//! (PermissionDenied). Either message says what was wrong.

use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use lanyard_datastore::Selector;
use lanyard_id::{SpiffeId, TrustDomain};
use lanyard_x509::node::{
    self, MAX_CERTIFICATE_LEN, MAX_INTERMEDIATES, NodeCertError, PopAlgorithm, VerifiedNodeChain,
};
use lanyard_x509::{CertDer, certificates_from_pem, split_der_certificates};
use serde::Deserialize;

use super::{AttestError, Attested, Challenger, NodeAttestor};
use crate::config::X509PopConfig;

/// The `attestation_type` agents send.
pub const ATTESTATION_TYPE: &str = "x509pop";
/// The selector type of the node selectors.
pub const SELECTOR_TYPE: &str = "x509pop";
/// The path under which this attestor names agents.
pub const AGENT_PATH_PREFIX: &str = "/lanyard/agent/x509pop";
/// The default `agent_path_template`.
pub const DEFAULT_AGENT_PATH_TEMPLATE: &str = "{fingerprint}";
/// Bytes of the server's nonce.
pub const NONCE_LEN: usize = 32;
/// The largest payload read: the longest chain of the largest certificates.
const MAX_PAYLOAD_LEN: usize = (1 + MAX_INTERMEDIATES) * MAX_CERTIFICATE_LEN;
/// The largest challenge response read (an RSA-4096 signature in hex is 1,024 bytes).
const MAX_RESPONSE_LEN: usize = 4096;

/// The agent's answer to the challenge.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PopResponse {
    /// A [`PopAlgorithm`] name.
    algorithm: String,
    /// The signature, hex.
    signature: String,
}

/// A placeholder of `agent_path_template`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// SHA-1 of the leaf's DER, lowercase hex.
    Fingerprint,
    /// The leaf's subject commonName.
    SubjectCn,
    /// The leaf's serial number, lowercase hex.
    Serial,
}

const FIELDS: [(&str, Field); 3] = [
    ("{fingerprint}", Field::Fingerprint),
    ("{subject_cn}", Field::SubjectCn),
    ("{serial}", Field::Serial),
];

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Field(Field),
}

/// `agent_path_template`: the agent ID's path below [`AGENT_PATH_PREFIX`], from literal path
/// characters and the placeholders `{fingerprint}`, `{subject_cn}` and `{serial}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentPathTemplate(Vec<Piece>);

impl AgentPathTemplate {
    /// Parses a template; `Err` says what is wrong with it.
    pub fn parse(template: &str) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut rest = template;
        while !rest.is_empty() {
            if let Some(open) = rest.find('{') {
                if open > 0 {
                    pieces.push(Piece::Text(rest[..open].to_owned()));
                }
                let after = &rest[open..];
                let Some((name, field)) = FIELDS.iter().find(|(n, _)| after.starts_with(n)) else {
                    let end = after.find('}').map_or(after.len(), |e| e + 1);
                    return Err(format!(
                        "has the unknown placeholder {:?}; known are {{fingerprint}}, {{subject_cn}} and {{serial}}",
                        &after[..end]
                    ));
                };
                pieces.push(Piece::Field(*field));
                rest = &after[name.len()..];
            } else {
                pieces.push(Piece::Text(rest.to_owned()));
                rest = "";
            }
        }
        if !pieces.iter().any(|p| matches!(p, Piece::Field(_))) {
            return Err(format!(
                "{template:?} has no placeholder, so every node would get the same agent ID: use {{fingerprint}}, {{subject_cn}} or {{serial}}"
            ));
        }
        for p in &pieces {
            if let Piece::Text(t) = p
                && let Some(c) = t.chars().find(|c| !segment_char(*c) && *c != '/')
            {
                return Err(format!(
                    "{template:?} holds {c:?}; a path may hold letters, digits, '.', '-', '_' and '/' besides the placeholders"
                ));
            }
        }
        // The literal parts must leave a valid path whatever the values: try it with one.
        let probe = AgentPathTemplate(pieces.clone()).render_with(|_| Ok("x".to_owned()))?;
        lanyard_id::TrustDomain::new("example.org")
            .ok()
            .and_then(|td| td.id_with_path(&format!("{AGENT_PATH_PREFIX}/{probe}")).ok())
            .ok_or_else(|| {
                format!(
                    "{template:?} does not make a valid SPIFFE ID path below {AGENT_PATH_PREFIX}/ (no leading, trailing or doubled '/', no '.' or '..' segments)"
                )
            })?;
        Ok(AgentPathTemplate(pieces))
    }

    fn render_with(
        &self,
        mut value: impl FnMut(Field) -> Result<String, String>,
    ) -> Result<String, String> {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Field(f) => out.push_str(&value(*f)?),
            }
        }
        Ok(out)
    }
}

/// A character a placeholder's value may hold (SPIFFE-ID §2.2 path segment characters).
fn segment_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')
}

/// Lowercase hex SHA-1 of `der` (SPIRE's fingerprint).
fn fingerprint(der: &[u8]) -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        der,
    ))
}

/// Why the attestor could not be set up from its configuration: what is wrong, naming the key.
#[derive(Debug, thiserror::Error)]
#[error("[node_attestors.x509pop] {0}")]
pub struct X509PopSetupError(pub String);

/// The `x509pop` attestor.
#[derive(Debug, Clone)]
pub struct X509PopAttestor {
    td: TrustDomain,
    roots: Vec<CertDer>,
    template: AgentPathTemplate,
}

impl X509PopAttestor {
    /// Reads the CA bundle `config` names (once, at start) and checks every root in it.
    pub fn new(td: TrustDomain, config: &X509PopConfig) -> Result<Self, X509PopSetupError> {
        let roots = read_roots(&config.ca_bundle_path).map_err(|e| {
            X509PopSetupError(format!(
                "ca_bundle_path {}: {e}",
                config.ca_bundle_path.display()
            ))
        })?;
        let template = AgentPathTemplate::parse(&config.agent_path_template)
            .map_err(|e| X509PopSetupError(format!("agent_path_template {e}")))?;
        Ok(Self::from_roots(td, roots, template))
    }

    /// An attestor trusting `roots`.
    pub fn from_roots(td: TrustDomain, roots: Vec<CertDer>, template: AgentPathTemplate) -> Self {
        Self {
            td,
            roots,
            template,
        }
    }

    fn agent_id(&self, chain: &VerifiedNodeChain) -> Result<SpiffeId, AttestError> {
        let leaf = &chain.leaf;
        let path = self
            .template
            .render_with(|field| {
                let (what, value) = match field {
                    Field::Fingerprint => ("{fingerprint}", fingerprint(chain.leaf_der())),
                    Field::Serial => ("{serial}", leaf.serial_hex.clone()),
                    Field::SubjectCn => (
                        "{subject_cn}",
                        leaf.subject_common_name.clone().ok_or_else(|| {
                            "agent_path_template uses {subject_cn}, but the node certificate's subject has no commonName".to_owned()
                        })?,
                    ),
                };
                if value.is_empty() || value == "." || value == ".." || !value.chars().all(segment_char) {
                    return Err(format!(
                        "agent_path_template uses {what}, but the node certificate's value {value:?} cannot be part of a SPIFFE ID (letters, digits, '.', '-', '_' only)"
                    ));
                }
                Ok(value)
            })
            .map_err(AttestError::Rejected)?;
        self.td
            .id_with_path(&format!("{AGENT_PATH_PREFIX}/{path}"))
            .map_err(|e| AttestError::Rejected(format!("cannot name the agent: {e}")))
    }
}

/// The roots of a CA bundle file, each checked.
fn read_roots(path: &Path) -> Result<Vec<CertDer>, String> {
    let pem = std::fs::read(path).map_err(|e| e.to_string())?;
    let roots = certificates_from_pem(&pem).map_err(|e| e.to_string())?;
    if roots.is_empty() {
        return Err("holds no CERTIFICATE block: write the PEM certificates of the CAs that issue node certificates there".to_owned());
    }
    for (i, root) in roots.iter().enumerate() {
        node::check_node_root(root.as_bytes())
            .map_err(|e| format!("certificate {} of the file: {e}", i + 1))?;
    }
    Ok(roots)
}

fn selector(value: String) -> Result<Selector, AttestError> {
    Selector::new(SELECTOR_TYPE, value)
        .map_err(|e| AttestError::Rejected(format!("cannot build a node selector: {e}")))
}

/// The node selectors of a verified chain.
fn selectors(chain: &VerifiedNodeChain) -> Result<Vec<Selector>, AttestError> {
    let leaf = &chain.leaf;
    let mut out = Vec::new();
    if let Some(cn) = leaf
        .subject_common_name
        .as_ref()
        .filter(|cn| !cn.is_empty())
    {
        out.push(selector(format!("subject:cn:{cn}"))?);
    }
    let mut seen = Vec::new();
    for ca in chain.path.iter().skip(1) {
        let fp = fingerprint(ca.as_bytes());
        if !seen.contains(&fp) {
            out.push(selector(format!("ca:fingerprint:{fp}"))?);
            seen.push(fp);
        }
    }
    out.push(selector(format!("serialnumber:{}", leaf.serial_hex))?);
    for dns in &leaf.dns_names {
        out.push(selector(format!("san:dns:{dns}"))?);
    }
    for uri in &leaf.uris {
        out.push(selector(format!("san:uri:{uri}"))?);
    }
    Ok(out)
}

/// A chain verification failure as the agent sees it.
fn chain_error(e: &NodeCertError) -> AttestError {
    if e.is_malformed() {
        return AttestError::InvalidEvidence(format!("x509pop evidence refused: {e}"));
    }
    let hint = match e {
        NodeCertError::NoTrustedRoot
        | NodeCertError::BadSignature { .. }
        | NodeCertError::IssuerNameMismatch { .. } => {
            "; the node certificate must be issued by a CA of the server's [node_attestors.x509pop] ca_bundle_path (send intermediates with intermediates_path)"
        }
        NodeCertError::Expired { .. } | NodeCertError::NotYetValid { .. } => {
            "; provision the node with a current certificate"
        }
        _ => "",
    };
    AttestError::Rejected(format!("x509pop node certificate refused: {e}{hint}"))
}

#[tonic::async_trait]
impl NodeAttestor for X509PopAttestor {
    fn name(&self) -> &'static str {
        ATTESTATION_TYPE
    }

    async fn attest(
        &self,
        payload: &[u8],
        challenger: &mut dyn Challenger,
        now: i64,
    ) -> Result<Attested, AttestError> {
        if payload.len() > MAX_PAYLOAD_LEN {
            return Err(AttestError::InvalidEvidence(format!(
                "x509pop payload is {} bytes; a chain of at most {} certificates of at most {MAX_CERTIFICATE_LEN} bytes is accepted",
                payload.len(),
                1 + MAX_INTERMEDIATES
            )));
        }
        let chain = split_der_certificates(payload).map_err(|e| {
            AttestError::InvalidEvidence(format!(
                "x509pop payload must be the node's certificate chain as DER certificates, leaf first: {e}"
            ))
        })?;
        let at = UNIX_EPOCH + Duration::from_secs(u64::try_from(now).unwrap_or(0));
        let verified =
            node::verify_node_chain(&chain, &self.roots, at).map_err(|e| chain_error(&e))?;

        // Only a node whose chain verified is challenged.
        let mut nonce = [0u8; NONCE_LEN];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut nonce)
            .map_err(|_| AttestError::Unavailable("system random generator failed".into()))?;
        let response = challenger.challenge(nonce.to_vec()).await?;
        if response.len() > MAX_RESPONSE_LEN {
            return Err(AttestError::InvalidEvidence(format!(
                "x509pop challenge response is {} bytes; at most {MAX_RESPONSE_LEN} are accepted",
                response.len()
            )));
        }
        let response: PopResponse = serde_json::from_slice(&response).map_err(|e| {
            AttestError::InvalidEvidence(format!(
                "x509pop challenge response must be JSON {{\"algorithm\": ..., \"signature\": ...}}: {e}"
            ))
        })?;
        let algorithm = PopAlgorithm::from_name(&response.algorithm).ok_or_else(|| {
            let known: Vec<&str> = PopAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
            AttestError::InvalidEvidence(format!(
                "x509pop challenge response names the algorithm {:?}; known are {}",
                response.algorithm,
                known.join(", ")
            ))
        })?;
        let signature = hex::decode(&response.signature).map_err(|e| {
            AttestError::InvalidEvidence(format!(
                "x509pop challenge response signature is not hex: {e}"
            ))
        })?;
        let message = node::pop_message(&nonce, verified.leaf_der(), challenger.csr());
        verified
            .verify_pop(algorithm, &message, &signature)
            .map_err(|e| match e {
                NodeCertError::BadProof => AttestError::Rejected(
                    "x509pop challenge response refused: the signature does not verify with the node certificate's key over this challenge (a response to another challenge, or a key that is not the certificate's: check the agent's private_key_path)".into(),
                ),
                other => AttestError::Rejected(format!("x509pop challenge response refused: {other}")),
            })?;

        Ok(Attested {
            agent_id: self.agent_id(&verified)?,
            selectors: selectors(&verified)?,
            reattestable: true,
        })
    }
}

#[cfg(test)]
mod tests;
