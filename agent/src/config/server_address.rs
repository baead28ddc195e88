//! `server_address`: where the agent finds the server's agent API, as one `host:port` or a list.
//!
//! Several servers share one PostgreSQL datastore (and so one CA); an agent given several
//! addresses, or a DNS name that resolves to several, syncs with one of them and moves to the
//! next when it fails (`node::servers`). Names are resolved again at every failover, never
//! cached for the agent's lifetime. Which server answers does not matter to trust: the agent
//! verifies every server by its X.509-SVID (`spiffe://<td>/lanyard/server`), not by its name.
//!
//! The TOML file writes a list as an array; a string may also hold a comma-separated list, so
//! that the one-string flag `--server-address` and `LANYARD_AGENT_SERVER_ADDRESS` can give one.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

/// At most this many addresses: more would only lengthen a failover round.
pub const MAX_SERVER_ADDRESSES: usize = 32;

/// One `host:port`: an IPv4 address, a bracketed IPv6 address (`[2001:db8::1]:8081`) or a DNS
/// name, and a port from 1 to 65535. Only [`ServerAddress::parse`] makes one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerAddress {
    text: String,
    host: String,
    port: u16,
}

impl ServerAddress {
    /// Parses `host:port`; the error says what is wrong with `text` and what to write instead.
    pub fn parse(text: &str) -> Result<ServerAddress, String> {
        const EXAMPLE: &str = "e.g. \"lanyard-server.example.org:8081\" or \"10.0.0.5:8081\"";
        let text = text.trim();
        if text.contains("://") {
            return Err(format!(
                "{text:?} is a URL: give host:port without a scheme ({EXAMPLE})"
            ));
        }
        let Some((host, port)) = text.rsplit_once(':').filter(|_| !text.ends_with(']')) else {
            return Err(format!(
                "{text:?} has no port: give host:port of the server's agent API ({EXAMPLE})"
            ));
        };
        let port = match port.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => {
                return Err(format!(
                    "{text:?}: the port {port:?} is not a number from 1 to 65535 ({EXAMPLE})"
                ));
            }
        };
        let host = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            if v6.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(format!(
                    "{text:?}: [{v6}] is not an IPv6 address ({EXAMPLE})"
                ));
            }
            v6
        } else if host.contains(':') {
            return Err(format!(
                "{text:?}: write an IPv6 address in brackets, as \"[2001:db8::1]:8081\""
            ));
        } else {
            check_host_name(host).map_err(|problem| format!("{text:?}: {problem} ({EXAMPLE})"))?;
            host
        };
        Ok(ServerAddress {
            host: host.to_owned(),
            port,
            text: text.to_owned(),
        })
    }

    /// The host: a name, an IPv4 address, or an IPv6 address without its brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// A DNS name (or an IPv4 address, which passes the same test): labels of letters, digits, `-`
/// and `_` (found in real names) of at most 63 characters, not starting or ending with `-`, at
/// most 253 characters in all.
fn check_host_name(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("the host is empty".to_owned());
    }
    if host.len() > 253 {
        return Err("the host name is longer than 253 characters".to_owned());
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    for label in host.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(format!(
                "{host:?} is not a host name (labels of letters, digits and '-', at most 63 characters each)"
            ));
        }
    }
    Ok(())
}

impl fmt::Display for ServerAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `server_address`: one or more [`ServerAddress`]es, in the order the agent tries them, none
/// twice.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerAddresses(Vec<ServerAddress>);

impl ServerAddresses {
    /// Parses a list of `host:port`; each string may itself be a comma-separated list.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<ServerAddresses, String> {
        let mut all: Vec<ServerAddress> = Vec::new();
        for item in items {
            for text in item.as_ref().split(',') {
                if text.trim().is_empty() {
                    return Err(
                        "holds an empty address: list each server's host:port once".to_owned()
                    );
                }
                let address = ServerAddress::parse(text)?;
                if all.contains(&address) {
                    return Err(format!(
                        "lists {address} twice: list each server once (a name that resolves to several servers counts once)"
                    ));
                }
                all.push(address);
            }
        }
        if all.is_empty() {
            return Err("is empty: give the host:port of at least one server".to_owned());
        }
        if all.len() > MAX_SERVER_ADDRESSES {
            return Err(format!(
                "lists {} addresses; at most {MAX_SERVER_ADDRESSES} (use a DNS name that resolves to every server instead)",
                all.len()
            ));
        }
        Ok(ServerAddresses(all))
    }

    /// The addresses, in the order given.
    pub fn iter(&self) -> std::slice::Iter<'_, ServerAddress> {
        self.0.iter()
    }
}

