"""Validate rendered Kubernetes manifests offline; print them as one JSON array on stdout.

Usage: validate_manifests.py --kubernetes-version 1.32 [--crd CRD.yaml ...] RENDERED.yaml

- Built-in kinds are checked with kubernetes-validate's bundled schemas in strict mode (an
  unknown or misspelt field is an error, as `kubectl apply` with strict field validation says).
  A kind with no bundled schema is an error too, not a warning: it would be a typo in apiVersion
  or kind, or a custom resource whose definition was not given.
- Custom resources are checked against the openAPIV3Schema of their CustomResourceDefinition
  (from the rendered file itself or from --crd), the way the API server would: `nullable` allows
  null, unknown fields are refused (strict field validation of a pruned structural schema), and a
  cluster-scoped resource must not name a namespace.
- Every CustomResourceDefinition's schema must be structural: every node states its type.
- Pod templates get the API server's own checks that the schemas cannot express, for the fields
  the agent DaemonSet relies on: `dnsPolicy` is one of the four policies, a Downward API
  `fieldRef` names a field the API server supports, a container on the host network publishes no
  `hostPort` other than its `containerPort`, and a projected service-account token lives at least
  10 minutes.

One line per object goes to stderr (`ok ...` or `ERROR ...`); the exit status is 1 if any object
failed. On success the objects are written to stdout as JSON, for the caller's own assertions.
"""

import argparse
import json
import sys

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError


def load_all(path):
    with open(path, encoding="utf-8") as f:
        return [doc for doc in yaml.safe_load_all(f) if doc]


def describe(obj):
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    name = meta.get("name", "<no name>")
    return f"{obj.get('kind')}/{ns + '/' if ns else ''}{name}"


def structural_problems(schema, path="openAPIV3Schema"):
    """Where `schema` is not structural: a node without a type (and no escape hatch)."""
    problems = []
    escape = schema.get("x-kubernetes-preserve-unknown-fields") or schema.get(
        "x-kubernetes-int-or-string"
    )
    if "type" not in schema and not escape:
        problems.append(f"{path} has no type")
    for name, sub in (schema.get("properties") or {}).items():
        problems += structural_problems(sub, f"{path}.properties.{name}")
    if isinstance(schema.get("items"), dict):
        problems += structural_problems(schema["items"], f"{path}.items")
    if isinstance(schema.get("additionalProperties"), dict):
        problems += structural_problems(
            schema["additionalProperties"], f"{path}.additionalProperties"
        )
    for name in schema.get("required") or []:
        if name not in (schema.get("properties") or {}):
            problems.append(f"{path} requires {name!r}, which it does not define")
    return problems


def to_json_schema(schema):
    """An OpenAPI v3 schema of a CRD as a JSON Schema that validates like the API server."""
    out = {k: v for k, v in schema.items() if not k.startswith("x-kubernetes-")}
    if "properties" in out:
        out["properties"] = {k: to_json_schema(v) for k, v in out["properties"].items()}
        if "additionalProperties" not in out and not schema.get(
            "x-kubernetes-preserve-unknown-fields"
        ):
            out["additionalProperties"] = False
    if isinstance(out.get("items"), dict):
        out["items"] = to_json_schema(out["items"])
    if isinstance(out.get("additionalProperties"), dict):
        out["additionalProperties"] = to_json_schema(out["additionalProperties"])
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


DNS_POLICIES = {"ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"}
# The fields an environment variable may take from the Downward API (besides metadata.labels['k']
# and metadata.annotations['k']), as the API server validates them.
ENV_FIELD_PATHS = {
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
}
WORKLOAD_KINDS = {"Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job"}


def pod_spec(obj):
    """The pod spec of a Pod or a workload, and where it is; `None, None` for other kinds."""
    if obj.get("kind") == "Pod":
        return "spec", obj.get("spec")
    if obj.get("kind") in WORKLOAD_KINDS:
        return "spec.template.spec", ((obj.get("spec") or {}).get("template") or {}).get("spec")
    return None, None


