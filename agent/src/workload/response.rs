//! The full-state Workload API responses for one caller, computed from a store [`Snapshot`] and
//! the caller's selectors. Pure functions, so each rule is tested without a socket.

use std::collections::{BTreeSet, HashMap, HashSet};

use lanyard_id::TrustDomain;
use std::sync::Arc;

use lanyard_proto::workload::{
    JwtBundlesResponse, X509BundlesResponse, X509svid, X509svidResponse,
};
use lanyard_x509::join_der_certificates;
use pbjson_types::Struct;

use super::index;
use crate::store::{Selector, Snapshot, WorkloadSvid};

/// The longest hint passed on (SPIFFE Workload API: hints are at most 1024 bytes).
const MAX_HINT_LEN: usize = 1024;

/// Why a caller gets no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Denial {
    /// The agent has not synced yet: `Unavailable`, retry later.
    NotReady,
    /// No entry matches the caller: `PermissionDenied` "no identity issued".
    NoIdentity,
}

/// The `FetchX509SVID` response: every SVID the caller's selectors match, default first.
///
/// - Hints are unique (see [`identities`]).
/// - Each SVID's `bundle` is its own trust domain's X.509 authorities; an SVID whose trust
///   domain has no bundle is left out (the field is mandatory, §4.5).
/// - `federated_bundles` holds the bundles of every other trust domain, keyed `spiffe://<td>`.
pub(crate) fn x509_svid_response(
    snapshot: &Arc<Snapshot>,
    selectors: &[Selector],
) -> Result<X509svidResponse, Denial> {
    if !snapshot.ready {
        return Err(Denial::NotReady);
    }
    let mut own_domains = BTreeSet::new();
    let mut svids = Vec::new();
    for (svid, hint) in identities(snapshot, selectors) {
        let trust_domain = svid.spiffe_id.trust_domain();
        let bundle = snapshot
            .bundles
            .get(&trust_domain)
            .map(|b| b.x509_authorities_der())
            .unwrap_or_default();
        if bundle.is_empty() || svid.chain.is_empty() || svid.key_pkcs8.is_empty() {
            tracing::error!(
                entry_id = %svid.entry_id,
                spiffe_id = %svid.spiffe_id.as_str(),
                "SVID left out: its chain, key or trust domain bundle is missing"
            );
            continue;
        }
        own_domains.insert(trust_domain);
        svids.push(X509svid {
            spiffe_id: svid.spiffe_id.as_str().to_owned(),
            x509_svid: join_der_certificates(&svid.chain),
            // A copy per stream: the stream wipes it (`stream::Wiped`).
            x509_svid_key: svid.key_pkcs8.to_vec(),
            bundle,
            hint,
        });
    }
    if svids.is_empty() {
        return Err(Denial::NoIdentity);
    }
    Ok(X509svidResponse {
        svids,
        crl: Vec::new(),
        federated_bundles: bundles_by_id(snapshot, &own_domains),
    })
}

/// The identities of a caller with `selectors`, default first, each with the hint to send.
///
/// Workload API §5.2.1 (and §5.3.1 for JWT-SVIDs): a non-empty hint "MUST be unique amongst the
/// set of returned SVIDs". As SPIRE does, of several identities with one hint only the one of
/// the oldest entry is kept (the snapshot is ordered by entry creation time, so the first one).
pub(crate) fn identities(
    snapshot: &Arc<Snapshot>,
    selectors: &[Selector],
) -> Vec<(Arc<WorkloadSvid>, String)> {
    let mut hints = HashSet::new();
    let mut out = Vec::new();
    for svid in index::svids_for(snapshot, selectors) {
        let mut hint = svid.hint.clone();
        if hint.len() > MAX_HINT_LEN {
            tracing::warn!(entry_id = %svid.entry_id, "hint longer than 1024 bytes; sent without hint");
            hint.clear();
        }
        if !hint.is_empty() && !hints.insert(hint.clone()) {
            tracing::warn!(entry_id = %svid.entry_id, hint, "ignoring entry with duplicate hint");
            continue;
        }
        out.push((svid, hint));
    }
    out
}

