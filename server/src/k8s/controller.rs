//! Auto-registration: keeps one registration entry per (ClusterSPIFFEID, matching pod) in step
//! with the cluster, and reports on each resource's status.
//!
//! Level-triggered: watchers (kube-runtime reflectors) keep ClusterSPIFFEIDs, pods, namespaces
//! and nodes in memory; any change marks the state dirty, and a reconciliation (debounced)
//! computes the desired entries from scratch and applies the difference to the datastore — the
//! same writes as the admin API, so agents are told by push. Entries carry a deterministic ID
//! (from the resource name and pod UID) and the owner [`owner`], so a restarted controller finds
//! its entries again instead of duplicating them.
//!
//! Entry shape (as SPIRE's controller-manager): SPIFFE ID from the template, parent the node's
//! agent `spiffe://<td>/lanyard/agent/k8s_psat/<cluster>/<node UID>`, one selector
//! `k8s:pod-uid:<uid>`.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt as _, watcher};
use lanyard_datastore::{Datastore, DatastoreError, Entry, EntryFilter, PageRequest, Selector};
use lanyard_id::{SpiffeId, TrustDomain};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_stream::StreamExt as _;

use super::crd::{ClusterSPIFFEID, ClusterSpiffeIdSpec, ClusterSpiffeIdStatus};
use super::template::{TemplateData, render};

/// How long to gather changes before reconciling.
const DEBOUNCE: Duration = Duration::from_millis(100);
/// Reconcile at least this often, to repair drift (e.g. an entry deleted by hand).
const RESYNC: Duration = Duration::from_secs(60);

/// The owner recorded on entries of `cluster`.
pub fn owner(cluster: &str) -> String {
    format!("lanyard-k8s-auto-registration/{cluster}")
}

/// The controller of one cluster.
#[derive(Clone)]
pub struct AutoRegistration {
    ds: Datastore,
    td: TrustDomain,
    cluster: String,
    client: kube::Client,
}

impl std::fmt::Debug for AutoRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AutoRegistration")
            .field("td", &self.td)
            .field("cluster", &self.cluster)
            .finish_non_exhaustive()
    }
}

/// The in-memory view of the cluster.
struct Stores {
    crs: Store<ClusterSPIFFEID>,
    pods: Store<Pod>,
    namespaces: Store<Namespace>,
    nodes: Store<Node>,
}

/// Follows one kind into a store, marking `dirty` on every event, in a task of `tasks` (so the
/// watch ends with the controller, which stops when its server stops leading).
fn follow<K>(
    tasks: &mut JoinSet<()>,
    api: Api<K>,
    dirty: mpsc::Sender<()>,
    what: &'static str,
) -> Store<K>
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = reflector::store();
    let stream =
        reflector::reflector(writer, watcher(api, watcher::Config::default())).default_backoff();
    tasks.spawn(async move {
        tokio::pin!(stream);
        while let Some(event) = stream.next().await {
            if let Err(e) = event {
                tracing::warn!(kind = what, error = %e, "Kubernetes watch failed; retrying");
            }
            let _ = dirty.try_send(());
        }
    });
    reader
}

impl AutoRegistration {
    /// A controller writing to `ds` for the pods of `cluster`, reached through `client`.
    pub fn new(ds: Datastore, td: TrustDomain, cluster: String, client: kube::Client) -> Self {
        Self {
            ds,
            td,
            cluster,
            client,
        }
    }

