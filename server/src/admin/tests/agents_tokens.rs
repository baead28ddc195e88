//! Agents, join tokens and the bundle through the API and the CLI.

use lanyard_datastore::{AttestedAgent, Selector};
use lanyard_id::SpiffeId;
use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::admin::v1::agents_client::AgentsClient;
use lanyard_proto::lanyard::admin::v1::join_tokens_client::JoinTokensClient;
use tonic::Code;

use super::*;

async fn attest(server: &TestServer, id: &str, kind: &str) {
    server
        .state
        .datastore()
        .upsert_agent(AttestedAgent {
            spiffe_id: SpiffeId::parse(id).unwrap(),
            attestation_type: kind.into(),
            serial: "1a2b".into(),
            previous_serial: String::new(),
            expires_at: now() + 3600,
            banned: false,
            selectors: vec![Selector::parse(&format!("{kind}:node:{id}")).unwrap()],
            created_at: 0,
            last_seen_at: 0,
            can_reattest: kind != "join_token",
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn ban_and_evict_show_in_agent_show() {
    let server = TestServer::sqlite().await;
    let a = "spiffe://example.org/lanyard/agent/join_token/aaa";
    let b = "spiffe://example.org/lanyard/agent/k8s_psat/node-b";
    attest(&server, a, "join_token").await;
    attest(&server, b, "k8s_psat").await;

    let list = server.cli_ok(&["agent", "list"]).await;
    assert!(list.starts_with("Found 2 attested agents"), "{list}");
    let shown = server.cli_ok(&["agent", "show", "--spiffe-id", a]).await;
    assert!(shown.contains("Banned             : false"), "{shown}");
    assert!(shown.contains("SVID serial number : 1a2b"), "{shown}");

    assert_eq!(
        server.cli_ok(&["agent", "ban", "--spiffe-id", a]).await,
        format!("Agent {a} banned\n")
    );
    let v: serde_json::Value = serde_json::from_str(
        &server
            .cli_ok(&["agent", "show", "--spiffe-id", a, "--output", "json"])
            .await,
    )
    .unwrap();
    assert_eq!(v["banned"], true);
    assert_eq!(v["x509_svid_serial_number"], "", "a ban clears the serial");

    // The API's filter sees the ban too.
    let mut c = AgentsClient::new(server.channel().await);
    let banned = c
        .list_agents(api::ListAgentsRequest {
            filter: Some(api::AgentFilter {
                banned: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .agents;
    assert_eq!(banned.len(), 1);
    assert_eq!(banned[0].spiffe_id, a);

    server.cli_ok(&["agent", "evict", "--spiffe-id", a]).await;
    let err = server
        .cli(&["agent", "show", "--spiffe-id", a])
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with("show agent : agent not found"),
        "{err}"
    );
    let err = server
        .cli(&["agent", "ban", "--spiffe-id", a])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CliError::Rpc {
                code: Code::NotFound,
                ..
            }
        ),
        "{err}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&server.cli_ok(&["agent", "list", "--output", "json"]).await).unwrap();
    assert_eq!(v["agents"].as_array().unwrap().len(), 1);
    assert_eq!(v["agents"][0]["spiffe_id"], b);
}

#[tokio::test]
async fn list_agents_pages_through_a_filter() {
    let server = TestServer::sqlite().await;
    for i in 0..5 {
        let kind = if i % 2 == 0 { "join_token" } else { "k8s_psat" };
        attest(&server, &format!("spiffe://example.org/agent/{i}"), kind).await;
    }
    let mut c = AgentsClient::new(server.channel().await);
    let mut token = String::new();
    let mut seen = Vec::new();
    loop {
        let page = c
            .list_agents(api::ListAgentsRequest {
                filter: Some(api::AgentFilter {
                    attestation_type: Some("join_token".into()),
                    ..Default::default()
                }),
                page_size: 2,
                page_token: token,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.agents.len() <= 2);
        seen.extend(page.agents.into_iter().map(|a| a.spiffe_id));
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(
        seen,
        ["0", "2", "4"].map(|i| format!("spiffe://example.org/agent/{i}"))
    );
}

#[tokio::test]
async fn generated_token_is_stored_and_not_in_the_agent_id() {
    let server = TestServer::sqlite().await;
    let text = server.cli_ok(&["token", "generate"]).await;
    let mut lines = text.lines();
    let token = lines.next().unwrap().to_owned();
    assert_eq!(token.len(), 64);
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    let agent_line = lines.next().unwrap();
    let agent_id = agent_line.strip_prefix("agent SPIFFE ID: ").unwrap();
    assert!(
        agent_id.starts_with("spiffe://example.org/lanyard/agent/join_token/"),
        "{agent_id}"
    );
    assert!(!agent_id.contains(&token) && !agent_id.contains(&token[..16]));
    assert!(lines.next().unwrap().starts_with("expires at: "));

    // Redeemable once, for exactly that ID and not after ~10 minutes.
    let redeemed = server
        .state
        .datastore()
        .consume_join_token(&token, now())
        .await
        .unwrap();
    assert_eq!(redeemed.spiffe_id.unwrap().as_str(), agent_id);
    assert!((redeemed.expires_at - now() - 600).abs() <= 5);

    let v: serde_json::Value = serde_json::from_str(
        &server
            .cli_ok(&[
                "token",
                "generate",
                "--spiffe-id",
                "spiffe://example.org/lanyard/agent/n1",
                "--ttl",
                "1h",
                "--output",
                "json",
            ])
            .await,
    )
    .unwrap();
    assert_eq!(
        v["agent_spiffe_id"],
        "spiffe://example.org/lanyard/agent/n1"
    );
    let expires_at: i64 = v["expires_at"].as_str().unwrap().parse().unwrap();
    assert!((expires_at - now() - 3600).abs() <= 5);
    assert_eq!(v["token"].as_str().unwrap().len(), 64);
}

#[tokio::test]
async fn bad_token_requests_are_refused() {
    let server = TestServer::sqlite().await;
    let mut c = JoinTokensClient::new(server.channel().await);
    for (spiffe_id, ttl, needle) in [
        (
            "spiffe://other.org/n",
            0,
            "outside this server's trust domain",
        ),
        ("spiffe://example.org", 0, "has no path"),
        (
            "spiffe://example.org/lanyard/server",
            0,
            "reserved for the server",
        ),
        (
            "spiffe://example.org/lanyard/server/x",
            0,
            "reserved for the server",
        ),
        ("spiffe://example.org/a//b", 0, "`spiffe_id`"),
        // Issue 14: an agent must not hold a workload's ID, nor one another attestor assigns.
        ("spiffe://example.org/nodes/n1", 0, "is not an agent ID"),
        (
            "spiffe://example.org/lanyard/agent",
            0,
            "is not an agent ID",
        ),
        (
            "spiffe://example.org/lanyard/other",
            0,
            "is not an agent ID",
        ),
        (
            "spiffe://example.org/lanyard/agent/k8s_psat/c1/node-uid",
            0,
            "which its node attestor assigns",
        ),
        ("", 86_401, "`ttl_seconds`"),
    ] {
        let s = c
            .generate_join_token(api::GenerateJoinTokenRequest {
                spiffe_id: spiffe_id.into(),
                ttl_seconds: ttl,
            })
            .await
            .unwrap_err();
        assert_eq!(s.code(), Code::InvalidArgument, "{spiffe_id}");
        assert!(s.message().contains(needle), "{needle}: {}", s.message());
    }
    let err = server
        .cli(&["token", "generate", "--ttl", "0s"])
        .await
        .unwrap_err();
    assert!(matches!(err, CliError::Usage(_)), "{err}");
}

#[tokio::test]
async fn bundle_show_parses_back_to_the_ca_certificate() {
    let server = TestServer::sqlite().await;
    let expected = server.state.ca().bundle().await.unwrap();
    assert_eq!(expected.x509_authorities.len(), 1);

    let pem = server.cli_ok(&["bundle", "show"]).await;
    let certs = lanyard_x509::certificates_from_pem(pem.as_bytes()).unwrap();
    assert_eq!(certs, expected.x509_authorities);
    let active = server.state.ca().signing_ca().unwrap();
    assert_eq!(certs[0].as_bytes(), active.certificate().as_bytes());

    let jwks = server
        .cli_ok(&["bundle", "show", "--format", "spiffe"])
        .await;
    let parsed = lanyard_x509::Bundle::from_jwks_json(
        TrustDomain::new("example.org").unwrap(),
        jwks.as_bytes(),
    )
    .unwrap();
    assert_eq!(parsed.x509_authorities, expected.x509_authorities);
    assert_eq!(parsed.sequence_number, expected.sequence_number);
}

/// Issue 14: a join token cannot take over the record of an agent that is attested already.
#[tokio::test]
async fn a_token_for_an_attested_agent_is_refused_until_it_is_evicted() {
    let server = TestServer::sqlite().await;
    let id = "spiffe://example.org/lanyard/agent/node-taken";
    attest(&server, id, "join_token").await;
    let mut c = JoinTokensClient::new(server.channel().await);
    let request = || api::GenerateJoinTokenRequest {
        spiffe_id: id.into(),
        ttl_seconds: 0,
    };
    let refused = c.generate_join_token(request()).await.unwrap_err();
    assert_eq!(refused.code(), Code::AlreadyExists, "{refused:?}");
    assert!(
        refused.message().contains("is attested already"),
        "{refused:?}"
    );
    assert!(refused.message().contains("agent evict"), "{refused:?}");

    server.cli_ok(&["agent", "ban", "--spiffe-id", id]).await;
    let refused = c.generate_join_token(request()).await.unwrap_err();
    assert_eq!(refused.code(), Code::AlreadyExists, "{refused:?}");
    assert!(refused.message().contains("is banned"), "{refused:?}");

    server.cli_ok(&["agent", "evict", "--spiffe-id", id]).await;
    let granted = c.generate_join_token(request()).await.unwrap().into_inner();
    assert_eq!(granted.agent_spiffe_id, id);
}