/// Whether a caller with `selectors` may have bundles (and so validate tokens): like SPIRE
/// without `allow_unauthenticated_verifiers`, only a caller with at least one identity may.
/// Workload API §5.2.2 allows `PermissionDenied` for callers "not entitled to receive any X.509
/// bundles".
pub(crate) fn may_have_bundles(
    snapshot: &Arc<Snapshot>,
    selectors: &[Selector],
) -> Result<(), Denial> {
    if !snapshot.ready {
        return Err(Denial::NotReady);
    }
    if index::svids_for(snapshot, selectors).is_empty() {
        return Err(Denial::NoIdentity);
    }
    Ok(())
}

/// The `FetchJWTBundles` response: the JWT authorities of every bundle as a JWKS document
/// (RFC 7517, `use: jwt-svid`, `kid` set: JWT-SVID §6.1), keyed `spiffe://<td>`. A trust domain
/// without JWT authorities gets a JWKS with no keys. For callers that
/// [`may_have_bundles`].
pub(crate) fn jwt_bundles_response(
    snapshot: &Arc<Snapshot>,
    selectors: &[Selector],
) -> Result<JwtBundlesResponse, Denial> {
    may_have_bundles(snapshot, selectors)?;
    let mut bundles = HashMap::new();
    for bundle in snapshot.bundles.iter() {
        let mut jwt_only = bundle.clone();
        jwt_only.x509_authorities.clear();
        match jwt_only.to_jwks_json() {
            Ok(jwks) => {
                bundles.insert(bundle.trust_domain.id_string(), jwks.into_bytes());
            }
            Err(e) => tracing::error!(
                trust_domain = %bundle.trust_domain,
                error = %e,
                "JWT bundle left out: a key cannot be encoded as a JWK"
            ),
        }
    }
    Ok(JwtBundlesResponse { bundles })
}

/// JWT claims as the `google.protobuf.Struct` of `ValidateJWTSVIDResponse.claims`.
pub(crate) fn claims_struct(claims: serde_json::Map<String, serde_json::Value>) -> Struct {
    Struct {
        fields: claims
            .into_iter()
            .map(|(k, v)| (k, protobuf_value(v)))
            .collect(),
    }
}

fn protobuf_value(v: serde_json::Value) -> pbjson_types::Value {
    use pbjson_types::value::Kind;
    use serde_json::Value as J;
    let kind = match v {
        J::Null => Kind::NullValue(pbjson_types::NullValue::NullValue as i32),
        J::Bool(b) => Kind::BoolValue(b),
        // Struct numbers are doubles (as in JSON itself); NumericDates fit exactly.
        J::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(f64::NAN)),
        J::String(s) => Kind::StringValue(s),
        J::Array(a) => Kind::ListValue(pbjson_types::ListValue {
            values: a.into_iter().map(protobuf_value).collect(),
        }),
        J::Object(o) => Kind::StructValue(claims_struct(o)),
    };
    pbjson_types::Value { kind: Some(kind) }
}

/// The `FetchX509Bundles` response: every bundle, keyed `spiffe://<td>`, for callers that
/// [`may_have_bundles`].
pub(crate) fn x509_bundles_response(
    snapshot: &Arc<Snapshot>,
    selectors: &[Selector],
) -> Result<X509BundlesResponse, Denial> {
    may_have_bundles(snapshot, selectors)?;
    Ok(X509BundlesResponse {
        crl: Vec::new(),
        bundles: bundles_by_id(snapshot, &BTreeSet::new()),
    })
}

