//! The bounds of a requested audience set, shared by everything that takes one from a caller:
//! the agent's `FetchJWTSVID` and `ValidateJWTSVID` (Workload API), the server's
//! `MintJwtSvids` (agent API) and its admin mint, and [`crate::mint_jwt_svid`] itself.
//!
//! JWT-SVID §3.2 asks for "one or more" non-empty values and sets no upper bound, and §7.2
//! "strongly recommends" exactly one. An unbounded request lets a local caller make the agent
//! and the server hold, sign and cache arbitrarily large tokens (and key the agent's token
//! cache by them), so Lanyard caps both the count and the length. The caps are generous for
//! real use (SPIRE callers use one audience, a URL) and keep the worst token under ~10 KiB.

use crate::error::JwtError;

/// The most audiences one request may carry.
pub const MAX_AUDIENCES: usize = 16;

/// The longest audience value, in bytes (UTF-8).
pub const MAX_AUDIENCE_LEN: usize = 512;

/// Checks a requested audience list: at least one value, at most [`MAX_AUDIENCES`], each
/// non-empty and at most [`MAX_AUDIENCE_LEN`] bytes.
///
/// Errors: [`JwtError::AudienceRequired`], [`JwtError::TooManyAudiences`],
/// [`JwtError::EmptyAudience`], [`JwtError::AudienceTooLong`] (the count is checked before the
/// values).
pub fn check_audiences(audience: &[String]) -> Result<(), JwtError> {
    if audience.is_empty() {
        return Err(JwtError::AudienceRequired);
    }
    if audience.len() > MAX_AUDIENCES {
        return Err(JwtError::TooManyAudiences {
            got: audience.len(),
        });
    }
    for value in audience {
        if value.is_empty() {
            return Err(JwtError::EmptyAudience);
        }
        check_length(value)?;
    }
    Ok(())
}

/// Checks one requested audience (e.g. the validator's own, `ValidateJWTSVID`): non-empty and
/// at most [`MAX_AUDIENCE_LEN`] bytes.
///
/// Errors: [`JwtError::AudienceRequired`], [`JwtError::AudienceTooLong`].
pub fn check_audience(audience: &str) -> Result<(), JwtError> {
    if audience.is_empty() {
        return Err(JwtError::AudienceRequired);
    }
    check_length(audience)
}

fn check_length(value: &str) -> Result<(), JwtError> {
    if value.len() > MAX_AUDIENCE_LEN {
        return Err(JwtError::AudienceTooLong { got: value.len() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auds(n: usize, len: usize) -> Vec<String> {
        (0..n).map(|_| "a".repeat(len)).collect()
    }

    #[test]
    fn the_boundary_holds_and_one_more_is_refused() {
        check_audiences(&auds(MAX_AUDIENCES, MAX_AUDIENCE_LEN)).unwrap();
        check_audience(&"a".repeat(MAX_AUDIENCE_LEN)).unwrap();

        let e = check_audiences(&auds(MAX_AUDIENCES + 1, 1)).unwrap_err();
        assert_eq!(e, JwtError::TooManyAudiences { got: 17 });
        assert_eq!(e.to_string(), "at most 16 audiences are allowed (got 17)");

        let mut one_long = auds(3, 5);
        one_long[2] = "a".repeat(600);
        let e = check_audiences(&one_long).unwrap_err();
        assert_eq!(e, JwtError::AudienceTooLong { got: 600 });
        assert_eq!(
            e.to_string(),
            "an audience may be at most 512 bytes (got 600)"
        );
        assert_eq!(
            check_audience(&"é".repeat(257)).unwrap_err(),
            JwtError::AudienceTooLong { got: 514 },
            "bytes, not characters"
        );
    }

    #[test]
    fn an_audience_is_required_and_values_are_non_empty() {
        let e = check_audiences(&[]).unwrap_err();
        assert_eq!(e.to_string(), "audience must be specified");
        assert_eq!(check_audience("").unwrap_err(), e);
        let e = check_audiences(&["a".to_owned(), String::new()]).unwrap_err();
        assert_eq!(e.to_string(), "audience values must not be empty");
    }
}
