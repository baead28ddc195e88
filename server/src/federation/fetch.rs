//! Fetching a foreign trust domain's bundle from its bundle endpoint (SPIFFE_Federation §5),
//! bounded in time and bytes: the endpoint is another organisation's server, and what it sends
//! is hostile until it parses as a bundle.
//!
//! One [`fetch`] is one `GET` over a fresh HTTP/1.1 connection, following at most
//! [`FetchLimits::max_redirects`] redirects (§5.2.1.3 / §5.2.2.3: servers MAY redirect; §5.2.2.4:
//! a client follows them with the same SPIFFE ID check and never stores them). The TLS config
//! decides the profile: [`lanyard_tls::spiffe_endpoint_client_config`] for `https_spiffe`,
//! [`lanyard_tls::web_pki_client_config`] for `https_web`; redirects reuse it.
//!
//! Bounds: the whole fetch (resolve, connect, handshake, request, headers, body, every redirect)
//! ends after [`FetchLimits::fetch_timeout`]; response heads are read into at most 16 KiB; a body
//! larger than [`FetchLimits::max_body`] is refused, by its `Content-Length` before a byte of it
//! is read, or when the streamed bytes pass the limit.

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper::header::{ACCEPT, CONTENT_LENGTH, HOST, LOCATION, USER_AGENT};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use lanyard_id::{SpiffeId, TrustDomain};
use lanyard_tls::PeerRejected;
use lanyard_x509::{Bundle, BundleError, CertDer};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CertificateError, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::url::EndpointUrl;

/// How much one fetch may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchLimits {
    /// The whole fetch, redirects included.
    pub fetch_timeout: Duration,
    /// The largest body accepted, in bytes.
    pub max_body: usize,
    /// Redirects followed before giving up.
    pub max_redirects: u32,
}

impl Default for FetchLimits {
    fn default() -> Self {
        Self {
            fetch_timeout: Duration::from_secs(15),
            max_body: 1024 * 1024,
            max_redirects: 3,
        }
    }
}

/// The largest response head (status line and headers) read.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// How much of an error response's body is quoted.
const ERROR_BODY_PREVIEW: usize = 256;

/// A fetched bundle.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The bundle, for the trust domain the fetch was made for (never inferred from the URL,
    /// SPIFFE_Federation §7.2).
    pub bundle: Bundle,
    /// The certificates the endpoint presented (leaf first), after the TLS config verified them:
    /// for a self-serving `https_spiffe` endpoint the refresher checks them against the new
    /// bundle before storing it.
    pub peer_chain: Vec<CertDer>,
    /// The URL the bundle came from (after redirects).
    pub url: EndpointUrl,
}

/// Why a fetch failed: the URL (the configured one, and the redirect target if it failed
/// there), the trust domain and the [`FetchFailure`].
#[derive(Debug)]
pub struct FetchError {
    /// The configured endpoint URL.
    pub url: EndpointUrl,
    /// The URL a redirect led to, when the failure happened there.
    pub redirected_to: Option<EndpointUrl>,
    /// The trust domain whose bundle was fetched.
    pub trust_domain: TrustDomain,
    /// What went wrong.
    pub failure: FetchFailure,
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "fetching the bundle of {} from {}",
            self.trust_domain, self.url
        )?;
        if let Some(to) = &self.redirected_to {
            write!(f, " (redirected to {to})")?;
        }
        write!(f, ": {}", self.failure)
    }
}

impl std::error::Error for FetchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.failure {
            FetchFailure::NotABundle(e) => Some(e),
            _ => None,
        }
    }
}

