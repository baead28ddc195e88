//! On-disk storage of this server's CA private keys and certificates.
//!
//! `<data_dir>/ca/` is created 0700; each authority is `<id>.key` (PKCS#8 DER, 0600) and
//! `<id>.crt` (DER); a JWT signing key is `jwt-<kid>.key` alone (no certificate). Files are written to a temporary name, fsynced, renamed into place and the
//! directory fsynced, so a crash leaves either the old state or the complete new files.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use lanyard_x509::{CertDer, KeyPair};

/// The directory holding this server's CA keys.
#[derive(Debug, Clone)]
pub(crate) struct KeyStore {
    dir: PathBuf,
}

impl KeyStore {
    /// Opens (creating with mode 0700) `dir`.
    pub(crate) fn open(dir: &Path) -> io::Result<Self> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
        Ok(Self {
            dir: dir.to_owned(),
        })
    }

    fn path(&self, id: &str, ext: &str) -> PathBuf {
        self.dir.join(format!("{id}.{ext}"))
    }

    /// Durably stores an authority's key (0600) and certificate.
    pub(crate) fn save(&self, id: &str, key: &KeyPair, cert: &CertDer) -> io::Result<()> {
        self.write_atomic(&self.path(id, "key"), key.pkcs8_der(), 0o600)?;
        self.write_atomic(&self.path(id, "crt"), cert.as_bytes(), 0o644)?;
        File::open(&self.dir)?.sync_all()
    }

    /// Loads an authority's key and certificate, or `None` if this server does not hold it.
    pub(crate) fn load(&self, id: &str) -> io::Result<Option<(KeyPair, CertDer)>> {
        let key = match fs::read(self.path(id, "key")) {
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let cert = fs::read(self.path(id, "crt"))?;
        let bad = |e: String| io::Error::new(io::ErrorKind::InvalidData, e);
        let key = KeyPair::from_pkcs8_der(&key)
            .map_err(|e| bad(format!("CA key {id}.key is unreadable: {e}")))?;
        let cert = CertDer::from_der(cert)
            .map_err(|e| bad(format!("CA certificate {id}.crt is unreadable: {e}")))?;
        Ok(Some((key, cert)))
    }

    /// Durably stores a JWT signing key as `jwt-<kid>.key` (0600).
    pub(crate) fn save_jwt_key(&self, kid: &str, key: &KeyPair) -> io::Result<()> {
        self.write_atomic(&self.jwt_path(kid), key.pkcs8_der(), 0o600)?;
        File::open(&self.dir)?.sync_all()
    }

    /// Loads a JWT signing key, or `None` if this server does not hold it.
    pub(crate) fn load_jwt_key(&self, kid: &str) -> io::Result<Option<KeyPair>> {
        let key = match fs::read(self.jwt_path(kid)) {
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        KeyPair::from_pkcs8_der(&key).map(Some).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("JWT key jwt-{kid}.key is unreadable: {e}"),
            )
        })
    }

    /// Deletes a JWT signing key (after it expired or was revoked).
    pub(crate) fn remove_jwt_key(&self, kid: &str) -> io::Result<()> {
        match fs::remove_file(self.jwt_path(kid)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        File::open(&self.dir)?.sync_all()
    }

    fn jwt_path(&self, kid: &str) -> PathBuf {
        self.dir.join(format!("jwt-{kid}.key"))
    }

    /// Deletes an authority's files (after it was revoked).
    pub(crate) fn remove(&self, id: &str) -> io::Result<()> {
        for ext in ["key", "crt"] {
            match fs::remove_file(self.path(id, ext)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        File::open(&self.dir)?.sync_all()
    }

    fn write_atomic(&self, path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
        let tmp = path.with_extension("tmp");
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)?;
        // `mode` only applies when the file is created; make sure of it either way.
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_private_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let ks = KeyStore::open(&dir.path().join("ca")).unwrap();
        let key = KeyPair::generate(lanyard_x509::KeyType::EcP256).unwrap();
        let cert = crate::ca::tests_support::self_signed(&key);
        ks.save("abc", &key, &cert).unwrap();
        let meta = fs::metadata(dir.path().join("ca/abc.key")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let dmeta = fs::metadata(dir.path().join("ca")).unwrap();
        assert_eq!(dmeta.permissions().mode() & 0o777, 0o700);
        let (k2, c2) = ks.load("abc").unwrap().unwrap();
        assert_eq!(k2.pkcs8_der(), key.pkcs8_der());
        assert_eq!(c2, cert);
        assert!(ks.load("missing").unwrap().is_none());
        ks.remove("abc").unwrap();
        assert!(ks.load("abc").unwrap().is_none());
    }
}
