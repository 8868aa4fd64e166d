"""Checks deploy/nats/helm/values-production.yaml, the values of the NATS Helm chart for
production, without the chart: neither Helm nor the chart's repository is reachable where
`make deploy-check` runs, so the chart's output cannot be rendered here.

What it checks instead:
- every key of the values file is a key of the chart's values, as listed in
  deploy/nats/helm/chart-values-keys.txt (taken from the chart's values.yaml; its header names
  the commit), or of a real values.yaml given with --chart-values (`helm show values nats/nats`);
  a misspelt key would otherwise be ignored by Helm without a word;
- what production relies on is set: a cluster of three, JetStream on a persistent volume, the
  PodDisruptionBudget, the include of accounts.conf, the passwords Secret as the server's
  environment, the exporter;
- deploy/nats/accounts.conf names each user's password as $MZ_NATS_PASSWORD_<USER>, the form the
  Secret's keys take.
"""

import argparse
import re
import sys

import yaml

VALUES = "deploy/nats/helm/values-production.yaml"
KEYS = "deploy/nats/helm/chart-values-keys.txt"
ACCOUNTS = "deploy/nats/accounts.conf"
PASSWORDS_SECRET = "minzheng-nats-passwords"


def paths(node, prefix=""):
    """The key paths of a values tree; lists are leaves."""
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        yield path, value
        if isinstance(value, dict):
            yield from paths(value, path)


def keys_from_list(path):
    exact, open_maps, lists = set(), set(), set()
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith(".*"):
            open_maps.add(line[:-2])
            exact.add(line[:-2])
        elif line.endswith("[]"):
            lists.add(line[:-2])
            exact.add(line[:-2])
        else:
            exact.add(line)
    return exact, open_maps, lists


def keys_from_chart_values(path):
    """A real values.yaml: a key whose default is an empty map or null may take any map."""
    chart = yaml.safe_load(open(path, encoding="utf-8")) or {}
    exact, open_maps, lists = set(), set(), set()
    for key, value in paths(chart):
        exact.add(key)
        if value is None or value == {} or key.rsplit(".", 1)[-1] == "merge":
            open_maps.add(key)
        elif isinstance(value, list):
            lists.add(key)
    return exact, open_maps, lists


def unknown_keys(file, values, exact, open_maps, lists):
    problems = []

    def walk(node, prefix):
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if path in open_maps or path in lists:
                continue
            if path not in exact:
                problems.append(f"{file}: {path}: not a key of the chart's values")
                continue
            if isinstance(value, dict):
                walk(value, path)

    walk(values, "")
    return problems


def get(values, path):
    node = values
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def required_settings(file, values):
    problems = []
    expected = {
        "config.cluster.enabled": True,
        "config.cluster.replicas": 3,
        "config.jetstream.enabled": True,
        "config.jetstream.fileStore.enabled": True,
        "config.jetstream.fileStore.pvc.enabled": True,
        "config.monitor.enabled": True,
        "podDisruptionBudget.enabled": True,
        "promExporter.enabled": True,
    }
    for path, want in expected.items():
        if get(values, path) != want:
            problems.append(f"{file}: {path} must be {want!r} (is {get(values, path)!r})")
    merge = get(values, "config.merge") or {}
    includes = [v for k, v in merge.items() if str(k).endswith("$include")]
    if "./accounts.conf" not in includes:
        problems.append(f"{file}: config.merge has no `$include: ./accounts.conf`")
    env_from = get(values, "container.merge.envFrom") or []
    if not any((e.get("secretRef") or {}).get("name") == PASSWORDS_SECRET for e in env_from):
        problems.append(
            f"{file}: container.merge.envFrom does not take the Secret {PASSWORDS_SECRET}"
        )
    return problems


def accounts_passwords():
    text = open(ACCOUNTS, encoding="utf-8").read()
    users = re.findall(r"^\s*user:\s*(\S+)\s*\n\s*password:\s*(\S+)", text, re.M)
    problems = []
    if not users:
        problems.append(f"{ACCOUNTS}: no users found")
    for user, password in users:
        want = f"$MZ_NATS_PASSWORD_{user.upper()}"
        if password != want:
            problems.append(f"{ACCOUNTS}: user {user}: password {password}, not {want}")
    return problems, len(users)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chart-values", help="the chart's values.yaml (helm show values)")
    parser.add_argument("--values", default=VALUES, help=f"the values to check ({VALUES})")
    args = parser.parse_args()
    values = yaml.safe_load(open(args.values, encoding="utf-8"))
    if args.chart_values:
        source = args.chart_values
        known = keys_from_chart_values(args.chart_values)
    else:
        source = KEYS
        known = keys_from_list(KEYS)
    problems = unknown_keys(args.values, values, *known) + required_settings(args.values, values)
    account_problems, users = accounts_passwords()
    problems += account_problems
    for problem in problems:
        print(f"deploy-check: nats: {problem}", file=sys.stderr)
    if problems:
        return 1
    count = sum(1 for _ in paths(values))
    print(
        f"deploy-check: nats: {args.values} ok ({count} keys, all in {source}; 3-node JetStream "
        f"cluster, PDB, exporter, accounts.conf included with {users} users' passwords from "
        f"the Secret {PASSWORDS_SECRET})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
