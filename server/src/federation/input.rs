//! A foreign bundle as an operator hands it over (`bundle set`, `--bootstrap-bundle`,
//! `bootstrap_bundle_path`): a SPIFFE bundle document (JWKS JSON, what `bundle show --format
//! spiffe` prints) or the trust domain's CA certificates as PEM.

use clap::ValueEnum;
use lanyard_id::TrustDomain;
use lanyard_x509::Bundle;

/// How the input is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum InputFormat {
    /// A JSON object is read as a SPIFFE bundle, anything else as PEM.
    #[default]
    Auto,
    /// A SPIFFE bundle document (JWK Set with `spiffe_sequence`, `spiffe_refresh_hint`).
    Spiffe,
    /// PEM `CERTIFICATE` blocks: the X.509 authorities, no JWT keys, sequence 0.
    Pem,
}

/// Reads `bytes` as `trust_domain`'s bundle, or says what is wrong with it. The bundle must hold
/// at least one key: an empty one would leave its workloads nothing to validate with.
pub fn parse_bundle(
    trust_domain: &TrustDomain,
    bytes: &[u8],
    format: InputFormat,
) -> Result<Bundle, String> {
    let json = match format {
        InputFormat::Auto => bytes.trim_ascii_start().starts_with(b"{"),
        InputFormat::Spiffe => true,
        InputFormat::Pem => false,
    };
    let bundle = if json {
        Bundle::from_jwks_json(trust_domain.clone(), bytes)
            .map_err(|e| format!("not a SPIFFE bundle document: {e}"))?
    } else {
        Bundle::from_pem_authorities(trust_domain.clone(), bytes)
            .map_err(|e| format!("not PEM CA certificates: {e}"))?
    };
    if bundle.x509_authorities.is_empty() && bundle.jwt_authorities.is_empty() {
        return Err(format!(
            "the bundle of {trust_domain} holds no X.509 authority and no JWT key"
        ));
    }
    Ok(bundle)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::federation::test_certs;

    fn td() -> TrustDomain {
        TrustDomain::new("orders.example").unwrap()
    }

    #[test]
    fn reads_json_and_pem_by_shape_or_as_told() {
        let mut bundle = test_certs::Domain::new("orders.example").bundle;
        bundle.sequence_number = 9;
        let json = bundle.to_jwks_json().unwrap();
        let pem = bundle.x509_authorities_pem();

        let read =
            parse_bundle(&td(), format!("\n  {json}").as_bytes(), InputFormat::Auto).unwrap();
        assert_eq!(read.sequence_number, 9);
        assert_eq!(read.x509_authorities, bundle.x509_authorities);
        let read = parse_bundle(&td(), pem.as_bytes(), InputFormat::Auto).unwrap();
        assert_eq!(read.sequence_number, 0);
        assert_eq!(read.x509_authorities, bundle.x509_authorities);

        let e = parse_bundle(&td(), pem.as_bytes(), InputFormat::Spiffe).unwrap_err();
        assert!(e.contains("not a SPIFFE bundle document"), "{e}");
        let e = parse_bundle(&td(), json.as_bytes(), InputFormat::Pem).unwrap_err();
        assert!(e.contains("not PEM CA certificates"), "{e}");
        let e = parse_bundle(&td(), br#"{"keys": []}"#, InputFormat::Auto).unwrap_err();
        assert!(e.contains("holds no X.509 authority and no JWT key"), "{e}");
    }
}
