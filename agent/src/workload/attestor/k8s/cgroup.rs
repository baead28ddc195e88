//! From a pid to the Kubernetes pod and container it runs in, read from `/proc/<pid>/cgroup`.
//!
//! The kernel writes that file (cgroups(7): one `hierarchy-ID:controller-list:cgroup-path` line
//! per hierarchy; cgroup v2 has the single line `0::<path>`), so a workload cannot forge it the way
//! it could its mount table. The kubelet and the container runtime name the cgroups:
//!
//! | driver | pod cgroup | container cgroup |
//! |---|---|---|
//! | cgroupfs | `/kubepods/[burstable\|besteffort/]pod<uid>` | `<id>` (containerd, Docker), `crio-<id>` |
//! | systemd | `kubepods[-burstable\|-besteffort]-pod<uid with _>.slice` | `cri-containerd-<id>.scope`, `crio-<id>.scope`, `docker-<id>.scope` |
//!
//! Guaranteed pods have no QoS segment. systemd forbids `-` inside a unit name's parts, so the
//! kubelet writes the pod UID with `_` there; we turn it back into the UID the API shows. The same
//! names may sit below other cgroups (kind's `/kubelet.slice/kubelet-kubepods...`, k3d's
//! `/system.slice/docker-<node>.scope/kubepods/...`, a `/docker/<node>/` prefix) or, seen from a
//! cgroup namespace, below `..` segments; runc's systemd `slice:prefix:name` form also shows up
//! as one segment (`kubepods-...-pod<uid>.slice:cri-containerd:<id>`).
//!
//! The pod is the *outermost* `pod<uid>` segment and the container the segment right below it.
//! Segments further down are created by the container itself (cgroup v2 delegation), so they
//! must not be able to name another pod: a process that builds
//! `.../pod<mine>.slice/cri-containerd-<mine>.scope/pod<victim>.slice/...` is still `<mine>`.
//! CRI-O's `crio-conmon-<id>.scope` holds the container's monitor, not the container, and does
//! not count. Sample files from real nodes are in `agent/tests/data/cgroup/` (see its README).
//!
//! A name is not enough: cgroup v2 delegates subtrees to unprivileged users (every systemd user
//! session has one, `user@<uid>.service`), and such a user can `mkdir pod<victim>/<victim-id>`
//! there and move itself in. So a pod is accepted only where its cgroup really is the kubelet's:
//! [`verify`] looks at the directories on the host's cgroup filesystem (`cgroup_root`) and
//! requires the pod directory and the container directory below it to be owned by root. The
//! kubelet and the container runtime create them as root; a user can only create directories in
//! the subtree delegated to it, and those are the user's (mkdir(2) gives them the creator's
//! fsuid; nobody but root can chown them to root). A container's own sub-cgroups, below its
//! directory, are not checked: a process there is in that container whatever they are called.
//! Last, the directory the caller's cgroup resolves to must list the caller's pid in its
//! `cgroup.procs` (one small read): whatever went wrong in locating it, a process is in exactly
//! one cgroup per hierarchy, so a wrongly located one fails closed.
//!
//! An agent in its own cgroup namespace (a container's default on cgroup v2 nodes, so our
//! DaemonSet's) sees other processes' cgroups relative to its namespace root, climbing out with
//! `..` (`/../../kubepods-burstable.slice/...`), and its own `/sys/fs/cgroup` shows only its
//! subtree. The host's cgroup filesystem must then be mounted at `cgroup_root`, and the agent
//! finds where its namespace root sits there ([`resolve_ns_root`]): the directory whose
//! `cgroup.procs` lists the agent's pid is its own cgroup, and its own `/proc/self/cgroup` path
//! (relative to the namespace root) says how many levels up the root is. Every cgroup v2 path is
//! then joined onto that root, located on the host and checked as above; the pod and container
//! are taken again from the host path, so pod-like names below another cgroup (the agent's own
//! container) name nothing. The paths come from the kernel, relative to the *reader's* namespace,
//! so a caller in another cgroup namespace cannot make them lie. Without the host's cgroup
//! filesystem at `cgroup_root` the `..` paths climb above its root, or the agent's pid is in no
//! `cgroup.procs` there, and the caller is refused with an error that says what to mount.
//!
//! Known limits: cgroup v1 paths with `..` are refused (containerd and Docker give containers a
//! private cgroup namespace only on cgroup v2; on v1 the agent is in the host's). A runtime that
//! hands a user-namespaced container its cgroup (OCI runtime-spec "cgroup ownership": runc with a
//! read-write cgroupfs, crun) chowns the container directory to the container's root; such
//! containers are refused too. A process whose cgroup is the parent of the agent's namespace
//! root, or a sibling named only relative to it (`/../<id>`), names no pod in the agent's view
//! and gets no `k8s` selectors (only the agent's own pod's other containers could be there).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::workload::procfs::ProcError;

/// The pod and container a process runs in, as its cgroups name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodContainer {
    /// The pod's UID as the Kubernetes API writes it (`8-4-4-4-12` lowercase hex with dashes,
    /// or 32 hex digits for a static pod).
    pub pod_uid: String,
    /// The container ID (64 lowercase hex digits), without the runtime's `containerd://` prefix.
    pub container_id: String,
}

