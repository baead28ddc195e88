//! `[ca.upstream]`: the operator's CA, read from disk, signs this server's CAs.
//!
//! With an upstream CA every X.509 authority this server creates (at first start and at each
//! rotation) is an intermediate signed by the upstream key instead of a self-signed root, as
//! SPIRE's `disk` UpstreamAuthority does. What changes for everyone else:
//!
//! - **The trust bundle** carries the upstream roots read from `bundle_path`, not the
//!   intermediates (X509-SVID §6: a bundle holds trust anchors). They are authority rows of
//!   their own in the datastore (IDs starting [`ROW_PREFIX`]), so every server sharing it, the
//!   push stream and `bundle show` see the same bundle; once such a row exists,
//!   [`super::load_bundle`] publishes only those.
//! - **Chains**: an X.509-SVID carries the leaf, this server's intermediate and the upstream
//!   certificates between it and a root (X509-SVID §5.1: intermediates travel in the chain).
//! - **Rotation** signs each new intermediate with the upstream key. Cross-signing between this
//!   server's CAs is not needed: every intermediate chains to the same roots, so an agent that
//!   missed a rotation still verifies the new one ([`super::Ca::cross_chain`] is empty).
//! - **Taint and revoke** are refused: a bundle without the intermediates cannot tell agents
//!   to move off one (SPIRE refuses them too when an upstream authority is configured).
//!
//! Refused at start, naming the file: a key that does not match the certificate, a certificate
//! that is not a CA, and a bundle none of whose certificates the upstream chain ends at.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use lanyard_datastore::{Authority, AuthorityKind, AuthorityState};
use lanyard_id::TrustDomain;
use lanyard_x509::{CertDer, CertInfo, IssueError, KeyPair, SigningCa, certificates_from_pem};

use super::{Ca, CaError, state_name, unix};

/// Authority rows holding an upstream root have IDs `upstream-<SHA-256 of the DER, hex>`.
pub const ROW_PREFIX: &str = "upstream-";

/// The three files of `[ca.upstream]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamFiles {
    /// PEM: the upstream CA certificate, then any intermediates above it towards the root.
    pub cert_path: PathBuf,
    /// PEM PKCS#8 `PRIVATE KEY`: the upstream CA certificate's key.
    pub key_path: PathBuf,
    /// PEM: the upstream roots, published as the trust bundle.
    pub bundle_path: PathBuf,
}

/// Why the upstream CA was refused; each names the file to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpstreamError {
    /// A file could not be read.
    #[error("[ca.upstream] {field} {path}: cannot read it: {source}")]
    Read {
        /// The config key.
        field: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file's contents are unusable.
    #[error("[ca.upstream] {field} {path}: {problem}")]
    Invalid {
        /// The config key.
        field: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong and what to do.
        problem: String,
    },
}

/// The loaded upstream CA.
#[derive(Debug)]
pub struct Upstream {
    signer: SigningCa,
    /// What follows this server's intermediate in every chain: the upstream CA certificate and
    /// those above it, up to but not including a root of the bundle.
    chain: Vec<CertDer>,
    roots: Vec<CertDer>,
}

impl Upstream {
    /// Reads and checks the files (see the module documentation); warns when the key file is
    /// readable by group or others.
    pub fn load(
        files: &UpstreamFiles,
        td: &TrustDomain,
        now: SystemTime,
    ) -> Result<Upstream, UpstreamError> {
        let certs = read_certs("cert_path", &files.cert_path)?;
        let roots = read_certs("bundle_path", &files.bundle_path)?;
        let key_pem = read("key_path", &files.key_path)?;
        warn_if_readable(&files.key_path);
        let key = KeyPair::from_pkcs8_pem(&String::from_utf8_lossy(&key_pem)).map_err(|e| {
            UpstreamError::Invalid {
                field: "key_path",
                path: files.key_path.clone(),
                problem: format!(
                    "{e}: give the upstream CA's private key as PEM PKCS#8 (\"BEGIN PRIVATE KEY\"; convert with `openssl pkcs8 -topk8 -nocrypt`)"
                ),
            }
        })?;
        let chain: Vec<CertDer> = certs
            .iter()
            .take_while(|c| !roots.contains(c))
            .cloned()
            .collect();
        let mut certs = certs.into_iter();
        let cert = certs.next().ok_or_else(|| UpstreamError::Invalid {
            field: "cert_path",
            path: files.cert_path.clone(),
            problem: "holds no certificate".to_owned(),
        })?;
        let signer = SigningCa::upstream(cert, key, certs.collect(), &roots, td.clone(), now)
            .map_err(|e| refusal(files, e))?;
        Ok(Upstream {
            signer,
            chain,
            roots,
        })
    }

    /// The upstream CA, which signs this server's intermediates.
    pub fn signer(&self) -> &SigningCa {
        &self.signer
    }

    /// The certificates that follow an intermediate it signed in a chain.
    pub fn chain(&self) -> &[CertDer] {
        &self.chain
    }

    /// The roots: the trust bundle's X.509 authorities.
    pub fn roots(&self) -> &[CertDer] {
        &self.roots
    }
}

/// The authority row ID of an upstream root.
pub fn row_id(root: &CertDer) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, root.as_bytes());
    format!("{ROW_PREFIX}{}", hex::encode(digest.as_ref()))
}

