//! `lanyard-server`: the trust domain's CA. Thin wiring over the `lanyard_server` library.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use lanyard_config::ConfigArgs;
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
    /// Validate a server config file and print the effective settings (the file's, with the
    /// flags and environment variables `run` takes over it); refuses a variable of the binary's
    /// prefix that names no key.
    CheckConfig(ConfigArgs<ServerConfig>),
    /// Print the ClusterSPIFFEID CustomResourceDefinition (YAML) for `kubectl apply -f -`.
    K8sCrd,
    #[command(flatten)]
    Admin(Box<AdminCommand>),
}

#[derive(Debug, Args)]
struct RunArgs {
    /// `--config` and the flags (and variables) over its keys.
    #[command(flatten)]
    config: ConfigArgs<ServerConfig>,
    /// Disaster recovery, once: when files of this server's CA keys are lost for good (the
    /// start fails naming them), retire those authorities (they leave the trust bundle) and
    /// create new ones. Every agent must then be given the new bundle and attest again; the log
    /// says how. Without lost files it changes nothing. Deliberately not settable from the
    /// environment or server.toml, so that it cannot stay on by accident.
    #[arg(long)]
    force_new_ca: bool,
}

async fn serve(args: RunArgs) -> ExitCode {
    let options = RunOptions {
        force_new_ca: args.force_new_ca,
    };
    let config = match args.config.load() {
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
    for name in args.config.overrides.unknown_variables() {
        tracing::warn!(
            variable = %name,
            "this variable names no config key, so it changes nothing: check its spelling \
             (`lanyard-server check-config` refuses it and names the nearest variable) or unset it"
        );
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
        Command::CheckConfig(args) => match args.load_strict() {
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
        Command::Admin(cmd) => lanyard_server::cli::run(*cmd).await,
    }
}
