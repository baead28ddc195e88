//! On-disk storage of this server's CA private keys and certificates.
//!
//! `<data_dir>/ca/` is created 0700; each authority is `<id>.key` (PKCS#8 DER, 0600) and
//! `<id>.crt` (DER); a JWT signing key is `jwt-<kid>.key` (0600) and its public half
//! `jwt-<kid>.pub` (SPKI DER). Files are written to a temporary name, fsynced, renamed into
//! place and the directory fsynced, so a crash leaves either the old state or the complete new
//! files.
//!
//! The public half next to each key is what tells this server's authorities apart from the
//! ones other servers sharing the datastore hold: a row with neither file here is someone
//! else's ([`Stored::Absent`]), a row with one file but not the other is this server's and has
//! lost a file ([`Stored::Missing`]) — which must stop the server, not make it create a new CA
//! that no agent trusts.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use lanyard_x509::{CertDer, KeyPair};

/// What the key store holds of one authority.
#[derive(Debug)]
pub(crate) enum Stored<T> {
    /// Every file of it: the loaded key material.
    Held(T),
    /// No file of it.
    Absent,
    /// Some of its files, but not this one.
    Missing(PathBuf),
}

fn read_if_present(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

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

    /// Where an authority's private key lives.
    pub(crate) fn key_path(&self, id: &str) -> PathBuf {
        self.path(id, "key")
    }

    /// Where an authority's certificate lives.
    pub(crate) fn cert_path(&self, id: &str) -> PathBuf {
        self.path(id, "crt")
    }

    /// Loads an authority's key and certificate.
    pub(crate) fn load(&self, id: &str) -> io::Result<Stored<(KeyPair, CertDer)>> {
        let (key_path, cert_path) = (self.key_path(id), self.cert_path(id));
        let (key, cert) = match (read_if_present(&key_path)?, read_if_present(&cert_path)?) {
            (Some(k), Some(c)) => (k, c),
            (None, None) => return Ok(Stored::Absent),
            (None, Some(_)) => return Ok(Stored::Missing(key_path)),
            (Some(_), None) => return Ok(Stored::Missing(cert_path)),
        };
        let bad = |e: String| io::Error::new(io::ErrorKind::InvalidData, e);
        let key = KeyPair::from_pkcs8_der(&key)
            .map_err(|e| bad(format!("CA key {} is unreadable: {e}", key_path.display())))?;
        let cert = CertDer::from_der(cert).map_err(|e| {
            bad(format!(
                "CA certificate {} is unreadable: {e}",
                cert_path.display()
            ))
        })?;
        Ok(Stored::Held((key, cert)))
    }

    /// Durably stores a JWT signing key as `jwt-<kid>.key` (0600) and its public half as
    /// `jwt-<kid>.pub`.
    pub(crate) fn save_jwt_key(&self, kid: &str, key: &KeyPair) -> io::Result<()> {
        self.write_atomic(&self.jwt_key_path(kid), key.pkcs8_der(), 0o600)?;
        self.write_atomic(&self.jwt_pub_path(kid), &key.public_key_spki_der(), 0o644)?;
        File::open(&self.dir)?.sync_all()
    }

    /// Loads a JWT signing key. A key stored before public halves were kept gets its
    /// `jwt-<kid>.pub` now (it is derived from the key).
    pub(crate) fn load_jwt_key(&self, kid: &str) -> io::Result<Stored<KeyPair>> {
        let (key_path, pub_path) = (self.jwt_key_path(kid), self.jwt_pub_path(kid));
        let Some(key) = read_if_present(&key_path)? else {
            return Ok(if pub_path.exists() {
                Stored::Missing(key_path)
            } else {
                Stored::Absent
            });
        };
        let key = KeyPair::from_pkcs8_der(&key).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("JWT key {} is unreadable: {e}", key_path.display()),
            )
        })?;
        if !pub_path.exists() {
            self.write_atomic(&pub_path, &key.public_key_spki_der(), 0o644)?;
            File::open(&self.dir)?.sync_all()?;
        }
        Ok(Stored::Held(key))
    }

    /// Deletes a JWT signing key and its public half (after it expired or was revoked).
    pub(crate) fn remove_jwt_key(&self, kid: &str) -> io::Result<()> {
        for path in [self.jwt_key_path(kid), self.jwt_pub_path(kid)] {
            match fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        File::open(&self.dir)?.sync_all()
    }

    /// Where a JWT signing key lives.
    pub(crate) fn jwt_key_path(&self, kid: &str) -> PathBuf {
        self.dir.join(format!("jwt-{kid}.key"))
    }

    fn jwt_pub_path(&self, kid: &str) -> PathBuf {
        self.dir.join(format!("jwt-{kid}.pub"))
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
        let Stored::Held((k2, c2)) = ks.load("abc").unwrap() else {
            panic!("abc not held")
        };
        assert_eq!(k2.pkcs8_der(), key.pkcs8_der());
        assert_eq!(c2, cert);
        assert!(matches!(ks.load("missing").unwrap(), Stored::Absent));
        ks.remove("abc").unwrap();
        assert!(matches!(ks.load("abc").unwrap(), Stored::Absent));
    }

    #[test]
    fn one_file_without_the_other_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let ks = KeyStore::open(&dir.path().join("ca")).unwrap();
        let key = KeyPair::generate(lanyard_x509::KeyType::EcP256).unwrap();
        let cert = crate::ca::tests_support::self_signed(&key);
        ks.save("abc", &key, &cert).unwrap();
        fs::remove_file(ks.key_path("abc")).unwrap();
        assert!(matches!(ks.load("abc").unwrap(), Stored::Missing(p) if p == ks.key_path("abc")));
        ks.save("abc", &key, &cert).unwrap();
        fs::remove_file(ks.cert_path("abc")).unwrap();
        assert!(matches!(ks.load("abc").unwrap(), Stored::Missing(p) if p == ks.cert_path("abc")));

        ks.save_jwt_key("k1", &key).unwrap();
        assert!(matches!(ks.load_jwt_key("k1").unwrap(), Stored::Held(_)));
        fs::remove_file(ks.jwt_key_path("k1")).unwrap();
        assert!(
            matches!(ks.load_jwt_key("k1").unwrap(), Stored::Missing(p) if p == ks.jwt_key_path("k1"))
        );
        ks.remove_jwt_key("k1").unwrap();
        assert!(matches!(ks.load_jwt_key("k1").unwrap(), Stored::Absent));
    }

    #[test]
    fn a_jwt_key_stored_without_its_public_half_gets_one() {
        let dir = tempfile::tempdir().unwrap();
        let ks = KeyStore::open(&dir.path().join("ca")).unwrap();
        let key = KeyPair::generate(lanyard_x509::KeyType::EcP256).unwrap();
        ks.save_jwt_key("k1", &key).unwrap();
        fs::remove_file(ks.jwt_pub_path("k1")).unwrap();
        assert!(matches!(ks.load_jwt_key("k1").unwrap(), Stored::Held(_)));
        assert_eq!(
            fs::read(ks.jwt_pub_path("k1")).unwrap(),
            key.public_key_spki_der()
        );
    }
}
