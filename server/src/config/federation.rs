//! `[federation]`: serving this trust domain's bundle to others (`[federation.bundle_endpoint]`)
//! and fetching theirs (`[[federation.federates_with]]`, the refresher's bounds), SPIFFE
//! Federation §4–§6.
//!
//! Checked here: what the file alone decides (trust domains, URLs as the spec allows them, the
//! endpoint SPIFFE ID exactly for `https_spiffe`, durations). Files named here (certificate,
//! key, CA roots, bootstrap bundles) are read when the server starts, which names the file
//! that fails, so `check-config` on another machine does not need them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use lanyard_id::{SpiffeId, TrustDomain};
use serde::Deserialize;

use super::{ConfigError, ServerConfig};
use crate::federation::url::EndpointUrl;

/// `[federation]`. Absent: no bundle endpoint, no declared relationships, the refresher's
/// defaults for relationships created with the admin API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationConfig {
    /// The shortest delay between two fetches of one bundle endpoint, whatever its refresh hint
    /// says (and the first retry after a failure; later ones double up to the poll interval).
    #[serde(default = "default_refresh_floor", with = "humantime_serde")]
    pub refresh_floor: Duration,
    /// How long one whole fetch may take (connect, TLS, headers, body, redirects).
    #[serde(default = "default_fetch_timeout", with = "humantime_serde")]
    pub fetch_timeout: Duration,
    /// PEM CA certificates that `https_web` endpoints must chain to; unset: the system's
    /// (`SSL_CERT_FILE`/`SSL_CERT_DIR` when set).
    pub https_web_ca_path: Option<PathBuf>,
    /// `[federation.bundle_endpoint]`: serve this trust domain's bundle; off if absent.
    pub bundle_endpoint: Option<BundleEndpointConfig>,
    /// `[[federation.federates_with]]`: relationships declared here (changed only by editing
    /// this file; the admin API lists them but refuses to change them).
    #[serde(default)]
    pub federates_with: Vec<FederatesWithConfig>,
}

impl Default for FederationConfig {
    fn default() -> Self {
        Self {
            refresh_floor: default_refresh_floor(),
            fetch_timeout: default_fetch_timeout(),
            https_web_ca_path: None,
            bundle_endpoint: None,
            federates_with: Vec::new(),
        }
    }
}

/// How a bundle endpoint is authenticated (SPIFFE Federation §5.2), as the file names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileName {
    /// `https_web`: a Web PKI certificate for the URL's host.
    HttpsWeb,
    /// `https_spiffe`: an X.509-SVID of the endpoint's SPIFFE ID.
    HttpsSpiffe,
}

impl ProfileName {
    /// The datastore's form.
    pub fn profile(self) -> lanyard_datastore::EndpointProfile {
        match self {
            Self::HttpsWeb => lanyard_datastore::EndpointProfile::HttpsWeb,
            Self::HttpsSpiffe => lanyard_datastore::EndpointProfile::HttpsSpiffe,
        }
    }
}

/// `[federation.bundle_endpoint]`: the bundle endpoint server (its own listener).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleEndpointConfig {
    /// TCP address to listen on.
    #[serde(default = "default_endpoint_bind_address")]
    pub bind_address: SocketAddr,
    /// `https_spiffe` (the server's own X.509-SVID, renewed with it) or `https_web` (the
    /// certificate and key in `cert_path` and `key_path`).
    #[serde(default = "default_endpoint_profile")]
    pub profile: ProfileName,
    /// The HTTP path the bundle is served on.
    #[serde(default = "default_endpoint_path")]
    pub path: String,
    /// The `spiffe_refresh_hint` published: how often other trust domains should fetch.
    #[serde(default = "default_refresh_hint", with = "humantime_serde")]
    pub refresh_hint: Duration,
    /// `https_web`: the PEM certificate chain (leaf first).
    pub cert_path: Option<PathBuf>,
    /// `https_web`: the PEM private key of the certificate.
    pub key_path: Option<PathBuf>,
    /// `https_web`: how often the two files are checked for a change (a renewal).
    #[serde(default = "default_reload_interval", with = "humantime_serde")]
    pub reload_interval: Duration,
}

