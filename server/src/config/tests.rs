//! Tests of `server.toml` parsing, validation and overrides.

#![allow(clippy::unwrap_used)]
use super::*;
use lanyard_config::Overrides;

/// Why `ServerConfig::from_toml` refuses `text`.
fn refusal(text: &str) -> String {
    ServerConfig::from_toml(text).unwrap_err().to_string()
}

#[test]
fn minimal_config_gets_documented_defaults() {
    let c = ServerConfig::from_toml("trust_domain = \"example.org\"").unwrap();
    assert_eq!(c.trust_domain.name(), "example.org");
    assert_eq!(c.bind_address.to_string(), "0.0.0.0:8081");
    assert_eq!(
        c.socket_path,
        Path::new("/tmp/lanyard-server/private/api.sock")
    );
    assert_eq!(c.ca.key_type, CaKeyType::EcP256);
    assert_eq!(c.ca.ttl, Duration::from_secs(86400));
    assert_eq!(c.svid.default_x509_ttl, Duration::from_secs(3600));
    assert_eq!(c.svid.default_jwt_ttl, Duration::from_secs(300));
    assert_eq!(c.jwt.key_type, CaKeyType::EcP256);
    assert_eq!(c.log_format, LogFormat::Text);
    assert!(c.datastore_url().ends_with("datastore.sqlite3?mode=rwc"));
    assert_eq!(c.agent_api.max_concurrent_signs_per_agent, 2);
    assert_eq!(c.agent_api.attestation_timeout, Duration::from_secs(30));
    assert_eq!(c.agent_api.max_attestations_per_ip, 64);
    assert_eq!(c.agent_api.max_attestations, 1024);
    assert_eq!(c.agent_api.max_connections, 20_000);
}

#[test]
fn agent_api_bounds_are_configurable_and_checked() {
    let base = "trust_domain = \"example.org\"\n[agent_api]\n";
    let c = ServerConfig::from_toml(&format!(
        "{base}max_concurrent_signs_per_agent = 4\nattestation_timeout = \"2s\"\nmax_attestations_per_ip = 3\nmax_attestations = 10\nmax_connections = 50\n"
    ))
    .unwrap();
    assert_eq!(c.agent_api.max_concurrent_signs_per_agent, 4);
    assert_eq!(c.agent_api.attestation_timeout, Duration::from_secs(2));
    assert_eq!(c.agent_api.max_attestations_per_ip, 3);
    assert_eq!(c.agent_api.max_attestations, 10);
    assert_eq!(c.agent_api.max_connections, 50);
    for (toml, expect) in [
        (
            "max_concurrent_signs_per_agent = 0",
            "`agent_api.max_concurrent_signs_per_agent` is 0",
        ),
        (
            "max_attestations_per_ip = 0",
            "`agent_api.max_attestations_per_ip` is 0",
        ),
        (
            "max_attestations_per_ip = 2000",
            "exceeds agent_api.max_attestations (1024)",
        ),
        ("attestation_timeout = \"500ms\"", "at least 1s"),
        ("max_connections = 0", "`agent_api.max_connections` is 0"),
        ("max_attestation = 3", "max_attestation"),
    ] {
        let e = refusal(&format!("{base}{toml}\n"));
        assert!(e.contains(expect), "{toml}: {e}");
    }
}

#[test]
fn shutdown_grace_and_pruning_are_configurable_and_checked() {
    let c = ServerConfig::from_toml("trust_domain = \"example.org\"").unwrap();
    assert_eq!(c.shutdown_grace, Duration::from_secs(5));
    assert_eq!(c.prune.interval, Duration::from_secs(60));
    assert_eq!(c.prune.event_retention, Duration::from_secs(86400));
    let c = ServerConfig::from_toml(
        "trust_domain = \"example.org\"\nshutdown_grace = \"0s\"\n[prune]\ninterval = \"1s\"\nevent_retention = \"1h\"\n",
    )
    .unwrap();
    assert_eq!(c.shutdown_grace, Duration::ZERO);
    assert_eq!(c.prune.interval, Duration::from_secs(1));
    assert_eq!(c.prune.event_retention, Duration::from_secs(3600));
    for (toml, expect) in [
        (
            "shutdown_grace = \"1h\"",
            "`shutdown_grace` is 1h; at most 10m",
        ),
        ("shutdown_grace = \"soon\"", "shutdown_grace"),
        ("[prune]\ninterval = \"0s\"", "`prune.interval` is 0s"),
        ("[prune]\ninterval = \"2days\"", "between 1s and 24h"),
        (
            "[prune]\nevent_retention = \"500ms\"",
            "`prune.event_retention` is 500ms",
        ),
        ("[prune]\nretention = \"1h\"", "unknown field `retention`"),
    ] {
        let e = refusal(&format!("trust_domain = \"example.org\"\n{toml}\n"));
        assert!(e.contains(expect), "{toml}: {e}");
    }
}