/// What went wrong in a fetch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchFailure {
    /// No TCP connection (name resolution or connect).
    #[error("cannot connect: {reason}")]
    Connect {
        /// Why.
        reason: String,
    },
    /// The TLS handshake failed.
    #[error("TLS handshake failed: {0}")]
    Tls(TlsFailure),
    /// The HTTP exchange failed after the handshake.
    #[error("HTTP exchange failed: {reason}")]
    Http {
        /// Why.
        reason: String,
    },
    /// The endpoint answered with another status than 200 (or a redirect).
    #[error("the endpoint answered HTTP {status}{}", preview(body))]
    Status {
        /// The status code.
        status: u16,
        /// At most 256 printable bytes of the body.
        body: String,
    },
    /// The body is larger than the limit.
    #[error("{} larger than the limit of {limit} bytes", match content_length {
        Some(n) => format!("the body ({n} bytes, by its Content-Length) is"),
        None => "the body is".to_owned(),
    })]
    BodyTooLarge {
        /// The limit.
        limit: usize,
        /// The `Content-Length` the endpoint announced, when it was over the limit.
        content_length: Option<u64>,
    },
    /// A redirect that cannot be followed.
    #[error("redirect not followed: {reason}")]
    Redirect {
        /// Why.
        reason: String,
    },
    /// The body is not a SPIFFE bundle.
    #[error("not a SPIFFE bundle: {0}")]
    NotABundle(BundleError),
    /// The fetch did not finish in time.
    #[error("no complete answer within {after:?}")]
    TimedOut {
        /// The limit.
        after: Duration,
    },
}

fn preview(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body:?}")
    }
}

/// Why the endpoint's certificate was refused, or the handshake failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsFailure {
    /// `https_web`: the certificate is not valid for the URL's host.
    #[error(
        "the endpoint's certificate is not valid for {name}: {reason} (the URL's host must be a DNS name or IP address the certificate names)"
    )]
    NameMismatch {
        /// The host checked.
        name: String,
        /// rustls's error.
        reason: String,
    },
    /// `https_web`: the certificate is an X.509-SVID that does not name the host; the endpoint
    /// speaks `https_spiffe`.
    #[error("{0}")]
    UseHttpsSpiffe(String),
    /// The certificate chains to no authority we trust for it.
    #[error(
        "the endpoint's certificate is signed by an authority we do not trust ({reason}): for https_web add its CA to the trusted roots; for https_spiffe check the endpoint trust domain's bundle (bootstrap bundle or `bundle set`)"
    )]
    UnknownIssuer {
        /// The verifier's error.
        reason: String,
    },
    /// `https_spiffe`: a valid X.509-SVID, of another SPIFFE ID than the configured one.
    #[error(
        "the endpoint presented SPIFFE ID {presented}, not the configured endpoint SPIFFE ID {expected}"
    )]
    UnexpectedSpiffeId {
        /// The ID presented.
        presented: SpiffeId,
        /// The ID configured.
        expected: SpiffeId,
    },
    /// `https_spiffe`: the certificate is not a valid X.509-SVID.
    #[error("the endpoint's certificate is not a valid X.509-SVID: {reason}")]
    InvalidSvid {
        /// The verifier's error.
        reason: String,
    },
    /// Anything else (protocol error, no common version or cipher suite, closed connection).
    #[error("{reason}")]
    Other {
        /// The error.
        reason: String,
    },
}

/// The roots `https_web` endpoints are verified against (SPIFFE_Federation §5.2.1.4: "locally
/// trusted" CAs): the CA certificates of the PEM file `ca_file` when one is configured, else the
/// system's (`SSL_CERT_FILE` / `SSL_CERT_DIR` when set). Read once, at start.
pub fn web_roots(ca_file: Option<&Path>) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let text = std::fs::read(path).map_err(|e| {
                format!("{}: cannot read the https_web CA file: {e}", path.display())
            })?;
            let certs = lanyard_x509::certificates_from_pem(&text)
                .map_err(|e| format!("{}: not PEM CA certificates: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(format!("{}: holds no CERTIFICATE block", path.display()));
            }
            for cert in certs {
                roots
                    .add(CertificateDer::from(cert.into_vec()))
                    .map_err(|e| format!("{}: not a usable CA certificate: {e}", path.display()))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for e in &found.errors {
                tracing::warn!(error = %e, "a system CA certificate could not be loaded");
            }
            let (added, _ignored) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(
                    "no system CA certificates found for https_web bundle endpoints: install the system CA bundle or set the https_web CA file"
                        .to_owned(),
                );
            }
        }
    }
    Ok(roots)
}

