//! The Kubernetes manifests under `deploy/kubernetes` (issue 7), checked offline. Each of the
//! sqlite and postgres overlays and the example workload renders with `kubectl kustomize`, and
//! every object validates strictly against the Kubernetes API schemas bundled by the pinned
//! `kubernetes-validate` (a custom resource against its CRD's schema), through
//! `tests/python/validate_manifests.py`. Then the wiring an operator would trip over is asserted
//! on the rendered objects: the configs in the ConfigMaps pass the real parsers; server, agents
//! and RBAC agree on k8s_psat attestation, the k8s workload attestor and auto-registration; and
//! the ports, probes, volumes, environment and host namespaces agree with the configs. No cluster
//! runs them.
//!
//! Without `kubectl` on the PATH these tests print `SKIPPED: ...` and pass.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lanyard_agent::config::AgentConfig;
use serde_json::Value;

use crate::harness::{SERVER_ENV, bin};

/// The Kubernetes version the manifests must be valid for.
const KUBERNETES_VERSION: &str = "1.32";
/// The example workload's identity template (SPIRE's syntax, kept as SPIRE users write it).
const DEMO_TEMPLATE: &str =
    "spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/{{ .PodSpec.ServiceAccountName }}";
/// The server's k8s_psat clusters, `[<this><name>]`.
const PSAT_CLUSTERS: &str = "node_attestors.k8s_psat.clusters.";
/// Where Kubernetes mounts a pod's own service-account token and the cluster CA.
const SA_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// What the server's ServiceAccount must be allowed, `(group, resources, verbs)`: k8s_psat
/// attestation (TokenReviews, the agent's pod and node) and the ClusterSPIFFEID controller.
const SERVER_RBAC: &[(&str, &str, &str)] = &[
    ("authentication.k8s.io", "tokenreviews", "create"),
    ("", "pods nodes namespaces", "get list watch"),
    ("lanyard.dev", "clusterspiffeids", "get list watch"),
    ("lanyard.dev", "clusterspiffeids/status", "update patch"),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn crd_file() -> PathBuf {
    root().join("deploy/kubernetes/base/crd-clusterspiffeid.yaml")
}

/// `kubectl kustomize deploy/kubernetes/<dir>`, or `None` (after saying so) without kubectl.
fn kustomize(dir: &str) -> Option<String> {
    let path = root().join("deploy/kubernetes").join(dir);
    let out = match Command::new("kubectl").arg("kustomize").arg(&path).output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "SKIPPED: kubectl not found on the PATH, so deploy/kubernetes/{dir} was neither \
                 rendered nor validated. Install kubectl (the client alone; no cluster needed) \
                 to run this test."
            );
            return None;
        }
        Err(e) => panic!("cannot run kubectl: {e}"),
    };
    assert!(
        out.status.success(),
        "kubectl kustomize deploy/kubernetes/{dir} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).expect("kustomize prints UTF-8"))
}

/// Runs the validator on `yaml` (with the ClusterSPIFFEID CRD known); `None` without Python.
fn validate(yaml: &str) -> Option<Output> {
    let py = lanyard_test_support::python()?;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rendered.yaml");
    std::fs::write(&file, yaml).unwrap();
    let crd = crd_file();
    let args = ["--kubernetes-version", KUBERNETES_VERSION, "--crd"];
    let files = [crd.to_str().unwrap(), file.to_str().unwrap()];
    Some(py.run("validate_manifests.py", &[&args[..], &files[..]].concat()))
}

/// The objects of one rendered directory.
struct Rendered {
    dir: String,
    objects: Vec<Value>,
}

