//! Key types and key pairs (ring through rcgen): generation, PKCS#8 in and out, SPKI out.
//!
//! ring can generate EC P-256/P-384 keys but not RSA keys; RSA keys can still be loaded from
//! PKCS#8 (e.g. an upstream CA's key) and RSA public keys are accepted in CSRs and bundles.

use std::fmt;
use std::str::FromStr;

use rcgen::PublicKeyData;

use crate::error::KeyError;
use crate::spki::PublicKeyParams;

/// A key algorithm, named as in configuration files (`ec-p256`, `ec-p384`, `rsa-2048`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum KeyType {
    /// ECDSA on NIST P-256, signing with SHA-256 (the default).
    EcP256,
    /// ECDSA on NIST P-384, signing with SHA-384.
    EcP384,
    /// RSA 2048-bit (load only: ring cannot generate RSA keys).
    Rsa2048,
    /// RSA 3072-bit (load only).
    Rsa3072,
    /// RSA 4096-bit (load only).
    Rsa4096,
}

impl KeyType {
    /// The configuration name, e.g. `"ec-p256"`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::EcP256 => "ec-p256",
            KeyType::EcP384 => "ec-p384",
            KeyType::Rsa2048 => "rsa-2048",
            KeyType::Rsa3072 => "rsa-3072",
            KeyType::Rsa4096 => "rsa-4096",
        }
    }

    /// Whether this crate can generate keys of this type.
    pub fn can_generate(self) -> bool {
        matches!(self, KeyType::EcP256 | KeyType::EcP384)
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyType {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ec-p256" => Ok(KeyType::EcP256),
            "ec-p384" => Ok(KeyType::EcP384),
            "rsa-2048" => Ok(KeyType::Rsa2048),
            "rsa-3072" => Ok(KeyType::Rsa3072),
            "rsa-4096" => Ok(KeyType::Rsa4096),
            other => Err(KeyError::UnknownKeyType(other.to_string())),
        }
    }
}

/// A private key with its public half. `Debug` never prints the secret.
pub struct KeyPair {
    inner: rcgen::KeyPair,
}

impl KeyPair {
    /// Generates a fresh key pair; RSA types return [`KeyError::RsaGenerationUnsupported`].
    pub fn generate(key_type: KeyType) -> Result<KeyPair, KeyError> {
        let alg = match key_type {
            KeyType::EcP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyType::EcP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => {
                return Err(KeyError::RsaGenerationUnsupported { key_type });
            }
        };
        let inner = rcgen::KeyPair::generate_for(alg).map_err(|_| KeyError::GenerationFailed)?;
        Ok(KeyPair { inner })
    }

    /// Loads a PKCS#8 DER private key (EC P-256, EC P-384 or RSA).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<KeyPair, KeyError> {
        let inner = rcgen::KeyPair::try_from(der).map_err(|_| KeyError::MalformedPrivateKey)?;
        let alg = inner.algorithm();
        let supported = alg == &rcgen::PKCS_ECDSA_P256_SHA256
            || alg == &rcgen::PKCS_ECDSA_P384_SHA384
            || alg == &rcgen::PKCS_RSA_SHA256;
        if !supported {
            return Err(KeyError::MalformedPrivateKey);
        }
        Ok(KeyPair { inner })
    }

    /// Loads the first `PRIVATE KEY` (PKCS#8) block of a PEM document.
    pub fn from_pkcs8_pem(pem_text: &str) -> Result<KeyPair, KeyError> {
        let blocks = pem::parse_many(pem_text).map_err(|_| KeyError::MissingPemPrivateKey)?;
        let block = blocks
            .iter()
            .find(|b| b.tag() == "PRIVATE KEY")
            .ok_or(KeyError::MissingPemPrivateKey)?;
        KeyPair::from_pkcs8_der(block.contents())
    }

    /// The private key as PKCS#8 DER (secret: handle with care).
    pub fn pkcs8_der(&self) -> &[u8] {
        self.inner.serialized_der()
    }

    /// The private key as a PKCS#8 PEM `PRIVATE KEY` block (secret).
    pub fn to_pkcs8_pem(&self) -> String {
        pem::encode_config(
            &pem::Pem::new("PRIVATE KEY", self.pkcs8_der().to_vec()),
            pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
        )
    }

    /// The public key as DER SubjectPublicKeyInfo.
    pub fn public_key_spki_der(&self) -> Vec<u8> {
        self.inner.subject_public_key_info()
    }

    /// The key type, or `None` for an RSA key of a size not listed in [`KeyType`].
    pub fn key_type(&self) -> Option<KeyType> {
        let alg = self.inner.algorithm();
        if alg == &rcgen::PKCS_ECDSA_P256_SHA256 {
            return Some(KeyType::EcP256);
        }
        if alg == &rcgen::PKCS_ECDSA_P384_SHA384 {
            return Some(KeyType::EcP384);
        }
        let bits = PublicKeyParams::from_spki_der(&self.public_key_spki_der())
            .ok()?
            .rsa_bits()?;
        match bits {
            2048 => Some(KeyType::Rsa2048),
            3072 => Some(KeyType::Rsa3072),
            4096 => Some(KeyType::Rsa4096),
            _ => None,
        }
    }

    /// The rcgen key, for signing.
    pub(crate) fn rcgen(&self) -> &rcgen::KeyPair {
        &self.inner
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("key_type", &self.key_type())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn key_type_names_round_trip() {
        for kt in [
            KeyType::EcP256,
            KeyType::EcP384,
            KeyType::Rsa2048,
            KeyType::Rsa3072,
            KeyType::Rsa4096,
        ] {
            assert_eq!(kt.as_str().parse::<KeyType>().unwrap(), kt);
        }
        assert!(matches!(
            "ec-p521".parse::<KeyType>(),
            Err(KeyError::UnknownKeyType(_))
        ));
    }

    #[test]
    fn rsa_generation_is_a_clear_error() {
        assert_eq!(
            KeyPair::generate(KeyType::Rsa2048).unwrap_err(),
            KeyError::RsaGenerationUnsupported {
                key_type: KeyType::Rsa2048
            }
        );
    }

    #[test]
    fn pkcs8_der_and_pem_round_trip() {
        for kt in [KeyType::EcP256, KeyType::EcP384] {
            let key = KeyPair::generate(kt).unwrap();
            assert_eq!(key.key_type(), Some(kt));
            let again = KeyPair::from_pkcs8_der(key.pkcs8_der()).unwrap();
            assert_eq!(again.public_key_spki_der(), key.public_key_spki_der());
            let from_pem = KeyPair::from_pkcs8_pem(&key.to_pkcs8_pem()).unwrap();
            assert_eq!(from_pem.public_key_spki_der(), key.public_key_spki_der());
        }
    }

    #[test]
    fn garbage_private_key_is_rejected() {
        assert_eq!(
            KeyPair::from_pkcs8_der(b"nope").unwrap_err(),
            KeyError::MalformedPrivateKey
        );
        assert_eq!(
            KeyPair::from_pkcs8_pem("nope").unwrap_err(),
            KeyError::MissingPemPrivateKey
        );
    }

    #[test]
    fn debug_does_not_print_the_secret() {
        let key = KeyPair::generate(KeyType::EcP256).unwrap();
        let text = format!("{key:?}");
        assert!(text.contains("EcP256"), "{text}");
        assert!(!text.contains("serialized"), "{text}");
    }
}