fn refusal(files: &UpstreamFiles, e: IssueError) -> UpstreamError {
    let (field, path, problem) = match e {
        IssueError::CaKeyMismatch => (
            "key_path",
            &files.key_path,
            format!(
                "the key does not match the certificate in cert_path {}: give the private key of that certificate",
                files.cert_path.display()
            ),
        ),
        IssueError::CaNotSigningCertificate => (
            "cert_path",
            &files.cert_path,
            "is not a CA certificate (it needs basicConstraints cA=true and keyUsage keyCertSign): give the certificate of the CA that is to sign this server's CAs".to_owned(),
        ),
        IssueError::UpstreamNotInBundle => (
            "cert_path",
            &files.cert_path,
            format!(
                "does not chain to any certificate in bundle_path {}: put the root that issued it in the bundle, and any intermediates between them after the CA certificate in cert_path",
                files.bundle_path.display()
            ),
        ),
        other => ("cert_path", &files.cert_path, other.to_string()),
    };
    UpstreamError::Invalid {
        field,
        path: path.clone(),
        problem,
    }
}

fn read(field: &'static str, path: &Path) -> Result<Vec<u8>, UpstreamError> {
    std::fs::read(path).map_err(|source| UpstreamError::Read {
        field,
        path: path.to_owned(),
        source,
    })
}

fn read_certs(field: &'static str, path: &Path) -> Result<Vec<CertDer>, UpstreamError> {
    let invalid = |problem: String| UpstreamError::Invalid {
        field,
        path: path.to_owned(),
        problem,
    };
    let certs = certificates_from_pem(&read(field, path)?)
        .map_err(|e| invalid(format!("{e}: give PEM \"CERTIFICATE\" blocks")))?;
    if certs.is_empty() {
        return Err(invalid(
            "holds no PEM \"CERTIFICATE\" block: give PEM certificates".to_owned(),
        ));
    }
    Ok(certs)
}

/// The upstream key may live outside `data_dir`, where the server does not set its mode:
/// warn, as the server does for its own key files' directory, when others could read it.
fn warn_if_readable(path: &Path) {
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{mode:o}"),
                "the upstream CA private key file is readable by group or others: chmod 600 it"
            );
        }
    }
}

impl Ca {
    /// Whether `[ca.upstream]` signs this server's authorities.
    pub fn has_upstream(&self) -> bool {
        self.inner.upstream.is_some()
    }

    /// The certificates that follow `cert`, one of this server's authorities, in a chain: the
    /// upstream chain when the upstream CA signed it, else nothing (a root).
    pub(super) fn chain_above(&self, cert: &CertDer) -> Vec<CertDer> {
        match &self.inner.upstream {
            Some(up) if up.signer.signed(cert) => up.chain.clone(),
            _ => Vec::new(),
        }
    }

    pub(super) fn refuse_with_upstream(&self, id: &str) -> Result<(), CaError> {
        if self.has_upstream() {
            return Err(CaError::UpstreamIntermediate { id: id.to_owned() });
        }
        Ok(())
    }

    /// Makes the datastore's upstream root rows those of `bundle_path` (none without
    /// `[ca.upstream]`). Every server sharing a datastore must have the same `[ca.upstream]`.
    /// Caller holds `ops`.
    pub(super) async fn publish_upstream_roots_locked(&self) -> Result<(), CaError> {
        let ds = &self.inner.ds;
        let published: Vec<Authority> = ds
            .list_authorities()
            .await?
            .into_iter()
            .filter(|a| a.kind == AuthorityKind::X509 && a.id.starts_with(ROW_PREFIX))
            .collect();
        let roots = self
            .inner
            .upstream
            .as_ref()
            .map(|up| up.roots.as_slice())
            .unwrap_or_default();
        let ids: Vec<String> = roots.iter().map(row_id).collect();
        for (root, id) in roots.iter().zip(&ids) {
            if published.iter().any(|a| a.id == *id) {
                continue;
            }
            let info = CertInfo::from_der(root.as_bytes()).map_err(IssueError::from)?;
            ds.upsert_authority(Authority {
                id: id.clone(),
                kind: AuthorityKind::X509,
                public_der: root.as_bytes().to_vec(),
                state: AuthorityState::Active,
                tainted: false,
                not_after: unix(info.not_after),
                created_at: 0,
            })
            .await?;
            tracing::info!(authority = %id, "upstream root published in the trust bundle");
        }
        for a in published.iter().filter(|a| !ids.contains(&a.id)) {
            ds.delete_authority(&a.id).await?;
            tracing::warn!(
                authority = %a.id,
                "an upstream root that is not in this server's [ca.upstream] bundle_path left the trust bundle"
            );
        }
        Ok(())
    }

    /// Retires (makes old) this server's active or prepared authorities that the configured
    /// signer did not sign — the upstream CA, or, without one, the authority itself — so that
    /// a new one is created: after `[ca.upstream]` was added, changed or removed. Caller holds
    /// `ops`.
    pub(super) async fn retire_other_signers_locked(&self) -> Result<(), CaError> {
        let rows = self.x509_rows().await?;
        let stale: Vec<(String, AuthorityState)> = {
            let held = self.held();
            rows.into_iter()
                .map(|a| (a.id, a.state))
                .filter(|(id, state)| {
                    *state != AuthorityState::Old
                        && held.get(id).is_some_and(|h| {
                            let cert = h.signing.certificate();
                            match &self.inner.upstream {
                                Some(up) => !up.signer.signed(cert),
                                None => !h.signing.is_self_signed(),
                            }
                        })
                })
                .collect()
        };
        for (id, state) in stale {
            self.inner
                .ds
                .set_authority_state(&id, AuthorityState::Old)
                .await?;
            tracing::warn!(
                authority = %id,
                state = state_name(state),
                upstream = self.has_upstream(),
                "X.509 authority was not signed by the configured CA ([ca.upstream] changed); retired, a new one signs"
            );
        }
        Ok(())
    }
}
