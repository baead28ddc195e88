//! JWT-SVIDs end to end (issue 5): a real server mints, a real agent caches and serves them over
//! the Workload API, and real clients fetch and validate them: py-spiffe (through the agent and
//! locally), PyJWT (with the JWKS of FetchJWTBundles), the Rust `spiffe` crate (against the bundle
//! it streams) and the agent's own CLI. Also: MintJwtSvids authorization over mTLS, and a JWT key
//! rotation and taint as an operator runs them.

use std::process::Command;

use lanyard_proto::workload::{
    JwtBundlesRequest, JwtBundlesResponse, JwtsvidRequest, ValidateJwtsvidRequest,
};
use spiffe::{JwtSvid, SpiffeId, WorkloadApiClient};
use tokio_stream::StreamExt as _;
use tonic::{Code, Streaming};

use crate::agent::{TestAgent, td};
use crate::agent_client::{connect, json_out, run_guarded, wait_for_svids, with_header};
use crate::agent_harness::{Agent, create_uid_entry, my_uid};
use crate::harness::{PATIENCE, Server, bin};
use crate::store::Store;

const WORKLOAD: &str = "spiffe://example.org/jwt/workload";

/// A server, an agent, and an entry giving this process [`WORKLOAD`], already served.
async fn trust_domain() -> (Server, Agent) {
    let server = Server::start(Store::Sqlite).await;
    let agent = Agent::start(&server).await;
    create_uid_entry(&server, WORKLOAD, &agent.id, my_uid(), &[]).await;
    wait_for_svids(&agent.socket, &[WORKLOAD]).await;
    (server, agent)
}

/// The `kid` header of a token.
fn kid(token: &str) -> String {
    lanyard_jwt::unverified_key_id(token).unwrap_or_else(|| panic!("no kid in {token}"))
}