/// Renders and validates `deploy/kubernetes/<dir>`; `None` when a tool is missing (reported).
fn render(dir: &str) -> Option<Rendered> {
    let yaml = kustomize(dir)?;
    let out = validate(&yaml)?;
    assert!(
        out.status.success(),
        "deploy/kubernetes/{dir} does not validate against Kubernetes {KUBERNETES_VERSION}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let objects = serde_json::from_slice(&out.stdout).expect("the validator prints JSON");
    Some(Rendered {
        dir: dir.to_owned(),
        objects,
    })
}

impl Rendered {
    fn get(&self, kind: &str, name: &str) -> &Value {
        self.objects
            .iter()
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("{}: no {kind} {name}", self.dir))
    }

    /// A workload `kind/name`, its pod spec and its container `container`.
    fn workload(&self, kind: &str, name: &str, container: &str) -> (&Value, &Value, &Value) {
        let w = self.get(kind, name);
        let pod = &w["spec"]["template"]["spec"];
        (w, pod, named(&pod["containers"], container, "container"))
    }

    /// The file `key` of the ConfigMap that `kind/name`'s volume `config` mounts.
    fn config_file(&self, kind: &str, name: &str, key: &str) -> String {
        let pod = &self.get(kind, name)["spec"]["template"]["spec"];
        let map = str_at(&named(&pod["volumes"], "config", "volume")["configMap"]["name"]);
        str_at(&self.get("ConfigMap", map)["data"][key]).to_owned()
    }

    /// The server.toml of the server's ConfigMap, accepted by `lanyard-server check-config`.
    fn server_toml(&self) -> String {
        let text = self.config_file("StatefulSet", "lanyard-server", "server.toml");
        assert_server_accepts(&text);
        text
    }

    /// The agent.toml of the agents' ConfigMap, parsed by the agent's own parser.
    fn agent_config(&self) -> AgentConfig {
        let text = self.config_file("DaemonSet", "lanyard-agent", "agent.toml");
        AgentConfig::from_toml(&text).unwrap_or_else(|e| {
            panic!("lanyard-agent refuses the agent.toml of the ConfigMap: {e}")
        })
    }

    /// Whether ServiceAccount `namespace/name` may `verb` `resource` of API group `group`,
    /// through a ClusterRoleBinding to a ClusterRole.
    fn may(&self, (namespace, name): (&str, &str), verb: &str, group: &str, res: &str) -> bool {
        let listed = |v: &Value, want: &str| array(v).iter().any(|x| x == want || x == "*");
        let binds_sa = |b: &&Value| {
            array(&b["subjects"]).iter().any(|s| {
                s["kind"] == "ServiceAccount" && s["name"] == name && s["namespace"] == namespace
            })
        };
        self.objects
            .iter()
            .filter(|o| o["kind"] == "ClusterRoleBinding" && o["roleRef"]["kind"] == "ClusterRole")
            .filter(binds_sa)
            .map(|b| self.get("ClusterRole", str_at(&b["roleRef"]["name"])))
            .flat_map(|role| array(&role["rules"]).iter())
            .any(|rule| {
                listed(&rule["apiGroups"], group)
                    && listed(&rule["resources"], res)
                    && listed(&rule["verbs"], verb)
            })
    }

    /// Whether ServiceAccount `namespace/name` may `verb` the object `object` (`None`: the
    /// collection, as for `create`) of `group/res` in namespace `in_ns`: through a ClusterRole
    /// (bound cluster-wide, or in `in_ns`) or a Role of `in_ns`, honouring `resourceNames`.
    fn may_on(
        &self,
        (namespace, name): (&str, &str),
        verb: &str,
        (group, res): (&str, &str),
        in_ns: &str,
        object: Option<&str>,
    ) -> bool {
        let listed = |v: &Value, want: &str| array(v).iter().any(|x| x == want || x == "*");
        let binds_sa = |b: &&Value| {
            array(&b["subjects"]).iter().any(|s| {
                s["kind"] == "ServiceAccount" && s["name"] == name && s["namespace"] == namespace
            })
        };
        let roles = self.objects.iter().filter(binds_sa).filter_map(|b| {
            let role = str_at(&b["roleRef"]["name"]);
            match (str_at(&b["kind"]), str_at(&b["roleRef"]["kind"])) {
                ("ClusterRoleBinding", "ClusterRole") => Some(self.get("ClusterRole", role)),
                ("RoleBinding", kind) if b["metadata"]["namespace"] == in_ns => {
                    self.objects.iter().find(|o| {
                        o["kind"] == kind
                            && o["metadata"]["name"] == role
                            && (kind == "ClusterRole" || o["metadata"]["namespace"] == in_ns)
                    })
                }
                _ => None,
            }
        });
        roles
            .flat_map(|role| array(&role["rules"]).iter())
            .any(|rule| {
                let names = array(&rule["resourceNames"]);
                listed(&rule["apiGroups"], group)
                    && listed(&rule["resources"], res)
                    && listed(&rule["verbs"], verb)
                    && (names.is_empty() || object.is_some_and(|o| names.iter().any(|n| n == o)))
            })
    }

    /// Asserts that `workload`'s `container` has its pod's own service-account token and the
    /// cluster CA at [`SA_DIR`]: automounted (not switched off) and not hidden by another mount.
    fn assert_sa_token_mounted(&self, workload: &Value, container: &Value) {
        let (namespace, name) = service_account(workload);
        let sa = self.get("ServiceAccount", name);
        assert_eq!(sa["metadata"]["namespace"], namespace);
        let automount = match &workload["spec"]["template"]["spec"]["automountServiceAccountToken"]
        {
            Value::Bool(b) => *b,
            _ => sa["automountServiceAccountToken"] != false,
        };
        assert!(automount, "{name} needs its token at {SA_DIR}");
        for m in array(&container["volumeMounts"]) {
            let at = str_at(&m["mountPath"]);
            assert!(!Path::new(SA_DIR).starts_with(at), "{at} hides {SA_DIR}");
        }
    }
}

fn str_at(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, found {v}"))
}

fn array(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or_default()
}

fn named<'a>(list: &'a Value, name: &str, what: &str) -> &'a Value {
    array(list)
        .iter()
        .find(|x| x["name"] == name)
        .unwrap_or_else(|| panic!("no {what} named {name} in {list}"))
}

