//! Reading the few `/proc/<pid>` facts the Workload API needs: the process start time and state
//! (`stat`, for the PID-reuse defence without a pidfd) and its state, ids and groups (`status`,
//! for the unix attestor and the PID-reuse defence).
//!
//! Every error names the pid and the file that failed, so an operator reading a denial in the log
//! knows where to look (proc(5) describes both files).

use std::path::PathBuf;

/// A `/proc` file that could not be read or parsed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcError {
    /// The file could not be read (most often: the process has exited).
    #[error("pid {pid}: cannot read {}: {source}", file.display())]
    Read {
        /// The process.
        pid: i32,
        /// The file.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file did not have the expected shape.
    #[error("pid {pid}: malformed {}: {reason}", file.display())]
    Malformed {
        /// The process.
        pid: i32,
        /// The file.
        file: PathBuf,
        /// What was wrong.
        reason: String,
    },
}

/// The path of `/proc/<pid>/<name>`.
pub(crate) fn proc_file(pid: i32, name: &str) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}/{name}"))
}

/// What `/proc/<pid>/stat` says that we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProcStat {
    /// Field 3, the state letter (`R`, `S`, `Z` for a zombie, `X` for dead, ...).
    pub(crate) state: char,
    /// Field 22, `starttime`: clock ticks after boot. Together with the pid it names one process
    /// for the lifetime of the system.
    pub(crate) start_time: u64,
}

impl ProcStat {
    /// Whether the process has exited (a zombie still has a `/proc` entry).
    pub(crate) fn has_exited(&self) -> bool {
        matches!(self.state, 'Z' | 'X' | 'x')
    }
}

/// Reads `/proc/<pid>/stat`.
pub(crate) fn read_stat(pid: i32) -> Result<ProcStat, ProcError> {
    let file = proc_file(pid, "stat");
    let text = std::fs::read_to_string(&file).map_err(|source| ProcError::Read {
        pid,
        file: file.clone(),
        source,
    })?;
    parse_stat(&text).map_err(|reason| ProcError::Malformed { pid, file, reason })
}

/// Parses the text of `/proc/<pid>/stat`. Field 2 (`comm`) is in parentheses and may itself
/// contain spaces and parentheses, so the fields are counted from the *last* `)`.
fn parse_stat(text: &str) -> Result<ProcStat, String> {
    let close = text.rfind(')').ok_or("no ')' after comm")?;
    // After comm: field 3 (state) is the first, so field n is at index n - 3.
    let fields: Vec<&str> = text[close + 1..].split_whitespace().collect();
    let state = fields
        .first()
        .and_then(|s| s.chars().next())
        .ok_or("no state field")?;
    let start_time = fields
        .get(22 - 3)
        .ok_or("no starttime field (22)")?
        .parse()
        .map_err(|e| format!("starttime: {e}"))?;
    Ok(ProcStat { state, start_time })
}

/// What `/proc/<pid>/status` says that we use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProcStatus {
    /// `State:` the state letter, as in `stat` field 3.
    pub(crate) state: char,
    /// `Uid:` real, effective, saved set, filesystem.
    pub(crate) uids: [u32; 4],
    /// `Gid:` real, effective, saved set, filesystem.
    pub(crate) gids: [u32; 4],
    /// `Groups:` the supplementary group ids.
    pub(crate) groups: Vec<u32>,
}

impl ProcStatus {
    /// Whether the process has exited (a zombie still has a `/proc` entry).
    pub(crate) fn has_exited(&self) -> bool {
        matches!(self.state, 'Z' | 'X' | 'x')
    }

    /// The effective uid (what the kernel checks permissions against, and what SPIRE's unix
    /// attestor reports).
    pub(crate) fn effective_uid(&self) -> u32 {
        self.uids[1]
    }

    /// The effective gid.
    pub(crate) fn effective_gid(&self) -> u32 {
        self.gids[1]
    }
}