/// The addresses comma-separated, as the string form of the key takes them.
impl fmt::Display for ServerAddresses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

/// As `check-config` prints it: the list of `host:port` strings.
impl fmt::Debug for ServerAddresses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|a| &a.text))
            .finish()
    }
}

impl<'de> Deserialize<'de> for ServerAddresses {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct OneOrMany;
        impl<'de> Visitor<'de> for OneOrMany {
            type Value = ServerAddresses;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "host:port of the server's agent API, or an array of them (one per server)",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ServerAddresses, E> {
                ServerAddresses::parse(&[v]).map_err(E::custom)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ServerAddresses, A::Error> {
                let mut items: Vec<String> = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    items.push(item);
                }
                ServerAddresses::parse(&items).map_err(de::Error::custom)
            }
        }
        d.deserialize_any(OneOrMany)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        server_address: ServerAddresses,
    }

    fn parse(value: &str) -> Result<ServerAddresses, String> {
        toml::from_str::<File>(&format!("server_address = {value}\n"))
            .map(|f| f.server_address)
            .map_err(|e| e.to_string())
    }

    fn texts(a: &ServerAddresses) -> Vec<String> {
        a.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn one_string_a_comma_separated_string_and_an_array_are_lists() {
        assert_eq!(
            texts(&parse("\"lanyard-server.lanyard.svc:8081\"").unwrap()),
            ["lanyard-server.lanyard.svc:8081"]
        );
        let list =
            parse("[\"a.example.org:8081\", \"10.0.0.5:8081\", \"[2001:db8::1]:8081\"]").unwrap();
        assert_eq!(
            texts(&list),
            ["a.example.org:8081", "10.0.0.5:8081", "[2001:db8::1]:8081"]
        );
        assert_eq!(list.iter().nth(2).unwrap().host(), "2001:db8::1");
        assert_eq!(list.iter().nth(2).unwrap().port(), 8081);
        assert_eq!(
            parse("\"a.example.org:8081, 10.0.0.5:8081\"").unwrap(),
            parse("[\"a.example.org:8081\", \"10.0.0.5:8081\"]").unwrap()
        );
        assert_eq!(
            list.to_string(),
            "a.example.org:8081,10.0.0.5:8081,[2001:db8::1]:8081"
        );
        assert_eq!(
            format!("{list:?}"),
            "[\"a.example.org:8081\", \"10.0.0.5:8081\", \"[2001:db8::1]:8081\"]"
        );
    }

    #[test]
    fn bad_addresses_are_refused_saying_what_to_write() {
        for (value, says) in [
            ("\"localhost\"", "has no port"),
            ("\"[::1]\"", "has no port"),
            ("\"https://server:8081\"", "without a scheme"),
            ("\"server:0\"", "not a number from 1 to 65535"),
            ("\"server:80801\"", "not a number from 1 to 65535"),
            ("\"server:http\"", "not a number from 1 to 65535"),
            ("\"::1:8081\"", "in brackets"),
            ("\"[nope]:8081\"", "not an IPv6 address"),
            ("\":8081\"", "the host is empty"),
            ("\"bad host:8081\"", "is not a host name"),
            ("\"-server:8081\"", "is not a host name"),
            ("[]", "is empty"),
            ("\"\"", "empty address"),
            ("\"a:1,,b:2\"", "empty address"),
            ("[\"a:1\", \"a:1\"]", "lists a:1 twice"),
            ("[\"a:1\", 2]", "invalid type"),
            ("8081", "host:port of the server's agent API, or an array"),
        ] {
            let e = parse(value).unwrap_err();
            assert!(e.contains(says), "{value}: {e}");
        }
        let many: Vec<String> = (1..=33).map(|p| format!("\"s:{p}\"")).collect();
        let e = parse(&format!("[{}]", many.join(","))).unwrap_err();
        assert!(e.contains("at most 32"), "{e}");
    }
}
