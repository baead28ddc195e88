//! The x509pop attestor against node PKIs minted here with rcgen: good EC and RSA chains, and
//! each way evidence goes wrong, with the error (and so the gRPC code) it gives. The challenge
//! rounds run through a test [`Challenger`] that answers as an agent would, or wrongly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
    KeyUsagePurpose, PublicKeyData, SanType,
};
use ring::signature::{self as sig};

use super::*;

/// A CA of the node PKI.
type Ca = CertifiedIssuer<'static, KeyPair>;

fn dn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p
}

fn root(cn: &str) -> Ca {
    CertifiedIssuer::self_signed(ca_params(cn), KeyPair::generate().unwrap()).unwrap()
}

fn intermediate(cn: &str, issuer: &Ca) -> Ca {
    CertifiedIssuer::signed_by(ca_params(cn), KeyPair::generate().unwrap(), issuer).unwrap()
}

/// A node leaf: CN `node-1.example.org`, that DNS SAN and a URI SAN, digitalSignature.
fn leaf_params() -> CertificateParams {
    let mut p = CertificateParams::new(vec!["node-1.example.org".to_owned()]).unwrap();
    p.subject_alt_names
        .push(SanType::URI("urn:example:node:1".try_into().unwrap()));
    p.distinguished_name = dn("node-1.example.org");
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p
}

fn node_leaf(params: &CertificateParams, key: &KeyPair, issuer: &Ca) -> Vec<u8> {
    params.signed_by(key, issuer).unwrap().der().to_vec()
}

fn der(ca: &Ca) -> Vec<u8> {
    ca.der().to_vec()
}

fn now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

fn td() -> TrustDomain {
    TrustDomain::new("example.org").unwrap()
}

fn attestor(roots: &[&Ca]) -> X509PopAttestor {
    attestor_with(roots, DEFAULT_AGENT_PATH_TEMPLATE)
}

fn attestor_with(roots: &[&Ca], template: &str) -> X509PopAttestor {
    X509PopAttestor::from_roots(
        td(),
        roots
            .iter()
            .map(|r| CertDer::from_der(der(r)).unwrap())
            .collect(),
        AgentPathTemplate::parse(template).unwrap(),
    )
}

/// The node's key as the agent signs with it.
enum NodeKey {
    Ec(sig::EcdsaKeyPair, PopAlgorithm),
    Rsa(sig::RsaKeyPair, PopAlgorithm),
}

impl NodeKey {
    fn of(key: &KeyPair) -> NodeKey {
        let pkcs8 = key.serialize_der();
        let rng = ring::rand::SystemRandom::new();
        for (alg, name) in [
            (
                &sig::ECDSA_P256_SHA256_ASN1_SIGNING,
                PopAlgorithm::EcdsaP256Sha256,
            ),
            (
                &sig::ECDSA_P384_SHA384_ASN1_SIGNING,
                PopAlgorithm::EcdsaP384Sha384,
            ),
        ] {
            if let Ok(k) = sig::EcdsaKeyPair::from_pkcs8(alg, &pkcs8, &rng) {
                return NodeKey::Ec(k, name);
            }
        }
        NodeKey::Rsa(
            sig::RsaKeyPair::from_pkcs8(&pkcs8).unwrap(),
            PopAlgorithm::RsaPssSha256,
        )
    }

    fn rsa_pkcs1(self) -> NodeKey {
        match self {
            NodeKey::Rsa(k, _) => NodeKey::Rsa(k, PopAlgorithm::RsaPkcs1Sha256),
            ec => ec,
        }
    }

