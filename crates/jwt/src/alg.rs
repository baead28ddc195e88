//! The signature algorithms of JWT-SVID §2.1, and which bundle keys ring verifies them with.

use lanyard_x509::PublicKeyAlgorithm;
use ring::signature::{self, VerificationAlgorithm};
use serde_json::Value;

use crate::error::JwtError;

/// One of the `alg` values of JWT-SVID §2.1 (RFC 7518 §3.3, §3.4, §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Algorithm {
    Rs256,
    Rs384,
    Rs512,
    Es256,
    Es384,
    Es512,
    Ps256,
    Ps384,
    Ps512,
}

/// Smallest RSA modulus ring verifies (its `*_2048_8192_*` algorithms).
const RSA_MIN_BITS: usize = 2048;
/// Largest RSA modulus ring verifies.
const RSA_MAX_BITS: usize = 8192;

impl Algorithm {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Algorithm::Rs256 => "RS256",
            Algorithm::Rs384 => "RS384",
            Algorithm::Rs512 => "RS512",
            Algorithm::Es256 => "ES256",
            Algorithm::Es384 => "ES384",
            Algorithm::Es512 => "ES512",
            Algorithm::Ps256 => "PS256",
            Algorithm::Ps384 => "PS384",
            Algorithm::Ps512 => "PS512",
        }
    }

    /// Reads the header's `alg`. JWT-SVID §2.1: "Validators receiving a token with the `alg`
    /// parameter set to a different value MUST reject the token." `none` and HMAC get their own
    /// errors because they are the classic JOSE attacks.
    pub(crate) fn from_header(alg: Option<&Value>) -> Result<Algorithm, JwtError> {
        let alg = match alg {
            None => return Err(JwtError::MissingAlgorithm),
            Some(Value::String(alg)) => alg.as_str(),
            Some(other) => {
                return Err(JwtError::UnsupportedAlgorithm {
                    alg: other.to_string(),
                });
            }
        };
        let parsed = match alg {
            "RS256" => Algorithm::Rs256,
            "RS384" => Algorithm::Rs384,
            "RS512" => Algorithm::Rs512,
            "ES256" => Algorithm::Es256,
            "ES384" => Algorithm::Es384,
            "ES512" => Algorithm::Es512,
            "PS256" => Algorithm::Ps256,
            "PS384" => Algorithm::Ps384,
            "PS512" => Algorithm::Ps512,
            _ if alg.eq_ignore_ascii_case("none") => return Err(JwtError::AlgorithmNone),
            // RFC 7518 §3.2: the HMAC algorithms.
            "HS256" | "HS384" | "HS512" => {
                return Err(JwtError::HmacAlgorithm {
                    alg: alg.to_string(),
                });
            }
            _ => {
                return Err(JwtError::UnsupportedAlgorithm {
                    alg: alg.to_string(),
                });
            }
        };
        if parsed == Algorithm::Es512 {
            return Err(JwtError::AlgorithmNotImplemented {
                alg: alg.to_string(),
            });
        }
        Ok(parsed)
    }

    /// The ring algorithm that verifies this `alg` with a key of type `key`, or why none does.
    pub(crate) fn verifier(
        self,
        key: PublicKeyAlgorithm,
        kid: &str,
    ) -> Result<&'static dyn VerificationAlgorithm, JwtError> {
        let mismatch = || JwtError::KeyAlgorithmMismatch {
            kid: kid.to_string(),
            alg: self.as_str().to_string(),
            key: describe(key),
        };
        match (self, key) {
            (Algorithm::Es256, PublicKeyAlgorithm::EcP256) => {
                Ok(&signature::ECDSA_P256_SHA256_FIXED)
            }
            (Algorithm::Es384, PublicKeyAlgorithm::EcP384) => {
                Ok(&signature::ECDSA_P384_SHA384_FIXED)
            }
            (
                Algorithm::Rs256
                | Algorithm::Rs384
                | Algorithm::Rs512
                | Algorithm::Ps256
                | Algorithm::Ps384
                | Algorithm::Ps512,
                PublicKeyAlgorithm::Rsa { bits },
            ) => {
                if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
                    return Err(JwtError::UnusableAuthorityKey {
                        kid: kid.to_string(),
                        reason: format!(
                            "RSA key of {bits} bits; only {RSA_MIN_BITS} to {RSA_MAX_BITS} bits are accepted"
                        ),
                    });
                }
                Ok(self.rsa_verifier().ok_or_else(mismatch)?)
            }
            _ => Err(mismatch()),
        }
    }

    fn rsa_verifier(self) -> Option<&'static dyn VerificationAlgorithm> {
        Some(match self {
            Algorithm::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Algorithm::Rs384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            Algorithm::Rs512 => &signature::RSA_PKCS1_2048_8192_SHA512,
            Algorithm::Ps256 => &signature::RSA_PSS_2048_8192_SHA256,
            Algorithm::Ps384 => &signature::RSA_PSS_2048_8192_SHA384,
            Algorithm::Ps512 => &signature::RSA_PSS_2048_8192_SHA512,
            Algorithm::Es256 | Algorithm::Es384 | Algorithm::Es512 => return None,
        })
    }
}

