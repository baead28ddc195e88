//! The agent's own identity on disk: its SVID chain, private key and the last trust bundle.
//!
//! `<data_dir>` is created 0700. Files (all DER): `agent_svid.der` (concatenated chain, leaf
//! first), `agent_key.der` (PKCS#8, mode 0600), `bundle.der` (concatenated X.509 authorities).
//! Each is written to a temporary file, fsynced and renamed, then the directory is fsynced; the
//! key is written before the certificate, so a crash never leaves a certificate without its key.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use lanyard_x509::{CertDer, join_der_certificates, split_der_certificates};
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

    /// Loads what was stored, if the agent has attested before.
    pub fn load(&self) -> io::Result<Option<StoredIdentity>> {
        let read = |name: &str| match fs::read(self.dir.join(name)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        };
        // Wrapped as soon as it is read: every return below wipes it. (`fs::read` sizes its
        // buffer from the file's length, so it does not reallocate and leave a copy behind.)
        let key = read("agent_key.der")?.map(Zeroizing::new);
        let (Some(chain), Some(key), Some(bundle)) =
            (read("agent_svid.der")?, key, read("bundle.der")?)
        else {
            return Ok(None);
        };
        let bad = |what: &str, e: String| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}/{what} is corrupt: {e}", self.dir.display()),
            )
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
