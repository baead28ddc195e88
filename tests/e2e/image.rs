//! The container images (issue 15), built and run the way CI can: the workspace's
//! `Containerfile` built into both of its targets, `server` and `agent`, with buildah (no daemon:
//! `--isolation chroot`, vfs storage), then the server and the agent run from those images on the
//! host network, the agent attested with a join token made by the admin CLI inside the server's
//! image, and an X.509-SVID fetched from the agent's socket by a client outside the images (the
//! host's `lanyard-agent api fetch x509`).
//!
//! No registry can be reached, so the test makes both base images itself ([`buildah`]): the
//! runtime base holds the shared libraries the binaries load, as distroless's `cc` does; the
//! builder base is empty and the build bind-mounts the host's `/usr`, Rust toolchain,
//! `CARGO_HOME`, source and target directory at their own paths, with the test suite's profile
//! and feature set. Cargo then finds the binaries this test process already built fresh, and the
//! build stage costs seconds instead of a 20-minute release build; the test fails if it compiled
//! anything, which would blow CI's budget.
//!
//! Each run has its own store in a tempdir, deleted afterwards.

mod buildah;

use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use lanyard_test_support::process::{AgentFiles, ServerFiles};
use nix::unistd::{Gid, Uid, chown};
use serde_json::Value;

use self::buildah::{Buildah, files_below, make_builder_base, make_runtime_base};
use crate::agent_client::run_guarded;
use crate::agent_harness::my_uid;
use crate::harness::{PATIENCE, bin};

/// How long one image build may take: seconds when cargo's build is reused as intended; the
/// bound is for a build that is not, so that it fails instead of holding CI.
const BUILD_PATIENCE: Duration = Duration::from_secs(600);
/// The uid the server image runs as (distroless's `nonroot`).
const SERVER_UID: u32 = 65532;
const RUNTIME_BASE: &str = "localhost/lanyard-test/runtime:base";
const BUILDER_BASE: &str = "localhost/lanyard-test/builder:base";
const SERVER_IMAGE: &str = "localhost/lanyard/server:test";
const AGENT_IMAGE: &str = "localhost/lanyard/agent:test";

/// The workspace root (the build context).
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// What the images are built from: the bases and the build of this test process.
struct BuildInputs {
    /// `<target>/<profile>`, holding the binaries the harness built.
    bin_dir: PathBuf,
    /// The cargo profile of `bin_dir` (`dev` for `debug`).
    profile: String,
    /// The toolchain's `bin` (cargo and rustc of this build).
    toolchain_bin: PathBuf,
    cargo_home: PathBuf,
}

impl BuildInputs {
    fn of_this_build() -> BuildInputs {
        let bin_dir = bin("lanyard-server").parent().unwrap().to_owned();
        let profile = match bin_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") => "dev".to_owned(),
            Some(other) => other.to_owned(),
            None => panic!("{} is not <target>/<profile>", bin_dir.display()),
        };
        let cargo =
            PathBuf::from(std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into()));
        let cargo = cargo.canonicalize().unwrap();
        let home = || PathBuf::from(std::env::var_os("HOME").expect("HOME is set"));
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| home().join(".cargo"));
        BuildInputs {
            profile,
            toolchain_bin: cargo.parent().unwrap().to_owned(),
            cargo_home: cargo_home.canonicalize().unwrap(),
            bin_dir,
        }
    }

    fn target_dir(&self) -> &Path {
        self.bin_dir.parent().unwrap()
    }

    /// The directories the build bind-mounts at their own paths, and whether read-only.
    fn volumes(&self) -> Vec<(PathBuf, bool)> {
        let toolchain = self.toolchain_bin.parent().unwrap().to_owned();
        let mut v = vec![
            (PathBuf::from("/usr"), true),
            // /usr/bin/cc and friends are links through /etc/alternatives.
            (PathBuf::from("/etc/alternatives"), true),
            (workspace(), false),
            (self.cargo_home.clone(), false),
        ];
        if !toolchain.starts_with("/usr") {
            v.push((toolchain, true));
        }
        if !self.target_dir().starts_with(workspace()) {
            v.push((self.target_dir().to_owned(), false));
        }
        v
    }
}

