"""Validates the Kubernetes built-in resources of rendered manifests against the OpenAPI schemas
of one Kubernetes version, strictly (an unknown field is an error), with kubernetes-validate's
library.

Which resources are built-in is decided by API group, as Kubernetes itself reserves them: the
core group (`v1`), unqualified groups (`apps/v1`, `policy/v1`, `autoscaling/v2`) and groups
ending in `.k8s.io` are Kubernetes'; a custom resource's group always has a dot. Custom resources
are left to scripts/deploy/validate-crds.mjs, which fails on any kind it has no schema for. A
resource of a built-in group whose kind has no schema in this Kubernetes version fails here:
nothing is skipped (the kubernetes-validate command only warns, and exits 0, on a missing
schema).

Usage: validate_builtin.py --kubernetes-version 1.32 RENDERED.yaml...
"""

import argparse
import sys

import kubernetes_validate
import yaml
from kubernetes_validate import utils


def is_builtin_group(api_version):
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    return group == "" or "." not in group or group.endswith(".k8s.io")


def describe(doc):
    name = (doc.get("metadata") or {}).get("name", "?")
    return f"{doc.get('kind', '?')}/{name}"


def validate_file(path, version):
    """Returns (problems, built-in count, custom count)."""
    problems = []
    try:
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
    except yaml.YAMLError as e:
        return [f"{path}: not YAML: {e}"], 0, 0
    builtin = custom = 0
    for doc in docs:
        if not isinstance(doc, dict) or "apiVersion" not in doc or "kind" not in doc:
            problems.append(f"{path}: a document without apiVersion and kind: {str(doc)[:80]}")
            continue
        if not is_builtin_group(str(doc["apiVersion"])):
            custom += 1
            continue
        builtin += 1
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            where = ".".join(str(p) for p in e.path) or "(top)"
            problems.append(f"{path}: {describe(doc)}: {where}: {e.message}")
        except utils.SchemaNotFoundError as e:
            problems.append(
                f"{path}: {describe(doc)}: no schema for {doc['apiVersion']} {doc['kind']} in "
                f"Kubernetes {e.version}: not a Kubernetes kind (a typo, or a removed API version)"
            )
    return problems, builtin, custom


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubernetes-version", required=True)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    version = args.kubernetes_version
    try:
        utils.schema_contents(
            f"kubernetes-json-schema/v{version}.0-local-strict/_definitions.json", version
        )
    except (utils.VersionNotSupportedError, FileNotFoundError):
        known = ", ".join(sorted(set(utils.all_versions()), key=utils.Version))
        print(
            f"deploy-check: kubernetes-validate {kubernetes_validate.__version__} has no schemas "
            f"for Kubernetes {version} (it has {known})",
            file=sys.stderr,
        )
        return 2
    status = 0
    for path in args.files:
        problems, builtin, custom = validate_file(path, version)
        for problem in problems:
            print(f"deploy-check: built-in: {problem}", file=sys.stderr)
        if problems:
            status = 1
        else:
            print(
                f"deploy-check: {path}: {builtin} built-in resources valid against Kubernetes "
                f"{version} (strict); {custom} custom resources left to the CRD schemas"
            )
    return status


if __name__ == "__main__":
    sys.exit(main())
