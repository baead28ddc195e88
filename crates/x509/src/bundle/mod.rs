//! SPIFFE bundles: a trust domain's X.509 and JWT authorities, and where verification finds them.
//!
//! See `standards/SPIFFE_Trust_Domain_and_Bundle.md`. A [`Bundle`] always records the trust
//! domain it belongs to (§3: "it is important to independently record the name of the trust
//! domain that the bundle represents"); the JWKS document itself does not name it. Three
//! encodings are supported: JWKS JSON ([`Bundle::from_jwks_json`], [`Bundle::to_jwks_json`]),
//! PEM `CERTIFICATE` blocks, and concatenated DER as sent in the Workload API `bundle` fields.

mod jwks;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use lanyard_id::TrustDomain;

use crate::der::{CertDer, join_der_certificates};
use crate::error::BundleError;

/// A JWT-SVID signing key of a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtAuthority {
    /// The public key as DER SubjectPublicKeyInfo (EC P-256/P-384/P-521 or RSA to be encodable).
    pub public_key: Vec<u8>,
    /// When the key stops being used; local bookkeeping only, never written to JWKS
    /// (Trust Domain and Bundle §4.2: "Implementers SHOULD NOT include parameters which are
    /// defined neither here nor in the respective SVID specification"), so decoding yields `None`.
    pub expires_at: Option<SystemTime>,
}

/// The keys of one trust domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// The trust domain the keys are authoritative for.
    pub trust_domain: TrustDomain,
    /// X.509 CA certificates (X509-SVID §6), in publication order, without duplicates.
    pub x509_authorities: Vec<CertDer>,
    /// JWT-SVID signing keys by key ID (`kid`, JWT-SVID §6.1).
    pub jwt_authorities: BTreeMap<String, JwtAuthority>,
    /// `spiffe_sequence` (§4.1.1); 0 when absent.
    pub sequence_number: u64,
    /// `spiffe_refresh_hint` (§4.1.2), whole seconds.
    pub refresh_hint: Option<Duration>,
}

impl Bundle {
    /// An empty bundle for `trust_domain`.
    pub fn new(trust_domain: TrustDomain) -> Bundle {
        Bundle {
            trust_domain,
            x509_authorities: Vec::new(),
            jwt_authorities: BTreeMap::new(),
            sequence_number: 0,
            refresh_hint: None,
        }
    }

    /// Adds an X.509 authority unless it is already present; returns whether it was added.
    pub fn add_x509_authority(&mut self, cert: CertDer) -> bool {
        if self.x509_authorities.contains(&cert) {
            return false;
        }
        self.x509_authorities.push(cert);
        true
    }

    /// Decodes a JWKS bundle document for `trust_domain`.
    ///
    /// Entries with an unknown `use` or `kty` (or an unknown EC curve) are ignored (§4.1.3,
    /// §4.2.1, §4.2.2). For `x509-svid` entries, X509-SVID §6.2 is followed: an entry without
    /// `x5c` or with an empty one is ignored, and of several `x5c` values all but the first are
    /// ignored. `jwt-svid` entries must carry a `kid` (JWT-SVID §6.1), unique in the document.
    /// Never panics, whatever the input.
    pub fn from_jwks_json(trust_domain: TrustDomain, json: &[u8]) -> Result<Bundle, BundleError> {
        jwks::decode(trust_domain, json)
    }

    /// Encodes the bundle as a JWKS document: `x509-svid` entries (one certificate in `x5c`, no
    /// `kid`) in order, then `jwt-svid` entries sorted by `kid`, plus `spiffe_sequence` and,
    /// when set, `spiffe_refresh_hint`. Fails if a key is not EC (P-256/384/521) or RSA.
    pub fn to_jwks_json(&self) -> Result<String, BundleError> {
        jwks::encode(self)
    }

    /// A bundle for `trust_domain` whose X.509 authorities are the PEM `CERTIFICATE` blocks of
    /// `pem` (duplicates dropped), with no JWT keys and no sequence number: the form an operator
    /// hands over a foreign trust domain's CA certificates in. Another block type is
    /// [`BundleError::UnexpectedPemBlock`]; no block at all is [`BundleError::NoPemCertificates`].
    pub fn from_pem_authorities(
        trust_domain: TrustDomain,
        pem: &[u8],
    ) -> Result<Bundle, BundleError> {
        let certs = certificates_from_pem(pem)?;
        if certs.is_empty() {
            return Err(BundleError::NoPemCertificates);
        }
        let mut bundle = Bundle::new(trust_domain);
        for cert in certs {
            bundle.add_x509_authority(cert);
        }
        Ok(bundle)
    }

