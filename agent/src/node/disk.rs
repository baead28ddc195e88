//! The agent's own identity on disk: its SVID chain, private key and the last trust bundle.
//!
//! `<data_dir>` is created 0700. Files (all DER): `agent_svid.der` (concatenated chain, leaf
//! first), `agent_key.der` (PKCS#8, mode 0600), `bundle.der` (concatenated X.509 authorities).
//! Each is written to a temporary file, fsynced and renamed, then the directory is fsynced; the
//! key is written before the certificate, so a crash never leaves a certificate without its key.
//!
//! At start [`DataDir::load`] and [`StoredIdentity::check`] refuse an identity that cannot work
//! (issue 21): a certificate without its key or bundle, a key that is not the SVID's, an SVID
//! that does not verify against the stored bundle, an ID that is not one of its trust domain's
//! agent IDs, an empty bundle. Each error names the file and says what to do; resuming with it
//! would only loop on TLS failures against the server.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use std::time::SystemTime;

use lanyard_id::TrustDomain;
use lanyard_x509::{
    Bundle, CertDer, KeyPair, join_der_certificates, parse_x509_svid, split_der_certificates,
    verify_x509_svid,
};
use zeroize::Zeroizing;

/// What the agent persisted about itself. `Debug` never prints the key; dropping it wipes the
/// key.
#[derive(Clone)]
pub struct StoredIdentity {
    /// The agent SVID chain, leaf first.
    pub chain: Vec<CertDer>,
    /// Its PKCS#8 DER key.
    pub key_pkcs8: Zeroizing<Vec<u8>>,
    /// The last trust bundle's X.509 authorities.
    pub bundle: Vec<CertDer>,
}

impl std::fmt::Debug for StoredIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredIdentity")
            .field("chain", &self.chain.len())
            .field("bundle", &self.bundle.len())
            .finish_non_exhaustive()
    }
}

/// Where every agent ID lives under its trust domain (the server's `AGENT_ID_PATH`).
pub const AGENT_ID_PREFIX: &str = "/lanyard/agent/";

/// Why the stored identity cannot be used. Displays the file, the problem and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoredIdentityError {
    /// Reading the data directory failed.
    #[error("data_dir: {0}")]
    Io(#[from] io::Error),
    /// A stored file is missing, unreadable or does not fit the others.
    #[error(
        "stored agent identity is unusable: {} {problem}. Stop the agent, delete agent_svid.der, \
         agent_key.der and bundle.der from {} and start it again so that it attests again: with \
         trust_bundle_path holding the current bundle (`lanyard-server bundle show --format \
         pem`) and, for a join-token agent, a new token (`lanyard-server token generate`; evict \
         the old agent ID first with `lanyard-server agent evict` to keep it)",
        .file.display(),
        .file.parent().map(Path::display).map(|d| d.to_string()).unwrap_or_default()
    )]
    Unusable {
        /// The file at fault.
        file: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
}

impl StoredIdentity {
    /// Checks that the stored files hold together for an agent of `td` at `now`. An expired
    /// SVID passes (the caller attests again); its chain is not verified.
    pub fn check(
        &self,
        dir: &Path,
        td: &TrustDomain,
        now: SystemTime,
    ) -> Result<(), StoredIdentityError> {
        let unusable = |name: &str, problem: String| StoredIdentityError::Unusable {
            file: dir.join(name),
            problem,
        };
        if self.bundle.is_empty() {
            return Err(unusable(
                "bundle.der",
                "holds no X.509 authority".to_owned(),
            ));
        }
        let svid = parse_x509_svid(&self.chain)
            .map_err(|e| unusable("agent_svid.der", format!("is not an X.509-SVID: {e}")))?;
        let id = &svid.spiffe_id;
        if id.trust_domain() != *td || !id.path().starts_with(AGENT_ID_PREFIX) {
            return Err(unusable(
                "agent_svid.der",
                format!(
                    "names {id}, which is not an agent ID of trust domain {td} \
                     (spiffe://{td}{AGENT_ID_PREFIX}...)"
                ),
            ));
        }
        let key = KeyPair::from_pkcs8_der(&self.key_pkcs8)
            .map_err(|e| unusable("agent_key.der", format!("is not a PKCS#8 private key: {e}")))?;
        if key.public_key_spki_der() != svid.public_key_spki_der {
            return Err(unusable(
                "agent_key.der",
                "is not the private key of the SVID in agent_svid.der".to_owned(),
            ));
        }
        if svid.not_after > now {
            let mut bundle = Bundle::new(td.clone());
            for a in &self.bundle {
                bundle.add_x509_authority(a.clone());
            }
            verify_x509_svid(&self.chain, &bundle, now).map_err(|e| {
                unusable(
                    "agent_svid.der",
                    format!("does not verify against the stored bundle.der: {e}"),
                )
            })?;
        }
        Ok(())
    }
}