/// `[[federation.federates_with]]`: one relationship with a foreign trust domain.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederatesWithConfig {
    /// The foreign trust domain. Required.
    #[serde(deserialize_with = "lanyard_config::trust_domain")]
    pub trust_domain: TrustDomain,
    /// Its bundle endpoint URL (`https`, no userinfo). Required.
    pub bundle_endpoint_url: String,
    /// `https_web` or `https_spiffe`. Required (never inferred, SPIFFE Federation §7.2).
    pub profile: ProfileName,
    /// The SPIFFE ID the endpoint presents: required for `https_spiffe`, refused for
    /// `https_web`.
    pub endpoint_spiffe_id: Option<String>,
    /// A file holding the foreign bundle to start from (SPIFFE bundle JSON or PEM CA
    /// certificates), stored only while no bundle of the trust domain is: `https_spiffe` needs
    /// it (or another way to that trust domain's bundle) to verify the endpoint the first time.
    pub bootstrap_bundle_path: Option<PathBuf>,
}

impl FederatesWithConfig {
    /// The endpoint SPIFFE ID, parsed (validation made sure it parses when present).
    pub fn endpoint_id(&self) -> Option<SpiffeId> {
        self.endpoint_spiffe_id
            .as_deref()
            .and_then(|id| SpiffeId::parse(id).ok())
    }
}

fn default_refresh_floor() -> Duration {
    crate::federation::schedule::DEFAULT_FLOOR
}
fn default_fetch_timeout() -> Duration {
    Duration::from_secs(15)
}
fn default_endpoint_bind_address() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 8443))
}
fn default_endpoint_profile() -> ProfileName {
    ProfileName::HttpsSpiffe
}
fn default_endpoint_path() -> String {
    "/".to_owned()
}
fn default_refresh_hint() -> Duration {
    crate::federation::schedule::DEFAULT_REFRESH_HINT
}
fn default_reload_interval() -> Duration {
    Duration::from_secs(10)
}

fn invalid<T>(field: &'static str, problem: String) -> Result<T, ConfigError> {
    Err(ConfigError::Invalid { field, problem })
}