    /// Runs until `shutdown` resolves (the process stops, or it stops leading); its watches
    /// end with it.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let (dirty_tx, mut dirty) = mpsc::channel(1);
        // Dropped when `run` returns, which aborts the watches.
        let mut watches = JoinSet::new();
        let w = &mut watches;
        let stores = Stores {
            crs: follow(
                w,
                Api::all(self.client.clone()),
                dirty_tx.clone(),
                "ClusterSPIFFEID",
            ),
            pods: follow(w, Api::all(self.client.clone()), dirty_tx.clone(), "Pod"),
            namespaces: follow(
                w,
                Api::all(self.client.clone()),
                dirty_tx.clone(),
                "Namespace",
            ),
            nodes: follow(w, Api::all(self.client.clone()), dirty_tx, "Node"),
        };
        let ready = async {
            let _ = stores.crs.wait_until_ready().await;
            let _ = stores.pods.wait_until_ready().await;
            let _ = stores.namespaces.wait_until_ready().await;
            let _ = stores.nodes.wait_until_ready().await;
        };
        tokio::select! {
            () = &mut shutdown => return,
            () = ready => {}
        }
        tracing::info!(cluster = %self.cluster, "Kubernetes auto-registration running");
        let mut statuses: HashMap<String, ClusterSpiffeIdStatus> = HashMap::new();
        loop {
            // A pass is cut short at `shutdown`: each datastore write is a transaction of its
            // own, and a new leader's first pass completes whatever this one left.
            let pass = tokio::select! {
                () = &mut shutdown => return,
                pass = self.reconcile(&stores, &mut statuses) => pass,
            };
            if let Err(e) = pass {
                tracing::warn!(cluster = %self.cluster, error = %e, "auto-registration reconciliation failed; retrying");
                tokio::select! {
                    () = &mut shutdown => return,
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
            tokio::select! {
                () = &mut shutdown => return,
                _ = dirty.recv() => {}
                () = tokio::time::sleep(RESYNC) => {}
            }
            // Gather a burst of changes into one reconciliation.
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(DEBOUNCE) => {}
            }
            while dirty.try_recv().is_ok() {}
        }
    }

