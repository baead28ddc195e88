//! The few fields of the kubelet's `PodList` (core/v1) the attestor reads, and the selectors it
//! derives from a pod and one of its containers.
//!
//! Selectors (type `k8s`) are SPIRE's `k8s` workload attestor's, value for value, so registration
//! entries carry over: `ns`, `sa`, `node-name`, `pod-uid`, `pod-name`, `pod-label:<k>:<v>`,
//! `pod-owner:<Kind>:<name>`, `pod-owner-uid:<Kind>:<uid>`, `pod-image`, `pod-init-image`,
//! `pod-image-count`, `pod-init-image-count`, `container-name` and `container-image`. Images are
//! those the kubelet reports in the container statuses, both `image` (the reference, e.g.
//! `docker.io/library/nginx:1.27`) and `imageID` (the digest form, `...@sha256:...`), once each:
//! SPIRE emits these two and not the pod spec's `image`.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

use crate::store::Selector;

/// `GET /pods`: a `PodList`.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct PodList {
    /// The pods bound to this node.
    #[serde(default, deserialize_with = "null_as_default")]
    pub(crate) items: Vec<Pod>,
}

/// One pod.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Pod {
    /// `metadata`.
    #[serde(default)]
    pub(crate) metadata: ObjectMeta,
    /// `spec`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub(crate) spec: PodSpec,
    /// `status`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub(crate) status: PodStatus,
}

/// `metadata`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ObjectMeta {
    /// `name`.
    #[serde(default)]
    pub(crate) name: String,
    /// `namespace`.
    #[serde(default)]
    pub(crate) namespace: String,
    /// `uid`.
    #[serde(default)]
    pub(crate) uid: String,
    /// `labels`, ordered so that selectors come out in a stable order.
    #[serde(default, deserialize_with = "null_as_default")]
    pub(crate) labels: BTreeMap<String, String>,
    /// `ownerReferences`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub(crate) owner_references: Vec<OwnerReference>,
}

/// One of `metadata.ownerReferences`.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct OwnerReference {
    /// `kind`, e.g. `ReplicaSet`.
    #[serde(default)]
    pub(crate) kind: String,
    /// `name`.
    #[serde(default)]
    pub(crate) name: String,
    /// `uid`.
    #[serde(default)]
    pub(crate) uid: String,
}

/// `spec`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PodSpec {
    /// `serviceAccountName`.
    #[serde(default)]
    pub(crate) service_account_name: String,
    /// `nodeName`.
    #[serde(default)]
    pub(crate) node_name: String,
}

/// `status`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PodStatus {
    /// `containerStatuses`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub(crate) container_statuses: Vec<ContainerStatus>,
    /// `initContainerStatuses` (sidecars, `restartPolicy: Always` init containers, included).
    #[serde(default, deserialize_with = "null_as_default")]
    pub(crate) init_container_statuses: Vec<ContainerStatus>,
    /// `ephemeralContainerStatuses` (`kubectl debug`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub(crate) ephemeral_container_statuses: Vec<ContainerStatus>,
}

/// One container's status.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ContainerStatus {
    /// `name`.
    #[serde(default)]
    pub(crate) name: String,
    /// `image`.
    #[serde(default)]
    pub(crate) image: String,
    /// `imageID`.
    #[serde(default, rename = "imageID")]
    pub(crate) image_id: String,
    /// `containerID`, `<runtime>://<id>`; absent until the container has been created.
    #[serde(default, rename = "containerID")]
    pub(crate) container_id: Option<String>,
}

impl ContainerStatus {
    /// Whether this is the container with runtime ID `id` (`containerd://<id>`, `cri-o://<id>`,
    /// `docker://<id>`).
    fn has_id(&self, id: &str) -> bool {
        self.container_id
            .as_deref()
            .and_then(|full| full.split_once("://"))
            .is_some_and(|(_, bare)| bare.eq_ignore_ascii_case(id))
    }

