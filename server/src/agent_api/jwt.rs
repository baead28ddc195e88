//! `MintJwtSvids`: workload JWT-SVIDs for authorized entries.
//!
//! Authorization is exactly `BatchSignX509Svids`'s (the entry's parent is one of the agent's
//! authorized parents and the entry has not expired); `sub` and the TTL come from the entry,
//! only `aud` from the request (JWT-SVID §3.2: one or more non-empty values; Lanyard: at most
//! 16, each at most 512 bytes). A request naming an entry twice is refused.

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime};

use lanyard_datastore::AttestedAgent;
use lanyard_id::SpiffeId;
use lanyard_proto::lanyard::agent::v1 as pb;
use lanyard_proto::lanyard::types::v1 as types;
use tonic::{Code, Response, Status};

use super::{AgentApi, MAX_BATCH, authorized_entry, check_unique};
use crate::metrics::{SignOutcome, SvidKind};

fn item_error(code: Code, message: String) -> pb::mint_jwt_svid_result::Result {
    pb::mint_jwt_svid_result::Result::Error(types::Status {
        code: code as i32,
        message,
    })
}

/// Checks the `audience` of a mint request: one to [`lanyard_jwt::MAX_AUDIENCES`] non-empty
/// values of at most [`lanyard_jwt::MAX_AUDIENCE_LEN`] bytes (JWT-SVID §3.2 and Lanyard's
/// bounds; the agent enforces the same ones before it asks).
pub(crate) fn check_audience(audience: &[String]) -> Result<(), Status> {
    lanyard_jwt::check_audiences(audience).map_err(|e| Status::invalid_argument(e.to_string()))
}

