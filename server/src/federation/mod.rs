//! Federation with other trust domains (SPIFFE_Federation.md), the network pieces: serving our
//! bundle to other trust domains and fetching theirs, with no datastore or cache of their own
//! (the refresher wires them to both).
//!
//! - [`url`]: [`url::EndpointUrl`], a bundle endpoint URL as the spec allows it.
//! - [`fetch`]: one bounded fetch of a foreign bundle over `https_web` or `https_spiffe`.
//! - [`endpoint`]: the bundle endpoint server.
//! - [`certfiles`]: the `https_web` endpoint's certificate and key files, reloaded on change.
//! - [`schedule`]: when to fetch next (refresh hint, backoff, jitter).

pub mod certfiles;
pub mod endpoint;
pub mod fetch;
pub mod schedule;
pub mod url;

#[cfg(test)]
mod test_certs;