    /// `image` and `imageID`, each once, skipping empty ones.
    fn images(&self) -> impl Iterator<Item = &str> {
        let id = (self.image_id != self.image).then_some(self.image_id.as_str());
        std::iter::once(self.image.as_str())
            .chain(id)
            .filter(|s| !s.is_empty())
    }
}

/// The result of looking a container up in the pod list.
#[derive(Debug)]
pub(crate) enum Lookup<'a> {
    /// Found.
    Found(&'a Pod, &'a ContainerStatus),
    /// No pod with that UID (yet).
    NoPod,
    /// The pod is listed, but none of its statuses names the container (yet).
    NoContainer(&'a Pod),
}

impl PodList {
    /// The pod with `pod_uid` and its container `container_id`.
    pub(crate) fn lookup(&self, pod_uid: &str, container_id: &str) -> Lookup<'_> {
        let Some(pod) = self.items.iter().find(|p| p.metadata.uid == pod_uid) else {
            return Lookup::NoPod;
        };
        let status = &pod.status;
        match status
            .container_statuses
            .iter()
            .chain(&status.init_container_statuses)
            .chain(&status.ephemeral_container_statuses)
            .find(|c| c.has_id(container_id))
        {
            Some(container) => Lookup::Found(pod, container),
            None => Lookup::NoContainer(pod),
        }
    }
}

/// The `k8s` selectors of `container` in `pod`. `node_name` stands in for an empty
/// `spec.nodeName` (which a running pod always has).
pub(crate) fn selectors(
    pod: &Pod,
    container: &ContainerStatus,
    node_name: Option<&str>,
) -> Vec<Selector> {
    let mut out = Vec::new();
    let mut push = |value: String| out.push(Selector::new("k8s", value));
    let meta = &pod.metadata;
    let spec = &pod.spec;
    let status = &pod.status;

    push(format!("ns:{}", meta.namespace));
    if !spec.service_account_name.is_empty() {
        push(format!("sa:{}", spec.service_account_name));
    }
    let node = match spec.node_name.as_str() {
        "" => node_name.unwrap_or_default(),
        node => node,
    };
    if !node.is_empty() {
        push(format!("node-name:{node}"));
    }
    push(format!("pod-uid:{}", meta.uid));
    push(format!("pod-name:{}", meta.name));
    for (key, value) in &meta.labels {
        push(format!("pod-label:{key}:{value}"));
    }
    for owner in &meta.owner_references {
        push(format!("pod-owner:{}:{}", owner.kind, owner.name));
        push(format!("pod-owner-uid:{}:{}", owner.kind, owner.uid));
    }
    push(format!(
        "pod-image-count:{}",
        status.container_statuses.len()
    ));
    push(format!(
        "pod-init-image-count:{}",
        status.init_container_statuses.len()
    ));
    for image in unique_images(&status.container_statuses) {
        push(format!("pod-image:{image}"));
    }
    for image in unique_images(&status.init_container_statuses) {
        push(format!("pod-init-image:{image}"));
    }
    push(format!("container-name:{}", container.name));
    for image in container.images() {
        push(format!("container-image:{image}"));
    }
    out
}

fn unique_images(statuses: &[ContainerStatus]) -> std::collections::BTreeSet<&str> {
    statuses.iter().flat_map(ContainerStatus::images).collect()
}