def pod_problems(at, spec):
    """What the API server refuses in the pod spec at `at` although its schema allows it."""
    problems = []
    policy = spec.get("dnsPolicy")
    if policy is not None and policy not in DNS_POLICIES:
        problems.append(f"{at}.dnsPolicy: {policy!r} is not one of {sorted(DNS_POLICIES)}")
    for kind in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(kind) or []):
            where = f"{at}.{kind}[{i}]"
            for env in c.get("env") or []:
                path = ((env.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
                subscripted = path is not None and any(
                    path.startswith(f"metadata.{m}['") and path.endswith("']")
                    for m in ("labels", "annotations")
                )
                if path is not None and path not in ENV_FIELD_PATHS and not subscripted:
                    problems.append(
                        f"{where}.env[{env.get('name')}].valueFrom.fieldRef.fieldPath: "
                        f"{path!r} is not a supported field"
                    )
            for port in c.get("ports") or []:
                host = port.get("hostPort")
                on_host = spec.get("hostNetwork")
                if on_host and host is not None and host != port.get("containerPort"):
                    problems.append(
                        f"{where}.ports[{port.get('name')}].hostPort: must match containerPort "
                        "when hostNetwork is true"
                    )
    for volume in spec.get("volumes") or []:
        for source in (volume.get("projected") or {}).get("sources") or []:
            token = source.get("serviceAccountToken")
            if token is not None and token.get("expirationSeconds", 3600) < 600:
                problems.append(
                    f"{at}.volumes[{volume.get('name')}].serviceAccountToken.expirationSeconds: "
                    "may not be less than 10 minutes"
                )
    return problems


class Crd:
    def __init__(self, obj):
        spec = obj["spec"]
        self.group = spec["group"]
        self.kind = spec["names"]["kind"]
        self.scope = spec["scope"]
        self.schemas = {}
        for version in spec["versions"]:
            root = to_json_schema(version["schema"]["openAPIV3Schema"])
            # The API server adds these to every custom resource.
            root.setdefault("properties", {}).update(
                {
                    "apiVersion": {"type": "string"},
                    "kind": {"type": "string"},
                    "metadata": {"type": "object", "required": ["name"]},
                }
            )
            root["required"] = sorted(set(root.get("required", [])) | {"metadata"})
            self.schemas[f"{self.group}/{version['name']}"] = root

    def check(self, obj):
        schema = self.schemas.get(obj.get("apiVersion"))
        if schema is None:
            return [f"{self.kind} has no version {obj.get('apiVersion')!r}"]
        validator = jsonschema.Draft202012Validator(schema)
        problems = [
            f"{'.'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
            for e in validator.iter_errors(obj)
        ]
        if self.scope == "Cluster" and (obj.get("metadata") or {}).get("namespace"):
            problems.append("metadata.namespace is set on a cluster-scoped resource")
        return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubernetes-version", required=True)
    parser.add_argument("--crd", action="append", default=[])
    parser.add_argument("rendered")
    args = parser.parse_args()

    objects = load_all(args.rendered)
    crd_objects = [o for path in args.crd for o in load_all(path)]
    crd_objects += [o for o in objects if o.get("kind") == "CustomResourceDefinition"]
    crds = {}
    for obj in crd_objects:
        crd = Crd(obj)
        crds[(crd.group, crd.kind)] = crd

    failed = 0
    seen = set()
    for obj in objects:
        what = describe(obj)
        problems = []
        if what in seen:
            problems.append("defined twice")
        seen.add(what)
        group = obj.get("apiVersion", "").rpartition("/")[0]
        crd = crds.get((group, obj.get("kind")))
        if crd is not None:
            problems += crd.check(obj)
            how = "its CustomResourceDefinition"
        else:
            how = f"Kubernetes {args.kubernetes_version} (strict)"
            try:
                kubernetes_validate.validate(obj, args.kubernetes_version, strict=True)
            except ValidationError as e:
                path = ".".join(str(p) for p in e.path) or "<root>"
                problems.append(f"{path}: {e.message}")
            except SchemaNotFoundError as e:
                problems.append(e.message)
            at, spec = pod_spec(obj)
            if spec:
                problems += pod_problems(at, spec)
        if obj.get("kind") == "CustomResourceDefinition":
            for version in obj["spec"]["versions"]:
                problems += structural_problems(version["schema"]["openAPIV3Schema"])
        if problems:
            failed += 1
            for p in problems:
                print(f"ERROR {what}: {p}", file=sys.stderr)
        else:
            print(f"ok {what} against {how}", file=sys.stderr)

    if failed:
        print(f"{failed} of {len(objects)} objects failed validation", file=sys.stderr)
        return 1
    json.dump(objects, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
