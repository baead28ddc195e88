//! `lanyard-agent`: the per-node agent. Thin wiring over the `lanyard_agent` library.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use lanyard_agent::cli::ApiCommand;
use lanyard_agent::config::AgentConfig;
use lanyard_config::ConfigArgs;
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
    /// Validate an agent config file and print the effective settings (the file's, with the
    /// flags and environment variables `run` takes over it); refuses a variable of the binary's
    /// prefix that names no key.
    CheckConfig(ConfigArgs<AgentConfig>),
    /// Talk to a running agent over the Workload API, as a workload would.
    #[command(subcommand)]
    Api(ApiCommand),
    /// Show or change the running agent's log level (over its admin socket).
    #[command(subcommand)]
    Logger(lanyard_agent::cli::logger::LoggerCmd),
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
    /// `--config` and the flags (and variables) over its keys.
    #[command(flatten)]
    config: ConfigArgs<AgentConfig>,
    /// Join token for the first attestation (`lanyard-server token generate`).
    #[arg(long, env = "LANYARD_JOIN_TOKEN")]
    join_token: Option<String>,
}

async fn run(args: RunArgs) -> ExitCode {
    let config = match args.config.load() {
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
    for name in args.config.overrides.unknown_variables() {
        tracing::warn!(
            variable = %name,
            "this variable names no config key, so it changes nothing: check its spelling \
             (`lanyard-agent check-config` refuses it and names the nearest variable) or unset it"
        );
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
        Command::CheckConfig(args) => match args.load_strict() {
            Ok(c) => {
                println!("{c:#?}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("lanyard-agent: {e}");
                ExitCode::from(2)
            }
        },
        Command::Api(cmd) => lanyard_agent::cli::run_api(cmd).await,
        Command::Logger(cmd) => lanyard_agent::cli::logger::run_logger(cmd).await,
        Command::Healthcheck { socket_path } => {
            lanyard_agent::cli::healthcheck(socket_path.as_deref()).await
        }
    }
}
