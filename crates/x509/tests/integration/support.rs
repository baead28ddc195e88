//! Certificates minted at test time: CAs from our builder, and hand-made rcgen parameters that
//! tests bend one rule at a time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lanyard_id::{SpiffeId, TrustDomain};
use lanyard_x509::{
    Bundle, BundleSource, CaParams, CertDer, KeyPair, KeyType, SigningCa, Subject, SvidParams,
    VerifiedX509Svid, X509SvidError, self_signed_ca, verify_x509_svid,
};
use rcgen::string::Ia5String;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose, SanType,
};
use time::OffsetDateTime;

/// The fixed "now" of every test: 2030-03-17T17:46:40Z.
pub const T0: u64 = 1_900_000_000;

pub fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(T0)
}

/// `T0 + offset` seconds.
pub fn at(offset: i64) -> SystemTime {
    if offset >= 0 {
        t0() + Duration::from_secs(offset.unsigned_abs())
    } else {
        t0() - Duration::from_secs(offset.unsigned_abs())
    }
}

fn odt(offset: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(T0 as i64 + offset).unwrap()
}

pub fn td(name: &str) -> TrustDomain {
    TrustDomain::new(name).unwrap()
}

pub fn id(s: &str) -> SpiffeId {
    SpiffeId::parse(s).unwrap()
}

pub const DAY: i64 = 86_400;
pub const HOUR: i64 = 3_600;

/// A CA: certificate and key.
pub struct Ca {
    pub cert: CertDer,
    pub key: KeyPair,
}

impl Ca {
    /// A root from our own builder, valid T0 ± 1 day.
    pub fn root(trust_domain: &str) -> Ca {
        Ca::root_with(trust_domain, "Root", None, -DAY, DAY)
    }

    pub fn root_with(trust_domain: &str, cn: &str, path_len: Option<u8>, from: i64, to: i64) -> Ca {
        let key = KeyPair::generate(KeyType::EcP256).unwrap();
        let cert = self_signed_ca(&ca_params(trust_domain, cn, path_len, from, to), &key).unwrap();
        Ca { cert, key }
    }

    /// An intermediate from our own builder.
    /// Each gets a distinct subject, so none is self-issued (RFC 5280 §6.1).
    pub fn intermediate(&self, trust_domain: &str, path_len: Option<u8>) -> Ca {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let key = KeyPair::generate(KeyType::EcP256).unwrap();
        let cert = self
            .signing(vec![])
            .issue_ca(
                &ca_params(
                    trust_domain,
                    &format!("Intermediate {n}"),
                    path_len,
                    -DAY,
                    DAY,
                ),
                &key.public_key_spki_der(),
            )
            .unwrap();
        Ca { cert, key }
    }

    /// A CA made from raw rcgen parameters, signed by this CA.
    pub fn mint_ca(&self, params: &CertificateParams) -> Ca {
        let (cert, key) = self.mint(params);
        Ca {
            cert,
            key: KeyPair::from_pkcs8_der(key.serialized_der()).unwrap(),
        }
    }

    pub fn signing(&self, upstream: Vec<CertDer>) -> SigningCa {
        let key = KeyPair::from_pkcs8_der(self.key.pkcs8_der()).unwrap();
        SigningCa::new(self.cert.clone(), key, upstream).unwrap()
    }

    /// Signs `params` for a fresh P-256 key with this CA via rcgen, bypassing our builder.
    pub fn mint(&self, params: &CertificateParams) -> (CertDer, rcgen::KeyPair) {
        let subject_key = rcgen::KeyPair::generate().unwrap();
        let ca_key = rcgen::KeyPair::try_from(self.key.pkcs8_der()).unwrap();
        let issuer = rcgen::Issuer::from_ca_cert_der(&self.cert.as_bytes().into(), ca_key).unwrap();
        let cert = params.signed_by(&subject_key, &issuer).unwrap();
        (CertDer::from_der(cert.der().to_vec()).unwrap(), subject_key)
    }

    /// An X.509-SVID for `spiffe_id` from our own builder, valid T0 ± 1 hour.
    pub fn issue(&self, spiffe_id: &str) -> CertDer {
        let key = KeyPair::generate(KeyType::EcP256).unwrap();
        self.signing(vec![])
            .issue_x509_svid(&key.public_key_spki_der(), &svid_params(spiffe_id))
            .unwrap()
            .leaf
    }
}

pub fn ca_params(
    trust_domain: &str,
    cn: &str,
    path_len: Option<u8>,
    from: i64,
    to: i64,
) -> CaParams {
    CaParams {
        trust_domain: td(trust_domain),
        subject: Subject {
            country: Some("US".into()),
            organization: Some("Lanyard Test".into()),
            common_name: Some(format!("{cn} {trust_domain}")),
        },
        not_before: at(from),
        not_after: at(to),
        path_len,
    }
}

pub fn svid_params(spiffe_id: &str) -> SvidParams {
    SvidParams {
        spiffe_id: id(spiffe_id),
        dns_names: vec![],
        not_before: t0(),
        not_after: at(HOUR),
        backdate: Duration::from_secs(10),
    }
}

/// Profile-correct leaf parameters for rcgen, valid T0 ± 1 hour.
pub fn leaf_params(uri: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.not_before = odt(-HOUR);
    p.not_after = odt(HOUR);
    p.subject_alt_names = vec![SanType::URI(Ia5String::try_from(uri).unwrap())];
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "SPIFFE");
    p.distinguished_name = dn;
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    p.use_authority_key_identifier_extension = true;
    p
}

/// Profile-correct signing-certificate parameters for rcgen, valid T0 ± 1 day.
pub fn intermediate_params(uri: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.not_before = odt(-DAY);
    p.not_after = odt(DAY);
    p.subject_alt_names = vec![SanType::URI(Ia5String::try_from(uri).unwrap())];
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Lanyard Test");
    dn.push(DnType::CommonName, format!("Hand-made CA {uri}"));
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.use_authority_key_identifier_extension = true;
    p
}

/// An extension with raw DER content.
pub fn raw_extension(oid: &[u64], content: Vec<u8>, critical: bool) -> CustomExtension {
    let mut ext = CustomExtension::from_oid_content(oid, content);
    ext.set_criticality(critical);
    ext
}

/// A bundle for `trust_domain` holding the given CA certificates.
pub fn bundle(trust_domain: &str, cas: &[&Ca]) -> Bundle {
    let mut b = Bundle::new(td(trust_domain));
    for ca in cas {
        b.add_x509_authority(ca.cert.clone());
    }
    b
}

/// Verifies at T0.
pub fn verify(
    chain: &[&CertDer],
    bundles: &impl BundleSource,
) -> Result<VerifiedX509Svid, X509SvidError> {
    verify_x509_svid(chain, bundles, t0())
}

/// The RSA-2048 fixture key (generated once: RSA generation is slow).
pub fn rsa_key() -> KeyPair {
    KeyPair::from_pkcs8_pem(include_str!("fixtures/rsa2048.pk8.pem")).unwrap()
}
