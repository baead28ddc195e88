//! The `unix` workload attestor: selectors from the caller's process credentials and, when
//! enabled, its executable.
//!
//! Selectors (kind `unix`), as SPIRE's `unix` plugin derives them:
//! - `uid:<n>`, `gid:<n>`: the *effective* ids from `/proc/<pid>/status` (SPIRE takes the second
//!   value of the `Uid`/`Gid` lines), `user:<name>`, `group:<name>` when the names resolve;
//! - `supplementary_gid:<n>` (and `supplementary_group:<name>`) per `Groups` entry;
//! - with `discover_workload_path`: `path:<exe>` (the `/proc/<pid>/exe` link) and
//!   `sha256:<hex>` of the executable. The hash reads `/proc/<pid>/exe` itself, i.e. the file the
//!   process is running even if the path has since been replaced; digests are cached by file
//!   identity and computed once however many callers ask at once ([`super::digest`]).

use std::sync::Arc;

use nix::unistd::{Gid, Group, Uid, User};

use super::digest::{DigestCache, OpenedExe};
use super::{AttestError, WorkloadAttestor};
use crate::store::Selector;
use crate::workload::PeerCred;
use crate::workload::procfs::{self, ProcError, proc_file};

/// Configuration of [`UnixAttestor`].
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UnixAttestorConfig {
    /// Also derive `unix:path` and `unix:sha256` from the caller's executable. Needs the agent to
    /// be allowed to read other users' `/proc/<pid>/exe` (root or `CAP_SYS_PTRACE`).
    pub discover_workload_path: bool,
    /// Executables larger than this many bytes get no `unix:sha256` selector (a warning is
    /// logged instead); 0 means no limit.
    pub workload_size_limit: u64,
}

/// The built-in `unix` workload attestor. Clones share the digest cache.
#[derive(Debug, Clone, Default)]
pub struct UnixAttestor {
    config: UnixAttestorConfig,
    digests: Arc<DigestCache>,
}

impl UnixAttestor {
    /// An attestor with `config`.
    pub fn new(config: UnixAttestorConfig) -> UnixAttestor {
        UnixAttestor {
            config,
            digests: Arc::default(),
        }
    }

    /// The selectors of `pid` but the digest, read synchronously, and the executable opened
    /// for the digest when there is one to take.
    fn read_blocking(&self, pid: i32) -> Result<(Vec<Selector>, Option<OpenedExe>), AttestError> {
        let status = procfs::read_status(pid)?;
        let mut selectors = Vec::new();
        let mut push = |kind: &str, value: String| {
            selectors.push(Selector::new("unix", format!("{kind}:{value}")));
        };

        let uid = status.effective_uid();
        push("uid", uid.to_string());
        if let Some(name) = user_name(uid) {
            push("user", name);
        }
        let gid = status.effective_gid();
        push("gid", gid.to_string());
        if let Some(name) = group_name(gid) {
            push("group", name);
        }
        for &group in &status.groups {
            push("supplementary_gid", group.to_string());
            if let Some(name) = group_name(group) {
                push("supplementary_group", name);
            }
        }

        if self.config.discover_workload_path {
            let exe = proc_file(pid, "exe");
            let path = std::fs::read_link(&exe).map_err(|source| ProcError::Read {
                pid,
                file: exe.clone(),
                source,
            })?;
            push("path", path.to_string_lossy().into_owned());
            let opened = OpenedExe::open(pid, exe)?;
            let limit = self.config.workload_size_limit;
            if limit > 0 && opened.size() > limit {
                tracing::warn!(
                    pid,
                    file = %opened.path().display(),
                    size = opened.size(),
                    limit,
                    "workload executable exceeds workload_size_limit; no unix:sha256 selector"
                );
            } else {
                return Ok((selectors, Some(opened)));
            }
        }
        Ok((selectors, None))
    }
}