    /// Whether `self` and `other` hold the same keys for the same trust domain: the same X.509
    /// authorities (in any order) and the same JWT keys under the same `kid`s.
    ///
    /// The sequence number and refresh hint are ignored, and so is a JWT key's `expires_at`
    /// (local bookkeeping, not in the JWKS): a foreign server may bump its sequence number
    /// without changing the keys (SPIFFE Trust Domain and Bundle §4.1.1 requires a change when
    /// the contents change, not the converse), and what relying parties need to hear about is a
    /// change of keys.
    pub fn same_keys(&self, other: &Bundle) -> bool {
        use std::collections::BTreeSet;

        fn x509(b: &Bundle) -> BTreeSet<&CertDer> {
            b.x509_authorities.iter().collect()
        }
        fn jwt(b: &Bundle) -> Vec<(&String, &Vec<u8>)> {
            b.jwt_authorities
                .iter()
                .map(|(kid, key)| (kid, &key.public_key))
                .collect()
        }
        self.trust_domain == other.trust_domain
            && x509(self) == x509(other)
            && jwt(self) == jwt(other)
    }

    /// The X.509 authorities as concatenated DER (the Workload API `bundle` encoding).
    pub fn x509_authorities_der(&self) -> Vec<u8> {
        join_der_certificates(&self.x509_authorities)
    }

    /// The X.509 authorities as PEM `CERTIFICATE` blocks.
    pub fn x509_authorities_pem(&self) -> String {
        certificates_to_pem(&self.x509_authorities)
    }
}

