//! The audit log (ARCHITECTURE.md, "Audit log"): every admin action is one event with target
//! `audit` in one field scheme — `caller`, `action` (`<object>.<verb>`), then the ID of what it
//! acted on — so one log parser reads every kind of change, whichever service made it.

use serde_json::Value;

use crate::agent::TestAgent;
use crate::agent_harness::my_uid;
use crate::harness::Server;
use crate::store::Store;

/// `log` without the ANSI colour codes the text format writes.
pub(crate) fn plain(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    let mut rest = log;
    while let Some(at) = rest.find('\x1b') {
        out.push_str(&rest[..at]);
        rest = rest[at..].split_once('m').map_or("", |(_, after)| after);
    }
    out.push_str(rest);
    out
}

/// The value of `field` in a text log line (`field=value` or `field="value"`).
fn field<'a>(line: &'a str, field: &str) -> Option<&'a str> {
    let start = line.find(&format!(" {field}="))? + field.len() + 2;
    let rest = &line[start..];
    match rest.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next(),
        None => rest.split(' ').next(),
    }
}

/// The ID of the authority in `state` that `localauthority <kind> show` lists.
async fn authority_in_state(server: &Server, kind: &str, state: &str) -> String {
    let all = server
        .cli(&["localauthority", kind, "show", "--output", "json"])
        .await
        .json();
    let all = all["authorities"].as_array().unwrap();
    let one = all.iter().find(|a| a["state"] == state);
    let one = one.unwrap_or_else(|| panic!("no {state} {kind} authority in {all:?}"));
    one["authority_id"].as_str().unwrap().to_owned()
}

fn id(v: &Value) -> String {
    v["authority_id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_admin_action_names_caller_action_and_object() {
    let server = Server::start(Store::Sqlite).await;
    let agent_id = "spiffe://example.org/lanyard/agent/audited";
    let (token, _, _) = server.token(&["--spiffe-id", agent_id]).await;
    let _agent = TestAgent::attest(&server, &token).await.unwrap();
    let entry = server
        .create_entry("spiffe://example.org/web", agent_id)
        .await;
    let entry_id = entry["id"].as_str().unwrap();
    server
        .cli(&["entry", "delete", "--id", entry_id])
        .await
        .ok();
    server
        .cli(&["agent", "ban", "--spiffe-id", agent_id])
        .await
        .ok();
    let prepare = |kind| ["localauthority", kind, "prepare", "--output", "json"];
    let x509 = id(&server.cli(&prepare("x509")).await.json());
    let jwt = id(&server.cli(&prepare("jwt")).await.json());
    let ops = "spiffe://example.org/ops";
    server
        .cli(&["jwt", "mint", "--spiffe-id", ops, "--audience", "a"])
        .await
        .ok();
    let signing_kid = authority_in_state(&server, "jwt", "AUTHORITY_STATE_ACTIVE").await;

    let expected = [
        ("token.generate", "agent_id", agent_id),
        ("entry.create", "entry_id", entry_id),
        ("entry.delete", "entry_id", entry_id),
        ("agent.ban", "agent_id", agent_id),
        ("authority.x509.prepare", "authority_id", &x509),
        ("authority.jwt.prepare", "authority_id", &jwt),
        ("jwt_svid.mint", "authority_id", &signing_kid),
    ];
    let log = plain(&server.log_text());
    let audit: Vec<&str> = log.lines().filter(|l| l.contains(" audit: ")).collect();
    let caller = format!("uid:{}", my_uid());
    for (action, object, want) in expected {
        let lines: Vec<&&str> = audit
            .iter()
            .filter(|l| field(l, "action") == Some(action))
            .collect();
        assert_eq!(lines.len(), 1, "one `{action}` audit event:\n{log}");
        let line = lines[0];
        assert_eq!(field(line, "caller"), Some(caller.as_str()), "{line}");
        assert_eq!(field(line, object), Some(want), "{line}");
    }
    // The admin actions (those with a caller) carry no other scheme's fields.
    for line in audit.iter().filter(|l| field(l, "caller").is_some()) {
        assert!(field(line, "action").is_some(), "{line}");
        assert!(field(line, "event").is_none(), "{line}");
    }
}
