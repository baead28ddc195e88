//! The admin CLI: `lanyard-server
//! entry|agent|token|bundle|federation|localauthority|jwt|logger|healthcheck ...`, a client of
//! the admin API on the server's Unix socket.
//!
//! - Every command takes `--socket-path` (env `LANYARD_SERVER_SOCKET_PATH`, default
//!   [`DEFAULT_SOCKET_PATH`]).
//! - Every command that prints data takes `--output text|json` (default text), except
//!   `bundle show|list|set`, whose `--format pem|spiffe|json` picks the encoding (`set` prints
//!   SPIFFE JSON), and `healthcheck`,
//!   whose answer is its exit code. JSON objects use the admin proto's field names; listings are
//!   objects (`{"entries": [...], "next_page_token": "..."}`, `{"agents": [...]}`,
//!   `{"authorities": [...]}`) so fields can be added without breaking scripts.
//! - Input is checked before any call (e.g. `--x509-svid-ttl 0`, a selector without `:`): such
//!   usage errors exit with 2. A failed call prints `lanyard-server: <what> : <server message>` to
//!   stderr and exits with 1.
//!
//! [`run`] is what `main` calls; [`execute`] does the same but writes to a `String` instead of
//! stdout, which is what the tests drive.

pub mod agent;
pub mod authority;
pub mod bundle;
mod client;
pub mod entry;
pub mod federation;
pub mod jwt;
pub mod logger;
mod render;
pub mod token;

use std::borrow::Cow;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};

/// Where the CLI looks for the admin socket unless told otherwise (the server's default
/// `socket_path`).
pub const DEFAULT_SOCKET_PATH: &str = "/tmp/lanyard-server/private/api.sock";

/// The admin subcommands of `lanyard-server`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create, change, delete and list registration entries.
    #[command(subcommand)]
    Entry(entry::EntryCmd),
    /// List, show, evict and ban attested agents.
    #[command(subcommand)]
    Agent(agent::AgentCmd),
    /// Generate join tokens for the join_token node attestor.
    #[command(subcommand)]
    Token(token::TokenCmd),
    /// Show the trust bundle; show, list, set and delete foreign trust domains' bundles.
    #[command(subcommand)]
    Bundle(bundle::BundleCmd),
    /// Manage federation relationships with other trust domains.
    #[command(subcommand)]
    Federation(federation::FederationCmd),
    /// Manage this server's signing authorities (manual CA rotation).
    #[command(subcommand)]
    Localauthority(authority::LocalauthorityCmd),
    /// Mint JWT-SVIDs as an operator.
    #[command(subcommand)]
    Jwt(jwt::JwtCmd),
    /// Show or change the running server's log level.
    #[command(subcommand)]
    Logger(logger::LoggerCmd),
    /// Check that the server answers on its admin socket; exit 0 if it does.
    Healthcheck(bundle::HealthcheckArgs),
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// For people.
    Text,
    /// One JSON document, for scripts.
    Json,
}

/// The admin socket to talk to.
#[derive(Debug, Clone, Args)]
pub struct SocketArg {
    /// Path of the server's admin socket.
    #[arg(long, env = "LANYARD_SERVER_SOCKET_PATH", default_value = DEFAULT_SOCKET_PATH)]
    pub socket_path: PathBuf,
}

/// The options every printing command shares.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// The admin socket.
    #[command(flatten)]
    pub socket: SocketArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

