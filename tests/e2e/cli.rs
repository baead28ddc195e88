//! Running `lanyard-server` commands and reading what they printed.

use std::process::{ExitStatus, Stdio};

use serde_json::Value;

use crate::harness::{PATIENCE, SERVER_ENV, bin};

/// What an admin command did.
#[derive(Debug)]
pub(crate) struct CliOutput {
    /// `lanyard-server <args>`, for messages.
    pub(crate) command: String,
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl CliOutput {
    /// Panics with everything the command printed unless it succeeded.
    pub(crate) fn ok(self) -> Self {
        assert!(self.status.success(), "{self}");
        self
    }

    /// Panics unless the command failed with `code`.
    pub(crate) fn failed_with(self, code: i32) -> Self {
        assert_eq!(self.status.code(), Some(code), "{self}");
        self
    }

    /// The JSON document the command printed (it must have succeeded).
    pub(crate) fn json(self) -> Value {
        let out = self.ok();
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{out}\nnot JSON: {e}"))
    }
}

impl std::fmt::Display for CliOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` exited with {}\n--- stdout\n{}--- stderr\n{}",
            self.command, self.status, self.stdout, self.stderr
        )
    }
}

/// Runs `lanyard-server <args>` (no extra flags), killed if it outlives [`PATIENCE`].
pub(crate) async fn lanyard_server(args: &[&str]) -> CliOutput {
    let mut cmd = tokio::process::Command::new(bin("lanyard-server"));
    cmd.args(args).kill_on_drop(true).stdin(Stdio::null());
    for v in SERVER_ENV {
        cmd.env_remove(v);
    }
    let command = format!("lanyard-server {}", args.join(" "));
    let out = tokio::time::timeout(PATIENCE, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("`{command}` still running after {PATIENCE:?}"))
        .unwrap_or_else(|e| panic!("`{command}`: {e}"));
    CliOutput {
        command,
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
