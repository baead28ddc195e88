//! The error type: one variant per SPIFFE-ID.md rule.

/// Why a string is not a valid SPIFFE ID or trust domain.
///
/// Each variant names the rule of `standards/SPIFFE-ID.md` that was broken; the `Display` text
/// says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The input was empty.
    #[error("SPIFFE ID is empty: expected spiffe://<trust-domain>/<path>")]
    Empty,
    /// The input does not start with the lowercase `spiffe://` scheme (§2).
    #[error("SPIFFE ID must start with the lowercase scheme \"spiffe://\"")]
    WrongScheme,
    /// There is no trust-domain name after the scheme (§2: "include a non-zero trust domain name").
    #[error("SPIFFE ID has no trust domain: expected spiffe://<trust-domain>")]
    MissingTrustDomain,
    /// The trust-domain name is longer than 255 bytes (§2.3).
    #[error("trust domain is {len} bytes long; at most 255 are allowed")]
    TrustDomainTooLong {
        /// Length of the offending trust-domain name.
        len: usize,
    },
    /// The trust domain contains an uppercase letter (§2.1; trust domains are lowercase).
    #[error("trust domain contains uppercase letter {ch:?}: trust domains are lowercase")]
    TrustDomainUppercase {
        /// The offending character.
        ch: char,
    },
    /// The trust domain contains a character other than `a-z 0-9 . - _`.
    #[error(
        "trust domain contains {ch:?}: only lowercase letters, digits, '.', '-' and '_' are allowed"
    )]
    TrustDomainBadChar {
        /// The offending character.
        ch: char,
    },
    /// The authority has a port (§2.1: "the `:` delimiter MUST NOT be present").
    #[error("SPIFFE ID must not contain a port (':' after the trust domain)")]
    Port,
    /// The authority has userinfo (§2.1: "The `userinfo` ... MUST NOT be set").
    #[error("SPIFFE ID must not contain userinfo ('@' in the trust domain)")]
    Userinfo,
    /// The ID has a query component (§2: "MUST NOT include a query").
    #[error("SPIFFE ID must not contain a query ('?')")]
    Query,
    /// The ID has a fragment component (§2: "MUST NOT include a ... fragment").
    #[error("SPIFFE ID must not contain a fragment ('#')")]
    Fragment,
    /// The ID contains percent-encoding, which SPIFFE IDs do not allow.
    #[error("SPIFFE ID must not contain percent-encoding ('%')")]
    PercentEncoding,
    /// The path has an empty segment (`//`).
    #[error("SPIFFE ID path has an empty segment ('//')")]
    EmptySegment,
    /// The path has a `.` segment.
    #[error("SPIFFE ID path must not contain a '.' segment")]
    DotSegment,
    /// The path has a `..` segment.
    #[error("SPIFFE ID path must not contain a '..' segment")]
    DotDotSegment,
    /// The path ends with `/` (§2.2).
    #[error("SPIFFE ID path must not end with '/'")]
    TrailingSlash,
    /// A path segment contains a character other than letters, digits, `.`, `-` and `_`.
    #[error(
        "SPIFFE ID path contains {ch:?}: only letters, digits, '.', '-' and '_' are allowed in segments"
    )]
    PathBadChar {
        /// The offending character.
        ch: char,
    },
    /// A path given on its own does not start with `/`.
    #[error("SPIFFE ID path must be empty or start with '/'")]
    PathNotAbsolute,
    /// The whole ID is longer than 2048 bytes (§2.3).
    #[error("SPIFFE ID is {len} bytes long; at most 2048 are allowed")]
    TooLong {
        /// Length of the offending ID.
        len: usize,
    },
}
