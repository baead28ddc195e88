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
        if chain.is_empty() {
            return Err(IdentityError::EmptyChain);
        }
        let certs: Vec<CertificateDer<'static>> = chain
            .iter()
            .map(|c| CertificateDer::from(c.clone()))
            .collect();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pkcs8_der.to_vec()));
        let provider = rustls::crypto::ring::default_provider();
        let signing = provider
            .key_provider
            .load_private_key(key)
            .map_err(IdentityError::Key)?;
        let ck = Arc::new(CertifiedKey::new(certs, signing));
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
