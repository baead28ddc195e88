//! `lanyard-server`: the trust domain's CA. Thin wiring over the `lanyard_server` library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use lanyard_observe::Shutdown;
use lanyard_server::cli::AdminCommand;
use lanyard_server::config::ServerConfig;
use lanyard_server::run::{RunOptions, run_with};

/// The Lanyard server: the trust domain's certificate authority.
#[derive(Debug, Parser)]
#[command(name = "lanyard-server", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Run(RunArgs),
    /// Validate a server config file and print the effective settings.
    CheckConfig {
        /// Path to server.toml.
        #[arg(long, short = 'c', env = "LANYARD_SERVER_CONFIG")]
        config: PathBuf,
    },
    /// Print the ClusterSPIFFEID CustomResourceDefinition (YAML) for `kubectl apply -f -`.
    K8sCrd,
    #[command(flatten)]
    Admin(AdminCommand),
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Path to server.toml.
    #[arg(long, short = 'c', env = "LANYARD_SERVER_CONFIG")]
    config: PathBuf,
    /// Overrides `socket_path` (admin API Unix socket).
    #[arg(long, env = "LANYARD_SERVER_SOCKET_PATH")]
    socket_path: Option<PathBuf>,
    /// Overrides `bind_address` (agent API).
    #[arg(long, env = "LANYARD_SERVER_BIND_ADDRESS")]
    bind_address: Option<SocketAddr>,
    /// Overrides `data_dir`.
    #[arg(long, env = "LANYARD_SERVER_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Overrides `[datastore] url`.
    #[arg(long, env = "LANYARD_DATASTORE_URL")]
    datastore_url: Option<String>,
    /// Overrides `[health] bind_address`.
    #[arg(long, env = "LANYARD_SERVER_HEALTH_ADDRESS")]
    health_address: Option<SocketAddr>,
    /// Overrides `log_level`.
    #[arg(long, env = "LANYARD_LOG_LEVEL")]
    log_level: Option<String>,
    /// Disaster recovery, once: when files of this server's CA keys are lost for good (the
    /// start fails naming them), retire those authorities (they leave the trust bundle) and
    /// create new ones. Every agent must then be given the new bundle and attest again; the log
    /// says how. Without lost files it changes nothing. Deliberately not settable from the
    /// environment or server.toml, so that it cannot stay on by accident.
    #[arg(long)]
    force_new_ca: bool,
}

fn load(args: RunArgs) -> Result<(ServerConfig, RunOptions), String> {
    let options = RunOptions {
        force_new_ca: args.force_new_ca,
    };
    let mut c = ServerConfig::load(&args.config).map_err(|e| e.to_string())?;
    if let Some(v) = args.socket_path {
        c.socket_path = v;
    }
    if let Some(v) = args.bind_address {
        c.bind_address = v;
    }
    if let Some(v) = args.data_dir {
        c.data_dir = v;
    }
    if let Some(v) = args.datastore_url {
        c.datastore.url = Some(v);
    }
    if let Some(v) = args.health_address {
        c.health.bind_address = v;
    }
    if let Some(v) = args.log_level {
        c.log_level = v;
    }
    c.validate().map_err(|e| e.to_string())?;
    Ok((c, options))
}

async fn serve(args: RunArgs) -> ExitCode {
    let (config, options) = match load(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("lanyard-server: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = lanyard_observe::init_logging(&config.log_level, config.log_format) {
        eprintln!("lanyard-server: {e}");
        return ExitCode::from(2);
    }
    match lanyard_observe::raise_open_files_limit() {
        Ok(limit) => tracing::debug!(soft = limit.soft, "open-files limit"),
        Err(e) => tracing::warn!(error = %e, "keeping the open-files limit as it is"),
    }
    match run_with(config, options, Shutdown::on_signals()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lanyard-server: {e}");
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Run(args) => serve(args).await,
        Command::CheckConfig { config } => match ServerConfig::load(&config) {
            Ok(c) => {
                println!("{c:#?}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("lanyard-server: {e}");
                ExitCode::from(2)
            }
        },
        Command::K8sCrd => {
            use lanyard_server::k8s::crd::{CRD_FILE_HEADER, crd_yaml};
            print!("{CRD_FILE_HEADER}{}", crd_yaml());
            ExitCode::SUCCESS
        }
        Command::Admin(cmd) => lanyard_server::cli::run(cmd).await,
    }
}
