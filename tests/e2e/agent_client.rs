//! Workload API clients for the agent tests.
//!
//! - [`connect`] + [`with_header`]: the generated `SpiffeWorkloadAPI` client over the agent's
//!   Unix socket; the security header is added per request, so a test can also leave it out.
//! - [`SvidWatch`]: a FetchX509SVID stream, read message by message with a timeout guard, and
//!   [`wait_for_svids`], which (re)opens one until the agent serves what a test expects.
//! - [`run_guarded`] and [`python_as`]: the py-spiffe scripts of `tests/python`, killed if they
//!   hang, optionally as another uid.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use lanyard_proto::workload::spiffe_workload_api_client::SpiffeWorkloadApiClient;
use lanyard_proto::workload::{X509svidRequest, X509svidResponse};
use lanyard_test_support::Python;
use lanyard_x509::{CertInfo, split_der_certificates};
use tokio::net::UnixStream;
use tonic::transport::{Channel, Endpoint, Uri};
use tonic::{Code, Request, Status, Streaming};

use crate::harness::PATIENCE;

/// A gRPC channel over the Unix socket `socket` (the Workload API's, or the admin API's).
pub(crate) async fn unix_channel(socket: &Path) -> Channel {
    let socket = socket.to_path_buf();
    Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let socket = socket.clone();
            async move { Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(socket).await?)) }
        }))
        .await
        .unwrap()
}

/// The generated Workload API client on the Unix socket `socket`.
pub(crate) async fn connect(socket: &Path) -> SpiffeWorkloadApiClient<Channel> {
    SpiffeWorkloadApiClient::new(unix_channel(socket).await)
}

/// `message` with `workload.spiffe.io: true`, as every Workload API request must carry.
pub(crate) fn with_header<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("workload.spiffe.io", "true".parse().unwrap());
    request
}

/// The SPIFFE IDs a response hands out, sorted.
pub(crate) fn ids(resp: &X509svidResponse) -> Vec<String> {
    let mut ids: Vec<String> = resp.svids.iter().map(|s| s.spiffe_id.clone()).collect();
    ids.sort();
    ids
}

/// The leaf serial (hex) of the SVID for `spiffe_id` in `resp`.
pub(crate) fn serial(resp: &X509svidResponse, spiffe_id: &str) -> String {
    let svid = resp
        .svids
        .iter()
        .find(|s| s.spiffe_id == spiffe_id)
        .unwrap_or_else(|| panic!("no SVID for {spiffe_id} in {:?}", ids(resp)));
    let chain = split_der_certificates(&svid.x509_svid).unwrap();
    CertInfo::from_der(chain[0].as_bytes()).unwrap().serial_hex
}

/// An open FetchX509SVID stream (with the header).
pub(crate) struct SvidWatch {
    stream: Streaming<X509svidResponse>,
}

impl SvidWatch {
    /// Opens the stream; the agent's refusal comes back as the status.
    pub(crate) async fn open(socket: &Path) -> Result<SvidWatch, Status> {
        let mut client = connect(socket).await;
        let stream = tokio::time::timeout(
            PATIENCE,
            client.fetch_x509svid(with_header(X509svidRequest {})),
        )
        .await
        .expect("FetchX509SVID did not answer")?
        .into_inner();
        Ok(SvidWatch { stream })
    }

    /// The next message, waiting at most `guard`; panics if the stream ends or fails.
    pub(crate) async fn next_within(&mut self, guard: Duration) -> X509svidResponse {
        match tokio::time::timeout(guard, self.stream.message()).await {
            Ok(Ok(Some(resp))) => resp,
            Ok(Ok(None)) => panic!("the agent ended the FetchX509SVID stream"),
            Ok(Err(status)) => panic!("the FetchX509SVID stream failed: {status:?}"),
            Err(_) => panic!("no FetchX509SVID message within {guard:?}"),
        }
    }

    /// The next message, waiting at most [`PATIENCE`].
    pub(crate) async fn next(&mut self) -> X509svidResponse {
        self.next_within(PATIENCE).await
    }

    /// Reads messages until one satisfies `pred`, for at most `guard` in all.
    /// [`SvidWatch::until`], but `first` (the message already read, e.g. by
    /// [`wait_for_svids`]) is checked before waiting: a stream sends only when the caller's
    /// response changes, so what `first` already shows never comes again.
    pub(crate) async fn until_from(
        &mut self,
        first: X509svidResponse,
        guard: Duration,
        mut pred: impl FnMut(&X509svidResponse) -> bool,
    ) -> X509svidResponse {
        if pred(&first) {
            return first;
        }
        self.until(guard, pred).await
    }

    pub(crate) async fn until(
        &mut self,
        guard: Duration,
        mut pred: impl FnMut(&X509svidResponse) -> bool,
    ) -> X509svidResponse {
        let deadline = tokio::time::Instant::now() + guard;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let resp = self.next_within(left).await;
            if pred(&resp) {
                return resp;
            }
        }
    }
}

