//! The Workload API end to end: a real Unix socket, the real handler and unix attestor, a store
//! filled with SVIDs minted at test time; this test process is the workload.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on unexpected errors"
)]

#[path = "workload_api/clients.rs"]
mod clients;
#[path = "workload_api/support.rs"]
mod support;

use lanyard_agent::workload::UnixAttestorConfig;
use lanyard_proto::workload::{
    JwtBundlesRequest, JwtsvidRequest, ValidateJwtsvidRequest, X509BundlesRequest, X509svidRequest,
    X509svidResponse,
};
use lanyard_x509::{KeyPair, parse_x509_svid, split_der_certificates};
use tonic::{Code, Request, Streaming};

use support::{Agent, Ca, federating, my_uid, other_uid, snapshot, with_header, within};

async fn next(stream: &mut Streaming<X509svidResponse>) -> Result<X509svidResponse, tonic::Status> {
    within(stream.message())
        .await
        .map(|m| m.expect("the stream ended without a status"))
}

fn ids(resp: &X509svidResponse) -> Vec<&str> {
    resp.svids.iter().map(|s| s.spiffe_id.as_str()).collect()
}

#[tokio::test]
async fn a_request_without_the_security_header_is_invalid_argument() {
    let agent = Agent::start().await;
    let ca = Ca::new("example.org");
    agent
        .store
        .publish(snapshot(vec![ca.svid("e1", "/w", &[my_uid()], "")], &[&ca]));
    let mut client = agent.raw_client().await;

    let status = client.fetch_x509svid(X509svidRequest {}).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(status.message(), "security header missing from request");
    let status = client
        .fetch_x509_bundles(X509BundlesRequest {})
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let mut wrong = Request::new(JwtsvidRequest::default());
    wrong
        .metadata_mut()
        .insert("workload.spiffe.io", "false".parse().unwrap());
    let status = client.fetch_jwtsvid(wrong).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn an_agent_that_has_not_synced_is_unavailable() {
    let agent = Agent::start().await;
    let mut client = agent.raw_client().await;
    let status = client
        .fetch_x509svid(with_header(X509svidRequest {}))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
}

#[tokio::test]
async fn a_caller_matching_no_entry_is_denied_no_identity_issued() {
    let agent = Agent::start().await;
    let ca = Ca::new("example.org");
    agent.store.publish(snapshot(
        vec![ca.svid("e1", "/someone-else", &[other_uid()], "")],
        &[&ca],
    ));
    let mut client = agent.raw_client().await;
    for status in [
        client
            .fetch_x509svid(with_header(X509svidRequest {}))
            .await
            .unwrap_err(),
        client
            .fetch_x509_bundles(with_header(X509BundlesRequest {}))
            .await
            .unwrap_err(),
    ] {
        assert_eq!(status.code(), Code::PermissionDenied);
        assert!(
            status.message().contains("no identity issued"),
            "{status:?}"
        );
    }
}

#[tokio::test]
async fn a_matching_entry_gets_its_svid_key_and_bundle_and_not_another_uids() {
    let agent = Agent::start().await;
    let ca = Ca::new("example.org");
    let federated = Ca::new("partner.org");
    let mine = federating(
        &ca.svid("e1", "/mine", &[my_uid()], "internal"),
        &["partner.org"],
    );
    agent.store.publish(snapshot(
        vec![mine.clone(), ca.svid("e2", "/theirs", &[other_uid()], "")],
        &[&ca, &federated],
    ));
    let mut client = agent.raw_client().await;
    let mut stream = client
        .fetch_x509svid(with_header(X509svidRequest {}))
        .await
        .unwrap()
        .into_inner();
    let resp = next(&mut stream).await.unwrap();

    assert_eq!(
        ids(&resp),
        ["spiffe://example.org/mine"],
        "only this uid's entry"
    );
    let svid = &resp.svids[0];
    assert_eq!(svid.hint, "internal");
    let chain = split_der_certificates(&svid.x509_svid).unwrap();
    let parsed = parse_x509_svid(&chain).unwrap();
    assert_eq!(parsed.spiffe_id, mine.spiffe_id);
    let key = KeyPair::from_pkcs8_der(&svid.x509_svid_key).unwrap();
    assert_eq!(key.public_key_spki_der(), parsed.public_key_spki_der);
    assert_eq!(svid.bundle, ca.bundle().x509_authorities_der());
    assert_eq!(resp.federated_bundles.len(), 1);
    assert_eq!(
        resp.federated_bundles["spiffe://partner.org"],
        federated.bundle().x509_authorities_der()
    );
}

#[tokio::test]
async fn the_stream_pushes_a_resigned_svid_as_its_next_message() {
    let agent = Agent::start().await;
    let ca = Ca::new("example.org");
    let first = ca.svid("e1", "/w", &[my_uid()], "");
    agent.store.publish(snapshot(vec![first.clone()], &[&ca]));
    let mut client = agent.raw_client().await;
    let mut stream = client
        .fetch_x509svid(with_header(X509svidRequest {}))
        .await
        .unwrap()
        .into_inner();
    let before = next(&mut stream).await.unwrap();

    // Another uid's entry appears: nothing changes for this caller (the handler's unit tests
    // show nothing is sent)...
    let theirs = ca.svid("e2", "/theirs", &[other_uid()], "");
    agent
        .store
        .publish(snapshot(vec![first.clone(), theirs.clone()], &[&ca]));
    // ...and the next message is the re-signed SVID.
    let resigned = ca.svid("e1", "/w", &[my_uid()], "");
    agent
        .store
        .publish(snapshot(vec![resigned.clone(), theirs], &[&ca]));
    let after = next(&mut stream).await.unwrap();

    assert_ne!(before.svids[0].x509_svid, after.svids[0].x509_svid);
    let chain = split_der_certificates(&after.svids[0].x509_svid).unwrap();
    assert_eq!(chain, resigned.chain);
    assert_eq!(after.svids[0].x509_svid_key, resigned.key_pkcs8.as_slice());
}

#[tokio::test]
async fn a_removed_entry_is_absent_from_the_next_message_and_the_last_one_ends_the_stream() {
    let agent = Agent::start().await;
    let ca = Ca::new("example.org");
    let a = ca.svid("a", "/a", &[my_uid()], "");
    let b = ca.svid("b", "/b", &[my_uid()], "");
    agent
        .store
        .publish(snapshot(vec![a.clone(), b.clone()], &[&ca]));
    let mut client = agent.raw_client().await;
    let mut stream = client
        .fetch_x509svid(with_header(X509svidRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        ids(&next(&mut stream).await.unwrap()),
        ["spiffe://example.org/a", "spiffe://example.org/b"]
    );

    agent.store.publish(snapshot(vec![b], &[&ca]));
    assert_eq!(
        ids(&next(&mut stream).await.unwrap()),
        ["spiffe://example.org/b"]
    );

    agent.store.publish(snapshot(vec![], &[&ca]));
    let status = next(&mut stream).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(status.message().contains("no identity issued"));
}

#[tokio::test]
async fn fetch_x509_bundles_streams_the_callers_trust_domains_keyed_by_id() {
    let agent = Agent::start().await;
    let ca = Ca::new("example.org");
    let partner = Ca::new("partner.org");
    let svids = vec![federating(
        &ca.svid("e1", "/w", &[my_uid()], ""),
        &["partner.org"],
    )];
    agent.store.publish(snapshot(svids.clone(), &[&ca]));
    let mut client = agent.raw_client().await;
    let mut stream = client
        .fetch_x509_bundles(with_header(X509BundlesRequest {}))
        .await
        .unwrap()
        .into_inner();
    let first = within(stream.message()).await.unwrap().unwrap();
    assert_eq!(
        first.bundles.keys().collect::<Vec<_>>(),
        ["spiffe://example.org"]
    );

    agent.store.publish(snapshot(svids, &[&ca, &partner]));
    let second = within(stream.message()).await.unwrap().unwrap();
    assert_eq!(second.bundles.len(), 2);
    assert_eq!(
        second.bundles["spiffe://partner.org"],
        partner.bundle().x509_authorities_der()
    );

    // The entry stops federating with partner.org: its bundle leaves the caller's stream,
    // though the agent still holds it.
    let plain = vec![ca.svid("e1", "/w", &[my_uid()], "")];
    agent.store.publish(snapshot(plain, &[&ca, &partner]));
    let third = within(stream.message()).await.unwrap().unwrap();
    assert_eq!(
        third.bundles.keys().collect::<Vec<_>>(),
        ["spiffe://example.org"]
    );
}

/// A JWT signing key added to `bundle` under `kid`, and a token it signs for `sub`.
fn jwt_key(bundle: &mut lanyard_x509::Bundle, kid: &str) -> KeyPair {
    let key = KeyPair::generate(lanyard_x509::KeyType::EcP256).unwrap();
    bundle.jwt_authorities.insert(
        kid.to_owned(),
        lanyard_x509::JwtAuthority {
            public_key: key.public_key_spki_der(),
            expires_at: None,
        },
    );
    key
}

fn unix_now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// An agent serving this process `/w` of example.org, whose bundle has the JWT key `k1`.
async fn agent_with_jwt_key() -> (Agent, KeyPair, lanyard_x509::Bundle) {
    let agent = Agent::start().await;
    let ca = Ca::new("example.org");
    let mut snap = snapshot(vec![ca.svid("e1", "/w", &[my_uid()], "")], &[&ca]);
    let mut bundle = ca.bundle();
    let key = jwt_key(&mut bundle, "k1");
    snap.bundles = [bundle.clone()].into_iter().collect();
    agent.store.publish(snap);
    (agent, key, bundle)
}

fn token(key: &KeyPair, kid: &str, sub: &str, aud: &str, ttl: i64) -> String {
    let now = unix_now();
    let claims = lanyard_jwt::JwtSvidClaims::new(
        lanyard_id::SpiffeId::parse(sub).unwrap(),
        vec![aud.to_owned()],
        now,
        now + ttl,
    );
    lanyard_jwt::mint_jwt_svid(key, kid, &claims).unwrap()
}

#[tokio::test]
async fn fetch_jwt_svid_checks_its_request_before_anything_else() {
    let agent = Agent::start().await;
    let mut client = agent.raw_client().await;
    // Not synced yet: argument errors still come first (they are the caller's to fix).
    let status = client
        .fetch_jwtsvid(with_header(JwtsvidRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(status.message(), "audience must be specified");
    let status = client
        .fetch_jwtsvid(with_header(JwtsvidRequest {
            audience: vec!["a".into()],
            spiffe_id: "not-an-id".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("not-an-id"), "{status:?}");
    let status = client
        .fetch_jwtsvid(with_header(JwtsvidRequest {
            audience: vec!["a".into()],
            spiffe_id: String::new(),
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");

    let ca = Ca::new("example.org");
    agent
        .store
        .publish(snapshot(vec![ca.svid("e1", "/w", &[my_uid()], "")], &[&ca]));
    let status = client
        .fetch_jwtsvid(with_header(JwtsvidRequest {
            audience: vec!["a".into()],
            spiffe_id: "spiffe://example.org/not-mine".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(status.message(), "no identity issued");
    // Mine, but this agent has no server to mint with (the e2e tests cover minting).
    let status = client
        .fetch_jwtsvid(with_header(JwtsvidRequest {
            audience: vec!["a".into()],
            spiffe_id: "spiffe://example.org/w".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert!(
        status.message().contains("no connection to the server"),
        "{status:?}"
    );
}

#[tokio::test]
async fn jwt_bundles_stream_the_jwks_of_each_trust_domain_and_follow_changes() {
    let agent = Agent::start().await;
    let ca = Ca::new("example.org");
    let mut snap = snapshot(vec![ca.svid("e1", "/w", &[my_uid()], "")], &[&ca]);
    let mut bundle = ca.bundle();
    jwt_key(&mut bundle, "k1");
    snap.bundles = [bundle.clone()].into_iter().collect();
    agent.store.publish(snap.clone());
    let mut client = agent.raw_client().await;
    let mut stream = client
        .fetch_jwt_bundles(with_header(JwtBundlesRequest {}))
        .await
        .unwrap()
        .into_inner();
    let first = within(stream.message()).await.unwrap().unwrap();
    let jwks = &first.bundles["spiffe://example.org"];
    let parsed = lanyard_x509::Bundle::from_jwks_json(
        lanyard_id::TrustDomain::new("example.org").unwrap(),
        jwks,
    )
    .unwrap();
    assert_eq!(parsed.jwt_authorities.keys().collect::<Vec<_>>(), ["k1"]);
    assert!(
        parsed.x509_authorities.is_empty(),
        "a JWT bundle holds JWT keys only"
    );

    jwt_key(&mut bundle, "k2");
    snap.bundles = [bundle].into_iter().collect();
    agent.store.publish(snap);
    let second = within(stream.message()).await.unwrap().unwrap();
    let parsed = lanyard_x509::Bundle::from_jwks_json(
        lanyard_id::TrustDomain::new("example.org").unwrap(),
        &second.bundles["spiffe://example.org"],
    )
    .unwrap();
    assert_eq!(
        parsed.jwt_authorities.keys().collect::<Vec<_>>(),
        ["k1", "k2"]
    );
}

#[tokio::test]
async fn validate_jwt_svid_answers_with_the_subject_and_claims_or_says_why_not() {
    let (agent, key, _) = agent_with_jwt_key().await;
    let mut client = agent.raw_client().await;

    let good = token(&key, "k1", "spiffe://example.org/peer", "me", 300);
    let resp = client
        .validate_jwtsvid(with_header(ValidateJwtsvidRequest {
            audience: "me".into(),
            svid: good.clone(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.spiffe_id, "spiffe://example.org/peer");
    let claims = resp.claims.unwrap().fields;
    assert_eq!(
        claims["sub"].kind,
        Some(pbjson_types::value::Kind::StringValue(
            "spiffe://example.org/peer".into()
        ))
    );
    assert!(matches!(
        claims["exp"].kind,
        Some(pbjson_types::value::Kind::NumberValue(n)) if n > 1e9
    ));

    for (audience, svid, expect) in [
        ("", good.as_str(), "audience must be specified"),
        ("me", "", "svid must be specified"),
        ("someone-else", good.as_str(), "audience"),
    ] {
        let status = client
            .validate_jwtsvid(with_header(ValidateJwtsvidRequest {
                audience: audience.into(),
                svid: svid.into(),
            }))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains(expect), "{status:?}");
    }
}

#[tokio::test]
async fn validate_jwt_svid_accepts_a_foreign_token_only_for_a_caller_federating_with_its_domain() {
    let agent = Agent::start().await;
    let ca = Ca::new("example.org");
    let partner = Ca::new("partner.org");
    let mut partner_bundle = partner.bundle();
    let key = jwt_key(&mut partner_bundle, "p1");
    let plain = ca.svid("e1", "/w", &[my_uid()], "");
    let mut snap = snapshot(vec![plain.clone()], &[&ca]);
    snap.bundles.insert(partner_bundle);
    agent.store.publish(snap.clone());
    let mut client = agent.raw_client().await;
    let foreign = token(&key, "p1", "spiffe://partner.org/orders", "me", 300);
    let validate = || {
        with_header(ValidateJwtsvidRequest {
            audience: "me".into(),
            svid: foreign.clone(),
        })
    };

    // The agent holds partner.org's bundle, but not for this caller.
    let status = client.validate_jwtsvid(validate()).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status
            .message()
            .contains("no bundle is known for trust domain partner.org"),
        "{status:?}"
    );

    snap.svids = vec![federating(&plain, &["partner.org"])];
    agent.store.publish(snap);
    let resp = client
        .validate_jwtsvid(validate())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.spiffe_id, "spiffe://partner.org/orders");
}

/// A compact JWS with exactly `header` and `payload`, ES256-signed by `key`: tokens a minter
/// refuses to produce (no `exp`, no `aud`).
fn es256_raw(key: &KeyPair, header: &serde_json::Value, payload: &serde_json::Value) -> String {
    use base64::Engine as _;
    let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    );
    let rng = ring::rand::SystemRandom::new();
    let signer = ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        key.pkcs8_der(),
        &rng,
    )
    .unwrap();
    let sig = signer.sign(&rng, signing_input.as_bytes()).unwrap();
    format!("{signing_input}.{}", b64(sig.as_ref()))
}

/// HS256 over `signing_input` with `secret`: the key-confusion attack of RFC 8725 §2.1.
fn hs256(signing_input: &str, secret: &[u8]) -> String {
    use base64::Engine as _;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let tag = ring::hmac::sign(&key, signing_input.as_bytes());
    format!(
        "{signing_input}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref())
    )
}

#[tokio::test]
async fn validate_jwt_svid_rejects_each_bad_token_with_the_reason() {
    use base64::Engine as _;
    let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let (agent, key, bundle) = agent_with_jwt_key().await;
    let public_key = bundle.jwt_authorities["k1"].public_key.clone();
    let mut client = agent.raw_client().await;
    let now = unix_now();
    let sub = "spiffe://example.org/peer";
    let header = serde_json::json!({"alg": "ES256", "kid": "k1", "typ": "JWT"});
    let good = token(&key, "k1", sub, "me", 300);
    let [h, p, sig] = good.split('.').collect::<Vec<_>>()[..] else {
        unreachable!()
    };
    let tampered_payload = b64(&format!(
        r#"{{"sub":"{sub}","aud":"me","exp":{},"iat":{now}}}"#,
        now + 100_000
    ));
    let other_td = b64(&format!(
        r#"{{"sub":"spiffe://elsewhere.org/peer","aud":"me","exp":{},"iat":{now}}}"#,
        now + 300
    ));
    let unknown_kid = b64(r#"{"alg":"ES256","kid":"k9","typ":"JWT"}"#);
    let hs_header = b64(r#"{"alg":"HS256","kid":"k1","typ":"JWT"}"#);
    let none_header = b64(r#"{"alg":"none","kid":"k1","typ":"JWT"}"#);
    let cases: Vec<(&str, String, &str)> = vec![
        ("wrong audience", good.clone(), "not in the token's aud"),
        (
            "expired",
            es256_raw(
                &key,
                &header,
                &serde_json::json!({"sub": sub, "aud": "me", "exp": now - 60, "iat": now - 360}),
            ),
            "expired",
        ),
        (
            "missing exp",
            es256_raw(&key, &header, &serde_json::json!({"sub": sub, "aud": "me"})),
            "exp",
        ),
        (
            "missing aud",
            es256_raw(
                &key,
                &header,
                &serde_json::json!({"sub": sub, "exp": now + 300}),
            ),
            "aud",
        ),
        ("alg none", format!("{none_header}.{p}."), "none"),
        (
            "HS256 with the public key as secret",
            hs256(&format!("{hs_header}.{p}"), &public_key),
            "HS256",
        ),
        ("unknown kid", format!("{unknown_kid}.{p}.{sig}"), "k9"),
        (
            "tampered payload",
            format!("{h}.{tampered_payload}.{sig}"),
            "signature",
        ),
        (
            "unknown trust domain",
            format!("{h}.{other_td}.{sig}"),
            "elsewhere.org",
        ),
    ];
    for (what, svid, reason) in cases {
        let audience = if what == "wrong audience" {
            "someone-else"
        } else {
            "me"
        };
        let status = client
            .validate_jwtsvid(with_header(ValidateJwtsvidRequest {
                audience: audience.into(),
                svid,
            }))
            .await
            .expect_err(what);
        assert_eq!(status.code(), Code::InvalidArgument, "{what}: {status:?}");
        assert!(
            status.message().starts_with("JWT-SVID rejected: ")
                && status.message().contains(reason),
            "{what}: the reason should mention {reason:?}: {}",
            status.message()
        );
    }
}

#[tokio::test]
async fn an_entry_selecting_the_test_binarys_sha256_is_served_when_path_discovery_is_on() {
    let agent = Agent::start_with(UnixAttestorConfig {
        discover_workload_path: true,
        workload_size_limit: 0,
    })
    .await;
    let exe = std::env::current_exe().unwrap();
    let digest = ring::digest::digest(&ring::digest::SHA256, &std::fs::read(&exe).unwrap());
    let hex = hex::encode(digest);
    let ca = Ca::new("example.org");
    let by_hash = lanyard_agent::store::Selector::new("unix", format!("sha256:{hex}"));
    let by_path = lanyard_agent::store::Selector::new("unix", format!("path:{}", exe.display()));
    agent.store.publish(snapshot(
        vec![ca.svid("e1", "/binary", &[by_hash, by_path], "")],
        &[&ca],
    ));
    let mut client = agent.raw_client().await;
    let mut stream = client
        .fetch_x509svid(with_header(X509svidRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        ids(&next(&mut stream).await.unwrap()),
        ["spiffe://example.org/binary"]
    );
}
