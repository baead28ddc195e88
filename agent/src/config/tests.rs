//! Tests of `agent.toml` parsing, validation and overrides.

use super::*;
use lanyard_config::Overrides;

const MIN: &str = "trust_domain = \"example.org\"\nserver_address = \"127.0.0.1:8081\"\ntrust_bundle_path = \"/etc/lanyard/bundle.pem\"\n";

/// Why `AgentConfig::from_toml` refuses `text`.
fn refusal(text: &str) -> String {
    AgentConfig::from_toml(text).unwrap_err().to_string()
}

#[test]
fn shutdown_grace_is_configurable_and_bounded() {
    let c = AgentConfig::from_toml(MIN).unwrap();
    assert_eq!(c.shutdown_grace, Duration::from_secs(5));
    let c = AgentConfig::from_toml(&format!("{MIN}shutdown_grace = \"1s\"\n")).unwrap();
    assert_eq!(c.shutdown_grace, Duration::from_secs(1));
    let e = refusal(&format!("{MIN}shutdown_grace = \"1h\"\n"));
    assert!(
        e.contains("`shutdown_grace` is 1h; at most 10m (a supervisor kills an agent"),
        "{e}"
    );
    let e = refusal(&format!("{MIN}shutdown_grace = \"soon\"\n"));
    assert!(e.contains("shutdown_grace"), "{e}");
}

#[test]
fn k8s_psat_node_attestation_is_configurable_and_checked() {
    let c = AgentConfig::from_toml(&format!(
        "{MIN}[node_attestor.k8s_psat]\ncluster = \"prod\"\n"
    ))
    .unwrap();
    let psat = c.node_attestor.k8s_psat.unwrap();
    assert_eq!(psat.cluster, "prod");
    assert_eq!(
        psat.token_path,
        Path::new("/var/run/secrets/tokens/lanyard-agent")
    );
    let table = "[node_attestor.k8s_psat]\n";
    for (extra, expect) in [
        (format!("{table}cluster = \"\"\n"), "must name the cluster"),
        (
            format!("{table}cluster = \"p\"\ntoken_path = \"tok\"\n"),
            "absolute",
        ),
        (
            format!("join_token = \"abc\"\n{table}cluster = \"p\"\n"),
            "remove one",
        ),
        (format!("{table}clustr = \"p\"\n"), "clustr"),
        (
            format!("insecure_bootstrap = true\n{table}cluster = \"p\"\n"),
            "service-account token",
        ),
    ] {
        let e = refusal(&format!("{MIN}{extra}"));
        assert!(e.contains(expect), "{extra}: {e}");
    }
}

#[test]
fn minimal_config_gets_documented_defaults() {
    let c = AgentConfig::from_toml(MIN).unwrap();
    assert_eq!(
        c.socket_path,
        Path::new("/run/lanyard-agent/public/api.sock")
    );
    assert!(!c.insecure_bootstrap);
    assert!(!c.workload_attestors.unix.discover_workload_path);
}

#[test]
fn unknown_key_is_named() {
    let e = refusal(&format!("{MIN}sockt_path = \"/x\"\n"));
    assert!(e.contains("sockt_path"), "{e}");
}

#[test]
fn bootstrap_trust_is_required() {
    let e = refusal("trust_domain = \"example.org\"\nserver_address = \"127.0.0.1:8081\"\n");
    assert!(
        e.contains("trust_bundle_path") && e.contains("insecure_bootstrap"),
        "{e}"
    );
}

#[test]
fn bad_server_address_is_refused() {
    let e = refusal(&MIN.replace("127.0.0.1:8081", "localhost"));
    assert!(
        e.contains("server_address") && e.contains("has no port"),
        "{e}"
    );
    let e = refusal(&MIN.replace(
        "\"127.0.0.1:8081\"",
        "[\"a.example.org:8081\", \"b.example.org\"]",
    ));
    assert!(
        e.contains("server_address") && e.contains("\"b.example.org\" has no port"),
        "{e}"
    );
}

#[test]
fn server_address_may_list_several_servers() {
    let c = AgentConfig::from_toml(&MIN.replace(
        "\"127.0.0.1:8081\"",
        "[\"a.example.org:8081\", \"[::1]:8081\"]",
    ))
    .unwrap();
    assert_eq!(
        c.server_address.to_string(),
        "a.example.org:8081,[::1]:8081"
    );
    // The one-string flag and variable give a list comma-separated.
    let c = with_overrides(
        MIN,
        &[],
        &[(
            "LANYARD_AGENT_SERVER_ADDRESS",
            "a.example.org:8081,b.example.org:8081",
        )],
    )
    .unwrap();
    let hosts: Vec<&str> = c.server_address.iter().map(ServerAddress::host).collect();
    assert_eq!(hosts, ["a.example.org", "b.example.org"]);
    // check-config shows the list.
    assert!(
        format!("{c:#?}").contains("\"a.example.org:8081\",\n"),
        "{c:#?}"
    );
}

