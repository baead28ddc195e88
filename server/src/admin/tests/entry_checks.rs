//! Listing (pagination, filters) and the validation of entries, through the API and the CLI.

use lanyard_proto::lanyard::admin::v1 as api;
use lanyard_proto::lanyard::admin::v1::entries_client::EntriesClient;
use lanyard_proto::lanyard::types::v1 as pb;
use tonic::Code;

use super::entries::{create, entry, sel};
use super::*;

#[tokio::test]
async fn pagination_and_filters() {
    let server = TestServer::sqlite().await;
    let mut c = EntriesClient::new(server.channel().await);
    for i in 0..7 {
        let mut sels = vec![sel("unix", &format!("uid:{i}"))];
        if i % 2 == 0 {
            sels.push(sel("k8s", "ns:prod"));
        }
        create(&mut c, entry(&format!("spiffe://example.org/w{i}"), sels))
            .await
            .unwrap();
    }
    create(
        &mut c,
        pb::Entry {
            parent_id: "spiffe://example.org/other-host".into(),
            ..entry("spiffe://example.org/w0", vec![sel("unix", "uid:0")])
        },
    )
    .await
    .unwrap();

    // Three pages of 3, 3 and 2, in id order, without repeats.
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = c
            .list_entries(api::ListEntriesRequest {
                filter: None,
                page_size: 3,
                page_token: token,
            })
            .await
            .unwrap()
            .into_inner();
        pages += 1;
        seen.extend(page.entries.into_iter().map(|e| e.id));
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!((pages, seen.len()), (3, 8));
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen);
    // The CLI follows every page by default; --page-size gives one.
    assert!(
        server
            .cli_ok(&["entry", "show"])
            .await
            .starts_with("Found 8 entries")
    );
    let one = server.cli_ok(&["entry", "show", "--page-size", "5"]).await;
    assert!(
        one.starts_with("Found 5 entries") && one.contains("--page-token"),
        "{one}"
    );

    let bad = c
        .list_entries(api::ListEntriesRequest {
            page_token: "not a token!".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("page_token"), "{bad:?}");

    // Filters, through the CLI's count (each maps to the API filter).
    let count = |args: &'static [&'static str]| {
        let server = &server;
        async move {
            let mut all = vec!["entry", "count", "--output", "json"];
            all.extend_from_slice(args);
            let v: serde_json::Value = serde_json::from_str(&server.cli_ok(&all).await).unwrap();
            v["count"].as_str().unwrap().parse::<u64>().unwrap()
        }
    };
    assert_eq!(count(&["--spiffe-id", "spiffe://example.org/w0"]).await, 2);
    assert_eq!(
        count(&["--parent-id", "spiffe://example.org/other-host"]).await,
        1
    );
    assert_eq!(count(&["--selector", "k8s:ns:prod"]).await, 4); // superset by default
    assert_eq!(
        count(&["--selector", "unix:uid:0", "--match", "exact"]).await,
        1
    );
    assert_eq!(
        count(&[
            "--selector",
            "unix:uid:2",
            "--selector",
            "k8s:ns:prod",
            "--match",
            "subset"
        ])
        .await,
        1
    );
    assert_eq!(
        count(&[
            "--selector",
            "unix:uid:1",
            "--selector",
            "unix:uid:3",
            "--match",
            "any"
        ])
        .await,
        2
    );
}

#[tokio::test]
async fn invalid_entries_are_refused_naming_the_field() {
    let server = TestServer::sqlite().await;
    let mut c = EntriesClient::new(server.channel().await);
    let good = || entry("spiffe://example.org/web", vec![sel("unix", "uid:1")]);
    let cases = [
        (
            pb::Entry {
                spiffe_id: "spiffe://example.org/a/../b".into(),
                ..good()
            },
            "`spiffe_id`",
        ),
        (
            pb::Entry {
                spiffe_id: "spiffe://other.org/web".into(),
                ..good()
            },
            "outside this server's trust domain",
        ),
        (
            pb::Entry {
                parent_id: "not-a-spiffe-id".into(),
                ..good()
            },
            "`parent_id`",
        ),
        (
            pb::Entry {
                selectors: vec![sel("", "uid:1")],
                ..good()
            },
            "`selectors`",
        ),
        (
            pb::Entry {
                selectors: vec![sel("unix", "")],
                ..good()
            },
            "`selectors`",
        ),
        (
            pb::Entry {
                x509_svid_ttl_seconds: u32::try_from(CA_TTL.as_secs()).unwrap() + 1,
                ..good()
            },
            "`x509_svid_ttl`",
        ),
    ];
    for (e, needle) in cases {
        let s = create(&mut c, e.clone()).await.unwrap_err();
        assert_eq!(s.code(), Code::InvalidArgument, "{e:?}");
        assert!(s.message().contains(needle), "{needle}: {}", s.message());
    }
    let s = c
        .count_entries(api::CountEntriesRequest {
            filter: Some(api::EntryFilter {
                spiffe_id: Some("spiffe://x/..".into()),
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert!(s.message().contains("`filter.spiffe_id`"), "{s:?}");

    // The CLI refuses some things before calling (exit code 2) and relays the rest.
    let base = [
        "entry",
        "create",
        "--spiffe-id",
        "spiffe://example.org/web",
        "--parent-id",
        "spiffe://example.org/host",
    ];
    let usage = |extra: &'static [&'static str]| {
        let server = &server;
        async move {
            let mut all = base.to_vec();
            all.extend_from_slice(extra);
            let err = server.cli(&all).await.unwrap_err();
            assert_eq!(err.exit_code(), std::process::ExitCode::from(2), "{err}");
            err.to_string()
        }
    };
    assert_eq!(
        usage(&["--selector", "unix:uid:1", "--x509-svid-ttl", "0"]).await,
        "--x509-svid-ttl must be greater than zero (omit it for the server default)"
    );
    assert_eq!(
        usage(&["--selector", "unix"]).await,
        "selector \"unix\" must be type:value, e.g. unix:uid:1000"
    );
    let mut all = base.to_vec();
    all.extend(["--selector", "unix:uid:1", "--x509-svid-ttl", "86401"]);
    let err = server.cli(&all).await.unwrap_err();
    assert!(
        err.to_string().starts_with(
            "create entry : invalid entry: `x509_svid_ttl` is 86401s, beyond the CA lifetime"
        ),
        "{err}"
    );
}
