//! `lanyard-agent`: the per-node agent. Thin wiring over the `lanyard_agent` library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use lanyard_agent::cli::ApiCommand;
use lanyard_agent::config::AgentConfig;
use lanyard_observe::Shutdown;

/// The Lanyard agent: attests this node and serves the SPIFFE Workload API.
#[derive(Debug, Parser)]
#[command(name = "lanyard-agent", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the agent.
    Run(RunArgs),
    /// Talk to a running agent over the Workload API, as a workload would.
    #[command(subcommand)]
    Api(ApiCommand),
    /// Check that the agent answers on its Workload API socket; exit 0 if it does.
    Healthcheck {
        /// The Workload API socket (default: $SPIFFE_ENDPOINT_SOCKET, else
        /// /run/lanyard-agent/public/api.sock).
        #[arg(long)]
        socket_path: Option<String>,
    },
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Path to agent.toml.
    #[arg(long, short = 'c', env = "LANYARD_AGENT_CONFIG")]
    config: PathBuf,
    /// Join token for the first attestation (`lanyard-server token generate`).
    #[arg(long, env = "LANYARD_JOIN_TOKEN")]
    join_token: Option<String>,
    /// Overrides `socket_path`.
    #[arg(long)]
    socket_path: Option<PathBuf>,
    /// Overrides `server_address`.
    #[arg(long)]
    server_address: Option<String>,
    /// Overrides `data_dir`.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Overrides `[health] bind_address`.
    #[arg(long)]
    health_address: Option<std::net::SocketAddr>,
}

fn load(args: &RunArgs) -> Result<AgentConfig, String> {
    let mut c = AgentConfig::load(&args.config).map_err(|e| e.to_string())?;
    if let Some(v) = &args.socket_path {
        c.socket_path = v.clone();
    }
    if let Some(v) = &args.server_address {
        c.server_address = v.clone();
    }
    if let Some(v) = &args.data_dir {
        c.data_dir = v.clone();
    }
    if let Some(v) = args.health_address {
        c.health.bind_address = v;
    }
    c.validate().map_err(|e| e.to_string())?;
    Ok(c)
}

async fn run(args: RunArgs) -> ExitCode {
    let config = match load(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("lanyard-agent: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = lanyard_observe::init_logging(&config.log_level, config.log_format) {
        eprintln!("lanyard-agent: {e}");
        return ExitCode::from(2);
    }
    match lanyard_observe::raise_open_files_limit() {
        Ok(limit) => tracing::debug!(soft = limit.soft, "open-files limit"),
        Err(e) => tracing::warn!(error = %e, "keeping the open-files limit as it is"),
    }
    match lanyard_agent::run::run(config, args.join_token, Shutdown::on_signals()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lanyard-agent: {e}");
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Run(args) => run(args).await,
        Command::Api(cmd) => lanyard_agent::cli::run_api(cmd).await,
        Command::Healthcheck { socket_path } => {
            lanyard_agent::cli::healthcheck(socket_path.as_deref()).await
        }
    }
}