/// The ServiceAccount a workload's pods run as, `(namespace, name)`.
fn service_account(workload: &Value) -> (&str, &str) {
    let name = str_at(&workload["spec"]["template"]["spec"]["serviceAccountName"]);
    (str_at(&workload["metadata"]["namespace"]), name)
}

/// The `USER` of the Containerfile's final stage `target` (`FROM ... AS <target>`), as `uid:gid`.
fn containerfile_user(target: &str) -> String {
    let file = std::fs::read_to_string(root().join("Containerfile")).unwrap();
    let stage = file
        .split("\nFROM ")
        .find(|s| {
            s.lines()
                .next()
                .is_some_and(|l| l.ends_with(&format!(" AS {target}")))
        })
        .unwrap_or_else(|| panic!("the Containerfile has no stage {target}"));
    let user = stage.lines().find_map(|l| l.strip_prefix("USER "));
    user.unwrap_or_else(|| panic!("stage {target} sets no USER"))
        .to_owned()
}

/// Asserts that `container` runs the image the README says how to build (a name
/// `kustomize edit set image` replaces) and, as `uid:gid`, the user that image's `USER` names.
fn assert_image(container: &Value, run_as: (&Value, &Value), image: &str, target: &str) {
    assert_eq!(container["image"], image, "README.md builds {image}");
    let user = format!("{}:{}", run_as.0, run_as.1);
    assert_eq!(
        user,
        containerfile_user(target),
        "the {target} image's USER"
    );
}

fn command(container: &Value) -> Vec<&str> {
    array(&container["command"]).iter().map(str_at).collect()
}

/// Where `container` mounts volume `name`.
fn mounted_at_name<'a>(container: &'a Value, name: &str) -> &'a str {
    str_at(&named(&container["volumeMounts"], name, "volume mount")["mountPath"])
}

/// The mount at `path` in `container`.
fn mount_at<'a>(container: &'a Value, path: &Path) -> &'a Value {
    array(&container["volumeMounts"])
        .iter()
        .find(|m| m["mountPath"] == path.to_str().unwrap())
        .unwrap_or_else(|| panic!("nothing is mounted at {}", path.display()))
}

/// The pod volume mounted at `path` in `container`, and its mount.
fn mounted_at<'a>(pod: &'a Value, container: &'a Value, path: &Path) -> (&'a Value, &'a Value) {
    let mount = mount_at(container, path);
    let volume = named(&pod["volumes"], str_at(&mount["name"]), "volume");
    (volume, mount)
}

/// Asserts that the StatefulSet mounts its per-replica claim `data` at `path` in `container`.
fn assert_claim_mounted(sts: &Value, container: &Value, path: &str) {
    let mount = mount_at(container, Path::new(path));
    assert_eq!(mount["name"], "data", "{path} must be on the claim `data`");
    let claims = array(&sts["spec"]["volumeClaimTemplates"]);
    assert!(claims.iter().any(|t| t["metadata"]["name"] == "data"));
    let volumes = array(&sts["spec"]["template"]["spec"]["volumes"]);
    assert!(volumes.iter().all(|v| v["name"] != "data"));
}

/// Asserts that `container`'s readiness and liveness probes GET /ready and /live on `port`.
fn assert_health_probes(container: &Value, port: u16) {
    for (probe, path) in [("readinessProbe", "/ready"), ("livenessProbe", "/live")] {
        let get = &container[probe]["httpGet"];
        assert_eq!(get["path"], path, "{probe}");
        let named_port = || named(&container["ports"], str_at(&get["port"]), "port");
        let number = get["port"]
            .as_u64()
            .or_else(|| named_port()["containerPort"].as_u64());
        assert_eq!(number, Some(u64::from(port)), "{probe}");
    }
}

/// The pod's projected service-account token: its source (audience, ...), and the file it is
/// in `container`.
fn projected_token<'a>(pod: &'a Value, container: &Value) -> (&'a Value, PathBuf) {
    let (volume, token) = array(&pod["volumes"])
        .iter()
        .flat_map(|v| {
            array(&v["projected"]["sources"])
                .iter()
                .map(move |s| (v, &s["serviceAccountToken"]))
        })
        .find(|(_, t)| t.is_object())
        .expect("a projected serviceAccountToken volume");
    let dir = mounted_at_name(container, str_at(&volume["name"]));
    (token, Path::new(dir).join(str_at(&token["path"])))
}

/// The value of `key` in `[section]` (`""`: the top level) of a TOML text: enough for the flat
/// lines of the shipped configs (a one-line array comes back as written); the real parsers
/// check the whole files.
fn toml_value(text: &str, section: &str, key: &str) -> Option<String> {
    let mut current = String::new();
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.trim().to_owned();
        } else if current == section
            && !line.starts_with('#')
            && let Some((k, v)) = line.split_once('=')
            && k.trim() == key
        {
            let v = v.trim();
            return Some(match v.strip_prefix('"') {
                Some(rest) => rest.split('"').next().unwrap_or_default().to_owned(),
                None => v.split('#').next().unwrap_or_default().trim().to_owned(),
            });
        }
    }
    None
}

