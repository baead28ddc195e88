//! [`CertInfo`]: the few facts about a certificate that callers outside this crate track
//! (which authority signed an SVID, its serial, when it expires), without exposing x509-parser.

use std::time::SystemTime;

use crate::cert::{parse_cert, system_time};
use crate::error::CertificateError;

/// Identifying facts of one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// The serial number, lowercase hex without leading zeros.
    pub serial_hex: String,
    /// The Subject Key Identifier extension value, if present.
    pub subject_key_id: Option<Vec<u8>>,
    /// The keyIdentifier of the Authority Key Identifier extension, if present.
    pub authority_key_id: Option<Vec<u8>>,
    /// NotBefore.
    pub not_before: SystemTime,
    /// NotAfter.
    pub not_after: SystemTime,
}

/// A certificate's serial number as hex digits without separators (the DER integer's bytes,
/// including a leading zero byte when DER has one).
pub(crate) fn serial_hex(cert: &x509_parser::certificate::X509Certificate<'_>) -> String {
    cert.raw_serial_as_string().replace(':', "")
}

impl CertInfo {
    /// Reads the facts of one DER certificate.
    pub fn from_der(der: &[u8]) -> Result<CertInfo, CertificateError> {
        let parsed = parse_cert(der)?;
        Ok(CertInfo {
            serial_hex: serial_hex(&parsed.x509),
            subject_key_id: parsed.subject_key_id.map(<[u8]>::to_vec),
            authority_key_id: parsed.authority_key_id.map(<[u8]>::to_vec),
            not_before: system_time(parsed.not_before_unix()),
            not_after: system_time(parsed.not_after_unix()),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use lanyard_id::{SpiffeId, TrustDomain};

    use super::*;
    use crate::{CaParams, KeyPair, KeyType, SigningCa, Subject, SvidParams, self_signed_ca};

    #[test]
    fn leaf_aki_names_the_issuing_ca_ski() {
        let now = SystemTime::now();
        let key = KeyPair::generate(KeyType::EcP256).unwrap();
        let params = CaParams {
            trust_domain: TrustDomain::new("example.org").unwrap(),
            subject: Subject {
                country: None,
                organization: Some("Test".into()),
                common_name: None,
            },
            not_before: now,
            not_after: now + Duration::from_secs(3600),
            path_len: None,
        };
        let ca_cert = self_signed_ca(&params, &key).unwrap();
        let ca = SigningCa::new(ca_cert.clone(), key, vec![]).unwrap();
        let leaf_key = KeyPair::generate(KeyType::EcP256).unwrap();
        let svid = ca
            .issue_x509_svid(
                &leaf_key.public_key_spki_der(),
                &SvidParams {
                    spiffe_id: SpiffeId::parse("spiffe://example.org/w").unwrap(),
                    dns_names: vec![],
                    not_before: now,
                    not_after: now + Duration::from_secs(60),
                    backdate: Duration::from_secs(10),
                },
            )
            .unwrap();
        let ca_info = CertInfo::from_der(ca_cert.as_bytes()).unwrap();
        let leaf_info = CertInfo::from_der(svid.leaf.as_bytes()).unwrap();
        assert!(ca_info.subject_key_id.is_some());
        assert_eq!(leaf_info.authority_key_id, ca_info.subject_key_id);
        assert_ne!(leaf_info.serial_hex, ca_info.serial_hex);
        assert!(!leaf_info.serial_hex.contains(':'));
        assert_eq!(
            leaf_info
                .not_after
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
            svid.not_after
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs()
        );
        assert!(CertInfo::from_der(b"garbage").is_err());
    }
}