#[test]
fn k8s_psat_clusters_are_validated_with_a_way_out() {
    let base = "trust_domain = \"example.org\"\n";
    let c = ServerConfig::from_toml(&format!(
        "{base}[node_attestors.k8s_psat.clusters.prod]\nservice_account_allow_list = [\"lanyard:lanyard-agent\"]\n"
    ))
    .unwrap();
    let prod = &c.node_attestors.k8s_psat.unwrap().clusters["prod"];
    assert_eq!(prod.audience, "lanyard-server");
    assert!(prod.kube_config_file.is_none());
    for (toml, expect) in [
        (
            "[node_attestors.k8s_psat]\nclusters = {}\n",
            "add a [node_attestors.k8s_psat.clusters.<name>]",
        ),
        (
            "[node_attestors.k8s_psat.clusters.prod]\nservice_account_allow_list = []\n",
            "namespace:name",
        ),
        (
            "[node_attestors.k8s_psat.clusters.prod]\nservice_account_allow_list = [\"lanyard-agent\"]\n",
            "\"lanyard:lanyard-agent\"",
        ),
        (
            "[node_attestors.k8s_psat.clusters.\"a/b\"]\nservice_account_allow_list = [\"a:b\"]\n",
            "letters, digits",
        ),
        (
            "[node_attestors.k8s_psat.clusters.prod]\nservice_account_allow_list = [\"a:b\"]\naudience = \" \"\n",
            "audience",
        ),
        (
            "[node_attestors.k8s_psat.clusters.prod]\nservice_account_allow_lst = [\"a:b\"]\n",
            "service_account_allow_lst",
        ),
        (
            "[k8s_auto_registration]\ncluster = \"prod\"\n",
            "not a [node_attestors.k8s_psat.clusters.<name>]",
        ),
        (
            "[entries]\nextra_selector_types = [\"docker:label\"]\n",
            "entries.extra_selector_types",
        ),
    ] {
        let e = refusal(&format!("{base}{toml}"));
        assert!(e.contains(expect), "{toml}: {e}");
    }
}

#[test]
fn ca_upstream_takes_three_absolute_paths() {
    let base = "trust_domain = \"example.org\"\n[ca.upstream]\n";
    let c = ServerConfig::from_toml(&format!(
        "{base}cert_path = \"/etc/lanyard/upstream.crt\"\nkey_path = \"/etc/lanyard/upstream.key\"\nbundle_path = \"/etc/lanyard/roots.crt\"\n"
    ))
    .unwrap();
    let up = c.ca.upstream.unwrap();
    assert_eq!(up.cert_path, Path::new("/etc/lanyard/upstream.crt"));
    assert_eq!(up.key_path, Path::new("/etc/lanyard/upstream.key"));
    assert_eq!(up.bundle_path, Path::new("/etc/lanyard/roots.crt"));
    assert!(
        ServerConfig::from_toml("trust_domain = \"example.org\"")
            .unwrap()
            .ca
            .upstream
            .is_none()
    );

    let msg = refusal(&format!(
        "{base}cert_path = \"/a.crt\"\nkey_path = \"a.key\"\nbundle_path = \"/b.crt\"\n"
    ));
    assert!(msg.contains("`ca.upstream.key_path`"), "{msg}");
    assert!(msg.contains("absolute path"), "{msg}");
    let msg = refusal(&format!(
        "{base}cert_path = \"/a.crt\"\nkey_path = \"/a.key\"\n"
    ));
    assert!(msg.contains("missing field `bundle_path`"), "{msg}");
    let msg = refusal(&format!(
        "{base}cert_path = \"/a.crt\"\nkey_path = \"/a.key\"\nbundle_path = \"/b.crt\"\nroots = \"/c\"\n"
    ));
    assert!(msg.contains("unknown field `roots`"), "{msg}");
}

