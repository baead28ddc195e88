//! The refresher against a real bundle endpoint on loopback ([`super::super::endpoint::serve`]),
//! a real SQLite datastore and the entry cache following it: scheduled and on-demand rounds,
//! the sequence rule, refusals that keep the stored bundle, the self-serving lock-out guard,
//! and relationships coming and going.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failure must fail the test"
)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use lanyard_datastore::{
    BundleOrigin, Datastore, EndpointProfile, FederatedBundle, FederationRelationship,
};
use lanyard_id::{SpiffeId, TrustDomain};
use lanyard_x509::Bundle;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};

use super::*;
use crate::cache::{CacheEvent, EntryCache, Tagged};
use crate::federation::endpoint::{EndpointConfig, serve};
use crate::federation::test_certs::{Domain, WebCa};

const PATIENCE: Duration = Duration::from_secs(20);
const ORDERS_SERVER: &str = "spiffe://orders.example/lanyard/server";

fn td(name: &str) -> TrustDomain {
    TrustDomain::new(name).unwrap()
}

/// A future that completes when `stop` is dropped.
fn stopped(stop: &watch::Sender<()>) -> impl std::future::Future<Output = ()> + Send + 'static {
    let mut rx = stop.subscribe();
    async move {
        let _ = rx.changed().await;
    }
}

/// A bundle endpoint serving what `bundles` holds, with `identity`.
struct Endpoint {
    port: u16,
    /// What the endpoint presents; `set` changes it for the next handshakes.
    identity: lanyard_tls::Identity,
    bundles: watch::Sender<Arc<Bundle>>,
    _stop: watch::Sender<()>,
}

impl Endpoint {
    async fn start(identity: lanyard_tls::Identity, bundle: Bundle) -> Endpoint {
        let tls = lanyard_tls::bundle_endpoint_server_config(Arc::new(identity.clone())).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (bundles, rx) = watch::channel(Arc::new(bundle));
        let (stop, _) = watch::channel(());
        let cfg = EndpointConfig {
            refresh_hint: Duration::from_secs(2),
            ..EndpointConfig::default()
        };
        tokio::spawn(serve(listener, tls, rx, cfg, stopped(&stop)));
        Endpoint {
            port,
            identity,
            bundles,
            _stop: stop,
        }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}/", self.port)
    }

    fn serve(&self, bundle: Bundle) {
        self.bundles.send_replace(Arc::new(bundle));
    }
}

/// A server of `pay.example`: datastore, entry cache and refresher running.
struct Fixture {
    ds: Datastore,
    cache: EntryCache,
    handle: FederationHandle,
    web: WebCa,
    _stop: watch::Sender<()>,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn start() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let ds = Datastore::connect(dir.path().join("ds.sqlite3").to_str().unwrap())
            .await
            .unwrap();
        let pay = td("pay.example");
        let cache = EntryCache::load(ds.clone(), pay.clone(), crate::state::server_id(&pay))
            .await
            .unwrap();
        let web = WebCa::new("refresher test CA");
        let refresher = Refresher::new(
            ds.clone(),
            cache.clone(),
            pay,
            RefresherSettings {
                refresh_floor: Duration::from_secs(1),
                limits: FetchLimits {
                    fetch_timeout: Duration::from_secs(2),
                    ..FetchLimits::default()
                },
                web_tls: Some(lanyard_tls::web_pki_client_config(web.roots()).unwrap()),
            },
        );
        let handle = refresher.handle();
        let (stop, _) = watch::channel(());
        tokio::spawn(cache.clone().run(stopped(&stop)));
        tokio::spawn(refresher.run(stopped(&stop)));
        Fixture {
            ds,
            cache,
            handle,
            web,
            _stop: stop,
            _dir: dir,
        }
    }

    /// An https_web endpoint with a certificate of the test CA for `names`, serving `bundle`.
    async fn web_endpoint(&self, names: &[&str], bundle: Bundle) -> Endpoint {
        Endpoint::start(self.web.issue(names, false).identity(), bundle).await
    }

    async fn relate(&self, rel: FederationRelationship, bootstrap: Option<&Bundle>) {
        let bootstrap = bootstrap.map(|b| FederatedBundle {
            trust_domain: b.trust_domain.clone(),
            bundle_json: b.to_jwks_json().unwrap(),
            sequence: b.sequence_number,
            origin: BundleOrigin::Operator,
            updated_at: 0,
        });
        self.ds.create_relationship(rel, bootstrap).await.unwrap();
    }

    async fn stored(&self, name: &str) -> Option<FederatedBundle> {
        self.ds.get_federated_bundle(&td(name)).await.unwrap()
    }
}

