//! The keys of a config type, read from its `Deserialize` impl rather than listed by hand, so
//! that a key added to a config struct has its environment variable at once.
//!
//! [`keys`] asks the type to deserialize itself from a probing `Deserializer` once per key:
//! for a path (`workload_api.max_connections`) the probe presents a table holding only that
//! path's next key at each level, and records how the value at its end is asked for (a struct
//! names its fields; a `u32` calls `deserialize_u32`, a path or duration `deserialize_str`,
//! ...). That is the TOML type an override's value is parsed as. The probe stops every
//! deserialization with an error once it has its answer, so no value is ever built and custom
//! deserializers (a trust domain's check) never see one.

use std::cell::RefCell;
use std::fmt;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IntoDeserializer as _, MapAccess, Visitor,
};

/// The TOML type of a key's value, as the config type reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// A string (also paths, addresses, durations such as `"90s"`).
    String,
    /// An integer.
    Integer,
    /// A floating-point number.
    Float,
    /// `true` or `false`.
    Bool,
    /// An array, e.g. `["a", "b"]`.
    Array,
    /// A table with names of the operator's choosing, e.g. `{ prod = { ... } }`.
    Table,
    /// Either of several types (an enum, or a value that may be a string or a list): a
    /// valid TOML value is taken as such, anything else as a string.
    Any,
}

impl Kind {
    /// What a value of this kind looks like, for error messages.
    pub fn example(self) -> &'static str {
        match self {
            Kind::String | Kind::Any => "a string",
            Kind::Integer => "an integer, e.g. 4096",
            Kind::Float => "a number, e.g. 0.5",
            Kind::Bool => "true or false",
            Kind::Array => "a TOML inline array, e.g. [\"a\", \"b\"]",
            Kind::Table => "a TOML inline table, e.g. { name = { key = \"value\" } }",
        }
    }
}

/// One settable key of a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The dotted key, e.g. `workload_api.max_connections`.
    pub path: String,
    /// The TOML type of its value.
    pub kind: Kind,
}

/// Every leaf key of `C` (a table's fields, recursively; a table of free-form names such as
/// `clusters.<name>` is one [`Kind::Table`] key), sorted.
pub fn keys<C: DeserializeOwned>() -> Vec<Key> {
    let mut found = Vec::new();
    let mut pending: Vec<Vec<&'static str>> = vec![Vec::new()];
    while let Some(path) = pending.pop() {
        match probe::<C>(&path) {
            Some(Found::Struct(fields)) => {
                for field in fields {
                    let mut child = path.clone();
                    child.push(field);
                    pending.push(child);
                }
            }
            Some(Found::Leaf(kind)) => found.push(Key {
                path: path.join("."),
                kind,
            }),
            None => {}
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

/// What the value at a path turned out to be.
enum Found {
    Struct(&'static [&'static str]),
    Leaf(Kind),
}

fn probe<C: DeserializeOwned>(path: &[&'static str]) -> Option<Found> {
    let found = RefCell::new(None);
    // The result is always the probe's own `Stop` (or the type's error about it): the answer is
    // what the probe recorded on the way.
    let _ = C::deserialize(Probe {
        path,
        found: &found,
    });
    found.into_inner()
}

/// Ends every probing deserialization.
#[derive(Debug)]
struct Stop;

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("probe stopped")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Stop
    }
}

struct Probe<'a> {
    /// The keys still to descend through.
    path: &'a [&'static str],
    found: &'a RefCell<Option<Found>>,
}

impl Probe<'_> {
    /// At the end of the path: the value is a leaf of `kind`. Before it: the path runs through
    /// something that is not a table of fields, so it leads nowhere.
    fn leaf<T>(self, kind: Kind) -> Result<T, Stop> {
        if self.path.is_empty() {
            *self.found.borrow_mut() = Some(Found::Leaf(kind));
        }
        Err(Stop)
    }
}

macro_rules! leaves {
    ($($method:ident => $kind:expr),* $(,)?) => {
        $(fn $method<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            self.leaf($kind)
        })*
    };
}

