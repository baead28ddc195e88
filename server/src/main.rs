//! `lanyard-server`: the trust domain's CA. Thin wiring over the `lanyard_server` library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use lanyard_server::config::ServerConfig;

/// The Lanyard server: the trust domain's certificate authority.
#[derive(Debug, Parser)]
#[command(name = "lanyard-server", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate a server config file and print the effective settings.
    CheckConfig {
        /// Path to server.toml.
        #[arg(long, short = 'c', env = "LANYARD_SERVER_CONFIG")]
        config: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
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
    }
}
