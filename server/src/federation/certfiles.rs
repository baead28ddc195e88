//! The `https_web` bundle endpoint's certificate and key, from PEM files the operator provides
//! (SPIFFE_Federation §5.2.1: a Web PKI certificate for the endpoint's host name), reloaded when
//! they change so a renewal (certbot, cert-manager) needs no restart.
//!
//! The files are checked every reload interval by their identity and shape (device, inode, size,
//! modification time, of both): a renewal tool that rewrites or replaces either is noticed. A
//! new pair that does not load (unreadable, no certificate, no key, a key that is not the
//! certificate's) is logged naming the file and the pair in use is kept; at start it is an error
//! naming the file. A key file others can read, or a certificate that has expired, is warned
//! about, not refused (the operator may be mid-fix; the endpoint serves public data).
//!
//! Keys: `PRIVATE KEY` (PKCS#8), `EC PRIVATE KEY` (SEC1) or `RSA PRIVATE KEY` (PKCS#1) blocks.

use std::future::Future;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use lanyard_tls::{Identity, IdentityError};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer};

/// Why the certificate or key files cannot be used. Each names the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct CertFilesError {
    /// The file at fault.
    pub path: PathBuf,
    /// What is wrong and what to do.
    pub reason: String,
}

/// What identifies one version of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: i64,
    mtime_nsec: i64,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    Some(Stamp {
        dev: m.dev(),
        ino: m.ino(),
        size: m.size(),
        mtime: m.mtime(),
        mtime_nsec: m.mtime_nsec(),
    })
}

/// A certificate chain and key loaded from files, served through an [`Identity`].
#[derive(Debug)]
pub struct CertFiles {
    cert_path: PathBuf,
    key_path: PathBuf,
    identity: Identity,
    stamps: Mutex<(Option<Stamp>, Option<Stamp>)>,
}

/// A pair read from the files, and what to warn about.
struct Pair {
    chain: Vec<Vec<u8>>,
    key: PrivateKeyDer<'static>,
    warnings: Vec<String>,
}

impl CertFiles {
    /// Loads the pair, or says which file is wrong. Logs the warnings (see the module doc).
    pub fn load(
        cert_path: impl Into<PathBuf>,
        key_path: impl Into<PathBuf>,
        now: SystemTime,
    ) -> Result<CertFiles, CertFilesError> {
        let files = CertFiles {
            cert_path: cert_path.into(),
            key_path: key_path.into(),
            identity: Identity::new(),
            stamps: Mutex::new((None, None)),
        };
        let stamps = files.current_stamps();
        files.install(now)?;
        *files.stamps.lock().unwrap_or_else(PoisonError::into_inner) = stamps;
        Ok(files)
    }

    /// The identity new handshakes present (a `rustls` `ResolvesServerCert`); it follows reloads.
    pub fn identity(&self) -> Identity {
        self.identity.clone()
    }

    /// Loads the pair again if either file changed since the last look. `Ok(true)`: the new
    /// pair is in use; `Ok(false)`: nothing changed; `Err`: the new pair is unusable and the one
    /// in use stays (it is not tried again until a file changes again).
    pub fn reload_if_changed(&self, now: SystemTime) -> Result<bool, CertFilesError> {
        let stamps = self.current_stamps();
        {
            let mut seen = self.stamps.lock().unwrap_or_else(PoisonError::into_inner);
            if *seen == stamps {
                return Ok(false);
            }
            *seen = stamps;
        }
        self.install(now)?;
        Ok(true)
    }

    /// Checks the files every `interval` until `shutdown` completes, logging each reload and
    /// each refused pair.
    pub async fn watch(&self, interval: Duration, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(interval) => {}
            }
            match self.reload_if_changed(SystemTime::now()) {
                Ok(true) => tracing::info!(
                    cert = %self.cert_path.display(),
                    key = %self.key_path.display(),
                    "bundle endpoint certificate reloaded"
                ),
                Ok(false) => {}
                Err(e) => tracing::warn!(
                    error = %e,
                    "bundle endpoint certificate not reloaded; keeping the one loaded before"
                ),
            }
        }
    }

    fn current_stamps(&self) -> (Option<Stamp>, Option<Stamp>) {
        (stamp(&self.cert_path), stamp(&self.key_path))
    }

    fn install(&self, now: SystemTime) -> Result<(), CertFilesError> {
        let pair = read_pair(&self.cert_path, &self.key_path, now)?;
        self.identity
            .set_with_key(&pair.chain, pair.key)
            .map_err(|e| match e {
                IdentityError::KeyMismatch(_) => CertFilesError {
                    path: self.key_path.clone(),
                    reason: format!(
                        "this key does not belong to the certificate in {}: install the key and certificate of one pair",
                        self.cert_path.display()
                    ),
                },
                other => CertFilesError {
                    path: self.key_path.clone(),
                    reason: other.to_string(),
                },
            })?;
        for warning in &pair.warnings {
            tracing::warn!("{warning}");
        }
        Ok(())
    }
}

