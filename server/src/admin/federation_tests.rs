//! The `Federation` service, the federated bundle RPCs of `Bundles` and their CLI against a real
//! server: the admin API on a socket in a tempdir, SQLite, a real CA, the entry cache and the
//! refresher running, and a bundle endpoint on loopback to refresh from.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failure must fail the test"
)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use lanyard_datastore::{Datastore, EndpointProfile, FederationRelationship};
use lanyard_id::TrustDomain;
use lanyard_observe::grpc::GrpcMetrics;
use lanyard_x509::{Bundle, CaParams, KeyPair, KeyType, Subject, self_signed_ca};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyUsagePurpose};
use serde_json::Value;
use tokio::sync::watch;

use crate::ca::Ca;
use crate::cache::EntryCache;
use crate::cli::{self, CliError};
use crate::federation::endpoint::{EndpointConfig, serve};
use crate::federation::refresher::{Refresher, RefresherSettings};
use crate::state::ServerState;

const PATIENCE: Duration = Duration::from_secs(20);

fn td(name: &str) -> TrustDomain {
    TrustDomain::new(name).unwrap()
}

fn stopped(stop: &watch::Sender<()>) -> impl std::future::Future<Output = ()> + Send + 'static {
    let mut rx = stop.subscribe();
    async move {
        let _ = rx.changed().await;
    }
}

/// A bundle of `name` with one fresh CA certificate and `sequence`.
fn foreign_bundle(name: &str, sequence: u64) -> Bundle {
    let now = SystemTime::now();
    let params = CaParams {
        trust_domain: td(name),
        subject: Subject {
            country: None,
            organization: Some("Foreign".into()),
            common_name: None,
        },
        not_before: now,
        not_after: now + Duration::from_secs(3600),
        path_len: None,
    };
    let key = KeyPair::generate(KeyType::EcP256).unwrap();
    let mut b = Bundle::new(td(name));
    b.add_x509_authority(self_signed_ca(&params, &key).unwrap());
    b.sequence_number = sequence;
    b
}

/// A Web PKI CA and a server certificate of it for 127.0.0.1 (or `name`).
struct WebPki {
    roots: rustls::RootCertStore,
    params: CertificateParams,
    key: rcgen::KeyPair,
}

impl WebPki {
    fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "admin test CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = rcgen::KeyPair::generate().unwrap();
        let der = params.self_signed(&key).unwrap().der().to_vec();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(der.into()).unwrap();
        Self { roots, params, key }
    }

    fn identity(&self, name: &str) -> lanyard_tls::Identity {
        let params = CertificateParams::new(vec![name.to_owned()]).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params
            .signed_by(&key, &Issuer::from_params(&self.params, &self.key))
            .unwrap();
        let identity = lanyard_tls::Identity::new();
        identity
            .set(&[cert.der().to_vec()], &key.serialize_der())
            .unwrap();
        identity
    }
}