/// Opens FetchX509SVID streams until one serves exactly `want` (sorted SPIFFE IDs); retries
/// while the agent is not synced (`Unavailable`) or has nothing for us yet
/// (`PermissionDenied`). Returns the open stream and the matching message.
pub(crate) async fn wait_for_svids(socket: &Path, want: &[&str]) -> (SvidWatch, X509svidResponse) {
    let mut want: Vec<String> = want.iter().map(|s| (*s).to_owned()).collect();
    want.sort();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut last = String::new();
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the agent did not serve {want:?} within {PATIENCE:?}; last: {last}"
        );
        match SvidWatch::open(socket).await {
            Ok(mut watch) => {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                let resp = watch.until(left, |r| ids(r) == want).await;
                return (watch, resp);
            }
            Err(s) if matches!(s.code(), Code::Unavailable | Code::PermissionDenied) => {
                last = format!("{s:?}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(s) => panic!("FetchX509SVID refused: {s:?}"),
        }
    }
}

/// Runs `cmd` to completion, killed if it outlives `guard`.
pub(crate) async fn run_guarded(cmd: Command, guard: Duration) -> Output {
    let what = format!("{cmd:?}");
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.kill_on_drop(true);
    tokio::time::timeout(guard, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("{what} still running after {guard:?}"))
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// The JSON document a script printed on its last stdout line (it must have exited 0).
pub(crate) fn json_out(out: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {}\n--- stdout\n{stdout}--- stderr\n{stderr}",
        out.status
    );
    // One (possibly pretty-printed) document, or log lines then a one-line document.
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(stdout.trim())
        .or_else(|_| serde_json::from_str(last))
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n--- stdout\n{stdout}--- stderr\n{stderr}"))
}

/// `tests/python/<script> <args>` as `uid` (gid = uid), with `home` as `HOME`.
///
/// The pinned virtualenv's interpreter may be unreachable for other uids: `python3 -m venv`
/// links `bin/python` to the interpreter that created it, e.g. under a 0700 `/root/.pyenv`. Then
/// the system `python3` of the same version runs the script with the virtualenv's packages on
/// `PYTHONPATH` (and nothing else: `-S`).
pub(crate) async fn python_as(
    py: &Python,
    uid: u32,
    home: &Path,
    script: &str,
    args: &[&str],
) -> Output {
    run_guarded(
        python_command_as(py, uid, home, script, args).await,
        PATIENCE,
    )
    .await
}

/// The command [`python_as`] runs, for a test that talks to the script while it runs.
pub(crate) async fn python_command_as(
    py: &Python,
    uid: u32,
    home: &Path,
    script: &str,
    args: &[&str],
) -> Command {
    let mut cmd = if runs_as(py.interpreter(), uid).await {
        py.command(script, args)
    } else {
        let fallback = system_python_for(py).await.unwrap_or_else(|why| {
            panic!(
                "uid {uid} cannot run {} and there is no usable fallback: {why}",
                py.interpreter().display()
            )
        });
        let mut cmd = Command::new(&fallback.interpreter);
        // -S: without the system's site-packages, whose older copies of the same packages
        // would shadow or clash with the pinned ones.
        cmd.arg("-S")
            .arg(scripts_dir().join(script))
            .args(args)
            .env("PYTHONPATH", &fallback.site_packages)
            .env("PYTHONDONTWRITEBYTECODE", "1");
        cmd
    };
    {
        use std::os::unix::process::CommandExt as _;
        cmd.uid(uid).gid(uid);
    }
    cmd.env("HOME", home).current_dir(home);
    cmd
}

fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python")
}

/// Whether `interpreter` starts when run as `uid`.
async fn runs_as(interpreter: &Path, uid: u32) -> bool {
    use std::os::unix::process::CommandExt as _;
    let mut cmd = Command::new(interpreter);
    cmd.args(["-c", "pass"]).uid(uid).gid(uid).current_dir("/");
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.kill_on_drop(true);
    matches!(
        tokio::time::timeout(PATIENCE, cmd.output()).await,
        Ok(Ok(out)) if out.status.success()
    )
}

struct Fallback {
    interpreter: PathBuf,
    site_packages: String,
}

/// `/usr/bin/python3` if it has the virtualenv's Python version, with the virtualenv's
/// site-packages directory.
async fn system_python_for(py: &Python) -> Result<Fallback, String> {
    const PROBE: &str = "import sys, sysconfig; print(sys.version_info[:2]); print(sysconfig.get_paths()['purelib'])";
    let probe = |interpreter: &Path| {
        let mut cmd = Command::new(interpreter);
        cmd.args(["-c", PROBE]);
        cmd
    };
    let venv = run_guarded(probe(py.interpreter()), PATIENCE).await;
    let venv = String::from_utf8_lossy(&venv.stdout).into_owned();
    let mut venv = venv.lines();
    let (version, site_packages) = (venv.next(), venv.next());
    let interpreter = PathBuf::from("/usr/bin/python3");
    if !interpreter.exists() {
        return Err(format!("{} does not exist", interpreter.display()));
    }
    let system = run_guarded(probe(&interpreter), PATIENCE).await;
    let system = String::from_utf8_lossy(&system.stdout).into_owned();
    match (version, site_packages) {
        (Some(v), Some(site)) if system.lines().next() == Some(v) => Ok(Fallback {
            interpreter,
            site_packages: site.to_owned(),
        }),
        _ => Err(format!(
            "{} is Python {:?}, the virtualenv is {version:?}",
            interpreter.display(),
            system.lines().next()
        )),
    }
}