    /// `{"algorithm", "signature"}` over [`node::pop_message`].
    fn respond(&self, nonce: &[u8], leaf: &[u8], csr: &[u8]) -> Vec<u8> {
        let message = node::pop_message(nonce, leaf, csr);
        let rng = ring::rand::SystemRandom::new();
        let (algorithm, signature) = match self {
            NodeKey::Ec(k, a) => (*a, k.sign(&rng, &message).unwrap().as_ref().to_vec()),
            NodeKey::Rsa(k, a) => {
                let mut s = vec![0; k.public().modulus_len()];
                let padding: &dyn sig::RsaEncoding = match a {
                    PopAlgorithm::RsaPkcs1Sha256 => &sig::RSA_PKCS1_SHA256,
                    _ => &sig::RSA_PSS_SHA256,
                };
                k.sign(padding, &rng, &message, &mut s).unwrap();
                (*a, s)
            }
        };
        serde_json::json!({
            "algorithm": algorithm.as_str(),
            "signature": hex::encode(signature),
        })
        .to_string()
        .into_bytes()
    }
}

/// What the test agent answers.
enum Answer {
    /// The right signature for the nonce, the leaf and the CSR.
    Sign,
    /// A signature over another nonce.
    OtherNonce,
    /// A signature for another CSR (a relayed challenge).
    OtherCsr,
    /// These bytes.
    Bytes(Vec<u8>),
}

struct TestAgent {
    key: NodeKey,
    leaf: Vec<u8>,
    csr: Vec<u8>,
    answer: Answer,
    /// The challenges received and the responses sent.
    rounds: Vec<(Vec<u8>, Vec<u8>)>,
}

impl TestAgent {
    fn new(key: &KeyPair, leaf: &[u8], answer: Answer) -> TestAgent {
        TestAgent {
            key: NodeKey::of(key),
            leaf: leaf.to_vec(),
            csr: b"the agent's CSR".to_vec(),
            answer,
            rounds: Vec::new(),
        }
    }
}

#[tonic::async_trait]
impl Challenger for TestAgent {
    async fn challenge(&mut self, challenge: Vec<u8>) -> Result<Vec<u8>, AttestError> {
        let response = match &self.answer {
            Answer::Sign => self.key.respond(&challenge, &self.leaf, &self.csr),
            Answer::OtherNonce => self.key.respond(&[0x42; NONCE_LEN], &self.leaf, &self.csr),
            Answer::OtherCsr => self
                .key
                .respond(&challenge, &self.leaf, b"another key's CSR"),
            Answer::Bytes(b) => b.clone(),
        };
        self.rounds.push((challenge, response.clone()));
        Ok(response)
    }

    fn csr(&self) -> &[u8] {
        &self.csr
    }
}

fn chain(certs: &[&[u8]]) -> Vec<u8> {
    certs.concat()
}

fn sha1(der: &[u8]) -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        der,
    ))
}

/// The selector values of `attested`.
fn values(attested: &Attested) -> Vec<String> {
    attested
        .selectors
        .iter()
        .map(|s| {
            assert_eq!(s.kind, "x509pop");
            s.value.clone()
        })
        .collect()
}

fn rejected(r: Result<Attested, AttestError>, words: &str) {
    match r {
        Err(AttestError::Rejected(m)) => assert!(m.contains(words), "{words:?} not in {m:?}"),
        other => panic!("expected Rejected ({words}), got {other:?}"),
    }
}

fn invalid(r: Result<Attested, AttestError>, words: &str) {
    match r {
        Err(AttestError::InvalidEvidence(m)) => {
            assert!(m.contains(words), "{words:?} not in {m:?}");
        }
        other => panic!("expected InvalidEvidence ({words}), got {other:?}"),
    }
}

