//! rustls verifiers that apply SPIFFE rules, and the configs built on them.
//!
//! Web PKI name checks do not apply: a SPIFFE peer is authenticated by an X.509-SVID that verifies
//! against the bundle of the trust domain of its own SPIFFE ID (X509-SVID.md §5), and authorized by
//! that ID. The TLS handshake signatures are checked with ring's algorithms as usual.

use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use lanyard_id::SpiffeId;
use lanyard_x509::X509SvidError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, OtherError, SignatureScheme};

use crate::{ALPN_H2, Identity, TrustStore};

pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

pub(crate) fn to_system_time(now: UnixTime) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(now.as_secs())
}

/// Why one of this crate's verifiers refused the peer's certificate.
///
/// It travels inside the handshake's error (as `rustls::Error::Other`), through tokio-rustls's
/// `io::Error` and tonic's transport error, up to the `Status` of the call that needed the
/// connection; [`PeerRejected::find`] gets it back, so a caller tells "the peer is not one our
/// bundle trusts" from a network failure or from the peer refusing us by type, not by text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PeerRejected {
    /// The peer's chain is not an X.509-SVID that verifies against our bundle.
    #[error("peer X.509-SVID rejected: {0}")]
    Svid(X509SvidError),
    /// The server's SVID verifies but names another SPIFFE ID than the pinned one.
    #[error("server presented SPIFFE ID {presented}, expected {expected}")]
    UnexpectedServerId {
        /// The ID the server's SVID holds.
        presented: SpiffeId,
        /// The ID the client pinned.
        expected: SpiffeId,
    },
    /// A Web PKI server certificate is not valid for the name dialled, and it is an X.509-SVID:
    /// the endpoint speaks the `https_spiffe` profile (SPIFFE_Federation §5.2.2), not
    /// `https_web`. SPIRE gives the same hint.
    #[error(
        "the server's certificate is not valid for {name} ({reason}); it is the X.509-SVID of {presented}: configure this endpoint with profile https_spiffe and endpoint SPIFFE ID {presented}"
    )]
    SvidOnWebPki {
        /// The host name (or address) the client checked.
        name: String,
        /// The SPIFFE ID the certificate holds.
        presented: SpiffeId,
        /// rustls's name error.
        reason: String,
    },
}

impl PeerRejected {
    /// The peer's chain leads to no authority of our bundle ("unknown issuer"): it was signed by
    /// a CA we do not trust, or no longer trust.
    pub fn is_unknown_issuer(&self) -> bool {
        matches!(self, Self::Svid(X509SvidError::NoTrustedAuthority { .. }))
    }