/// `buildah bud --target <target>` of the workspace's Containerfile with the test's bases and
/// build; returns how long it took. Fails if cargo compiled anything.
async fn build_image(b: &Buildah, inputs: &BuildInputs, target: &str, tag: &str) -> Duration {
    let ws = workspace();
    let mut cmd = b.command();
    cmd.args([
        "bud",
        "--isolation",
        "chroot",
        "--pull=never",
        "--target",
        target,
    ])
    .args(["--tag", tag, "--file"])
    .arg(ws.join("Containerfile"));
    let args = [
        ("BUILDER_IMAGE", BUILDER_BASE.to_owned()),
        ("RUNTIME_IMAGE", RUNTIME_BASE.to_owned()),
        ("PROFILE", inputs.profile.clone()),
        ("SRC_DIR", ws.display().to_string()),
        ("TARGET_DIR", inputs.target_dir().display().to_string()),
        // The test suite's feature set (what `bin()` built with): other features would mean
        // other builds of the same crates.
        ("CARGO_ARGS", "--workspace --tests".to_owned()),
    ];
    for (k, v) in args {
        cmd.arg("--build-arg").arg(format!("{k}={v}"));
    }
    for (dir, read_only) in inputs.volumes() {
        let ro = if read_only { ":ro" } else { "" };
        cmd.arg("--volume")
            .arg(format!("{0}:{0}{ro}", dir.display()));
    }
    cmd.arg(&ws);
    let started = Instant::now();
    let (stdout, stderr) = b.output(cmd, BUILD_PATIENCE).await;
    let took = started.elapsed();
    let printed = stdout + &stderr;
    assert!(
        !printed.contains("Compiling "),
        "the image build compiled crates again instead of reusing this build (it must see the \
         same paths, toolchain, profile and features as the test suite's build):\n{printed}"
    );
    eprintln!("buildah bud --target {target}: {took:?}");
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_built_with_buildah_run_a_trust_domain() {
    let Some(b) = Buildah::new() else {
        return;
    };
    let inputs = BuildInputs::of_this_build();
    let binaries = [bin("lanyard-server"), bin("lanyard-agent")];

    let started = Instant::now();
    make_runtime_base(&b, RUNTIME_BASE, &binaries).await;
    make_builder_base(&b, BUILDER_BASE, &inputs.toolchain_bin, &inputs.cargo_home).await;
    eprintln!("base images: {:?}", started.elapsed());
    build_image(&b, &inputs, "server", SERVER_IMAGE).await;
    build_image(&b, &inputs, "agent", AGENT_IMAGE).await;

    // What the images say about themselves: the entry point, and who runs it.
    let server_config = b.image_config(SERVER_IMAGE).await;
    let agent_config = b.image_config(AGENT_IMAGE).await;
    assert_eq!(server_config["User"], format!("{SERVER_UID}:{SERVER_UID}"));
    assert_eq!(agent_config["User"], "0:0");
    let server_cmd = entrypoint(&server_config, "lanyard-server");
    let agent_cmd = entrypoint(&agent_config, "lanyard-agent");

    // The final stages add their binary (and the server's data_dir) to the runtime base and
    // nothing else: no shell, no toolchain, no source from the build stage.
    let (_, base_root) = b.container(RUNTIME_BASE).await;
    let base_files = files_below(&base_root);
    let (server_ctr, server_root) = b.container(SERVER_IMAGE).await;
    let (agent_ctr, agent_root) = b.container(AGENT_IMAGE).await;
    for (root, binary) in [
        (&server_root, "lanyard-server"),
        (&agent_root, "lanyard-agent"),
    ] {
        let added: Vec<PathBuf> = files_below(root).difference(&base_files).cloned().collect();
        assert_eq!(added, [Path::new("usr/local/bin").join(binary)]);
    }
    let data_dir = std::fs::metadata(server_root.join("var/lib/lanyard/server")).unwrap();
    assert_eq!(
        data_dir.uid(),
        SERVER_UID,
        "the server's default data_dir is its own"
    );

    // The server, from its image, as its own user.
    let server_dir = tempfile::tempdir().unwrap();
    let owner = (
        Some(Uid::from_raw(SERVER_UID)),
        Some(Gid::from_raw(SERVER_UID)),
    );
    chown(server_dir.path(), owner.0, owner.1).unwrap();
    let files = ServerFiles::write(server_dir.path(), "").unwrap();
    let volumes = [server_dir.path()];
    let mut argv = server_cmd.clone();
    argv.extend(["run".into(), "--config".into(), path_arg(&files.config)]);
    let (mut server, ready) = b
        .start(
            &server_ctr,
            &volumes,
            &argv,
            &files.log,
            "lanyard-server ready ",
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let agent_api: SocketAddr = field(&ready, "agent_api").parse().unwrap();
    let datastore = std::fs::metadata(files.data_dir.join("datastore.sqlite3")).unwrap();
    assert_eq!(
        datastore.uid(),
        SERVER_UID,
        "the server image must not run as root"
    );

    // The admin CLI inside the server's image (`kubectl exec lanyard-server-0 -- ...`).
    let admin = async |args: &[&str]| {
        let mut argv = server_cmd.clone();
        argv.extend(args.iter().map(|a| a.to_string()));
        argv.extend(["--socket-path".into(), path_arg(&files.socket)]);
        b.exec(&server_ctr, &volumes, &argv).await
    };
    let bundle = admin(&["bundle", "show", "--format", "pem"]).await;
    let token = admin(&["token", "generate", "--output", "json"]).await;
    let token: Value = serde_json::from_str(&token).unwrap();
    let agent_id = token["agent_spiffe_id"].as_str().unwrap();

    // The agent, from its image, as root, attested with the token.
    let agent_dir = tempfile::tempdir().unwrap();
    let afiles = AgentFiles::write(agent_dir.path(), agent_api, &bundle, "").unwrap();
    let mut argv = agent_cmd.clone();
    argv.extend(["run".into(), "--config".into(), path_arg(&afiles.config)]);
    argv.extend([
        "--join-token".into(),
        token["token"].as_str().unwrap().into(),
    ]);
    let (mut agent, listening) = b
        .start(
            &agent_ctr,
            &[agent_dir.path()],
            &argv,
            &afiles.log,
            "lanyard-agent listening ",
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(Path::new(field(&listening, "socket")), afiles.socket);

    // An entry for this test's uid under the agent, and the SVID through the agent's socket.
    let spiffe_id = "spiffe://example.org/image-test";
    let selector = format!("unix:uid:{}", my_uid());
    let create = [
        "entry",
        "create",
        "--spiffe-id",
        spiffe_id,
        "--parent-id",
        agent_id,
        "--selector",
        selector.as_str(),
        "--output",
        "json",
    ];
    admin(&create).await;
    let svids = fetch_until_issued(&afiles.socket, spiffe_id, &afiles.log).await;
    assert_eq!(svids["svids"][0]["spiffe_id"], spiffe_id, "{svids}");
    let agent_key_dir = std::fs::metadata(&afiles.data_dir).unwrap();
    assert_eq!(agent_key_dir.uid(), 0, "the agent image runs as root");

    agent.stop().await;
    server.stop().await;
}

/// The image's entry point, which must be `/usr/local/bin/<binary>` (the manifests call the
/// binary by name from the PATH).
fn entrypoint(config: &Value, binary: &str) -> Vec<String> {
    let want = format!("/usr/local/bin/{binary}");
    assert_eq!(config["Entrypoint"], serde_json::json!([want]), "{config}");
    let mut env = config["Env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str);
    assert!(
        env.any(|e| e.starts_with("PATH=") && e.contains("/usr/local/bin")),
        "{config}"
    );
    vec![want]
}

/// The `name=value` field `name` of a ready line.
fn field<'a>(line: &'a str, name: &str) -> &'a str {
    line.split_whitespace()
        .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
}

fn path_arg(path: &Path) -> String {
    path.to_str().unwrap().to_owned()
}

/// `lanyard-agent api fetch x509 --output json` from the host until the agent hands out
/// `spiffe_id` (the entry reaches it over Sync); panics with the agent's log after [`PATIENCE`].
async fn fetch_until_issued(socket: &Path, spiffe_id: &str, log: &Path) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mut cmd = Command::new(bin("lanyard-agent"));
        cmd.args(["api", "fetch", "x509", "--output", "json", "--socket-path"])
            .arg(socket)
            .env_remove("SPIFFE_ENDPOINT_SOCKET");
        let out = run_guarded(cmd, PATIENCE).await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if out.status.success() && stdout.contains(spiffe_id) {
            return serde_json::from_str(&stdout).unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "no SVID for {spiffe_id} from the agent's image after {PATIENCE:?}: {}\n{}\n\
             agent log:\n{}",
            stdout,
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