#[tokio::test]
async fn a_good_ec_chain_attests_with_the_fingerprint_id_and_node_selectors() {
    let root = root("Node Root CA");
    let inter = intermediate("Node Intermediate CA", &root);
    let key = KeyPair::generate().unwrap();
    let leaf = node_leaf(&leaf_params(), &key, &inter);
    let a = attestor(&[&root]);
    let mut agent = TestAgent::new(&key, &leaf, Answer::Sign);

    let attested = a
        .attest(&chain(&[&leaf, &der(&inter)]), &mut agent, now())
        .await
        .unwrap();
    assert_eq!(
        attested.agent_id.to_string(),
        format!("spiffe://example.org/lanyard/agent/x509pop/{}", sha1(&leaf))
    );
    assert!(attested.reattestable);
    assert_eq!(agent.rounds.len(), 1);
    assert_eq!(agent.rounds[0].0.len(), NONCE_LEN);
    let v = values(&attested);
    let serial = lanyard_x509::node::node_certificate(&leaf)
        .unwrap()
        .serial_hex;
    for want in [
        "subject:cn:node-1.example.org".to_owned(),
        format!("ca:fingerprint:{}", sha1(&der(&inter))),
        format!("ca:fingerprint:{}", sha1(&der(&root))),
        format!("serialnumber:{serial}"),
        "san:dns:node-1.example.org".to_owned(),
        "san:uri:urn:example:node:1".to_owned(),
    ] {
        assert!(v.contains(&want), "{want} missing from {v:?}");
    }
    assert!(!serial.starts_with('0') && serial.chars().all(|c| c.is_ascii_hexdigit()));
    // Every selector is one an entry may name.
    for s in &attested.selectors {
        crate::selectors::check(s, crate::selectors::Selects::Nodes, &[]).unwrap();
    }

    // Re-attestation with the same certificate (a fresh challenge) names the same agent.
    let mut again = TestAgent::new(&key, &leaf, Answer::Sign);
    let second = a
        .attest(&chain(&[&leaf, &der(&inter)]), &mut again, now())
        .await
        .unwrap();
    assert_eq!(second.agent_id, attested.agent_id);
    assert_ne!(again.rounds[0].0, agent.rounds[0].0, "nonces repeat");
}

#[tokio::test]
async fn rsa_and_p384_leaves_attest_with_each_of_their_algorithms() {
    let root = root("Node Root CA");
    let a = attestor(&[&root]);
    let rsa = lanyard_x509::KeyPair::generate(lanyard_x509::KeyType::Rsa2048).unwrap();
    let rsa = KeyPair::try_from(rsa.pkcs8_der()).unwrap();
    let rsa_leaf = node_leaf(&leaf_params(), &rsa, &root);
    for key in [NodeKey::of(&rsa), NodeKey::of(&rsa).rsa_pkcs1()] {
        let mut agent = TestAgent::new(&rsa, &rsa_leaf, Answer::Sign);
        agent.key = key;
        let attested = a.attest(&rsa_leaf, &mut agent, now()).await.unwrap();
        assert!(attested.agent_id.path().ends_with(&sha1(&rsa_leaf)));
    }

    let p384 = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    let p384_leaf = node_leaf(&leaf_params(), &p384, &root);
    let mut agent = TestAgent::new(&p384, &p384_leaf, Answer::Sign);
    a.attest(&p384_leaf, &mut agent, now()).await.unwrap();

    // An EC algorithm for the RSA key does not fit.
    let ec = KeyPair::generate().unwrap();
    let mut agent = TestAgent::new(&ec, &rsa_leaf, Answer::Sign);
    rejected(
        a.attest(&rsa_leaf, &mut agent, now()).await,
        "does not fit the node certificate's key",
    );
}

#[tokio::test]
async fn an_expired_leaf_is_refused_before_any_challenge() {
    let root = root("Node Root CA");
    let key = KeyPair::generate().unwrap();
    let mut params = leaf_params();
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let leaf = node_leaf(&params, &key, &root);
    let mut agent = TestAgent::new(&key, &leaf, Answer::Sign);
    rejected(
        attestor(&[&root]).attest(&leaf, &mut agent, now()).await,
        "leaf certificate (chain[0]) expired at 2021-01-01T00:00:00Z; provision the node with a current certificate",
    );
    assert!(agent.rounds.is_empty());
}

