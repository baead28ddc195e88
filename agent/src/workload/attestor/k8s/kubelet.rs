//! The kubelet's pod list: `GET https://<kubelet>/pods`, authenticated with the agent's
//! service-account token, over rustls (ring), one short-lived HTTP/1.1 connection per fetch.
//!
//! The kubelet authorizes `/pods` as `get` on the `nodes/proxy` subresource, so the agent's
//! service account needs that permission. The token is read from its file on every fetch:
//! projected service-account tokens are rotated by the kubelet in place.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper::header::{ACCEPT, AUTHORIZATION, HOST, HeaderValue};
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CertificateError, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::pods::PodList;

/// How long one fetch (connect, handshake, request, body) may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// A node runs at most a few hundred pods of a few kB each; anything far bigger is not a pod list.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// The kubelet's HTTPS endpoint, e.g. `https://127.0.0.1:10250`: scheme, host and port only.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct KubeletUrl {
    host: String,
    port: u16,
}

impl KubeletUrl {
    /// Parses `https://<host>:<port>`, refusing anything else with a message saying what to write.
    pub fn parse(text: &str) -> Result<KubeletUrl, String> {
        let uri: Uri = text
            .parse()
            .map_err(|e| format!("{text:?} is not a URL ({e}): write https://<host>:10250"))?;
        match uri.scheme_str() {
            Some("https") => {}
            Some("http") => {
                return Err(format!(
                    "{text:?}: plain http is refused (the kubelet's read-only port is deprecated and unauthenticated): use https://<host>:10250"
                ));
            }
            _ => return Err(format!("{text:?} must start with https://")),
        }
        let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
        if authority.contains('@') {
            return Err(format!(
                "{text:?} must not carry credentials: the agent sends its service-account token (token_path)"
            ));
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(format!(
                "{text:?} must not have a path or query: the agent requests /pods itself"
            ));
        }
        let host = uri
            .host()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| format!("{text:?} has no host"))?;
        let port = uri.port_u16().ok_or_else(|| {
            format!("{text:?} has no port: add the kubelet's port, usually :10250")
        })?;
        // Uri keeps IPv6 literals bracketed; connecting and TLS want them bare.
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        Ok(KubeletUrl { host, port })
    }

    /// The host (DNS name or IP address, IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl Default for KubeletUrl {
    fn default() -> Self {
        KubeletUrl {
            host: "127.0.0.1".to_owned(),
            port: 10250,
        }
    }
}

impl TryFrom<String> for KubeletUrl {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        KubeletUrl::parse(&text)
    }
}

impl std::fmt::Display for KubeletUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "https://{}", self.authority())
    }
}

/// How the kubelet's serving certificate is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeletVerification {
    /// Against the CA certificates in this PEM file, for the TLS server name.
    CaFile(PathBuf),
    /// Not at all (the handshake signature still is). Anyone who can intercept the connection can
    /// then feed the agent a pod list and have it hand out any pod's identity.
    SkipVerify,
}