    /// The rejection somewhere in `err`'s source chain (a tonic `Status`, a transport error,
    /// the `io::Error` of a handshake), if `err` is one.
    pub fn find<'a>(err: &'a (dyn Error + 'static)) -> Option<&'a PeerRejected> {
        let mut next = Some(err);
        while let Some(e) = next {
            // `io::Error` and `rustls::Error` do not give what they wrap as their `source`.
            let wrapped: Option<&(dyn Error + 'static)> = e
                .downcast_ref::<std::io::Error>()
                .and_then(std::io::Error::get_ref)
                .map(|w| w as &(dyn Error + 'static));
            for candidate in [Some(e), wrapped].into_iter().flatten() {
                if let Some(r) = candidate.downcast_ref::<PeerRejected>() {
                    return Some(r);
                }
                if let Some(rustls::Error::Other(OtherError(other))) =
                    candidate.downcast_ref::<rustls::Error>()
                    && let Some(r) = other.downcast_ref::<PeerRejected>()
                {
                    return Some(r);
                }
            }
            next = e.source();
        }
        None
    }
}

impl From<PeerRejected> for rustls::Error {
    fn from(r: PeerRejected) -> Self {
        // `Other` sends the same alert (handshake_failure) as `General` did, and keeps the type.
        rustls::Error::Other(OtherError(Arc::new(r)))
    }
}

/// Verifies `end_entity` + `intermediates` as an X.509-SVID against `trust`; returns its ID.
fn verify_svid(
    trust: &TrustStore,
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    now: UnixTime,
) -> Result<SpiffeId, PeerRejected> {
    let chain: Vec<&[u8]> = std::iter::once(end_entity.as_ref())
        .chain(intermediates.iter().map(AsRef::as_ref))
        .collect();
    let bundles = trust.get();
    lanyard_x509::verify_x509_svid(&chain, &*bundles, to_system_time(now))
        .map(|svid| svid.spiffe_id)
        .map_err(|e| {
            tracing::debug!(error = %e, "peer X.509-SVID rejected");
            PeerRejected::Svid(e)
        })
}

/// Server side: asks for a client certificate, accepts none (the client may be an agent that has
/// not attested yet; each RPC decides), and verifies any presented one as an X.509-SVID.
#[derive(Debug)]
pub struct SpiffeClientVerifier {
    trust: TrustStore,
    algorithms: WebPkiSupportedAlgorithms,
}

impl SpiffeClientVerifier {
    /// A verifier over `trust`.
    pub fn new(trust: TrustStore) -> Self {
        Self {
            trust,
            algorithms: provider().signature_verification_algorithms,
        }
    }
}

impl ClientCertVerifier for SpiffeClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        verify_svid(&self.trust, end_entity, intermediates, now)?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Client side: the server must present an X.509-SVID with exactly the expected SPIFFE ID.
#[derive(Debug)]
pub struct SpiffeServerVerifier {
    trust: TrustStore,
    expected: SpiffeId,
    algorithms: WebPkiSupportedAlgorithms,
}

impl SpiffeServerVerifier {
    /// A verifier that accepts only `expected`, verified against `trust`.
    pub fn new(trust: TrustStore, expected: SpiffeId) -> Self {
        Self {
            trust,
            expected,
            algorithms: provider().signature_verification_algorithms,
        }
    }
}

impl ServerCertVerifier for SpiffeServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let id = verify_svid(&self.trust, end_entity, intermediates, now)?;
        if id != self.expected {
            return Err(PeerRejected::UnexpectedServerId {
                presented: id,
                expected: self.expected.clone(),
            }
            .into());
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A TLS 1.3 server config presenting `identity` and verifying optional client SVIDs against
/// `trust`, speaking h2.
pub fn server_config(
    identity: Identity,
    trust: TrustStore,
) -> Result<Arc<rustls::ServerConfig>, rustls::Error> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(Arc::new(SpiffeClientVerifier::new(trust)))
        .with_cert_resolver(Arc::new(identity));
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(Arc::new(config))
}

/// A TLS 1.3 client config that pins the server's SPIFFE ID and presents `identity` when it holds
/// an SVID (after attestation), speaking h2.
pub fn client_config(
    identity: Identity,
    trust: TrustStore,
    server_id: SpiffeId,
) -> Result<Arc<rustls::ClientConfig>, rustls::Error> {
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(SpiffeServerVerifier::new(trust, server_id)))
        .with_client_cert_resolver(Arc::new(identity));
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(Arc::new(config))
}

/// Accepts any server certificate (still checking the handshake signature). Only for what the
/// operator asked for by name, which the caller must log loudly: an agent's `insecure_bootstrap`
/// first contact (the server is unauthenticated until the agent holds the bundle it returns)
/// and `kubelet_skip_verify`.
#[derive(Debug)]
pub struct InsecureServerVerifier {
    algorithms: WebPkiSupportedAlgorithms,
}

impl InsecureServerVerifier {
    /// With the signature algorithms of the crate's one crypto provider (ring).
    pub fn new() -> Self {
        Self {
            algorithms: provider().signature_verification_algorithms,
        }
    }
}

impl Default for InsecureServerVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerCertVerifier for InsecureServerVerifier {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A client config that does not authenticate the server (see [`InsecureServerVerifier`]).
pub fn insecure_client_config() -> Result<Arc<rustls::ClientConfig>, rustls::Error> {
    let verifier = InsecureServerVerifier::new();
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(Arc::new(config))
}