#[tokio::test]
async fn a_chain_to_another_ca_is_refused() {
    let ours = root("Node Root CA");
    // Same name, other key: an impostor CA.
    let theirs = root("Node Root CA");
    let key = KeyPair::generate().unwrap();
    let leaf = node_leaf(&leaf_params(), &key, &theirs);
    let mut agent = TestAgent::new(&key, &leaf, Answer::Sign);
    rejected(
        attestor(&[&ours]).attest(&leaf, &mut agent, now()).await,
        "does not lead to a CA of the configured CA bundle",
    );
    // The impostor root sent along as an intermediate does not help.
    let mut agent = TestAgent::new(&key, &leaf, Answer::Sign);
    let r = attestor(&[&ours])
        .attest(&chain(&[&leaf, &der(&theirs)]), &mut agent, now())
        .await;
    assert!(matches!(r, Err(AttestError::Rejected(_))), "{r:?}");
    assert!(agent.rounds.is_empty());
}

#[tokio::test]
async fn a_signature_over_another_nonce_or_csr_is_refused() {
    let root = root("Node Root CA");
    let key = KeyPair::generate().unwrap();
    let leaf = node_leaf(&leaf_params(), &key, &root);
    let a = attestor(&[&root]);
    for answer in [Answer::OtherNonce, Answer::OtherCsr] {
        let mut agent = TestAgent::new(&key, &leaf, answer);
        rejected(
            a.attest(&leaf, &mut agent, now()).await,
            "the signature does not verify with the node certificate's key over this challenge",
        );
    }
    // The key of another node with a certificate from the same CA.
    let other = KeyPair::generate().unwrap();
    let mut agent = TestAgent::new(&other, &leaf, Answer::Sign);
    rejected(
        a.attest(&leaf, &mut agent, now()).await,
        "check the agent's private_key_path",
    );
}

#[tokio::test]
async fn a_replayed_response_is_refused() {
    let root = root("Node Root CA");
    let key = KeyPair::generate().unwrap();
    let leaf = node_leaf(&leaf_params(), &key, &root);
    let a = attestor(&[&root]);
    let mut honest = TestAgent::new(&key, &leaf, Answer::Sign);
    a.attest(&leaf, &mut honest, now()).await.unwrap();
    // Whoever saw that exchange sends the same response to a new challenge.
    let recorded = honest.rounds[0].1.clone();
    let mut replayer = TestAgent::new(&key, &leaf, Answer::Bytes(recorded));
    rejected(
        a.attest(&leaf, &mut replayer, now()).await,
        "does not verify",
    );
}

#[tokio::test]
async fn leaves_unfit_for_proof_of_possession_are_refused() {
    let root = root("Node Root CA");
    let a = attestor(&[&root]);
    let key = KeyPair::generate().unwrap();
    for (what, usages, words) in [
        (
            "keyEncipherment only",
            vec![KeyUsagePurpose::KeyEncipherment],
            "does not allow digitalSignature",
        ),
        ("no keyUsage", vec![], "does not allow digitalSignature"),
    ] {
        let mut params = leaf_params();
        params.key_usages = usages;
        let leaf = node_leaf(&params, &key, &root);
        let mut agent = TestAgent::new(&key, &leaf, Answer::Sign);
        let r = a.attest(&leaf, &mut agent, now()).await;
        assert!(
            matches!(&r, Err(AttestError::Rejected(m)) if m.contains(words)),
            "{what}: {r:?}"
        );
    }
    let mut params = leaf_params();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let leaf = node_leaf(&params, &key, &root);
    let mut agent = TestAgent::new(&key, &leaf, Answer::Sign);
    rejected(
        a.attest(&leaf, &mut agent, now()).await,
        "is a CA certificate",
    );
}

