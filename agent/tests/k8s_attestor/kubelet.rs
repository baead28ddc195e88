//! A fake kubelet: real HTTPS over TCP on 127.0.0.1:0 (rustls, certificates minted with rcgen at
//! test time), answering `GET /pods` with scripted responses and recording every request.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use lanyard_agent::workload::attestor::KubeletUrl;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// A CA and a serving certificate it signed for some names.
pub(crate) struct Pki {
    /// The CA certificate, PEM.
    pub(crate) ca_pem: String,
    cert: CertificateDer<'static>,
    key: Vec<u8>,
}

impl Pki {
    /// A fresh CA and a kubelet serving certificate for `names` (DNS names or IP addresses).
    pub(crate) fn new(names: &[&str]) -> Pki {
        Pki::with_ca_name("fake-kubelet-ca", names)
    }

    /// The same, with the CA's common name `ca_name`.
    pub(crate) fn with_ca_name(ca_name: &str, names: &[&str]) -> Pki {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, ca_name);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);

        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, "node-1");
        let cert = params.signed_by(&key, &issuer).unwrap();
        Pki {
            ca_pem: ca_cert.pem(),
            cert: cert.der().clone(),
            key: key.serialize_der(),
        }
    }
}

/// One request the fake kubelet received.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) authorization: Option<String>,
    pub(crate) host: Option<String>,
}

#[derive(Default)]
struct Script {
    /// Served in order; the last one is repeated.
    responses: VecDeque<(u16, String)>,
    requests: Vec<Recorded>,
}

/// The running fake kubelet; stops when dropped.
pub(crate) struct FakeKubelet {
    /// Where it listens (`https://127.0.0.1:<port>`).
    pub(crate) url: KubeletUrl,
    script: Arc<Mutex<Script>>,
    task: JoinHandle<()>,
}

impl Drop for FakeKubelet {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeKubelet {
    /// Starts serving with `pki`'s certificate; answers 200 with `body` until told otherwise.
    pub(crate) async fn start(pki: &Pki, body: &str) -> FakeKubelet {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![pki.cert.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.key.clone())),
            )
            .unwrap();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let script = Arc::new(Mutex::new(Script::default()));
        script
            .lock()
            .unwrap()
            .responses
            .push_back((200, body.to_owned()));

        let shared = Arc::clone(&script);
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let script = Arc::clone(&shared);
                tokio::spawn(async move {
                    // A client that refuses our certificate ends the connection here.
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = service_fn(move |req| answer(Arc::clone(&script), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        FakeKubelet {
            url: KubeletUrl::parse(&format!("https://127.0.0.1:{port}")).unwrap(),
            script,
            task,
        }
    }

    /// From now on, answer with these in order, then keep answering with the last.
    pub(crate) fn respond(&self, responses: Vec<(u16, String)>) {
        assert!(!responses.is_empty());
        self.script.lock().unwrap().responses = responses.into();
    }

    /// The requests received so far.
    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.script.lock().unwrap().requests.clone()
    }
}

async fn answer(
    script: Arc<Mutex<Script>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let header = |name| {
        req.headers()
            .get(name)
            .map(|v: &hyper::header::HeaderValue| v.to_str().unwrap().to_owned())
    };
    let recorded = Recorded {
        method: req.method().to_string(),
        path: req.uri().path().to_owned(),
        authorization: header(hyper::header::AUTHORIZATION),
        host: header(hyper::header::HOST),
    };
    let (status, body) = {
        let mut script = script.lock().unwrap();
        script.requests.push(recorded);
        if script.responses.len() > 1 {
            script.responses.pop_front().unwrap()
        } else {
            script.responses.front().unwrap().clone()
        }
    };
    Ok(Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap())
}