fn server_setting(server_toml: &str, section: &str, key: &str) -> String {
    toml_value(server_toml, section, key)
        .unwrap_or_else(|| panic!("the server.toml of the ConfigMap sets no [{section}] {key}"))
}

/// The one `[node_attestors.k8s_psat.clusters.<name>]` table of a server.toml.
fn psat_table(server_toml: &str) -> String {
    let tables = server_toml
        .lines()
        .filter_map(|l| l.strip_prefix('[')?.strip_suffix(']'));
    let psat: Vec<_> = tables.filter(|t| t.starts_with(PSAT_CLUSTERS)).collect();
    assert_eq!(psat.len(), 1, "one k8s_psat cluster, the server's own");
    psat[0].to_owned()
}

fn socket_addr(s: &str) -> SocketAddr {
    s.parse()
        .unwrap_or_else(|e| panic!("{s:?} is not an address: {e}"))
}

/// `lanyard-server check-config` accepts `text`.
fn assert_server_accepts(text: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.toml");
    std::fs::write(&file, text).unwrap();
    let mut cmd = Command::new(bin("lanyard-server"));
    cmd.arg("check-config").arg("--config").arg(&file);
    for var in SERVER_ENV {
        cmd.env_remove(var);
    }
    let out = cmd.output().expect("run lanyard-server check-config");
    assert!(
        out.status.success(),
        "lanyard-server refuses the server.toml of the ConfigMap:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn sqlite_overlay_validates_and_the_server_matches_its_config() {
    let Some(r) = render("overlays/sqlite") else {
        return;
    };
    let (sts, pod, c) = r.workload("StatefulSet", "lanyard-server", "server");
    assert_eq!(sts["spec"]["replicas"], 1, "SQLite is one file: one server");
    let server_toml = r.server_toml();
    let config = format!("{}/server.toml", mounted_at_name(c, "config"));
    assert_eq!(command(c), ["lanyard-server", "run", "--config", &config]);

    // The datastore (SQLite by default) and the CA keys live on the claim `data`.
    assert!(toml_value(&server_toml, "datastore", "url").is_none());
    assert_claim_mounted(sts, c, &server_setting(&server_toml, "", "data_dir"));

    // The admin socket sits on a writable volume (the root filesystem is read-only), at the path
    // `kubectl exec ... lanyard-server <command>` uses by default.
    let socket = server_setting(&server_toml, "", "socket_path");
    assert_eq!(socket, "/tmp/lanyard-server/private/api.sock");
    assert!(socket.starts_with(&format!("{}/", mounted_at_name(c, "tmp"))));
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);

    // The kubelet probes the health endpoint over the pod network.
    let health = socket_addr(&server_setting(&server_toml, "health", "bind_address"));
    assert!(!health.ip().is_loopback(), "probes cannot reach {health}");
    assert_health_probes(c, health.port());

    // Agents reach the agent API through the Service.
    let api = socket_addr(&server_setting(&server_toml, "", "bind_address"));
    let svc = r.get("Service", "lanyard-server");
    let port = named(&svc["spec"]["ports"], "agent-api", "Service port");
    assert_eq!(port["port"], api.port());
    let target = named(&c["ports"], str_at(&port["targetPort"]), "port");
    assert_eq!(target["containerPort"], api.port());
    let labels = &sts["spec"]["template"]["metadata"]["labels"];
    for (k, v) in svc["spec"]["selector"].as_object().unwrap() {
        assert_eq!(&labels[k], v, "the Service must select the server pod");
    }

    // Not root; the data volume is the server's through fsGroup.
    let security = &pod["securityContext"];
    assert_eq!(security["runAsNonRoot"], true);
    assert!(security["runAsUser"].as_u64().is_some_and(|u| u != 0));
    assert!(security["fsGroup"].is_u64());
    assert_eq!(security["fsGroupChangePolicy"], "OnRootMismatch");
    let run_as = (&security["runAsUser"], &security["runAsGroup"]);
    assert_image(c, run_as, "lanyard/server:dev", "server");

    // The Kubernetes API in-cluster (no kube_config_file), as the pod's ServiceAccount, with the
    // RBAC of k8s_psat attestation and the ClusterSPIFFEID controller, and no more.
    let cluster = psat_table(&server_toml);
    assert!(toml_value(&server_toml, &cluster, "kube_config_file").is_none());
    r.assert_sa_token_mounted(sts, c);
    let sa = service_account(sts);
    assert_eq!(sa.0, "lanyard");
    for (group, resources, verbs) in SERVER_RBAC {
        for res in resources.split(' ') {
            for verb in verbs.split(' ') {
                assert!(r.may(sa, verb, group, res), "cannot {verb} {group}/{res}");
            }
        }
    }
    assert!(!r.may(sa, "create", "", "pods"));
    assert!(!r.may(sa, "update", "lanyard.dev", "clusterspiffeids"));
    r.get("CustomResourceDefinition", "clusterspiffeids.lanyard.dev");

    // The server keeps the agents' bootstrap ConfigMap current: the one the DaemonSet mounts,
    // under the file name the agent reads, which it may create, read and patch, and no other.
    let table = "k8s_bundle_configmap";
    assert_eq!(
        server_setting(&server_toml, table, "cluster"),
        cluster.strip_prefix(PSAT_CLUSTERS).unwrap()
    );
    let ns = server_setting(&server_toml, table, "namespace");
    let cm = server_setting(&server_toml, table, "name");
    let key = server_setting(&server_toml, table, "key");
    assert_eq!(ns, sa.0);
    let (_, agent_pod, agent) = r.workload("DaemonSet", "lanyard-agent", "agent");
    let bundle = r.agent_config().trust_bundle_path.unwrap();
    let (volume, _) = mounted_at(agent_pod, agent, bundle.parent().unwrap());
    assert_eq!(volume["configMap"]["name"], *cm);
    assert_eq!(bundle.file_name().unwrap(), key.as_str());
    assert!(r.may_on(sa, "create", ("", "configmaps"), &ns, None));
    for verb in ["get", "patch"] {
        assert!(
            r.may_on(sa, verb, ("", "configmaps"), &ns, Some(&cm)),
            "{verb} {cm}"
        );
        assert!(!r.may_on(
            sa,
            verb,
            ("", "configmaps"),
            &ns,
            Some("lanyard-server-config")
        ));
    }
    assert!(!r.may_on(sa, "get", ("", "configmaps"), "kube-system", Some(&cm)));
    // One leader among the replicas, by a Lease it may create, read and update.
    let table = "k8s_leader_election";
    let ns = server_setting(&server_toml, table, "namespace");
    let lease = server_setting(&server_toml, table, "lease_name");
    let coordination = ("coordination.k8s.io", "leases");
    assert!(r.may_on(sa, "create", coordination, &ns, None));
    for verb in ["get", "update"] {
        assert!(
            r.may_on(sa, verb, coordination, &ns, Some(&lease)),
            "{verb} {lease}"
        );
    }
    assert!(!r.may_on(sa, "update", coordination, &ns, Some("kube-scheduler")));
    // Its candidate identity is the pod's name, from the Downward API.
    let env = &named(&c["env"], "POD_NAME", "env var")["valueFrom"]["fieldRef"];
    assert_eq!(env["fieldPath"], "metadata.name");
}

