//! The workload-side CLI: a Workload API client for people and probes.
//!
//! - `api fetch x509 [--socket-path P] [--write DIR] [--output text|json]`: this process's
//!   X.509-SVIDs and bundles, optionally written as PEM files.
//! - `api fetch jwt --audience A [--spiffe-id ID] [--output text|json]`: JWT-SVIDs for an
//!   audience.
//! - `api validate jwt --audience A --svid TOKEN [--output text|json]`: have the agent validate
//!   a JWT-SVID against its bundles.
//! - `api watch [--socket-path P]`: a line per update the agent streams.
//! - [`healthcheck`]: exit 0 if the agent answers on the socket.
//! - `logger show|set --level L|reset`: the running agent's log filter, over the agent's admin
//!   socket (`--socket-path`, else `$LANYARD_AGENT_ADMIN_SOCKET_PATH`, else
//!   /run/lanyard-agent/admin/api.sock).
//!
//! The socket is `--socket-path`, else `$SPIFFE_ENDPOINT_SOCKET`, else
//! [`DEFAULT_SOCKET_PATH`]. Errors go to stderr as `lanyard-agent: ...` with exit status 1.

mod client;
mod jwt;
pub mod logger;
mod x509;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use lanyard_proto::workload::{
    JwtsvidRequest, ValidateJwtsvidRequest, X509BundlesRequest, X509svidRequest,
};

pub use client::{DEFAULT_SOCKET_PATH, ENDPOINT_SOCKET_ENV, resolve_socket_path};

/// How long a one-shot command waits for the agent's first answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the health check waits for the agent's answer.
const HEALTHCHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// `lanyard-agent api ...`: talk to the Workload API as a workload.
#[derive(Debug, clap::Subcommand)]
pub enum ApiCommand {
    /// Fetch from the Workload API once.
    #[command(subcommand)]
    Fetch(FetchCommand),
    /// Have the agent validate something.
    #[command(subcommand)]
    Validate(ValidateCommand),
    /// Print a line each time the agent sends this process new X.509-SVIDs.
    Watch(WatchArgs),
}

/// `api validate ...`.
#[derive(Debug, clap::Subcommand)]
pub enum ValidateCommand {
    /// Validate a JWT-SVID against the agent's JWT bundles; exit 1 with the reason if invalid.
    Jwt(ValidateJwtArgs),
}

