//! DER certificates as owned bytes, and the concatenated-DER form of the Workload API.
//!
//! The Workload API (`standards/workloadapi.proto`) carries certificate chains and bundles as
//! ASN.1 DER certificates concatenated without separators; [`split_der_certificates`] and
//! [`join_der_certificates`] convert between that form and a list of [`CertDer`]. The small DER
//! writer at the bottom is used to build canonical SubjectPublicKeyInfo structures.

use std::fmt;

use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::CertificateError;

/// One DER-encoded X.509 certificate, known to parse and to have no trailing bytes.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CertDer(Vec<u8>);

impl CertDer {
    /// Wraps `der` after checking it is exactly one parseable X.509 certificate.
    pub fn from_der(der: impl Into<Vec<u8>>) -> Result<CertDer, CertificateError> {
        let der = der.into();
        let (rest, _) =
            X509Certificate::from_der(&der).map_err(|e| CertificateError::Malformed {
                reason: e.to_string(),
            })?;
        if !rest.is_empty() {
            return Err(CertificateError::TrailingData { len: rest.len() });
        }
        Ok(CertDer(der))
    }

    /// The DER bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The DER bytes, by value.
    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }
}

impl AsRef<[u8]> for CertDer {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for CertDer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertDer({} bytes)", self.0.len())
    }
}

impl TryFrom<Vec<u8>> for CertDer {
    type Error = CertificateError;
    fn try_from(der: Vec<u8>) -> Result<Self, Self::Error> {
        CertDer::from_der(der)
    }
}

impl TryFrom<&[u8]> for CertDer {
    type Error = CertificateError;
    fn try_from(der: &[u8]) -> Result<Self, Self::Error> {
        CertDer::from_der(der)
    }
}

/// Splits concatenated DER certificates (the Workload API `x509_svid` and `bundle` fields).
///
/// Every element must be a complete DER SEQUENCE that parses as an X.509 certificate. An empty
/// input yields an empty list; callers that need at least one certificate check for that.
pub fn split_der_certificates(blob: &[u8]) -> Result<Vec<CertDer>, CertificateError> {
    let mut certs = Vec::new();
    let mut offset = 0;
    while offset < blob.len() {
        let rest = &blob[offset..];
        let len = sequence_len(rest).ok_or(CertificateError::MalformedConcatenation { offset })?;
        certs.push(CertDer::from_der(&rest[..len])?);
        offset += len;
    }
    Ok(certs)
}

/// Concatenates DER certificates, the inverse of [`split_der_certificates`].
pub fn join_der_certificates<C: AsRef<[u8]>>(certs: &[C]) -> Vec<u8> {
    let mut out = Vec::with_capacity(certs.iter().map(|c| c.as_ref().len()).sum());
    for cert in certs {
        out.extend_from_slice(cert.as_ref());
    }
    out
}

/// Total length (header + content) of the DER SEQUENCE at the start of `input`, if well formed
/// and complete. Only definite lengths of at most four length octets are accepted (DER).
fn sequence_len(input: &[u8]) -> Option<usize> {
    let (&tag, rest) = input.split_first()?;
    if tag != 0x30 {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (content_len, header_len) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, 2 + n)
    };
    let total = header_len.checked_add(content_len)?;
    (total <= input.len()).then_some(total)
}

/// Appends a DER length.
fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        // Fits in the short form.
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// A DER TLV with the given tag and content.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    push_len(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// A DER INTEGER holding the unsigned big-endian value `magnitude`.
pub(crate) fn unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let stripped = strip_leading_zeros(magnitude);
    let mut content = Vec::with_capacity(stripped.len() + 1);
    if stripped.first().is_none_or(|&b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(stripped);
    tlv(0x02, &content)
}

/// `bytes` without leading zero octets (an empty slice for zero).
pub(crate) fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    &bytes[skip..]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn sequence_len_rejects_truncated_and_indefinite() {
        assert_eq!(sequence_len(&[0x30, 0x00]), Some(2));
        assert_eq!(sequence_len(&[0x30, 0x01]), None);
        assert_eq!(sequence_len(&[0x30, 0x80, 0x00, 0x00]), None);
        assert_eq!(sequence_len(&[0x31, 0x00]), None);
        assert_eq!(sequence_len(&[0x30, 0x81, 0x01, 0xff]), Some(4));
        assert_eq!(sequence_len(&[0x30, 0x85, 1, 1, 1, 1, 1]), None);
        assert_eq!(sequence_len(&[]), None);
    }

    #[test]
    fn split_rejects_garbage_without_panicking() {
        assert!(split_der_certificates(&[]).unwrap().is_empty());
        assert!(matches!(
            split_der_certificates(&[0x04, 0x00]),
            Err(CertificateError::MalformedConcatenation { offset: 0 })
        ));
        assert!(matches!(
            split_der_certificates(&[0x30, 0x00]),
            Err(CertificateError::Malformed { .. })
        ));
    }

    #[test]
    fn integers_are_minimal_and_positive() {
        assert_eq!(unsigned_integer(&[0, 0, 1]), vec![0x02, 0x01, 0x01]);
        assert_eq!(unsigned_integer(&[0x80]), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(unsigned_integer(&[]), vec![0x02, 0x01, 0x00]);
        let long = vec![0x11; 300];
        let enc = tlv(0x04, &long);
        assert_eq!(&enc[..4], &[0x04, 0x82, 0x01, 0x2c]);
    }
}
