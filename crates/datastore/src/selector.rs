//! [`Selector`]: a `type:value` property of a node or workload, as written in entries.

use std::fmt;
use std::str::FromStr;

/// Why a string is not a selector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectorError {
    /// Nothing before the first `:` (or no `:` at all).
    #[error("selector {0:?} has no type: selector must be type:value, e.g. unix:uid:1000")]
    MissingType(String),
    /// Nothing after the first `:`.
    #[error("selector {0:?} has no value: selector must be type:value, e.g. unix:uid:1000")]
    MissingValue(String),
    /// The type part contains `:`, so `type:value` would not parse back to the same selector.
    #[error("selector type {0:?} contains ':': selector must be type:value, e.g. unix:uid:1000")]
    TypeContainsColon(String),
}

/// A selector such as `unix:uid:1000` or `k8s:pod-label:app:web`.
///
/// The type is everything before the **first** `:`; the value is the rest and may itself
/// contain `:`. Ordering is by type, then value, which is the canonical order entries store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Selector {
    /// The attestor type, e.g. `unix`, `k8s`, `join_token`.
    pub kind: String,
    /// The attestor-specific value, e.g. `uid:1000`.
    pub value: String,
}

impl Selector {
    /// Builds a selector from its parts, checking that `type:value` parses back to it.
    pub fn new(kind: impl Into<String>, value: impl Into<String>) -> Result<Self, SelectorError> {
        let (kind, value) = (kind.into(), value.into());
        if kind.is_empty() {
            return Err(SelectorError::MissingType(format!(":{value}")));
        }
        if kind.contains(':') {
            return Err(SelectorError::TypeContainsColon(kind));
        }
        if value.is_empty() {
            return Err(SelectorError::MissingValue(format!("{kind}:")));
        }
        Ok(Self { kind, value })
    }

    /// Parses `type:value`, splitting at the first `:`.
    pub fn parse(s: &str) -> Result<Self, SelectorError> {
        match s.split_once(':') {
            None | Some(("", _)) => Err(SelectorError::MissingType(s.to_owned())),
            Some((_, "")) => Err(SelectorError::MissingValue(s.to_owned())),
            Some((kind, value)) => Ok(Self {
                kind: kind.to_owned(),
                value: value.to_owned(),
            }),
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.value)
    }
}

impl FromStr for Selector {
    type Err = SelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Sorts and dedups `selectors`: the canonical form entries and agents are stored in.
pub(crate) fn normalize(selectors: &mut Vec<Selector>) {
    selectors.sort();
    selectors.dedup();
}

/// The canonical JSON text of an already normalized selector set (`["type:value", ...]`).
///
/// Equal sets give equal text, so the text serves as the "exact match" key.
pub(crate) fn to_json(selectors: &[Selector]) -> String {
    let strings: Vec<String> = selectors.iter().map(Selector::to_string).collect();
    // Serializing a Vec<String> cannot fail; fall back to an empty array rather than panic.
    serde_json::to_string(&strings).unwrap_or_else(|_| "[]".to_owned())
}

/// Parses a stored selector set back; `what` names the row for the error.
pub(crate) fn from_json(text: &str, what: &str) -> Result<Vec<Selector>, crate::DatastoreError> {
    let strings: Vec<String> = serde_json::from_str(text)
        .map_err(|e| crate::DatastoreError::corrupt(format!("{what}: selectors: {e}")))?;
    // Sized up front: collecting through `Result` starts a Vec at capacity 4, and with the
    // usual one or two selectors that spare capacity was ~150 bytes per entry held in the
    // server's entry cache (14 MiB of 100,000 entries, measured with heaptrack).
    let mut out = Vec::with_capacity(strings.len());
    for s in &strings {
        out.push(
            Selector::parse(s)
                .map_err(|e| crate::DatastoreError::corrupt(format!("{what}: selectors: {e}")))?,
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parse_splits_at_first_colon() {
        let s = Selector::parse("k8s:pod-label:app:web").unwrap();
        assert_eq!(
            (s.kind.as_str(), s.value.as_str()),
            ("k8s", "pod-label:app:web")
        );
        assert_eq!(s.to_string(), "k8s:pod-label:app:web");
        assert_eq!(Selector::parse("unix:uid:1000").unwrap().value, "uid:1000");
    }

    #[test]
    fn parse_errors_say_what_a_selector_looks_like() {
        for bad in ["", "unix", ":uid:1000"] {
            let e = Selector::parse(bad).unwrap_err();
            assert!(matches!(e, SelectorError::MissingType(_)), "{bad}");
            assert!(e.to_string().contains("e.g. unix:uid:1000"));
        }
        assert!(matches!(
            Selector::parse("unix:").unwrap_err(),
            SelectorError::MissingValue(_)
        ));
        assert!(matches!(
            Selector::new("a:b", "c").unwrap_err(),
            SelectorError::TypeContainsColon(_)
        ));
    }

    #[test]
    fn json_round_trips_and_is_canonical() {
        let mut a = vec![
            Selector::parse("unix:uid:1").unwrap(),
            Selector::parse("k8s:ns:x").unwrap(),
            Selector::parse("unix:uid:1").unwrap(),
        ];
        normalize(&mut a);
        assert_eq!(a.len(), 2);
        let text = to_json(&a);
        assert_eq!(text, r#"["k8s:ns:x","unix:uid:1"]"#);
        assert_eq!(from_json(&text, "t").unwrap(), a);
    }
}