#[test]
fn durations_are_human_strings() {
    let c = ServerConfig::from_toml(
        "trust_domain = \"example.org\"\n[ca]\nttl = \"48h\"\nkey_type = \"ec-p384\"\n[svid]\ndefault_x509_ttl = \"90s\"\n",
    )
    .unwrap();
    assert_eq!(c.ca.ttl, Duration::from_secs(48 * 3600));
    assert_eq!(c.ca.key_type, CaKeyType::EcP384);
    assert_eq!(c.svid.default_x509_ttl, Duration::from_secs(90));
}

#[test]
fn jwt_key_type_is_configurable_and_strict() {
    let c = ServerConfig::from_toml(
        "trust_domain = \"example.org\"\n[jwt]\nkey_type = \"rsa-2048\"\n[svid]\ndefault_jwt_ttl = \"10m\"\n",
    )
    .unwrap();
    assert_eq!(c.jwt.key_type, CaKeyType::Rsa2048);
    assert_eq!(c.svid.default_jwt_ttl, Duration::from_secs(600));
    let e = refusal("trust_domain = \"example.org\"\n[jwt]\nkey_typ = \"ec-p384\"");
    assert!(e.contains("key_typ"), "{e}");
    let e = refusal("trust_domain = \"example.org\"\n[jwt]\nkey_type = \"hs256\"");
    assert!(e.contains("ec-p256"), "{e}");
}

/// Each refusal names the key (and, past parsing, the rule it breaks).
#[test]
fn refusals_name_the_key() {
    let td = "trust_domain = \"example.org\"\n";
    for (text, words) in [
        (format!("{td}bind_adress = \"x\""), &["bind_adress"][..]),
        (format!("{td}[ca]\nttll = \"1h\""), &["ttll"]),
        (String::new(), &["trust_domain"]),
        ("trust_domain = \"Example.org\"".to_owned(), &["uppercase"]),
        (
            format!("{td}[svid]\ndefault_x509_ttl = \"0s\""),
            &["svid.default_x509_ttl", "zero"],
        ),
        (
            format!("{td}[ca]\nttl = \"1h\"\n[svid]\ndefault_x509_ttl = \"2h\""),
            &["exceeds the CA lifetime"],
        ),
        (format!("{td}[ca]\nttl = \"soon\""), &["ttl"]),
        (format!("{td}[ca]\nkey_type = \"dsa\""), &["ec-p256"]),
    ] {
        let e = refusal(&text);
        for word in words {
            assert!(e.contains(word), "{text}: {e}");
        }
    }
}

#[test]
fn unreadable_file_names_the_path() {
    let e = ServerConfig::load(Path::new("/nonexistent/server.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/server.toml"), "{e}");
}

#[test]
fn example_config_in_deploy_parses() {
    let text = include_str!("../../../deploy/conf/server.toml");
    ServerConfig::from_toml(text).unwrap();
}

#[test]
fn the_datastore_password_is_not_printed() {
    let c = ServerConfig::from_toml(
        "trust_domain = \"example.org\"\n[datastore]\nurl = \"postgres://lanyard:s3cret@db:5432/lanyard\"\n",
    )
    .unwrap();
    let shown = format!("{c:#?}");
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(shown.contains("postgres://lanyard:"), "{shown}");
}

#[test]
fn commented_examples_in_deploy_parse_when_uncommented() {
    let text = include_str!("../../../deploy/conf/server.toml");
    let c = ServerConfig::from_toml(&lanyard_config::example::uncomment(text)).unwrap();
    let psat = c.node_attestors.k8s_psat.unwrap();
    assert_eq!(
        psat.clusters["prod"].service_account_allow_list,
        ["lanyard:lanyard-agent"]
    );
    assert_eq!(c.k8s_auto_registration.unwrap().cluster, "prod");
    assert_eq!(
        c.k8s_bundle_configmap.unwrap().name,
        "lanyard-bootstrap-bundle"
    );
    assert_eq!(
        c.k8s_leader_election.unwrap().lease_duration,
        Duration::from_secs(15)
    );
    let f = c.federation;
    assert_eq!(f.bundle_endpoint.unwrap().profile, ProfileName::HttpsWeb);
    assert_eq!(f.federates_with[0].trust_domain.name(), "orders.example");
}

