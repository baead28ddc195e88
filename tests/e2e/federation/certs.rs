//! Web PKI certificates minted at test time for the `https_web` profile (SPIFFE Federation
//! §5.2.1.4: a locally trusted CA, and a server certificate whose SAN matches the URL's host):
//! [`TestCa`] (an rcgen CA) and its [`Leaf`]s, written as the PEM files a bundle endpoint's
//! `cert_path` / `key_path` and a client's `https_web_ca_path` name; and [`presented_leaf`],
//! which reads the certificate an endpoint presents now (to await a reload without a log line).

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::sync::Arc;

use lanyard_x509::CertDer;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};

use crate::harness::PATIENCE;

/// A certificate authority of the test's own (`IsCa::Ca`, keyCertSign), trusted by whoever is
/// handed [`TestCa::pem`].
pub(crate) struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    /// A new CA with the common name `name` (rcgen's default DN is overwritten).
    pub(crate) fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        TestCa {
            issuer: CertifiedIssuer::self_signed(params, key).unwrap(),
        }
    }

    /// The CA certificate, PEM (what `https_web_ca_path` names).
    pub(crate) fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// The CA certificate, DER.
    pub(crate) fn der(&self) -> CertDer {
        CertDer::from_der(self.issuer.der().as_ref()).unwrap()
    }

    /// A TLS server certificate for `names` (DNS names or IP addresses) signed by this CA:
    /// `cA = false` written out (`IsCa::ExplicitNoCa`), digitalSignature, serverAuth.
    pub(crate) fn leaf(&self, names: &[&str]) -> Leaf {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names.clone()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, &names[0]);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &*self.issuer).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
            key_der: key.serialize_der(),
        }
    }
}

/// A server certificate and its private key.
pub(crate) struct Leaf {
    /// The certificate, PEM.
    pub(crate) cert_pem: String,
    /// The PKCS#8 private key, PEM.
    pub(crate) key_pem: String,
    /// The certificate, DER.
    pub(crate) der: Vec<u8>,
    key_der: Vec<u8>,
}

impl Leaf {
    /// Replaces `cert` and `key` with this pair, each by a rename (a reader never sees half a
    /// file); the key file is 0600, as a private key's must be. The key goes first: a reader
    /// between the two renames sees a mismatched pair, which it must refuse and read again.
    pub(crate) fn install(&self, cert: &Path, key: &Path) {
        replace(key, &self.key_pem, 0o600);
        replace(cert, &self.cert_pem, 0o644);
    }

    /// A rustls server config presenting this certificate (HTTP/1.1 over TLS 1.2 and 1.3).
    pub(crate) fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let chain = vec![CertificateDer::from(self.der.clone())];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()));
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

/// Writes `text` to `path` through a temporary file and a rename, with `mode`.
fn replace(path: &Path, text: &str, mode: u32) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode)).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The leaf certificate (DER) the TLS server at `addr` presents for SNI `server_name`, whoever
/// issued it: a probe, not a client that trusts anything it reads.
pub(crate) async fn presented_leaf(addr: std::net::SocketAddr, server_name: &str) -> Vec<u8> {
    let connector = probe_connector();
    let name = ServerName::try_from(server_name.to_owned()).unwrap();
    let handshake = async {
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        connector.connect(name, tcp).await
    };
    let tls = tokio::time::timeout(PATIENCE, handshake)
        .await
        .unwrap_or_else(|_| panic!("no TLS handshake with {addr} within {PATIENCE:?}"))
        .unwrap_or_else(|e| panic!("TLS handshake with {addr}: {e}"));
    let (_, conn) = tls.get_ref();
    conn.peer_certificates().unwrap()[0].as_ref().to_vec()
}

/// A TLS client that accepts any server certificate (signatures are still checked): a probe of
/// what an endpoint does, as an attacker's client would be, never a client that trusts it.
pub(crate) fn probe_connector() -> tokio_rustls::TlsConnector {
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider())))
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// Accepts any server certificate (signatures are still checked): for [`probe_connector`] only.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
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
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
