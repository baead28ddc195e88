//! [`SpiffeId`]: a validated `spiffe://<trust-domain><path>` URI.

use std::fmt;
use std::str::FromStr;

use crate::trust_domain::validate_name;
use crate::{IdError, MAX_ID_LEN, SCHEME_PREFIX, TrustDomain};

/// A SPIFFE ID such as `spiffe://example.org/payments/api`, valid by construction.
///
/// The path may be empty: `spiffe://example.org` is the trust domain's own ID, which signing
/// certificates carry. Whether a root ID is acceptable is the caller's rule (an X.509-SVID leaf
/// needs a non-root path), so [`SpiffeId::is_root`] tells.
///
/// Cloning is cheap and shares the text (an `Arc<str>`): servers hold the same parent ID in
/// thousands of entries, and copy IDs into every event and stream.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpiffeId {
    /// The full URI.
    id: std::sync::Arc<str>,
    /// Byte length of the trust-domain name inside `id` (after the scheme).
    td_len: usize,
}

impl SpiffeId {
    /// Parses and validates a SPIFFE ID.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        if s.is_empty() {
            return Err(IdError::Empty);
        }
        if s.len() > MAX_ID_LEN {
            return Err(IdError::TooLong { len: s.len() });
        }
        let rest = s.strip_prefix(SCHEME_PREFIX).ok_or(IdError::WrongScheme)?;
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        validate_name(authority)?;
        validate_path(path)?;
        Ok(Self {
            id: s.into(),
            td_len: authority.len(),
        })
    }

    /// Joins parts that are already known to be valid.
    pub(crate) fn from_valid_parts(td: &str, path: &str) -> Self {
        Self {
            id: format!("{SCHEME_PREFIX}{td}{path}").into(),
            td_len: td.len(),
        }
    }

    /// The full URI, e.g. `spiffe://example.org/payments/api`.
    pub fn as_str(&self) -> &str {
        &self.id
    }

    /// The trust-domain name, e.g. `example.org`.
    pub fn trust_domain_name(&self) -> &str {
        &self.id[SCHEME_PREFIX.len()..SCHEME_PREFIX.len() + self.td_len]
    }

    /// The trust domain this ID belongs to.
    pub fn trust_domain(&self) -> TrustDomain {
        // The name was validated when `self` was built, so this cannot fail; fall back to the
        // checked constructor anyway rather than trusting that with an unchecked one.
        match TrustDomain::new(self.trust_domain_name()) {
            Ok(td) => td,
            Err(_) => unreachable!("a SpiffeId always holds a valid trust-domain name"),
        }
    }

    /// The path: empty for a trust domain's own ID, otherwise it starts with `/`.
    pub fn path(&self) -> &str {
        &self.id[SCHEME_PREFIX.len() + self.td_len..]
    }

    /// True when the path is empty (the ID names the trust domain itself).
    pub fn is_root(&self) -> bool {
        self.path().is_empty()
    }

    /// True when this ID belongs to `td`.
    pub fn is_member_of(&self, td: &TrustDomain) -> bool {
        self.trust_domain_name() == td.name()
    }
}

/// Checks a path (empty, or `/seg/seg...`) against SPIFFE-ID.md §2.2.
pub(crate) fn validate_path(path: &str) -> Result<(), IdError> {
    if path.is_empty() {
        return Ok(());
    }
    let Some(body) = path.strip_prefix('/') else {
        return Err(IdError::PathNotAbsolute);
    };
    // Characters first, so that '?', '#' and '%' get their own error whatever segment they are in.
    for ch in body.chars() {
        match ch {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' | '_' | '/' => {}
            '?' => return Err(IdError::Query),
            '#' => return Err(IdError::Fragment),
            '%' => return Err(IdError::PercentEncoding),
            _ => return Err(IdError::PathBadChar { ch }),
        }
    }
    if body.is_empty() || body.ends_with('/') {
        return Err(IdError::TrailingSlash);
    }
    for segment in body.split('/') {
        match segment {
            "" => return Err(IdError::EmptySegment),
            "." => return Err(IdError::DotSegment),
            ".." => return Err(IdError::DotDotSegment),
            _ => {}
        }
    }
    Ok(())
}

impl fmt::Display for SpiffeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

impl fmt::Debug for SpiffeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpiffeId({:?})", &*self.id)
    }
}

impl FromStr for SpiffeId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for SpiffeId {
    fn as_ref(&self) -> &str {
        &self.id
    }
}

impl TryFrom<&str> for SpiffeId {
    type Error = IdError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn err(s: &str) -> IdError {
        SpiffeId::parse(s).unwrap_err()
    }

