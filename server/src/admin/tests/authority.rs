//! Manual X.509 CA rotation through the API and the CLI.

use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::admin::v1::local_authority_client::LocalAuthorityClient;
use tonic::Code;

use super::*;

#[tokio::test]
async fn prepare_activate_taint_revoke() {
    let server = TestServer::sqlite().await;
    let first = server.authorities("x509").await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["state"], "AUTHORITY_STATE_ACTIVE");
    let old_id = first[0]["authority_id"].as_str().unwrap().to_owned();
    // The certificate is DER in base64 (proto3 JSON bytes).
    let der = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        first[0]["certificate"].as_str().unwrap(),
    )
    .unwrap();
    assert!(
        lanyard_x509::CertInfo::from_der(&der).is_ok(),
        "{}",
        first[0]
    );

    let mut c = LocalAuthorityClient::new(server.channel().await);
    // Nothing prepared yet: activate and taint are refused with what to do.
    let err = server
        .cli(&["localauthority", "x509", "activate"])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("prepare` first"), "{err}");
    let s = c
        .taint_x509_authority(api::TaintX509AuthorityRequest {
            authority_id: old_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::FailedPrecondition, "{s:?}");

    let prepared = json(
        &server
            .cli_ok(&["localauthority", "x509", "prepare", "--output", "json"])
            .await,
    );
    assert_eq!(prepared["state"], "AUTHORITY_STATE_PREPARED");
    let new_id = prepared["authority_id"].as_str().unwrap().to_owned();
    assert_eq!(
        server
            .state
            .ca()
            .bundle()
            .await
            .unwrap()
            .x509_authorities
            .len(),
        2
    );

    // Activating anything but the prepared authority is refused.
    let s = c
        .activate_x509_authority(api::ActivateX509AuthorityRequest {
            authority_id: old_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::FailedPrecondition, "{s:?}");
    assert!(s.message().contains(&new_id), "{s:?}");
    let s = c
        .activate_x509_authority(api::ActivateX509AuthorityRequest {
            authority_id: "00".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::NotFound, "{s:?}");

    let text = server.cli_ok(&["localauthority", "x509", "activate"]).await;
    assert!(text.contains(&new_id) && text.contains("active"), "{text}");
    assert_eq!(server.state.ca().active_id().unwrap(), new_id);

    // Revoking before tainting is refused; then taint and revoke the old one.
    let err = server
        .cli(&[
            "localauthority",
            "x509",
            "revoke",
            "--authority-id",
            &old_id,
        ])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CliError::Rpc {
                code: Code::FailedPrecondition,
                ..
            }
        ),
        "{err}"
    );
    let tainted = json(
        &server
            .cli_ok(&[
                "localauthority",
                "x509",
                "taint",
                "--authority-id",
                &old_id,
                "--output",
                "json",
            ])
            .await,
    );
    assert_eq!(
        (tainted["state"].as_str(), tainted["tainted"].as_bool()),
        (Some("AUTHORITY_STATE_OLD"), Some(true))
    );
    let bundle = api::bundles_client::BundlesClient::new(server.channel().await)
        .get_bundle(api::GetBundleRequest::default())
        .await
        .unwrap()
        .into_inner()
        .bundle
        .unwrap();
    assert_eq!(
        bundle.x509_authorities.iter().filter(|a| a.tainted).count(),
        1,
        "GetBundle marks the tainted authority"
    );

    server
        .cli_ok(&[
            "localauthority",
            "x509",
            "revoke",
            "--authority-id",
            &old_id,
        ])
        .await;
    let after = server.authorities("x509").await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0]["authority_id"], new_id.as_str());
    let pem = server.cli_ok(&["bundle", "show"]).await;
    assert_eq!(
        lanyard_x509::certificates_from_pem(pem.as_bytes())
            .unwrap()
            .len(),
        1,
        "the revoked authority left the bundle"
    );
    let s = c
        .revoke_x509_authority(api::RevokeX509AuthorityRequest {
            authority_id: old_id,
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::NotFound);
}