fn web_rel(name: &str, url: &str) -> FederationRelationship {
    FederationRelationship {
        trust_domain: td(name),
        endpoint_url: url.to_owned(),
        profile: EndpointProfile::HttpsWeb,
        endpoint_spiffe_id: None,
        declared_in_config: false,
        created_at: 0,
        updated_at: 0,
    }
}

fn spiffe_rel(name: &str, url: &str, id: &str) -> FederationRelationship {
    FederationRelationship {
        profile: EndpointProfile::HttpsSpiffe,
        endpoint_spiffe_id: Some(SpiffeId::parse(id).unwrap()),
        ..web_rel(name, url)
    }
}

/// `bundle` with `sequence`.
fn with_sequence(bundle: &Bundle, sequence: u64) -> Bundle {
    let mut b = bundle.clone();
    b.sequence_number = sequence;
    b
}

/// The next bundle of `name` the cache publishes.
async fn next_bundle(events: &mut broadcast::Receiver<Arc<Tagged>>, name: &str) -> Arc<Bundle> {
    let want = td(name);
    tokio::time::timeout(PATIENCE, async {
        loop {
            match events.recv().await {
                Ok(t) => {
                    if let CacheEvent::FederatedBundle {
                        trust_domain,
                        bundle: Some(b),
                    } = &t.event
                        && *trust_domain == want
                    {
                        return b.clone();
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("the cache stopped"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no bundle of {name} stored within {PATIENCE:?}"))
}

#[tokio::test]
async fn a_new_relationship_is_fetched_at_once_and_scheduled_from_the_hint() {
    let f = Fixture::start().await;
    let orders = Domain::new("orders.example");
    let served = with_sequence(&orders.bundle, 41);
    let ep = f.web_endpoint(&["127.0.0.1"], served.clone()).await;
    let mut events = f.cache.subscribe();
    let before = SystemTime::now();
    f.relate(web_rel("orders.example", &ep.url()), None).await;

    let got = next_bundle(&mut events, "orders.example").await;
    assert!(got.same_keys(&served));
    assert_eq!(got.sequence_number, 41);
    assert_eq!(
        got.refresh_hint,
        Some(Duration::from_secs(2)),
        "as published"
    );
    let stored = f.stored("orders.example").await.unwrap();
    assert_eq!(
        (stored.sequence, stored.origin),
        (41, BundleOrigin::Endpoint)
    );

    let st = f.handle.status(&td("orders.example")).unwrap();
    assert!(st.last_success_at.unwrap() >= before);
    assert_eq!((st.consecutive_failures, st.last_error), (0, None));
    // The 2 s hint, ±10 %, within [floor 1 s, 1 h].
    let next = st.next_attempt_at.unwrap();
    let after = next.duration_since(st.last_success_at.unwrap()).unwrap();
    assert!(
        (Duration::from_millis(1800)..=Duration::from_millis(2200)).contains(&after),
        "{after:?}"
    );

    // The schedule keeps fetching: the endpoint's next bundle arrives without being asked for.
    let mut more = orders.bundle.clone();
    more.add_x509_authority(Domain::new("orders.example").bundle.x509_authorities[0].clone());
    ep.serve(with_sequence(&more, 42));
    let got = next_bundle(&mut events, "orders.example").await;
    assert_eq!(got.x509_authorities.len(), 2);
    assert_eq!(got.sequence_number, 42);
}

#[tokio::test]
async fn refresh_now_returns_the_stored_bundle_and_an_unknown_domain_is_named() {
    let f = Fixture::start().await;
    let orders = Domain::new("orders.example");
    let ep = f
        .web_endpoint(&["127.0.0.1"], with_sequence(&orders.bundle, 7))
        .await;
    f.relate(web_rel("orders.example", &ep.url()), None).await;
    let stored = f.handle.refresh_now(&td("orders.example")).await.unwrap();
    assert_eq!(stored.sequence, 7);
    let b = Bundle::from_jwks_json(td("orders.example"), stored.bundle_json.as_bytes()).unwrap();
    assert!(b.same_keys(&orders.bundle));

    match f.handle.refresh_now(&td("nobody.example")).await {
        Err(RefreshError::NoRelationship(t)) => assert_eq!(t, td("nobody.example")),
        other => panic!("expected NoRelationship, got {other:?}"),
    }
    let e = RefreshError::NoRelationship(td("nobody.example")).to_string();
    assert!(
        e.contains("federation create --trust-domain nobody.example"),
        "{e}"
    );
}

#[tokio::test]
async fn a_refused_certificate_keeps_the_stored_bundle_and_counts_failures() {
    let f = Fixture::start().await;
    let orders = Domain::new("orders.example");
    // An operator's bundle first; the endpoint's certificate names another host.
    let seeded = with_sequence(&orders.bundle, 5);
    f.ds.set_federated_bundle(FederatedBundle {
        trust_domain: td("orders.example"),
        bundle_json: seeded.to_jwks_json().unwrap(),
        sequence: 5,
        origin: BundleOrigin::Operator,
        updated_at: 0,
    })
    .await
    .unwrap();
    let other = Domain::new("orders.example");
    let ep = f
        .web_endpoint(&["wrong.example"], with_sequence(&other.bundle, 9))
        .await;
    f.relate(web_rel("orders.example", &ep.url()), None).await;

    let e = match f.handle.refresh_now(&td("orders.example")).await {
        Err(RefreshError::Failed(e)) => e,
        other => panic!("expected a failure, got {other:?}"),
    };
    assert!(e.contains("not valid for 127.0.0.1"), "{e}");
    assert!(e.contains(&ep.url()), "the URL is named: {e}");
    assert!(
        e.contains("keeping the bundle of sequence 5 stored at "),
        "{e}"
    );
    let st = f.handle.status(&td("orders.example")).unwrap();
    assert!(st.consecutive_failures >= 1, "{st:?}");
    assert!(st.last_error.unwrap().contains("not valid for"));
    assert_eq!(st.last_success_at, None);
    let kept = f.stored("orders.example").await.unwrap();
    assert_eq!((kept.sequence, kept.origin), (5, BundleOrigin::Operator));
}

#[tokio::test]
async fn every_fetch_checks_the_certificate_presented_now() {
    let f = Fixture::start().await;
    let orders = Domain::new("orders.example");
    let ep = f
        .web_endpoint(&["127.0.0.1"], with_sequence(&orders.bundle, 1))
        .await;
    f.relate(web_rel("orders.example", &ep.url()), None).await;
    f.handle.refresh_now(&td("orders.example")).await.unwrap();
    // The endpoint's certificate changes to one for another name: the next fetch must see it
    // (a resumed TLS session would skip the certificate and succeed).
    let wrong = f.web.issue(&["wrong.example"], false);
    ep.identity.set(&wrong.chain, &wrong.key_pkcs8).unwrap();
    let e = match f.handle.refresh_now(&td("orders.example")).await {
        Err(RefreshError::Failed(e)) => e,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert!(e.contains("not valid for 127.0.0.1"), "{e}");
}

#[tokio::test]
async fn a_different_bundle_with_a_lower_sequence_is_refused() {
    let f = Fixture::start().await;
    let orders = Domain::new("orders.example");
    let ep = f
        .web_endpoint(&["127.0.0.1"], with_sequence(&orders.bundle, 10))
        .await;
    f.relate(web_rel("orders.example", &ep.url()), None).await;
    f.handle.refresh_now(&td("orders.example")).await.unwrap();

    // Other keys, older sequence: refused (a rolled-back or replayed endpoint).
    let older = with_sequence(&Domain::new("orders.example").bundle, 9);
    ep.serve(older);
    let e = match f.handle.refresh_now(&td("orders.example")).await {
        Err(RefreshError::Failed(e)) => e,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert!(e.contains("not above the stored 10"), "{e}");
    assert!(e.contains("keeping the bundle of sequence 10"), "{e}");
    let kept = f.stored("orders.example").await.unwrap();
    let kept = Bundle::from_jwks_json(td("orders.example"), kept.bundle_json.as_bytes()).unwrap();
    assert!(kept.same_keys(&orders.bundle));

    // The same keys with a higher sequence: accepted, nothing new for the agents.
    ep.serve(with_sequence(&orders.bundle, 12));
    let stored = f.handle.refresh_now(&td("orders.example")).await.unwrap();
    assert_eq!(stored.sequence, 12);
    assert_eq!(
        f.handle
            .status(&td("orders.example"))
            .unwrap()
            .consecutive_failures,
        0
    );
}

#[tokio::test]
async fn https_spiffe_verifies_with_the_bootstrap_bundle_and_refuses_a_lock_out() {
    let f = Fixture::start().await;
    let orders = Domain::new("orders.example");
    let ep = Endpoint::start(
        orders.identity(ORDERS_SERVER, &[]),
        with_sequence(&orders.bundle, 3),
    )
    .await;

    // Without a bundle of orders.example there is nothing to verify the endpoint with.
    f.relate(spiffe_rel("orders.example", &ep.url(), ORDERS_SERVER), None)
        .await;
    let e = match f.handle.refresh_now(&td("orders.example")).await {
        Err(RefreshError::Failed(e)) => e,
        other => panic!("expected a failure, got {other:?}"),
    };
    assert!(e.contains("no bundle of orders.example is stored"), "{e}");
    assert!(
        e.contains("bundle set --trust-domain orders.example"),
        "{e}"
    );
    f.ds.delete_relationship(&td("orders.example"))
        .await
        .unwrap();

    // With the bootstrap bundle: fetched and stored.
    f.relate(
        spiffe_rel("orders.example", &ep.url(), ORDERS_SERVER),
        Some(&with_sequence(&orders.bundle, 1)),
    )
    .await;
    let stored = f.handle.refresh_now(&td("orders.example")).await.unwrap();
    assert_eq!(stored.sequence, 3);

    // A bundle under which the endpoint's own SVID does not verify would lock us out: refused.
    let foreign_ca = with_sequence(&Domain::new("orders.example").bundle, 4);
    ep.serve(foreign_ca);
    let e = match f.handle.refresh_now(&td("orders.example")).await {
        Err(RefreshError::Failed(e)) => e,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert!(e.contains("lock this server out"), "{e}");
    assert!(e.contains("keeping the bundle of sequence 3"), "{e}");

    // A rotation that keeps the current authority (prepare: new one added) is taken.
    let mut rotated = orders.bundle.clone();
    rotated.add_x509_authority(Domain::new("orders.example").bundle.x509_authorities[0].clone());
    ep.serve(with_sequence(&rotated, 5));
    let stored = f.handle.refresh_now(&td("orders.example")).await.unwrap();
    assert_eq!(stored.sequence, 5);
}

#[tokio::test]
async fn an_ended_relationship_is_no_longer_refreshed() {
    let f = Fixture::start().await;
    let orders = Domain::new("orders.example");
    let ep = f
        .web_endpoint(&["127.0.0.1"], with_sequence(&orders.bundle, 1))
        .await;
    let mut events = f.cache.subscribe();
    f.relate(web_rel("orders.example", &ep.url()), None).await;
    next_bundle(&mut events, "orders.example").await;
    assert!(f.handle.status(&td("orders.example")).is_some());

    f.ds.delete_relationship(&td("orders.example"))
        .await
        .unwrap();
    // The supervisor forgets it once the cache has passed the deletion on.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while f.handle.status(&td("orders.example")).is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "still refreshing a deleted relationship"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(f.stored("orders.example").await.is_none(), "§6.3: deleted");
    // The endpoint keeps serving, but no scheduled round stores its bundle again.
    ep.serve(with_sequence(&orders.bundle, 2));
    assert!(matches!(
        f.handle.refresh_now(&td("orders.example")).await,
        Err(RefreshError::NoRelationship(_))
    ));
    assert!(f.stored("orders.example").await.is_none());
}
