//! Presenting JWT-SVIDs and validation results: text for people, JSON for scripts. The JSON is
//! the Workload API response itself (proto3 JSON mapping, proto field names).

use lanyard_proto::workload::{JwtsvidResponse, ValidateJwtsvidResponse};
use pbjson_types::value::Kind;
use serde_json::{Map, Value, json};

use super::OutputFormat;

/// What `fetch jwt` shows of one token as text.
#[derive(Debug, Clone)]
pub(crate) struct JwtSvidSummary {
    pub(crate) spiffe_id: String,
    pub(crate) hint: String,
    pub(crate) audience: Vec<String>,
    /// RFC 3339; empty if the token carries no readable `exp`.
    pub(crate) expires_at: String,
    pub(crate) token: String,
}

/// Summarizes each token of `resp` (its claims read for display, not verified).
fn summarize(resp: &JwtsvidResponse) -> Vec<JwtSvidSummary> {
    resp.svids
        .iter()
        .map(|svid| {
            let claims = lanyard_jwt::unverified_claims(&svid.svid).unwrap_or_default();
            let audience = match claims.get("aud") {
                Some(Value::String(a)) => vec![a.clone()],
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            };
            let expires_at = claims
                .get("exp")
                .and_then(Value::as_u64)
                .map(|s| {
                    humantime::format_rfc3339_seconds(
                        std::time::UNIX_EPOCH + std::time::Duration::from_secs(s),
                    )
                    .to_string()
                })
                .unwrap_or_default();
            JwtSvidSummary {
                spiffe_id: svid.spiffe_id.clone(),
                hint: svid.hint.clone(),
                audience,
                expires_at,
                token: svid.svid.clone(),
            }
        })
        .collect()
}

/// Prints a Workload API response as `--output json` does: the proto3 JSON mapping with proto
/// field names and every field, pretty, keys sorted (through a `serde_json::Value`), so the
/// claims, a hash map in the message, print in the same order every time.
pub(crate) fn print_json(message: &impl serde::Serialize) -> Result<(), String> {
    let json = serde_json::to_value(message)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .map_err(|e| format!("cannot print the agent's answer as JSON: {e}"))?;
    println!("{json}");
    Ok(())
}

/// Prints `fetch jwt` results.
pub(crate) fn print_svids(resp: &JwtsvidResponse, output: OutputFormat) -> Result<(), String> {
    match output {
        OutputFormat::Json => print_json(resp)?,
        OutputFormat::Text => {
            for (i, s) in summarize(resp).iter().enumerate() {
                if i > 0 {
                    println!();
                }
                println!("SPIFFE ID:  {}", s.spiffe_id);
                if !s.hint.is_empty() {
                    println!("Hint:       {}", s.hint);
                }
                println!("Audience:   {}", s.audience.join(", "));
                println!("Expires at: {}", s.expires_at);
                println!("Token:      {}", s.token);
            }
        }
    }
    Ok(())
}

/// Prints a successful `validate jwt`.
pub(crate) fn print_validated(
    resp: &ValidateJwtsvidResponse,
    output: OutputFormat,
) -> Result<(), String> {
    match output {
        OutputFormat::Json => print_json(resp)?,
        OutputFormat::Text => {
            // Whole numbers (NumericDates) print as integers here, as in the token.
            let claims = resp
                .claims
                .clone()
                .map(|c| struct_json(c.fields))
                .unwrap_or_default();
            println!("valid JWT-SVID of {}", resp.spiffe_id);
            println!(
                "claims: {}",
                serde_json::to_string(&claims).map_err(|e| e.to_string())?
            );
        }
    }
    Ok(())
}

fn struct_json(
    fields: std::collections::HashMap<String, pbjson_types::Value>,
) -> Map<String, Value> {
    fields
        .into_iter()
        .map(|(k, v)| (k, value_json(v)))
        .collect()
}

fn value_json(v: pbjson_types::Value) -> Value {
    match v.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => Value::Bool(b),
        // Whole numbers (NumericDates) print as integers, as in the token.
        Some(Kind::NumberValue(n)) if n.fract() == 0.0 && n.abs() < 9.0e15 => {
            #[allow(
                clippy::cast_possible_truncation,
                reason = "checked whole and in range"
            )]
            let i = n as i64;
            json!(i)
        }
        Some(Kind::NumberValue(n)) => json!(n),
        Some(Kind::StringValue(s)) => Value::String(s),
        Some(Kind::ListValue(l)) => Value::Array(l.values.into_iter().map(value_json).collect()),
        Some(Kind::StructValue(s)) => Value::Object(struct_json(s.fields)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_come_back_as_the_json_they_were() {
        let original = json!({"sub": "spiffe://example.org/w", "aud": ["a", "b"], "exp": 1_900_000_000, "x": {"y": null, "z": 1.5, "t": true}});
        let Value::Object(map) = original.clone() else {
            unreachable!()
        };
        let pb = crate::workload::claims_struct(map);
        assert_eq!(Value::Object(struct_json(pb.fields)), original);
    }
}