#[test]
fn sqlite_overlay_agent_attests_with_k8s_psat_and_asks_the_local_kubelet() {
    let Some(r) = render("overlays/sqlite") else {
        return;
    };
    let (ds, pod, c) = r.workload("DaemonSet", "lanyard-agent", "agent");
    let config = r.agent_config();
    let config_file = format!("{}/agent.toml", mounted_at_name(c, "config"));
    // No start script (and so no shell in the image): the agent runs with the mounted config.
    let run = ["lanyard-agent", "run", "--config", &config_file];
    assert_eq!(command(c), run);
    assert_eq!(config.trust_domain.name(), "example.org");

    // Workloads of other pods are only visible to the agent in the host PID namespace.
    assert_eq!(pod["hostPID"], true, "the DaemonSet must set hostPID");

    // The Workload API socket lands in the host directory that workload pods mount.
    let (volume, mount) = mounted_at(pod, c, config.socket_path.parent().unwrap());
    assert_eq!(volume["hostPath"]["path"], "/run/lanyard/agent");
    assert_eq!(volume["hostPath"]["type"], "DirectoryOrCreate");
    assert_ne!(mount["readOnly"], true);

    // The admin socket gets a directory of its own on a pod-local writable volume (the root
    // filesystem is read-only), not shared with workloads.
    let admin_dir = config.admin.socket_path.parent().unwrap();
    assert_ne!(admin_dir, config.socket_path.parent().unwrap());
    let (volume, _) = mounted_at(pod, c, admin_dir.parent().unwrap());
    assert!(volume["emptyDir"].is_object(), "{volume}");

    // The agent's identity survives pod restarts on the node.
    let (volume, _) = mounted_at(pod, c, &config.data_dir);
    assert_eq!(volume["hostPath"]["path"], "/var/lib/lanyard/agent");

    // The server's bundle for first contact comes from the ConfigMap the docs tell to create.
    let bundle = config.trust_bundle_path.as_deref().unwrap();
    let (volume, _) = mounted_at(pod, c, bundle.parent().unwrap());
    assert_eq!(volume["configMap"]["name"], "lanyard-bootstrap-bundle");
    assert_eq!(bundle.file_name().unwrap(), "bundle.pem");
    assert!(!config.insecure_bootstrap);

    // The agent finds the server through its Service.
    let svc = r.get("Service", "lanyard-server");
    let port = &named(&svc["spec"]["ports"], "agent-api", "Service port")["port"];
    let (name, namespace) = (&svc["metadata"]["name"], &svc["metadata"]["namespace"]);
    let address = format!("{}.{}.svc:{port}", str_at(name), str_at(namespace));
    assert_eq!(config.server_address.to_string(), address);

    // The k8s workload attestor asks the kubelet at 127.0.0.1, so the agent is on the host
    // network, where only ClusterFirstWithHostNet still resolves the Service name ...
    let k8s = config.workload_attestors.k8s.as_ref().expect("k8s");
    assert_eq!(k8s.kubelet_url.host(), "127.0.0.1");
    assert_eq!(pod["hostNetwork"], true);
    assert_eq!(pod["dnsPolicy"], "ClusterFirstWithHostNet");
    // ... as the pod's ServiceAccount, checking the kubelet against the cluster CA for the name
    // of the node, which the DaemonSet puts in the variable the attestor reads.
    assert_eq!(k8s.token_path, Path::new(SA_DIR).join("token"));
    let ca = Path::new(SA_DIR).join("ca.crt");
    assert_eq!(k8s.kubelet_ca_path.as_deref(), Some(ca.as_path()));
    assert!(!k8s.kubelet_skip_verify);
    assert!(k8s.node_name.is_none(), "one config for every node");
    assert_eq!(k8s.node_name_env, "MY_NODE_NAME");
    let env = &named(&c["env"], &k8s.node_name_env, "env var")["valueFrom"]["fieldRef"];
    assert_eq!(env["fieldPath"], "spec.nodeName", "from the Downward API");
    let env = |v: &str| (v == "MY_NODE_NAME").then(|| "node-1".to_owned());
    assert_eq!(k8s.resolve_node_name(env).unwrap().unwrap(), "node-1");
    r.assert_sa_token_mounted(ds, c);
    let sa = service_account(ds);
    assert!(r.may(sa, "get", "", "nodes/proxy"), "kubelet GET /pods");
    assert!(!r.may(sa, "list", "", "pods"));
    assert!(!r.may(sa, "create", "authentication.k8s.io", "tokenreviews"));

    // The health endpoint binds on the node's network: reachable at the pod (= node) IP, on a
    // port no Kubernetes component of the node takes.
    let health = config.health.bind_address;
    assert!(!health.ip().is_loopback(), "probes cannot reach {health}");
    assert_health_probes(c, health.port());
    assert!(!(10248..=10259).contains(&health.port()), "a kubelet port");

    // Root for the root-owned host directories, but no capabilities.
    assert_eq!(c["securityContext"]["runAsUser"], 0);
    assert_eq!(c["securityContext"]["capabilities"]["drop"][0], "ALL");
    let run_as = (
        &c["securityContext"]["runAsUser"],
        &c["securityContext"]["runAsGroup"],
    );
    assert_image(c, run_as, "lanyard/agent:dev", "agent");

    // The agent attests with the projected token for the server's audience, rotated by the
    // kubelet; no join token, no Secret of them.
    let psat = config.node_attestor.k8s_psat.as_ref().expect("k8s_psat");
    let (token, token_file) = projected_token(pod, c);
    assert_eq!(psat.token_path, token_file, "not the projected token");
    assert_eq!(token["expirationSeconds"], 7200);
    assert!(config.join_token.is_none());
    assert!(array(&pod["volumes"]).iter().all(|v| v["secret"].is_null()));

    // The server knows the cluster by the name the agents send. (The parser accepted the whole
    // file, so the tables found here are the ones it reads.)
    let server_toml = r.server_toml();
    let table = psat_table(&server_toml);
    let cluster = table.strip_prefix(PSAT_CLUSTERS).unwrap().trim_matches('"');
    assert_eq!(psat.cluster, cluster);
    // It admits the DaemonSet's ServiceAccount, with tokens for the projected token's audience.
    let (namespace, name) = service_account(ds);
    let allowed = server_setting(&server_toml, &table, "service_account_allow_list");
    assert_eq!(allowed, format!("[\"{namespace}:{name}\"]"));
    let audience = toml_value(&server_toml, &table, "audience").unwrap_or("lanyard-server".into());
    assert_eq!(token["audience"], *audience);

    // Auto-registration runs for that cluster, whose agents parent its entries (and report the
    // k8s:pod-uid selector the entries carry, through the k8s attestor checked above).
    let auto = server_setting(&server_toml, "k8s_auto_registration", "cluster");
    assert_eq!(auto, cluster);
}

