//! The full-state Workload API responses for one caller, computed from a store [`Snapshot`] and
//! the caller's selectors. Pure functions, so each rule is tested without a socket.
//!
//! Bundles are per caller ([`caller_domains`]): the trust domains of the caller's SVIDs (the
//! agent's own) and those its entries federate with, as SPIRE does. A workload whose entries
//! federate with nothing never sees a foreign bundle, in any response, and cannot validate a
//! foreign JWT-SVID ([`CallerBundles`]). Streams resend only when the caller's own response
//! changes, so a foreign bundle's update reaches exactly the streams of callers holding it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use lanyard_id::TrustDomain;
use lanyard_x509::JwtAuthority;
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
/// - `federated_bundles` (§5.2.1) holds the bundles of the foreign trust domains the caller's
///   entries federate with ([`caller_domains`] less the SVIDs' own), keyed `spiffe://<td>`.
pub(crate) fn x509_svid_response(
    snapshot: &Arc<Snapshot>,
    selectors: &[Selector],
) -> Result<X509svidResponse, Denial> {
    if !snapshot.ready {
        return Err(Denial::NotReady);
    }
    let matched = index::svids_for(snapshot, selectors);
    let mut federated = caller_domains(snapshot, &matched);
    for svid in &matched {
        federated.remove(&svid.spiffe_id.trust_domain());
    }
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
        federated_bundles: bundles_by_id(snapshot, &federated),
    })
}

/// The trust domains whose bundles a caller holding `svids` (every SVID its selectors match)
/// gets: each SVID's own trust domain and the ones its entry federates with, of those the agent
/// holds a bundle for. A caller with an SVID always has the agent's own trust domain here
/// (Workload API §5.2.2, §6.2.2: at least the agent's own).
pub(crate) fn caller_domains(
    snapshot: &Snapshot,
    svids: &[Arc<WorkloadSvid>],
) -> BTreeSet<TrustDomain> {
    svids
        .iter()
        .flat_map(|svid| {
            std::iter::once(svid.spiffe_id.trust_domain())
                .chain(svid.federates_with.iter().cloned())
        })
        .filter(|td| snapshot.bundles.get(td).is_some())
        .collect()
}

/// The trust domains whose bundles a caller with `selectors` may have ([`caller_domains`]).
///
/// Only a caller with at least one identity may have bundles (and so validate tokens), like
/// SPIRE without `allow_unauthenticated_verifiers`: Workload API §5.2.2 allows
/// `PermissionDenied` for callers "not entitled to receive any X.509 bundles".
pub(crate) fn caller_bundle_domains(
    snapshot: &Arc<Snapshot>,
    selectors: &[Selector],
) -> Result<BTreeSet<TrustDomain>, Denial> {
    if !snapshot.ready {
        return Err(Denial::NotReady);
    }
    let svids = index::svids_for(snapshot, selectors);
    if svids.is_empty() {
        return Err(Denial::NoIdentity);
    }
    Ok(caller_domains(snapshot, &svids))
}

/// The bundles held for one caller, as `ValidateJWTSVID` sees them: a JWT-SVID of a trust
/// domain outside `allowed` finds no bundle (`lanyard_jwt` says "no bundle for trust domain"),
/// even when the agent holds one for another caller.
pub(crate) struct CallerBundles<'a> {
    snapshot: &'a Snapshot,
    allowed: BTreeSet<TrustDomain>,
}

impl<'a> CallerBundles<'a> {
    /// The bundles of `snapshot` whose trust domain is in `allowed` (from
    /// [`caller_bundle_domains`]).
    pub(crate) fn new(snapshot: &'a Snapshot, allowed: BTreeSet<TrustDomain>) -> Self {
        Self { snapshot, allowed }
    }
}

impl lanyard_jwt::JwtBundleSource for CallerBundles<'_> {
    fn jwt_authorities(
        &self,
        trust_domain: &TrustDomain,
    ) -> Option<&BTreeMap<String, JwtAuthority>> {
        if !self.allowed.contains(trust_domain) {
            return None;
        }
        self.snapshot
            .bundles
            .get(trust_domain)
            .map(|b| &b.jwt_authorities)
    }
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

