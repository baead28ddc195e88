//! The SDS secrets one caller may have, as Envoy `Secret` resources packed in `Any`, computed from
//! a store [`Snapshot`] and the caller's selectors. Pure functions, so each naming rule is tested
//! without a socket.
//!
//! Resource names (SPIRE's, with the names configurable in `[sds]`):
//!
//! - `default` ([`SdsConfig::default_svid_name`]): the caller's first identity (the one
//!   `FetchX509SVID` lists first) as a `tls_certificate`;
//! - a SPIFFE ID: that identity of the caller's, as a `tls_certificate` under its own name;
//! - `ROOTCA` ([`SdsConfig::default_bundle_name`]): the validation context of the trust domain of
//!   the caller's first identity (the agent's own);
//! - `ALL` ([`SdsConfig::default_all_bundles_name`]): one validation context holding every trust
//!   domain the caller may see (its own and those its entries federate with), as Envoy's SPIFFE
//!   certificate validator config;
//! - `spiffe://<trust domain>`: that trust domain's validation context, if the caller may see it.
//!
//! Bundles are per caller, exactly as the Workload API hands them out
//! ([`response::caller_domains`]): a foreign trust domain the caller's entries do not federate
//! with is absent, even when the agent holds its bundle for another workload. A name the caller
//! has nothing for is absent from the response (the xDS protocol's way of saying "not here";
//! Envoy keeps waiting for it and receives it once the caller gets it).
//!
//! Validation contexts use Envoy's SPIFFE certificate validator
//! (`envoy.tls.cert_validator.spiffe`, `SPIFFECertValidatorConfig`: each trust domain's peers are
//! verified against that trust domain's bundle only, X509-SVID §5) when the client says it is
//! Envoy 1.18 or later and SPIFFE validation is not disabled (`[sds]
//! disable_spiffe_cert_validation`, or the node metadata key of that name); otherwise, as SPIRE
//! does, a plain `trusted_ca`, with which `ALL` cannot be expressed.

use std::collections::BTreeSet;
use std::sync::Arc;

use envoy_types::pb::envoy::config::core::v3::node::UserAgentVersionType;
use envoy_types::pb::envoy::config::core::v3::{
    DataSource, Node, TypedExtensionConfig, data_source,
};
use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::{
    CertificateValidationContext, Secret, SpiffeCertValidatorConfig, TlsCertificate, secret,
    spiffe_cert_validator_config,
};
use envoy_types::pb::google::protobuf::{Any, value::Kind};
use lanyard_id::TrustDomain;
use zeroize::Zeroize as _;

use super::SdsConfig;
use crate::store::{Selector, Snapshot, WorkloadSvid};
use crate::workload::index;
use crate::workload::response::{self, Denial};

/// The type of every SDS resource (and of every `DiscoveryRequest.type_url` for SDS).
pub(crate) const SECRET_TYPE_URL: &str =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";

/// The name of Envoy's SPIFFE certificate validator extension.
pub(crate) const SPIFFE_VALIDATOR: &str = "envoy.tls.cert_validator.spiffe";

/// The node metadata key with which one Envoy overrides `disable_spiffe_cert_validation`.
pub(crate) const DISABLE_SPIFFE_VALIDATION_KEY: &str = "disable_spiffe_cert_validation";

/// One secret ready to send: its name (for the log and for the tests) and the packed `Secret`.
#[derive(Clone, PartialEq)]
pub(crate) struct Resource {
    pub(crate) name: String,
    pub(crate) any: Any,
}

impl std::fmt::Debug for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The packed secret may hold a private key.
        f.debug_struct("Resource")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Why a caller gets no secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// As the Workload API refuses (not synced yet, no identity).
    Denied(Denial),
    /// `ALL` was asked for by a client without the SPIFFE certificate validator.
    AllNeedsSpiffeValidator,
}