/// A running server of `example.org` with its admin API, refresher and cache.
struct Server {
    socket: PathBuf,
    ds: Datastore,
    web: WebPki,
    _stop: watch::Sender<()>,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ds = Datastore::connect(dir.path().join("ds.sqlite3").to_str().unwrap())
            .await
            .unwrap();
        let own = td("example.org");
        let ca_ttl = Duration::from_secs(24 * 3600);
        let ca = Ca::open(
            own.clone(),
            KeyType::EcP256,
            ca_ttl,
            &dir.path().join("ca"),
            ds.clone(),
            SystemTime::now(),
        )
        .await
        .unwrap();
        let cache = EntryCache::load(ds.clone(), own.clone(), crate::state::server_id(&own))
            .await
            .unwrap();
        let web = WebPki::new();
        let refresher = Refresher::new(
            ds.clone(),
            cache.clone(),
            own,
            RefresherSettings {
                refresh_floor: Duration::from_secs(1),
                limits: crate::federation::fetch::FetchLimits {
                    fetch_timeout: Duration::from_secs(2),
                    ..Default::default()
                },
                web_tls: Some(lanyard_tls::web_pki_client_config(web.roots.clone()).unwrap()),
            },
        );
        let state = ServerState::new(
            ds.clone(),
            ca,
            Duration::from_secs(3600),
            Duration::from_secs(300),
            ca_ttl,
            Vec::new(),
        )
        .with_federation(refresher.handle());
        let (stop, _) = watch::channel(());
        tokio::spawn(cache.run(stopped(&stop)));
        tokio::spawn(refresher.run(stopped(&stop)));
        let socket = dir.path().join("private").join("api.sock");
        let listener = super::super::bind_admin(&socket).await.unwrap();
        tokio::spawn({
            let (socket, shutdown) = (socket.clone(), stopped(&stop));
            async move {
                super::super::serve_admin_on(
                    listener,
                    state,
                    &socket,
                    GrpcMetrics::unregistered(crate::metrics::ADMIN_METHODS),
                    shutdown,
                )
                .await
            }
        });
        Self {
            socket,
            ds,
            web,
            _stop: stop,
            _dir: dir,
        }
    }

    /// An https_web bundle endpoint for 127.0.0.1 serving `bundle` (a certificate for `name`).
    async fn endpoint(&self, name: &str, bundle: Bundle) -> (String, watch::Sender<()>) {
        let tls =
            lanyard_tls::bundle_endpoint_server_config(Arc::new(self.web.identity(name))).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "https://127.0.0.1:{}/",
            listener.local_addr().unwrap().port()
        );
        let (_keep, bundles) = watch::channel(Arc::new(bundle));
        let (stop, _) = watch::channel(());
        let shutdown = stopped(&stop);
        tokio::spawn(async move {
            let _keep = _keep;
            serve(listener, tls, bundles, EndpointConfig::default(), shutdown).await;
        });
        (url, stop)
    }

    async fn cli(&self, args: &[&str]) -> Result<String, CliError> {
        let mut all = args.to_vec();
        all.extend(["--socket-path", self.socket.to_str().unwrap()]);
        let mut out = String::new();
        tokio::time::timeout(
            PATIENCE,
            cli::execute(cli::tests_support::parse(&all), &mut out),
        )
        .await
        .expect("CLI call hung")?;
        Ok(out)
    }

    async fn ok(&self, args: &[&str]) -> String {
        self.cli(args)
            .await
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    async fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args).await).unwrap()
    }

    async fn refused(&self, args: &[&str]) -> CliError {
        match self.cli(args).await {
            Ok(out) => panic!("{args:?} succeeded: {out}"),
            Err(e) => e,
        }
    }
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

fn int(v: &Value) -> i64 {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}

