//! The example config files (`deploy/conf/*.toml`) checked against a config type's keys, for
//! the binaries' tests: every key documented, every documented key settable by a variable of
//! its own, with a value of the key's type.
//!
//! An example file shows optional tables and keys commented out (`# [table]`, `# key = value`);
//! [`uncomment`] turns those lines on so that they are checked too. Comment lines inside a
//! commented-out table start with `##`.

use crate::keys::Kind;
use crate::overrides::{Overridable, variables};

/// `text` with the commented-out tables and keys (`# [table]`, `# key = value`) uncommented.
pub fn uncomment(text: &str) -> String {
    let is_key = |t: &str| {
        t.split_once(" = ").is_some_and(|(k, _)| {
            !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    };
    text.lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(t) if t.starts_with('[') || is_key(t) => t,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What is wrong between the example file `text` (commented-out keys included) and the keys of
/// `C`: a key the file does not show, a key in the file no variable sets, a value of another type
/// than its key's, a flag of no key, a variable two keys share. Empty when all is well.
pub fn problems<C: Overridable>(text: &str) -> Vec<String> {
    let table: toml::Table = match toml::from_str(&uncomment(text)) {
        Ok(t) => t,
        Err(e) => return vec![format!("the example does not parse uncommented: {e}")],
    };
    let mut shown = Vec::new();
    leaves(&table, "", &mut shown);
    let vars = variables::<C>();
    let mut problems = Vec::new();
    for (path, value) in &shown {
        let key = vars.iter().map(|v| &v.key).find(|k| {
            k.path == *path || (k.kind == Kind::Table && path.starts_with(&format!("{}.", k.path)))
        });
        match key {
            None => problems.push(format!(
                "`{path}` is in the example but no variable sets it"
            )),
            Some(key) if key.path == *path && !fits(key.kind, value) => problems.push(format!(
                "`{path}` = {value} in the example, but the key takes {}",
                key.kind.example()
            )),
            Some(_) => {}
        }
    }
    for var in vars.iter().filter(|v| !v.alias) {
        let path = &var.key.path;
        let prefix = format!("{path}.");
        if !shown
            .iter()
            .any(|(p, _)| p == path || p.starts_with(&prefix))
        {
            problems.push(format!("`{path}` ({}) is not in the example", var.name));
        }
    }
    for o in C::ARGS.flags {
        if !vars.iter().any(|v| v.key.path == o.key) {
            problems.push(format!(
                "--{} overrides `{}`, which is no key",
                o.flag(),
                o.key
            ));
        }
    }
    for (i, a) in vars.iter().enumerate() {
        for b in &vars[i + 1..] {
            if a.name == b.name && a.key.path != b.key.path {
                problems.push(format!(
                    "{} would set both `{}` and `{}`",
                    a.name, a.key.path, b.key.path
                ));
            }
        }
    }
    problems
}

/// Every value of `table` that is not a table, by dotted key.
fn leaves(table: &toml::Table, prefix: &str, out: &mut Vec<(String, toml::Value)>) {
    for (k, v) in table {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => leaves(t, &path, out),
            other => out.push((path, other.clone())),
        }
    }
}

fn fits(kind: Kind, value: &toml::Value) -> bool {
    use toml::Value as V;
    matches!(
        (kind, value),
        (Kind::Any, _)
            | (Kind::String, V::String(_))
            | (Kind::Integer, V::Integer(_))
            | (Kind::Float, V::Float(_) | V::Integer(_))
            | (Kind::Bool, V::Boolean(_))
            | (Kind::Array, V::Array(_))
            | (Kind::Table, V::Table(_))
    )
}
