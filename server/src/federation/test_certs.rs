//! Certificates minted at test time for the federation tests: a Web PKI CA (rcgen) with server
//! certificates for DNS names and IP addresses, and SPIFFE trust domains (lanyard-x509) with
//! X.509-SVIDs; plus a raw TLS server whose answers a test scripts byte by byte.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use lanyard_id::{SpiffeId, TrustDomain};
use lanyard_tls::Identity;
use lanyard_x509::{
    Bundle, CaParams, KeyPair, KeyType, SigningCa, Subject, SvidParams, self_signed_ca,
};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyUsagePurpose};
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A Web PKI certificate authority.
pub(super) struct WebCa {
    params: CertificateParams,
    key: rcgen::KeyPair,
    pub(super) der: Vec<u8>,
}

/// A server certificate chain and its key.
pub(super) struct WebCert {
    pub(super) chain: Vec<Vec<u8>>,
    pub(super) key_pkcs8: Vec<u8>,
    pub(super) cert_pem: String,
    pub(super) key_pem: String,
}

impl WebCa {
    pub(super) fn new(name: &str) -> WebCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = rcgen::KeyPair::generate().unwrap();
        let der = params.self_signed(&key).unwrap().der().to_vec();
        WebCa { params, key, der }
    }

    /// A server certificate for `names` (DNS names or IP addresses), valid for centuries (rcgen's
    /// default), or in 2020 only when `expired`.
    pub(super) fn issue(&self, names: &[&str], expired: bool) -> WebCert {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "bundle endpoint");
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let key = rcgen::KeyPair::generate().unwrap();
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).unwrap();
        WebCert {
            chain: vec![cert.der().to_vec()],
            key_pkcs8: key.serialize_der(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    pub(super) fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots.add(CertificateDer::from(self.der.clone())).unwrap();
        roots
    }
}

impl WebCert {
    pub(super) fn identity(&self) -> Identity {
        let identity = Identity::new();
        identity.set(&self.chain, &self.key_pkcs8).unwrap();
        identity
    }
}

/// A SPIFFE trust domain: its CA and bundle.
pub(super) struct Domain {
    pub(super) ca: SigningCa,
    pub(super) bundle: Bundle,
}

impl Domain {
    pub(super) fn new(td: &str) -> Domain {
        let td = TrustDomain::new(td).unwrap();
        let key = KeyPair::generate(KeyType::EcP256).unwrap();
        let now = SystemTime::now();
        let params = CaParams {
            trust_domain: td.clone(),
            subject: Subject {
                country: Some("US".into()),
                organization: Some("Lanyard Test".into()),
                common_name: Some(format!("{td} test CA")),
            },
            not_before: now - Duration::from_secs(60),
            not_after: now + Duration::from_secs(3600),
            path_len: None,
        };
        let cert = self_signed_ca(&params, &key).unwrap();
        let mut bundle = Bundle::new(td);
        bundle.add_x509_authority(cert.clone());
        Domain {
            ca: SigningCa::new(cert, key, vec![]).unwrap(),
            bundle,
        }
    }

    /// An identity holding an X.509-SVID for `id` with `dns_names`.
    pub(super) fn identity(&self, id: &str, dns_names: &[&str]) -> Identity {
        let key = KeyPair::generate(KeyType::EcP256).unwrap();
        let now = SystemTime::now();
        let svid = self
            .ca
            .issue_x509_svid(
                &key.public_key_spki_der(),
                &SvidParams {
                    spiffe_id: SpiffeId::parse(id).unwrap(),
                    dns_names: dns_names.iter().map(|n| (*n).to_owned()).collect(),
                    not_before: now,
                    not_after: now + Duration::from_secs(600),
                    backdate: Duration::from_secs(10),
                },
            )
            .unwrap();
        let chain: Vec<Vec<u8>> = svid.chain.into_iter().map(|c| c.into_vec()).collect();
        let identity = Identity::new();
        identity.set(&chain, key.pkcs8_der()).unwrap();
        identity
    }
}

/// What the raw server does with one connection.
#[derive(Clone)]
pub(super) enum Script {
    /// Never starts the TLS handshake.
    StallBeforeHandshake,
    /// Completes the handshake, then never answers.
    StallAfterHandshake,
    /// Reads the request head, writes these bytes, and closes.
    Answer(Arc<Vec<u8>>),
    /// Reads the request head, writes these bytes, and keeps the connection open forever.
    AnswerThenStall(Arc<Vec<u8>>),
}

/// An HTTP response with `status` and `body` (and a correct Content-Length).
pub(super) fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Script {
    let mut bytes = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        bytes.push_str(&format!("{name}: {value}\r\n"));
    }
    bytes.push_str("\r\n");
    let mut bytes = bytes.into_bytes();
    bytes.extend_from_slice(body);
    Script::Answer(Arc::new(bytes))
}

/// Starts a TLS server presenting `identity` that runs `script(i)` on its i-th connection;
/// returns its address.
pub(super) async fn raw_server(
    identity: Identity,
    script: impl Fn(usize) -> Script + Send + Sync + 'static,
) -> SocketAddr {
    let config = lanyard_tls::bundle_endpoint_server_config(Arc::new(identity)).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut i = 0;
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let step = script(i);
            let stall_at_end = matches!(step, Script::AnswerThenStall(_));
            i += 1;
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if matches!(step, Script::StallBeforeHandshake) {
                    std::future::pending::<()>().await;
                }
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let bytes = match step {
                    Script::StallBeforeHandshake | Script::StallAfterHandshake => {
                        std::future::pending::<()>().await;
                        return;
                    }
                    Script::Answer(b) | Script::AnswerThenStall(b) => b,
                };
                // Read up to the end of the request head.
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                if tls.write_all(&bytes).await.is_err() {
                    return;
                }
                let _ = tls.flush().await;
                if stall_at_end {
                    std::future::pending::<()>().await;
                }
                let _ = tls.shutdown().await;
            });
        }
    });
    addr
}