/// One `/proc/<pid>/cgroup` line that names the container: which hierarchy, and the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PodCgroup {
    /// The line's controller list (empty for cgroup v2).
    controllers: String,
    /// The path's segments, as the agent's cgroup namespace shows them (leading `..` when the
    /// caller's cgroup is outside the agent's namespace root).
    path: Vec<String>,
}

impl PodCgroup {
    /// The path as `/proc` showed it.
    pub(crate) fn shown(&self) -> String {
        format!("/{}", self.path.join("/"))
    }

    fn is_v2(&self) -> bool {
        self.controllers.is_empty()
    }
}

/// Reads `<proc_root>/<pid>/cgroup`: `Ok(None)` when the process is not in a pod's container;
/// else the container and the lines that name it.
pub(crate) fn read_pod_container(
    proc_root: &Path,
    pid: i32,
) -> Result<Option<(PodContainer, Vec<PodCgroup>)>, ProcError> {
    let file = proc_root.join(pid.to_string()).join("cgroup");
    let text = std::fs::read_to_string(&file).map_err(|source| ProcError::Read {
        pid,
        file: file.clone(),
        source,
    })?;
    parse_cgroup_lines(&text).map_err(|reason| ProcError::Malformed { pid, file, reason })
}

/// Why a caller's pod is not believed (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A pod or container directory is not owned by root: not the kubelet's.
    NotRoot {
        /// The directory.
        dir: PathBuf,
        /// Its owner.
        owner: u32,
    },
    /// The directory the caller's cgroup resolves to does not list the caller in
    /// `cgroup.procs` (it moved, or the path was resolved wrongly).
    NotMember {
        /// The directory.
        dir: PathBuf,
    },
    /// Located on the host, the caller's cgroup names another pod or container, or none: its
    /// pod-like names are below some other cgroup (the agent's own container).
    Elsewhere {
        /// The directory.
        dir: PathBuf,
    },
}

/// Why the cgroup directories could not be checked.
#[derive(Debug)]
pub(crate) enum Unverifiable {
    /// A directory could not be `stat`ed or its `cgroup.procs` read (most often: the process
    /// exited and its container's cgroup is gone; else `cgroup_root` is not the host's cgroup
    /// filesystem).
    Stat(PathBuf, std::io::Error),
    /// The path is relative to the agent's cgroup namespace and could not be located on the
    /// host's cgroup filesystem: why.
    Namespaced {
        /// The path as `/proc` showed it.
        path: String,
        /// Why it could not be located.
        reason: String,
    },
}

/// Limits of the search for the agent's own cgroup ([`resolve_ns_root`]).
pub(crate) const MAX_WALK_DEPTH: usize = 32;

/// Checks the cgroups `lines` name on the cgroup filesystem mounted at `cgroup_root` (see the
/// module docs): each path is located on the host (v2 paths below the agent's cgroup namespace
/// root, which `ns_root` gives as segments below the v2 hierarchy's root, resolved on first
/// use), must still name `found` there, its pod and container directories must be owned by
/// `owner`, and the directory itself must list `pid` in `cgroup.procs`. `Ok(Some)` says why
/// the first that fails is refused.
pub(crate) fn verify(
    cgroup_root: &Path,
    owner: u32,
    pid: i32,
    found: &PodContainer,
    lines: &[PodCgroup],
    mut ns_root: impl FnMut(&Path) -> Result<Vec<String>, String>,
) -> Result<Option<Refusal>, Unverifiable> {
    for line in lines {
        let hierarchy = hierarchy_dir(cgroup_root, &line.controllers);
        let namespaced = |reason: String| Unverifiable::Namespaced {
            path: line.shown(),
            reason,
        };
        let root = if line.is_v2() {
            ns_root(&hierarchy).map_err(namespaced)?
        } else if line.path.iter().any(|s| s == "..") {
            // cgroup v1 hosts give containers the host's cgroup namespace (containerd and
            // Docker make a private one only on cgroup v2), so this is not resolved.
            return Err(namespaced(
                "a cgroup v1 path relative to the agent's cgroup namespace; with cgroup v1 the agent must run in the host cgroup namespace".into(),
            ));
        } else {
            Vec::new()
        };
        let host = join_normalized(root, &line.path).ok_or_else(|| {
            namespaced(format!(
                "it climbs above the root of the cgroup filesystem at {}, which is therefore the agent's own cgroup namespace, not the host's: {MOUNT_HOST_CGROUPFS}",
                hierarchy.display()
            ))
        })?;
        let leaf = host.iter().fold(hierarchy.clone(), |dir, s| dir.join(s));
        let Some((on_host, pod_len, container)) = locate_segments(host.iter().map(String::as_str))
        else {
            return Ok(Some(Refusal::Elsewhere { dir: leaf }));
        };
        if on_host != *found {
            return Ok(Some(Refusal::Elsewhere { dir: leaf }));
        }
        let pod_dir = host[..pod_len]
            .iter()
            .fold(hierarchy.clone(), |dir, s| dir.join(s));
        let mut dirs = vec![pod_dir.clone()];
        if container {
            dirs.push(pod_dir.join(&host[pod_len]));
        }
        for dir in dirs {
            let meta = std::fs::metadata(&dir).map_err(|e| Unverifiable::Stat(dir.clone(), e))?;
            if meta.uid() != owner {
                return Ok(Some(Refusal::NotRoot {
                    dir,
                    owner: meta.uid(),
                }));
            }
        }
        let procs = leaf.join("cgroup.procs");
        let listed = lists_pid(&procs, i64::from(pid)).map_err(|e| Unverifiable::Stat(procs, e))?;
        if !listed {
            return Ok(Some(Refusal::NotMember { dir: leaf }));
        }
    }
    Ok(None)
}