fn show(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// Checks `[federation]` of `c`.
pub(super) fn validate(c: &ServerConfig) -> Result<(), ConfigError> {
    let f = &c.federation;
    let (min, max) = (Duration::from_secs(1), Duration::from_secs(24 * 3600));
    if f.refresh_floor < min || f.refresh_floor > max {
        return invalid(
            "federation.refresh_floor",
            format!(
                "is {}; give it between 1s and 24h, e.g. \"30s\"",
                show(f.refresh_floor)
            ),
        );
    }
    if f.fetch_timeout < min || f.fetch_timeout > Duration::from_secs(600) {
        return invalid(
            "federation.fetch_timeout",
            format!(
                "is {}; give it between 1s and 10m, e.g. \"15s\"",
                show(f.fetch_timeout)
            ),
        );
    }
    if let Some(e) = &f.bundle_endpoint {
        validate_endpoint(e)?;
    }
    let mut seen = std::collections::BTreeSet::new();
    for rel in &f.federates_with {
        validate_relationship(c, rel)?;
        if !seen.insert(rel.trust_domain.clone()) {
            return invalid(
                "federation.federates_with",
                format!(
                    "declares trust domain {} twice: keep one [[federation.federates_with]] table per trust domain",
                    rel.trust_domain
                ),
            );
        }
    }
    Ok(())
}

fn validate_endpoint(e: &BundleEndpointConfig) -> Result<(), ConfigError> {
    if !e.path.starts_with('/')
        || e.path.contains(['?', '#'])
        || e.path.contains(char::is_whitespace)
    {
        return invalid(
            "federation.bundle_endpoint.path",
            format!(
                "is {:?}; give an HTTP path starting with '/', without query or spaces, e.g. \"/\"",
                e.path
            ),
        );
    }
    let hint = e.refresh_hint;
    if hint < Duration::from_secs(1) || hint.subsec_nanos() != 0 {
        return invalid(
            "federation.bundle_endpoint.refresh_hint",
            format!(
                "is {}; the published hint is whole seconds, at least 1s (SPIFFE Trust Domain and Bundle §4.1.2), e.g. \"5m\"",
                show(hint)
            ),
        );
    }
    if e.reload_interval < Duration::from_secs(1) {
        return invalid(
            "federation.bundle_endpoint.reload_interval",
            format!(
                "is {}; check the files at most every second, e.g. \"10s\"",
                show(e.reload_interval)
            ),
        );
    }
    match e.profile {
        ProfileName::HttpsWeb => {
            if e.cert_path.is_none() {
                return invalid(
                    "federation.bundle_endpoint.cert_path",
                    "is required with profile \"https_web\": the PEM certificate chain of the endpoint's host name".to_owned(),
                );
            }
            if e.key_path.is_none() {
                return invalid(
                    "federation.bundle_endpoint.key_path",
                    "is required with profile \"https_web\": the PEM private key of cert_path"
                        .to_owned(),
                );
            }
        }
        ProfileName::HttpsSpiffe => {
            for (field, set) in [
                (
                    "federation.bundle_endpoint.cert_path",
                    e.cert_path.is_some(),
                ),
                ("federation.bundle_endpoint.key_path", e.key_path.is_some()),
            ] {
                if set {
                    return invalid(
                        field,
                        "is only for profile \"https_web\"; with \"https_spiffe\" the endpoint presents the server's own X.509-SVID: remove it or set profile = \"https_web\"".to_owned(),
                    );
                }
            }
        }
    }
    Ok(())
}

fn validate_relationship(c: &ServerConfig, rel: &FederatesWithConfig) -> Result<(), ConfigError> {
    let td = &rel.trust_domain;
    if *td == c.trust_domain {
        return invalid(
            "federation.federates_with",
            format!(
                "names this server's own trust domain {td}: a relationship is with another trust domain (its own bundle needs none)"
            ),
        );
    }
    if let Err(e) = EndpointUrl::parse(&rel.bundle_endpoint_url) {
        return invalid(
            "federation.federates_with",
            format!("trust domain {td}: bundle_endpoint_url {e}"),
        );
    }
    match (rel.profile, rel.endpoint_spiffe_id.as_deref()) {
        (ProfileName::HttpsSpiffe, None) => invalid(
            "federation.federates_with",
            format!(
                "trust domain {td}: profile \"https_spiffe\" needs endpoint_spiffe_id, the SPIFFE ID the endpoint presents, e.g. \"spiffe://{td}/lanyard/server\""
            ),
        ),
        (ProfileName::HttpsWeb, Some(_)) => invalid(
            "federation.federates_with",
            format!(
                "trust domain {td}: endpoint_spiffe_id is only for profile \"https_spiffe\" (an https_web endpoint is checked by its host name): remove it or change the profile"
            ),
        ),
        (ProfileName::HttpsSpiffe, Some(id)) => match SpiffeId::parse(id) {
            Ok(parsed) if parsed.path().is_empty() => invalid(
                "federation.federates_with",
                format!(
                    "trust domain {td}: endpoint_spiffe_id {id:?} has no path; give the endpoint server's ID, e.g. \"spiffe://{}/lanyard/server\"",
                    parsed.trust_domain_name()
                ),
            ),
            Ok(_) => Ok(()),
            Err(e) => invalid(
                "federation.federates_with",
                format!("trust domain {td}: endpoint_spiffe_id {id:?} is not a SPIFFE ID: {e}"),
            ),
        },
        (ProfileName::HttpsWeb, None) => Ok(()),
    }
}