    /// One pass: desired entries from the stores, applied to the datastore; statuses patched.
    async fn reconcile(
        &self,
        stores: &Stores,
        statuses: &mut HashMap<String, ClusterSpiffeIdStatus>,
    ) -> Result<(), String> {
        let (desired, mut new_statuses) = self.desired(stores);
        let owner = owner(&self.cluster);
        let existing: BTreeMap<String, Entry> = self
            .ds
            .list_entries(&EntryFilter::default(), &PageRequest::default())
            .await
            .map_err(|e| e.to_string())?
            .items
            .into_iter()
            .filter(|e| e.owner == owner)
            .map(|e| (e.id.clone(), e))
            .collect();
        for id in existing.keys().filter(|id| !desired.contains_key(*id)) {
            match self.ds.delete_entry(id).await {
                Ok(e) => {
                    tracing::info!(entry_id = %id, spiffe_id = %e.spiffe_id, "auto-registration deleted an entry")
                }
                Err(DatastoreError::NotFound { .. }) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        for (id, (cr, entry)) in &desired {
            let result = match existing.get(id) {
                Some(old) if same(old, entry) => Ok(()),
                Some(_) => self.ds.update_entry(entry.clone(), None).await.map(|e| {
                    tracing::info!(entry_id = %id, spiffe_id = %e.spiffe_id, "auto-registration updated an entry");
                }),
                None => self.ds.create_entry(entry.clone()).await.map(|e| {
                    tracing::info!(entry_id = %id, spiffe_id = %e.spiffe_id, "auto-registration created an entry");
                }),
            };
            if let Err(e) = result {
                let status = new_statuses.entry(cr.clone()).or_default();
                status.stats.entry_failures += 1;
                status.last_error.get_or_insert_with(|| {
                    format!("entry {} ({}): {e}", entry.spiffe_id, entry.description)
                });
            }
        }
        let api: Api<ClusterSPIFFEID> = Api::all(self.client.clone());
        for (name, status) in new_statuses {
            if statuses.get(&name) == Some(&status) {
                continue;
            }
            let patch = serde_json::json!({ "status": status });
            match api
                .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => {
                    statuses.insert(name, status);
                }
                Err(e) => {
                    tracing::warn!(resource = %name, error = %e, "cannot update ClusterSPIFFEID status")
                }
            }
        }
        Ok(())
    }

    /// The entries the resources ask for, by ID (with the resource name), and each resource's
    /// status before writing.
    fn desired(
        &self,
        stores: &Stores,
    ) -> (
        BTreeMap<String, (String, Entry)>,
        HashMap<String, ClusterSpiffeIdStatus>,
    ) {
        let nodes: HashMap<String, String> = stores
            .nodes
            .state()
            .iter()
            .filter_map(|n| Some((n.metadata.name.clone()?, n.metadata.uid.clone()?)))
            .collect();
        let namespaces: HashMap<String, BTreeMap<String, String>> = stores
            .namespaces
            .state()
            .iter()
            .filter_map(|n| {
                Some((
                    n.metadata.name.clone()?,
                    n.metadata.labels.clone().unwrap_or_default(),
                ))
            })
            .collect();
        let pods = stores.pods.state();
        let mut desired = BTreeMap::new();
        let mut statuses = HashMap::new();
        for cr in stores.crs.state() {
            let Some(name) = cr.metadata.name.clone() else {
                continue;
            };
            let mut status = ClusterSpiffeIdStatus::default();
            let selected_ns: Vec<&String> = namespaces
                .iter()
                .filter(|(_, labels)| matches(cr.spec.namespace_selector.as_ref(), labels))
                .map(|(n, _)| n)
                .collect();
            status.stats.namespaces_selected = selected_ns.len() as u64;
            for pod in pods.iter() {
                let meta = &pod.metadata;
                let (Some(ns), Some(pod_name), Some(uid)) = (
                    meta.namespace.as_ref(),
                    meta.name.as_ref(),
                    meta.uid.as_ref(),
                ) else {
                    continue;
                };
                let terminal = pod
                    .status
                    .as_ref()
                    .and_then(|s| s.phase.as_deref())
                    .is_some_and(|p| p == "Succeeded" || p == "Failed");
                if terminal
                    || meta.deletion_timestamp.is_some()
                    || !selected_ns.contains(&ns)
                    || !matches(
                        cr.spec.pod_selector.as_ref(),
                        meta.labels.as_ref().unwrap_or(&BTreeMap::new()),
                    )
                {
                    continue;
                }
                status.stats.pods_selected += 1;
                match self.entry_for(&cr, &name, pod, &nodes) {
                    Ok(Some(entry)) => {
                        status.stats.entries_to_set += 1;
                        desired.insert(entry.id.clone(), (name.clone(), entry));
                    }
                    // Not scheduled yet: no node, no agent, nothing to register.
                    Ok(None) => {}
                    Err(e) => {
                        status.stats.entry_failures += 1;
                        status
                            .last_error
                            .get_or_insert_with(|| format!("pod {ns}/{pod_name} ({uid}): {e}"));
                    }
                }
            }
            statuses.insert(name, status);
        }
        (desired, statuses)
    }

    fn entry_for(
        &self,
        cr: &ClusterSPIFFEID,
        cr_name: &str,
        pod: &Pod,
        nodes: &HashMap<String, String>,
    ) -> Result<Option<Entry>, String> {
        let meta = &pod.metadata;
        let spec = pod.spec.clone().unwrap_or_default();
        let Some(node_name) = spec.node_name.clone().filter(|n| !n.is_empty()) else {
            return Ok(None);
        };
        let node_uid = nodes
            .get(&node_name)
            .ok_or_else(|| format!("node {node_name} is not known yet"))?;
        let data = TemplateData {
            trust_domain: self.td.name().to_owned(),
            cluster_name: self.cluster.clone(),
            pod_name: meta.name.clone().unwrap_or_default(),
            pod_namespace: meta.namespace.clone().unwrap_or_default(),
            pod_uid: meta.uid.clone().unwrap_or_default(),
            labels: meta.labels.clone().unwrap_or_default(),
            annotations: meta.annotations.clone().unwrap_or_default(),
            service_account: spec
                .service_account_name
                .clone()
                .unwrap_or_else(|| "default".to_owned()),
            node_name,
        };
        let rendered = render(&cr.spec.spiffe_id_template, &data)?;
        let spiffe_id = SpiffeId::parse(&rendered)
            .map_err(|e| format!("spiffeIDTemplate gave {rendered:?}: {e}"))?;
        if spiffe_id.trust_domain() != self.td {
            return Err(format!(
                "spiffeIDTemplate gave {rendered}, outside the trust domain {}",
                self.td
            ));
        }
        if crate::state::is_reserved_path(spiffe_id.path()) {
            return Err(format!(
                "spiffeIDTemplate gave {rendered}, under {}/, which is reserved for the server's and the agents' own IDs",
                crate::state::RESERVED_PATH
            ));
        }
        let parent_id = self
            .td
            .id_with_path(&format!(
                "/lanyard/agent/k8s_psat/{}/{node_uid}",
                self.cluster
            ))
            .map_err(|e| format!("cannot name the node's agent: {e}"))?;
        let selector = Selector::new("k8s", format!("pod-uid:{}", data.pod_uid))
            .map_err(|e| format!("pod UID selector: {e}"))?;
        let mut entry = Entry::new(spiffe_id, parent_id, vec![selector]);
        entry.id = entry_id(cr_name, &data.pod_uid);
        entry.dns_names = cr
            .spec
            .dns_name_templates
            .iter()
            .map(|t| render(t, &data))
            .collect::<Result<_, _>>()?;
        entry.x509_svid_ttl = ttl_seconds("ttl", cr.spec.ttl.as_deref())?;
        entry.jwt_svid_ttl = ttl_seconds("jwtTtl", cr.spec.jwt_ttl.as_deref())?;
        entry.hint = cr.spec.hint.clone().unwrap_or_default();
        entry.federates_with = federates_with(&cr.spec, &self.td)?;
        entry.owner = owner(&self.cluster);
        entry.description = format!(
            "ClusterSPIFFEID {cr_name}, pod {}/{}",
            data.pod_namespace, data.pod_name
        );
        Ok(Some(entry))
    }
}

/// The entry ID for a resource and pod: stable across restarts.
fn entry_id(cr_name: &str, pod_uid: &str) -> String {
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        format!("{cr_name}\n{pod_uid}").as_bytes(),
    );
    format!("k8s-{}", hex::encode(&digest.as_ref()[..16]))
}

