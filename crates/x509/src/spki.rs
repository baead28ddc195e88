//! Public keys as parameters: SubjectPublicKeyInfo DER <-> (curve, x, y) or (n, e).
//!
//! JWKs (RFC 7517/7518) carry keys as their mathematical parameters while certificates and the
//! rest of Lanyard use DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7). This module converts between
//! the two, always producing the canonical DER encoding so that a key survives any number of
//! round trips byte-for-byte.

use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_NIST_EC_P521,
    OID_PKCS1_RSAENCRYPTION,
};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::der::{strip_leading_zeros, tlv, unsigned_integer};
use crate::error::KeyError;

/// DER of the `id-ecPublicKey` OID (1.2.840.10045.2.1).
const OID_EC_PUBLIC_KEY_DER: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// DER of `rsaEncryption` (1.2.840.113549.1.1.1) followed by the NULL parameters.
const RSA_ALGORITHM_CONTENT: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];

/// The elliptic curves a JWK may name (RFC 7518 §6.2.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    /// The JWK `crv` name.
    pub(crate) fn jwk_name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }

    /// Parses a JWK `crv` name.
    pub(crate) fn from_jwk_name(name: &str) -> Option<Curve> {
        match name {
            "P-256" => Some(Curve::P256),
            "P-384" => Some(Curve::P384),
            "P-521" => Some(Curve::P521),
            _ => None,
        }
    }

    /// Length in bytes of one coordinate (RFC 7518 §6.2.1.2: "MUST be the full size").
    pub(crate) fn coordinate_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }

    fn oid_der(self) -> &'static [u8] {
        match self {
            Curve::P256 => &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
            Curve::P384 => &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22],
            Curve::P521 => &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23],
        }
    }
}

/// A public key by its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PublicKeyParams {
    /// An uncompressed point on a NIST curve.
    Ec {
        curve: Curve,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    /// An RSA key; `n` and `e` are unsigned big-endian without leading zero octets.
    Rsa { n: Vec<u8>, e: Vec<u8> },
}

impl PublicKeyParams {
    /// Reads a DER SubjectPublicKeyInfo.
    pub(crate) fn from_spki_der(der: &[u8]) -> Result<PublicKeyParams, KeyError> {
        let (rest, spki) =
            SubjectPublicKeyInfo::from_der(der).map_err(|_| KeyError::MalformedPublicKey)?;
        if !rest.is_empty() {
            return Err(KeyError::MalformedPublicKey);
        }
        PublicKeyParams::from_spki(&spki)
    }

    /// Reads a parsed SubjectPublicKeyInfo.
    pub(crate) fn from_spki(spki: &SubjectPublicKeyInfo<'_>) -> Result<PublicKeyParams, KeyError> {
        let alg = &spki.algorithm.algorithm;
        if *alg == OID_KEY_TYPE_EC_PUBLIC_KEY {
            let curve_oid = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .ok_or(KeyError::MalformedPublicKey)?;
            let curve = if curve_oid == OID_EC_P256 {
                Curve::P256
            } else if curve_oid == OID_NIST_EC_P384 {
                Curve::P384
            } else if curve_oid == OID_NIST_EC_P521 {
                Curve::P521
            } else {
                return Err(KeyError::UnsupportedPublicKey(format!(
                    "EC curve {curve_oid}"
                )));
            };
            let point: &[u8] = &spki.subject_public_key.data;
            let n = curve.coordinate_len();
            match point.split_first() {
                Some((0x04, coords)) if coords.len() == 2 * n => Ok(PublicKeyParams::Ec {
                    curve,
                    x: coords[..n].to_vec(),
                    y: coords[n..].to_vec(),
                }),
                Some((0x02 | 0x03, _)) => Err(KeyError::UnsupportedPublicKey(
                    "compressed EC point".to_string(),
                )),
                _ => Err(KeyError::MalformedPublicKey),
            }
        } else if *alg == OID_PKCS1_RSAENCRYPTION {
            match spki.parsed() {
                Ok(PublicKey::RSA(rsa)) => {
                    let n = strip_leading_zeros(rsa.modulus);
                    let e = strip_leading_zeros(rsa.exponent);
                    if n.is_empty() || e.is_empty() {
                        return Err(KeyError::MalformedPublicKey);
                    }
                    Ok(PublicKeyParams::Rsa {
                        n: n.to_vec(),
                        e: e.to_vec(),
                    })
                }
                _ => Err(KeyError::MalformedPublicKey),
            }
        } else {
            Err(KeyError::UnsupportedPublicKey(format!("algorithm {alg}")))
        }
    }

