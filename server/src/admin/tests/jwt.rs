//! `jwt mint` and manual JWT key rotation through the API and the CLI.

use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::admin::v1::jwt_client::JwtClient;
use lanyard_proto::lanyard::admin::v1::local_authority_client::LocalAuthorityClient;
use tonic::Code;

use super::*;

#[tokio::test]
async fn jwt_mint_prints_a_token_that_validates_against_the_bundle() {
    let server = TestServer::sqlite().await;
    let out = server
        .cli_ok(&[
            "jwt",
            "mint",
            "--spiffe-id",
            "spiffe://example.org/ops",
            "--audience",
            "a",
            "--audience",
            "b",
            "--ttl",
            "2m",
        ])
        .await;
    let token = out.lines().next().unwrap();
    let bundle = server.state.ca().bundle().await.unwrap();
    let v = lanyard_jwt::validate_jwt_svid(token, "b", &bundle, now()).unwrap();
    assert_eq!(v.spiffe_id.as_str(), "spiffe://example.org/ops");
    assert_eq!(v.kid, server.state.ca().active_jwt_kid().unwrap());
    assert!((v.expires_at - now() - 120).abs() <= 2, "{}", v.expires_at);
    assert_eq!(v.claims["aud"], serde_json::json!(["a", "b"]));

    // JSON output; default TTL is the server's (300s here).
    let j = json(
        &server
            .cli_ok(&[
                "jwt",
                "mint",
                "--spiffe-id",
                "spiffe://example.org/ops",
                "--audience",
                "a",
                "--output",
                "json",
            ])
            .await,
    );
    let v =
        lanyard_jwt::validate_jwt_svid(j["token"].as_str().unwrap(), "a", &bundle, now()).unwrap();
    assert_eq!(j["expires_at"], v.expires_at.to_string());
    assert!((v.expires_at - now() - 300).abs() <= 2);

    // Foreign trust domain, root ID and empty audience are refused.
    let mut c = JwtClient::new(server.channel().await);
    for (id, aud) in [
        ("spiffe://other.org/ops", vec!["a".to_owned()]),
        ("spiffe://example.org", vec!["a".to_owned()]),
        ("spiffe://example.org/ops", vec![]),
        ("spiffe://example.org/ops", vec![String::new()]),
    ] {
        let s = c
            .mint_jwt_svid(api::MintJwtSvidRequest {
                spiffe_id: id.to_owned(),
                audience: aud.clone(),
                ttl_seconds: 0,
            })
            .await
            .unwrap_err();
        assert_eq!(s.code(), Code::InvalidArgument, "{id} {aud:?}: {s:?}");
    }
}

#[tokio::test]
async fn jwt_key_prepare_activate_taint_revoke() {
    let server = TestServer::sqlite().await;
    let first = server.authorities("jwt").await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["state"], "AUTHORITY_STATE_ACTIVE");
    let old_id = first[0]["authority_id"].as_str().unwrap().to_owned();
    let old_token = server
        .cli_ok(&[
            "jwt",
            "mint",
            "--spiffe-id",
            "spiffe://example.org/ops",
            "--audience",
            "a",
        ])
        .await
        .lines()
        .next()
        .unwrap()
        .to_owned();

    let err = server
        .cli(&["localauthority", "jwt", "activate"])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("prepare` first"), "{err}");
    let mut c = LocalAuthorityClient::new(server.channel().await);
    let s = c
        .taint_jwt_authority(api::TaintJwtAuthorityRequest {
            authority_id: old_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::FailedPrecondition, "{s:?}");
    let s = c
        .revoke_jwt_authority(api::RevokeJwtAuthorityRequest {
            authority_id: "nope".to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::NotFound, "{s:?}");

    let prepared = json(
        &server
            .cli_ok(&["localauthority", "jwt", "prepare", "--output", "json"])
            .await,
    );
    assert_eq!(prepared["state"], "AUTHORITY_STATE_PREPARED");
    let new_id = prepared["authority_id"].as_str().unwrap().to_owned();
    let activated = json(
        &server
            .cli_ok(&["localauthority", "jwt", "activate", "--output", "json"])
            .await,
    );
    assert_eq!(activated["authority_id"], new_id.as_str());
    assert_eq!(activated["state"], "AUTHORITY_STATE_ACTIVE");

    // The old key is still published: its token still validates.
    let bundle = server.state.ca().bundle().await.unwrap();
    let v = lanyard_jwt::validate_jwt_svid(&old_token, "a", &bundle, now()).unwrap();
    assert_eq!(v.kid, old_id);

    let err = server
        .cli(&["localauthority", "jwt", "revoke", "--authority-id", &old_id])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("taint it first"), "{err}");
    let tainted = json(
        &server
            .cli_ok(&[
                "localauthority",
                "jwt",
                "taint",
                "--authority-id",
                &old_id,
                "--output",
                "json",
            ])
            .await,
    );
    assert_eq!(tainted["tainted"], true);
    server
        .cli_ok(&["localauthority", "jwt", "revoke", "--authority-id", &old_id])
        .await;
    let after = server.authorities("jwt").await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0]["authority_id"], new_id.as_str());
    let bundle = server.state.ca().bundle().await.unwrap();
    assert!(lanyard_jwt::validate_jwt_svid(&old_token, "a", &bundle, now()).is_err());
}