fn ttl_seconds(field: &str, value: Option<&str>) -> Result<u32, String> {
    let Some(value) = value else { return Ok(0) };
    let d = humantime::parse_duration(value)
        .map_err(|e| format!("{field} {value:?}: {e} (use e.g. \"1h\")"))?;
    u32::try_from(d.as_secs())
        .ok()
        .filter(|s| *s > 0)
        .ok_or_else(|| format!("{field} {value:?} must be between 1s and 136 years"))
}

/// The resource's `federatesWith`, checked as the admin API checks an entry's (the datastore
/// refuses a domain nothing names, which the status then shows).
fn federates_with(
    spec: &ClusterSpiffeIdSpec,
    td: &TrustDomain,
) -> Result<Vec<TrustDomain>, String> {
    crate::convert::parse_federates_with(&spec.federates_with, td)
        .map_err(|e| format!("federatesWith {}", e.problem))
}

/// Whether two entries differ in anything the controller sets.
fn same(a: &Entry, b: &Entry) -> bool {
    let mut sa = a.selectors.clone();
    let mut sb = b.selectors.clone();
    sa.sort();
    sb.sort();
    a.spiffe_id == b.spiffe_id
        && a.parent_id == b.parent_id
        && sa == sb
        && a.x509_svid_ttl == b.x509_svid_ttl
        && a.jwt_svid_ttl == b.jwt_svid_ttl
        && a.dns_names == b.dns_names
        && a.hint == b.hint
        && a.owner == b.owner
        && a.description == b.description
        && a.federates_with == b.federates_with
}

