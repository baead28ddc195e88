//! CA (signing) certificates: self-signed roots and CAs signed by a parent CA.

use std::time::SystemTime;

use lanyard_id::TrustDomain;
use rcgen::string::Ia5String;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyUsagePurpose, SanType};

use super::{SigningCa, Subject, random_serial, subject_public_key, to_datetime};
use crate::cert::{system_time, unix_seconds};
use crate::der::CertDer;
use crate::error::IssueError;
use crate::key::KeyPair;

/// What a CA certificate says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaParams {
    /// The trust domain; the certificate's single URI SAN is its ID `spiffe://<td>` (no path,
    /// X509-SVID §3.2).
    pub trust_domain: TrustDomain,
    /// The subject name; must not be empty, since it becomes the issuer name of everything the
    /// CA signs (RFC 5280 §4.1.2.4).
    pub subject: Subject,
    /// NotBefore, taken as given (whole seconds).
    pub not_before: SystemTime,
    /// NotAfter; when a parent CA signs, capped at the parent's NotAfter.
    pub not_after: SystemTime,
    /// The basicConstraints pathLenConstraint, if any (X509-SVID §4.1: "MAY set").
    pub path_len: Option<u8>,
}

/// Builds a self-signed root CA certificate for `key`.
pub fn self_signed_ca(params: &CaParams, key: &KeyPair) -> Result<CertDer, IssueError> {
    let not_after = unix_seconds(params.not_after);
    let cert_params = ca_params(params, not_after, false)?;
    let cert = cert_params
        .self_signed(key.rcgen())
        .map_err(|e| IssueError::Signing(e.to_string()))?;
    CertDer::from_der(cert.der().to_vec()).map_err(|e| IssueError::Signing(e.to_string()))
}

impl SigningCa {
    /// Issues a CA certificate for `subject_public_key_spki_der` (e.g. a downstream or next CA),
    /// its NotAfter capped at this CA's NotAfter. X509-SVID §3.2 allows the new CA to be in any
    /// trust domain. The result chains to the anchor via [`SigningCa::chain`].
    pub fn issue_ca(
        &self,
        params: &CaParams,
        subject_public_key_spki_der: &[u8],
    ) -> Result<CertDer, IssueError> {
        let (public_key, _) = subject_public_key(subject_public_key_spki_der)?;
        let not_after = unix_seconds(params.not_after).min(self.not_after_unix);
        let cert_params = ca_params(params, not_after, true)?;
        self.sign(&cert_params, &public_key)
    }
}

/// The rcgen parameters of a CA certificate.
fn ca_params(
    params: &CaParams,
    not_after: i64,
    has_parent: bool,
) -> Result<CertificateParams, IssueError> {
    if params.subject.is_empty() {
        return Err(IssueError::EmptyCaSubject);
    }
    let not_before = unix_seconds(params.not_before);
    if not_after <= not_before {
        return Err(IssueError::EmptyValidity {
            not_before: system_time(not_before),
            not_after: system_time(not_after),
        });
    }
    let id = params.trust_domain.id_string();
    let uri = Ia5String::try_from(id.as_str()).map_err(|e| IssueError::Signing(e.to_string()))?;
    let mut cert = CertificateParams::default();
    cert.not_before = to_datetime(not_before)?;
    cert.not_after = to_datetime(not_after)?;
    cert.serial_number = Some(random_serial()?);
    // X509-SVID §3.2: "A signing certificate SHOULD itself be an SVID. If present, the SPIFFE ID
    // of a signing certificate MUST NOT have a path component".
    cert.subject_alt_names = vec![SanType::URI(uri)];
    // Replaces rcgen's default "CN=rcgen self signed cert".
    cert.distinguished_name = params.subject.to_rcgen()?;
    // X509-SVID §4.1: "Signing certificates MUST set the `cA` field to `true`" (rcgen marks
    // basicConstraints critical).
    cert.is_ca = IsCa::Ca(match params.path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    // X509-SVID §4.3: critical keyUsage; "SVID signing certificates MUST set `keyCertSign`.
    // They MAY set `cRLSign`." Appendix A: digitalSignature only on leaves.
    cert.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    // RFC 5280 §4.2.1.1: AKI may be omitted only in self-signed certificates.
    cert.use_authority_key_identifier_extension = has_parent;
    Ok(cert)
}