/// The Pod Security Admission levels of the `lanyard` namespace hold: `enforce: privileged`,
/// which the agent needs, and `warn`/`audit: restricted`, which the server's pods meet, so that
/// a warning points at the agent's known needs and nothing else.
#[test]
fn the_namespace_admits_the_agent_and_warns_about_anything_less_than_restricted() {
    let Some(r) = render("overlays/sqlite") else {
        return;
    };
    let labels = &r.get("Namespace", "lanyard")["metadata"]["labels"];
    let psa = |mode: &str| str_at(&labels[format!("pod-security.kubernetes.io/{mode}")]);
    assert_eq!(psa("enforce"), "privileged");
    assert_eq!(psa("warn"), "restricted");
    assert_eq!(psa("audit"), "restricted");
    for mode in ["enforce", "warn", "audit"] {
        assert_eq!(
            psa(&format!("{mode}-version")),
            format!("v{KUBERNETES_VERSION}"),
            "pinned to the version the manifests are checked against"
        );
    }
    // What `baseline` forbids, the agent has: so `enforce` can be nothing less than privileged.
    let (_, agent, _) = r.workload("DaemonSet", "lanyard-agent", "agent");
    assert_eq!(agent["hostPID"], true);
    assert_eq!(agent["hostNetwork"], true);
    assert!(
        array(&agent["volumes"])
            .iter()
            .any(|v| v["hostPath"].is_object())
    );
    // The server's pod meets `restricted` (the checks of the Pod Security Standards' restricted
    // profile that its spec can break).
    let (_, pod, c) = r.workload("StatefulSet", "lanyard-server", "server");
    for host in ["hostPID", "hostNetwork", "hostIPC"] {
        assert_ne!(pod[host], true, "{host}");
    }
    let allowed = [
        "configMap",
        "emptyDir",
        "projected",
        "secret",
        "downwardAPI",
        "persistentVolumeClaim",
        "ephemeral",
        "csi",
    ];
    for v in array(&pod["volumes"]) {
        let kinds: Vec<&String> = v
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "name")
            .collect();
        assert!(
            kinds.iter().all(|k| allowed.contains(&k.as_str())),
            "restricted forbids volume {v}"
        );
    }
    let sc = &pod["securityContext"];
    assert_eq!(sc["runAsNonRoot"], true);
    assert_ne!(sc["runAsUser"], 0);
    assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault");
    let csc = &c["securityContext"];
    assert_eq!(csc["allowPrivilegeEscalation"], false);
    assert_eq!(csc["capabilities"]["drop"][0], "ALL");
    assert!(csc["capabilities"]["add"].is_null());
}