/// The agent's data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    dir: PathBuf,
}

impl DataDir {
    /// Opens (creating with mode 0700) `dir`.
    pub fn open(dir: &Path) -> io::Result<Self> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
        Ok(Self {
            dir: dir.to_owned(),
        })
    }

    fn write_atomic(&self, name: &str, bytes: &[u8], mode: u32) -> io::Result<()> {
        let path = self.dir.join(name);
        let tmp = self.dir.join(format!("{name}.tmp"));
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)?;
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, &path)
    }

    fn sync_dir(&self) -> io::Result<()> {
        File::open(&self.dir)?.sync_all()
    }

    /// Durably stores the agent's SVID and key.
    pub fn save_identity(&self, chain: &[CertDer], key_pkcs8: &[u8]) -> io::Result<()> {
        self.write_atomic("agent_key.der", key_pkcs8, 0o600)?;
        self.write_atomic("agent_svid.der", &join_der_certificates(chain), 0o644)?;
        self.sync_dir()
    }

    /// Durably stores the trust bundle's X.509 authorities.
    pub fn save_bundle(&self, authorities: &[CertDer]) -> io::Result<()> {
        self.write_atomic("bundle.der", &join_der_certificates(authorities), 0o644)?;
        self.sync_dir()
    }

    /// Loads what was stored, if the agent has attested before: `None` when there is no SVID
    /// (never attested, or forgotten after an eviction; a key alone is what a crash during the
    /// first attestation leaves). An SVID without its key or bundle, or a file that does not
    /// parse, is an error naming the file.
    pub fn load(&self) -> Result<Option<StoredIdentity>, StoredIdentityError> {
        let read = |name: &str| match fs::read(self.dir.join(name)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        };
        // Wrapped as soon as it is read: every return below wipes it. (`fs::read` sizes its
        // buffer from the file's length, so it does not reallocate and leave a copy behind.)
        let key = read("agent_key.der")?.map(Zeroizing::new);
        let Some(chain) = read("agent_svid.der")? else {
            return Ok(None);
        };
        let unusable = |name: &str, problem: &str| StoredIdentityError::Unusable {
            file: self.dir.join(name),
            problem: problem.to_owned(),
        };
        let Some(key) = key else {
            return Err(unusable(
                "agent_key.der",
                "is missing (agent_svid.der is there without its key)",
            ));
        };
        let Some(bundle) = read("bundle.der")? else {
            return Err(unusable(
                "bundle.der",
                "is missing (the agent cannot verify the server without it)",
            ));
        };
        let bad = |what: &str, e: String| StoredIdentityError::Unusable {
            file: self.dir.join(what),
            problem: format!("is corrupt: {e}"),
        };
        Ok(Some(StoredIdentity {
            chain: split_der_certificates(&chain)
                .map_err(|e| bad("agent_svid.der", e.to_string()))?,
            key_pkcs8: key,
            bundle: split_der_certificates(&bundle)
                .map_err(|e| bad("bundle.der", e.to_string()))?,
        }))
    }

    /// Forgets the stored identity (after the server evicted the agent).
    pub fn forget_identity(&self) -> io::Result<()> {
        for name in ["agent_svid.der", "agent_key.der"] {
            match fs::remove_file(self.dir.join(name)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        self.sync_dir()
    }
}

#[cfg(test)]
mod tests;
