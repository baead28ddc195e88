//! SPIFFE mTLS for the agent↔server gRPC API.
//!
//! Both ends authenticate with X.509-SVIDs and verify the peer with SPIFFE rules, not Web PKI:
//! the peer's chain must verify against the bundle of *its own* trust domain (X509-SVID.md §5),
//! and a client additionally pins the server's SPIFFE ID. Trust bundles and our own SVID change at
//! run time (CA rotation, SVID renewal), so both live in cells that new handshakes read:
//!
//! - [`TrustStore`]: the current [`lanyard_x509::BundleSet`].
//! - [`Identity`]: our current SVID chain and private key.
//!
//! [`server_config`] and [`client_config`] build rustls configs over those cells;
//! [`transport`] adapts them to tonic (an incoming stream of TLS connections whose
//! `ConnectInfo` carries the verified peer SPIFFE ID, and a connector for `Endpoint`).
//! [`bundle_endpoint_server_config`], [`spiffe_endpoint_client_config`] and
//! [`web_pki_client_config`] are the TLS of SPIFFE bundle endpoints (federation), over HTTP/1.1.

mod endpoint;
mod identity;
pub mod transport;
mod trust;
mod verify;

pub use endpoint::{
    ALPN_HTTP1, bundle_endpoint_server_config, spiffe_endpoint_client_config, web_pki_client_config,
};
pub use identity::{Identity, IdentityError};
pub use trust::TrustStore;
pub use verify::{
    InsecureServerVerifier, PeerRejected, SpiffeClientVerifier, SpiffeServerVerifier,
    client_config, insecure_client_config, server_config,
};

/// The ALPN protocol gRPC runs on.
pub const ALPN_H2: &[u8] = b"h2";