/// What an operator does about an agent in its own cgroup namespace that cannot see the host's
/// cgroups.
pub(crate) const MOUNT_HOST_CGROUPFS: &str = "mount the host's /sys/fs/cgroup (hostPath, read-only) in the agent's pod and set [workload_attestors.k8s] cgroup_root to where it is mounted (the shipped DaemonSet mounts it at /host/sys/fs/cgroup), or run the agent in the host cgroup namespace";

/// `root` followed by `path`, each `..` undoing a segment; `None` if one climbs above the
/// hierarchy's root.
fn join_normalized(mut root: Vec<String>, path: &[String]) -> Option<Vec<String>> {
    for segment in path {
        match segment.as_str() {
            "." => {}
            ".." => {
                root.pop()?;
            }
            s => root.push(s.to_owned()),
        }
    }
    Some(root)
}

/// Whether the `cgroup.procs` file `file` lists `pid` (pids as the reader's PID namespace
/// numbers them: the agent's, which is the host's with hostPID).
fn lists_pid(file: &Path, pid: i64) -> std::io::Result<bool> {
    let text = std::fs::read_to_string(file)?;
    Ok(text
        .lines()
        .any(|line| line.trim().parse::<i64>() == Ok(pid)))
}

/// Where the root of the agent's cgroup namespace is in the cgroup v2 hierarchy mounted at
/// `hierarchy`, as segments below it (empty: the hierarchy's root, i.e. the agent is in the host
/// cgroup namespace or `hierarchy` is its own namespace's view).
///
/// `agent_pid` is the agent's pid as `cgroup.procs` files show it and `agent_cgroup` the text
/// of its own `/proc/self/cgroup`, whose `0::` path is relative to its namespace root. The
/// directory listing `agent_pid` is the agent's cgroup; its ancestor as many levels up as that
/// path is deep is the namespace root. The directory the path names is tried first (the agent
/// in the host namespace: one read), then the hierarchy is searched breadth first, at most
/// `max_dirs` directories and [`MAX_WALK_DEPTH`] levels, and only below directories owned by
/// `owner` (root): the agent's container's cgroup and its ancestors are the kubelet's and the
/// runtime's, and a subtree delegated to a user, where the user could make cgroups by the
/// hundred thousand to exhaust the search, is not entered.
pub(crate) fn resolve_ns_root(
    hierarchy: &Path,
    owner: u32,
    agent_pid: u32,
    agent_cgroup: &str,
    max_dirs: usize,
) -> Result<Vec<String>, String> {
    let own = agent_cgroup
        .lines()
        .find_map(|line| line.strip_prefix("0::"))
        .ok_or_else(|| {
            format!("the agent's own cgroup file has no cgroup v2 (`0::`) line: {agent_cgroup:?}")
        })?;
    let own: Vec<&str> = own.split('/').filter(|s| !s.is_empty()).collect();
    if own.iter().any(|s| *s == ".." || *s == ".") {
        return Err(format!(
            "the agent's own cgroup /{} is outside its cgroup namespace (moved after the namespace was made); restart the agent",
            own.join("/")
        ));
    }
    let pid = i64::from(agent_pid);
    let lists = |dir: &Path| lists_pid(&dir.join("cgroup.procs"), pid).unwrap_or(false);
    if lists(&own.iter().fold(hierarchy.to_path_buf(), |d, s| d.join(s))) {
        return Ok(Vec::new());
    }
    if let Err(e) = std::fs::read_dir(hierarchy) {
        return Err(format!(
            "cannot read the cgroup filesystem at {}: {e}; {MOUNT_HOST_CGROUPFS}",
            hierarchy.display()
        ));
    }
    let mut queue = std::collections::VecDeque::from([(hierarchy.to_path_buf(), Vec::new())]);
    let mut visited = 0usize;
    while let Some((dir, segments)) = queue.pop_front() {
        visited += 1;
        if visited > max_dirs {
            return Err(format!(
                "gave up looking for the agent's own cgroup (pid {agent_pid}) after {max_dirs} directories under {}",
                hierarchy.display()
            ));
        }
        if lists(&dir) {
            let Some(root_len) = segments
                .len()
                .checked_sub(own.len())
                .filter(|&n| segments[n..].iter().zip(&own).all(|(a, b)| a == b))
            else {
                return Err(format!(
                    "the agent's cgroup {} does not end with its own path /{} as its namespace shows it",
                    dir.display(),
                    own.join("/")
                ));
            };
            let mut segments = segments;
            segments.truncate(root_len);
            return Ok(segments);
        }
        if segments.len() >= MAX_WALK_DEPTH {
            continue;
        }
        // A directory that vanishes during the walk is skipped.
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            // cgroupfs has no symbolic links; a crafted tree's are not followed.
            if entry.file_type().is_ok_and(|t| t.is_dir())
                && entry.metadata().is_ok_and(|m| m.uid() == owner)
                && let Some(name) = entry.file_name().to_str()
            {
                let mut below = segments.clone();
                below.push(name.to_owned());
                queue.push_back((entry.path(), below));
            }
        }
    }
    Err(format!(
        "no directory under {} lists the agent's pid {agent_pid} in cgroup.procs, so it is not the host's cgroup filesystem (or the agent is not in the host PID namespace, hostPID); {MOUNT_HOST_CGROUPFS}",
        hierarchy.display()
    ))
}