/// Why the kubelet's pod list could not be had. Clone, so that callers that waited on the same
/// fetch all get its error.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum KubeletError {
    /// The CA file could not be used.
    #[error("kubelet_ca_path {}: {reason}", path.display())]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What was wrong and what to do.
        reason: String,
    },
    /// The name the kubelet's certificate is checked for is not a DNS name or IP address.
    #[error("{name:?} cannot be checked against the kubelet's certificate: {reason}")]
    ServerName {
        /// The name (`node_name` or the host of `kubelet_url`).
        name: String,
        /// Why.
        reason: String,
    },
    /// The service-account token could not be read.
    #[error("token_path {}: {reason}", path.display())]
    Token {
        /// The file.
        path: PathBuf,
        /// What was wrong and what to do.
        reason: String,
    },
    /// No TCP connection.
    #[error("cannot connect to the kubelet at {url}: {reason}")]
    Connect {
        /// The kubelet.
        url: String,
        /// Why.
        reason: String,
    },
    /// The TLS handshake failed, most often because the kubelet's certificate did not verify.
    #[error("TLS handshake with the kubelet at {url} failed: {reason}")]
    Tls {
        /// The kubelet.
        url: String,
        /// Why, and what to do.
        reason: String,
    },
    /// The kubelet answered with an error status.
    #[error("the kubelet at {url} answered GET /pods with HTTP {status}: {reason}")]
    Status {
        /// The kubelet.
        url: String,
        /// The HTTP status.
        status: u16,
        /// What it means and the start of the body.
        reason: String,
    },
    /// The HTTP exchange failed after the handshake.
    #[error("GET /pods from the kubelet at {url} failed: {reason}")]
    Http {
        /// The kubelet.
        url: String,
        /// Why.
        reason: String,
    },
    /// The body is not a pod list.
    #[error("the kubelet at {url} sent a /pods body that is not a PodList: {reason}")]
    Json {
        /// The kubelet.
        url: String,
        /// The parse error (with line and column).
        reason: String,
    },
    /// The whole fetch took too long.
    #[error("the kubelet at {url} did not answer GET /pods within {after:?}")]
    Timeout {
        /// The kubelet.
        url: String,
        /// The limit.
        after: Duration,
    },
}

/// Fetches the pod list from one kubelet.
#[derive(Clone)]
pub(crate) struct KubeletClient {
    url: KubeletUrl,
    server_name: ServerName<'static>,
    connector: TlsConnector,
    verification: KubeletVerification,
    token_path: PathBuf,
}

impl std::fmt::Debug for KubeletClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeletClient")
            .field("url", &self.url.to_string())
            .field("server_name", &self.server_name)
            .field("verification", &self.verification)
            .field("token_path", &self.token_path)
            .finish()
    }
}

impl KubeletClient {
    /// A client for `url` whose certificate must name `tls_name` (unless verification is
    /// skipped). Reads the CA file and checks the token file now, so that a wrong path stops the
    /// agent at start rather than failing every attestation.
    pub(crate) fn new(
        url: KubeletUrl,
        tls_name: &str,
        verification: KubeletVerification,
        token_path: PathBuf,
    ) -> Result<KubeletClient, KubeletError> {
        let server_name =
            ServerName::try_from(tls_name.to_owned()).map_err(|e| KubeletError::ServerName {
                name: tls_name.to_owned(),
                reason: e.to_string(),
            })?;
        let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| KubeletError::Tls {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        let mut config = match &verification {
            KubeletVerification::CaFile(path) => builder
                .with_root_certificates(load_roots(path)?)
                .with_no_client_auth(),
            KubeletVerification::SkipVerify => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(
                    lanyard_tls::InsecureServerVerifier::new(),
                ))
                .with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        read_token_blocking(&token_path)?;
        Ok(KubeletClient {
            url,
            server_name,
            connector: TlsConnector::from(Arc::new(config)),
            verification,
            token_path,
        })
    }

    /// `GET /pods`, parsed.
    pub(crate) async fn fetch_pods(&self) -> Result<PodList, KubeletError> {
        tokio::time::timeout(FETCH_TIMEOUT, self.fetch_pods_inner())
            .await
            .map_err(|_| KubeletError::Timeout {
                url: self.url.to_string(),
                after: FETCH_TIMEOUT,
            })?
    }

    async fn fetch_pods_inner(&self) -> Result<PodList, KubeletError> {
        let url = || self.url.to_string();
        let token = read_token(&self.token_path).await?;
        let mut bearer =
            HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| KubeletError::Token {
                path: self.token_path.clone(),
                reason: "holds characters a token cannot have (is it a token file?)".into(),
            })?;
        bearer.set_sensitive(true);

        let tcp = TcpStream::connect((self.url.host(), self.url.port()))
            .await
            .map_err(|e| KubeletError::Connect {
                url: url(),
                reason: e.to_string(),
            })?;
        let tls = self
            .connector
            .connect(self.server_name.clone(), tcp)
            .await
            .map_err(|e| self.tls_error(&e))?;
        let http_error = |e: hyper::Error| KubeletError::Http {
            url: url(),
            reason: e.to_string(),
        };
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(http_error)?;
        let request = Request::get("/pods")
            .header(HOST, self.url.authority())
            .header(ACCEPT, "application/json")
            .header(AUTHORIZATION, bearer)
            .body(Empty::<Bytes>::new())
            .map_err(|e| KubeletError::Http {
                url: url(),
                reason: e.to_string(),
            })?;
        let exchange = async {
            let response = sender.send_request(request).await.map_err(http_error)?;
            let status = response.status();
            let body = Limited::new(response.into_body(), MAX_BODY_BYTES)
                .collect()
                .await
                .map_err(|e| KubeletError::Http {
                    url: url(),
                    reason: format!("reading the body: {e}"),
                })?
                .to_bytes();
            Ok::<_, KubeletError>((status, body))
        };
        // The connection future drives the socket; it only ends first if the kubelet hangs up.
        let (status, body) = tokio::select! {
            result = exchange => result?,
            closed = connection => {
                return Err(KubeletError::Http {
                    url: url(),
                    reason: match closed {
                        Ok(()) => "the kubelet closed the connection before answering".into(),
                        Err(e) => e.to_string(),
                    },
                });
            }
        };
        if !status.is_success() {
            return Err(KubeletError::Status {
                url: url(),
                status: status.as_u16(),
                reason: status_hint(status.as_u16(), &body),
            });
        }
        serde_json::from_slice(&body).map_err(|e| KubeletError::Json {
            url: url(),
            reason: e.to_string(),
        })
    }