/// A key type for error messages.
pub(crate) fn describe(key: PublicKeyAlgorithm) -> String {
    match key {
        PublicKeyAlgorithm::EcP256 => "an EC P-256 key".to_string(),
        PublicKeyAlgorithm::EcP384 => "an EC P-384 key".to_string(),
        PublicKeyAlgorithm::EcP521 => "an EC P-521 key".to_string(),
        PublicKeyAlgorithm::Rsa { bits } => format!("an RSA-{bits} key"),
        other => format!("a {other:?} key"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn parse(alg: &str) -> Result<Algorithm, JwtError> {
        Algorithm::from_header(Some(&Value::String(alg.to_string())))
    }

    #[test]
    fn only_the_section_2_1_table_is_accepted() {
        for alg in [
            "RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "PS384", "PS512",
        ] {
            assert_eq!(parse(alg).unwrap().as_str(), alg);
        }
        assert_eq!(parse("none"), Err(JwtError::AlgorithmNone));
        assert_eq!(parse("NONE"), Err(JwtError::AlgorithmNone));
        assert!(matches!(
            parse("HS256"),
            Err(JwtError::HmacAlgorithm { .. })
        ));
        assert!(matches!(
            parse("EdDSA"),
            Err(JwtError::UnsupportedAlgorithm { .. })
        ));
        assert!(matches!(
            parse("es256"),
            Err(JwtError::UnsupportedAlgorithm { .. })
        ));
        assert!(matches!(
            parse("ES512"),
            Err(JwtError::AlgorithmNotImplemented { .. })
        ));
        assert_eq!(
            Algorithm::from_header(None),
            Err(JwtError::MissingAlgorithm)
        );
        assert!(matches!(
            Algorithm::from_header(Some(&Value::Null)),
            Err(JwtError::UnsupportedAlgorithm { .. })
        ));
    }

    #[test]
    fn key_type_must_match_alg() {
        let ok = |alg: Algorithm, key| alg.verifier(key, "k").is_ok();
        assert!(ok(Algorithm::Es256, PublicKeyAlgorithm::EcP256));
        assert!(ok(Algorithm::Es384, PublicKeyAlgorithm::EcP384));
        assert!(ok(Algorithm::Ps512, PublicKeyAlgorithm::Rsa { bits: 4096 }));
        assert!(!ok(Algorithm::Es256, PublicKeyAlgorithm::EcP384));
        assert!(!ok(Algorithm::Rs256, PublicKeyAlgorithm::EcP256));
        assert!(!ok(
            Algorithm::Es256,
            PublicKeyAlgorithm::Rsa { bits: 2048 }
        ));
        assert!(matches!(
            Algorithm::Rs256.verifier(PublicKeyAlgorithm::Rsa { bits: 1024 }, "k"),
            Err(JwtError::UnusableAuthorityKey { .. })
        ));
    }
}
