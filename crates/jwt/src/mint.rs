//! Minting JWT-SVIDs: JOSE header and claims (JWT-SVID §2, §3), signed with ring (RFC 7515 §5.1).

use lanyard_id::SpiffeId;
use lanyard_x509::{KeyPair, PublicKeyAlgorithm, spki_raw_public_key};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, RsaKeyPair};
use serde_json::{Map, Value, json};

use crate::alg::{Algorithm, describe};
use crate::error::JwtError;
use crate::jws;

/// The claims of a JWT-SVID to mint.
#[derive(Debug, Clone, PartialEq)]
pub struct JwtSvidClaims {
    /// `sub`: the workload's SPIFFE ID (JWT-SVID §3.1).
    pub sub: SpiffeId,
    /// `aud`: one or more audiences (JWT-SVID §3.2); one is "strongly recommended" (§7.2).
    /// Encoded as a string when there is one, as an array otherwise.
    pub aud: Vec<String>,
    /// `exp`, seconds since the Unix epoch (JWT-SVID §3.3); must be after `iat`.
    pub exp: i64,
    /// `iat`, seconds since the Unix epoch.
    pub iat: i64,
    /// Further claims (JWT-SVID §3: "MAY be used as implementers see fit"); may not repeat
    /// `sub`, `aud`, `exp` or `iat`.
    pub extra: Map<String, Value>,
}

impl JwtSvidClaims {
    /// Claims without extras.
    pub fn new(sub: SpiffeId, aud: Vec<String>, iat: i64, exp: i64) -> JwtSvidClaims {
        JwtSvidClaims {
            sub,
            aud,
            exp,
            iat,
            extra: Map::new(),
        }
    }
}

/// The claims set the fields above own.
const RESERVED: [&str; 4] = ["sub", "aud", "exp", "iat"];

/// Mints a JWT-SVID signed by `key` and naming it `kid`.
///
/// The header is `{"alg", "kid", "typ": "JWT"}` and nothing else (JWT-SVID §2), with `alg`
/// `ES256` for EC P-256 keys, `ES384` for EC P-384 keys and `RS256` for RSA keys. The result is
/// the JWS compact serialization (JWT-SVID §5.1).
pub fn mint_jwt_svid(key: &KeyPair, kid: &str, claims: &JwtSvidClaims) -> Result<String, JwtError> {
    // JWT-SVID §6.1: bundle keys carry a `kid`, and validators find the key by it.
    if kid.is_empty() {
        return Err(JwtError::MissingKeyId);
    }
    // JWT-SVID §3.2: "The `aud` claim MUST be present, containing one or more values."
    if claims.aud.is_empty() {
        return Err(JwtError::MissingAudience);
    }
    if claims.aud.iter().any(String::is_empty) {
        return Err(JwtError::InvalidClaim {
            name: "aud",
            reason: "an audience value is empty".to_string(),
        });
    }
    // Lanyard's bounds on a requested audience set (see `check_audiences`): no token is ever
    // minted beyond them, whoever asks.
    crate::check_audiences(&claims.aud)?;
    if claims.exp <= claims.iat {
        return Err(JwtError::InvalidClaim {
            name: "exp",
            reason: format!("exp {} is not after iat {}", claims.exp, claims.iat),
        });
    }
    if let Some(name) = RESERVED.iter().find(|n| claims.extra.contains_key(**n)) {
        return Err(JwtError::ReservedClaim {
            name: (*name).to_string(),
        });
    }

    let (key_alg, _) = spki_raw_public_key(&key.public_key_spki_der()).map_err(|e| {
        JwtError::UnsupportedSigningKey {
            reason: e.to_string(),
        }
    })?;
    let alg = match key_alg {
        PublicKeyAlgorithm::EcP256 => Algorithm::Es256,
        PublicKeyAlgorithm::EcP384 => Algorithm::Es384,
        PublicKeyAlgorithm::Rsa { .. } => Algorithm::Rs256,
        other => {
            return Err(JwtError::UnsupportedSigningKey {
                reason: format!("{} (use EC P-256, EC P-384 or RSA)", describe(other)),
            });
        }
    };

    let mut header = Map::new();
    header.insert("alg".into(), json!(alg.as_str()));
    header.insert("kid".into(), json!(kid));
    header.insert("typ".into(), json!("JWT"));

    let mut payload = claims.extra.clone();
    payload.insert("sub".into(), json!(claims.sub.as_str()));
    let aud = match claims.aud.as_slice() {
        [one] => json!(one),
        many => json!(many),
    };
    payload.insert("aud".into(), aud);
    payload.insert("exp".into(), json!(claims.exp));
    payload.insert("iat".into(), json!(claims.iat));

    // RFC 7515 §5.1: the JWS Signing Input is ASCII(BASE64URL(header) || '.' || BASE64URL(payload)).
    let signing_input = format!(
        "{}.{}",
        jws::encode_object(header),
        jws::encode_object(payload)
    );
    let signature = sign(key, alg, signing_input.as_bytes())?;
    Ok(format!("{signing_input}.{}", jws::encode(&signature)))
}

fn sign(key: &KeyPair, alg: Algorithm, message: &[u8]) -> Result<Vec<u8>, JwtError> {
    let rng = SystemRandom::new();
    let failed = |what: &str| JwtError::SigningFailed {
        reason: what.to_string(),
    };
    // RFC 7518 §3.4: ECDSA signatures are R || S, each the size of the curve ("fixed").
    let ecdsa = |signing_alg| {
        let pair = EcdsaKeyPair::from_pkcs8(signing_alg, key.pkcs8_der(), &rng)
            .map_err(|e| failed(&format!("ring rejected the EC key: {e}")))?;
        let sig = pair
            .sign(&rng, message)
            .map_err(|_| failed("ECDSA signing failed"))?;
        Ok(sig.as_ref().to_vec())
    };
    match alg {
        Algorithm::Es256 => ecdsa(&signature::ECDSA_P256_SHA256_FIXED_SIGNING),
        Algorithm::Es384 => ecdsa(&signature::ECDSA_P384_SHA384_FIXED_SIGNING),
        Algorithm::Rs256 => {
            let pair = RsaKeyPair::from_pkcs8(key.pkcs8_der())
                .map_err(|e| failed(&format!("ring rejected the RSA key: {e}")))?;
            let mut sig = vec![0; pair.public().modulus_len()];
            pair.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut sig)
                .map_err(|_| failed("RSA signing failed"))?;
            Ok(sig)
        }
        other => Err(failed(&format!(
            "{} is not used for minting",
            other.as_str()
        ))),
    }
}