/// Where a hierarchy is mounted under `cgroup_root`: v2 at the root itself (or `unified/` on a
/// hybrid v1 host), a v1 hierarchy in a directory named after its controllers
/// (`memory`, `cpu,cpuacct`, `systemd` for `name=systemd`).
pub(crate) fn hierarchy_dir(cgroup_root: &Path, controllers: &str) -> PathBuf {
    if controllers.is_empty() {
        if cgroup_root.join("cgroup.controllers").exists() {
            cgroup_root.to_path_buf()
        } else {
            cgroup_root.join("unified")
        }
    } else {
        cgroup_root.join(controllers.strip_prefix("name=").unwrap_or(controllers))
    }
}

/// Parses the text of a `/proc/<pid>/cgroup` file. Lines naming no container are ignored (a
/// cgroup v1 node in hybrid mode has a `0::/system.slice/...` line beside the pod's); lines that
/// name different pods or containers are an error, since the process cannot be in both.
pub fn parse_cgroup_file(text: &str) -> Result<Option<PodContainer>, String> {
    Ok(parse_cgroup_lines(text)?.map(|(found, _)| found))
}

/// [`parse_cgroup_file`], with the lines that name the container.
fn parse_cgroup_lines(text: &str) -> Result<Option<(PodContainer, Vec<PodCgroup>)>, String> {
    let mut found: Option<PodContainer> = None;
    let mut lines = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        // The path may itself contain ':' (runc's systemd `slice:prefix:name`).
        let mut fields = line.splitn(3, ':');
        let (Some(_id), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            return Err(format!(
                "line {line:?} is not `hierarchy-ID:controller-list:cgroup-path`"
            ));
        };
        let segments = || path.split('/').filter(|s| !s.is_empty());
        let Some((candidate, _, _)) = locate_segments(segments()) else {
            continue;
        };
        lines.push(PodCgroup {
            controllers: controllers.to_owned(),
            path: segments().map(str::to_owned).collect(),
        });
        match &found {
            None => found = Some(candidate),
            Some(first) if *first == candidate => {}
            Some(first) => {
                return Err(format!(
                    "its hierarchies name two containers: pod {} container {} and pod {} container {}",
                    first.pod_uid, first.container_id, candidate.pod_uid, candidate.container_id
                ));
            }
        }
    }
    Ok(found.map(|found| (found, lines)))
}

/// The pod and container one cgroup path names, if it names both.
#[cfg(test)]
pub(crate) fn parse_cgroup_path(path: &str) -> Option<PodContainer> {
    locate_segments(path.split('/').filter(|s| !s.is_empty())).map(|(found, _, _)| found)
}

/// The pod and container the segments of a cgroup path name, if they name both; with the number
/// of segments down to the pod's directory, and whether the container has a directory of its own
/// right below it (not in runc's one-segment form).
fn locate_segments<'a>(
    segments: impl Iterator<Item = &'a str>,
) -> Option<(PodContainer, usize, bool)> {
    let mut segments = segments;
    let mut pod_len = 0;
    while let Some(segment) = segments.next() {
        pod_len += 1;
        // runc's systemd form keeps pod and container in one segment: `slice:prefix:name`.
        let mut parts = segment.splitn(3, ':');
        let (unit, prefix, name) = (parts.next()?, parts.next(), parts.next());
        let Some(pod_uid) = pod_uid_of(unit) else {
            continue;
        };
        // Outermost pod segment found: the container is named right here or right below it.
        let (container_id, own_dir) = match (prefix, name) {
            (Some(prefix), Some(name)) => (container_id_of(&format!("{prefix}-{name}")), false),
            _ => (container_id_of(segments.next()?), true),
        };
        return container_id.map(|container_id| {
            (
                PodContainer {
                    pod_uid,
                    container_id,
                },
                pod_len,
                own_dir,
            )
        });
    }
    None
}

/// `pod<uid>` (cgroupfs) or `...-pod<uid_with_underscores>.slice` (systemd) → the UID.
fn pod_uid_of(segment: &str) -> Option<String> {
    let unit = segment.strip_suffix(".slice").unwrap_or(segment);
    let uid = match unit.strip_prefix("pod") {
        Some(uid) => uid,
        None => &unit[unit.rfind("-pod")? + "-pod".len()..],
    };
    let uid = uid.replace('_', "-").to_ascii_lowercase();
    (is_uuid(&uid) || is_hex(&uid, 32)).then_some(uid)
}

