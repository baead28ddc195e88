//! `deploy/systemd/*.service`, checked by systemd itself: `systemd-analyze verify` prints no
//! warning about them (with `ExecStart` pointed at the binaries this test built, which verify
//! checks exist), `systemd-analyze security` rates their hardening "OK", and the variables they
//! set are ones the binaries read, accepted by `check-config` together with the example config.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::bin;

fn unit_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy/systemd")
        .join(name)
}

/// The `Environment=NAME=value` settings of a unit.
fn environment(unit: &str) -> Vec<(String, String)> {
    unit.lines()
        .filter_map(|l| l.strip_prefix("Environment="))
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[test]
fn the_systemd_units_verify_without_warnings_and_set_variables_the_binaries_read() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        println!(
            "SKIPPED: systemd-analyze is not installed, so deploy/systemd was not verified; \
             install systemd to run this test"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (unit, binary, example) in [
        ("lanyard-server.service", "lanyard-server", "server.toml"),
        ("lanyard-agent.service", "lanyard-agent", "agent.toml"),
    ] {
        let text = std::fs::read_to_string(unit_file(unit)).unwrap();
        let installed = format!("/usr/local/bin/{binary}");
        assert!(
            text.contains(&format!("ExecStart={installed} run ")),
            "{unit}"
        );
        let built = bin(binary);
        let path = dir.path().join(unit);
        std::fs::write(&path, text.replace(&installed, built.to_str().unwrap())).unwrap();

        let out = Command::new("systemd-analyze")
            .args(["verify", "--man=no"])
            .arg(&path)
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // Only what concerns our unit: verify also loads the system's units it depends on.
        let ours: Vec<&str> = said
            .lines()
            .filter(|l| l.contains(unit) || l.contains(path.to_str().unwrap()))
            .collect();
        assert!(out.status.success() && ours.is_empty(), "{unit}:\n{said}");

        // The hardening holds: systemd's own exposure score stays in its "OK" band (below 3.0;
        // an unhardened service scores 9.6).
        let out = Command::new("systemd-analyze")
            .args(["security", "--offline=true", "--no-pager"])
            .arg(&path)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        let score: f64 = said
            .lines()
            .find_map(|l| l.split_once(&format!("Overall exposure level for {unit}: ")))
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no exposure level for {unit}:\n{said}"));
        assert!(score < 3.0, "{unit} is exposed at {score}:\n{said}");

        // Its variables name keys (a typo would warn at every start), and check-config accepts
        // them over the example file.
        let env = environment(&text);
        assert!(
            !env.is_empty(),
            "{unit} sets the paths its directories hold"
        );
        let config = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../deploy/conf")
            .join(example);
        let mut check = Command::new(&built);
        check.arg("check-config").arg("--config").arg(&config);
        for (v, _) in std::env::vars_os() {
            if v.to_str().is_some_and(|v| v.starts_with("LANYARD_")) {
                check.env_remove(v);
            }
        }
        check.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let out = check.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{unit}: check-config refuses its environment: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for (_, value) in &env {
            assert!(
                stdout.contains(value.as_str()),
                "{unit}: {value} not in\n{stdout}"
            );
        }
    }
}