/// What one request got.
enum Step {
    Body {
        body: Bytes,
        peer_chain: Vec<CertDer>,
    },
    Redirect(String),
}

/// Fetches `trust_domain`'s bundle from `url` with `tls` (which decides the profile), within
/// `limits`.
pub async fn fetch(
    url: &EndpointUrl,
    tls: Arc<rustls::ClientConfig>,
    trust_domain: &TrustDomain,
    limits: &FetchLimits,
) -> Result<Fetched, FetchError> {
    let error = |redirected_to: Option<EndpointUrl>, failure| FetchError {
        url: url.clone(),
        redirected_to,
        trust_domain: trust_domain.clone(),
        failure,
    };
    let connector = TlsConnector::from(tls);
    let follow = async {
        let mut current = url.clone();
        let mut redirects = 0;
        loop {
            let step = get_once(&current, &connector, limits).await;
            let at = (current != *url).then(|| current.clone());
            match step {
                Ok(Step::Body { body, peer_chain }) => {
                    return Bundle::from_jwks_json(trust_domain.clone(), &body)
                        .map(|bundle| Fetched {
                            bundle,
                            peer_chain,
                            url: current,
                        })
                        .map_err(|e| error(at, FetchFailure::NotABundle(e)));
                }
                Ok(Step::Redirect(location)) => {
                    if redirects >= limits.max_redirects {
                        return Err(error(
                            at,
                            FetchFailure::Redirect {
                                reason: format!(
                                    "more than {} redirects (next: {location:?})",
                                    limits.max_redirects
                                ),
                            },
                        ));
                    }
                    redirects += 1;
                    current = current.join(&location).map_err(|reason| {
                        error(
                            at.clone(),
                            FetchFailure::Redirect {
                                reason: format!("to {location:?}: {reason}"),
                            },
                        )
                    })?;
                }
                Err(failure) => return Err(error(at, failure)),
            }
        }
    };
    match tokio::time::timeout(limits.fetch_timeout, follow).await {
        Ok(result) => result,
        Err(_) => Err(error(
            None,
            FetchFailure::TimedOut {
                after: limits.fetch_timeout,
            },
        )),
    }
}