#[test]
fn postgres_overlay_takes_the_datastore_url_from_a_secret_and_keeps_the_ca_keys() {
    let Some(r) = render("overlays/postgres") else {
        return;
    };
    let (sts, _, c) = r.workload("StatefulSet", "lanyard-server", "server");
    let url = &named(&c["env"], "LANYARD_DATASTORE_URL", "env var")["valueFrom"]["secretKeyRef"];
    assert!(SERVER_ENV.contains(&"LANYARD_DATASTORE_URL"));
    assert_eq!(url["name"], "lanyard-datastore");
    assert_eq!(url["key"], "url");
    assert_ne!(url["optional"], true);

    // data_dir still holds the CA private keys, on a claim of its own per replica.
    let server_toml = r.server_toml();
    assert_claim_mounted(sts, c, &server_setting(&server_toml, "", "data_dir"));
    let claim = &sts["spec"]["volumeClaimTemplates"][0];
    assert_eq!(claim["metadata"]["name"], "data");
    assert_eq!(claim["spec"]["resources"]["requests"]["storage"], "64Mi");

    // Apart from the server's StatefulSet, the overlay is the default deployment.
    let sqlite = render("overlays/sqlite").expect("rendered above");
    let others = |r: &Rendered| -> Vec<Value> {
        let mut v = r.objects.clone();
        v.retain(|o| o["kind"] != "StatefulSet");
        v.sort_by_key(|o| format!("{}/{}", o["kind"], o["metadata"]["name"]));
        v
    };
    assert_eq!(others(&r), others(&sqlite));
}

/// `template` with each `{{ action }}` replaced by its value in `values` (an action not there
/// fails the test: the controller supports more, but the example needs no more).
fn render_template(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some((before, after)) = rest.split_once("{{") {
        let (action, after) = after.split_once("}}").expect("a closed {{");
        let value = values.iter().find(|(k, _)| *k == action.trim());
        out = out + before + value.unwrap_or_else(|| panic!("unexpected {action}")).1;
        rest = after;
    }
    out + rest
}

