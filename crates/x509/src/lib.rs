//! X.509-SVIDs and SPIFFE bundles: build them, parse them, verify them.
//!
//! This is the only Lanyard crate that touches `x509-parser`; certificates are built with
//! `rcgen` and all cryptography is `ring`. The authorities are the SPIFFE standards
//! (spiffe/spiffe `standards/X509-SVID.md`, `SPIFFE_Trust_Domain_and_Bundle.md`,
//! `JWT-SVID.md` §6); code that enforces a rule quotes it.
//!
//! - [`key`]: [`KeyType`] and [`KeyPair`] (generate EC keys, PKCS#8 in/out, SPKI out).
//! - [`csr`]: build a PKCS#10 CSR, and parse one back to nothing but its verified public key.
//! - [`issue`]: CA certificates ([`self_signed_ca`], [`SigningCa::issue_ca`]) and leaf
//!   X.509-SVIDs ([`SigningCa::issue_x509_svid`]) exactly to the profile.
//! - [`verify`]: [`verify_x509_svid`] (X509-SVID §5) and [`parse_x509_svid`].
//! - [`bundle`]: [`Bundle`] with JWKS JSON, PEM and concatenated-DER encodings, and the
//!   [`BundleSource`] trait verification looks bundles up through.
//! - [`node`]: node certificates for x509pop attestation: [`node::verify_node_chain`] (bounded
//!   cost, against an operator's CA bundle) and the proof of possession of the leaf's key.
//! - [`CertInfo`]: serial, key identifiers and validity of a certificate.
//! - [`der`]: [`CertDer`] and the concatenated-DER chain form of the Workload API.
//!
//! The library does no I/O: no files, no environment, no clock (times are `SystemTime`
//! arguments). Its only ambient input is the system random generator (keys, serial numbers,
//! ECDSA nonces).

pub mod bundle;
mod cert;
pub mod csr;
pub mod der;
mod error;
mod info;
pub mod issue;
pub mod key;
pub mod node;
mod profile;
mod spki;
pub mod verify;

pub use bundle::{
    Bundle, BundleSet, BundleSource, JwtAuthority, certificates_from_pem, certificates_to_pem,
};
pub use csr::{build_csr, parse_csr};
pub use der::{CertDer, join_der_certificates, split_der_certificates};
pub use error::{
    BundleError, CertPosition, CertificateError, CsrError, IssueError, KeyError, X509SvidError,
};
pub use info::CertInfo;
pub use issue::{CaParams, IssuedX509Svid, SigningCa, Subject, SvidParams, self_signed_ca};
pub use key::{KeyPair, KeyType};
pub use spki::{PublicKeyAlgorithm, spki_raw_public_key};
pub use verify::{ParsedX509Svid, VerifiedX509Svid, parse_x509_svid, verify_x509_svid};