    fn tls_error(&self, error: &std::io::Error) -> KubeletError {
        let rustls_error = error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
        let name = self.server_name.to_str();
        let reason = match (rustls_error, &self.verification) {
            (
                // Another CA, or one with the same name but another key (every kubeadm cluster CA is
                // CN=kubernetes).
                Some(rustls::Error::InvalidCertificate(
                    CertificateError::UnknownIssuer | CertificateError::BadSignature,
                )),
                KubeletVerification::CaFile(path),
            ) => format!(
                "the kubelet's certificate is not signed by a CA in kubelet_ca_path {}: point kubelet_ca_path at the CA that signs kubelet serving certificates (a kubelet with a self-signed serving certificate needs serverTLSBootstrap: true; kubelet_skip_verify = true is the insecure last resort)",
                path.display()
            ),
            (
                Some(rustls::Error::InvalidCertificate(
                    CertificateError::NotValidForName
                    | CertificateError::NotValidForNameContext { .. },
                )),
                _,
            ) => format!(
                "the kubelet's certificate is not valid for {name:?}: set node_name (or the variable node_name_env names) to a name the certificate carries, usually the node's name ({error})"
            ),
            _ => error.to_string(),
        };
        KubeletError::Tls {
            url: self.url.to_string(),
            reason,
        }
    }
}

fn load_roots(path: &Path) -> Result<RootCertStore, KubeletError> {
    let ca_error = |reason: String| KubeletError::CaFile {
        path: path.to_path_buf(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| {
        ca_error(format!(
            "{e}: mount the CA that signs kubelet serving certificates there, or set kubelet_ca_path"
        ))
    })?;
    let certs = lanyard_x509::certificates_from_pem(&pem).map_err(|e| ca_error(e.to_string()))?;
    if certs.is_empty() {
        return Err(ca_error("holds no CERTIFICATE block".into()));
    }
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots
            .add(CertificateDer::from(cert.into_vec()))
            .map_err(|e| ca_error(format!("not a usable CA certificate: {e}")))?;
    }
    Ok(roots)
}

