//! [`TrustDomain`]: a validated trust-domain name.

use std::fmt;
use std::str::FromStr;

use crate::{IdError, MAX_TRUST_DOMAIN_LEN, SCHEME_PREFIX, SpiffeId};

/// A trust-domain name such as `example.org`, valid by construction.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrustDomain {
    name: Box<str>,
}

impl TrustDomain {
    /// Parses a trust domain from its name (`example.org`) or its ID (`spiffe://example.org`).
    ///
    /// An ID with a path is refused ([`IdError::PathBadChar`] on the `/`): use
    /// [`SpiffeId::trust_domain`] to get the trust domain of a workload ID.
    pub fn new(name_or_id: &str) -> Result<Self, IdError> {
        if name_or_id.is_empty() {
            return Err(IdError::Empty);
        }
        let name = match name_or_id.strip_prefix(SCHEME_PREFIX) {
            Some(rest) => {
                let id = SpiffeId::parse(name_or_id)?;
                if !id.is_root() {
                    return Err(IdError::PathBadChar { ch: '/' });
                }
                rest
            }
            None => name_or_id,
        };
        validate_name(name)?;
        Ok(Self { name: name.into() })
    }

    /// The trust-domain name, e.g. `example.org`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The trust domain's ID as a string, e.g. `spiffe://example.org` (the key used in bundle maps).
    pub fn id_string(&self) -> String {
        format!("{SCHEME_PREFIX}{}", self.name)
    }

    /// The trust domain's own SPIFFE ID (empty path).
    pub fn spiffe_id(&self) -> SpiffeId {
        SpiffeId::from_valid_parts(&self.name, "")
    }

    /// Builds the SPIFFE ID `spiffe://<this trust domain><path>`; `path` must be empty or
    /// start with `/` and follow the path rules.
    pub fn id_with_path(&self, path: &str) -> Result<SpiffeId, IdError> {
        crate::id::validate_path(path)?;
        let id = SpiffeId::from_valid_parts(&self.name, path);
        if id.as_str().len() > crate::MAX_ID_LEN {
            return Err(IdError::TooLong {
                len: id.as_str().len(),
            });
        }
        Ok(id)
    }
}

/// Checks a bare trust-domain name (the URI host) against SPIFFE-ID.md §2.1 and §2.3.
pub(crate) fn validate_name(name: &str) -> Result<(), IdError> {
    if name.is_empty() {
        return Err(IdError::MissingTrustDomain);
    }
    for ch in name.chars() {
        match ch {
            'a'..='z' | '0'..='9' | '.' | '-' | '_' => {}
            'A'..='Z' => return Err(IdError::TrustDomainUppercase { ch }),
            ':' => return Err(IdError::Port),
            '@' => return Err(IdError::Userinfo),
            '?' => return Err(IdError::Query),
            '#' => return Err(IdError::Fragment),
            '%' => return Err(IdError::PercentEncoding),
            _ => return Err(IdError::TrustDomainBadChar { ch }),
        }
    }
    if name.len() > MAX_TRUST_DOMAIN_LEN {
        return Err(IdError::TrustDomainTooLong { len: name.len() });
    }
    Ok(())
}

impl fmt::Display for TrustDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl fmt::Debug for TrustDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TrustDomain({:?})", self.name)
    }
}

impl FromStr for TrustDomain {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl AsRef<str> for TrustDomain {
    fn as_ref(&self) -> &str {
        &self.name
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn accepts_name_and_id_forms() {
        let a = TrustDomain::new("example.org").unwrap();
        let b = TrustDomain::new("spiffe://example.org").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.name(), "example.org");
        assert_eq!(a.id_string(), "spiffe://example.org");
        assert_eq!(a.spiffe_id().as_str(), "spiffe://example.org");
    }

    #[test]
    fn uppercase_trust_domain_is_rejected() {
        assert_eq!(
            TrustDomain::new("Example.org"),
            Err(IdError::TrustDomainUppercase { ch: 'E' })
        );
    }

    #[test]
    fn port_is_rejected() {
        assert_eq!(TrustDomain::new("example.org:8080"), Err(IdError::Port));
    }

    #[test]
    fn id_with_path_is_not_a_trust_domain() {
        assert!(TrustDomain::new("spiffe://example.org/web").is_err());
    }

    #[test]
    fn trust_domain_of_255_bytes_is_accepted_and_256_rejected() {
        assert!(TrustDomain::new(&"a".repeat(255)).is_ok());
        assert_eq!(
            TrustDomain::new(&"a".repeat(256)),
            Err(IdError::TrustDomainTooLong { len: 256 })
        );
    }

    #[test]
    fn id_with_path_builds_member_ids() {
        let td = TrustDomain::new("example.org").unwrap();
        let id = td.id_with_path("/payments/api").unwrap();
        assert_eq!(id.as_str(), "spiffe://example.org/payments/api");
        assert_eq!(td.id_with_path("payments"), Err(IdError::PathNotAbsolute));
    }
}