/// Why a command failed; `Display` is the line printed after `lanyard-server: `.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The command line is wrong (exit code 2); nothing was sent.
    #[error("{0}")]
    Usage(String),
    /// The socket is missing or nobody accepts on it.
    #[error(
        "cannot reach the admin socket at {path}: is lanyard-server running? (set --socket-path){detail}"
    )]
    Unreachable {
        /// The socket path tried.
        path: PathBuf,
        /// The cause, as `" (cause)"`, or empty.
        detail: String,
    },
    /// The file system refused this user the socket or its directory.
    #[error(
        "permission denied on the admin socket at {path}: the socket and its directory belong to the server's user; run this command as that user (e.g. with sudo -u <server user>)"
    )]
    PermissionDenied {
        /// The socket path tried.
        path: PathBuf,
    },
    /// The server answered with an error.
    #[error("{what} : {message}")]
    Rpc {
        /// What the command was doing, e.g. "create entry".
        what: Cow<'static, str>,
        /// The server's status message (or its code when it gave none).
        message: String,
        /// The status code.
        code: tonic::Code,
    },
    /// The answer could not be shown (e.g. a certificate that does not encode).
    #[error("{what} : {message}")]
    Output {
        /// What the command was doing.
        what: &'static str,
        /// What went wrong.
        message: String,
    },
}

impl CliError {
    /// 2 for usage errors, 1 for everything else.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) => ExitCode::from(2),
            _ => ExitCode::FAILURE,
        }
    }
}

/// Turns a failed call into a [`CliError::Rpc`] labelled `what`.
fn rpc(what: impl Into<Cow<'static, str>>) -> impl FnOnce(tonic::Status) -> CliError {
    move |s| CliError::Rpc {
        what: what.into(),
        message: if s.message().is_empty() {
            format!("{:?}", s.code())
        } else {
            s.message().to_owned()
        },
        code: s.code(),
    }
}

/// Runs `cmd`, appending what it prints to `out`.
pub async fn execute(cmd: AdminCommand, out: &mut String) -> Result<(), CliError> {
    match cmd {
        AdminCommand::Entry(c) => entry::execute(c, out).await,
        AdminCommand::Agent(c) => agent::execute(c, out).await,
        AdminCommand::Token(c) => token::execute(c, out).await,
        AdminCommand::Bundle(c) => bundle::execute(c, out).await,
        AdminCommand::Federation(c) => federation::execute(c, out).await,
        AdminCommand::Localauthority(c) => authority::execute(c, out).await,
        AdminCommand::Jwt(c) => jwt::execute(c, out).await,
        AdminCommand::Logger(c) => logger::execute(c, out).await,
        AdminCommand::Healthcheck(a) => bundle::healthcheck(a, out).await,
    }
}

/// Runs `cmd`: output to stdout, errors to stderr as `lanyard-server: <what> : <message>`.
pub async fn run(cmd: AdminCommand) -> ExitCode {
    let mut out = String::new();
    let result = execute(cmd, &mut out).await;
    print!("{out}");
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lanyard-server: {e}");
            e.exit_code()
        }
    }
}

/// Writes a proto message to `out` as `--output json` prints it: the proto3 JSON mapping with proto
/// field names and every field (see `lanyard_proto`), pretty, newline-terminated. So the JSON is
/// what the admin API carries, and a field added to a message appears here unasked.
fn push_json(out: &mut String, message: &impl serde::Serialize) {
    // The generated serializers fail only on a NaN or infinite `google.protobuf.Value`, which no
    // admin message carries.
    out.push_str(&serde_json::to_string_pretty(message).unwrap_or_default());
    out.push('\n');
}

#[cfg(test)]
pub(crate) mod tests_support {
    use clap::Parser;

    use super::AdminCommand;

    #[derive(Debug, Parser)]
    #[command(name = "lanyard-server")]
    struct Cli {
        #[command(subcommand)]
        cmd: AdminCommand,
    }

    #[test]
    fn command_tree_is_consistent() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
    }

    #[test]
    fn socket_path_defaults_to_the_server_default() {
        let AdminCommand::Healthcheck(a) = parse(&["healthcheck"]) else {
            panic!("not a healthcheck")
        };
        if std::env::var_os("LANYARD_SERVER_SOCKET_PATH").is_none() {
            assert_eq!(
                a.socket.socket_path,
                std::path::Path::new(super::DEFAULT_SOCKET_PATH)
            );
        }
    }

    /// Parses `lanyard-server <args>` as `main` will.
    pub(crate) fn parse(args: &[&str]) -> AdminCommand {
        Cli::try_parse_from(std::iter::once("lanyard-server").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
            .cmd
    }
}