    /// The canonical DER SubjectPublicKeyInfo.
    pub(crate) fn to_spki_der(&self) -> Vec<u8> {
        match self {
            PublicKeyParams::Ec { curve, x, y } => {
                let mut alg = OID_EC_PUBLIC_KEY_DER.to_vec();
                alg.extend_from_slice(curve.oid_der());
                let mut bits = Vec::with_capacity(2 + x.len() + y.len());
                bits.push(0x00); // no unused bits
                bits.push(0x04); // uncompressed point (SEC 1 §2.3.3)
                bits.extend_from_slice(x);
                bits.extend_from_slice(y);
                let mut content = tlv(0x30, &alg);
                content.extend_from_slice(&tlv(0x03, &bits));
                tlv(0x30, &content)
            }
            PublicKeyParams::Rsa { n, e } => {
                let mut rsa_key = unsigned_integer(n);
                rsa_key.extend_from_slice(&unsigned_integer(e));
                let mut bits = vec![0x00];
                bits.extend_from_slice(&tlv(0x30, &rsa_key));
                let mut content = tlv(0x30, RSA_ALGORITHM_CONTENT);
                content.extend_from_slice(&tlv(0x03, &bits));
                tlv(0x30, &content)
            }
        }
    }

    /// Modulus size in bits for RSA keys.
    pub(crate) fn rsa_bits(&self) -> Option<usize> {
        match self {
            PublicKeyParams::Rsa { n, .. } => {
                let lead = n.first().map_or(0, |b| 8 - b.leading_zeros() as usize);
                Some(n.len().saturating_sub(1) * 8 + lead)
            }
            PublicKeyParams::Ec { .. } => None,
        }
    }
}

/// The algorithm of a public key, as needed to pick a signature verification algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PublicKeyAlgorithm {
    /// ECDSA key on NIST P-256.
    EcP256,
    /// ECDSA key on NIST P-384.
    EcP384,
    /// ECDSA key on NIST P-521.
    EcP521,
    /// RSA key with a modulus of `bits` bits.
    Rsa {
        /// Modulus size in bits.
        bits: usize,
    },
}

/// Splits a DER SubjectPublicKeyInfo into its algorithm and the raw public key that signature
/// libraries such as ring expect: for EC keys the uncompressed point (`04 || x || y`, SEC 1
/// §2.3.3), for RSA keys the DER `RSAPublicKey` (RFC 8017 §A.1.1), both in canonical form.
pub fn spki_raw_public_key(spki: &[u8]) -> Result<(PublicKeyAlgorithm, Vec<u8>), KeyError> {
    let params = PublicKeyParams::from_spki_der(spki)?;
    let rsa_bits = params.rsa_bits().unwrap_or(0);
    match params {
        PublicKeyParams::Ec { curve, x, y } => {
            let alg = match curve {
                Curve::P256 => PublicKeyAlgorithm::EcP256,
                Curve::P384 => PublicKeyAlgorithm::EcP384,
                Curve::P521 => PublicKeyAlgorithm::EcP521,
            };
            let mut point = Vec::with_capacity(1 + x.len() + y.len());
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            Ok((alg, point))
        }
        PublicKeyParams::Rsa { n, e } => {
            let mut content = unsigned_integer(&n);
            content.extend_from_slice(&unsigned_integer(&e));
            let alg = PublicKeyAlgorithm::Rsa { bits: rsa_bits };
            Ok((alg, tlv(0x30, &content)))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::key::{KeyPair, KeyType};

    #[test]
    fn ec_spki_round_trips_byte_for_byte() {
        for kt in [KeyType::EcP256, KeyType::EcP384] {
            let key = KeyPair::generate(kt).unwrap();
            let spki = key.public_key_spki_der();
            let params = PublicKeyParams::from_spki_der(&spki).unwrap();
            assert_eq!(params.to_spki_der(), spki);
        }
    }

    #[test]
    fn rsa_params_encode_to_parseable_spki() {
        let params = PublicKeyParams::Rsa {
            n: vec![0xc3; 256],
            e: vec![0x01, 0x00, 0x01],
        };
        let der = params.to_spki_der();
        assert_eq!(PublicKeyParams::from_spki_der(&der).unwrap(), params);
        assert_eq!(params.rsa_bits(), Some(2048));
    }

    #[test]
    fn raw_public_key_is_the_point_or_the_rsa_public_key() {
        for (kt, alg) in [
            (KeyType::EcP256, PublicKeyAlgorithm::EcP256),
            (KeyType::EcP384, PublicKeyAlgorithm::EcP384),
        ] {
            let spki = KeyPair::generate(kt).unwrap().public_key_spki_der();
            let (got, raw) = spki_raw_public_key(&spki).unwrap();
            assert_eq!(got, alg);
            assert_eq!(raw[0], 0x04);
            // The point is the tail of the SPKI's BIT STRING.
            assert!(spki.ends_with(&raw));
        }
        let params = PublicKeyParams::Rsa {
            n: vec![0xc3; 256],
            e: vec![0x01, 0x00, 0x01],
        };
        let spki = params.to_spki_der();
        let (alg, raw) = spki_raw_public_key(&spki).unwrap();
        assert_eq!(alg, PublicKeyAlgorithm::Rsa { bits: 2048 });
        // The SPKI's BIT STRING holds exactly the RSAPublicKey DER.
        assert!(spki.ends_with(&raw));
        assert_eq!(raw[0], 0x30);
        assert_eq!(
            spki_raw_public_key(b"junk"),
            Err(KeyError::MalformedPublicKey)
        );
    }

    #[test]
    fn garbage_is_rejected() {
        assert_eq!(
            PublicKeyParams::from_spki_der(&[0x30, 0x00]),
            Err(KeyError::MalformedPublicKey)
        );
    }
}
