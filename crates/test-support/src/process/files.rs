//! The config files and paths of a server or an agent whose files all live in one directory.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The trust domain of [`ServerFiles::write`] and [`AgentFiles::write`].
pub const DEFAULT_TRUST_DOMAIN: &str = "example.org";

/// The files of a `lanyard-server run` in one directory: `server.toml` (trust domain
/// `example.org` unless [`ServerFiles::write_for`] names another, agent API and health endpoint
/// on 127.0.0.1:0, `log_level = "info"`), the `data/` directory, the admin socket
/// `admin/api.sock` and the log `server.log`.
#[derive(Debug, Clone)]
pub struct ServerFiles {
    /// `server.toml`.
    pub config: PathBuf,
    /// The admin socket.
    pub socket: PathBuf,
    /// The data_dir (SQLite datastore, CA keys).
    pub data_dir: PathBuf,
    /// Where stderr goes.
    pub log: PathBuf,
}

impl ServerFiles {
    /// Writes `dir/server.toml` for trust domain [`DEFAULT_TRUST_DOMAIN`], with `extra` after
    /// the top-level keys (so it may set top-level keys, then tables).
    pub fn write(dir: &Path, extra: &str) -> std::io::Result<ServerFiles> {
        ServerFiles::write_for(dir, DEFAULT_TRUST_DOMAIN, extra)
    }

    /// [`ServerFiles::write`] for a server of `trust_domain` (a bare name, `pay.example`), as
    /// two servers of two trust domains federating on one machine need.
    pub fn write_for(dir: &Path, trust_domain: &str, extra: &str) -> std::io::Result<ServerFiles> {
        let files = ServerFiles {
            config: dir.join("server.toml"),
            socket: dir.join("admin").join("api.sock"),
            data_dir: dir.join("data"),
            log: dir.join("server.log"),
        };
        let config = config_toml(
            trust_domain,
            &[
                ("data_dir", quoted(files.data_dir.display())),
                ("bind_address", quoted("127.0.0.1:0")),
                ("socket_path", quoted(files.socket.display())),
            ],
            extra,
        );
        std::fs::write(&files.config, config)?;
        Ok(files)
    }
}

/// The files of a `lanyard-agent run` in one directory: `agent.toml` (trust domain
/// `example.org` unless [`AgentFiles::write_in`] names another, health endpoint on 127.0.0.1:0,
/// `log_level = "info"`), the trust bundle `bundle.pem`, the `data/` directory, the Workload API
/// socket `public/api.sock`, the admin socket `admin/api.sock` (set as the dotted key
/// `admin.socket_path`, so `extra` must not open an `[admin]` table) and the log `agent.log`.
#[derive(Debug, Clone)]
pub struct AgentFiles {
    /// `agent.toml`.
    pub config: PathBuf,
    /// The Workload API socket.
    pub socket: PathBuf,
    /// The admin socket (`lanyard-agent logger ...`).
    pub admin_socket: PathBuf,
    /// The data_dir (SVID, key, bundle).
    pub data_dir: PathBuf,
    /// The trust bundle file the config names (`trust_bundle_path`).
    pub bundle: PathBuf,
    /// Where stderr goes.
    pub log: PathBuf,
}

impl AgentFiles {
    /// Writes `dir/bundle.pem` (`bundle_pem`, as `bundle show --format pem` prints it) and
    /// `dir/agent.toml` for an agent of the server at `server`, with `extra` after the
    /// top-level keys (so it may set top-level keys, then tables).
    pub fn write(
        dir: &Path,
        server: SocketAddr,
        bundle_pem: &str,
        extra: &str,
    ) -> std::io::Result<AgentFiles> {
        AgentFiles::write_for(dir, &[server.to_string()], bundle_pem, extra)
    }

    /// [`AgentFiles::write`] for an agent of several servers: `server_address` is the one
    /// `host:port` of `servers`, or the TOML array of them.
    pub fn write_for(
        dir: &Path,
        servers: &[String],
        bundle_pem: &str,
        extra: &str,
    ) -> std::io::Result<AgentFiles> {
        AgentFiles::write_in(dir, DEFAULT_TRUST_DOMAIN, servers, bundle_pem, extra)
    }

    /// [`AgentFiles::write_for`] for an agent of `trust_domain` (a bare name, the trust domain
    /// of its servers).
    pub fn write_in(
        dir: &Path,
        trust_domain: &str,
        servers: &[String],
        bundle_pem: &str,
        extra: &str,
    ) -> std::io::Result<AgentFiles> {
        let server_address = match servers {
            [one] => quoted(one),
            several => format!(
                "[{}]",
                several.iter().map(quoted).collect::<Vec<_>>().join(", ")
            ),
        };
        let files = AgentFiles {
            config: dir.join("agent.toml"),
            socket: dir.join("public").join("api.sock"),
            admin_socket: dir.join("admin").join("api.sock"),
            data_dir: dir.join("data"),
            bundle: dir.join("bundle.pem"),
            log: dir.join("agent.log"),
        };
        std::fs::write(&files.bundle, bundle_pem)?;
        let config = config_toml(
            trust_domain,
            &[
                ("server_address", server_address),
                ("data_dir", quoted(files.data_dir.display())),
                ("socket_path", quoted(files.socket.display())),
                ("trust_bundle_path", quoted(files.bundle.display())),
                ("admin.socket_path", quoted(files.admin_socket.display())),
            ],
            extra,
        );
        std::fs::write(&files.config, config)?;
        Ok(files)
    }
}

/// `value` as a TOML string (the paths and addresses here hold no quote or backslash).
fn quoted(value: impl std::fmt::Display) -> String {
    format!("\"{value}\"")
}

/// A config file: `trust_domain`, the `keys` (TOML values), `log_level = "info"`, `extra`,
/// then the health endpoint on 127.0.0.1:0.
fn config_toml(trust_domain: &str, keys: &[(&str, String)], extra: &str) -> String {
    let mut toml = format!("trust_domain = {}\n", quoted(trust_domain));
    for (key, value) in keys {
        toml.push_str(&format!("{key} = {value}\n"));
    }
    toml.push_str("log_level = \"info\"\n");
    toml.push_str(extra);
    toml.push_str("\n\n[health]\nbind_address = \"127.0.0.1:0\"\n");
    toml
}
