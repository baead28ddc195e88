//! The X.509-SVID profile rules for single certificates (`standards/X509-SVID.md` §2–§5).
//!
//! Three roles get three rule sets:
//! - the leaf (§2, §3.1, §4.1, §4.3, §4.4, §5.2): checked strictly;
//! - signing certificates presented in the chain (§3.2, §4.1, §4.3): checked strictly;
//! - trust anchors taken from a bundle: RFC 5280 §6 does not process trust-anchor certificates,
//!   and the spec's own bundle example (Trust Domain and Bundle, Appendix A) carries the URI
//!   `spiffe://example.com/`, so anchors only have to *be able* to sign: if they carry
//!   basicConstraints it must say `cA=true`, and if they carry keyUsage it must allow
//!   `keyCertSign`.

use lanyard_id::SpiffeId;

use crate::cert::ParsedCert;
use crate::error::{CertPosition, X509SvidError};

/// RFC 5280 structure rules every certificate in the chain (not anchors) must meet.
pub(crate) fn check_structure(
    cert: &ParsedCert<'_>,
    position: CertPosition,
) -> Result<(), X509SvidError> {
    // RFC 5280 §4.1.1.2: signatureAlgorithm "MUST contain the same algorithm identifier as the
    // signature field in the sequence tbsCertificate".
    if !cert.signature_algorithms_match() {
        return Err(X509SvidError::SignatureAlgorithmMismatch { position });
    }
    // RFC 5280 §4.2: "A certificate-using system MUST reject the certificate if it encounters a
    // critical extension it does not recognize or a critical extension that contains
    // information that it cannot process." (This includes nameConstraints, X509-SVID §4.2.)
    if let Some(oid) = &cert.unsupported_critical {
        return Err(X509SvidError::UnsupportedCriticalExtension {
            position,
            oid: oid.clone(),
        });
    }
    Ok(())
}

/// The leaf rules; returns the leaf's SPIFFE ID.
pub(crate) fn check_leaf(cert: &ParsedCert<'_>) -> Result<SpiffeId, X509SvidError> {
    // §2: "An X.509 SVID MUST contain exactly one URI SAN" and §5.2: "SVIDs containing more
    // than one URI SAN MUST be rejected."
    let uri = match cert.uri_sans.as_slice() {
        [] => return Err(X509SvidError::LeafMissingUriSan),
        [uri] => uri,
        more => {
            return Err(X509SvidError::LeafHasMultipleUriSans { count: more.len() });
        }
    };
    // §5.2: "The validator MUST also ensure that the scheme of the SPIFFE ID is set to `spiffe`".
    let id = SpiffeId::parse(uri).map_err(|source| X509SvidError::LeafUriSanNotSpiffeId {
        uri: uri.clone(),
        source,
    })?;
    // §3.1: "Leaf certificate SPIFFE IDs MUST have a non-root path component." (also §5.2)
    if id.is_root() {
        return Err(X509SvidError::LeafIdIsRoot { id });
    }
    // §3.1: "the URI SAN extension MUST be marked as critical if Subject is omitted".
    if cert.subject_is_empty() && !cert.san_critical {
        return Err(X509SvidError::LeafSanNotCriticalWithEmptySubject);
    }
    // §4.1: "leaf certificates MUST set the `cA` field to `false`" — which needs the extension.
    match cert.basic_constraints {
        None => return Err(X509SvidError::LeafMissingBasicConstraints),
        // §5.2: "the validator MUST ensure that the `CA` field ... is set to `false`".
        Some(bc) if bc.ca => return Err(X509SvidError::LeafHasCaFlag),
        Some(_) => {}
    }
    // §4.3: "The key usage extension MUST be set on all SVIDs, and MUST be marked critical."
    let ku = cert.key_usage.ok_or(X509SvidError::LeafMissingKeyUsage)?;
    if !ku.critical {
        return Err(X509SvidError::LeafKeyUsageNotCritical);
    }
    // §4.3: "Leaf SVIDs MUST set `digitalSignature`."
    if !ku.digital_signature {
        return Err(X509SvidError::LeafMissingDigitalSignature);
    }
    // §4.3/§5.2: "Leaf SVIDs MUST NOT set `keyCertSign` or `cRLSign`."
    if ku.key_cert_sign {
        return Err(X509SvidError::LeafHasKeyCertSign);
    }
    if ku.crl_sign {
        return Err(X509SvidError::LeafHasCrlSign);
    }
    // §4.4: "Leaf SVIDs SHOULD include this extension ... When included, fields
    // `id-kp-serverAuth` and `id-kp-clientAuth` MUST be set." Absence is allowed.
    if let Some(eku) = cert.eku {
        if !eku.server_auth {
            return Err(X509SvidError::LeafEkuMissingServerAuth);
        }
        if !eku.client_auth {
            return Err(X509SvidError::LeafEkuMissingClientAuth);
        }
    }
    Ok(id)
}

/// The rules for a signing certificate presented in the chain.
pub(crate) fn check_signing_cert(
    cert: &ParsedCert<'_>,
    position: CertPosition,
) -> Result<(), X509SvidError> {
    // §3.2/§4.1: "Signing certificates MUST set the `cA` field to `true`".
    if !cert.basic_constraints.is_some_and(|bc| bc.ca) {
        return Err(X509SvidError::SigningCertMissingCaFlag { position });
    }
    // §4.3: "SVID signing certificates MUST set `keyCertSign`."
    if !cert.key_usage.is_some_and(|ku| ku.key_cert_sign) {
        return Err(X509SvidError::SigningCertMissingKeyCertSign { position });
    }
    // §3.2: "If present, the SPIFFE ID of a signing certificate MUST NOT have a path component".
    for uri in &cert.uri_sans {
        let is_spiffe = uri
            .get(..7)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("spiffe:"));
        if !is_spiffe {
            continue;
        }
        let id = SpiffeId::parse(uri).map_err(|source| X509SvidError::SigningCertIdInvalid {
            position,
            uri: uri.clone(),
            source,
        })?;
        if !id.is_root() {
            return Err(X509SvidError::SigningCertIdHasPath {
                position,
                id: uri.clone(),
            });
        }
    }
    Ok(())
}

/// The (lenient) rules for a trust anchor taken from a bundle; see the module docs.
pub(crate) fn check_anchor(
    cert: &ParsedCert<'_>,
    position: CertPosition,
) -> Result<(), X509SvidError> {
    if cert.basic_constraints.is_some_and(|bc| !bc.ca) {
        return Err(X509SvidError::SigningCertMissingCaFlag { position });
    }
    if cert.key_usage.is_some_and(|ku| !ku.key_cert_sign) {
        return Err(X509SvidError::SigningCertMissingKeyCertSign { position });
    }
    Ok(())
}