/// Kubernetes writes `null` for some empty fields; treat it as empty.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = r#"{
      "kind": "PodList", "apiVersion": "v1", "metadata": {},
      "items": [
        {"metadata": {"name": "pending", "namespace": "default", "uid": "u-pending", "labels": null},
         "spec": {"nodeName": "node-a"},
         "status": {"phase": "Pending", "containerStatuses": [{"name": "app", "image": "app:1", "imageID": "", "ready": false}]}},
        {"metadata": {"name": "web-0", "namespace": "shop", "uid": "u-web",
                      "labels": {"app": "web", "tier": ""},
                      "ownerReferences": [{"kind": "StatefulSet", "name": "web", "uid": "u-sts", "controller": true}]},
         "spec": {"serviceAccountName": "web", "nodeName": ""},
         "status": {
           "containerStatuses": [
             {"name": "nginx", "image": "docker.io/library/nginx:1.27", "imageID": "docker.io/library/nginx@sha256:aa", "containerID": "containerd://AB12"},
             {"name": "side", "image": "side:2", "imageID": "side:2", "containerID": "containerd://cd34"}],
           "initContainerStatuses": [
             {"name": "init", "image": "busybox:1.36", "imageID": "docker.io/library/busybox@sha256:bb", "containerID": "containerd://ef56"}],
           "ephemeralContainerStatuses": [
             {"name": "debugger", "image": "busybox:1.36", "imageID": "docker.io/library/busybox@sha256:bb", "containerID": "containerd://0789"}]}}
      ]}"#;

    fn values(selectors: &[Selector]) -> Vec<&str> {
        selectors.iter().map(|s| s.value.as_str()).collect()
    }

    #[test]
    fn finds_containers_in_every_status_list() {
        let list: PodList = serde_json::from_str(LIST).unwrap();
        for (id, name) in [
            ("ab12", "nginx"),
            ("cd34", "side"),
            ("ef56", "init"),
            ("0789", "debugger"),
        ] {
            match list.lookup("u-web", id) {
                Lookup::Found(pod, c) => assert_eq!(
                    (pod.metadata.name.as_str(), c.name.as_str()),
                    ("web-0", name)
                ),
                other => panic!("{id}: {other:?}"),
            }
        }
        assert!(matches!(list.lookup("u-nope", "ab12"), Lookup::NoPod));
        // A container without a containerID is not created yet.
        assert!(matches!(
            list.lookup("u-pending", "ab12"),
            Lookup::NoContainer(_)
        ));
        // The right ID in another pod does not count.
        assert!(matches!(
            list.lookup("u-pending", "cd34"),
            Lookup::NoContainer(_)
        ));
    }

    #[test]
    fn selectors_match_spire() {
        let list: PodList = serde_json::from_str(LIST).unwrap();
        let Lookup::Found(pod, container) = list.lookup("u-web", "ab12") else {
            panic!("not found");
        };
        assert_eq!(
            values(&selectors(pod, container, Some("node-a"))),
            [
                "ns:shop",
                "sa:web",
                "node-name:node-a",
                "pod-uid:u-web",
                "pod-name:web-0",
                "pod-label:app:web",
                "pod-label:tier:",
                "pod-owner:StatefulSet:web",
                "pod-owner-uid:StatefulSet:u-sts",
                "pod-image-count:2",
                "pod-init-image-count:1",
                "pod-image:docker.io/library/nginx:1.27",
                "pod-image:docker.io/library/nginx@sha256:aa",
                "pod-image:side:2",
                "pod-init-image:busybox:1.36",
                "pod-init-image:docker.io/library/busybox@sha256:bb",
                "container-name:nginx",
                "container-image:docker.io/library/nginx:1.27",
                "container-image:docker.io/library/nginx@sha256:aa",
            ]
        );
        assert!(
            selectors(pod, container, Some("x"))
                .iter()
                .all(|s| s.kind == "k8s")
        );
        // Same image and imageID: one selector.
        let Lookup::Found(pod, side) = list.lookup("u-web", "cd34") else {
            panic!("not found");
        };
        let side = selectors(pod, side, None);
        let side = values(&side);
        assert_eq!(
            side.iter()
                .filter(|v| v.starts_with("container-image:"))
                .count(),
            1
        );
        assert!(!side.iter().any(|v| v.starts_with("node-name:")));
    }

    #[test]
    fn nulls_and_missing_fields_are_empty() {
        let list: PodList = serde_json::from_str(r#"{"items": null}"#).unwrap();
        assert!(list.items.is_empty());
        let list: PodList = serde_json::from_str(
            r#"{"items": [{"metadata": {"uid": "u"}, "spec": null, "status": null}]}"#,
        )
        .unwrap();
        assert!(matches!(list.lookup("u", "ab"), Lookup::NoContainer(_)));
        assert!(serde_json::from_str::<PodList>(r#"{"items": {}}"#).is_err());
    }
}
