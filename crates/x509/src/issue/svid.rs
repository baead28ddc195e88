//! Leaf X.509-SVIDs.
//!
//! The SPIFFE ID, DNS names and validity come from the caller (the registration entry), never
//! from a CSR: only the public key is taken from the requester (CVE-2021-27098).

use std::time::{Duration, SystemTime};

use lanyard_id::SpiffeId;
use rcgen::string::Ia5String;
use rcgen::{CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose, SanType};

use super::{SigningCa, Subject, random_serial, subject_public_key, to_datetime};
use crate::cert::{parse_cert, system_time, unix_seconds};
use crate::der::CertDer;
use crate::error::IssueError;
use crate::profile::check_leaf;
use crate::spki::PublicKeyParams;

/// Upper bound of the X.520 commonName (RFC 5280 Appendix A, `ub-common-name`).
const MAX_COMMON_NAME_LEN: usize = 64;

/// What a leaf X.509-SVID says, as decided by the registration entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SvidParams {
    /// The SPIFFE ID: must have a path (X509-SVID §3.1) and be in the CA's trust domain.
    pub spiffe_id: SpiffeId,
    /// DNS SANs; the first one (if at most 64 characters) is also the subject commonName.
    pub dns_names: Vec<String>,
    /// The start of validity before backdating.
    pub not_before: SystemTime,
    /// The requested NotAfter; capped at the CA's NotAfter.
    pub not_after: SystemTime,
    /// How far NotBefore is moved into the past to tolerate clock skew (SPIRE uses 10 s).
    pub backdate: Duration,
}

/// A freshly issued X.509-SVID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedX509Svid {
    /// The leaf certificate.
    pub leaf: CertDer,
    /// The full chain to present: the leaf, then (if the CA is an intermediate) the CA and its
    /// upstream chain; never the root, which relying parties take from the bundle.
    pub chain: Vec<CertDer>,
    /// The NotBefore written into the leaf (after backdating, whole seconds).
    pub not_before: SystemTime,
    /// The NotAfter written into the leaf (after capping, whole seconds).
    pub not_after: SystemTime,
    /// The leaf's serial number in hex, as [`crate::CertInfo::serial_hex`] writes it (read from
    /// the parse the profile check already does, so callers need not parse the leaf again).
    pub serial_hex: String,
}

