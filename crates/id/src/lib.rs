//! SPIFFE ID and trust-domain types that can only hold valid values.
//!
//! The rules come from the SPIFFE ID standard (spiffe/spiffe `standards/SPIFFE-ID.md`):
//! a SPIFFE ID is `spiffe://<trust-domain><path>`, the scheme is lowercase `spiffe`, the
//! trust domain is made of lowercase letters, digits, `.`, `-` and `_` (at most 255 bytes), the
//! path is a sequence of `/segment`s of letters, digits, `.`, `-` and `_`, and no query,
//! fragment, port, userinfo or percent-encoding is allowed. Each broken rule has its own
//! [`IdError`] variant so callers can tell a user exactly what is wrong.
//!
//! This crate does no I/O and depends on nothing but `thiserror`.

mod error;
mod id;
mod trust_domain;

pub use error::IdError;
pub use id::SpiffeId;
pub use trust_domain::TrustDomain;

/// The URI scheme prefix every SPIFFE ID starts with.
pub const SCHEME_PREFIX: &str = "spiffe://";

/// Maximum length in bytes of a whole SPIFFE ID (SPIFFE-ID.md §2.3).
pub const MAX_ID_LEN: usize = 2048;

/// Maximum length in bytes of a trust-domain name (SPIFFE-ID.md §2.3, RFC 3986 host).
pub const MAX_TRUST_DOMAIN_LEN: usize = 255;
