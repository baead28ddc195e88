//! One write of the bundle ConfigMap against `FakeKube`: created, updated only when it
//! differs, other keys kept, an outdated read refused and done again. The retrying loop runs in
//! the end-to-end tests (`tests/e2e/k8s_bundle.rs`) on a real server.

#![allow(clippy::unwrap_used)]

use lanyard_test_support::kube::{FakeKube, configmap_path};

use super::*;
use crate::k8s::fake_client;

async fn writer(kube: &FakeKube) -> BundleConfigMap {
    BundleConfigMap::new(
        fake_client(kube).await,
        &K8sBundleConfigMapConfig {
            cluster: "prod".to_owned(),
            namespace: "lanyard".to_owned(),
            name: "bundle".to_owned(),
            key: "bundle.pem".to_owned(),
        },
    )
}

#[tokio::test]
async fn the_configmap_is_created_updated_on_change_and_shared_keys_are_kept() {
    let kube = FakeKube::start().await;
    let path = configmap_path("lanyard", "bundle");
    let w = writer(&kube).await;
    assert_eq!(w.write("PEM 1\n").await.unwrap(), Written::Created);
    let cm = kube.get(&path).unwrap();
    assert_eq!(cm["data"]["bundle.pem"], "PEM 1\n", "{cm}");
    assert_eq!(cm["metadata"]["namespace"], "lanyard", "{cm}");

    assert_eq!(w.write("PEM 1\n").await.unwrap(), Written::Unchanged);
    let writes = |kube: &FakeKube| kube.requests().iter().filter(|r| r.method != "GET").count();
    assert_eq!(writes(&kube), 1, "an unchanged bundle was written again");

    // Someone else keeps a key of their own in the ConfigMap.
    let mut cm = kube.get(&path).unwrap();
    cm["data"]["notes"] = serde_json::json!("kept");
    kube.put(&path, cm);
    assert_eq!(w.write("PEM 2\n").await.unwrap(), Written::Updated);
    let cm = kube.get(&path).unwrap();
    assert_eq!(cm["data"]["bundle.pem"], "PEM 2\n", "{cm}");
    assert_eq!(cm["data"]["notes"], "kept", "{cm}");
}

#[tokio::test]
async fn a_write_on_an_outdated_read_is_a_conflict_and_the_next_try_lands() {
    let kube = FakeKube::start().await;
    let path = configmap_path("lanyard", "bundle");
    let w = writer(&kube).await;
    w.write("PEM 1\n").await.unwrap();
    // The API server refuses the write as it does when another writer came first.
    kube.fail_writes(&path, 1, 409);
    assert!(matches!(
        w.write("PEM 2\n").await,
        Err(BundleWriteError::Conflict)
    ));
    kube.fail_writes(&path, 1, 500);
    assert!(matches!(
        w.write("PEM 2\n").await,
        Err(BundleWriteError::Api(_))
    ));
    assert_eq!(w.write("PEM 2\n").await.unwrap(), Written::Updated);
    // The patch carried the resourceVersion it read: a precondition the API server checks.
    let patch = kube
        .requests()
        .into_iter()
        .rfind(|r| r.method == "PATCH")
        .unwrap();
    assert!(
        patch.body["metadata"]["resourceVersion"].is_string(),
        "{:?}",
        patch.body
    );
    // And a stale one is refused by the fake as by the API server.
    let mut stale = kube.get(&path).unwrap();
    stale["metadata"]["resourceVersion"] = serde_json::json!("1");
    let client = fake_client(&kube).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "lanyard");
    let cm: ConfigMap = serde_json::from_value(stale).unwrap();
    let err = api
        .replace("bundle", &PostParams::default(), &cm)
        .await
        .unwrap_err();
    assert!(matches!(err, kube::Error::Api(s) if s.is_conflict()));
}