    #[test]
    fn parses_parts() {
        let id = SpiffeId::parse("spiffe://example.org/payments/api").unwrap();
        assert_eq!(id.trust_domain_name(), "example.org");
        assert_eq!(id.path(), "/payments/api");
        assert!(!id.is_root());
        assert!(id.is_member_of(&TrustDomain::new("example.org").unwrap()));
        assert!(!id.is_member_of(&TrustDomain::new("example.com").unwrap()));
        assert_eq!(id.to_string(), "spiffe://example.org/payments/api");
    }

    #[test]
    fn trust_domain_id_has_empty_path() {
        let id = SpiffeId::parse("spiffe://example.org").unwrap();
        assert!(id.is_root());
        assert_eq!(id.path(), "");
        assert_eq!(id.trust_domain(), TrustDomain::new("example.org").unwrap());
    }

    #[test]
    fn path_allows_uppercase_and_punctuation() {
        assert!(SpiffeId::parse("spiffe://example.org/Web-1/a_b.c").is_ok());
    }

    #[test]
    fn empty_is_rejected() {
        assert_eq!(err(""), IdError::Empty);
    }

    #[test]
    fn wrong_scheme_is_rejected() {
        assert_eq!(err("https://example.org/web"), IdError::WrongScheme);
        assert_eq!(err("SPIFFE://example.org/web"), IdError::WrongScheme);
        assert_eq!(err("spiffe:/example.org/web"), IdError::WrongScheme);
        assert_eq!(err("example.org/web"), IdError::WrongScheme);
    }

    #[test]
    fn missing_trust_domain_is_rejected() {
        assert_eq!(err("spiffe://"), IdError::MissingTrustDomain);
        assert_eq!(err("spiffe:///web"), IdError::MissingTrustDomain);
    }

    #[test]
    fn uppercase_trust_domain_is_rejected() {
        assert_eq!(
            err("spiffe://Example.org/web"),
            IdError::TrustDomainUppercase { ch: 'E' }
        );
    }

    #[test]
    fn bad_trust_domain_char_is_rejected() {
        assert_eq!(
            err("spiffe://exa mple.org/web"),
            IdError::TrustDomainBadChar { ch: ' ' }
        );
        assert_eq!(
            err("spiffe://exämple.org/web"),
            IdError::TrustDomainBadChar { ch: 'ä' }
        );
    }

    #[test]
    fn port_is_rejected() {
        assert_eq!(err("spiffe://example.org:443/web"), IdError::Port);
        assert_eq!(err("spiffe://example.org:/web"), IdError::Port);
    }

    #[test]
    fn userinfo_is_rejected() {
        assert_eq!(err("spiffe://user@example.org/web"), IdError::Userinfo);
    }

    #[test]
    fn query_is_rejected() {
        assert_eq!(err("spiffe://example.org/web?x=1"), IdError::Query);
        assert_eq!(err("spiffe://example.org?x=1"), IdError::Query);
    }

    #[test]
    fn fragment_is_rejected() {
        assert_eq!(err("spiffe://example.org/web#frag"), IdError::Fragment);
    }

    #[test]
    fn percent_encoding_is_rejected() {
        assert_eq!(err("spiffe://example.org/we%62"), IdError::PercentEncoding);
        assert_eq!(err("spiffe://ex%61mple.org/web"), IdError::PercentEncoding);
    }

    #[test]
    fn dot_segments_are_rejected() {
        assert_eq!(err("spiffe://example.org/a/./b"), IdError::DotSegment);
        assert_eq!(err("spiffe://example.org/a/../b"), IdError::DotDotSegment);
        assert_eq!(err("spiffe://example.org/.."), IdError::DotDotSegment);
    }

    #[test]
    fn empty_segment_and_trailing_slash_are_rejected() {
        assert_eq!(err("spiffe://example.org/a//b"), IdError::EmptySegment);
        assert_eq!(err("spiffe://example.org/a/"), IdError::TrailingSlash);
        assert_eq!(err("spiffe://example.org/"), IdError::TrailingSlash);
    }

    #[test]
    fn bad_path_char_is_rejected() {
        assert_eq!(
            err("spiffe://example.org/a b"),
            IdError::PathBadChar { ch: ' ' }
        );
        assert_eq!(
            err("spiffe://example.org/a*b"),
            IdError::PathBadChar { ch: '*' }
        );
    }

    #[test]
    fn ids_up_to_2048_bytes_are_supported() {
        let prefix = "spiffe://example.org/";
        let exact = format!("{prefix}{}", "a".repeat(MAX_ID_LEN - prefix.len()));
        assert_eq!(exact.len(), 2048);
        assert!(SpiffeId::parse(&exact).is_ok());
        let over = format!("{exact}b");
        assert_eq!(err(&over), IdError::TooLong { len: 2049 });
    }
}
