//! [`Identity`]: our own SVID and key, replaceable at run time.

use std::sync::{Arc, RwLock};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;

/// Why an SVID and key cannot be used as a TLS identity.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The chain is empty.
    #[error("the SVID chain is empty")]
    EmptyChain,
    /// rustls cannot sign with the key.
    #[error("unusable private key: {0}")]
    Key(rustls::Error),
    /// The private key is not the one of the leaf certificate's public key.
    #[error("the private key does not belong to the leaf certificate ({0})")]
    KeyMismatch(rustls::Error),
}

/// A shared, replaceable TLS identity (SVID chain + key). Cloning shares the cell.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    current: Arc<RwLock<Option<Arc<CertifiedKey>>>>,
}

impl Identity {
    /// An empty identity (no certificate to present yet).
    pub fn new() -> Self {
        Self::default()
    }

    /// Installs `chain` (DER, leaf first) and its PKCS#8 DER private key; new handshakes present
    /// them.
    pub fn set(&self, chain: &[Vec<u8>], key_pkcs8_der: &[u8]) -> Result<(), IdentityError> {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pkcs8_der.to_vec()));
        self.install(chain, key, false)
    }

    /// Installs `chain` (DER, leaf first) and its private key in any encoding rustls reads
    /// (PKCS#8, SEC1 `EC PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY`), after checking that the key is
    /// the leaf's: for certificates an operator supplies (the `https_web` bundle endpoint), where
    /// a mismatched pair is a mistake to report, not to serve.
    pub fn set_with_key(
        &self,
        chain: &[Vec<u8>],
        key: PrivateKeyDer<'static>,
    ) -> Result<(), IdentityError> {
        self.install(chain, key, true)
    }

    fn install(
        &self,
        chain: &[Vec<u8>],
        key: PrivateKeyDer<'static>,
        check_match: bool,
    ) -> Result<(), IdentityError> {
        if chain.is_empty() {
            return Err(IdentityError::EmptyChain);
        }
        let certs: Vec<CertificateDer<'static>> = chain
            .iter()
            .map(|c| CertificateDer::from(c.clone()))
            .collect();
        let provider = rustls::crypto::ring::default_provider();
        let signing = provider
            .key_provider
            .load_private_key(key)
            .map_err(IdentityError::Key)?;
        let ck = CertifiedKey::new(certs, signing);
        if check_match {
            match ck.keys_match() {
                // ring's keys all report their public key; "unknown" cannot be checked.
                Ok(())
                | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
                Err(e) => return Err(IdentityError::KeyMismatch(e)),
            }
        }
        let ck = Arc::new(ck);
        match self.current.write() {
            Ok(mut g) => *g = Some(ck),
            Err(poisoned) => *poisoned.into_inner() = Some(ck),
        }
        Ok(())
    }

    /// The identity in force, if any.
    pub fn get(&self) -> Option<Arc<CertifiedKey>> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

impl rustls::server::ResolvesServerCert for Identity {
    fn resolve(&self, _hello: rustls::server::ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.get()
    }
}

impl rustls::client::ResolvesClientCert for Identity {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        self.get()
    }

    fn has_certs(&self) -> bool {
        self.get().is_some()
    }
}