#[tokio::test]
async fn a_chain_longer_than_four_intermediates_is_refused_unverified() {
    let root = root("Node Root CA");
    let mut cas = vec![intermediate("CA 1", &root)];
    for i in 2..=5 {
        let next = intermediate(&format!("CA {i}"), cas.last().unwrap());
        cas.push(next);
    }
    let key = KeyPair::generate().unwrap();
    let leaf = node_leaf(&leaf_params(), &key, cas.last().unwrap());
    let mut certs: Vec<Vec<u8>> = vec![leaf.clone()];
    certs.extend(cas.iter().rev().map(der));
    let refs: Vec<&[u8]> = certs.iter().map(Vec::as_slice).collect();
    let mut agent = TestAgent::new(&key, &leaf, Answer::Sign);
    invalid(
        attestor(&[&root])
            .attest(&chain(&refs), &mut agent, now())
            .await,
        "holds 6 certificates; at most 5 (the leaf and 4 intermediates)",
    );
    assert!(agent.rounds.is_empty());

    // Four intermediates are fine.
    let leaf4 = leaf_under(&key, &cas[3]);
    let mut certs4: Vec<Vec<u8>> = vec![leaf4.clone()];
    certs4.extend(cas[..4].iter().rev().map(der));
    let refs4: Vec<&[u8]> = certs4.iter().map(Vec::as_slice).collect();
    let mut agent = TestAgent::new(&key, &leaf4, Answer::Sign);
    attestor(&[&root])
        .attest(&chain(&refs4), &mut agent, now())
        .await
        .unwrap();
}

fn leaf_under(key: &KeyPair, ca: &Ca) -> Vec<u8> {
    node_leaf(&leaf_params(), key, ca)
}

/// An RSA public key of `bits` bits that no one holds the private key of.
struct BigRsa(Vec<u8>);

impl BigRsa {
    fn new(bits: usize) -> BigRsa {
        fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
            let mut out = vec![tag];
            let len = content.len();
            if len < 0x80 {
                out.push(u8::try_from(len).unwrap());
            } else {
                out.extend([0x82, u8::try_from(len >> 8).unwrap(), (len & 0xff) as u8]);
            }
            out.extend_from_slice(content);
            out
        }
        let mut n = vec![0x00];
        n.extend(std::iter::repeat_n(0xc5, bits / 8));
        let mut key = tlv(0x02, &n);
        key.extend(tlv(0x02, &[0x01, 0x00, 0x01]));
        BigRsa(tlv(0x30, &key))
    }
}

