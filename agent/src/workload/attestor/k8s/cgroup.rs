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
//! [`verify_owner`] looks at the directories on the host's cgroup filesystem
//! (`cgroup_root`) and requires the pod directory and the container directory below it to be
//! owned by root. The kubelet and the container runtime create them as root; a user can only
//! create directories in the subtree delegated to it, and those are the user's (mkdir(2) gives
//! them the creator's fsuid; nobody but root can chown them to root). A container's own
//! sub-cgroups, below its directory, are not checked: a process there is in that container
//! whatever they are called.
//!
//! Known limits: paths with `..` segments (an agent in its own cgroup namespace) cannot be
//! located on the host's cgroup filesystem and are refused; run the agent in the host cgroup
//! namespace. A runtime that hands a user-namespaced container its cgroup (OCI runtime-spec
//! "cgroup ownership": runc with a read-write cgroupfs, crun) chowns the container directory
//! to the container's root; such containers are refused too.

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

/// One `/proc/<pid>/cgroup` line that names the container: which hierarchy, and the path
/// segments down to the pod's and the container's directories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PodCgroup {
    /// The line's controller list (empty for cgroup v2).
    controllers: String,
    /// The segments from the hierarchy's root down to the pod's directory, inclusive.
    pod_dir: Vec<String>,
    /// The container's directory below it, if it has its own (runc's `slice:prefix:name`
    /// form keeps both in one directory).
    container_dir: Option<String>,
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

/// A pod cgroup directory that is not the kubelet's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NotRoots {
    /// The directory.
    pub(crate) dir: PathBuf,
    /// Its owner.
    pub(crate) owner: u32,
}

/// Why the cgroup directories could not be checked.
#[derive(Debug)]
pub(crate) enum Unverifiable {
    /// A directory could not be `stat`ed (most often: the process exited and its container's
    /// cgroup is gone; else `cgroup_root` is not the host's cgroup filesystem).
    Stat(PathBuf, std::io::Error),
    /// The path climbs out of the agent's cgroup namespace (`..`).
    Namespaced(String),
}

/// Checks on the cgroup filesystem mounted at `cgroup_root` that the pod and container
/// directories `lines` name are owned by `owner`, i.e. root (see the module docs): `Ok(Some)`
/// names the first that is not.
pub(crate) fn verify_owner(
    cgroup_root: &Path,
    owner: u32,
    lines: &[PodCgroup],
) -> Result<Option<NotRoots>, Unverifiable> {
    for line in lines {
        if line.pod_dir.iter().any(|s| s == "..") {
            return Err(Unverifiable::Namespaced(line.pod_dir.join("/")));
        }
        let mut dir = hierarchy_dir(cgroup_root, &line.controllers);
        dir.extend(&line.pod_dir);
        let mut dirs = vec![dir.clone()];
        if let Some(container) = &line.container_dir {
            dirs.push(dir.join(container));
        }
        for dir in dirs {
            let meta = std::fs::metadata(&dir).map_err(|e| Unverifiable::Stat(dir.clone(), e))?;
            if meta.uid() != owner {
                return Ok(Some(NotRoots {
                    dir,
                    owner: meta.uid(),
                }));
            }
        }
    }
    Ok(None)
}

/// Where a hierarchy is mounted under `cgroup_root`: v2 at the root itself (or `unified/` on a
/// hybrid v1 host), a v1 hierarchy in a directory named after its controllers
/// (`memory`, `cpu,cpuacct`, `systemd` for `name=systemd`).
fn hierarchy_dir(cgroup_root: &Path, controllers: &str) -> PathBuf {
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
        let Some((candidate, pod_dir, container_dir)) = locate_cgroup_path(path) else {
            continue;
        };
        lines.push(PodCgroup {
            controllers: controllers.to_owned(),
            pod_dir,
            container_dir,
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
    locate_cgroup_path(path).map(|(found, _, _)| found)
}

/// The pod and container one cgroup path names, if it names both, with the segments down to
/// the pod's directory and the container's directory below it (none in the one-segment form).
fn locate_cgroup_path(path: &str) -> Option<(PodContainer, Vec<String>, Option<String>)> {
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let mut pod_dir = Vec::new();
    while let Some(segment) = segments.next() {
        pod_dir.push(segment.to_owned());
        // runc's systemd form keeps pod and container in one segment: `slice:prefix:name`.
        let mut parts = segment.splitn(3, ':');
        let (unit, prefix, name) = (parts.next()?, parts.next(), parts.next());
        let Some(pod_uid) = pod_uid_of(unit) else {
            continue;
        };
        // Outermost pod segment found: the container is named right here or right below it.
        let (container_id, container_dir) = match (prefix, name) {
            (Some(prefix), Some(name)) => (container_id_of(&format!("{prefix}-{name}")), None),
            _ => {
                let below = segments.next()?;
                (container_id_of(below), Some(below.to_owned()))
            }
        };
        return container_id.map(|container_id| {
            (
                PodContainer {
                    pod_uid,
                    container_id,
                },
                pod_dir,
                container_dir,
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
        for hierarchy in ["memory", "systemd"] {
            std::fs::create_dir_all(
                root.path()
                    .join(hierarchy)
                    .join(format!("kubepods/besteffort/pod{UID}/{ID}/sub")),
            )
            .unwrap();
        }
        assert_eq!(verify_owner(root.path(), me, &lines).unwrap(), None);
        let refused = verify_owner(root.path(), me.wrapping_add(1), &lines)
            .unwrap()
            .unwrap();
        assert!(
            refused
                .dir
                .ends_with(format!("memory/kubepods/besteffort/pod{UID}"))
        );
        assert_eq!(refused.owner, me);

        // A hybrid host's v2 hierarchy is under unified/; a v2 host's at the root itself.
        let (_, v2) = parse_cgroup_lines(&format!("0::/kubepods/pod{UID}/{ID}\n"))
            .unwrap()
            .unwrap();
        assert!(matches!(
            verify_owner(root.path(), me, &v2),
            Err(Unverifiable::Stat(dir, _)) if dir.starts_with(root.path().join("unified"))
        ));
        std::fs::write(root.path().join("cgroup.controllers"), "memory\n").unwrap();
        std::fs::create_dir_all(root.path().join(format!("kubepods/pod{UID}/{ID}"))).unwrap();
        assert_eq!(verify_owner(root.path(), me, &v2).unwrap(), None);

        // runc's one-segment form: the pod's directory is the container's.
        let one = format!(
            "/kubepods-pod{}.slice:cri-containerd:{ID}",
            UID.replace('-', "_")
        );
        let (_, lines) = parse_cgroup_lines(&format!("0::{one}\n")).unwrap().unwrap();
        std::fs::create_dir_all(root.path().join(&one[1..])).unwrap();
        assert_eq!(verify_owner(root.path(), me, &lines).unwrap(), None);

        // Seen from a cgroup namespace: cannot be located on the host.
        let (_, lines) = parse_cgroup_lines(sample!("v2-systemd-containerd-cgroupns.txt"))
            .unwrap()
            .unwrap();
        assert!(matches!(
            verify_owner(root.path(), me, &lines),
            Err(Unverifiable::Namespaced(_))
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