#[tokio::test]
async fn relationships_are_created_listed_refreshed_and_deleted() {
    let s = Server::start().await;
    let served = foreign_bundle("orders.example", 8);
    let (url, _ep) = s.endpoint("127.0.0.1", served.clone()).await;

    let created = s
        .json(&[
            "federation",
            "create",
            "--trust-domain",
            "spiffe://orders.example",
            "--bundle-endpoint-url",
            &url,
            "--profile",
            "https_web",
            "--output",
            "json",
        ])
        .await;
    let rel = &created["relationship"];
    assert_eq!(rel["trust_domain"], "orders.example");
    assert_eq!(rel["bundle_endpoint_url"], url.as_str());
    assert_eq!(rel["profile"], "BUNDLE_ENDPOINT_PROFILE_HTTPS_WEB");
    assert_eq!(rel["declared_in_config"], false);

    // The refresh on demand answers with the stored bundle.
    let text = s
        .ok(&["federation", "refresh", "--trust-domain", "orders.example"])
        .await;
    assert!(
        text.contains("Refreshed the bundle of orders.example: sequence 8, 1 X.509 authorities"),
        "{text}"
    );
    let shown = s
        .json(&[
            "federation",
            "show",
            "--trust-domain",
            "orders.example",
            "--output",
            "json",
        ])
        .await;
    let status = &shown["relationship"]["status"];
    assert!(int(&status["last_success_at"]) > 0, "{shown}");
    assert_eq!(int(&status["consecutive_failures"]), 0, "{shown}");
    assert!(int(&status["next_attempt_at"]) >= int(&status["last_attempt_at"]));
    let text = s
        .ok(&["federation", "show", "--trust-domain", "orders.example"])
        .await;
    assert!(text.contains("Profile            : https_web"), "{text}");
    assert!(text.contains("Declared in        : admin API"), "{text}");
    let listed = s.json(&["federation", "list", "--output", "json"]).await;
    assert_eq!(listed["relationships"].as_array().unwrap().len(), 1);

    let stored = s
        .json(&[
            "bundle",
            "show",
            "--trust-domain",
            "orders.example",
            "--format",
            "json",
        ])
        .await;
    assert_eq!(stored["trust_domain"], "orders.example");
    assert_eq!(int(&stored["sequence_number"]), 8);
    let pem = s
        .ok(&["bundle", "show", "--trust-domain", "orders.example"])
        .await;
    assert_eq!(pem, served.x509_authorities_pem());

    // Created twice: AlreadyExists, saying how to change it.
    let e = s
        .refused(&[
            "federation",
            "create",
            "--trust-domain",
            "orders.example",
            "--bundle-endpoint-url",
            &url,
            "--profile",
            "https_web",
        ])
        .await;
    assert!(
        matches!(
            &e,
            CliError::Rpc {
                code: tonic::Code::AlreadyExists,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("federation update"), "{e}");

    s.ok(&["federation", "delete", "--trust-domain", "orders.example"])
        .await;
    let e = s
        .refused(&["bundle", "show", "--trust-domain", "orders.example"])
        .await;
    assert!(
        matches!(
            &e,
            CliError::Rpc {
                code: tonic::Code::NotFound,
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("bundle set --trust-domain orders.example"),
        "{e}"
    );
    let e = s
        .refused(&["federation", "show", "--trust-domain", "orders.example"])
        .await;
    assert!(
        matches!(
            &e,
            CliError::Rpc {
                code: tonic::Code::NotFound,
                ..
            }
        ),
        "{e}"
    );
}

#[tokio::test]
async fn a_failed_refresh_exits_1_with_the_cause_and_shows_in_the_status() {
    let s = Server::start().await;
    let (url, _ep) = s
        .endpoint("wrong.example", foreign_bundle("orders.example", 1))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let bootstrap = write(
        &dir,
        "orders.pem",
        &foreign_bundle("orders.example", 0).x509_authorities_pem(),
    );
    s.ok(&[
        "federation",
        "create",
        "--trust-domain",
        "orders.example",
        "--bundle-endpoint-url",
        &url,
        "--profile",
        "https_web",
        "--bootstrap-bundle",
        &bootstrap,
    ])
    .await;
    let e = s
        .refused(&["federation", "refresh", "--trust-domain", "orders.example"])
        .await;
    assert_eq!(e.exit_code(), std::process::ExitCode::FAILURE);
    let message = e.to_string();
    assert!(message.contains("not valid for 127.0.0.1"), "{message}");
    assert!(
        message.contains("keeping the bundle of sequence 0"),
        "{message}"
    );
    let shown = s
        .json(&[
            "federation",
            "show",
            "--trust-domain",
            "orders.example",
            "--output",
            "json",
        ])
        .await;
    let status = &shown["relationship"]["status"];
    assert!(
        status["last_error"]
            .as_str()
            .unwrap()
            .contains("not valid for"),
        "{shown}"
    );
    assert!(int(&status["consecutive_failures"]) >= 1, "{shown}");
    let text = s.ok(&["federation", "list"]).await;
    assert!(text.contains("Last error"), "{text}");
}

#[tokio::test]
async fn own_trust_domain_and_declared_relationships_are_refused_with_what_to_do() {
    let s = Server::start().await;
    for args in [
        &["bundle", "delete", "--trust-domain", "example.org"][..],
        &[
            "federation",
            "delete",
            "--trust-domain",
            "spiffe://example.org",
        ][..],
        &[
            "federation",
            "create",
            "--trust-domain",
            "example.org",
            "--bundle-endpoint-url",
            "https://example.org/",
            "--profile",
            "https_web",
        ][..],
    ] {
        let e = s.refused(args).await;
        assert!(
            matches!(
                &e,
                CliError::Rpc {
                    code: tonic::Code::InvalidArgument,
                    ..
                }
            ),
            "{args:?}: {e}"
        );
        assert!(e.to_string().contains("localauthority"), "{e}");
    }

    let declared = FederationRelationship {
        trust_domain: td("orders.example"),
        endpoint_url: "https://127.0.0.1:1/".into(),
        profile: EndpointProfile::HttpsWeb,
        endpoint_spiffe_id: None,
        declared_in_config: true,
        created_at: 0,
        updated_at: 0,
    };
    s.ds.reconcile_config_relationships(&[(declared, None)])
        .await
        .unwrap();
    let shown = s
        .json(&[
            "federation",
            "show",
            "--trust-domain",
            "orders.example",
            "--output",
            "json",
        ])
        .await;
    assert_eq!(shown["relationship"]["declared_in_config"], true);
    for args in [
        &["federation", "delete", "--trust-domain", "orders.example"][..],
        &[
            "federation",
            "update",
            "--trust-domain",
            "orders.example",
            "--bundle-endpoint-url",
            "https://127.0.0.1:2/",
            "--profile",
            "https_web",
        ][..],
    ] {
        let e = s.refused(args).await;
        assert!(
            matches!(
                &e,
                CliError::Rpc {
                    code: tonic::Code::FailedPrecondition,
                    ..
                }
            ),
            "{args:?}: {e}"
        );
        assert!(e.to_string().contains("server.toml"), "{e}");
    }
}

#[tokio::test]
async fn foreign_bundles_are_set_listed_and_deleted_by_hand() {
    let s = Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let v1 = foreign_bundle("other.example", 3);
    let json_file = write(&dir, "other.json", &v1.to_jwks_json().unwrap());
    let printed = s
        .ok(&[
            "bundle",
            "set",
            "--trust-domain",
            "other.example",
            "--path",
            &json_file,
        ])
        .await;
    let back = Bundle::from_jwks_json(td("other.example"), printed.as_bytes()).unwrap();
    assert!(
        back.same_keys(&v1),
        "set prints the stored bundle as SPIFFE JSON"
    );
    assert_eq!(back.sequence_number, 3);

    let v2 = foreign_bundle("pem.example", 0);
    let pem_file = write(&dir, "pem.pem", &v2.x509_authorities_pem());
    s.ok(&[
        "bundle",
        "set",
        "--trust-domain",
        "pem.example",
        "--input-format",
        "pem",
        "--path",
        &pem_file,
    ])
    .await;

    let listed = s.json(&["bundle", "list", "--format", "json"]).await;
    let names: Vec<&str> = listed["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["trust_domain"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["other.example", "pem.example"],
        "not the own bundle"
    );
    let spiffe = s.json(&["bundle", "list", "--format", "spiffe"]).await;
    assert!(spiffe["other.example"]["keys"].is_array(), "{spiffe}");
    let pem = s.ok(&["bundle", "list"]).await;
    assert!(
        pem.contains("# pem.example (sequence 0)\n-----BEGIN CERTIFICATE-----"),
        "{pem}"
    );

    s.ok(&["bundle", "delete", "--trust-domain", "pem.example"])
        .await;
    let e = s
        .refused(&["bundle", "delete", "--trust-domain", "pem.example"])
        .await;
    assert!(
        matches!(
            &e,
            CliError::Rpc {
                code: tonic::Code::NotFound,
                ..
            }
        ),
        "{e}"
    );
    // The own bundle is still there, unchanged by any of it.
    let own = s.json(&["bundle", "show", "--format", "json"]).await;
    assert_eq!(own["trust_domain"], "example.org");

    // A bundle given in the wrong form is a usage error, nothing sent.
    let e = s
        .refused(&[
            "bundle",
            "set",
            "--trust-domain",
            "other.example",
            "--input-format",
            "spiffe",
            "--path",
            &pem_file,
        ])
        .await;
    assert_eq!(e.exit_code(), std::process::ExitCode::from(2), "{e}");
    assert!(
        e.to_string().contains("not a SPIFFE bundle document"),
        "{e}"
    );
}

#[tokio::test]
async fn federation_usage_errors_exit_2_before_any_call() {
    // No server: the checks come before connecting.
    let nowhere = "/nonexistent/lanyard/api.sock";
    let base = ["federation", "create", "--trust-domain", "orders.example"];
    for (extra, says) in [
        (
            &[
                "--bundle-endpoint-url",
                "http://orders.example/",
                "--profile",
                "https_web",
            ][..],
            "https only",
        ),
        (
            &[
                "--bundle-endpoint-url",
                "https://orders.example/",
                "--profile",
                "https_spiffe",
            ][..],
            "needs --endpoint-spiffe-id",
        ),
        (
            &[
                "--bundle-endpoint-url",
                "https://orders.example/",
                "--profile",
                "https_web",
                "--endpoint-spiffe-id",
                "spiffe://orders.example/s",
            ][..],
            "only for --profile https_spiffe",
        ),
        (
            &[
                "--bundle-endpoint-url",
                "https://orders.example/",
                "--profile",
                "https_spiffe",
                "--endpoint-spiffe-id",
                "orders.example/s",
            ][..],
            "is not a SPIFFE ID",
        ),
        (
            &[
                "--bundle-endpoint-url",
                "https://orders.example/",
                "--profile",
                "https_web",
                "--bootstrap-bundle",
                "/nonexistent/bundle.json",
            ][..],
            "cannot read it",
        ),
    ] {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        args.extend(["--socket-path", nowhere]);
        let mut out = String::new();
        let e = cli::execute(cli::tests_support::parse(&args), &mut out)
            .await
            .unwrap_err();
        assert_eq!(
            e.exit_code(),
            std::process::ExitCode::from(2),
            "{args:?}: {e}"
        );
        assert!(e.to_string().contains(says), "{args:?}: {e}");
    }
    let mut out = String::new();
    let e = cli::execute(
        cli::tests_support::parse(&[
            "federation",
            "refresh",
            "--trust-domain",
            "not a domain",
            "--socket-path",
            nowhere,
        ]),
        &mut out,
    )
    .await
    .unwrap_err();
    assert_eq!(e.exit_code(), std::process::ExitCode::from(2), "{e}");
}
