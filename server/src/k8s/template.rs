//! The templates of `ClusterSPIFFEID` (`spiffeIDTemplate`, `dnsNameTemplates`): the subset of Go
//! template syntax that SPIRE's controller-manager documents for them, so existing resources
//! carry over: `{{ .TrustDomain }}`, `{{ .ClusterName }}`, `{{ .PodMeta.Name }}`,
//! `{{ .PodMeta.Namespace }}`, `{{ .PodMeta.UID }}`, `{{ .PodSpec.ServiceAccountName }}`,
//! `{{ .PodSpec.NodeName }}`, and `{{ index .PodMeta.Labels "key" }}` /
//! `{{ index .PodMeta.Annotations "key" }}`.

use std::collections::BTreeMap;

/// What a template can refer to.
#[derive(Debug, Clone, Default)]
pub struct TemplateData {
    /// The trust domain name.
    pub trust_domain: String,
    /// The cluster name.
    pub cluster_name: String,
    /// Pod name.
    pub pod_name: String,
    /// Pod namespace.
    pub pod_namespace: String,
    /// Pod UID.
    pub pod_uid: String,
    /// Pod labels.
    pub labels: BTreeMap<String, String>,
    /// Pod annotations.
    pub annotations: BTreeMap<String, String>,
    /// The pod's service account.
    pub service_account: String,
    /// The pod's node.
    pub node_name: String,
}

/// Renders `template`; the error says which action is unknown or has no value.
pub fn render(template: &str, data: &TemplateData) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("unclosed {{{{ in template {template:?}"))?;
        let action = after[..end]
            .trim()
            .trim_start_matches('-')
            .trim_end_matches('-')
            .trim();
        out.push_str(&value(action, data)?);
        rest = &after[end + 2..];
    }
    if rest.contains("}}") {
        return Err(format!("unopened }}}} in template {template:?}"));
    }
    out.push_str(rest);
    Ok(out)
}

fn value(action: &str, data: &TemplateData) -> Result<String, String> {
    let simple = match action {
        ".TrustDomain" => Some(&data.trust_domain),
        ".ClusterName" => Some(&data.cluster_name),
        ".PodMeta.Name" => Some(&data.pod_name),
        ".PodMeta.Namespace" => Some(&data.pod_namespace),
        ".PodMeta.UID" => Some(&data.pod_uid),
        ".PodSpec.ServiceAccountName" => Some(&data.service_account),
        ".PodSpec.NodeName" => Some(&data.node_name),
        _ => None,
    };
    if let Some(v) = simple {
        return Ok(v.clone());
    }
    let words: Vec<&str> = action.split_whitespace().collect();
    if let ["index", map, key] = words[..] {
        let key = key
            .strip_prefix('"')
            .and_then(|k| k.strip_suffix('"'))
            .ok_or_else(|| format!("{{{{ {action} }}}}: the key must be a quoted string"))?;
        let map = match map {
            ".PodMeta.Labels" => &data.labels,
            ".PodMeta.Annotations" => &data.annotations,
            other => return Err(format!("{{{{ {action} }}}}: cannot index {other}")),
        };
        return map.get(key).cloned().ok_or_else(|| {
            format!(
                "{{{{ {action} }}}}: pod {}/{} has no {key:?}",
                data.pod_namespace, data.pod_name
            )
        });
    }
    Err(format!(
        "{{{{ {action} }}}} is not supported; use .TrustDomain, .ClusterName, .PodMeta.Name, .PodMeta.Namespace, .PodMeta.UID, .PodSpec.ServiceAccountName, .PodSpec.NodeName or index .PodMeta.Labels \"key\""
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> TemplateData {
        TemplateData {
            trust_domain: "example.org".into(),
            cluster_name: "prod".into(),
            pod_name: "api-1".into(),
            pod_namespace: "payments".into(),
            pod_uid: "u-1".into(),
            labels: [("app".to_owned(), "api".to_owned())].into(),
            annotations: BTreeMap::new(),
            service_account: "api-sa".into(),
            node_name: "node-1".into(),
        }
    }

    #[test]
    fn spire_style_templates_render() {
        assert_eq!(
            render(
                "spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/{{ .PodSpec.ServiceAccountName }}",
                &data()
            )
            .unwrap(),
            "spiffe://example.org/ns/payments/sa/api-sa"
        );
        assert_eq!(
            render(
                "{{index .PodMeta.Labels \"app\"}}.{{ .PodMeta.Namespace }}.svc",
                &data()
            )
            .unwrap(),
            "api.payments.svc"
        );
        assert_eq!(render("plain", &data()).unwrap(), "plain");
    }

    #[test]
    fn template_errors_say_what_to_fix() {
        assert!(
            render("{{ .Nope }}", &data())
                .unwrap_err()
                .contains("not supported")
        );
        assert!(
            render("{{ .TrustDomain", &data())
                .unwrap_err()
                .contains("unclosed")
        );
        assert!(
            render("{{ index .PodMeta.Labels \"missing\" }}", &data())
                .unwrap_err()
                .contains("payments/api-1")
        );
    }
}