/// Encodes certificates as PEM `CERTIFICATE` blocks (LF line endings).
pub fn certificates_to_pem<C: AsRef<[u8]>>(certs: &[C]) -> String {
    let blocks: Vec<pem::Pem> = certs
        .iter()
        .map(|c| pem::Pem::new("CERTIFICATE", c.as_ref().to_vec()))
        .collect();
    pem::encode_many_config(
        &blocks,
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

/// Decodes PEM `CERTIFICATE` blocks; any other block type is an error. No block yields an
/// empty list.
pub fn certificates_from_pem(text: &[u8]) -> Result<Vec<CertDer>, BundleError> {
    let blocks = pem::parse_many(text).map_err(|e| BundleError::MalformedPem(e.to_string()))?;
    blocks
        .into_iter()
        .map(|block| {
            if block.tag() != "CERTIFICATE" {
                return Err(BundleError::UnexpectedPemBlock(block.tag().to_string()));
            }
            Ok(CertDer::from_der(block.into_contents())?)
        })
        .collect()
}

/// Where verification looks up the X.509 authorities of a trust domain.
///
/// Trust Domain and Bundle §3: "validators must choose the bundle corresponding to the trust
/// domain that the SVID resides in"; implementations must answer only for the exact trust
/// domain asked about.
pub trait BundleSource {
    /// The X.509 authorities of `trust_domain`, or `None` if no bundle is known for it.
    fn x509_authorities(&self, trust_domain: &TrustDomain) -> Option<&[CertDer]>;
}

impl BundleSource for Bundle {
    fn x509_authorities(&self, trust_domain: &TrustDomain) -> Option<&[CertDer]> {
        (self.trust_domain == *trust_domain).then_some(self.x509_authorities.as_slice())
    }
}

/// Bundles keyed by trust domain: the local bundle plus federated ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BundleSet {
    bundles: BTreeMap<TrustDomain, Bundle>,
}

impl BundleSet {
    /// An empty set.
    pub fn new() -> BundleSet {
        BundleSet::default()
    }

    /// Inserts `bundle` under its own trust domain, returning the one it replaces.
    pub fn insert(&mut self, bundle: Bundle) -> Option<Bundle> {
        self.bundles.insert(bundle.trust_domain.clone(), bundle)
    }

    /// The bundle of `trust_domain`.
    pub fn get(&self, trust_domain: &TrustDomain) -> Option<&Bundle> {
        self.bundles.get(trust_domain)
    }

    /// Removes and returns the bundle of `trust_domain`.
    pub fn remove(&mut self, trust_domain: &TrustDomain) -> Option<Bundle> {
        self.bundles.remove(trust_domain)
    }

    /// All bundles, ordered by trust domain.
    pub fn iter(&self) -> impl Iterator<Item = &Bundle> {
        self.bundles.values()
    }

    /// Number of bundles.
    pub fn len(&self) -> usize {
        self.bundles.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.bundles.is_empty()
    }
}

impl FromIterator<Bundle> for BundleSet {
    fn from_iter<I: IntoIterator<Item = Bundle>>(iter: I) -> Self {
        let mut set = BundleSet::new();
        for bundle in iter {
            set.insert(bundle);
        }
        set
    }
}

impl BundleSource for BundleSet {
    fn x509_authorities(&self, trust_domain: &TrustDomain) -> Option<&[CertDer]> {
        self.bundles
            .get(trust_domain)
            .map(|b| b.x509_authorities.as_slice())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::time::Duration;

    use super::*;
    use crate::{CaParams, KeyPair, KeyType, Subject, self_signed_ca};

    fn td(name: &str) -> TrustDomain {
        TrustDomain::new(name).unwrap()
    }

    fn ca_cert(name: &str) -> CertDer {
        let now = SystemTime::now();
        let params = CaParams {
            trust_domain: td(name),
            subject: Subject {
                country: None,
                organization: Some("Test".into()),
                common_name: None,
            },
            not_before: now,
            not_after: now + Duration::from_secs(3600),
            path_len: None,
        };
        self_signed_ca(&params, &KeyPair::generate(KeyType::EcP256).unwrap()).unwrap()
    }

    fn jwt_key() -> JwtAuthority {
        JwtAuthority {
            public_key: KeyPair::generate(KeyType::EcP256)
                .unwrap()
                .public_key_spki_der(),
            expires_at: None,
        }
    }

    #[test]
    fn same_keys_ignores_order_sequence_hint_and_expiry() {
        let (a, b) = (ca_cert("orders.example"), ca_cert("orders.example"));
        let key = jwt_key();
        let mut first = Bundle::new(td("orders.example"));
        first.add_x509_authority(a.clone());
        first.add_x509_authority(b.clone());
        first.jwt_authorities.insert("k1".into(), key.clone());
        first.sequence_number = 7;

        let mut second = Bundle::new(td("orders.example"));
        second.add_x509_authority(b);
        second.add_x509_authority(a.clone());
        second.jwt_authorities.insert(
            "k1".into(),
            JwtAuthority {
                expires_at: Some(SystemTime::now()),
                ..key.clone()
            },
        );
        second.sequence_number = 9;
        second.refresh_hint = Some(Duration::from_secs(60));
        assert!(first.same_keys(&second), "only metadata differs");
        assert!(second.same_keys(&first));

        // Through JWKS and back: the same keys.
        let decoded = Bundle::from_jwks_json(
            td("orders.example"),
            first.to_jwks_json().unwrap().as_bytes(),
        )
        .unwrap();
        assert!(decoded.same_keys(&first));
    }

    #[test]
    fn same_keys_sees_every_key_change() {
        let a = ca_cert("orders.example");
        let key = jwt_key();
        let mut base = Bundle::new(td("orders.example"));
        base.add_x509_authority(a.clone());
        base.jwt_authorities.insert("k1".into(), key.clone());

        let mut more_x509 = base.clone();
        more_x509.add_x509_authority(ca_cert("orders.example"));
        assert!(!base.same_keys(&more_x509), "an added CA is a change");
        assert!(!more_x509.same_keys(&base), "a removed CA is a change");

        let mut other_x509 = base.clone();
        other_x509.x509_authorities = vec![ca_cert("orders.example")];
        assert!(!base.same_keys(&other_x509), "a replaced CA is a change");

        let mut renamed = base.clone();
        let k = renamed.jwt_authorities.remove("k1").unwrap();
        renamed.jwt_authorities.insert("k2".into(), k);
        assert!(!base.same_keys(&renamed), "a new kid is a change");

        let mut rekeyed = base.clone();
        rekeyed.jwt_authorities.insert("k1".into(), jwt_key());
        assert!(
            !base.same_keys(&rekeyed),
            "a new key under the same kid is a change"
        );

        let mut no_jwt = base.clone();
        no_jwt.jwt_authorities.clear();
        assert!(!base.same_keys(&no_jwt), "a removed JWT key is a change");

        let mut elsewhere = base.clone();
        elsewhere.trust_domain = td("pay.example");
        assert!(
            !base.same_keys(&elsewhere),
            "bundles of different trust domains never match"
        );
    }

    #[test]
    fn pem_authorities_make_an_x509_only_bundle() {
        let (a, b) = (ca_cert("orders.example"), ca_cert("orders.example"));
        let pem = certificates_to_pem(&[a.clone(), b.clone(), a.clone()]);
        let bundle = Bundle::from_pem_authorities(td("orders.example"), pem.as_bytes()).unwrap();
        assert_eq!(bundle.trust_domain, td("orders.example"));
        assert_eq!(
            bundle.x509_authorities,
            vec![a, b],
            "in order, without duplicates"
        );
        assert!(bundle.jwt_authorities.is_empty());
        assert_eq!(bundle.sequence_number, 0);
        assert_eq!(bundle.refresh_hint, None);
    }

    #[test]
    fn pem_authorities_refuse_empty_and_foreign_input() {
        assert_eq!(
            Bundle::from_pem_authorities(td("orders.example"), b""),
            Err(BundleError::NoPemCertificates)
        );
        assert_eq!(
            Bundle::from_pem_authorities(td("orders.example"), br#"{"keys": []}"#),
            Err(BundleError::NoPemCertificates),
            "a JSON bundle is not PEM"
        );
        let key = KeyPair::generate(KeyType::EcP256).unwrap().to_pkcs8_pem();
        assert_eq!(
            Bundle::from_pem_authorities(td("orders.example"), key.as_bytes()),
            Err(BundleError::UnexpectedPemBlock("PRIVATE KEY".into()))
        );
        let message = BundleError::NoPemCertificates.to_string();
        assert!(message.contains("CERTIFICATE"), "{message}");
    }
}