#[test]
fn flags_and_variables_set_the_server_only_keys_too() {
    let file = "trust_domain = \"example.org\"\nbind_address = \"127.0.0.1:1\"\n";
    let env = [
        ("LANYARD_SERVER_BIND_ADDRESS", "127.0.0.1:2"),
        (
            "LANYARD_DATASTORE_URL",
            "postgres://lanyard:s3cret@db/lanyard",
        ),
        ("LANYARD_SERVER_SOCKET_PATH", "/env/admin.sock"),
    ];
    let c = Overrides::<ServerConfig>::from_pairs(&[], &env)
        .from_toml(file)
        .unwrap();
    assert_eq!(c.bind_address.to_string(), "127.0.0.1:2");
    assert_eq!(c.datastore_url(), "postgres://lanyard:s3cret@db/lanyard");
    assert_eq!(c.socket_path, Path::new("/env/admin.sock"));
    let flags = [("bind-address", "127.0.0.1:3"), ("data-dir", "/flag/data")];
    let c = Overrides::<ServerConfig>::from_pairs(&flags, &env)
        .from_toml(file)
        .unwrap();
    assert_eq!(c.bind_address.to_string(), "127.0.0.1:3");
    assert_eq!(c.data_dir, Path::new("/flag/data"));
    // Where each came from is shown, the values are not (the URL holds a password).
    let shown = format!("{:?}", Overrides::<ServerConfig>::from_pairs(&flags, &env));
    assert!(shown.contains("LANYARD_DATASTORE_URL") && shown.contains("--bind-address"));
    assert!(!shown.contains("s3cret"), "{shown}");

    let e = Overrides::<ServerConfig>::from_pairs(&[], &[("LANYARD_SERVER_BIND_ADDRESS", ":8081")])
        .from_toml(file)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("invalid LANYARD_SERVER_BIND_ADDRESS (overrides `bind_address`): \":8081\""),
        "{e}"
    );
}

#[test]
fn every_key_has_a_variable_of_its_own_and_is_in_the_example() {
    let problems = lanyard_config::example::problems::<ServerConfig>(include_str!(
        "../../../deploy/conf/server.toml"
    ));
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn any_key_is_set_by_its_variable_as_the_type_it_has() {
    let file = "trust_domain = \"example.org\"\n";
    let env = [
        ("LANYARD_SERVER_CA_TTL", "48h"),
        ("LANYARD_SERVER_CA_KEY_TYPE", "ec-p384"),
        (
            "LANYARD_SERVER_ENTRIES_EXTRA_SELECTOR_TYPES",
            r#"["custom"]"#,
        ),
        ("LANYARD_SERVER_AGENT_API_MAX_CONNECTIONS", "100"),
        (
            "LANYARD_SERVER_DATASTORE_URL",
            "postgres://lanyard@db/lanyard",
        ),
        (
            "LANYARD_SERVER_NODE_ATTESTORS_K8S_PSAT_CLUSTERS",
            r#"{ prod = { service_account_allow_list = ["lanyard:lanyard-agent"] } }"#,
        ),
    ];
    let c = Overrides::<ServerConfig>::from_pairs(&[], &env)
        .from_toml(file)
        .unwrap();
    assert_eq!(c.ca.ttl, Duration::from_secs(48 * 3600));
    assert_eq!(c.ca.key_type, CaKeyType::EcP384);
    assert_eq!(c.entries.extra_selector_types, ["custom"]);
    assert_eq!(c.agent_api.max_connections, 100);
    assert_eq!(c.datastore_url(), "postgres://lanyard@db/lanyard");
    assert_eq!(
        c.node_attestors.k8s_psat.unwrap().clusters["prod"].service_account_allow_list,
        ["lanyard:lanyard-agent"]
    );
    // The old name of `datastore.url`'s variable still works, and agrees or is refused.
    let both = [
        (
            "LANYARD_SERVER_DATASTORE_URL",
            "postgres://lanyard@db/lanyard",
        ),
        ("LANYARD_DATASTORE_URL", "postgres://lanyard@other/lanyard"),
    ];
    let e = Overrides::<ServerConfig>::from_pairs(&[], &both)
        .from_toml(file)
        .unwrap_err()
        .to_string();
    assert!(e.contains("both are set, to different values"), "{e}");
    let e = Overrides::<ServerConfig>::from_pairs(
        &[],
        &[("LANYARD_SERVER_ENTRIES_EXTRA_SELECTOR_TYPES", "custom")],
    )
    .from_toml(file)
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("invalid LANYARD_SERVER_ENTRIES_EXTRA_SELECTOR_TYPES (overrides `entries.extra_selector_types`): \"custom\" is not a TOML inline array"),
        "{e}"
    );
}