/// Reads and checks both files.
fn read_pair(cert_path: &Path, key_path: &Path, now: SystemTime) -> Result<Pair, CertFilesError> {
    let cert_error = |reason: String| CertFilesError {
        path: cert_path.to_path_buf(),
        reason,
    };
    let key_error = |reason: String| CertFilesError {
        path: key_path.to_path_buf(),
        reason,
    };
    let cert_pem = std::fs::read(cert_path)
        .map_err(|e| cert_error(format!("cannot read the certificate file: {e}")))?;
    let chain = lanyard_x509::certificates_from_pem(&cert_pem)
        .map_err(|e| cert_error(format!("not a PEM certificate chain: {e}")))?;
    let Some(leaf) = chain.first() else {
        return Err(cert_error(
            "holds no CERTIFICATE block: write the server certificate, then its intermediates, as PEM"
                .into(),
        ));
    };
    let mut warnings = Vec::new();
    match lanyard_x509::CertInfo::from_der(leaf.as_bytes()) {
        Ok(info) if info.not_after <= now => warnings.push(format!(
            "{}: the bundle endpoint certificate expired at {}; clients will refuse it until it is renewed",
            cert_path.display(),
            humantime::format_rfc3339_seconds(info.not_after)
        )),
        Ok(_) => {}
        Err(e) => return Err(cert_error(format!("the first certificate cannot be read: {e}"))),
    }

    let key_file = std::fs::File::open(key_path)
        .map_err(|e| key_error(format!("cannot read the key file: {e}")))?;
    let mode = key_file
        .metadata()
        .map_err(|e| key_error(format!("cannot read the key file: {e}")))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        warnings.push(format!(
            "{}: the private key file is readable by group or others (mode {:o}): chmod 600 it",
            key_path.display(),
            mode & 0o777
        ));
    }
    let key_pem = std::io::read_to_string(key_file)
        .map_err(|e| key_error(format!("cannot read the key file: {e}")))?;
    let blocks = pem::parse_many(&key_pem).map_err(|e| key_error(format!("not PEM: {e}")))?;
    let key = blocks
        .into_iter()
        .find_map(|block| {
            let der = block.contents().to_vec();
            match block.tag() {
                "PRIVATE KEY" => Some(Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der)))),
                "EC PRIVATE KEY" => Some(Ok(PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(der)))),
                "RSA PRIVATE KEY" => Some(Ok(PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der)))),
                "ENCRYPTED PRIVATE KEY" => Some(Err(key_error(
                    "the key is encrypted: write it unencrypted (and mode 600)".into(),
                ))),
                _ => None,
            }
        })
        .unwrap_or_else(|| {
            Err(key_error(
                "holds no PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY block".into(),
            ))
        })?;
    Ok(Pair {
        chain: chain.into_iter().map(|c| c.into_vec()).collect(),
        key,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "test code: a failure must fail the test"
    )]

    use super::*;
    use crate::federation::test_certs::{WebCa, WebCert};

    struct Dir {
        dir: tempfile::TempDir,
    }

    impl Dir {
        fn new() -> Dir {
            Dir {
                dir: tempfile::tempdir().unwrap(),
            }
        }
        fn cert(&self) -> PathBuf {
            self.dir.path().join("endpoint.crt")
        }
        fn key(&self) -> PathBuf {
            self.dir.path().join("endpoint.key")
        }
        /// Replaces `path` by rename, as renewal tools do.
        fn put(&self, path: &Path, text: &str, mode: u32) {
            let tmp = self.dir.path().join("tmp");
            std::fs::write(&tmp, text).unwrap();
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode)).unwrap();
            std::fs::rename(&tmp, path).unwrap();
        }
        fn put_pair(&self, cert: &WebCert) {
            self.put(&self.cert(), &cert.cert_pem, 0o644);
            self.put(&self.key(), &cert.key_pem, 0o600);
        }
    }

    fn leaf(files: &CertFiles) -> Vec<u8> {
        files.identity().get().unwrap().cert[0].to_vec()
    }

    #[test]
    fn loads_and_reloads_when_a_file_changes() {
        let ca = WebCa::new("test web CA");
        let first = ca.issue(&["localhost"], false);
        let dir = Dir::new();
        dir.put_pair(&first);
        let files = CertFiles::load(dir.cert(), dir.key(), SystemTime::now()).unwrap();
        assert_eq!(leaf(&files), first.chain[0]);
        assert_eq!(files.reload_if_changed(SystemTime::now()), Ok(false));

        let second = ca.issue(&["localhost"], false);
        dir.put_pair(&second);
        assert_eq!(files.reload_if_changed(SystemTime::now()), Ok(true));
        assert_eq!(leaf(&files), second.chain[0]);
        assert_eq!(files.reload_if_changed(SystemTime::now()), Ok(false));
    }

    #[test]
    fn a_bad_new_pair_is_refused_naming_the_file_and_the_old_one_kept() {
        let ca = WebCa::new("test web CA");
        let first = ca.issue(&["localhost"], false);
        let dir = Dir::new();
        dir.put_pair(&first);
        let files = CertFiles::load(dir.cert(), dir.key(), SystemTime::now()).unwrap();

        // The certificate renewed, the key not yet: they do not match.
        let second = ca.issue(&["localhost"], false);
        dir.put(&dir.cert(), &second.cert_pem, 0o644);
        let e = files.reload_if_changed(SystemTime::now()).unwrap_err();
        assert_eq!(e.path, dir.key());
        assert!(
            e.reason.contains("does not belong to the certificate"),
            "{e}"
        );
        assert_eq!(leaf(&files), first.chain[0]);
        // Not retried (nor logged again) until a file changes.
        assert_eq!(files.reload_if_changed(SystemTime::now()), Ok(false));

        // Then the key arrives.
        dir.put(&dir.key(), &second.key_pem, 0o600);
        assert_eq!(files.reload_if_changed(SystemTime::now()), Ok(true));
        assert_eq!(leaf(&files), second.chain[0]);

        // Garbage in the certificate file.
        dir.put(&dir.cert(), "not a certificate", 0o644);
        let e = files.reload_if_changed(SystemTime::now()).unwrap_err();
        assert_eq!(e.path, dir.cert());
        assert!(e.reason.contains("no CERTIFICATE block"), "{e}");
        assert_eq!(leaf(&files), second.chain[0]);
    }

    #[test]
    fn unusable_files_at_start_are_errors_naming_the_file() {
        let ca = WebCa::new("test web CA");
        let cert = ca.issue(&["localhost"], false);
        let dir = Dir::new();

        let e = CertFiles::load(dir.cert(), dir.key(), SystemTime::now()).unwrap_err();
        assert_eq!(e.path, dir.cert());
        assert!(
            e.to_string().contains("cannot read the certificate file"),
            "{e}"
        );

        dir.put(&dir.cert(), &cert.cert_pem, 0o644);
        let e = CertFiles::load(dir.cert(), dir.key(), SystemTime::now()).unwrap_err();
        assert_eq!(e.path, dir.key());
        assert!(e.to_string().contains("cannot read the key file"), "{e}");

        dir.put(&dir.key(), &cert.cert_pem, 0o600);
        let e = CertFiles::load(dir.cert(), dir.key(), SystemTime::now()).unwrap_err();
        assert_eq!(e.path, dir.key());
        assert!(e.reason.contains("no PRIVATE KEY"), "{e}");

        dir.put(
            &dir.key(),
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
            0o600,
        );
        let e = CertFiles::load(dir.cert(), dir.key(), SystemTime::now()).unwrap_err();
        assert!(e.reason.contains("encrypted"), "{e}");
    }

    #[test]
    fn warns_about_a_readable_key_and_an_expired_certificate() {
        let ca = WebCa::new("test web CA");
        let dir = Dir::new();
        let good = ca.issue(&["localhost"], false);
        dir.put_pair(&good);
        let pair = read_pair(&dir.cert(), &dir.key(), SystemTime::now()).unwrap();
        assert!(pair.warnings.is_empty(), "{:?}", pair.warnings);

        let expired = ca.issue(&["localhost"], true);
        dir.put(&dir.cert(), &expired.cert_pem, 0o644);
        dir.put(&dir.key(), &expired.key_pem, 0o640);
        let pair = read_pair(&dir.cert(), &dir.key(), SystemTime::now()).unwrap();
        assert_eq!(pair.warnings.len(), 2, "{:?}", pair.warnings);
        assert!(
            pair.warnings[0].contains("expired at 2021-01-01"),
            "{:?}",
            pair.warnings
        );
        assert!(pair.warnings[1].contains("readable by group or others (mode 640)"));
        // Served all the same.
        let files = CertFiles::load(dir.cert(), dir.key(), SystemTime::now()).unwrap();
        assert_eq!(leaf(&files), expired.chain[0]);
    }

    #[tokio::test]
    async fn serves_over_tls_what_the_files_hold() {
        let ca = WebCa::new("test web CA");
        let cert = ca.issue(&["localhost"], false);
        let dir = Dir::new();
        dir.put_pair(&cert);
        let files = CertFiles::load(dir.cert(), dir.key(), SystemTime::now()).unwrap();
        let server =
            lanyard_tls::bundle_endpoint_server_config(std::sync::Arc::new(files.identity()))
                .unwrap();
        let client = lanyard_tls::web_pki_client_config(ca.roots()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let _ = tokio_rustls::TlsAcceptor::from(server).accept(tcp).await;
        });
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let tls = tokio_rustls::TlsConnector::from(client)
            .connect(
                rustls::pki_types::ServerName::try_from("localhost").unwrap(),
                tcp,
            )
            .await
            .unwrap();
        let presented = tls.get_ref().1.peer_certificates().unwrap()[0].to_vec();
        assert_eq!(presented, cert.chain[0]);
        assert_eq!(
            tls.get_ref().1.alpn_protocol(),
            Some(lanyard_tls::ALPN_HTTP1)
        );
    }
}