pub(super) async fn mint(
    api: &AgentApi,
    agent: AttestedAgent,
    req: pb::MintJwtSvidsRequest,
) -> Result<Response<pb::MintJwtSvidsResponse>, Status> {
    if req.entry_ids.is_empty() {
        return Err(Status::invalid_argument(
            "entry_ids is empty: nothing to mint",
        ));
    }
    if req.entry_ids.len() > MAX_BATCH {
        return Err(Status::invalid_argument(format!(
            "{} entry ids in one call; at most {MAX_BATCH} are allowed: split the batch",
            req.entry_ids.len()
        )));
    }
    check_unique("entry_ids", req.entry_ids.iter().map(String::as_str))?;
    check_audience(&req.audience)?;
    let turn = api.signs.turn(&agent.spiffe_id).await?;
    let parents = api
        .cache
        .authorized_parents(&agent.spiffe_id, &agent.selectors);
    let api = api.clone();
    // Signing is CPU-bound (RSA keys especially): keep it off the async workers.
    let results = tokio::task::spawn_blocking(move || {
        let _turn = turn;
        let now = SystemTime::now();
        req.entry_ids
            .into_iter()
            .map(|id| mint_one(&api, &agent, &parents, id, &req.audience, now))
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| Status::internal(format!("minting task failed: {e}")))?;
    Ok(Response::new(pb::MintJwtSvidsResponse { results }))
}

fn mint_one(
    api: &AgentApi,
    agent: &AttestedAgent,
    parents: &BTreeSet<SpiffeId>,
    entry_id: String,
    audience: &[String],
    now: SystemTime,
) -> pb::MintJwtSvidResult {
    let signed = |outcome, took| api.metrics.signed(SvidKind::Jwt, outcome, took);
    let result = match authorized_entry(&api.cache, &agent.spiffe_id, parents, &entry_id, now) {
        Err(denied) => {
            signed(SignOutcome::Denied, None);
            pb::mint_jwt_svid_result::Result::Error(denied)
        }
        Ok(e) => {
            let ttl = match e.jwt_svid_ttl {
                0 => api.state.default_jwt_ttl(),
                s => Duration::from_secs(u64::from(s)),
            };
            let started = Instant::now();
            let minted =
                api.state
                    .ca()
                    .mint_jwt_svid(e.spiffe_id.clone(), audience.to_vec(), ttl, now);
            let took = Some(started.elapsed());
            match minted {
                Ok(minted) => {
                    signed(SignOutcome::Issued, took);
                    tracing::info!(
                        target: "audit",
                        event = "jwt_svid_issued",
                        agent = %agent.spiffe_id,
                        entry = %entry_id,
                        spiffe_id = %e.spiffe_id,
                        kid = %minted.kid,
                        expires_at = minted.expires_at,
                        "JWT-SVID issued"
                    );
                    pb::mint_jwt_svid_result::Result::Svid(types::JwtSvid {
                        token: minted.token,
                        spiffe_id: e.spiffe_id.to_string(),
                        expires_at: minted.expires_at,
                    })
                }
                Err(err) => {
                    let invalid = matches!(
                        err,
                        crate::ca::CaError::JwtKey(crate::ca::JwtKeyError::Mint(_))
                    );
                    signed(
                        if invalid {
                            SignOutcome::Invalid
                        } else {
                            SignOutcome::Failed
                        },
                        took,
                    );
                    tracing::error!(entry = %entry_id, error = %err, "JWT minting failed");
                    item_error(Code::Unavailable, format!("minting failed: {err}"))
                }
            }
        }
    };
    pb::MintJwtSvidResult {
        entry_id,
        result: Some(result),
    }
}

#[cfg(test)]
mod tests {
    use lanyard_datastore::{Entry, Selector};

    use super::*;
    use crate::agent_api::unix;
    use crate::cache::EntryCache;

    fn agent(id: &str) -> AttestedAgent {
        super::super::test_agent(id, "", vec![])
    }

    #[tokio::test]
    async fn mints_for_own_entries_only() {
        let dir = tempfile::tempdir().unwrap();
        let (ds, td, state) = super::super::test_server(dir.path()).await;
        let sel = || vec![Selector::new("unix", "uid:1000").unwrap()];
        let mut mine = Entry::new(
            SpiffeId::parse("spiffe://example.org/web").unwrap(),
            SpiffeId::parse("spiffe://example.org/agent/a").unwrap(),
            sel(),
        );
        mine.jwt_svid_ttl = 120;
        let mine = ds.create_entry(mine).await.unwrap();
        let defaulted = ds
            .create_entry(Entry::new(
                SpiffeId::parse("spiffe://example.org/db").unwrap(),
                SpiffeId::parse("spiffe://example.org/agent/a").unwrap(),
                sel(),
            ))
            .await
            .unwrap();
        let theirs = ds
            .create_entry(Entry::new(
                SpiffeId::parse("spiffe://example.org/other").unwrap(),
                SpiffeId::parse("spiffe://example.org/agent/b").unwrap(),
                sel(),
            ))
            .await
            .unwrap();
        let cache = EntryCache::load(ds, td, state.server_id().clone())
            .await
            .unwrap();
        let api = AgentApi::new(state.clone(), cache, vec![]);
        let a = agent("spiffe://example.org/agent/a");

        let req = |ids: Vec<String>, audience: Vec<String>| pb::MintJwtSvidsRequest {
            entry_ids: ids,
            audience,
        };
        let ids = vec![mine.id.clone(), theirs.id.clone(), defaulted.id.clone()];
        let res = mint(&api, a.clone(), req(ids, vec!["api".to_owned()]))
            .await
            .unwrap()
            .into_inner()
            .results;
        assert_eq!(res.len(), 3);
        assert_eq!(res[1].entry_id, theirs.id);
        let Some(pb::mint_jwt_svid_result::Result::Error(e)) = &res[1].result else {
            panic!("{:?}", res[1]);
        };
        assert_eq!(e.code, Code::PermissionDenied as i32);

        let bundle = state.ca().bundle().await.unwrap();
        let now = unix(SystemTime::now());
        for (r, sub, ttl) in [
            (&res[0], "spiffe://example.org/web", 120),
            (&res[2], "spiffe://example.org/db", 300),
        ] {
            let Some(pb::mint_jwt_svid_result::Result::Svid(svid)) = &r.result else {
                panic!("{r:?}");
            };
            assert_eq!(svid.spiffe_id, sub);
            let v = lanyard_jwt::validate_jwt_svid(&svid.token, "api", &bundle, now).unwrap();
            assert_eq!(v.spiffe_id.as_str(), sub);
            assert_eq!(v.claims["aud"], "api");
            assert_eq!(v.expires_at, svid.expires_at);
            assert!(
                (v.expires_at - now - ttl).abs() <= 2,
                "{} {now}",
                v.expires_at
            );
            assert_eq!(v.kid, state.ca().active_jwt_kid().unwrap());
        }

        for audience in [vec![], vec!["api".to_owned(), String::new()]] {
            let s = mint(&api, a.clone(), req(vec![mine.id.clone()], audience))
                .await
                .unwrap_err();
            assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
        }
        let s = mint(&api, a, req(vec![], vec!["api".to_owned()]))
            .await
            .unwrap_err();
        assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
    }

    #[tokio::test]
    async fn refuses_unbounded_audiences_and_repeated_entries() {
        let dir = tempfile::tempdir().unwrap();
        let (ds, td, state) = super::super::test_server(dir.path()).await;
        let entry = ds
            .create_entry(Entry::new(
                SpiffeId::parse("spiffe://example.org/web").unwrap(),
                SpiffeId::parse("spiffe://example.org/agent/a").unwrap(),
                vec![Selector::new("unix", "uid:1000").unwrap()],
            ))
            .await
            .unwrap();
        let cache = EntryCache::load(ds, td, state.server_id().clone())
            .await
            .unwrap();
        let api = AgentApi::new(state.clone(), cache, vec![]);
        let a = agent("spiffe://example.org/agent/a");
        let call = |ids: Vec<String>, audience: Vec<String>| {
            mint(
                &api,
                a.clone(),
                pb::MintJwtSvidsRequest {
                    entry_ids: ids,
                    audience,
                },
            )
        };
        let one = || vec![entry.id.clone()];
        let auds = |n: usize, len: usize| -> Vec<String> {
            (0..n).map(|i| format!("{i:x}").repeat(len)).collect()
        };

        let s = call(one(), auds(17, 1)).await.unwrap_err();
        assert_eq!(s.code(), Code::InvalidArgument);
        assert_eq!(s.message(), "at most 16 audiences are allowed (got 17)");
        let mut long = auds(1, 1);
        long.push("x".repeat(513));
        let s = call(one(), long).await.unwrap_err();
        assert_eq!(s.code(), Code::InvalidArgument);
        assert_eq!(
            s.message(),
            "an audience may be at most 512 bytes (got 513)"
        );
        let s = call(vec![entry.id.clone(), entry.id.clone()], auds(1, 1))
            .await
            .unwrap_err();
        assert_eq!(s.code(), Code::InvalidArgument);
        assert!(s.message().contains("more than once"), "{s:?}");

        // The boundary itself is served, and every audience is in the token.
        let res = call(one(), auds(16, 512))
            .await
            .unwrap()
            .into_inner()
            .results;
        let Some(pb::mint_jwt_svid_result::Result::Svid(svid)) = &res[0].result else {
            panic!("{res:?}");
        };
        let bundle = state.ca().bundle().await.unwrap();
        let last = auds(16, 512).pop().unwrap();
        let v =
            lanyard_jwt::validate_jwt_svid(&svid.token, &last, &bundle, unix(SystemTime::now()))
                .unwrap();
        assert_eq!(v.claims["aud"].as_array().unwrap().len(), 16);
    }
}
