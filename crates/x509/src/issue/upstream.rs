//! An upstream CA: the operator's CA that signs this trust domain's signing CAs, so that the
//! trust bundle carries the operator's roots instead of self-signed ones.
//!
//! X509-SVID §3.2 says a signing certificate "SHOULD" be an SVID, not must: an operator's CA
//! (a corporate root, an offline intermediate) commonly carries no SPIFFE ID, so unlike
//! [`SigningCa::new`] this does not ask for one. It only signs CA certificates
//! ([`SigningCa::issue_ca`]); the intermediates it signs carry the trust domain's ID.

use std::time::SystemTime;

use lanyard_id::TrustDomain;

use super::{SigningCa, check_reproducible_subject};
use crate::cert::{parse_cert, system_time, unix_seconds};
use crate::der::CertDer;
use crate::error::IssueError;
use crate::key::KeyPair;

impl SigningCa {
    /// Checks and wraps the operator's upstream CA.
    ///
    /// `cert` is the upstream CA certificate, `chain` the certificates above it, nearest first
    /// (a trailing anchor may be included), and `anchors` the upstream trust bundle. Refused
    /// unless `cert` is a signing certificate (`cA=true`, `keyCertSign`) whose public key is
    /// `key`'s, every certificate of `cert` and `chain` is valid at `now` and signed by the next,
    /// and the path ends at an anchor (a certificate byte-identical to one, or one an anchor
    /// signed). Certificates the CA issues are restricted to nothing: `trust_domain` only
    /// names the domain its intermediates are for.
    pub fn upstream(
        cert: CertDer,
        key: KeyPair,
        chain: Vec<CertDer>,
        anchors: &[CertDer],
        trust_domain: TrustDomain,
        now: SystemTime,
    ) -> Result<SigningCa, IssueError> {
        let parsed = parse_cert(cert.as_bytes())?;
        let signing = parsed.basic_constraints.is_some_and(|bc| bc.ca)
            && parsed.key_usage.is_none_or(|ku| ku.key_cert_sign);
        if !signing {
            return Err(IssueError::CaNotSigningCertificate);
        }
        if key.public_key_spki_der() != parsed.spki().raw {
            return Err(IssueError::CaKeyMismatch);
        }
        check_reproducible_subject(&parsed)?;
        rcgen::Issuer::from_ca_cert_der(&cert.as_bytes().into(), key.rcgen())
            .map_err(|_| IssueError::UnsupportedCaSubject)?;
        check_path(&cert, &chain, anchors, now)?;
        let self_signed = parsed.is_self_issued() && parsed.verify_signed_by(parsed.spki()).is_ok();
        let not_after_unix = parsed.not_after_unix();
        let subject_der = parsed.subject_raw().to_vec();
        drop(parsed);
        Ok(SigningCa {
            cert,
            key,
            upstream_chain: chain,
            subject_der,
            trust_domain,
            not_after_unix,
            self_signed,
        })
    }

    /// Whether this CA issued `cert`: `cert` names this CA's subject as its issuer and carries
    /// a signature this CA's key made.
    pub fn signed(&self, cert: &CertDer) -> bool {
        let (Ok(issued), Ok(me)) = (
            parse_cert(cert.as_bytes()),
            parse_cert(self.cert.as_bytes()),
        ) else {
            return false;
        };
        issued.issuer_raw() == self.subject_der && issued.verify_signed_by(me.spki()).is_ok()
    }
}

/// RFC 5280 §6.1 in its simplest form for a path the operator gave in order: each certificate
/// valid at `now` and signed by the next, ending at an anchor.
fn check_path(
    cert: &CertDer,
    chain: &[CertDer],
    anchors: &[CertDer],
    now: SystemTime,
) -> Result<(), IssueError> {
    let now = unix_seconds(now);
    let path: Vec<&CertDer> = std::iter::once(cert).chain(chain).collect();
    for (position, c) in path.iter().enumerate() {
        if anchors.iter().any(|a| a.as_bytes() == c.as_bytes()) {
            return Ok(());
        }
        let parsed = parse_cert(c.as_bytes())?;
        if now < parsed.not_before_unix() || now >= parsed.not_after_unix() {
            return Err(IssueError::UpstreamNotValidNow {
                position,
                not_before: system_time(parsed.not_before_unix()),
                not_after: system_time(parsed.not_after_unix()),
            });
        }
        if position > 0 && !parsed.basic_constraints.is_some_and(|bc| bc.ca) {
            return Err(IssueError::CaNotSigningCertificate);
        }
        let signed_by_anchor = anchors.iter().any(|a| {
            parse_cert(a.as_bytes()).is_ok_and(|anchor| {
                anchor.subject_raw() == parsed.issuer_raw()
                    && parsed.verify_signed_by(anchor.spki()).is_ok()
            })
        });
        if signed_by_anchor {
            return Ok(());
        }
        let Some(next) = path.get(position + 1) else {
            return Err(IssueError::UpstreamNotInBundle);
        };
        let next = parse_cert(next.as_bytes())?;
        if next.subject_raw() != parsed.issuer_raw()
            || parsed.verify_signed_by(next.spki()).is_err()
        {
            return Err(IssueError::UpstreamChainBroken { position });
        }
    }
    Err(IssueError::UpstreamNotInBundle)
}