/// A container segment → its 64-hex ID. Anything else (`crio-conmon-<id>.scope`, a pod's own
/// sub-cgroups) names no container.
fn container_id_of(segment: &str) -> Option<String> {
    let name = segment.strip_suffix(".scope").unwrap_or(segment);
    let id = ["cri-containerd-", "crio-", "docker-"]
        .iter()
        .find_map(|prefix| name.strip_prefix(prefix))
        .unwrap_or(name);
    is_hex(id, 64).then(|| id.to_ascii_lowercase())
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `8-4-4-4-12` hex digits, the form of API-assigned pod UIDs.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| is_hex(group, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sample files live in `agent/tests/data/cgroup/`; its README says where each shape is from.
    macro_rules! sample {
        ($name:literal) => {
            include_str!(concat!("../../../../tests/data/cgroup/", $name))
        };
    }

    fn found(pod_uid: &str, container_id: &str) -> Option<PodContainer> {
        Some(PodContainer {
            pod_uid: pod_uid.into(),
            container_id: container_id.into(),
        })
    }

    const SPIRE_UID: &str = "2c48913c-b29f-11e7-9350-020968147796";
    const SPIRE_ID: &str = "9bca8d63d5fa610783847915bcff0ecac1273e5b4bed3f6fa1b07350e0135961";
    const KIND_UID: &str = "a2830d0d-b0f0-4ff0-81b5-0ee4e299cf80";
    const KIND_ID: &str = "09bc3d7ade839efec32b6bec4ec79d099027a668ddba043083ec21d3c3b8f1e6";
    const UID: &str = "5f0c3b4e-9a7d-4c21-8e36-7b2d1f9a0c44";
    const ID: &str = "4d3f6a1e9c2b8d7f0a5e3c1b9d8f7e6a5c4b3a2918f7e6d5c4b3a29180f7e6d5";

    #[test]
    fn cgroup_v1_samples() {
        let cases = [
            // dockershim, cgroupfs driver, burstable.
            (
                sample!("v1-cgroupfs-docker-burstable.txt"),
                found(
                    "d488cae9-b2a0-11e7-9350-020968147796",
                    "34a2062fd26c805aa8cf814cdfe479322b791f80afb9ea4db02d50375df14b41",
                ),
            ),
            // dockershim, systemd driver, burstable.
            (
                sample!("v1-systemd-docker-burstable.txt"),
                found(SPIRE_UID, SPIRE_ID),
            ),
            // CRI-O, systemd driver, besteffort, hybrid mode (plus a `0::` line to ignore).
            (
                sample!("v1-systemd-crio-besteffort-hybrid.txt"),
                found(KIND_UID, KIND_ID),
            ),
            // kind on Docker Desktop: the node is itself a Docker container.
            (
                sample!("v1-cgroupfs-containerd-kind-nested.txt"),
                found(KIND_UID, KIND_ID),
            ),
            // containerd, systemd driver, guaranteed (no QoS segment).
            (
                sample!("v1-systemd-containerd-guaranteed.txt"),
                found(UID, ID),
            ),
        ];
        for (i, (text, want)) in cases.into_iter().enumerate() {
            assert_eq!(parse_cgroup_file(text).unwrap(), want, "case {i}");
        }
    }

    #[test]
    fn cgroup_v2_samples() {
        let cases = [
            (
                sample!("v2-systemd-containerd-burstable.txt"),
                found(UID, ID),
            ),
            (
                sample!("v2-systemd-containerd-guaranteed.txt"),
                found(UID, ID),
            ),
            (sample!("v2-systemd-crio-besteffort.txt"), found(UID, ID)),
            (sample!("v2-systemd-docker-burstable.txt"), found(UID, ID)),
            (
                sample!("v2-cgroupfs-containerd-k3s-burstable.txt"),
                found(UID, ID),
            ),
            // kind: kubelet cgroup root /kubelet, systemd driver.
            (
                sample!("v2-systemd-containerd-kind.txt"),
                found(
                    "00000000-1111-2222-3333-444444444444",
                    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                ),
            ),
            // k3d: k3s inside a Docker container, host cgroup namespace.
            (
                sample!("v2-cgroupfs-containerd-k3d-nested.txt"),
                found(UID, ID),
            ),
            // The agent in its own cgroup namespace sees paths relative to its own cgroup.
            (
                sample!("v2-systemd-containerd-cgroupns.txt"),
                found(UID, ID),
            ),
        ];
        for (i, (text, want)) in cases.into_iter().enumerate() {
            assert_eq!(parse_cgroup_file(text).unwrap(), want, "case {i}");
        }
    }

    #[test]
    fn processes_outside_a_pod_container_are_none() {
        for (name, text) in [
            ("host session", sample!("v2-not-in-pod-user-session.txt")),
            ("plain docker", sample!("v2-not-in-pod-docker.txt")),
            ("host service v1", sample!("v1-not-in-pod-service.txt")),
            ("CRI-O conmon", sample!("v2-systemd-crio-conmon.txt")),
        ] {
            assert_eq!(parse_cgroup_file(text).unwrap(), None, "{name}");
        }
        // The pod's own cgroup, no container below it.
        assert_eq!(
            parse_cgroup_path(&format!("/kubepods/besteffort/pod{UID}")),
            None
        );
        // A container ID without a pod (SPIRE's "no pod uid segment" case).
        assert_eq!(parse_cgroup_path(&format!("/kubepods/{ID}")), None);
        // Not 64 hex digits.
        assert_eq!(
            parse_cgroup_path(&format!("/kubepods/pod{UID}/abc123")),
            None
        );
        assert_eq!(parse_cgroup_file("").unwrap(), None);
    }

    #[test]
    fn runc_systemd_slice_prefix_name_form() {
        // From SPIRE's k8s attestor tests (a real report): containerd, systemd driver, v1.
        let path = "/kubepods-besteffort-pod72f7f152_440c_66ac_9084_e0fc1d8a910c.slice:cri-containerd:b2a102854b4969b2ce98dc329c86b4fb2b06e4ad2cc8da9d8a7578c9cd2004a2";
        assert_eq!(
            parse_cgroup_file(&format!("1:name=systemd:{path}\n")).unwrap(),
            found(
                "72f7f152-440c-66ac-9084-e0fc1d8a910c",
                "b2a102854b4969b2ce98dc329c86b4fb2b06e4ad2cc8da9d8a7578c9cd2004a2"
            )
        );
    }

    #[test]
    fn static_pod_uids_are_32_hex_digits() {
        let uid = "2732ca68f6358eba7703fb6f82a25c94";
        assert_eq!(
            parse_cgroup_path(&format!(
                "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{uid}.slice/cri-containerd-{ID}.scope"
            )),
            found(uid, ID)
        );
    }

    #[test]
    fn the_outermost_pod_wins_over_cgroups_a_container_creates() {
        let other = "0badc0de-0000-4000-8000-000000000000";
        let other_id = "f".repeat(64);
        let path = format!(
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice/cri-containerd-{ID}.scope/kubepods-pod{}.slice/cri-containerd-{other_id}.scope",
            UID.replace('-', "_"),
            other.replace('-', "_"),
        );
        assert_eq!(parse_cgroup_path(&path), found(UID, ID));
        // A process in a container's own sub-cgroup is still in that container.
        let nested = format!("/kubepods/besteffort/pod{UID}/{ID}/init.scope");
        assert_eq!(parse_cgroup_path(&nested), found(UID, ID));
    }

    #[test]
    fn disagreeing_hierarchies_are_an_error_naming_both() {
        let other_id = "e".repeat(64);
        let text = format!(
            "5:memory:/kubepods/besteffort/pod{UID}/{ID}\n4:cpu:/kubepods/besteffort/pod{UID}/{other_id}\n"
        );
        let err = parse_cgroup_file(&text).unwrap_err();
        assert!(err.contains(ID) && err.contains(&other_id), "{err}");
        assert!(parse_cgroup_file("no colons here\n").is_err());
    }

    /// The caller's pid in these tests.
    const PID: i32 = 4242;
    /// The agent's.
    const AGENT: u32 = 777;

    /// Creates `dir` and writes its `cgroup.procs`.
    fn procs(dir: &Path, pids: &[i64]) {
        std::fs::create_dir_all(dir).unwrap();
        let text: String = pids.iter().map(|p| format!("{p}\n")).collect();
        std::fs::write(dir.join("cgroup.procs"), text).unwrap();
    }

    /// Who made the crafted cgroup trees: this process, root when the tests run as root.
    fn owner() -> u32 {
        nix::unistd::geteuid().as_raw()
    }

    /// The agent in the host cgroup namespace.
    fn host_ns(_: &Path) -> Result<Vec<String>, String> {
        Ok(Vec::new())
    }

    fn segments(path: &str) -> Vec<String> {
        path.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn pod_and_container_directories_are_found_in_their_hierarchy_and_must_be_roots() {
        let me = nix::unistd::geteuid().as_raw();
        let root = tempfile::tempdir().unwrap();
        let text = format!(
            "12:memory:/kubepods/besteffort/pod{UID}/{ID}/sub\n1:name=systemd:/kubepods/besteffort/pod{UID}/{ID}\n0::/system.slice/containerd.service\n"
        );
        let (pod, lines) = parse_cgroup_lines(&text).unwrap().unwrap();
        assert_eq!(pod, found(UID, ID).unwrap());
        assert_eq!(lines.len(), 2, "the 0:: line names no pod: {lines:?}");
        // v1 hierarchies live in directories named after their controllers.
        procs(
            &root
                .path()
                .join(format!("memory/kubepods/besteffort/pod{UID}/{ID}/sub")),
            &[1, PID.into()],
        );
        procs(
            &root
                .path()
                .join(format!("systemd/kubepods/besteffort/pod{UID}/{ID}")),
            &[PID.into()],
        );
        assert_eq!(
            verify(root.path(), me, PID, &pod, &lines, host_ns).unwrap(),
            None
        );
        let Some(Refusal::NotRoot { dir, owner }) =
            verify(root.path(), me.wrapping_add(1), PID, &pod, &lines, host_ns).unwrap()
        else {
            panic!("not refused")
        };
        assert!(dir.ends_with(format!("memory/kubepods/besteffort/pod{UID}")));
        assert_eq!(owner, me);
        // The caller must be in the cgroup its file names.
        assert_eq!(
            verify(root.path(), me, PID + 1, &pod, &lines, host_ns).unwrap(),
            Some(Refusal::NotMember {
                dir: root
                    .path()
                    .join(format!("memory/kubepods/besteffort/pod{UID}/{ID}/sub"))
            })
        );

        // A hybrid host's v2 hierarchy is under unified/; a v2 host's at the root itself.
        let (_, v2) = parse_cgroup_lines(&format!("0::/kubepods/pod{UID}/{ID}\n"))
            .unwrap()
            .unwrap();
        assert!(matches!(
            verify(root.path(), me, PID, &pod, &v2, host_ns),
            Err(Unverifiable::Stat(dir, _)) if dir.starts_with(root.path().join("unified"))
        ));
        std::fs::write(root.path().join("cgroup.controllers"), "memory\n").unwrap();
        procs(
            &root.path().join(format!("kubepods/pod{UID}/{ID}")),
            &[PID.into()],
        );
        assert_eq!(
            verify(root.path(), me, PID, &pod, &v2, host_ns).unwrap(),
            None
        );

        // runc's one-segment form: the pod's directory is the container's.
        let one = format!(
            "/kubepods-pod{}.slice:cri-containerd:{ID}",
            UID.replace('-', "_")
        );
        let (_, lines) = parse_cgroup_lines(&format!("0::{one}\n")).unwrap().unwrap();
        procs(&root.path().join(&one[1..]), &[PID.into()]);
        assert_eq!(
            verify(root.path(), me, PID, &pod, &lines, host_ns).unwrap(),
            None
        );

        // cgroup v1 and a private cgroup namespace: refused, saying so.
        let (_, lines) = parse_cgroup_lines(&format!("4:memory:/../kubepods/pod{UID}/{ID}\n"))
            .unwrap()
            .unwrap();
        assert!(matches!(
            verify(root.path(), me, PID, &pod, &lines, host_ns),
            Err(Unverifiable::Namespaced { reason, .. }) if reason.contains("cgroup v1")
        ));
    }

    /// A cgroup v2 host: the agent's pod and the workload's, both made by root (this process).
    fn host_tree() -> (tempfile::TempDir, String) {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("cgroup.controllers"), "cpu memory\n").unwrap();
        let agent = format!(
            "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{}.slice/cri-containerd-{}.scope",
            SPIRE_UID.replace('-', "_"),
            SPIRE_ID
        );
        procs(&root.path().join(&agent), &[AGENT.into()]);
        procs(
            &root.path().join(format!(
                "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice/cri-containerd-{ID}.scope",
                UID.replace('-', "_")
            )),
            &[PID.into()],
        );
        procs(&root.path().join("system.slice/containerd.service"), &[1]);
        (root, agent)
    }

    #[test]
    fn the_agents_cgroup_namespace_root_is_found_from_its_pid_and_own_path() {
        let (root, agent) = host_tree();
        let hierarchy = root.path();
        // The agent's cgroup is its namespace root ("/"): the directory listing its pid.
        assert_eq!(
            resolve_ns_root(hierarchy, owner(), AGENT, "0::/\n", 1000).unwrap(),
            segments(&agent)
        );
        // One level below it: the root is the parent of the agent's directory.
        procs(&root.path().join(&agent), &[]);
        procs(&root.path().join(&agent).join("init"), &[AGENT.into()]);
        assert_eq!(
            resolve_ns_root(hierarchy, owner(), AGENT, "0::/init\n", 1000).unwrap(),
            segments(&agent)
        );
        // Its own path must be the end of the directory found.
        let err = resolve_ns_root(hierarchy, owner(), AGENT, "0::/other\n", 1000).unwrap_err();
        assert!(err.contains("does not end with"), "{err}");
        let err = resolve_ns_root(hierarchy, owner(), AGENT, "0::/../x\n", 1000).unwrap_err();
        assert!(err.contains("outside its cgroup namespace"), "{err}");
        let err = resolve_ns_root(hierarchy, owner(), AGENT, "1:memory:/\n", 1000).unwrap_err();
        assert!(err.contains("0::"), "{err}");
        // In the host namespace, the directory its path names lists it: one read, no walk.
        procs(&root.path().join(&agent).join("init"), &[]);
        procs(
            &root.path().join("system.slice/lanyard.service"),
            &[AGENT.into()],
        );
        assert_eq!(
            resolve_ns_root(
                hierarchy,
                owner(),
                AGENT,
                "0::/system.slice/lanyard.service\n",
                1
            )
            .unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn the_search_for_the_agents_cgroup_is_bounded() {
        let (root, agent) = host_tree();
        // root, kubepods.slice, system.slice, 2 QoS slices, 2 pods, 2 containers...
        let err = resolve_ns_root(root.path(), owner(), AGENT, "0::/\n", 6).unwrap_err();
        assert!(
            err.contains("gave up") && err.contains("after 6 directories"),
            "{err}"
        );
        assert_eq!(
            resolve_ns_root(root.path(), owner(), AGENT, "0::/\n", 20).unwrap(),
            segments(&agent)
        );
        // Subtrees of another owner (delegated to a user) are not searched.
        if nix::unistd::geteuid().is_root() {
            let user = root.path().join("user.slice/user@1000.service");
            procs(&user.join("many/of/them"), &[]);
            std::os::unix::fs::chown(&user, Some(1000), Some(1000)).unwrap();
            procs(&root.path().join(&agent), &[]);
            procs(&user.join("agent"), &[AGENT.into()]);
            let err = resolve_ns_root(root.path(), 0, AGENT, "0::/\n", 1000).unwrap_err();
            assert!(err.contains("no directory under"), "{err}");
            procs(&user.join("agent"), &[]);
            procs(&root.path().join(&agent), &[AGENT.into()]);
        }
        // Too deep to be searched.
        procs(&root.path().join(&agent), &[]);
        let deep = root.path().join("d/".repeat(MAX_WALK_DEPTH + 1));
        procs(&deep, &[AGENT.into()]);
        let err = resolve_ns_root(root.path(), owner(), AGENT, "0::/\n", 1000).unwrap_err();
        assert!(err.contains("no directory under"), "{err}");
    }

    #[test]
    fn without_the_hosts_cgroupfs_the_namespace_root_is_not_found_and_says_what_to_mount() {
        // The agent's own view: its cgroup namespace's root, which lists the agent.
        let own = tempfile::tempdir().unwrap();
        std::fs::write(own.path().join("cgroup.controllers"), "cpu\n").unwrap();
        procs(own.path(), &[AGENT.into()]);
        assert_eq!(
            resolve_ns_root(own.path(), owner(), AGENT, "0::/\n", 1000).unwrap(),
            Vec::<String>::new()
        );
        // ...but the caller's path climbs above it.
        let (pod, lines) = parse_cgroup_lines(sample!("v2-systemd-containerd-cgroupns.txt"))
            .unwrap()
            .unwrap();
        let me = nix::unistd::geteuid().as_raw();
        let ns = |h: &Path| resolve_ns_root(h, owner(), AGENT, "0::/\n", 1000);
        let Err(Unverifiable::Namespaced { path, reason }) =
            verify(own.path(), me, PID, &pod, &lines, ns)
        else {
            panic!("not refused")
        };
        assert!(
            path.starts_with("/../../../kubepods-burstable.slice/"),
            "{path}"
        );
        assert!(
            reason.contains("climbs above") && reason.contains("hostPath"),
            "{reason}"
        );
        // Nothing mounted at all, or a filesystem that does not list the agent.
        let err = resolve_ns_root(&own.path().join("nothing"), owner(), AGENT, "0::/\n", 1000)
            .unwrap_err();
        assert!(
            err.contains("cannot read") && err.contains("cgroup_root"),
            "{err}"
        );
        let err = resolve_ns_root(own.path(), owner(), AGENT + 1, "0::/\n", 1000).unwrap_err();
        assert!(
            err.contains("hostPID") && err.contains("/host/sys/fs/cgroup"),
            "{err}"
        );
    }

    #[test]
    fn namespace_relative_paths_are_located_on_the_host_and_checked_there() {
        let (root, agent) = host_tree();
        let me = nix::unistd::geteuid().as_raw();
        let ns = |h: &Path| resolve_ns_root(h, owner(), AGENT, "0::/\n", 1000);
        // Three levels up from the agent's container is kubepods.slice.
        let (pod, lines) = parse_cgroup_lines(sample!("v2-systemd-containerd-cgroupns.txt"))
            .unwrap()
            .unwrap();
        assert_eq!(
            verify(root.path(), me, PID, &pod, &lines, ns).unwrap(),
            None
        );
        // Not the caller's cgroup.
        assert!(matches!(
            verify(root.path(), me, PID + 1, &pod, &lines, ns).unwrap(),
            Some(Refusal::NotMember { .. })
        ));

        // Forged in a user's delegated subtree, reached from the agent's namespace.
        let session = "user.slice/user-1000.slice/user@1000.service/app.slice";
        let forged = format!(
            "{session}/kubepods-burstable-pod{}.slice/cri-containerd-{ID}.scope",
            UID.replace('-', "_")
        );
        procs(&root.path().join(&forged), &[PID.into()]);
        let (_, lines) = parse_cgroup_lines(&format!("0::/../../../../{forged}\n"))
            .unwrap()
            .unwrap();
        let refused = verify(root.path(), me.wrapping_add(1), PID, &pod, &lines, ns).unwrap();
        assert!(
            matches!(&refused, Some(Refusal::NotRoot { dir, .. }) if dir.starts_with(root.path().join(session))),
            "{refused:?}"
        );

        // Pod-like names below the agent's own container name the agent's pod on the host.
        let inside = format!(
            "kubepods-burstable-pod{}.slice/cri-containerd-{ID}.scope",
            UID.replace('-', "_")
        );
        procs(&root.path().join(&agent).join(&inside), &[PID.into()]);
        let (named, lines) = parse_cgroup_lines(&format!("0::/{inside}\n"))
            .unwrap()
            .unwrap();
        assert_eq!(named, pod);
        assert!(matches!(
            verify(root.path(), me, PID, &pod, &lines, ns).unwrap(),
            Some(Refusal::Elsewhere { .. })
        ));
    }

    #[test]
    fn read_names_pid_and_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("77")).unwrap();
        std::fs::write(
            dir.path().join("77/cgroup"),
            sample!("v2-systemd-containerd-burstable.txt"),
        )
        .unwrap();
        assert_eq!(
            read_pod_container(dir.path(), 77).unwrap().map(|(f, _)| f),
            found(UID, ID)
        );
        let err = read_pod_container(dir.path(), 78).unwrap_err().to_string();
        assert!(err.contains("pid 78") && err.contains("78/cgroup"), "{err}");
    }
}
