//! TLS for SPIFFE bundle endpoints (SPIFFE_Federation §5): HTTP/1.1 over TLS 1.2 or 1.3 (the
//! Mozilla *intermediate* versions §5 requires), no client authentication (§5.2.1.3, §5.2.2.3:
//! servers "MUST NOT require client authentication").
//!
//! - [`bundle_endpoint_server_config`]: the server side, presenting whatever certificate a
//!   resolver gives (the server's own X.509-SVID for `https_spiffe`, operator files for
//!   `https_web`).
//! - [`spiffe_endpoint_client_config`]: `https_spiffe` (§5.2.2.2): the server must present an
//!   X.509-SVID, valid under the endpoint trust domain's bundle, holding exactly the configured
//!   SPIFFE ID.
//! - [`web_pki_client_config`]: `https_web` (§5.2.1.4): RFC 6125 name checks against the given
//!   roots; a name failure on a certificate that is an X.509-SVID says to use `https_spiffe`.

use std::sync::Arc;

use lanyard_id::SpiffeId;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ResolvesServerCert;
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::verify::provider;
use crate::{PeerRejected, SpiffeServerVerifier, TrustStore};

/// The ALPN protocol bundle endpoints speak.
pub const ALPN_HTTP1: &[u8] = b"http/1.1";

/// TLS 1.3 and 1.2, as Mozilla's intermediate profile (SPIFFE_Federation §5).
const VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// A bundle endpoint server config: TLS 1.2/1.3, no client authentication, ALPN `http/1.1`,
/// presenting the certificate `certs` resolves at each handshake (an [`crate::Identity`], which
/// follows renewals).
pub fn bundle_endpoint_server_config(
    certs: Arc<dyn ResolvesServerCert>,
) -> Result<Arc<rustls::ServerConfig>, rustls::Error> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)?
        .with_no_client_auth()
        .with_cert_resolver(certs);
    config.alpn_protocols = vec![ALPN_HTTP1.to_vec()];
    Ok(Arc::new(config))
}

/// No TLS session resumption for bundle endpoint clients: a resumed session skips the server's
/// certificate, so a fetch would trust a peer verified against an earlier trust bundle (or an
/// earlier certificate) without checking the one it presents now, and would report that
/// earlier certificate chain as the peer's. Every fetch is a full handshake (one every few
/// minutes per endpoint).
fn no_resumption() -> rustls::client::Resumption {
    rustls::client::Resumption::disabled()
}

/// An `https_spiffe` client config (SPIFFE_Federation §5.2.2.2): the server must present an
/// X.509-SVID that verifies against the bundle `trust` holds for its trust domain and whose
/// SPIFFE ID is exactly `endpoint_id`; anything else fails the handshake with a
/// [`PeerRejected`]. The TLS server name is not checked (the ID is). No client certificate.
pub fn spiffe_endpoint_client_config(
    trust: TrustStore,
    endpoint_id: SpiffeId,
) -> Result<Arc<rustls::ClientConfig>, rustls::Error> {
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(SpiffeServerVerifier::new(trust, endpoint_id)))
        .with_no_client_auth();
    config.alpn_protocols = vec![ALPN_HTTP1.to_vec()];
    config.resumption = no_resumption();
    Ok(Arc::new(config))
}

/// An `https_web` client config (SPIFFE_Federation §5.2.1.4): Web PKI verification of the
/// server's certificate against `roots` for the name dialled. No client certificate.
pub fn web_pki_client_config(
    roots: RootCertStore,
) -> Result<Arc<rustls::ClientConfig>, rustls::Error> {
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|e| rustls::Error::General(e.to_string()))?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(WebEndpointVerifier { inner }))
        .with_no_client_auth();
    config.alpn_protocols = vec![ALPN_HTTP1.to_vec()];
    config.resumption = no_resumption();
    Ok(Arc::new(config))
}

