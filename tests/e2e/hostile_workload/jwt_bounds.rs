//! Issue 13 item 8 (and issue 14 item 3's audience part): JWT requests are bounded. A local
//! caller asks a real agent for JWT-SVIDs with more audiences, or longer ones, than
//! `lanyard_jwt` allows (16 values of at most 512 bytes) and is refused with `InvalidArgument`
//! naming the limit, on `FetchJWTSVID` and `ValidateJWTSVID` alike; the boundary itself is
//! served; and a legitimate client gets its token while the refused requests keep coming. The
//! server enforces the same bounds on `MintJwtSvids` (over its real mTLS agent API), and
//! refuses an entry named twice in one call.

use lanyard_proto::lanyard::agent::v1::mint_jwt_svid_result::Result as Minted;
use lanyard_proto::workload::spiffe_workload_api_client::SpiffeWorkloadApiClient;
use lanyard_proto::workload::{JwtsvidRequest, ValidateJwtsvidRequest};
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::agent::TestAgent;
use crate::agent_client::{connect, wait_for_svids, with_header};
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::{PATIENCE, Server};
use crate::store::Store;

const WORKLOAD: &str = "spiffe://example.org/hostile/jwt";

/// `n` distinct audiences of `len` bytes each.
fn audiences(n: usize, len: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let tag = format!("aud{i}-");
            format!("{tag}{}", "x".repeat(len - tag.len()))
        })
        .collect()
}

async fn fetch(
    client: &mut SpiffeWorkloadApiClient<Channel>,
    audience: Vec<String>,
) -> Result<String, Status> {
    let resp = tokio::time::timeout(
        PATIENCE,
        client.fetch_jwtsvid(with_header(JwtsvidRequest {
            audience,
            spiffe_id: String::new(),
        })),
    )
    .await
    .expect("FetchJWTSVID did not answer")?
    .into_inner();
    assert_eq!(resp.svids.len(), 1, "{resp:?}");
    assert_eq!(resp.svids[0].spiffe_id, WORKLOAD);
    Ok(resp.svids[0].svid.clone())
}

async fn validate(
    client: &mut SpiffeWorkloadApiClient<Channel>,
    audience: &str,
    token: &str,
) -> Result<String, Status> {
    let resp = tokio::time::timeout(
        PATIENCE,
        client.validate_jwtsvid(with_header(ValidateJwtsvidRequest {
            audience: audience.to_owned(),
            svid: token.to_owned(),
        })),
    )
    .await
    .expect("ValidateJWTSVID did not answer")?
    .into_inner();
    Ok(resp.spiffe_id)
}

fn as_strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn assert_refused(result: Result<String, Status>, message: &str, agent: &Agent) {
    match result {
        Err(s) => {
            assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
            assert_eq!(s.message(), message);
        }
        Ok(token) => panic!(
            "served beyond the bound ({message}): {token}\n{}",
            agent.log_text()
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_requests_beyond_the_audience_bounds_are_refused_and_the_boundary_is_served() {
    let server = Server::start(Store::Sqlite).await;
    let agent = Agent::start(&server).await;
    create_uid_entry(&server, WORKLOAD, &agent.id, my_uid(), &[]).await;
    wait_for_svids(&agent.socket, &[WORKLOAD]).await;

    // The attacker: a stream of oversized requests on its own connection, for the whole test.
    let socket = agent.socket.clone();
    let attacker = tokio::spawn(async move {
        let mut client = connect(&socket).await;
        let mut refused = 0u32;
        loop {
            for audience in [audiences(1000, 8), audiences(1, 4096)] {
                match fetch(&mut client, audience).await {
                    Err(s) if s.code() == Code::InvalidArgument => refused += 1,
                    other => panic!("an oversized request was not refused: {other:?}"),
                }
            }
            if refused >= 200 {
                return refused;
            }
        }
    });

    let mut client = connect(&agent.socket).await;
    // The legitimate client, while the attack runs.
    let token = fetch(&mut client, vec!["payments".to_owned()])
        .await
        .unwrap_or_else(|s| {
            panic!(
                "the legitimate client was refused: {s:?}\n{}",
                agent.log_text()
            )
        });
    assert_eq!(
        validate(&mut client, "payments", &token).await.unwrap(),
        WORKLOAD
    );

    // FetchJWTSVID: one audience too many, one byte too long.
    assert_refused(
        fetch(&mut client, audiences(17, 8)).await,
        "at most 16 audiences are allowed (got 17)",
        &agent,
    );
    let mut long = audiences(3, 8);
    long[1] = "y".repeat(513);
    assert_refused(
        fetch(&mut client, long).await,
        "an audience may be at most 512 bytes (got 513)",
        &agent,
    );

    // The boundary holds: 16 audiences of 512 bytes are served, and the token carries them all.
    let wide = audiences(16, 512);
    let wide_token = fetch(&mut client, wide.clone())
        .await
        .unwrap_or_else(|s| panic!("the boundary was refused: {s:?}\n{}", agent.log_text()));
    let claims = lanyard_jwt::unverified_claims(&wide_token).unwrap();
    assert_eq!(
        claims["aud"].as_array().map(Vec::len),
        Some(16),
        "{claims:?}"
    );

    // ValidateJWTSVID: a 512-byte audience validates; 513 bytes are refused before the token
    // is even looked at.
    assert_eq!(
        validate(&mut client, &wide[15], &wide_token).await.unwrap(),
        WORKLOAD
    );
    assert_refused(
        validate(&mut client, &"z".repeat(513), &wide_token).await,
        "an audience may be at most 512 bytes (got 513)",
        &agent,
    );

    let refused = tokio::time::timeout(PATIENCE, attacker)
        .await
        .expect("the attacker's requests stopped being answered")
        .unwrap();
    assert!(refused >= 200);
    // Still serving the legitimate client after the attack (from its cache or a new mint).
    let again = fetch(&mut client, vec!["payments".to_owned()])
        .await
        .unwrap();
    assert_eq!(
        validate(&mut client, "payments", &again).await.unwrap(),
        WORKLOAD
    );
}

datastore_tests!(mint_jwt_svids_enforces_the_same_bounds_and_refuses_repeated_entries);

async fn mint_jwt_svids_enforces_the_same_bounds_and_refuses_repeated_entries(store: Store) {
    let server = Server::start(store).await;
    let (token, agent_id, _) = server.token(&[]).await;
    let mut agent = TestAgent::attest(&server, &token).await.unwrap();
    let entry = server
        .create_entry("spiffe://example.org/hostile/mint", &agent_id)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let too_many = audiences(17, 8);
    let s = agent
        .mint_jwt(&[&entry], &as_strs(&too_many))
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
    assert_eq!(s.message(), "at most 16 audiences are allowed (got 17)");

    let too_long = vec!["svc".to_owned(), "y".repeat(513)];
    let s = agent
        .mint_jwt(&[&entry], &as_strs(&too_long))
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
    assert_eq!(
        s.message(),
        "an audience may be at most 512 bytes (got 513)"
    );

    let s = agent
        .mint_jwt(&[&entry, &entry], &["svc"])
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
    assert!(s.message().contains("more than once"), "{s:?}");

    let boundary = audiences(16, 512);
    let results = agent
        .mint_jwt(&[&entry], &as_strs(&boundary))
        .await
        .unwrap();
    let Some(Minted::Svid(svid)) = &results[0].result else {
        panic!("the boundary was not minted: {results:?}");
    };
    let claims = lanyard_jwt::unverified_claims(&svid.token).unwrap();
    assert_eq!(
        claims["aud"].as_array().map(Vec::len),
        Some(16),
        "{claims:?}"
    );
}