/// FetchJWTSVID through the generated client: the token of [`WORKLOAD`] for `audience`.
async fn fetch_token(agent: &Agent, audience: &str) -> String {
    let mut client = connect(&agent.socket).await;
    let resp = tokio::time::timeout(
        PATIENCE,
        client.fetch_jwtsvid(with_header(JwtsvidRequest {
            audience: vec![audience.to_owned()],
            spiffe_id: String::new(),
        })),
    )
    .await
    .expect("FetchJWTSVID did not answer")
    .unwrap_or_else(|s| panic!("FetchJWTSVID: {s:?}\n{}", agent.log_text()))
    .into_inner();
    assert_eq!(resp.svids.len(), 1, "{resp:?}");
    assert_eq!(resp.svids[0].spiffe_id, WORKLOAD);
    resp.svids[0].svid.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn py_spiffe_fetches_and_validates_a_jwt_svid_and_pyjwt_verifies_it() {
    let Some(py) = lanyard_test_support::python() else {
        return;
    };
    let (_server, agent) = trust_domain().await;
    let out = run_guarded(
        py.command(
            "jwt_client.py",
            &["fetch-validate", &agent.endpoint(), "payments"],
        ),
        PATIENCE,
    )
    .await;
    let got = json_out(&out);
    assert_eq!(got["spiffe_id"], WORKLOAD, "{got}");
    assert_eq!(got["agent_validated"], WORKLOAD, "{got}");
    assert_eq!(
        got["agent_audience"],
        serde_json::json!(["payments"]),
        "{got}"
    );
    assert_eq!(got["locally_validated"], WORKLOAD, "{got}");
    let wrong = got["wrong_audience_error"].as_str().unwrap_or_default();
    assert!(
        wrong.contains("audience"),
        "validating for another audience: {got}"
    );

    let token = got["token"].as_str().unwrap();
    let jwks = got["jwks"]["spiffe://example.org"].as_str().unwrap();
    let out = run_guarded(
        py.command("jwt_verify.py", &[token, jwks, "payments"]),
        PATIENCE,
    )
    .await;
    let claims = json_out(&out);
    assert_eq!(claims["sub"], WORKLOAD, "PyJWT: {claims}");
    assert_eq!(claims["aud"], "payments", "PyJWT: {claims}");

    let out = run_guarded(
        py.command("jwt_verify.py", &[token, jwks, "someone-else"]),
        PATIENCE,
    )
    .await;
    assert!(!out.status.success(), "PyJWT accepted another audience");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_spiffe_crate_validates_a_jwt_svid_against_the_bundle_it_streams() {
    let (_server, agent) = trust_domain().await;
    let client = WorkloadApiClient::connect_to(agent.endpoint())
        .await
        .unwrap();
    let svid = client
        .fetch_jwt_svid(["payments"], None)
        .await
        .unwrap_or_else(|e| panic!("fetch_jwt_svid: {e}\n{}", agent.log_text()));
    assert_eq!(svid.spiffe_id().to_string(), WORKLOAD);
    let mut bundles = client.stream_jwt_bundles().await.unwrap();
    let set = tokio::time::timeout(PATIENCE, bundles.next())
        .await
        .expect("no JWT bundles streamed")
        .unwrap()
        .unwrap();

    let valid = JwtSvid::parse_and_validate(svid.token(), &set, &["payments"])
        .unwrap_or_else(|e| panic!("the crate rejects our token: {e}"));
    assert_eq!(
        valid.spiffe_id(),
        &SpiffeId::new(WORKLOAD).unwrap(),
        "validated subject"
    );
    assert!(
        JwtSvid::parse_and_validate(svid.token(), &set, &["billing"]).is_err(),
        "the crate accepted a token for another audience"
    );
}

/// `lanyard-agent api ...` as a workload runs it.
fn agent_cli(args: &[&str]) -> std::process::Output {
    Command::new(bin("lanyard-agent"))
        .args(["api"])
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_fetches_a_jwt_svid_and_validates_it_through_the_agent() {
    let (_server, agent) = trust_domain().await;
    let socket = agent.endpoint();
    let fetch = |extra: &[&str]| {
        let mut args = vec!["fetch", "jwt", "--socket-path", &socket, "--output", "json"];
        args.extend_from_slice(extra);
        agent_cli(&args)
    };
    let out = fetch(&["--audience", "payments", "--spiffe-id", WORKLOAD]);
    let doc = json_out(&out);
    let svid = &doc["svids"][0];
    assert_eq!(svid["spiffe_id"], WORKLOAD, "{doc}");
    // The audience is in the token, which `validate jwt --audience payments` checks below.
    let token = svid["svid"].as_str().unwrap().to_owned();

    let out = agent_cli(&[
        "validate",
        "jwt",
        "--socket-path",
        &socket,
        "--audience",
        "payments",
        "--svid",
        &token,
        "--output",
        "json",
    ]);
    let valid = json_out(&out);
    assert_eq!(valid["spiffe_id"], WORKLOAD, "{valid}");
    assert_eq!(valid["claims"]["aud"], "payments", "{valid}");
    // google.protobuf.Struct numbers are doubles: exp prints as a JSON number.
    assert!(
        valid["claims"]["exp"].as_f64().is_some_and(|exp| exp > 1e9),
        "exp prints as a NumericDate: {valid}"
    );

    let out = agent_cli(&[
        "validate",
        "jwt",
        "--socket-path",
        &socket,
        "--audience",
        "billing",
        "--svid",
        &token,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("JWT-SVID rejected") && stderr.contains("\"billing\""),
        "the reason names the audience: {stderr}"
    );

    let out = fetch(&[
        "--audience",
        "payments",
        "--spiffe-id",
        "spiffe://example.org/not-mine",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no identity issued"), "{stderr}");

    let out = fetch(&[]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "clap refuses a missing --audience"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--audience"));
}

/// The next FetchJWTBundles message whose own-trust-domain JWKS satisfies `want`.
async fn next_jwks(
    stream: &mut Streaming<JwtBundlesResponse>,
    want: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    tokio::time::timeout(PATIENCE, async {
        loop {
            let msg = stream.message().await.unwrap().expect("stream ended");
            let jwks =
                lanyard_x509::Bundle::from_jwks_json(td(), &msg.bundles["spiffe://example.org"])
                    .unwrap();
            let kids: Vec<String> = jwks.jwt_authorities.keys().cloned().collect();
            if want(&kids) {
                return kids;
            }
        }
    })
    .await
    .expect("the agent did not stream the expected JWT bundle")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_jwt_key_rotation_old_tokens_validate_and_new_tokens_carry_the_new_kid() {
    let (server, agent) = trust_domain().await;
    let before = fetch_token(&agent, "a").await;
    let old_kid = kid(&before);

    let mut client = connect(&agent.socket).await;
    let mut bundles = client
        .fetch_jwt_bundles(with_header(JwtBundlesRequest {}))
        .await
        .unwrap()
        .into_inner();
    next_jwks(&mut bundles, |kids| kids.contains(&old_kid)).await;

    let prepared = server
        .cli(&["localauthority", "jwt", "prepare", "--output", "json"])
        .await
        .json();
    let new_kid = prepared["authority_id"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    next_jwks(&mut bundles, |kids| kids.contains(&new_kid)).await;
    server
        .cli(&[
            "localauthority",
            "jwt",
            "activate",
            "--authority-id",
            &new_kid,
        ])
        .await
        .ok();

    // A new audience set is a new token, signed by the active key.
    let after = fetch_token(&agent, "b").await;
    assert_eq!(kid(&after), new_kid, "a token minted after the rotation");
    // The earlier one is still cached (fresh until half-life) and still valid.
    assert_eq!(
        fetch_token(&agent, "a").await,
        before,
        "tokens are cached per audience set"
    );
    let valid = client
        .validate_jwtsvid(with_header(ValidateJwtsvidRequest {
            audience: "a".into(),
            svid: before.clone(),
        }))
        .await
        .unwrap_or_else(|s| panic!("the pre-rotation token no longer validates: {s:?}"))
        .into_inner();
    assert_eq!(valid.spiffe_id, WORKLOAD);
    // Tainting the old key makes the agent drop what it signed and mint again.
    server
        .cli(&["localauthority", "jwt", "taint", "--authority-id", &old_kid])
        .await
        .ok();
    let reminted = tokio::time::timeout(PATIENCE, async {
        loop {
            let token = fetch_token(&agent, "a").await;
            if token != before {
                return token;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "the agent kept the token of a tainted key\n{}",
            agent.log_text()
        )
    });
    assert_eq!(kid(&reminted), new_kid);
}

datastore_tests!(mint_jwt_svids_signs_only_for_authorized_entries);

async fn mint_jwt_svids_signs_only_for_authorized_entries(store: Store) {
    let server = Server::start(store).await;
    let (token, agent_id, _) = server.token(&[]).await;
    let mut agent = TestAgent::attest(&server, &token).await.unwrap();
    let mine = server
        .create_entry("spiffe://example.org/mine", &agent_id)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (other_token, other_agent, _) = server.token(&[]).await;
    drop(other_token);
    let theirs = server
        .create_entry("spiffe://example.org/theirs", &other_agent)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_stream, snapshot) = agent.sync().await.unwrap();
    let bundle = lanyard_agent::node::client::bundle_from_pb(&snapshot.bundles[0]).unwrap();

    let results = agent.mint_jwt(&[&mine, &theirs], &["svc"]).await.unwrap();
    assert_eq!(results.len(), 2);
    use lanyard_proto::lanyard::agent::v1::mint_jwt_svid_result::Result as R;
    let Some(R::Svid(svid)) = &results[0].result else {
        panic!("no token for an authorized entry: {results:?}");
    };
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let valid = lanyard_jwt::validate_jwt_svid(&svid.token, "svc", &bundle, now)
        .unwrap_or_else(|e| panic!("the minted token does not validate against the bundle: {e}"));
    assert_eq!(valid.spiffe_id.as_str(), "spiffe://example.org/mine");
    assert_eq!(valid.expires_at, svid.expires_at);
    let ttl = svid.expires_at - now;
    assert!(
        (290..=300).contains(&ttl),
        "default JWT-SVID TTL is 5 min, got {ttl} s"
    );
    match &results[1].result {
        Some(R::Error(e)) => assert_eq!(e.code, Code::PermissionDenied as i32, "{e:?}"),
        other => panic!("minted for another agent's entry: {other:?}"),
    }

    let status = agent.mint_jwt(&[&mine], &[]).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
}
