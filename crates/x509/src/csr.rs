//! PKCS#10 certificate signing requests (RFC 2986): build one for a key, and read one back.
//!
//! A CSR contributes exactly one thing to an X.509-SVID: its public key, after its signature has
//! proven possession of the private key. Subject, SANs, basicConstraints and any other requested
//! extension are ignored on purpose (CVE-2021-27098: the SPIFFE ID must come from the
//! registration entry), which is why [`parse_csr`] returns nothing but the key.

use rcgen::{CertificateParams, DistinguishedName};
use x509_parser::error::X509Error;
use x509_parser::prelude::{FromDer, X509CertificationRequest};

use crate::error::CsrError;
use crate::issue::subject_public_key;
use crate::key::KeyPair;

/// Builds a DER CSR for `key` with an empty subject and no requested extensions.
pub fn build_csr(key: &KeyPair) -> Result<Vec<u8>, CsrError> {
    let mut params = CertificateParams::default();
    // Drop rcgen's default "CN=rcgen self signed cert"; the server ignores the subject anyway.
    params.distinguished_name = DistinguishedName::new();
    let csr = params
        .serialize_request(key.rcgen())
        .map_err(|e| CsrError::Build(e.to_string()))?;
    Ok(csr.der().to_vec())
}

/// Parses a DER CSR, verifies its self-signature and returns its public key as DER
/// SubjectPublicKeyInfo (EC P-256, EC P-384 or RSA of at least 2048 bits).
pub fn parse_csr(der: &[u8]) -> Result<Vec<u8>, CsrError> {
    let (rest, csr) = X509CertificationRequest::from_der(der).map_err(|_| CsrError::Malformed)?;
    if !rest.is_empty() {
        return Err(CsrError::TrailingData { len: rest.len() });
    }
    let spki = csr.certification_request_info.subject_pki.raw;
    subject_public_key(spki)?;
    match csr.verify_signature() {
        Ok(()) => Ok(spki.to_vec()),
        Err(X509Error::SignatureUnsupportedAlgorithm) => {
            Err(CsrError::UnsupportedSignatureAlgorithm)
        }
        Err(_) => Err(CsrError::BadSignature),
    }
}