/// The secrets named `names` (sorted, without duplicates or empty names) that a caller with
/// `selectors` may have, sorted by name; every secret it may have when `names` is empty (each
/// trust domain's validation context under `spiffe://<td>`, then each identity under its SPIFFE
/// ID, as SPIRE does). `spiffe_validator` says how validation contexts are expressed (see
/// [`spiffe_validator`]).
pub(crate) fn secrets(
    snapshot: &Arc<Snapshot>,
    selectors: &[Selector],
    names: &BTreeSet<String>,
    config: &SdsConfig,
    spiffe_validator: bool,
) -> Result<Vec<Resource>, Refusal> {
    if !snapshot.ready {
        return Err(Refusal::Denied(Denial::NotReady));
    }
    let identities: Vec<Arc<WorkloadSvid>> = response::identities(snapshot, selectors)
        .into_iter()
        .map(|(svid, _)| svid)
        .filter(|svid| !svid.chain.is_empty() && !svid.key_pkcs8.is_empty())
        .collect();
    let Some(first) = identities.first() else {
        return Err(Refusal::Denied(Denial::NoIdentity));
    };
    let matched = index::svids_for(snapshot, selectors);
    let domains: Vec<(TrustDomain, String)> = response::caller_domains(snapshot, &matched)
        .into_iter()
        .filter_map(|td| {
            let pem = snapshot.bundles.get(&td)?.x509_authorities_pem();
            (!pem.is_empty()).then_some((td, pem))
        })
        .collect();
    let context = |name: &str, tds: &[&(TrustDomain, String)]| Resource {
        name: name.to_owned(),
        any: validation_context(name, tds, spiffe_validator),
    };
    let certificate = |name: &str, svid: &WorkloadSvid| Resource {
        name: name.to_owned(),
        any: tls_certificate(name, svid),
    };

    let mut out = Vec::new();
    if names.is_empty() {
        for td in &domains {
            out.push(context(&td.0.id_string(), &[td]));
        }
        for svid in &identities {
            out.push(certificate(svid.spiffe_id.as_str(), svid));
        }
        return Ok(out);
    }
    let own = first.spiffe_id.trust_domain();
    for name in names {
        if *name == config.default_svid_name {
            out.push(certificate(name, first));
        } else if *name == config.default_bundle_name {
            if let Some(td) = domains.iter().find(|(td, _)| *td == own) {
                out.push(context(name, &[td]));
            }
        } else if *name == config.default_all_bundles_name {
            if !spiffe_validator {
                return Err(Refusal::AllNeedsSpiffeValidator);
            }
            if !domains.is_empty() {
                out.push(context(name, &domains.iter().collect::<Vec<_>>()));
            }
        } else if let Some(td) = domains.iter().find(|(td, _)| td.id_string() == *name) {
            out.push(context(name, &[td]));
        } else if let Some(svid) = identities.iter().find(|s| s.spiffe_id.as_str() == name) {
            out.push(certificate(name, svid));
        }
    }
    Ok(out)
}

/// Whether validation contexts for `node` use Envoy's SPIFFE certificate validator: the node is
/// Envoy 1.18 or later (the first with it, as SPIRE checks) and SPIFFE validation is not
/// disabled, by `config` or by the node's `disable_spiffe_cert_validation` metadata (a boolean,
/// or a string `true`/`false`; another value is ignored).
pub(crate) fn spiffe_validator(node: Option<&Node>, config: &SdsConfig) -> bool {
    let Some(node) = node else {
        return false;
    };
    let disabled = node
        .metadata
        .as_ref()
        .and_then(|m| m.fields.get(DISABLE_SPIFFE_VALIDATION_KEY))
        .and_then(|v| match &v.kind {
            Some(Kind::BoolValue(b)) => Some(*b),
            Some(Kind::StringValue(s)) => parse_bool(s),
            _ => None,
        })
        .unwrap_or(config.disable_spiffe_cert_validation);
    let recent = match &node.user_agent_version_type {
        Some(UserAgentVersionType::UserAgentBuildVersion(build)) => build
            .version
            .as_ref()
            .is_some_and(|v| v.major_number > 1 || (v.major_number == 1 && v.minor_number >= 18)),
        _ => false,
    };
    !disabled && recent
}

/// The spellings Go's `strconv.ParseBool` accepts, as SPIRE reads this metadata with it.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

