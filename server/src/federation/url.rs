//! [`EndpointUrl`]: a bundle endpoint URL as SPIFFE_Federation §5.2.1.1 / §5.2.2.1 allow it:
//! scheme `https`, no userinfo, a host; the port defaults to 443, the path to `/`.

use std::fmt;

use hyper::Uri;

/// A validated bundle endpoint URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EndpointUrl {
    /// DNS name or IP address; an IPv6 address without brackets.
    host: String,
    port: u16,
    /// Path and query, starting with `/`.
    path_and_query: String,
}

impl EndpointUrl {
    /// Parses `text`, saying what is wrong and what to write instead.
    pub fn parse(text: &str) -> Result<EndpointUrl, String> {
        let example = "write it as https://<host>[:<port>]/<path>";
        if text.is_empty() {
            return Err(format!("the bundle endpoint URL is empty: {example}"));
        }
        if !text.contains("://") {
            return Err(format!("{text:?} has no scheme: {example}"));
        }
        let uri: Uri = text
            .parse()
            .map_err(|e| format!("{text:?} is not a URL ({e}): {example}"))?;
        match uri.scheme_str() {
            Some("https") => {}
            Some(other) => {
                return Err(format!(
                    "{text:?}: scheme {other:?} is not allowed; a SPIFFE bundle endpoint is served over https only (SPIFFE_Federation §5.2.1.1)"
                ));
            }
            None => return Err(format!("{text:?} has no scheme: {example}")),
        }
        let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
        if authority.contains('@') {
            return Err(format!(
                "{text:?} carries user information before '@'; a bundle endpoint URL must not (SPIFFE_Federation §5.2.1.1): remove it"
            ));
        }
        let host = uri
            .host()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| format!("{text:?} has no host: {example}"))?;
        // After an IPv6 literal's closing bracket, the port is what follows ':'.
        let after_host = authority
            .rsplit_once(']')
            .map_or(authority, |(_, rest)| rest);
        let port = match after_host.rsplit_once(':') {
            None => 443,
            Some((_, "")) => {
                return Err(format!(
                    "{text:?} has an empty port: write a port number after ':' or leave both out for 443"
                ));
            }
            Some((_, digits)) => digits.parse::<u16>().map_err(|_| {
                format!("{text:?}: port {digits:?} is not a number from 1 to 65535")
            })?,
        };
        if port == 0 {
            return Err(format!("{text:?}: port 0 cannot be dialled"));
        }
        // Uri keeps IPv6 literals bracketed; dialling and TLS want them bare.
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let path_and_query = match uri.path_and_query() {
            Some(pq) if pq.as_str().starts_with('/') => pq.as_str().to_owned(),
            Some(pq) => format!("/{}", pq.as_str()),
            None => "/".to_owned(),
        };
        Ok(EndpointUrl {
            host,
            port,
            path_and_query,
        })
    }

    /// Resolves a redirect's `Location` against this URL: an absolute URL is parsed as any
    /// endpoint URL (so it must be https); an absolute path keeps this host and port.
    pub fn join(&self, location: &str) -> Result<EndpointUrl, String> {
        if location.starts_with('/') && !location.starts_with("//") {
            let text = format!("https://{}{location}", self.authority());
            return EndpointUrl::parse(&text);
        }
        EndpointUrl::parse(location)
    }

    /// The host (DNS name or IP address, IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port (443 unless the URL names one).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Path and query, starting with `/`.
    pub fn path_and_query(&self) -> &str {
        &self.path_and_query
    }

    /// `host:port` as the HTTP `Host` header carries it (IPv6 bracketed).
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for EndpointUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "https://{}{}", self.authority(), self.path_and_query)
    }
}

impl std::str::FromStr for EndpointUrl {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        EndpointUrl::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> EndpointUrl {
        match EndpointUrl::parse(text) {
            Ok(u) => u,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    fn err(text: &str) -> String {
        match EndpointUrl::parse(text) {
            Ok(u) => panic!("{text} parsed as {u}"),
            Err(e) => e,
        }
    }

    #[test]
    fn accepts_https_urls_with_defaults() {
        let u = ok("https://Bundle.Orders.Example");
        assert_eq!(
            (u.host(), u.port(), u.path_and_query()),
            ("bundle.orders.example", 443, "/")
        );
        assert_eq!(u.to_string(), "https://bundle.orders.example:443/");

        let u = ok("https://10.0.0.1:8443/spiffe/bundle?v=1");
        assert_eq!(
            (u.host(), u.port(), u.path_and_query()),
            ("10.0.0.1", 8443, "/spiffe/bundle?v=1")
        );

        let u = ok("https://[::1]:9443/b");
        assert_eq!(u.host(), "::1");
        assert_eq!(u.authority(), "[::1]:9443");
        assert_eq!(u.to_string(), "https://[::1]:9443/b");
    }

    #[test]
    fn refuses_what_the_spec_forbids_saying_why() {
        for (text, says) in [
            ("http://orders.example/", "https only"),
            ("ftp://orders.example/", "https only"),
            ("https://user:pw@orders.example/", "user information"),
            ("https://user@orders.example/", "user information"),
            ("orders.example/bundle", "no scheme"),
            ("", "empty"),
            ("https:///path", "not a URL"),
            ("https://orders.example:/", "empty port"),
            ("https://orders.example:0/", "port 0"),
            ("https://orders.example:99999/", "1 to 65535"),
            ("https://orders .example/", "not a URL"),
        ] {
            let e = err(text);
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn joins_redirect_locations() {
        let base = ok("https://a.example:8443/old");
        assert_eq!(
            base.join("/new?x=1").map(|u| u.to_string()),
            Ok("https://a.example:8443/new?x=1".to_owned())
        );
        assert_eq!(
            base.join("https://b.example/b").map(|u| u.to_string()),
            Ok("https://b.example:443/b".to_owned())
        );
        assert!(base.join("http://b.example/b").is_err());
        assert!(base.join("//b.example/b").is_err());
    }
}
