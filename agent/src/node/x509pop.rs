//! x509pop node attestation, the agent's half: send the node certificate chain, then prove
//! possession of its key by signing the server's challenge.
//!
//! The certificate, intermediates and key are read at every attestation (a certificate renewed
//! on disk is used from the next one), and checked to belong together before anything is sent.
//! The signature covers [`lanyard_x509::node::pop_message`]: the server's nonce, the leaf and
//! this attestation's CSR, so it is worth nothing to anyone relaying the challenge. EC keys
//! sign with ECDSA (P-256/SHA-256, P-384/SHA-384), RSA keys with RSASSA-PSS/SHA-256.

use std::path::{Path, PathBuf};

use lanyard_proto::lanyard::agent::v1::agent_service_client::AgentServiceClient;
use lanyard_x509::node::{PopAlgorithm, node_certificate, pop_message};
use lanyard_x509::{Bundle, CertDer, certificates_from_pem, join_der_certificates};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair as _, RsaKeyPair};
use tonic::transport::Channel;
use zeroize::Zeroizing;

use super::NodeError;
use super::client::{self, AgentSvid, ChallengeResponder};

/// The `attestation_type` of x509pop.
pub const ATTESTATION_TYPE: &str = "x509pop";

/// Where the node certificate and its key are.
#[derive(Debug, Clone)]
pub struct X509PopConfig {
    /// PEM: the node certificate, then any intermediates.
    pub certificate_path: PathBuf,
    /// PEM: its private key (PKCS#8, or PKCS#1 for RSA).
    pub private_key_path: PathBuf,
    /// PEM: more intermediates.
    pub intermediates_path: Option<PathBuf>,
}

/// The node's key, ready to sign. `Debug` shows only the algorithm.
enum SigningKey {
    Ec(EcdsaKeyPair, PopAlgorithm),
    Rsa(RsaKeyPair),
}

/// A node certificate chain and the leaf's key, read from disk and checked to belong together.
pub struct NodeCredential {
    chain: Vec<CertDer>,
    key: SigningKey,
}

impl std::fmt::Debug for NodeCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeCredential")
            .field("certificates", &self.chain.len())
            .finish_non_exhaustive()
    }
}

fn cannot(path: &Path, what: impl std::fmt::Display) -> NodeError {
    NodeError::CannotAttest(format!("x509pop: {}: {what}", path.display()))
}

fn read_certificates(path: &Path) -> Result<Vec<CertDer>, NodeError> {
    let pem = std::fs::read(path).map_err(|e| cannot(path, e))?;
    certificates_from_pem(&pem).map_err(|e| cannot(path, e))
}

/// Parses a PEM private key: PKCS#8 (EC P-256, EC P-384, RSA) or PKCS#1 RSA.
fn parse_key(path: &Path, text: &[u8]) -> Result<SigningKey, NodeError> {
    let block = pem::parse(text).map_err(|e| cannot(path, format!("not a PEM key: {e}")))?;
    let der = Zeroizing::new(block.contents().to_vec());
    let rng = SystemRandom::new();
    match block.tag() {
        "PRIVATE KEY" => {
            for (alg, name) in [
                (
                    &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                    PopAlgorithm::EcdsaP256Sha256,
                ),
                (
                    &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
                    PopAlgorithm::EcdsaP384Sha384,
                ),
            ] {
                if let Ok(k) = EcdsaKeyPair::from_pkcs8(alg, &der, &rng) {
                    return Ok(SigningKey::Ec(k, name));
                }
            }
            RsaKeyPair::from_pkcs8(&der)
                .map(SigningKey::Rsa)
                .map_err(|e| {
                    cannot(
                        path,
                        format!("not an EC P-256, EC P-384 or RSA (2048 to 4096 bits) key: {e}"),
                    )
                })
        }
        "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der)
            .map(SigningKey::Rsa)
            .map_err(|e| cannot(path, format!("not a usable RSA key: {e}"))),
        "EC PRIVATE KEY" => Err(cannot(
            path,
            "holds a SEC1 EC key; convert it to PKCS#8: `openssl pkcs8 -topk8 -nocrypt -in <key> -out <new key>`",
        )),
        other => Err(cannot(
            path,
            format!(
                "holds a {other:?} PEM block; expected an unencrypted \"PRIVATE KEY\" (PKCS#8) or \"RSA PRIVATE KEY\""
            ),
        )),
    }
}

impl X509PopConfig {
    /// Reads the chain and the key now, and checks the key is the certificate's.
    pub fn load(&self) -> Result<NodeCredential, NodeError> {
        let mut chain = read_certificates(&self.certificate_path)?;
        if chain.is_empty() {
            return Err(cannot(
                &self.certificate_path,
                "holds no CERTIFICATE block: put the node certificate there (then any intermediates)",
            ));
        }
        if let Some(path) = &self.intermediates_path {
            chain.extend(read_certificates(path)?);
        }
        let text = Zeroizing::new(
            std::fs::read(&self.private_key_path).map_err(|e| cannot(&self.private_key_path, e))?,
        );
        let key = parse_key(&self.private_key_path, &text)?;
        let leaf =
            node_certificate(chain[0].as_bytes()).map_err(|e| cannot(&self.certificate_path, e))?;
        let (_, cert_key) = lanyard_x509::spki_raw_public_key(&leaf.public_key_spki_der)
            .map_err(|e| cannot(&self.certificate_path, e))?;
        let key_public = match &key {
            SigningKey::Ec(k, _) => k.public_key().as_ref(),
            SigningKey::Rsa(k) => k.public_key().as_ref(),
        };
        if key_public != cert_key.as_slice() {
            return Err(cannot(
                &self.private_key_path,
                format!(
                    "is not the key of the certificate in {}",
                    self.certificate_path.display()
                ),
            ));
        }
        Ok(NodeCredential { chain, key })
    }
}