/// Kubernetes label selector semantics (matchLabels AND matchExpressions); `None` matches all.
pub fn matches(selector: Option<&LabelSelector>, labels: &BTreeMap<String, String>) -> bool {
    let Some(selector) = selector else {
        return true;
    };
    let labels_ok = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let expressions_ok = selector.match_expressions.iter().flatten().all(|e| {
        let values = e.values.clone().unwrap_or_default();
        match e.operator.as_str() {
            "In" => labels.get(&e.key).is_some_and(|v| values.contains(v)),
            "NotIn" => labels.get(&e.key).is_none_or(|v| !values.contains(v)),
            "Exists" => labels.contains_key(&e.key),
            "DoesNotExist" => !labels.contains_key(&e.key),
            // An unknown operator selects nothing, as the API server would reject it.
            _ => false,
        }
    });
    labels_ok && expressions_ok
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn label_selectors_follow_kubernetes_semantics() {
        let l = labels(&[("app", "api"), ("tier", "web")]);
        assert!(matches(None, &l));
        let sel = |ml: &[(&str, &str)], ex: Vec<(&str, &str, &[&str])>| LabelSelector {
            match_labels: (!ml.is_empty()).then(|| labels(ml)),
            match_expressions: (!ex.is_empty()).then(|| {
                ex.into_iter()
                    .map(|(k, op, vs)| LabelSelectorRequirement {
                        key: k.to_owned(),
                        operator: op.to_owned(),
                        values: Some(vs.iter().map(|v| (*v).to_owned()).collect()),
                    })
                    .collect()
            }),
        };
        assert!(matches(Some(&sel(&[("app", "api")], vec![])), &l));
        assert!(!matches(Some(&sel(&[("app", "db")], vec![])), &l));
        assert!(matches(
            Some(&sel(&[], vec![("tier", "In", &["web", "x"])])),
            &l
        ));
        assert!(!matches(
            Some(&sel(&[], vec![("tier", "NotIn", &["web"])])),
            &l
        ));
        assert!(matches(
            Some(&sel(&[], vec![("zone", "DoesNotExist", &[])])),
            &l
        ));
        assert!(!matches(Some(&sel(&[], vec![("zone", "Exists", &[])])), &l));
        assert!(!matches(Some(&sel(&[], vec![("app", "Bogus", &[])])), &l));
    }

    #[test]
    fn federates_with_is_checked_and_compared() {
        let td = TrustDomain::new("example.org").unwrap();
        let spec = |tds: &[&str]| ClusterSpiffeIdSpec {
            federates_with: tds.iter().map(|t| (*t).to_owned()).collect(),
            ..ClusterSpiffeIdSpec::default()
        };
        let got = federates_with(
            &spec(&["spiffe://pay.example", "orders.example", "pay.example"]),
            &td,
        )
        .unwrap();
        let names: Vec<&str> = got.iter().map(TrustDomain::name).collect();
        assert_eq!(names, ["orders.example", "pay.example"]);
        assert!(federates_with(&spec(&[]), &td).unwrap().is_empty());
        let e = federates_with(&spec(&["example.org"]), &td).unwrap_err();
        assert!(
            e.starts_with("federatesWith \"example.org\" is this server's own trust domain"),
            "{e}"
        );
        let e = federates_with(&spec(&["Orders"]), &td).unwrap_err();
        assert!(e.contains("is not a trust domain"), "{e}");

        // A changed federatesWith is a change the controller writes.
        let id = |s: &str| SpiffeId::parse(s).unwrap();
        let a = Entry::new(
            id("spiffe://example.org/w"),
            id("spiffe://example.org/lanyard/agent/k8s_psat/prod/n"),
            vec![Selector::new("k8s", "pod-uid:u").unwrap()],
        );
        let mut b = a.clone();
        assert!(same(&a, &b));
        b.federates_with = got;
        assert!(!same(&a, &b));
    }

    #[test]
    fn entry_ids_are_stable_and_distinct() {
        assert_eq!(entry_id("a", "u1"), entry_id("a", "u1"));
        assert_ne!(entry_id("a", "u1"), entry_id("a", "u2"));
        assert_ne!(entry_id("a", "u1"), entry_id("b", "u1"));
        assert!(entry_id("a", "u1").starts_with("k8s-"));
    }
}