/// The X.509 authorities of every bundle not in `except` that has any, keyed `spiffe://<td>`.
fn bundles_by_id(snapshot: &Snapshot, except: &BTreeSet<TrustDomain>) -> HashMap<String, Vec<u8>> {
    snapshot
        .bundles
        .iter()
        .filter(|b| !except.contains(&b.trust_domain) && !b.x509_authorities.is_empty())
        .map(|b| (b.trust_domain.id_string(), b.x509_authorities_der()))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, SystemTime};

    use lanyard_id::SpiffeId;
    use lanyard_x509::{
        Bundle, BundleSet, CaParams, CertDer, KeyPair, KeyType, Subject, self_signed_ca,
    };

    use super::*;
    use crate::store::WorkloadSvid;

    /// A real (self-signed CA) certificate of `td`; the response code does not look inside.
    fn cert(td: &str) -> CertDer {
        let now = SystemTime::now();
        let params = CaParams {
            trust_domain: TrustDomain::new(td).unwrap(),
            subject: Subject {
                organization: Some("Test".into()),
                ..Subject::default()
            },
            not_before: now,
            not_after: now + Duration::from_secs(3600),
            path_len: None,
        };
        self_signed_ca(&params, &KeyPair::generate(KeyType::EcP256).unwrap()).unwrap()
    }

    fn bundle(td: &str) -> Bundle {
        let mut b = Bundle::new(TrustDomain::new(td).unwrap());
        b.add_x509_authority(cert(td));
        b
    }

    fn svid(entry: &str, id: &str, hint: &str) -> Arc<WorkloadSvid> {
        Arc::new(WorkloadSvid {
            entry_id: entry.into(),
            spiffe_id: SpiffeId::parse(id).unwrap(),
            selectors: vec![Selector::new("unix", "uid:1")],
            hint: hint.into(),
            chain: vec![cert("example.org")],
            key_pkcs8: crate::store::key_der(&[1, 2, 3]),
            not_after: SystemTime::now(),
            created_at: 0,
        })
    }

    fn snapshot(svids: Vec<Arc<WorkloadSvid>>) -> Arc<Snapshot> {
        Arc::new(Snapshot {
            svids,
            bundles: BundleSet::from_iter([bundle("example.org"), bundle("other.org")]),
            ready: true,
        })
    }

    fn caller() -> Vec<Selector> {
        vec![
            Selector::new("unix", "uid:1"),
            Selector::new("unix", "gid:1"),
        ]
    }

    #[test]
    fn svids_carry_their_own_bundle_and_other_domains_are_federated() {
        let snap = snapshot(vec![svid("a", "spiffe://example.org/a", "")]);
        let resp = x509_svid_response(&snap, &caller()).unwrap();
        assert_eq!(resp.svids.len(), 1);
        let own = snap.bundles.iter().next().unwrap().x509_authorities_der();
        assert_eq!(resp.svids[0].bundle, own);
        assert_eq!(resp.svids[0].x509_svid_key, vec![1, 2, 3]);
        let federated: Vec<_> = resp.federated_bundles.keys().cloned().collect();
        assert_eq!(federated, vec!["spiffe://other.org".to_string()]);
    }

    #[test]
    fn duplicate_hints_keep_only_the_first_svid() {
        let snap = snapshot(vec![
            svid("a", "spiffe://example.org/a", "internal"),
            svid("b", "spiffe://example.org/b", "internal"),
            svid("c", "spiffe://example.org/c", ""),
            svid("d", "spiffe://example.org/d", ""),
        ]);
        let resp = x509_svid_response(&snap, &caller()).unwrap();
        let ids: Vec<_> = resp.svids.iter().map(|s| s.spiffe_id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "spiffe://example.org/a",
                "spiffe://example.org/c",
                "spiffe://example.org/d"
            ]
        );
    }

    #[test]
    fn not_ready_no_match_and_no_bundle_are_denials() {
        let mut snap = snapshot(vec![svid("a", "spiffe://example.org/a", "")]);
        assert_eq!(
            x509_svid_response(&snap, &[Selector::new("unix", "uid:2")]),
            Err(Denial::NoIdentity)
        );
        assert_eq!(
            x509_bundles_response(&snap, &[Selector::new("unix", "uid:2")]),
            Err(Denial::NoIdentity)
        );
        Arc::make_mut(&mut snap)
            .bundles
            .remove(&TrustDomain::new("example.org").unwrap());
        assert_eq!(
            x509_svid_response(&snap, &caller()),
            Err(Denial::NoIdentity)
        );
        Arc::make_mut(&mut snap).ready = false;
        assert_eq!(x509_svid_response(&snap, &caller()), Err(Denial::NotReady));
        assert_eq!(
            x509_bundles_response(&snap, &caller()),
            Err(Denial::NotReady)
        );
    }

    #[test]
    fn bundles_response_has_every_domain() {
        let snap = snapshot(vec![svid("a", "spiffe://example.org/a", "")]);
        let resp = x509_bundles_response(&snap, &caller()).unwrap();
        let mut keys: Vec<_> = resp.bundles.keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["spiffe://example.org", "spiffe://other.org"]);
        let other = snap
            .bundles
            .get(&TrustDomain::new("other.org").unwrap())
            .unwrap();
        assert_eq!(
            resp.bundles["spiffe://other.org"],
            other.x509_authorities_der()
        );
    }
}
