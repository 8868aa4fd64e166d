"""Writes a copy of a rendered manifest with one deliberate fault, for the self-test of
scripts/deploy-check.sh (--self-test): each case is a mistake the checks must reject, and the text
the rejection must contain, so that a pass proves the right check caught it.

Usage: break-manifest.py --list                  (CASE SOURCE EXPECTED, tab-separated)
       break-manifest.py CASE IN.yaml OUT.yaml
SOURCE is the rendered file the case breaks: `production`, `dev` or `monitoring`.
"""

import sys

import yaml


def first(docs, kind):
    return next(d for d in docs if d.get("kind") == kind)


def deployment_field_type(docs):
    # A built-in field of the wrong type: an integer given as a string.
    first(docs, "Deployment")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = "forty"


def deployment_unknown_field(docs):
    # A misspelt built-in field (strict validation refuses what the schema does not define).
    first(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0][
        "imagePullPolicyy"
    ] = "Always"


def cluster_unknown_field(docs):
    # A misspelt field in the CloudNativePG Cluster's spec, which its CRD schema alone would let by.
    first(docs, "Cluster")["spec"]["storage"]["storageClas"] = "fast-ssd"


def cluster_field_type(docs):
    first(docs, "Cluster")["spec"]["instances"] = "three"


def prometheusrule_malformed(docs):
    # An alerting rule with no expression and an unparsable duration.
    rule = first(docs, "PrometheusRule")["spec"]["groups"][0]["rules"][0]
    del rule["expr"]
    rule["for"] = "ten minutes"


def unknown_kind(docs):
    docs.append(
        {
            "apiVersion": "example.minzheng.io/v1",
            "kind": "Widget",
            "metadata": {"name": "unvalidated", "namespace": "minzheng"},
            "spec": {"anything": True},
        }
    )


def unknown_builtin_kind(docs):
    docs.append(
        {
            "apiVersion": "apps/v1",
            "kind": "Deploymnet",
            "metadata": {"name": "misspelt", "namespace": "minzheng"},
            "spec": {},
        }
    )


def open_database_egress(docs):
    # The database rule of a service's NetworkPolicy back to "port 5432 at any address".
    policy = first(docs, "NetworkPolicy")
    for rule in policy["spec"]["egress"]:
        if any(p.get("port") == 5432 for p in rule.get("ports", [])):
            del rule["to"]


def unhashed_role_secret(docs):
    # A dev role's password Secret named as written, not as generated (kustomize left the
    # Cluster's reference alone): the operator would wait for a Secret that never exists.
    cluster = first(docs, "Cluster")
    role = next(r for r in cluster["spec"]["managed"]["roles"] if r["name"] == "placenames")
    role["passwordSecret"]["name"] = "placenames-db-credentials"


def single_instance_pdb(docs):
    # dev's one-instance Cluster with the operator's PodDisruptionBudgets back on.
    first(docs, "Cluster")["spec"]["enablePDB"] = True


def dev_open_nats_egress(docs):
    # dev's NATS rule of a service's NetworkPolicy to every pod of the namespace.
    policy = first(docs, "NetworkPolicy")
    for rule in policy["spec"]["egress"]:
        if any(p.get("port") == 4222 for p in rule.get("ports", [])):
            rule["to"] = [{"podSelector": {}}]


# name: (function, source, text the rejection must contain)
CASES = {
    "deployment-field-type": (
        deployment_field_type,
        "production",
        "terminationGracePeriodSeconds: 'forty' is not of type 'integer'",
    ),
    "deployment-unknown-field": (
        deployment_unknown_field,
        "production",
        "'imagePullPolicyy' was unexpected",
    ),
    "cluster-unknown-field": (
        cluster_unknown_field,
        "production",
        "spec.storage.storageClas: unknown field",
    ),
    "cluster-field-type": (cluster_field_type, "production", "data/spec/instances must be integer"),
    "prometheusrule-malformed": (
        prometheusrule_malformed,
        "monitoring",
        "rules/0 must have required property expr",
    ),
    "unknown-kind": (
        unknown_kind,
        "production",
        "example.minzheng.io/v1 Widget is neither a Kubernetes built-in",
    ),
    "unknown-builtin-kind": (
        unknown_builtin_kind,
        "production",
        "no schema for apps/v1 Deploymnet",
    ),
    "open-database-egress": (
        open_database_egress,
        "production",
        "egress to ports [5432] at every address",
    ),
    "dev-open-database-egress": (
        open_database_egress,
        "dev",
        "egress to ports [5432] at every address",
    ),
    "dev-role-secret-unhashed": (
        unhashed_role_secret,
        "dev",
        "role placenames's password is not from Secret placenames-db-credentials-",
    ),
    "dev-single-instance-pdb": (
        single_instance_pdb,
        "dev",
        "one instance with enablePDB, which blocks every node drain",
    ),
    "dev-open-nats-egress": (
        dev_open_nats_egress,
        "dev",
        "port 4222 goes to [{}], not the pods of StatefulSet nats",
    ),
}


def main():
    if sys.argv[1:] == ["--list"]:
        for name, (_, source, expected) in CASES.items():
            print(f"{name}\t{source}\t{expected}")
        return 0
    name, source, target = sys.argv[1:4]
    docs = [d for d in yaml.safe_load_all(open(source, encoding="utf-8")) if d]
    CASES[name][0](docs)
    with open(target, "w", encoding="utf-8") as f:
        yaml.safe_dump_all(docs, f, sort_keys=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
