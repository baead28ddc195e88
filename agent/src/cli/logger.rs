//! `lanyard-agent logger show|set|reset`: the running agent's log filter, changed without a
//! restart, over the agent's admin socket (not the Workload API's).

use std::path::PathBuf;
use std::process::ExitCode;

use lanyard_admin::{ConnectError, LoggerCommand, render_logger};

use super::OutputFormat;
use crate::config::DEFAULT_ADMIN_SOCKET_PATH;

/// `logger ...`.
#[derive(Debug, clap::Subcommand)]
pub enum LoggerCmd {
    /// Show the log filter in effect and the one the agent started with.
    Show(AdminArgs),
    /// Change the log filter now, until `logger reset` or a restart (agent.toml is not changed).
    Set {
        /// The admin socket and the output format.
        #[command(flatten)]
        admin: AdminArgs,
        /// A level (trace, debug, info, warn, error, off) or `target=level` directives, e.g.
        /// "lanyard_agent=debug,info".
        #[arg(long)]
        level: String,
    },
    /// Return to the log filter the agent started with (its log_level, or RUST_LOG).
    Reset(AdminArgs),
}

/// The admin socket and the output format.
#[derive(Debug, clap::Args)]
pub struct AdminArgs {
    /// The agent's admin socket (`[admin] socket_path`).
    #[arg(long, env = "LANYARD_AGENT_ADMIN_SOCKET_PATH", default_value = DEFAULT_ADMIN_SOCKET_PATH)]
    pub socket_path: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// Runs a `logger` command: the answer to stdout, an error to stderr (exit 1).
pub async fn run_logger(cmd: LoggerCmd) -> ExitCode {
    let (admin, command) = match cmd {
        LoggerCmd::Show(a) => (a, LoggerCommand::Show),
        LoggerCmd::Set { admin, level } => (admin, LoggerCommand::Set(level)),
        LoggerCmd::Reset(a) => (a, LoggerCommand::Reset),
    };
    let result = async {
        let channel = lanyard_admin::connect(&admin.socket_path)
            .await
            .map_err(|e| match e {
                ConnectError::PermissionDenied { .. } => format!(
                    "{e}: the socket and its directory belong to the agent's user; run this \
                     command as that user or root"
                ),
                e => format!("{e}: is lanyard-agent running? (set --socket-path)"),
            })?;
        command
            .to_agent(channel)
            .await
            .map_err(|s| format!("{} : {}", command.what(), s.message()))
    }
    .await;
    match result {
        Ok(logger) => {
            print!(
                "{}",
                render_logger(&logger, admin.output == OutputFormat::Json)
            );
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("lanyard-agent: {message}");
            ExitCode::FAILURE
        }
    }
}
