//! Federation with other trust domains (SPIFFE_Federation.md): serving our bundle to other trust
//! domains and fetching theirs.
//!
//! The network pieces, with no datastore or cache of their own:
//! - [`url`]: [`url::EndpointUrl`], a bundle endpoint URL as the spec allows it.
//! - [`fetch`]: one bounded fetch of a foreign bundle over `https_web` or `https_spiffe`.
//! - [`endpoint`]: the bundle endpoint server.
//! - [`certfiles`]: the `https_web` endpoint's certificate and key files, reloaded on change.
//! - [`schedule`]: when to fetch next (refresh hint, backoff, jitter).
//!
//! And what ties them to the datastore and the entry cache:
//! - [`refresher`]: one task per relationship fetching on that schedule, storing fresher
//!   bundles; [`refresher::FederationHandle`] is the admin API's way to it.
//! - [`status`]: each relationship's refresh state on this server.
//! - [`input`]: a foreign bundle as an operator hands it over (SPIFFE JSON or PEM).
//! - [`start`]: what `run` sets up at start (declared relationships, the endpoint's TLS and
//!   the own bundle it serves).

pub mod certfiles;
pub mod endpoint;
pub mod fetch;
pub mod input;
pub mod refresher;
pub mod schedule;
pub mod start;
pub mod status;
pub mod url;

#[cfg(test)]
mod test_certs;