fn inline(bytes: Vec<u8>) -> Option<DataSource> {
    Some(DataSource {
        specifier: Some(data_source::Specifier::InlineBytes(bytes)),
        ..DataSource::default()
    })
}

fn pack<M: prost::Name>(message: &M) -> Any {
    Any {
        type_url: M::type_url(),
        value: message.encode_to_vec(),
    }
}

/// A `validation_context` secret named `name` trusting the bundles (trust domain, PEM) `tds`.
fn validation_context(name: &str, tds: &[&(TrustDomain, String)], spiffe: bool) -> Any {
    let context = if spiffe {
        let config = SpiffeCertValidatorConfig {
            trust_domains: tds
                .iter()
                .map(|(td, pem)| spiffe_cert_validator_config::TrustDomain {
                    name: td.name().to_owned(),
                    trust_bundle: inline(pem.clone().into_bytes()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        CertificateValidationContext {
            custom_validator_config: Some(TypedExtensionConfig {
                name: SPIFFE_VALIDATOR.to_owned(),
                typed_config: Some(pack(&config)),
            }),
            ..Default::default()
        }
    } else {
        let pem: String = tds.iter().map(|(_, pem)| pem.as_str()).collect();
        CertificateValidationContext {
            trusted_ca: inline(pem.into_bytes()),
            ..Default::default()
        }
    };
    pack(&Secret {
        name: name.to_owned(),
        r#type: Some(secret::Type::ValidationContext(context)),
    })
}

/// A `tls_certificate` secret named `name`: `svid`'s chain and its PKCS#8 key, in PEM. The
/// key's PEM copy is wiped once packed; the packed `Any` is the caller's to wipe.
fn tls_certificate(name: &str, svid: &WorkloadSvid) -> Any {
    let key = pem::encode_config(
        &pem::Pem::new("PRIVATE KEY", svid.key_pkcs8.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    );
    let mut secret = Secret {
        name: name.to_owned(),
        r#type: Some(secret::Type::TlsCertificate(TlsCertificate {
            certificate_chain: inline(lanyard_x509::certificates_to_pem(&svid.chain).into_bytes()),
            private_key: inline(key.into_bytes()),
            ..Default::default()
        })),
    };
    let packed = pack(&secret);
    if let Some(secret::Type::TlsCertificate(TlsCertificate {
        private_key:
            Some(DataSource {
                specifier: Some(data_source::Specifier::InlineBytes(key)),
                ..
            }),
        ..
    })) = &mut secret.r#type
    {
        key.zeroize();
    }
    packed
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use envoy_types::pb::envoy::config::core::v3::BuildVersion;
    use envoy_types::pb::envoy::r#type::v3::SemanticVersion;
    use envoy_types::pb::google::protobuf::{Struct, Value};
    use lanyard_id::SpiffeId;
    use lanyard_x509::{
        Bundle, BundleSet, CaParams, CertDer, KeyPair, KeyType, Subject, self_signed_ca,
    };
    use prost::{Message as _, Name as _};

    use super::*;

    fn cert(td: &str) -> CertDer {
        let now = SystemTime::now();
        let params = CaParams {
            trust_domain: TrustDomain::new(td).unwrap(),
            subject: Subject {
                organization: Some("Test".into()),
                ..Subject::default()
            },
            not_before: now,
            not_after: now + Duration::from_secs(3600),
            path_len: None,
        };
        self_signed_ca(&params, &KeyPair::generate(KeyType::EcP256).unwrap()).unwrap()
    }

    fn bundle(td: &str) -> Bundle {
        let mut b = Bundle::new(TrustDomain::new(td).unwrap());
        b.add_x509_authority(cert(td));
        b
    }

    fn svid(entry: &str, id: &str, uid: u32, federates_with: &[&str]) -> Arc<WorkloadSvid> {
        Arc::new(WorkloadSvid {
            entry_id: entry.into(),
            spiffe_id: SpiffeId::parse(id).unwrap(),
            selectors: vec![Selector::new("unix", format!("uid:{uid}"))],
            hint: String::new(),
            chain: vec![cert("example.org")],
            key_pkcs8: crate::store::key_der(&[1, 2, 3]),
            not_after: SystemTime::now(),
            created_at: 0,
            federates_with: federates_with
                .iter()
                .map(|d| TrustDomain::new(d).unwrap())
                .collect(),
        })
    }

    /// uid 1 has /a (federating with partner.org) then /b; uid 2 has /c, federating with
    /// stranger.org.
    fn snapshot() -> Arc<Snapshot> {
        Arc::new(Snapshot {
            svids: vec![
                svid("a", "spiffe://example.org/a", 1, &["partner.org"]),
                svid("b", "spiffe://example.org/b", 1, &[]),
                svid("c", "spiffe://example.org/c", 2, &["stranger.org"]),
            ],
            bundles: BundleSet::from_iter([
                bundle("example.org"),
                bundle("partner.org"),
                bundle("stranger.org"),
            ]),
            ready: true,
        })
    }

    fn uid(n: u32) -> Vec<Selector> {
        vec![Selector::new("unix", format!("uid:{n}"))]
    }

    fn names(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|n| (*n).to_owned()).collect()
    }

    fn decode(resource: &Resource) -> Secret {
        assert_eq!(resource.any.type_url, SECRET_TYPE_URL);
        let secret = Secret::decode(resource.any.value.as_slice()).unwrap();
        assert_eq!(secret.name, resource.name);
        secret
    }

    /// The trust domains a validation context trusts, and whether through the SPIFFE validator.
    fn trusted(resource: &Resource) -> (Vec<String>, bool) {
        let Some(secret::Type::ValidationContext(context)) = decode(resource).r#type else {
            panic!("{} is not a validation context", resource.name);
        };
        match context.custom_validator_config {
            Some(custom) => {
                assert_eq!(custom.name, SPIFFE_VALIDATOR);
                let any = custom.typed_config.unwrap();
                assert_eq!(any.type_url, SpiffeCertValidatorConfig::type_url());
                let config = SpiffeCertValidatorConfig::decode(any.value.as_slice()).unwrap();
                (
                    config.trust_domains.into_iter().map(|td| td.name).collect(),
                    true,
                )
            }
            None => {
                assert!(context.trusted_ca.is_some());
                (Vec::new(), false)
            }
        }
    }

    fn served(resources: &[Resource]) -> Vec<&str> {
        resources.iter().map(|r| r.name.as_str()).collect()
    }

    #[test]
    fn each_name_means_what_spire_says_and_bundles_are_the_callers_own() {
        let config = SdsConfig::default();
        let snap = snapshot();
        let got = secrets(
            &snap,
            &uid(1),
            &names(&[
                "default",
                "ROOTCA",
                "ALL",
                "spiffe://partner.org",
                "spiffe://stranger.org",
                "spiffe://example.org/b",
                "spiffe://example.org/c",
                "other",
            ]),
            &config,
            true,
        )
        .unwrap();
        assert_eq!(
            served(&got),
            [
                "ALL",
                "ROOTCA",
                "default",
                "spiffe://example.org/b",
                "spiffe://partner.org"
            ],
            "another caller's identity, a trust domain not federated with and unknown names are absent"
        );
        let Some(secret::Type::TlsCertificate(cert)) = decode(&got[2]).r#type else {
            panic!("default is not a tls_certificate");
        };
        let Some(data_source::Specifier::InlineBytes(key)) = cert.private_key.unwrap().specifier
        else {
            panic!("no inline key");
        };
        let key = pem::parse(key).unwrap();
        assert_eq!(key.tag(), "PRIVATE KEY");
        assert_eq!(key.contents(), [1, 2, 3]);
        assert_eq!(
            trusted(&got[0]),
            (vec!["example.org".into(), "partner.org".into()], true)
        );
        assert_eq!(trusted(&got[1]), (vec!["example.org".into()], true));
        assert_eq!(trusted(&got[4]), (vec!["partner.org".into()], true));

        // uid 2 federates with stranger.org instead.
        let got = secrets(&snap, &uid(2), &names(&["ALL", "default"]), &config, true).unwrap();
        assert_eq!(trusted(&got[0]).0, ["example.org", "stranger.org"]);
    }

    #[test]
    fn no_names_is_every_bundle_then_every_identity() {
        let got = secrets(
            &snapshot(),
            &uid(1),
            &BTreeSet::new(),
            &SdsConfig::default(),
            true,
        )
        .unwrap();
        assert_eq!(
            served(&got),
            [
                "spiffe://example.org",
                "spiffe://partner.org",
                "spiffe://example.org/a",
                "spiffe://example.org/b"
            ]
        );
    }

    #[test]
    fn the_special_names_are_configurable() {
        let config = SdsConfig {
            default_svid_name: "mine".into(),
            default_bundle_name: "trust".into(),
            default_all_bundles_name: "everyone".into(),
            disable_spiffe_cert_validation: false,
        };
        let got = secrets(
            &snapshot(),
            &uid(1),
            &names(&["mine", "trust", "everyone", "default", "ROOTCA"]),
            &config,
            true,
        )
        .unwrap();
        assert_eq!(served(&got), ["everyone", "mine", "trust"]);
    }

    #[test]
    fn without_the_spiffe_validator_contexts_are_trusted_cas_and_all_is_refused() {
        let snap = snapshot();
        let config = SdsConfig::default();
        let got = secrets(&snap, &uid(1), &names(&["ROOTCA"]), &config, false).unwrap();
        assert_eq!(trusted(&got[0]), (Vec::new(), false));
        assert_eq!(
            secrets(&snap, &uid(1), &names(&["ALL"]), &config, false),
            Err(Refusal::AllNeedsSpiffeValidator)
        );
    }

    #[test]
    fn callers_without_an_identity_are_denied_as_by_the_workload_api() {
        let mut snap = snapshot();
        let config = SdsConfig::default();
        assert_eq!(
            secrets(&snap, &uid(3), &names(&["default"]), &config, true),
            Err(Refusal::Denied(Denial::NoIdentity))
        );
        Arc::make_mut(&mut snap).ready = false;
        assert_eq!(
            secrets(&snap, &uid(1), &names(&["default"]), &config, true),
            Err(Refusal::Denied(Denial::NotReady))
        );
    }

    fn envoy(minor: u32, metadata: Option<(&str, Kind)>) -> Node {
        Node {
            user_agent_name: "envoy".into(),
            user_agent_version_type: Some(UserAgentVersionType::UserAgentBuildVersion(
                BuildVersion {
                    version: Some(SemanticVersion {
                        major_number: 1,
                        minor_number: minor,
                        patch: 0,
                    }),
                    metadata: None,
                },
            )),
            metadata: metadata.map(|(k, v)| Struct {
                fields: [(k.to_owned(), Value { kind: Some(v) })]
                    .into_iter()
                    .collect(),
            }),
            ..Node::default()
        }
    }

    #[test]
    fn the_spiffe_validator_needs_envoy_1_18_and_can_be_turned_off() {
        let on = SdsConfig::default();
        let off = SdsConfig {
            disable_spiffe_cert_validation: true,
            ..SdsConfig::default()
        };
        assert!(spiffe_validator(Some(&envoy(18, None)), &on));
        assert!(!spiffe_validator(Some(&envoy(17, None)), &on));
        assert!(
            !spiffe_validator(None, &on),
            "a client that does not say it is Envoy"
        );
        assert!(!spiffe_validator(Some(&envoy(30, None)), &off));
        // The node's metadata wins over the config, either way; a value that is no boolean is
        // ignored.
        let key = DISABLE_SPIFFE_VALIDATION_KEY;
        assert!(!spiffe_validator(
            Some(&envoy(30, Some((key, Kind::BoolValue(true))))),
            &on
        ));
        assert!(spiffe_validator(
            Some(&envoy(30, Some((key, Kind::StringValue("false".into()))))),
            &off
        ));
        assert!(!spiffe_validator(
            Some(&envoy(30, Some((key, Kind::StringValue("yes".into()))))),
            &off
        ));
    }
}