#[tonic::async_trait]
impl WorkloadAttestor for UnixAttestor {
    async fn attest(&self, peer: &PeerCred) -> Result<Vec<Selector>, AttestError> {
        let this = self.clone();
        let pid = peer.pid;
        let (mut selectors, exe) = tokio::task::spawn_blocking(move || this.read_blocking(pid))
            .await
            .map_err(|e| AttestError::Task {
                pid,
                reason: e.to_string(),
            })??;
        if let Some(exe) = exe {
            let digest = self.digests.digest(exe).await?;
            selectors.push(Selector::new("unix", format!("sha256:{digest}")));
        }
        Ok(selectors)
    }
}

fn user_name(uid: u32) -> Option<String> {
    match User::from_uid(Uid::from_raw(uid)) {
        Ok(user) => user.map(|u| u.name),
        Err(e) => {
            tracing::debug!(uid, error = %e, "user name lookup failed");
            None
        }
    }
}

fn group_name(gid: u32) -> Option<String> {
    match Group::from_gid(Gid::from_raw(gid)) {
        Ok(group) => group.map(|g| g.name),
        Err(e) => {
            tracing::debug!(gid, error = %e, "group name lookup failed");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own_pid() -> i32 {
        i32::try_from(std::process::id()).unwrap()
    }

    fn has(selectors: &[Selector], value: &str) -> bool {
        selectors.contains(&Selector::new("unix", value))
    }

    #[tokio::test]
    async fn own_process_gets_ids_names_path_and_digest() {
        let attestor = UnixAttestor::new(UnixAttestorConfig {
            discover_workload_path: true,
            workload_size_limit: 0,
        });
        let cred = PeerCred {
            pid: own_pid(),
            uid: 0,
            gid: 0,
        };
        let selectors = attestor.attest(&cred).await.unwrap();
        let uid = nix::unistd::geteuid();
        let gid = nix::unistd::getegid();
        assert!(has(&selectors, &format!("uid:{uid}")), "{selectors:?}");
        assert!(has(&selectors, &format!("gid:{gid}")), "{selectors:?}");
        if let Ok(Some(user)) = User::from_uid(uid) {
            assert!(has(&selectors, &format!("user:{}", user.name)));
        }
        for group in nix::unistd::getgroups().unwrap() {
            assert!(has(&selectors, &format!("supplementary_gid:{group}")));
        }

        let exe = std::env::current_exe().unwrap();
        assert!(
            has(&selectors, &format!("path:{}", exe.display())),
            "{selectors:?}"
        );
        let digest = ring::digest::digest(&ring::digest::SHA256, &std::fs::read(&exe).unwrap());
        assert!(has(&selectors, &format!("sha256:{}", hex::encode(digest))));
    }

    #[tokio::test]
    async fn path_selectors_are_off_by_default_and_the_size_limit_skips_the_digest() {
        let cred = PeerCred {
            pid: own_pid(),
            uid: 0,
            gid: 0,
        };
        let plain = UnixAttestor::default().attest(&cred).await.unwrap();
        assert!(!plain.iter().any(|s| s.value.starts_with("path:")));

        let limited = UnixAttestor::new(UnixAttestorConfig {
            discover_workload_path: true,
            workload_size_limit: 1,
        })
        .attest(&cred)
        .await
        .unwrap();
        assert!(limited.iter().any(|s| s.value.starts_with("path:")));
        assert!(!limited.iter().any(|s| s.value.starts_with("sha256:")));
    }

    #[tokio::test]
    async fn a_missing_process_is_an_error_naming_pid_and_file() {
        let cred = PeerCred {
            pid: i32::MAX,
            uid: 0,
            gid: 0,
        };
        let err = UnixAttestor::default().attest(&cred).await.unwrap_err();
        let message = err.to_string();
        assert!(message.contains(&format!("pid {}", i32::MAX)), "{message}");
        assert!(message.contains("/status"), "{message}");
    }
}