/// rustls's Web PKI verifier, turning a name mismatch on an X.509-SVID into
/// [`PeerRejected::SvidOnWebPki`].
#[derive(Debug)]
struct WebEndpointVerifier {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for WebEndpointVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        match result {
            Err(rustls::Error::InvalidCertificate(
                ref e @ (CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. }),
            )) => match lanyard_x509::parse_x509_svid(&[end_entity.as_ref()]) {
                Ok(svid) => Err(PeerRejected::SvidOnWebPki {
                    name: server_name.to_str().into_owned(),
                    presented: svid.spiffe_id,
                    reason: e.to_string(),
                }
                .into()),
                Err(_) => result,
            },
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "test code: a failure must fail the test"
    )]

    use std::time::{Duration, SystemTime};

    use lanyard_id::TrustDomain;
    use lanyard_x509::{
        Bundle, BundleSet, CaParams, KeyPair, KeyType, SigningCa, Subject, SvidParams,
        self_signed_ca,
    };
    use tokio::net::{TcpListener, TcpStream};
    use tokio_rustls::{TlsAcceptor, TlsConnector};

    use super::*;
    use crate::Identity;

    const ID: &str = "spiffe://pay.example/lanyard/server";

    /// A trust domain's bundle and an identity holding an SVID for `ID` with DNS name
    /// `localhost`.
    fn svid() -> (Bundle, Identity) {
        let td = TrustDomain::new("pay.example").unwrap();
        let key = KeyPair::generate(KeyType::EcP256).unwrap();
        let now = SystemTime::now();
        let params = CaParams {
            trust_domain: td.clone(),
            subject: Subject {
                country: None,
                organization: Some("Lanyard Test".into()),
                common_name: None,
            },
            not_before: now - Duration::from_secs(60),
            not_after: now + Duration::from_secs(3600),
            path_len: None,
        };
        let cert = self_signed_ca(&params, &key).unwrap();
        let mut bundle = Bundle::new(td);
        bundle.add_x509_authority(cert.clone());
        let ca = SigningCa::new(cert, key, vec![]).unwrap();
        let leaf_key = KeyPair::generate(KeyType::EcP256).unwrap();
        let issued = ca
            .issue_x509_svid(
                &leaf_key.public_key_spki_der(),
                &SvidParams {
                    spiffe_id: SpiffeId::parse(ID).unwrap(),
                    dns_names: vec!["localhost".into()],
                    not_before: now,
                    not_after: now + Duration::from_secs(600),
                    backdate: Duration::from_secs(10),
                },
            )
            .unwrap();
        let chain: Vec<Vec<u8>> = issued.chain.into_iter().map(|c| c.into_vec()).collect();
        let identity = Identity::new();
        identity.set(&chain, leaf_key.pkcs8_der()).unwrap();
        (bundle, identity)
    }

    /// Handshakes `client` with a bundle endpoint server presenting `identity`, for `name`.
    async fn handshake(
        identity: Identity,
        client: Arc<rustls::ClientConfig>,
        name: &str,
    ) -> Result<(rustls::ProtocolVersion, Option<Vec<u8>>), std::io::Error> {
        let server = bundle_endpoint_server_config(Arc::new(identity)).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let _ = TlsAcceptor::from(server).accept(tcp).await;
        });
        let tcp = TcpStream::connect(addr).await.unwrap();
        let tls = TlsConnector::from(client)
            .connect(ServerName::try_from(name.to_owned()).unwrap(), tcp)
            .await?;
        let conn = tls.get_ref().1;
        Ok((
            conn.protocol_version().unwrap(),
            conn.alpn_protocol().map(<[u8]>::to_vec),
        ))
    }

    fn trust(bundle: &Bundle) -> TrustStore {
        TrustStore::new([bundle.clone()].into_iter().collect::<BundleSet>())
    }

    #[tokio::test]
    async fn https_spiffe_accepts_the_pinned_id_only() {
        let (bundle, identity) = svid();
        let client =
            spiffe_endpoint_client_config(trust(&bundle), SpiffeId::parse(ID).unwrap()).unwrap();
        let (version, alpn) = handshake(identity.clone(), client, "any-name")
            .await
            .unwrap();
        assert_eq!(version, rustls::ProtocolVersion::TLSv1_3);
        assert_eq!(alpn.as_deref(), Some(ALPN_HTTP1));

        let other = SpiffeId::parse("spiffe://pay.example/other").unwrap();
        let client = spiffe_endpoint_client_config(trust(&bundle), other.clone()).unwrap();
        let e = handshake(identity, client, "any-name").await.unwrap_err();
        assert_eq!(
            PeerRejected::find(&e),
            Some(&PeerRejected::UnexpectedServerId {
                presented: SpiffeId::parse(ID).unwrap(),
                expected: other,
            })
        );
    }

    #[tokio::test]
    async fn the_server_speaks_tls_1_2_too() {
        let (bundle, identity) = svid();
        let mut config = rustls::ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS12])
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(SpiffeServerVerifier::new(
                trust(&bundle),
                SpiffeId::parse(ID).unwrap(),
            )))
            .with_no_client_auth();
        config.alpn_protocols = vec![ALPN_HTTP1.to_vec()];
        let (version, _) = handshake(identity, Arc::new(config), "x").await.unwrap();
        assert_eq!(version, rustls::ProtocolVersion::TLSv1_2);
    }

    #[tokio::test]
    async fn https_web_checks_the_name_and_hints_at_https_spiffe_for_an_svid() {
        let (bundle, identity) = svid();
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(
                bundle.x509_authorities[0].as_bytes().to_vec(),
            ))
            .unwrap();
        let client = web_pki_client_config(roots).unwrap();
        // The SVID names localhost as a DNS SAN: a valid Web PKI certificate for it.
        handshake(identity.clone(), client.clone(), "localhost")
            .await
            .unwrap();
        let e = handshake(identity, client, "bundle.pay.example")
            .await
            .unwrap_err();
        let rejected = PeerRejected::find(&e).unwrap();
        assert!(
            matches!(rejected, PeerRejected::SvidOnWebPki { name, presented, .. }
                if name == "bundle.pay.example" && presented.as_str() == ID),
            "{rejected}"
        );
        assert!(rejected.to_string().contains("https_spiffe"));
    }
}