impl PublicKeyData for BigRsa {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

#[tokio::test]
async fn an_oversized_rsa_key_is_refused_before_any_signature_is_checked() {
    let root = root("Node Root CA");
    let key = KeyPair::generate().unwrap();
    let big = BigRsa::new(8192);
    let leaf = leaf_params().signed_by(&big, &root).unwrap().der().to_vec();
    let mut agent = TestAgent::new(&key, &leaf, Answer::Sign);
    invalid(
        attestor(&[&root]).attest(&leaf, &mut agent, now()).await,
        "has a 8192-bit RSA key; 2048 to 4096 bits are accepted",
    );
    assert!(agent.rounds.is_empty());

    // An intermediate with such a key, whatever it claims to have signed: refused on its size,
    // not on a signature (none is checked).
    let params = ca_params("Big CA");
    let big_ca = params.signed_by(&big, &root).unwrap().der().to_vec();
    let node = leaf_under(&key, &root);
    let mut agent = TestAgent::new(&key, &node, Answer::Sign);
    invalid(
        attestor(&[&root])
            .attest(&chain(&[&node, &big_ca]), &mut agent, now())
            .await,
        "chain[1] has a 8192-bit RSA key",
    );
}

#[tokio::test]
async fn malformed_evidence_and_responses_are_invalid_arguments() {
    let root = root("Node Root CA");
    let a = attestor(&[&root]);
    let key = KeyPair::generate().unwrap();
    let leaf = leaf_under(&key, &root);

    let mut agent = TestAgent::new(&key, &leaf, Answer::Sign);
    invalid(
        a.attest(b"not a certificate", &mut agent, now()).await,
        "DER certificates, leaf first",
    );
    invalid(a.attest(&[], &mut agent, now()).await, "chain is empty");
    invalid(
        a.attest(&vec![0x30; 200_000], &mut agent, now()).await,
        "payload is 200000 bytes",
    );
    for (bytes, words) in [
        (b"{}".to_vec(), "must be JSON"),
        (
            br#"{"algorithm": "md5-rsa", "signature": ""}"#.to_vec(),
            "known are ecdsa-p256-sha256",
        ),
        (
            br#"{"algorithm": "ecdsa-p256-sha256", "signature": "%%%"}"#.to_vec(),
            "not hex",
        ),
        (vec![b' '; 5000], "at most 4096"),
    ] {
        let mut agent = TestAgent::new(&key, &leaf, Answer::Bytes(bytes));
        invalid(a.attest(&leaf, &mut agent, now()).await, words);
    }
}

#[tokio::test]
async fn the_agent_path_template_names_agents_from_the_certificate() {
    let root = root("Node Root CA");
    let key = KeyPair::generate().unwrap();
    let leaf = leaf_under(&key, &root);
    let serial = lanyard_x509::node::node_certificate(&leaf)
        .unwrap()
        .serial_hex;
    let a = attestor_with(&[&root], "cn/{subject_cn}/{serial}");
    let mut agent = TestAgent::new(&key, &leaf, Answer::Sign);
    let attested = a.attest(&leaf, &mut agent, now()).await.unwrap();
    assert_eq!(
        attested.agent_id.path(),
        format!("/lanyard/agent/x509pop/cn/node-1.example.org/{serial}")
    );

    // A common name that cannot be a path segment is refused with the reason.
    let mut params = leaf_params();
    params.distinguished_name = dn("Rack 4 / Node 1");
    let odd = node_leaf(&params, &key, &root);
    let mut agent = TestAgent::new(&key, &odd, Answer::Sign);
    rejected(
        a.attest(&odd, &mut agent, now()).await,
        "cannot be part of a SPIFFE ID",
    );

    for (bad, words) in [
        ("static", "no placeholder"),
        ("{hostname}", "unknown placeholder \"{hostname}\""),
        ("/{fingerprint}", "not make a valid SPIFFE ID path"),
        ("a//{fingerprint}", "not make a valid SPIFFE ID path"),
        ("a b/{fingerprint}", "holds ' '"),
    ] {
        let e = AgentPathTemplate::parse(bad).unwrap_err();
        assert!(e.contains(words), "{bad}: {e}");
    }
}

#[test]
fn the_ca_bundle_file_is_checked_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ca.pem");
    let config = |p: &Path| X509PopConfig {
        ca_bundle_path: p.to_owned(),
        agent_path_template: DEFAULT_AGENT_PATH_TEMPLATE.to_owned(),
    };
    let e = X509PopAttestor::new(td(), &config(&path)).unwrap_err();
    assert!(e.to_string().contains("ca.pem"), "{e}");

    std::fs::write(&path, "").unwrap();
    let e = X509PopAttestor::new(td(), &config(&path)).unwrap_err();
    assert!(e.to_string().contains("holds no CERTIFICATE block"), "{e}");

    // A leaf is no CA.
    let root = root("Node Root CA");
    let key = KeyPair::generate().unwrap();
    let params = leaf_params();
    let leaf = params.signed_by(&key, &root).unwrap();
    std::fs::write(&path, format!("{}{}", root.pem(), leaf.pem())).unwrap();
    let e = X509PopAttestor::new(td(), &config(&path)).unwrap_err();
    assert!(
        e.to_string()
            .contains("certificate 2 of the file: bundle authority is not a CA certificate"),
        "{e}"
    );

    std::fs::write(&path, root.pem()).unwrap();
    X509PopAttestor::new(td(), &config(&path)).unwrap();
}