/// Reads `/proc/<pid>/status`.
pub(crate) fn read_status(pid: i32) -> Result<ProcStatus, ProcError> {
    let file = proc_file(pid, "status");
    let text = std::fs::read_to_string(&file).map_err(|source| ProcError::Read {
        pid,
        file: file.clone(),
        source,
    })?;
    parse_status(&text).map_err(|reason| ProcError::Malformed { pid, file, reason })
}

/// Parses the text of `/proc/<pid>/status`.
fn parse_status(text: &str) -> Result<ProcStatus, String> {
    let mut state = None;
    let mut uids = None;
    let mut gids = None;
    let mut groups = None;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        match key {
            // `State:\tS (sleeping)`
            "State" => state = value.trim_start().chars().next(),
            "Uid" => uids = Some(four_ids(key, value)?),
            "Gid" => gids = Some(four_ids(key, value)?),
            "Groups" => groups = Some(ids(key, value)?),
            _ => {}
        }
    }
    Ok(ProcStatus {
        state: state.ok_or("no State line")?,
        uids: uids.ok_or("no Uid line")?,
        gids: gids.ok_or("no Gid line")?,
        groups: groups.ok_or("no Groups line")?,
    })
}

fn ids(key: &str, value: &str) -> Result<Vec<u32>, String> {
    value
        .split_whitespace()
        .map(|v| v.parse().map_err(|e| format!("{key}: {v:?}: {e}")))
        .collect()
}

fn four_ids(key: &str, value: &str) -> Result<[u32; 4], String> {
    ids(key, value)?
        .try_into()
        .map_err(|v: Vec<u32>| format!("{key}: expected 4 ids, found {}", v.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_from_the_last_paren() {
        let fields_4_to_21 = (4..=21)
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(" ");
        let text = format!("42 (a) b (c) S {fields_4_to_21} 987654 23 24\n");
        let stat = parse_stat(&text).unwrap();
        assert_eq!(stat.state, 'S');
        assert_eq!(stat.start_time, 987_654);
        assert!(!stat.has_exited());
        assert!(parse_stat("42 (x) S 1 2").is_err());
    }

    #[test]
    fn status_ids_and_groups() {
        let text = "Name:\tx\nState:\tS (sleeping)\nUid:\t1000\t1001\t1002\t1003\nGid:\t50\t51\t52\t53\nGroups:\t4 27 \n";
        let status = parse_status(text).unwrap();
        assert_eq!(status.state, 'S');
        assert!(!status.has_exited());
        assert_eq!(status.effective_uid(), 1001);
        assert_eq!(status.effective_gid(), 51);
        assert_eq!(status.groups, vec![4, 27]);
        assert!(parse_status("State:\tR\nUid:\t1 2\nGid:\t1 1 1 1\nGroups:\n").is_err());
        assert!(parse_status("Uid:\t0 0 0 0\nGid:\t0 0 0 0\nGroups:\n").is_err());
        assert!(
            parse_status("State:\tZ (zombie)\nUid:\t0 0 0 0\nGid:\t0 0 0 0\nGroups:\n")
                .unwrap()
                .has_exited()
        );
        assert_eq!(
            parse_status("State:\tR (running)\nUid:\t0 0 0 0\nGid:\t0 0 0 0\nGroups:\n")
                .unwrap()
                .groups,
            Vec::<u32>::new()
        );
    }

    #[test]
    fn own_process_is_readable_and_running() {
        let pid = i32::try_from(std::process::id()).unwrap();
        let stat = read_stat(pid).unwrap();
        assert!(!stat.has_exited());
        let status = read_status(pid).unwrap();
        assert_eq!(status.effective_uid(), nix::unistd::geteuid().as_raw());
        let err = read_stat(i32::MAX).unwrap_err().to_string();
        assert!(err.contains(&format!("/proc/{}/stat", i32::MAX)), "{err}");
    }
}