fn check_token(path: &Path, text: std::io::Result<String>) -> Result<String, KubeletError> {
    let token_error = |reason: String| KubeletError::Token {
        path: path.to_path_buf(),
        reason,
    };
    let text = text.map_err(|e| {
        token_error(format!(
            "{e}: the agent's pod needs its service-account token mounted there (automountServiceAccountToken), or set token_path"
        ))
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(token_error("is empty".into()));
    }
    Ok(token.to_owned())
}

fn read_token_blocking(path: &Path) -> Result<String, KubeletError> {
    check_token(path, std::fs::read_to_string(path))
}

async fn read_token(path: &Path) -> Result<String, KubeletError> {
    check_token(path, tokio::fs::read_to_string(path).await)
}

/// What an error status from the kubelet means for the operator, and the start of its body.
fn status_hint(status: u16, body: &[u8]) -> String {
    let excerpt: String = String::from_utf8_lossy(&body[..body.len().min(200)])
        .trim()
        .to_owned();
    let hint = match status {
        401 => {
            "the kubelet did not accept the service-account token (expired, or not a token of this cluster); "
        }
        403 => {
            "the agent's service account may not read pods from the kubelet: grant it `get` on `nodes/proxy` (and `nodes`) in a ClusterRole; "
        }
        _ => "",
    };
    format!("{hint}body: {excerpt:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubelet_urls() {
        let url = KubeletUrl::parse("https://127.0.0.1:10250").unwrap();
        assert_eq!((url.host(), url.port()), ("127.0.0.1", 10250));
        assert_eq!(url, KubeletUrl::default());
        assert_eq!(url.to_string(), "https://127.0.0.1:10250");
        let url = KubeletUrl::parse("https://node-1.example:10250/").unwrap();
        assert_eq!(url.host(), "node-1.example");
        let url = KubeletUrl::parse("https://[::1]:10250").unwrap();
        assert_eq!(url.host(), "::1");
        assert_eq!(url.to_string(), "https://[::1]:10250");

        for (text, says) in [
            ("http://127.0.0.1:10255", "plain http"),
            ("127.0.0.1:10250", "https://"),
            ("https://127.0.0.1", "no port"),
            ("https://127.0.0.1:10250/pods", "path"),
            ("https://127.0.0.1:10250/?x=1", "query"),
            ("https://u:p@127.0.0.1:10250", "credentials"),
            ("https://exa mple:1", "not a URL"),
        ] {
            let err = KubeletUrl::parse(text).unwrap_err();
            assert!(err.contains(says), "{text}: {err}");
        }
    }

    #[test]
    fn status_hints_say_what_to_do() {
        assert!(
            status_hint(403, b"Forbidden (user=system:serviceaccount:x:y)").contains("nodes/proxy")
        );
        assert!(status_hint(401, b"Unauthorized").contains("token"));
        let long = vec![b'x'; 1000];
        assert!(status_hint(500, &long).len() < 300);
    }

    #[test]
    fn token_files_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let err = read_token_blocking(&missing).unwrap_err().to_string();
        assert!(
            err.contains("token_path") && err.contains("missing"),
            "{err}"
        );
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").unwrap();
        assert!(
            read_token_blocking(&empty)
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
        let good = dir.path().join("token");
        std::fs::write(&good, "abc.def.ghi\n").unwrap();
        assert_eq!(read_token_blocking(&good).unwrap(), "abc.def.ghi");
    }

    #[test]
    fn ca_files_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_roots(&dir.path().join("nope.crt"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("kubelet_ca_path") && err.contains("nope.crt"),
            "{err}"
        );
        let empty = dir.path().join("empty.crt");
        std::fs::write(&empty, "").unwrap();
        let err = load_roots(&empty).unwrap_err().to_string();
        assert!(err.contains("no CERTIFICATE"), "{err}");
    }
}