#[test]
fn x509pop_is_validated_with_what_to_write() {
    let base = "trust_domain = \"example.org\"\n";
    let c = ServerConfig::from_toml(&format!(
        "{base}[node_attestors.x509pop]\nca_bundle_path = \"/etc/lanyard/node-ca.pem\"\n"
    ))
    .unwrap();
    let pop = c.node_attestors.x509pop.unwrap();
    assert_eq!(pop.ca_bundle_path, Path::new("/etc/lanyard/node-ca.pem"));
    assert_eq!(pop.agent_path_template, "{fingerprint}");
    for (toml, expect) in [
        ("[node_attestors.x509pop]\n", "ca_bundle_path"),
        (
            "[node_attestors.x509pop]\nca_bundle_path = \"node-ca.pem\"\n",
            "node_attestors.x509pop.ca_bundle_path` must be an absolute path",
        ),
        (
            "[node_attestors.x509pop]\nca_bundle_path = \"/ca.pem\"\nagent_path_template = \"node\"\n",
            "every node would get the same agent ID",
        ),
        (
            "[node_attestors.x509pop]\nca_bundle_path = \"/ca.pem\"\nagent_path_template = \"{cn}\"\n",
            "unknown placeholder",
        ),
        (
            "[node_attestors.x509pop]\nca_bundle_path = \"/ca.pem\"\nca_bundle_paths = [\"/b.pem\"]\n",
            "ca_bundle_paths",
        ),
    ] {
        let e = refusal(&format!("{base}{toml}"));
        assert!(e.contains(expect), "{toml}: {e}");
    }
}

#[test]
fn federation_defaults_and_every_key() {
    let c = ServerConfig::from_toml("trust_domain = \"pay.example\"").unwrap();
    let f = &c.federation;
    assert_eq!(f.refresh_floor, Duration::from_secs(30));
    assert_eq!(f.fetch_timeout, Duration::from_secs(15));
    assert!(f.https_web_ca_path.is_none());
    assert!(
        f.bundle_endpoint.is_none(),
        "no bundle endpoint unless configured"
    );
    assert!(f.federates_with.is_empty());

    let c = ServerConfig::from_toml(
        r#"trust_domain = "pay.example"
[federation]
refresh_floor = "1s"
fetch_timeout = "2s"
https_web_ca_path = "/etc/lanyard/roots.pem"
[federation.bundle_endpoint]
bind_address = "127.0.0.1:0"
profile = "https_web"
path = "/bundle"
refresh_hint = "2s"
cert_path = "/etc/lanyard/ep.crt"
key_path = "/etc/lanyard/ep.key"
reload_interval = "1s"
[[federation.federates_with]]
trust_domain = "spiffe://orders.example"
bundle_endpoint_url = "https://127.0.0.1:8443/"
profile = "https_spiffe"
endpoint_spiffe_id = "spiffe://orders.example/lanyard/server"
bootstrap_bundle_path = "/etc/lanyard/orders.json"
[[federation.federates_with]]
trust_domain = "web.example"
bundle_endpoint_url = "https://bundles.web.example/web"
profile = "https_web"
"#,
    )
    .unwrap();
    let f = &c.federation;
    assert_eq!(f.refresh_floor, Duration::from_secs(1));
    assert_eq!(f.fetch_timeout, Duration::from_secs(2));
    assert_eq!(
        f.https_web_ca_path.as_deref(),
        Some(Path::new("/etc/lanyard/roots.pem"))
    );
    let e = f.bundle_endpoint.as_ref().unwrap();
    assert_eq!(e.bind_address.to_string(), "127.0.0.1:0");
    assert_eq!(e.profile, ProfileName::HttpsWeb);
    assert_eq!(e.path, "/bundle");
    assert_eq!(e.refresh_hint, Duration::from_secs(2));
    assert_eq!(
        e.cert_path.as_deref(),
        Some(Path::new("/etc/lanyard/ep.crt"))
    );
    assert_eq!(
        e.key_path.as_deref(),
        Some(Path::new("/etc/lanyard/ep.key"))
    );
    assert_eq!(e.reload_interval, Duration::from_secs(1));
    let [orders, web] = &f.federates_with[..] else {
        panic!("two relationships: {:?}", f.federates_with)
    };
    assert_eq!(orders.trust_domain.name(), "orders.example");
    assert_eq!(orders.profile, ProfileName::HttpsSpiffe);
    assert_eq!(
        orders.endpoint_id().unwrap().as_str(),
        "spiffe://orders.example/lanyard/server"
    );
    assert_eq!(
        orders.bootstrap_bundle_path.as_deref(),
        Some(Path::new("/etc/lanyard/orders.json"))
    );
    assert_eq!(web.profile, ProfileName::HttpsWeb);
    assert!(web.endpoint_id().is_none());

    let c =
        ServerConfig::from_toml("trust_domain = \"pay.example\"\n[federation.bundle_endpoint]\n")
            .unwrap();
    let e = c.federation.bundle_endpoint.unwrap();
    assert_eq!(e.bind_address.to_string(), "0.0.0.0:8443");
    assert_eq!(e.profile, ProfileName::HttpsSpiffe);
    assert_eq!(e.path, "/");
    assert_eq!(e.refresh_hint, Duration::from_secs(300));
    assert_eq!(e.reload_interval, Duration::from_secs(10));
}

