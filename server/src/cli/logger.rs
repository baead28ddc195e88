//! `lanyard-server logger show|set|reset`: the running server's log filter, changed without a
//! restart (the admin API's `Logger` service).

use clap::{Args, Subcommand};
use lanyard_admin::{LoggerCommand, render_logger};

use super::{CliError, Common, Output, client, rpc};

/// `logger ...`.
#[derive(Debug, Subcommand)]
pub enum LoggerCmd {
    /// Show the log filter in effect and the one the server started with.
    Show(Common),
    /// Change the log filter now, until `logger reset` or a restart (server.toml is not changed).
    Set(SetArgs),
    /// Return to the log filter the server started with (its log_level, or RUST_LOG).
    Reset(Common),
}

/// `logger set`.
#[derive(Debug, Args)]
pub struct SetArgs {
    #[command(flatten)]
    pub(super) common: Common,
    /// A level (trace, debug, info, warn, error, off) or `target=level` directives, e.g.
    /// "lanyard_server=debug,info".
    #[arg(long)]
    pub level: String,
}

pub(super) async fn execute(cmd: LoggerCmd, out: &mut String) -> Result<(), CliError> {
    let (common, command) = match cmd {
        LoggerCmd::Show(c) => (c, LoggerCommand::Show),
        LoggerCmd::Set(a) => (a.common, LoggerCommand::Set(a.level)),
        LoggerCmd::Reset(c) => (c, LoggerCommand::Reset),
    };
    let channel = client::connect(&common.socket.socket_path).await?;
    let logger = command
        .to_server(channel)
        .await
        .map_err(rpc(command.what()))?;
    out.push_str(&render_logger(&logger, common.output == Output::Json));
    Ok(())
}