impl SigningCa {
    /// Issues a leaf X.509-SVID for `subject_public_key_spki_der` (from a verified CSR).
    ///
    /// Validity: NotBefore is `params.not_before - params.backdate`; NotAfter is
    /// `params.not_after` capped at this CA's NotAfter, so an SVID never outlives its issuer
    /// (callers see the effective value in [`IssuedX509Svid::not_after`]). Both are truncated
    /// to whole seconds.
    ///
    /// Profile (X509-SVID §2–§4): exactly one URI SAN (the ID) plus the DNS SANs; subject
    /// `C=US, O=SPIFFE[, CN=<first DNS name>]`; basicConstraints critical with `cA=false`;
    /// keyUsage critical with digitalSignature (plus keyEncipherment for RSA keys); extended
    /// key usage serverAuth and clientAuth; SKI and AKI; random serial.
    pub fn issue_x509_svid(
        &self,
        subject_public_key_spki_der: &[u8],
        params: &SvidParams,
    ) -> Result<IssuedX509Svid, IssueError> {
        let id = &params.spiffe_id;
        // X509-SVID §3.1: "Leaf certificate SPIFFE IDs MUST have a non-root path component."
        if id.is_root() {
            return Err(IssueError::LeafIdIsRoot { id: id.clone() });
        }
        if !id.is_member_of(&self.trust_domain) {
            return Err(IssueError::IdNotInCaTrustDomain {
                id: id.clone(),
                ca_trust_domain: self.trust_domain.clone(),
            });
        }
        let (public_key, key_params) = subject_public_key(subject_public_key_spki_der)?;

        let not_before = params
            .not_before
            .checked_sub(params.backdate)
            .ok_or(IssueError::TimeOutOfRange(params.not_before))?;
        let not_before = unix_seconds(not_before);
        let not_after = unix_seconds(params.not_after).min(self.not_after_unix);
        if not_after <= not_before {
            return Err(IssueError::EmptyValidity {
                not_before: system_time(not_before),
                not_after: system_time(not_after),
            });
        }

        let mut sans = vec![SanType::URI(ia5(id.as_str())?)];
        for dns in &params.dns_names {
            check_dns_name(dns)?;
            sans.push(SanType::DnsName(ia5(dns)?));
        }
        let subject = Subject {
            country: Some("US".into()),
            organization: Some("SPIFFE".into()),
            common_name: params
                .dns_names
                .first()
                .filter(|dns| dns.len() <= MAX_COMMON_NAME_LEN)
                .cloned(),
        };

        let mut cert = CertificateParams::default();
        cert.not_before = to_datetime(not_before)?;
        cert.not_after = to_datetime(not_after)?;
        cert.serial_number = Some(random_serial()?);
        // X509-SVID §2: "An X.509 SVID MUST contain exactly one URI SAN"; other SAN types are
        // allowed. The subject is non-empty, so the SAN extension need not be critical (§3.1).
        cert.subject_alt_names = sans;
        cert.distinguished_name = subject.to_rcgen()?;
        // X509-SVID §4.1: "leaf certificates MUST set the `cA` field to `false`". ExplicitNoCa
        // writes a critical basicConstraints with cA absent (DER DEFAULT FALSE), rcgen >= 0.14.10.
        cert.is_ca = IsCa::ExplicitNoCa;
        // X509-SVID §4.3: critical keyUsage; "Leaf SVIDs MUST set `digitalSignature`. They MAY
        // set `keyEncipherment` and/or `keyAgreement`; these mostly make sense only for
        // certificates for RSA keys". Never keyCertSign or cRLSign.
        cert.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if matches!(key_params, PublicKeyParams::Rsa { .. }) {
            cert.key_usages.push(KeyUsagePurpose::KeyEncipherment);
        }
        // X509-SVID §4.4: "Leaf SVIDs SHOULD include this extension ... When included, fields
        // `id-kp-serverAuth` and `id-kp-clientAuth` MUST be set."
        cert.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        cert.use_authority_key_identifier_extension = true;

        let leaf = self.sign(&cert, &public_key)?;
        // Belt and braces: what we issue must pass our own verifier's leaf rules.
        let parsed = parse_cert(leaf.as_bytes()).map_err(|e| IssueError::Signing(e.to_string()))?;
        check_leaf(&parsed)
            .map_err(|e| IssueError::Signing(format!("issued leaf violates the profile: {e}")))?;
        let serial_hex = crate::info::serial_hex(&parsed.x509);
        drop(parsed);

        let mut chain = vec![leaf.clone()];
        chain.extend(self.chain());
        Ok(IssuedX509Svid {
            leaf,
            chain,
            not_before: system_time(not_before),
            not_after: system_time(not_after),
            serial_hex,
        })
    }
}

fn ia5(s: &str) -> Result<Ia5String, IssueError> {
    Ia5String::try_from(s).map_err(|e| IssueError::Signing(e.to_string()))
}

/// A DNS SAN: dot-separated labels of letters, digits, `-` and `_` (1–63 bytes, not starting
/// or ending with `-`), at most 253 bytes, optionally with a leading `*` wildcard label.
fn check_dns_name(name: &str) -> Result<(), IssueError> {
    let invalid = || IssueError::InvalidDnsName(name.to_string());
    if name.is_empty() || name.len() > 253 {
        return Err(invalid());
    }
    let rest = name.strip_prefix("*.").unwrap_or(name);
    for label in rest.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(invalid());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn dns_names_are_checked() {
        for ok in [
            "example.org",
            "*.example.org",
            "a-b.c_d.example",
            "localhost",
        ] {
            assert!(check_dns_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".",
            "a..b",
            "-a.b",
            "a-.b",
            "a b",
            "a.*.b",
            "ü.example",
            "a.",
        ] {
            assert!(
                matches!(check_dns_name(bad), Err(IssueError::InvalidDnsName(_))),
                "{bad}"
            );
        }
    }
}