/// The `FetchJWTBundles` response: the JWT authorities of the caller's bundles
/// ([`caller_bundle_domains`]) as JWKS documents (RFC 7517, `use: jwt-svid`, `kid` set:
/// JWT-SVID §6.1; no X.509 keys, §6.2.2), keyed `spiffe://<td>`. A trust domain without JWT
/// authorities gets a JWKS with no keys.
pub(crate) fn jwt_bundles_response(
    snapshot: &Arc<Snapshot>,
    selectors: &[Selector],
) -> Result<JwtBundlesResponse, Denial> {
    let domains = caller_bundle_domains(snapshot, selectors)?;
    let mut bundles = HashMap::new();
    for bundle in snapshot
        .bundles
        .iter()
        .filter(|b| domains.contains(&b.trust_domain))
    {
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

/// The `FetchX509Bundles` response: the caller's bundles ([`caller_bundle_domains`]), keyed
/// `spiffe://<td>`.
pub(crate) fn x509_bundles_response(
    snapshot: &Arc<Snapshot>,
    selectors: &[Selector],
) -> Result<X509BundlesResponse, Denial> {
    let domains = caller_bundle_domains(snapshot, selectors)?;
    Ok(X509BundlesResponse {
        crl: Vec::new(),
        bundles: bundles_by_id(snapshot, &domains),
    })
}

/// The X.509 authorities of the bundles of `domains` that have any, keyed `spiffe://<td>`.
fn bundles_by_id(snapshot: &Snapshot, domains: &BTreeSet<TrustDomain>) -> HashMap<String, Vec<u8>> {
    snapshot
        .bundles
        .iter()
        .filter(|b| domains.contains(&b.trust_domain) && !b.x509_authorities.is_empty())
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
            federates_with: Vec::new(),
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

    fn td(name: &str) -> TrustDomain {
        TrustDomain::new(name).unwrap()
    }

    /// `svid` with its entry federating with `domains`.
    fn federating(svid: &Arc<WorkloadSvid>, domains: &[&str]) -> Arc<WorkloadSvid> {
        Arc::new(WorkloadSvid {
            federates_with: domains.iter().map(|d| td(d)).collect(),
            ..(**svid).clone()
        })
    }

    /// `svid` for the caller with `unix:uid:<uid>` instead.
    fn for_uid(svid: &Arc<WorkloadSvid>, uid: u32) -> Arc<WorkloadSvid> {
        Arc::new(WorkloadSvid {
            selectors: vec![Selector::new("unix", format!("uid:{uid}"))],
            ..(**svid).clone()
        })
    }

    fn keys<V>(map: &HashMap<String, V>) -> Vec<&str> {
        let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
        keys.sort_unstable();
        keys
    }

    #[test]
    fn svids_carry_their_own_bundle_and_only_federated_domains_come_along() {
        let plain = svid("a", "spiffe://example.org/a", "");
        let snap = snapshot(vec![plain.clone()]);
        let resp = x509_svid_response(&snap, &caller()).unwrap();
        assert_eq!(resp.svids.len(), 1);
        let own = snap.bundles.get(&td("example.org")).unwrap();
        assert_eq!(resp.svids[0].bundle, own.x509_authorities_der());
        assert_eq!(resp.svids[0].x509_svid_key, vec![1, 2, 3]);
        assert!(
            resp.federated_bundles.is_empty(),
            "an entry that federates with nothing gets no foreign bundle: {:?}",
            keys(&resp.federated_bundles)
        );

        // Federating with other.org (held) and third.org (not held): only other.org, as DER,
        // and never the SVID's own trust domain.
        let snap = snapshot(vec![federating(
            &plain,
            &["other.org", "third.org", "example.org"],
        )]);
        let resp = x509_svid_response(&snap, &caller()).unwrap();
        assert_eq!(keys(&resp.federated_bundles), ["spiffe://other.org"]);
        assert_eq!(
            resp.federated_bundles["spiffe://other.org"],
            snap.bundles
                .get(&td("other.org"))
                .unwrap()
                .x509_authorities_der()
        );
    }

    #[test]
    fn a_caller_gets_the_union_of_its_entries_federations_and_no_one_elses() {
        let mut snap = snapshot(vec![
            federating(&svid("a", "spiffe://example.org/a", ""), &["other.org"]),
            federating(&svid("b", "spiffe://example.org/b", ""), &["third.org"]),
            for_uid(
                &federating(&svid("c", "spiffe://example.org/c", ""), &["fourth.org"]),
                2,
            ),
        ]);
        for b in ["third.org", "fourth.org"] {
            Arc::make_mut(&mut snap).bundles.insert(bundle(b));
        }
        let svids = index::svids_for(&snap, &caller());
        assert_eq!(
            caller_domains(&snap, &svids),
            BTreeSet::from([td("example.org"), td("other.org"), td("third.org")])
        );
        let resp = x509_svid_response(&snap, &caller()).unwrap();
        assert_eq!(
            keys(&resp.federated_bundles),
            ["spiffe://other.org", "spiffe://third.org"]
        );
        let uid2 = [Selector::new("unix", "uid:2")];
        let resp = x509_svid_response(&snap, &uid2).unwrap();
        assert_eq!(keys(&resp.federated_bundles), ["spiffe://fourth.org"]);
        let resp = x509_bundles_response(&snap, &uid2).unwrap();
        assert_eq!(
            keys(&resp.bundles),
            ["spiffe://example.org", "spiffe://fourth.org"]
        );
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
    fn x509_bundles_hold_the_own_domain_and_the_federated_ones_only() {
        let plain = svid("a", "spiffe://example.org/a", "");
        let snap = snapshot(vec![plain.clone()]);
        let resp = x509_bundles_response(&snap, &caller()).unwrap();
        assert_eq!(
            keys(&resp.bundles),
            ["spiffe://example.org"],
            "the own trust domain always (§5.2.2), no foreign one unasked"
        );

        let snap = snapshot(vec![federating(&plain, &["spiffe://other.org"])]);
        let resp = x509_bundles_response(&snap, &caller()).unwrap();
        assert_eq!(
            keys(&resp.bundles),
            ["spiffe://example.org", "spiffe://other.org"]
        );
        let other = snap.bundles.get(&td("other.org")).unwrap();
        assert_eq!(
            resp.bundles["spiffe://other.org"],
            other.x509_authorities_der()
        );
    }

    /// `snap` with a JWT key `kid` added to `domain`'s bundle; the key signs tokens.
    fn with_jwt_key(snap: &mut Arc<Snapshot>, domain: &str, kid: &str) -> KeyPair {
        let key = KeyPair::generate(KeyType::EcP256).unwrap();
        let mut b = snap.bundles.get(&td(domain)).unwrap().clone();
        b.jwt_authorities.insert(
            kid.to_owned(),
            JwtAuthority {
                public_key: key.public_key_spki_der(),
                expires_at: None,
            },
        );
        Arc::make_mut(snap).bundles.insert(b);
        key
    }

    #[test]
    fn jwt_bundles_hold_the_own_domain_and_the_federated_ones_only_with_jwt_keys() {
        let plain = svid("a", "spiffe://example.org/a", "");
        let mut snap = snapshot(vec![plain.clone()]);
        with_jwt_key(&mut snap, "example.org", "own");
        with_jwt_key(&mut snap, "other.org", "foreign");
        let resp = jwt_bundles_response(&snap, &caller()).unwrap();
        assert_eq!(keys(&resp.bundles), ["spiffe://example.org"]);

        Arc::make_mut(&mut snap).svids = vec![federating(&plain, &["other.org"])];
        let resp = jwt_bundles_response(&snap, &caller()).unwrap();
        assert_eq!(
            keys(&resp.bundles),
            ["spiffe://example.org", "spiffe://other.org"]
        );
        let other =
            Bundle::from_jwks_json(td("other.org"), &resp.bundles["spiffe://other.org"]).unwrap();
        assert_eq!(
            other.jwt_authorities.keys().collect::<Vec<_>>(),
            ["foreign"]
        );
        assert!(other.x509_authorities.is_empty(), "JWT keys only (§6.2.2)");

        assert_eq!(
            jwt_bundles_response(&snap, &[Selector::new("unix", "uid:2")]),
            Err(Denial::NoIdentity),
            "a caller without an identity gets no bundle at all"
        );
    }

    fn token(key: &KeyPair, kid: &str, sub: &str) -> String {
        let now = i64::try_from(
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        )
        .unwrap();
        let claims = lanyard_jwt::JwtSvidClaims::new(
            SpiffeId::parse(sub).unwrap(),
            vec!["me".to_owned()],
            now,
            now + 300,
        );
        lanyard_jwt::mint_jwt_svid(key, kid, &claims).unwrap()
    }

    #[test]
    fn caller_bundles_validate_only_tokens_of_domains_held_for_the_caller() {
        let plain = svid("a", "spiffe://example.org/a", "");
        let mut snap = snapshot(vec![
            federating(&plain, &["other.org"]),
            for_uid(&svid("b", "spiffe://example.org/b", ""), 2),
        ]);
        let own_key = with_jwt_key(&mut snap, "example.org", "own");
        let foreign_key = with_jwt_key(&mut snap, "other.org", "foreign");
        let own = token(&own_key, "own", "spiffe://example.org/peer");
        let foreign = token(&foreign_key, "foreign", "spiffe://other.org/peer");
        let now = i64::try_from(
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        )
        .unwrap();
        let validate = |selectors: &[Selector], token: &str| {
            let domains = caller_bundle_domains(&snap, selectors).unwrap();
            lanyard_jwt::validate_jwt_svid(token, "me", &CallerBundles::new(&snap, domains), now)
        };

        // Federating with other.org: both tokens validate.
        let valid = validate(&caller(), &foreign).unwrap();
        assert_eq!(valid.spiffe_id.as_str(), "spiffe://other.org/peer");
        validate(&caller(), &own).unwrap();

        // Not federating: the own token still validates, the foreign one finds no bundle even
        // though the agent holds one (for another caller).
        let uid2 = [Selector::new("unix", "uid:2")];
        validate(&uid2, &own).unwrap();
        let refused = validate(&uid2, &foreign).unwrap_err();
        assert!(
            matches!(
                &refused,
                lanyard_jwt::JwtError::NoBundleForTrustDomain { trust_domain }
                    if *trust_domain == td("other.org")
            ),
            "{refused}"
        );
    }

    #[tokio::test]
    async fn a_foreign_bundle_update_reaches_only_the_streams_of_callers_holding_it() {
        use tokio::sync::watch;
        use tokio_stream::StreamExt as _;

        use crate::workload::stream::{Caller, ResponseStream, stream_updates};

        async fn next(stream: &mut ResponseStream<X509svidResponse>) -> X509svidResponse {
            tokio::time::timeout(Duration::from_secs(10), stream.next())
                .await
                .expect("no message in time")
                .expect("the stream ended")
                .expect("a denial")
        }

        let plain = svid("a", "spiffe://example.org/a", "");
        let svids = vec![
            federating(&plain, &["other.org"]),
            for_uid(&svid("b", "spiffe://example.org/b", ""), 2),
        ];
        let snap = snapshot(svids.clone());
        let (tx, rx) = watch::channel(Arc::clone(&snap));
        let (_stop, stop_rx) = watch::channel(false);
        let open = |uid: u32| {
            let caller = Caller {
                method: "FetchX509SVID",
                pid: 1,
                uid,
                selectors: vec![Selector::new("unix", format!("uid:{uid}"))],
            };
            stream_updates(rx.clone(), stop_rx.clone(), caller, x509_svid_response).unwrap()
        };
        let (mut federated, mut plain) = (open(1), open(2));
        let first = next(&mut federated).await;
        assert_eq!(keys(&first.federated_bundles), ["spiffe://other.org"]);
        let first = next(&mut plain).await;
        assert!(first.federated_bundles.is_empty());

        // other.org's bundle gains an authority.
        let mut changed = (*snap).clone();
        let mut other = changed.bundles.get(&td("other.org")).unwrap().clone();
        other.add_x509_authority(cert("other.org"));
        changed.bundles.insert(other.clone());
        tx.send(Arc::new(changed)).unwrap();

        let update = next(&mut federated).await;
        assert_eq!(
            update.federated_bundles["spiffe://other.org"],
            other.x509_authorities_der()
        );
        // The other caller's response did not change: its stream sends nothing.
        let nothing = tokio::time::timeout(Duration::ZERO, plain.next()).await;
        assert!(nothing.is_err(), "unexpected message: {nothing:?}");
    }
}
