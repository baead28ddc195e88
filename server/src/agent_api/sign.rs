//! `BatchSignX509Svids`: workload X.509-SVIDs for authorized entries.
//!
//! A call carries 1 to [`MAX_BATCH`] items, each naming a different entry; at most
//! `[agent_api] max_concurrent_signs_per_agent` calls of one agent sign at a time.

use std::time::{Duration, Instant, SystemTime};

use lanyard_datastore::AttestedAgent;
use lanyard_proto::lanyard::agent::v1 as pb;
use lanyard_proto::lanyard::types::v1 as types;
use lanyard_x509::parse_csr;
use tonic::{Code, Response, Status};

use super::attest::svid_to_pb;
use super::{AgentApi, MAX_BATCH, authorized_entry, check_unique, unix};
use crate::metrics::{SignOutcome, SvidKind};

fn item_error(code: Code, message: String) -> pb::sign_x509_svid_result::Result {
    pb::sign_x509_svid_result::Result::Error(types::Status {
        code: code as i32,
        message,
    })
}

pub(super) async fn batch_sign(
    api: &AgentApi,
    agent: AttestedAgent,
    req: pb::BatchSignX509SvidsRequest,
) -> Result<Response<pb::BatchSignX509SvidsResponse>, Status> {
    if req.items.is_empty() {
        return Err(Status::invalid_argument("items is empty: nothing to sign"));
    }
    if req.items.len() > MAX_BATCH {
        return Err(Status::invalid_argument(format!(
            "{} items in one call; at most {MAX_BATCH} are allowed: split the batch",
            req.items.len()
        )));
    }
    check_unique("items", req.items.iter().map(|i| i.entry_id.as_str()))?;
    let turn = api.signs.turn(&agent.spiffe_id).await?;
    let parents = api
        .cache
        .authorized_parents(&agent.spiffe_id, &agent.selectors);
    let api = api.clone();
    // Signing is CPU-bound: keep it off the async workers.
    let results = tokio::task::spawn_blocking(move || {
        let _turn = turn;
        let now = SystemTime::now();
        req.items
            .into_iter()
            .map(|item| sign_one(&api, &agent, &parents, item, now))
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| Status::internal(format!("signing task failed: {e}")))?;
    Ok(Response::new(pb::BatchSignX509SvidsResponse { results }))
}

fn sign_one(
    api: &AgentApi,
    agent: &AttestedAgent,
    parents: &std::collections::BTreeSet<lanyard_id::SpiffeId>,
    item: pb::SignX509SvidItem,
    now: SystemTime,
) -> pb::SignX509SvidResult {
    let entry_id = item.entry_id;
    let signed = |outcome, took| api.metrics.signed(SvidKind::X509, outcome, took);
    let result = match authorized_entry(&api.cache, &agent.spiffe_id, parents, &entry_id, now) {
        Err(denied) => {
            signed(SignOutcome::Denied, None);
            pb::sign_x509_svid_result::Result::Error(denied)
        }
        Ok(e) => match parse_csr(&item.csr) {
            Err(err) => {
                signed(SignOutcome::Invalid, None);
                item_error(
                    Code::InvalidArgument,
                    format!("CSR for entry {entry_id:?} rejected: {err}"),
                )
            }
            Ok(spki) => {
                let ttl = match e.x509_svid_ttl {
                    0 => api.state.default_x509_ttl(),
                    s => Duration::from_secs(u64::from(s)),
                };
                let started = Instant::now();
                let svid = api.state.ca().sign_x509_svid(
                    &spki,
                    e.spiffe_id.clone(),
                    e.dns_names.clone(),
                    ttl,
                    now,
                );
                let took = Some(started.elapsed());
                match svid {
                    Ok(svid) => {
                        signed(SignOutcome::Issued, took);
                        tracing::info!(
                            target: "audit",
                            event = "x509_svid_issued",
                            agent = %agent.spiffe_id,
                            entry = %entry_id,
                            spiffe_id = %e.spiffe_id,
                            serial = %svid.serial_hex,
                            expires_at = unix(svid.not_after),
                            "X.509-SVID issued"
                        );
                        pb::sign_x509_svid_result::Result::Svid(svid_to_pb(&svid))
                    }
                    Err(err) => {
                        signed(SignOutcome::Failed, took);
                        tracing::error!(entry = %entry_id, error = %err, "signing failed");
                        item_error(Code::Unavailable, format!("signing failed: {err}"))
                    }
                }
            }
        },
    };
    pb::SignX509SvidResult {
        entry_id,
        result: Some(result),
    }
}

#[cfg(test)]
mod tests {
    use lanyard_datastore::{Entry, Selector};
    use lanyard_id::SpiffeId;

    use super::*;
    use crate::cache::EntryCache;

    #[tokio::test]
    async fn refuses_repeated_entries_and_oversized_batches_before_signing() {
        let dir = tempfile::tempdir().unwrap();
        let (ds, td, state) = super::super::test_server(dir.path()).await;
        let parent = SpiffeId::parse("spiffe://example.org/agent/a").unwrap();
        let entry = ds
            .create_entry(Entry::new(
                SpiffeId::parse("spiffe://example.org/web").unwrap(),
                parent.clone(),
                vec![Selector::new("unix", "uid:1000").unwrap()],
            ))
            .await
            .unwrap();
        let cache = EntryCache::load(ds, td, state.server_id().clone())
            .await
            .unwrap();
        let api = AgentApi::new(state, cache, vec![]);
        let agent = super::super::test_agent(parent.as_str(), "", vec![]);
        let csr = || {
            lanyard_x509::build_csr(
                &lanyard_x509::KeyPair::generate(lanyard_x509::KeyType::EcP256).unwrap(),
            )
            .unwrap()
        };
        let item = |entry_id: &str| pb::SignX509SvidItem {
            entry_id: entry_id.to_owned(),
            csr: csr(),
        };
        let call = |items| batch_sign(&api, agent.clone(), pb::BatchSignX509SvidsRequest { items });

        let s = call(vec![item(&entry.id), item("other"), item(&entry.id)])
            .await
            .unwrap_err();
        assert_eq!(s.code(), Code::InvalidArgument);
        assert_eq!(
            s.message(),
            format!(
                "entry id {:?} appears more than once in items: name each entry once",
                entry.id
            )
        );
        let many: Vec<_> = (0..=MAX_BATCH)
            .map(|i| pb::SignX509SvidItem {
                entry_id: format!("e{i}"),
                csr: Vec::new(),
            })
            .collect();
        let s = call(many).await.unwrap_err();
        assert_eq!(s.code(), Code::InvalidArgument);
        assert_eq!(
            s.message(),
            "501 items in one call; at most 500 are allowed: split the batch"
        );

        // Named once, the entry is signed.
        let res = call(vec![item(&entry.id)]).await.unwrap().into_inner();
        assert!(
            matches!(
                res.results[0].result,
                Some(pb::sign_x509_svid_result::Result::Svid(_))
            ),
            "{res:?}"
        );
    }
}
