//! Where validation finds the JWT authorities of a trust domain.

use std::collections::BTreeMap;

use lanyard_id::TrustDomain;
use lanyard_x509::{Bundle, BundleSet, JwtAuthority};

/// The JWT-SVID signing keys of trust domains, by `kid`.
///
/// Trust Domain and Bundle §3: "validators must choose the bundle corresponding to the trust
/// domain that the SVID resides in"; implementations answer only for the exact trust domain
/// asked about.
pub trait JwtBundleSource {
    /// The JWT authorities of `trust_domain` by `kid`, or `None` if no bundle is known for it.
    fn jwt_authorities(
        &self,
        trust_domain: &TrustDomain,
    ) -> Option<&BTreeMap<String, JwtAuthority>>;
}

impl JwtBundleSource for Bundle {
    fn jwt_authorities(
        &self,
        trust_domain: &TrustDomain,
    ) -> Option<&BTreeMap<String, JwtAuthority>> {
        (self.trust_domain == *trust_domain).then_some(&self.jwt_authorities)
    }
}

impl JwtBundleSource for BundleSet {
    fn jwt_authorities(
        &self,
        trust_domain: &TrustDomain,
    ) -> Option<&BTreeMap<String, JwtAuthority>> {
        self.get(trust_domain).map(|b| &b.jwt_authorities)
    }
}

impl<S: JwtBundleSource + ?Sized> JwtBundleSource for &S {
    fn jwt_authorities(
        &self,
        trust_domain: &TrustDomain,
    ) -> Option<&BTreeMap<String, JwtAuthority>> {
        (**self).jwt_authorities(trust_domain)
    }
}