#[test]
fn example_workload_gets_its_identity_from_its_clusterspiffeid() {
    let Some(r) = render("examples/workload") else {
        return;
    };
    let sqlite = render("overlays/sqlite").expect("rendered above");
    let (_, agent_pod, agent_c) = sqlite.workload("DaemonSet", "lanyard-agent", "agent");
    let agent = sqlite.agent_config();
    let socket_dir = agent.socket_path.parent().unwrap();
    let (agent_volume, _) = mounted_at(agent_pod, agent_c, socket_dir);

    let (deploy, pod, c) = r.workload("Deployment", "lanyard-demo", "demo");
    let endpoint = &named(&c["env"], "SPIFFE_ENDPOINT_SOCKET", "env var")["value"];
    assert_eq!(endpoint, &format!("unix://{}", agent.socket_path.display()));
    let (volume, mount) = mounted_at(pod, c, socket_dir);
    assert_eq!(volume["hostPath"]["path"], agent_volume["hostPath"]["path"]);
    assert_eq!(volume["hostPath"]["type"], "Directory");
    assert_eq!(mount["readOnly"], true);
    // No shell in the agent image: the client itself, streaming its updates.
    assert_eq!(command(c), ["lanyard-agent", "api", "watch"]);
    assert_eq!(c["image"], "lanyard/agent:dev");

    // The ClusterSPIFFEID (checked against its CRD by the validator) selects this workload.
    let id = r.get("ClusterSPIFFEID", "lanyard-demo");
    assert!(id["metadata"].get("namespace").is_none());
    assert_eq!(id["spec"]["spiffeIDTemplate"], DEMO_TEMPLATE);
    let labels = &deploy["spec"]["template"]["metadata"]["labels"];
    for (k, v) in id["spec"]["podSelector"]["matchLabels"]
        .as_object()
        .unwrap()
    {
        assert_eq!(
            &labels[k], v,
            "the podSelector must select the example's pods"
        );
    }
    let (namespace, sa) = service_account(deploy);
    let ns_labels = &id["spec"]["namespaceSelector"]["matchLabels"];
    assert_eq!(ns_labels["kubernetes.io/metadata.name"], namespace);
    let sa_namespace = &r.get("ServiceAccount", sa)["metadata"]["namespace"];
    assert_eq!(sa_namespace, namespace);

    // The identity its pods get, and docs/kubernetes.md showing how it comes about, with no
    // registration by hand.
    let values = [
        (".TrustDomain", agent.trust_domain.name()),
        (".PodMeta.Namespace", namespace),
        (".PodSpec.ServiceAccountName", sa),
    ];
    let spiffe_id = render_template(DEMO_TEMPLATE, &values);
    let want = "spiffe://example.org/ns/lanyard-demo/sa/lanyard-demo";
    assert_eq!(spiffe_id, want);
    let docs = std::fs::read_to_string(root().join("docs/kubernetes.md")).unwrap();
    for step in [
        "lanyard-server bundle show --format pem",
        "lanyard-server-0 -- lanyard-server agent list",
        "kubectl apply -k deploy/kubernetes/examples/workload",
        "kubectl get clusterspiffeids",
        &format!("lanyard-server entry show \\\n  --spiffe-id {spiffe_id}"),
        "exec deploy/lanyard-demo -- lanyard-agent api fetch x509",
        "kubectl apply -k deploy/kubernetes/overlays/postgres",
    ] {
        assert!(docs.contains(step), "docs/kubernetes.md must show `{step}`");
    }
    for gone in ["entry create", "token generate", "join-tokens", "unix:uid:"] {
        assert!(!docs.contains(gone), "docs still say `{gone}`");
    }
}

/// Asserts that the validator refuses `yaml` with `from` replaced by `to`, saying all of `says`.
fn assert_refused(yaml: &str, from: &str, to: &str, says: &[&str]) {
    let broken = yaml.replace(from, to);
    assert_ne!(broken, yaml, "the manifests no longer contain {from:?}");
    let Some(out) = validate(&broken) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && says.iter().all(|s| stderr.contains(s)),
        "{from:?} replaced by {to:?} must fail validation, saying {says:?}:\n{stderr}"
    );
}

#[test]
fn the_validator_refuses_what_the_api_server_would() {
    let Some(yaml) = kustomize("overlays/sqlite") else {
        return;
    };
    // A misspelt field (the schemas, strictly), then what the schemas allow but the API server
    // refuses: each must fail on the agent's DaemonSet.
    let port = "- containerPort: 18088\n";
    let host_port = format!("{port}          hostPort: 8088\n");
    for (from, to, says) in [
        ("hostPID: true", "hostPid: true", "hostPid"),
        ("WithHostNet\n", "WithHostNetwork\n", "dnsPolicy"),
        ("spec.nodeName", "spec.NodeName", "MY_NODE_NAME"),
        (port, &host_port, "hostNetwork"),
        ("Seconds: 7200", "Seconds: 300", "10 minutes"),
    ] {
        assert_refused(&yaml, from, to, &["DaemonSet/lanyard/lanyard-agent", says]);
    }

    // A ClusterSPIFFEID that breaks its CRD.
    let example = root().join("deploy/kubernetes/examples/workload/clusterspiffeid.yaml");
    let example = std::fs::read_to_string(example).unwrap();
    let says = [
        "'spiffeIDTemplate' is a",
        "'spiffeIdTemplate' was unexpected",
    ];
    assert_refused(&example, "spiffeIDTemplate:", "spiffeIdTemplate:", &says);
}