#[test]
fn example_config_in_deploy_parses() {
    AgentConfig::from_toml(include_str!("../../../deploy/conf/agent.toml")).unwrap();
}

#[test]
fn the_k8s_attestor_is_off_unless_its_table_is_present() {
    let c = AgentConfig::from_toml(MIN).unwrap();
    assert!(c.workload_attestors.k8s.is_none());
    let c = AgentConfig::from_toml(&format!("{MIN}[workload_attestors.k8s]\n")).unwrap();
    let k8s = c.workload_attestors.k8s.unwrap();
    let a = k8s.attestor_config(|_| None).unwrap();
    assert_eq!(a, attestor::K8sAttestorConfig::default());
    assert_eq!(a.kubelet_url.to_string(), "https://127.0.0.1:10250");
    assert_eq!(a.pod_list_cache_ttl, Duration::from_secs(1));
    assert_eq!(
        a.verification,
        KubeletVerification::CaFile("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt".into())
    );
}

#[test]
fn the_example_k8s_table_parses() {
    // The commented-out example in deploy/conf/agent.toml, uncommented.
    let example = include_str!("../../../deploy/conf/agent.toml");
    let table: String = example
        .lines()
        .skip_while(|l| !l.starts_with("# [workload_attestors.k8s]"))
        .take_while(|l| l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| l.starts_with('[') || l.contains(" = "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(table.contains("kubelet_url"), "{table}");
    let c = AgentConfig::from_toml(&format!("{MIN}{table}")).unwrap();
    let a = c
        .workload_attestors
        .k8s
        .unwrap()
        .attestor_config(|_| None)
        .unwrap();
    assert_eq!(a.max_poll_attempts, 5);
    assert_eq!(a.cgroup_root, Path::new("/sys/fs/cgroup"));
}

fn k8s_error(table: &str) -> String {
    refusal(&format!("{MIN}[workload_attestors.k8s]\n{table}\n"))
}

#[test]
fn k8s_options_are_checked() {
    for (table, says) in [
        ("kubelet_url = \"http://127.0.0.1:10255\"", "plain http"),
        ("kubelet_url = \"https://127.0.0.1\"", "no port"),
        (
            "token_path = \"token\"",
            "workload_attestors.k8s.token_path",
        ),
        ("kubelet_ca_path = \"ca.crt\"", "absolute"),
        (
            "cgroup_root = \"sys/fs/cgroup\"",
            "workload_attestors.k8s.cgroup_root",
        ),
        (
            "kubelet_ca_path = \"/ca.crt\"\nkubelet_skip_verify = true",
            "remove one",
        ),
        ("node_name = \"Node_1\"", "not a Kubernetes node name"),
        ("node_name_env = \"1X\"", "environment variable name"),
        ("pod_list_cache_ttl = \"5m\"", "at most 1m"),
        ("pod_list_cache_ttl = \"soon\"", "pod_list_cache_ttl"),
        ("max_poll_attempts = 0", "1 to 60"),
        ("poll_retry_interval = \"1ms\"", "10ms to 10s"),
        (
            "max_poll_attempts = 60\npoll_retry_interval = \"1s\"",
            "lower one of them",
        ),
        ("kubelet_port = 10250", "kubelet_port"),
    ] {
        let e = k8s_error(table);
        assert!(e.contains(says), "{table}: {e}");
    }
    // One attempt needs no interval.
    AgentConfig::from_toml(&format!(
        "{MIN}[workload_attestors.k8s]\nmax_poll_attempts = 1\npoll_retry_interval = \"0s\"\n"
    ))
    .unwrap();
}

#[test]
fn node_name_comes_from_the_key_else_the_environment() {
    let c = AgentConfig::from_toml(&format!("{MIN}[workload_attestors.k8s]\n")).unwrap();
    let k8s = c.workload_attestors.k8s.unwrap();
    let env = |name: &str| (name == "MY_NODE_NAME").then(|| "node-7.example".to_owned());
    assert_eq!(
        k8s.resolve_node_name(env).unwrap().as_deref(),
        Some("node-7.example")
    );
    assert_eq!(
        k8s.resolve_node_name(|_| Some(String::new())).unwrap(),
        None
    );
    let e = k8s
        .resolve_node_name(|_| Some("NOT A NODE".into()))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("node_name_env") && e.contains("MY_NODE_NAME"),
        "{e}"
    );

    let c = AgentConfig::from_toml(&format!(
        "{MIN}[workload_attestors.k8s]\nnode_name = \"node-1\"\nnode_name_env = \"NODE\"\n"
    ))
    .unwrap();
    let k8s = c.workload_attestors.k8s.unwrap();
    assert_eq!(
        k8s.resolve_node_name(env).unwrap().as_deref(),
        Some("node-1")
    );
    let c = AgentConfig::from_toml(&format!(
        "{MIN}[workload_attestors.k8s]\nnode_name_env = \"NODE\"\n"
    ))
    .unwrap();
    let k8s = c.workload_attestors.k8s.unwrap();
    assert_eq!(k8s.resolve_node_name(env).unwrap(), None);
    let a = k8s
        .attestor_config(|n| (n == "NODE").then(|| "n2".to_owned()))
        .unwrap();
    assert_eq!(a.node_name.as_deref(), Some("n2"));
}

/// What `--flag`, then `$VARIABLE`, then the file says, in that order of precedence.
fn with_overrides(
    file: &str,
    flags: &[(&str, &str)],
    env: &[(&str, &str)],
) -> Result<AgentConfig, ConfigError> {
    Overrides::<AgentConfig>::from_pairs(flags, env).from_toml(file)
}

#[test]
fn a_flag_wins_over_its_variable_which_wins_over_the_file() {
    let file = format!("{MIN}socket_path = \"/file/api.sock\"\nlog_level = \"warn\"\n");
    let env = [
        ("LANYARD_AGENT_SOCKET_PATH", "/env/api.sock"),
        ("LANYARD_AGENT_SERVER_ADDRESS", "server.example.org:8081"),
        ("LANYARD_AGENT_DATA_DIR", "/env/data"),
        ("LANYARD_AGENT_HEALTH_ADDRESS", "127.0.0.1:9999"),
        ("LANYARD_LOG_LEVEL", "debug"),
    ];
    let c = with_overrides(&file, &[], &[]).unwrap();
    assert_eq!(c.socket_path, Path::new("/file/api.sock"));
    assert_eq!(c.log_level, "warn");

    let c = with_overrides(&file, &[], &env).unwrap();
    assert_eq!(c.socket_path, Path::new("/env/api.sock"));
    assert_eq!(c.server_address.to_string(), "server.example.org:8081");
    assert_eq!(c.data_dir, Path::new("/env/data"));
    assert_eq!(c.health.bind_address.to_string(), "127.0.0.1:9999");
    assert_eq!(c.log_level, "debug");

    let c = with_overrides(
        &file,
        &[("socket-path", "/flag/api.sock"), ("log-level", "error")],
        &env,
    )
    .unwrap();
    assert_eq!(c.socket_path, Path::new("/flag/api.sock"));
    assert_eq!(c.log_level, "error");
    assert_eq!(
        c.data_dir,
        Path::new("/env/data"),
        "the other variables hold"
    );
}

#[test]
fn a_bad_override_names_its_flag_or_variable() {
    for (flags, env, says) in [
        (
            &[][..],
            &[("LANYARD_LOG_LEVEL", "inof")][..],
            "invalid LANYARD_LOG_LEVEL (overrides `log_level`): invalid log_level \"inof\"",
        ),
        (
            &[("log-level", "inof")],
            &[("LANYARD_LOG_LEVEL", "info")],
            "invalid --log-level (overrides `log_level`)",
        ),
        (
            &[],
            &[("LANYARD_AGENT_SOCKET_PATH", "api.sock")],
            "invalid LANYARD_AGENT_SOCKET_PATH (overrides `socket_path`): must be an absolute path",
        ),
        (
            &[],
            &[("LANYARD_AGENT_HEALTH_ADDRESS", "localhost")],
            "invalid LANYARD_AGENT_HEALTH_ADDRESS (overrides `health.bind_address`): \"localhost\": invalid socket address syntax",
        ),
        (
            &[("server-address", "localhost")],
            &[],
            "invalid --server-address (overrides `server_address`): \"localhost\": \"localhost\" has no port",
        ),
    ] {
        let e = with_overrides(MIN, flags, env).unwrap_err().to_string();
        assert!(e.contains(says), "{flags:?} {env:?}: {e}");
    }
    // The effective value is what is checked: a bad one in the file, overridden, is no error;
    // not overridden, it is the file's, named as its key.
    let file = format!("{MIN}log_level = \"inof\"\n");
    with_overrides(&file, &[], &[("LANYARD_LOG_LEVEL", "info")]).unwrap();
    let e = with_overrides(&file, &[], &[]).unwrap_err().to_string();
    assert!(e.starts_with("invalid config: `log_level`"), "{e}");
}

#[test]
fn the_join_token_is_not_printed() {
    let c = AgentConfig::from_toml(&format!("{MIN}join_token = \"s3cret-token\"\n")).unwrap();
    assert_eq!(
        c.join_token.as_ref().map(|t| t.expose()),
        Some("s3cret-token")
    );
    let shown = format!("{c:#?}");
    assert!(!shown.contains("s3cret-token"), "{shown}");
    assert!(shown.contains("<redacted>"), "{shown}");
}

#[test]
fn every_key_has_a_variable_of_its_own_and_is_in_the_example() {
    let problems = lanyard_config::example::problems::<AgentConfig>(include_str!(
        "../../../deploy/conf/agent.toml"
    ));
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn any_key_is_set_by_its_variable_as_the_type_it_has() {
    let env = [
        ("LANYARD_AGENT_WORKLOAD_API_MAX_CONNECTIONS", "10"),
        ("LANYARD_AGENT_WORKLOAD_API_MAX_CONNECTIONS_PER_UID", "5"),
        ("LANYARD_AGENT_WORKLOAD_API_IDLE_TIMEOUT", "30s"),
        (
            "LANYARD_AGENT_WORKLOAD_ATTESTORS_UNIX_DISCOVER_WORKLOAD_PATH",
            "true",
        ),
        ("LANYARD_AGENT_LOG_FORMAT", "json"),
        ("LANYARD_AGENT_HEALTH_BIND_ADDRESS", "127.0.0.1:9998"),
        ("LANYARD_AGENT_NODE_ATTESTOR_K8S_PSAT_CLUSTER", "prod"),
    ];
    let c = with_overrides(MIN, &[], &env).unwrap();
    assert_eq!(c.workload_api.max_connections, 10);
    assert_eq!(c.workload_api.max_connections_per_uid, 5);
    assert_eq!(c.workload_api.idle_timeout, Duration::from_secs(30));
    assert!(c.workload_attestors.unix.discover_workload_path);
    assert_eq!(c.log_format, LogFormat::Json);
    assert_eq!(c.health.bind_address.to_string(), "127.0.0.1:9998");
    // A variable under an optional table turns the table on, with its other keys' defaults.
    assert_eq!(c.node_attestor.k8s_psat.unwrap().cluster, "prod");

    for (env, says) in [
        (
            ("LANYARD_AGENT_WORKLOAD_API_MAX_CONNECTIONS", "lots"),
            "invalid LANYARD_AGENT_WORKLOAD_API_MAX_CONNECTIONS (overrides `workload_api.max_connections`): \"lots\" is not an integer",
        ),
        (
            ("LANYARD_AGENT_INSECURE_BOOTSTRAP", "yes"),
            "\"yes\" is not true or false",
        ),
        (
            ("LANYARD_AGENT_WORKLOAD_API_MAX_CONNECTIONS", "0"),
            "invalid LANYARD_AGENT_WORKLOAD_API_MAX_CONNECTIONS (overrides `workload_api.max_connections`): must be at least 1",
        ),
        (
            ("LANYARD_AGENT_WORKLOAD_API_IDLE_TIMEOUT", "soon"),
            "invalid LANYARD_AGENT_WORKLOAD_API_IDLE_TIMEOUT",
        ),
    ] {
        let e = with_overrides(MIN, &[], &[env]).unwrap_err().to_string();
        assert!(e.contains(says), "{env:?}: {e}");
    }
}

#[test]
fn an_old_variable_name_is_an_alias_of_the_rule_s() {
    let env = |pairs: &[(&str, &str)]| with_overrides(MIN, &[], pairs);
    let c = env(&[("LANYARD_AGENT_HEALTH_ADDRESS", "127.0.0.1:9997")]).unwrap();
    assert_eq!(c.health.bind_address.to_string(), "127.0.0.1:9997");
    let c = env(&[
        ("LANYARD_LOG_LEVEL", "debug"),
        ("LANYARD_AGENT_LOG_LEVEL", "debug"),
    ])
    .unwrap();
    assert_eq!(c.log_level, "debug");
    let e = env(&[
        ("LANYARD_LOG_LEVEL", "debug"),
        ("LANYARD_AGENT_LOG_LEVEL", "warn"),
    ])
    .unwrap_err()
    .to_string();
    assert!(
        e.contains(
            "invalid LANYARD_AGENT_LOG_LEVEL and LANYARD_LOG_LEVEL (overrides `log_level`): both are set, to different values"
        ),
        "{e}"
    );
    // A flag settles it.
    let c = with_overrides(
        MIN,
        &[("log-level", "error")],
        &[
            ("LANYARD_LOG_LEVEL", "debug"),
            ("LANYARD_AGENT_LOG_LEVEL", "warn"),
        ],
    )
    .unwrap();
    assert_eq!(c.log_level, "error");
}

#[test]
fn a_variable_that_names_no_key_is_reported_with_the_nearest() {
    let o = Overrides::<AgentConfig>::from_pairs(
        &[],
        &[
            ("LANYARD_AGENT_WORKLOAD_API_MAX_CONECTIONS", "10"),
            ("LANYARD_AGENT_CONFIG", "/etc/lanyard/agent.toml"),
            ("LANYARD_SERVER_BIND_ADDRESS", "0.0.0.0:1"),
            ("LANYARD_JOIN_TOKEN", "t"),
        ],
    );
    assert_eq!(
        o.unknown_variables(),
        ["LANYARD_AGENT_WORKLOAD_API_MAX_CONECTIONS"]
    );
    // `run` goes on (and logs a warning); `check-config` refuses.
    o.from_toml(MIN).unwrap();
    let e = o.refuse_unknown().unwrap_err().to_string();
    assert_eq!(
        e,
        "LANYARD_AGENT_WORKLOAD_API_MAX_CONECTIONS names no key of agent.toml, so it would \
         change nothing: check its spelling (the nearest variable is \
         LANYARD_AGENT_WORKLOAD_API_MAX_CONNECTIONS) or unset it"
    );
}

#[test]
fn the_admin_socket_has_a_directory_of_its_own() {
    let c = AgentConfig::from_toml(MIN).unwrap();
    assert_eq!(
        c.admin.socket_path,
        Path::new("/run/lanyard-agent/admin/api.sock")
    );
    let e = refusal(&format!("{MIN}[admin]\nsocket_path = \"admin.sock\"\n"));
    assert!(
        e.contains("`admin.socket_path` must be an absolute path"),
        "{e}"
    );
    let e = refusal(&format!(
        "{MIN}socket_path = \"/run/x/api.sock\"\n[admin]\nsocket_path = \"/run/x/admin.sock\"\n"
    ));
    assert!(
        e.contains("`admin.socket_path` is in the Workload API socket's directory"),
        "{e}"
    );
}

#[test]
fn x509pop_node_attestation_is_configurable_and_checked() {
    let table = "[node_attestor.x509pop]\ncertificate_path = \"/etc/lanyard/node.pem\"\nprivate_key_path = \"/etc/lanyard/node.key\"\n";
    let c = AgentConfig::from_toml(&format!("{MIN}{table}")).unwrap();
    let pop = c.node_attestor.x509pop.unwrap();
    assert_eq!(pop.certificate_path, Path::new("/etc/lanyard/node.pem"));
    assert_eq!(pop.private_key_path, Path::new("/etc/lanyard/node.key"));
    assert_eq!(pop.intermediates_path, None);
    for (extra, expect) in [
        (
            "[node_attestor.x509pop]\ncertificate_path = \"node.pem\"\nprivate_key_path = \"/k\"\n"
                .to_owned(),
            "`node_attestor.x509pop.certificate_path` must be an absolute path",
        ),
        (
            format!("{table}intermediates_path = \"ca.pem\"\n"),
            "`node_attestor.x509pop.intermediates_path` must be an absolute path",
        ),
        (
            "[node_attestor.x509pop]\ncertificate_path = \"/c\"\n".to_owned(),
            "private_key_path",
        ),
        (format!("join_token = \"abc\"\n{table}"), "remove one"),
        (
            format!("{table}[node_attestor.k8s_psat]\ncluster = \"p\"\n"),
            "attests one way",
        ),
    ] {
        let e = refusal(&format!("{MIN}{extra}"));
        assert!(e.contains(expect), "{extra}: {e}");
    }
}