impl<'de> de::Deserializer<'de> for Probe<'_> {
    type Error = Stop;

    leaves! {
        deserialize_any => Kind::Any,
        deserialize_bool => Kind::Bool,
        deserialize_i8 => Kind::Integer,
        deserialize_i16 => Kind::Integer,
        deserialize_i32 => Kind::Integer,
        deserialize_i64 => Kind::Integer,
        deserialize_i128 => Kind::Integer,
        deserialize_u8 => Kind::Integer,
        deserialize_u16 => Kind::Integer,
        deserialize_u32 => Kind::Integer,
        deserialize_u64 => Kind::Integer,
        deserialize_u128 => Kind::Integer,
        deserialize_f32 => Kind::Float,
        deserialize_f64 => Kind::Float,
        deserialize_char => Kind::String,
        deserialize_str => Kind::String,
        deserialize_string => Kind::String,
        deserialize_bytes => Kind::String,
        deserialize_byte_buf => Kind::String,
        deserialize_unit => Kind::Any,
        deserialize_seq => Kind::Array,
        deserialize_map => Kind::Table,
        deserialize_identifier => Kind::String,
        deserialize_ignored_any => Kind::Any,
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Stop> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: V,
    ) -> Result<V::Value, Stop> {
        self.leaf(Kind::Any)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, Stop> {
        self.leaf(Kind::Array)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        _: V,
    ) -> Result<V::Value, Stop> {
        self.leaf(Kind::Array)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Stop> {
        // Unit variants are strings in TOML, others tables: parse what parses.
        self.leaf(Kind::Any)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Stop> {
        let Some((next, rest)) = self.path.split_first() else {
            *self.found.borrow_mut() = Some(Found::Struct(fields));
            return Err(Stop);
        };
        visitor.visit_map(OneKey {
            key: Some(next),
            value: Probe {
                path: rest,
                found: self.found,
            },
        })
    }
}

/// A table holding one key, whose value is probed further.
struct OneKey<'a> {
    key: Option<&'static str>,
    value: Probe<'a>,
}

impl<'de, 'a> MapAccess<'de> for OneKey<'a> {
    type Error = Stop;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Stop> {
        match self.key.take() {
            Some(key) => seed.deserialize(key.into_deserializer()).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Stop> {
        seed.deserialize(Probe {
            path: self.value.path,
            found: self.value.found,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::net::SocketAddr;
    use std::path::PathBuf;
    use std::time::Duration;

    use serde::Deserialize;

    use super::*;

    #[allow(dead_code, reason = "only deserialized")]
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        #[serde(deserialize_with = "crate::trust_domain")]
        trust_domain: lanyard_id::TrustDomain,
        address: SocketAddr,
        path: Option<PathBuf>,
        flag: bool,
        #[serde(default)]
        table: Inner,
        named: BTreeMap<String, Inner>,
        list: Vec<String>,
        optional_table: Option<Inner>,
        ratio: f64,
        format: lanyard_observe::LogFormat,
    }

    #[allow(dead_code, reason = "only deserialized")]
    #[derive(Default, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        count: u32,
        #[serde(with = "humantime_serde_like")]
        wait: Duration,
    }

    /// A `with` module as humantime_serde's: a string.
    mod humantime_serde_like {
        use std::time::Duration;

        pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
            d: D,
        ) -> Result<Duration, D::Error> {
            let s = <String as serde::Deserialize>::deserialize(d)?;
            humantime::parse_duration(&s).map_err(serde::de::Error::custom)
        }
    }

    #[test]
    fn every_leaf_key_with_the_type_its_value_is_read_as() {
        let found: Vec<(String, Kind)> = keys::<File>()
            .into_iter()
            .map(|k| (k.path, k.kind))
            .collect();
        let expected = [
            ("address", Kind::String),
            ("flag", Kind::Bool),
            ("format", Kind::Any),
            ("list", Kind::Array),
            ("named", Kind::Table),
            ("optional_table.count", Kind::Integer),
            ("optional_table.wait", Kind::String),
            ("path", Kind::String),
            ("ratio", Kind::Float),
            ("table.count", Kind::Integer),
            ("table.wait", Kind::String),
            ("trust_domain", Kind::String),
        ];
        assert_eq!(
            found,
            expected
                .iter()
                .map(|(p, k)| ((*p).to_owned(), *k))
                .collect::<Vec<_>>()
        );
    }
}