#[test]
fn federation_mistakes_are_refused_saying_what_to_do() {
    let base = "trust_domain = \"pay.example\"\n";
    let rel = |extra: &str| {
        format!(
            "[[federation.federates_with]]\ntrust_domain = \"orders.example\"\nbundle_endpoint_url = \"https://orders.example/\"\n{extra}"
        )
    };
    for (toml, expect) in [
        (
            "[federation]\nrefresh_floor = \"500ms\"\n".to_owned(),
            "`federation.refresh_floor` is 500ms; give it between 1s and 24h",
        ),
        (
            "[federation]\nfetch_timeout = \"1h\"\n".to_owned(),
            "`federation.fetch_timeout` is 1h; give it between 1s and 10m",
        ),
        (
            "[federation]\nrefresh_flor = \"1s\"\n".to_owned(),
            "unknown field `refresh_flor`",
        ),
        (
            "[federation.bundle_endpoint]\nprofile = \"https_web\"\n".to_owned(),
            "`federation.bundle_endpoint.cert_path` is required with profile \"https_web\"",
        ),
        (
            "[federation.bundle_endpoint]\nprofile = \"https_web\"\ncert_path = \"/c\"\n"
                .to_owned(),
            "`federation.bundle_endpoint.key_path` is required",
        ),
        (
            "[federation.bundle_endpoint]\ncert_path = \"/c\"\n".to_owned(),
            "is only for profile \"https_web\"",
        ),
        (
            "[federation.bundle_endpoint]\nprofile = \"http\"\n".to_owned(),
            "unknown variant `http`",
        ),
        (
            "[federation.bundle_endpoint]\npath = \"bundle\"\n".to_owned(),
            "starting with '/'",
        ),
        (
            "[federation.bundle_endpoint]\nrefresh_hint = \"1500ms\"\n".to_owned(),
            "whole seconds, at least 1s",
        ),
        (
            "[federation.bundle_endpoint]\nreload_interval = \"0s\"\n".to_owned(),
            "reload_interval",
        ),
        (
            rel("profile = \"https_spiffe\"\n"),
            "needs endpoint_spiffe_id",
        ),
        (
            rel("profile = \"https_web\"\nendpoint_spiffe_id = \"spiffe://orders.example/s\"\n"),
            "endpoint_spiffe_id is only for profile \"https_spiffe\"",
        ),
        (
            rel("profile = \"https_spiffe\"\nendpoint_spiffe_id = \"orders.example/s\"\n"),
            "is not a SPIFFE ID",
        ),
        (rel(""), "missing field `profile`"),
        (
            "[[federation.federates_with]]\ntrust_domain = \"pay.example\"\nbundle_endpoint_url = \"https://pay.example/\"\nprofile = \"https_web\"\n".to_owned(),
            "names this server's own trust domain pay.example",
        ),
        (
            "[[federation.federates_with]]\ntrust_domain = \"orders.example\"\nbundle_endpoint_url = \"http://orders.example/\"\nprofile = \"https_web\"\n".to_owned(),
            "https only",
        ),
        (
            "[[federation.federates_with]]\ntrust_domain = \"orders.example\"\nbundle_endpoint_url = \"https://u:p@orders.example/\"\nprofile = \"https_web\"\n".to_owned(),
            "user information",
        ),
        (
            "[[federation.federates_with]]\ntrust_domain = \"Orders Example\"\nbundle_endpoint_url = \"https://orders.example/\"\nprofile = \"https_web\"\n".to_owned(),
            "Orders Example",
        ),
        (
            format!("{}{}", rel("profile = \"https_web\"\n"), rel("profile = \"https_web\"\n")),
            "declares trust domain orders.example twice",
        ),
    ] {
        let e = refusal(&format!("{base}{toml}"));
        assert!(e.contains(expect), "{toml}: {e}");
    }
}