/// One `GET` on a new connection.
async fn get_once(
    url: &EndpointUrl,
    connector: &TlsConnector,
    limits: &FetchLimits,
) -> Result<Step, FetchFailure> {
    let name = ServerName::try_from(url.host().to_owned()).map_err(|e| FetchFailure::Connect {
        reason: format!("{:?} is not a DNS name or IP address: {e}", url.host()),
    })?;
    let tcp = TcpStream::connect((url.host(), url.port()))
        .await
        .map_err(|e| FetchFailure::Connect {
            reason: e.to_string(),
        })?;
    let _ = tcp.set_nodelay(true);
    let tls = connector
        .connect(name, tcp)
        .await
        .map_err(|e| FetchFailure::Tls(classify_tls(url, &e)))?;
    let peer_chain: Vec<CertDer> = tls
        .get_ref()
        .1
        .peer_certificates()
        .unwrap_or_default()
        .iter()
        .filter_map(|c| CertDer::from_der(c.to_vec()).ok())
        .collect();

    let http_error = |e: hyper::Error| FetchFailure::Http {
        reason: e.to_string(),
    };
    let (mut sender, connection) = hyper::client::conn::http1::Builder::new()
        .max_buf_size(MAX_HEAD_BYTES)
        .handshake(TokioIo::new(tls))
        .await
        .map_err(http_error)?;
    let request = Request::get(url.path_and_query())
        .header(HOST, url.authority())
        .header(ACCEPT, "application/json")
        .header(
            USER_AGENT,
            concat!("lanyard-server/", env!("CARGO_PKG_VERSION")),
        )
        .body(Empty::<Bytes>::new())
        .map_err(|e| FetchFailure::Http {
            reason: e.to_string(),
        })?;
    let max_body = limits.max_body;
    let exchange = async move {
        let response = sender.send_request(request).await.map_err(http_error)?;
        let status = response.status();
        if status == StatusCode::OK {
            let declared = response
                .headers()
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            if let Some(n) = declared
                && n > max_body as u64
            {
                return Err(FetchFailure::BodyTooLarge {
                    limit: max_body,
                    content_length: Some(n),
                });
            }
            let body = Limited::new(response.into_body(), max_body)
                .collect()
                .await
                .map_err(|e| {
                    if e.downcast_ref::<http_body_util::LengthLimitError>()
                        .is_some()
                    {
                        FetchFailure::BodyTooLarge {
                            limit: max_body,
                            content_length: None,
                        }
                    } else {
                        FetchFailure::Http {
                            reason: format!("reading the body: {e}"),
                        }
                    }
                })?
                .to_bytes();
            return Ok(Step::Body { body, peer_chain });
        }
        if matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| FetchFailure::Redirect {
                    reason: format!(
                        "HTTP {} without a readable Location header",
                        status.as_u16()
                    ),
                })?;
            return Ok(Step::Redirect(location.to_owned()));
        }
        let body = read_preview(response.into_body()).await;
        Err(FetchFailure::Status {
            status: status.as_u16(),
            body,
        })
    };
    tokio::pin!(exchange);
    // The connection future drives the socket; it ends first only when the peer hangs up or
    // the protocol fails.
    tokio::select! {
        result = &mut exchange => result,
        closed = connection => match closed {
            Ok(()) => exchange.await,
            Err(e) => Err(http_error(e)),
        },
    }
}

/// At most [`ERROR_BODY_PREVIEW`] bytes of an error body, printable ASCII only (whitespace
/// becomes a space, anything else `.`), read for at most a second: the status is the news, the body a hint.
async fn read_preview(mut body: hyper::body::Incoming) -> String {
    let mut bytes = Vec::new();
    let read = async {
        while bytes.len() < ERROR_BODY_PREVIEW {
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        bytes.extend_from_slice(data);
                    }
                }
                _ => break,
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), read).await;
    bytes.truncate(ERROR_BODY_PREVIEW);
    let text: String = bytes
        .iter()
        .map(|&b| match b {
            b' ' | b'\t' | b'\r' | b'\n' => ' ',
            b if b.is_ascii_graphic() => b as char,
            _ => '.',
        })
        .collect();
    text.trim().to_owned()
}

/// Names the cause of a failed handshake.
fn classify_tls(url: &EndpointUrl, error: &io::Error) -> TlsFailure {
    if let Some(rejected) = PeerRejected::find(error) {
        return match rejected {
            PeerRejected::UnexpectedServerId {
                presented,
                expected,
            } => TlsFailure::UnexpectedSpiffeId {
                presented: presented.clone(),
                expected: expected.clone(),
            },
            PeerRejected::SvidOnWebPki { .. } => TlsFailure::UseHttpsSpiffe(rejected.to_string()),
            r if r.is_unknown_issuer() => TlsFailure::UnknownIssuer {
                reason: r.to_string(),
            },
            r => TlsFailure::InvalidSvid {
                reason: r.to_string(),
            },
        };
    }
    let rustls_error = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match rustls_error {
        Some(rustls::Error::InvalidCertificate(
            e @ (CertificateError::UnknownIssuer | CertificateError::BadSignature),
        )) => TlsFailure::UnknownIssuer {
            reason: e.to_string(),
        },
        Some(rustls::Error::InvalidCertificate(
            e @ (CertificateError::NotValidForName
            | CertificateError::NotValidForNameContext { .. }),
        )) => TlsFailure::NameMismatch {
            name: url.host().to_owned(),
            reason: e.to_string(),
        },
        _ => TlsFailure::Other {
            reason: error.to_string(),
        },
    }
}

#[cfg(test)]
#[path = "fetch_tests.rs"]
mod tests;