/// `api fetch jwt`.
#[derive(Debug, clap::Args)]
pub struct FetchJwtArgs {
    /// Where the agent listens.
    #[command(flatten)]
    pub socket: SocketArgs,
    /// The audience the token is for (the `aud` claim); repeat for several.
    #[arg(long, value_name = "AUDIENCE", required = true)]
    pub audience: Vec<String>,
    /// Only the token of this identity (default: one per identity of this process).
    #[arg(long, value_name = "SPIFFE_ID")]
    pub spiffe_id: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// `api validate jwt`.
#[derive(Debug, clap::Args)]
pub struct ValidateJwtArgs {
    /// Where the agent listens.
    #[command(flatten)]
    pub socket: SocketArgs,
    /// The audience this validator identifies as; the token's `aud` must contain it.
    #[arg(long, value_name = "AUDIENCE")]
    pub audience: String,
    /// The token (JWS compact serialization).
    #[arg(long, value_name = "TOKEN")]
    pub svid: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// `api fetch ...`.
#[derive(Debug, clap::Subcommand)]
pub enum FetchCommand {
    /// Fetch this process's X.509-SVIDs and trust bundles.
    X509(FetchX509Args),
    /// Fetch JWT-SVIDs of this process for an audience.
    Jwt(FetchJwtArgs),
}

/// The Workload API socket option shared by the commands.
#[derive(Debug, Clone, clap::Args)]
pub struct SocketArgs {
    /// The Workload API socket: unix:///path, unix:/path or /path. Default:
    /// $SPIFFE_ENDPOINT_SOCKET, else /run/lanyard-agent/public/api.sock.
    #[arg(long, value_name = "PATH")]
    pub socket_path: Option<String>,
}

/// `api fetch x509`.
#[derive(Debug, clap::Args)]
pub struct FetchX509Args {
    /// Where the agent listens.
    #[command(flatten)]
    pub socket: SocketArgs,
    /// Write svid.N.pem (chain), svid.N.key (PKCS#8, mode 0600) and bundle.N.pem into DIR.
    #[arg(long, value_name = "DIR")]
    pub write: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// `api watch`.
#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// Where the agent listens.
    #[command(flatten)]
    pub socket: SocketArgs,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// For people.
    Text,
    /// One JSON document, for scripts.
    Json,
}

/// Runs an `api` command; errors are printed to stderr.
pub async fn run_api(cmd: ApiCommand) -> ExitCode {
    let result = match cmd {
        ApiCommand::Fetch(FetchCommand::X509(args)) => fetch_x509(args).await,
        ApiCommand::Fetch(FetchCommand::Jwt(args)) => fetch_jwt(args).await,
        ApiCommand::Validate(ValidateCommand::Jwt(args)) => validate_jwt(args).await,
        ApiCommand::Watch(args) => watch(args).await,
    };
    report(result)
}

/// Checks that the agent answers on the Workload API socket (`socket_path` as `--socket-path`
/// takes it, else the environment or the default): exit 0 if it does, even with
/// `PermissionDenied` ("no identity issued": alive, just nothing for this caller); exit 1 with
/// the reason if it cannot be reached, does not answer in time, or is not ready.
pub async fn healthcheck(socket_path: Option<&str>) -> ExitCode {
    let check = async {
        let path = resolve_socket_path(socket_path)?;
        let mut client = client::connect(&path).await?;
        match client.fetch_x509_bundles(X509BundlesRequest {}).await {
            Ok(_) => Ok(()),
            Err(status) if status.code() == tonic::Code::PermissionDenied => Ok(()),
            Err(status) => Err(client::explain_status(&status)),
        }
    };
    let result = tokio::time::timeout(HEALTHCHECK_TIMEOUT, check)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {HEALTHCHECK_TIMEOUT:?}")));
    if result.is_ok() {
        println!("lanyard-agent: healthy");
    }
    report(result)
}

fn report(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("lanyard-agent: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn fetch_x509(args: FetchX509Args) -> Result<(), String> {
    let path = resolve_socket_path(args.socket.socket_path.as_deref())?;
    let mut client = client::connect(&path).await?;
    let first = async {
        let mut stream = client
            .fetch_x509svid(X509svidRequest {})
            .await
            .map_err(|s| client::explain_status(&s))?
            .into_inner();
        stream
            .message()
            .await
            .map_err(|s| client::explain_status(&s))?
            .ok_or_else(|| "the agent ended the stream without an answer".to_string())
    };
    let resp = tokio::time::timeout(ANSWER_TIMEOUT, first)
        .await
        .map_err(|_| format!("no answer within {ANSWER_TIMEOUT:?}"))??;

    let svids = x509::summarize(&resp)?;
    let federated_bundles = x509::federated(&resp)?;
    let written = match &args.write {
        Some(dir) => x509::write_files(dir, &resp)?,
        None => Vec::new(),
    };
    let summary = x509::FetchSummary {
        svids,
        federated_bundles,
        written,
    };
    match args.output {
        OutputFormat::Text => x509::print_text(&summary, args.write.as_deref()),
        OutputFormat::Json => {
            let json = serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?;
            println!("{json}");
        }
    }
    Ok(())
}

async fn fetch_jwt(args: FetchJwtArgs) -> Result<(), String> {
    if let Some(empty) = args.audience.iter().find(|a| a.trim().is_empty()) {
        return Err(format!(
            "--audience {empty:?} is empty: name the service the token is for"
        ));
    }
    let path = resolve_socket_path(args.socket.socket_path.as_deref())?;
    let mut client = client::connect(&path).await?;
    let request = JwtsvidRequest {
        audience: args.audience,
        spiffe_id: args.spiffe_id.unwrap_or_default(),
    };
    let resp = tokio::time::timeout(ANSWER_TIMEOUT, client.fetch_jwtsvid(request))
        .await
        .map_err(|_| format!("no answer within {ANSWER_TIMEOUT:?}"))?
        .map_err(|s| client::explain_status(&s))?
        .into_inner();
    jwt::print_svids(&resp, args.output)
}

async fn validate_jwt(args: ValidateJwtArgs) -> Result<(), String> {
    let path = resolve_socket_path(args.socket.socket_path.as_deref())?;
    let mut client = client::connect(&path).await?;
    let request = ValidateJwtsvidRequest {
        audience: args.audience,
        svid: args.svid.trim().to_owned(),
    };
    let resp = tokio::time::timeout(ANSWER_TIMEOUT, client.validate_jwtsvid(request))
        .await
        .map_err(|_| format!("no answer within {ANSWER_TIMEOUT:?}"))?
        .map_err(|s| client::explain_status(&s))?
        .into_inner();
    jwt::print_validated(&resp, args.output)
}

async fn watch(args: WatchArgs) -> Result<(), String> {
    let path = resolve_socket_path(args.socket.socket_path.as_deref())?;
    let mut client = client::connect(&path).await?;
    let mut stream = client
        .fetch_x509svid(X509svidRequest {})
        .await
        .map_err(|s| client::explain_status(&s))?
        .into_inner();
    while let Some(resp) = stream
        .message()
        .await
        .map_err(|s| client::explain_status(&s))?
    {
        println!("{}", x509::watch_line(&x509::summarize(&resp)?));
    }
    Err("the agent ended the stream".into())
}