impl NodeCredential {
    /// The attestation payload: the chain as concatenated DER, leaf first.
    pub fn payload(&self) -> Vec<u8> {
        join_der_certificates(&self.chain)
    }
}

impl ChallengeResponder for NodeCredential {
    fn respond(&self, challenge: &[u8], csr: &[u8]) -> Result<Vec<u8>, NodeError> {
        let leaf = self.chain.first().map_or(&[][..], CertDer::as_bytes);
        let message = pop_message(challenge, leaf, csr);
        let rng = SystemRandom::new();
        let failed = |_| NodeError::Key("x509pop: signing the challenge failed".into());
        let (algorithm, sig) = match &self.key {
            SigningKey::Ec(k, alg) => (
                *alg,
                k.sign(&rng, &message).map_err(failed)?.as_ref().to_vec(),
            ),
            SigningKey::Rsa(k) => {
                let mut sig = vec![0; k.public().modulus_len()];
                k.sign(&signature::RSA_PSS_SHA256, &rng, &message, &mut sig)
                    .map_err(failed)?;
                (PopAlgorithm::RsaPssSha256, sig)
            }
        };
        Ok(serde_json::json!({
            "algorithm": algorithm.as_str(),
            "signature": hex::encode(sig),
        })
        .to_string()
        .into_bytes())
    }
}

/// Attests with the node certificate `cfg` names (read now); returns the agent SVID and the
/// server's bundle.
pub async fn attest(
    client: &mut AgentServiceClient<Channel>,
    cfg: &X509PopConfig,
) -> Result<(AgentSvid, Bundle), NodeError> {
    let credential = cfg.load()?;
    client::attest_with(
        client,
        ATTESTATION_TYPE,
        credential.payload(),
        Some(&credential),
    )
    .await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use rcgen::{CertificateParams, KeyPair, KeyUsagePurpose};

    use super::*;

    fn files(dir: &Path, cert_pem: &str, key_pem: &str) -> X509PopConfig {
        let certificate_path = dir.join("node.pem");
        let private_key_path = dir.join("node.key");
        std::fs::write(&certificate_path, cert_pem).unwrap();
        std::fs::write(&private_key_path, key_pem).unwrap();
        X509PopConfig {
            certificate_path,
            private_key_path,
            intermediates_path: None,
        }
    }

    fn node_cert(key: &KeyPair) -> String {
        let mut p = CertificateParams::new(vec!["node-1".to_owned()]).unwrap();
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.self_signed(key).unwrap().pem()
    }

    #[test]
    fn a_node_key_signs_the_message_the_server_checks() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(_, _, &'static dyn signature::VerificationAlgorithm); 2] = [
            (
                &rcgen::PKCS_ECDSA_P256_SHA256,
                "ecdsa-p256-sha256",
                &signature::ECDSA_P256_SHA256_ASN1,
            ),
            (
                &rcgen::PKCS_ECDSA_P384_SHA384,
                "ecdsa-p384-sha384",
                &signature::ECDSA_P384_SHA384_ASN1,
            ),
        ];
        for (rcgen_alg, alg, verify) in cases {
            let key = KeyPair::generate_for(rcgen_alg).unwrap();
            let cfg = files(dir.path(), &node_cert(&key), &key.serialize_pem());
            let cred = cfg.load().unwrap();
            let response = cred.respond(&[9; 32], b"csr").unwrap();
            let v: serde_json::Value = serde_json::from_slice(&response).unwrap();
            let sig = hex::decode(v["signature"].as_str().unwrap()).unwrap();
            assert_eq!(v["algorithm"], alg);
            let message = pop_message(&[9; 32], cred.chain[0].as_bytes(), b"csr");
            signature::UnparsedPublicKey::new(verify, key.public_key_raw())
                .verify(&message, &sig)
                .unwrap();
            assert_eq!(cred.payload(), cred.chain[0].as_bytes());
        }
    }

    #[test]
    fn a_key_of_another_certificate_or_an_unusable_file_is_refused_with_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let key = KeyPair::generate().unwrap();
        let other = KeyPair::generate().unwrap();
        let cfg = files(dir.path(), &node_cert(&key), &other.serialize_pem());
        let e = cfg.load().unwrap_err().to_string();
        assert!(
            e.contains("node.key: is not the key of the certificate in"),
            "{e}"
        );

        let sec1 = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
        let cfg = files(dir.path(), &node_cert(&key), sec1);
        let e = cfg.load().unwrap_err().to_string();
        assert!(e.contains("openssl pkcs8 -topk8"), "{e}");

        let cfg = files(dir.path(), "", &key.serialize_pem());
        let e = cfg.load().unwrap_err().to_string();
        assert!(e.contains("node.pem: holds no CERTIFICATE block"), "{e}");

        let mut cfg = files(dir.path(), &node_cert(&key), &key.serialize_pem());
        cfg.intermediates_path = Some(dir.path().join("missing.pem"));
        let e = cfg.load().unwrap_err().to_string();
        assert!(e.contains("missing.pem"), "{e}");
    }
}
