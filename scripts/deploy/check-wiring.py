"""Checks that a rendered overlay's pieces fit together, which no schema can tell: each service
reaches its own database and NATS, with credentials that exist where it looks, and its
NetworkPolicy admits exactly those pods.

- Environment: every `$(NAME)` in a Deployment's env values (Kubernetes' dependent variable
  expansion) names a variable set before it, or a key of a ConfigMap the container takes whole.
- Database: MZ_DATABASE_URL is the service's own database, reached as the role of its basic-auth
  Secret `<service>-db-credentials`. Both overlays: DB_HOST is a CloudNativePG Cluster's
  read-write Service; the Cluster manages the role (login, password from that same Secret) and a
  Database of that name owned by it exists; no two services share a database. production: the
  Secret is named exactly so (SREs create it). dev: the Secret is the overlay's own (generated:
  the name may carry kustomize's hash, the same in the Deployment and the Cluster), basic-auth,
  its username the role.
- NATS: production: MZ_NATS_URL is the Helm release's client Service, each service logs in as a
  user of deploy/nats/accounts.conf with that user's password key of the Secret; new streams get
  as many replicas as NATS has nodes. dev: MZ_NATS_URL is the nats Service.
- NetworkPolicy: every egress rule names its destination pods (no rule opens a port to every
  address); the database and NATS rules select exactly the overlay's database and NATS pods (in
  both overlays the database rule selects the Cluster's pods, `cnpg.io/cluster: <name>`).
- Stateful pieces: dev has its NATS StatefulSet and no hand-written postgres one, production has
  neither (the Helm chart and the operator run them). Every Cluster sets its instances and
  storage; one of a single instance has CloudNativePG's PodDisruptionBudgets disabled (they would
  block every node drain); production's has at least 3 instances, the budgets enabled, and
  backups. Every ScheduledBackup is of a Cluster here that has backups.

Usage: check-wiring.py dev|production RENDERED.yaml
"""

import base64
import re
import sys

import yaml

NATS_RELEASE = "minzheng-nats"
NATS_VALUES = "deploy/nats/helm/values-production.yaml"
ACCOUNTS = "deploy/nats/accounts.conf"
# The NATS chart's selector labels of its server pods (nats.selectorLabels in the chart).
NATS_CHART_SELECTOR = {
    "app.kubernetes.io/name": "nats",
    "app.kubernetes.io/instance": NATS_RELEASE,
    "app.kubernetes.io/component": "nats",
}


class Rendered:
    def __init__(self, path):
        self.docs = [d for d in yaml.safe_load_all(open(path, encoding="utf-8")) if d]

    def of(self, kind):
        return [d for d in self.docs if d.get("kind") == kind]

    def one(self, kind, name):
        found = [d for d in self.of(kind) if d["metadata"]["name"] == name]
        return found[0] if found else None


def env_of(deployment):
    return deployment["spec"]["template"]["spec"]["containers"][0].get("env", [])


def check_expansion(rendered, deployment, problems):
    name = deployment["metadata"]["name"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    defined = set()
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef")
        if ref:
            config_map = rendered.one("ConfigMap", ref["name"])
            if config_map:
                defined |= set((config_map.get("data") or {}).keys())
    for var in container.get("env", []):
        for ref in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", str(var.get("value", ""))):
            if ref not in defined:
                problems.append(
                    f"{name}: {var['name']} uses $({ref}), which nothing sets before it"
                )
        defined.add(var["name"])


def platform(rendered):
    return rendered.one("ConfigMap", "minzheng-platform")["data"]


def db_cluster_name(rendered):
    """The Cluster whose read-write Service DB_HOST names (`<cluster>-rw:5432`)."""
    host = platform(rendered).get("DB_HOST", "")
    return host.removesuffix(":5432").removesuffix("-rw")


def secret_ref(env, var):
    for item in env:
        if item["name"] == var:
            return ((item.get("valueFrom") or {}).get("secretKeyRef")) or {}
    return {}


def check_database(overlay, rendered, deployment, problems):
    service = deployment["metadata"]["name"]
    env = env_of(deployment)
    url = next((e.get("value") for e in env if e["name"] == "MZ_DATABASE_URL"), None)
    want = f"postgres://$(DB_USER):$(DB_PASSWORD)@$(DB_HOST)/{service}"
    if url != want:
        problems.append(f"{service}: MZ_DATABASE_URL is {url!r}, not {want!r}")
    user, password = secret_ref(env, "DB_USER"), secret_ref(env, "DB_PASSWORD")
    if user.get("key") != "username" or password.get("key") != "password":
        problems.append(f"{service}: DB_USER/DB_PASSWORD are not a basic-auth Secret's keys")
    if user.get("name") != password.get("name"):
        problems.append(f"{service}: DB_USER and DB_PASSWORD come from different Secrets")
    secret = user.get("name", "")
    host = platform(rendered).get("DB_HOST", "")
    if overlay == "production":
        if secret != f"{service}-db-credentials":
            problems.append(
                f"{service}: its role's Secret is {secret!r}, not {service}-db-credentials"
            )
    else:
        # Generated by the overlay: kustomize appends a hash of the content to the name.
        if not re.fullmatch(rf"{service}-db-credentials(-[a-z0-9]{{10}})?", secret):
            problems.append(
                f"{service}: its role's Secret is {secret!r}, not {service}-db-credentials"
            )
        rendered_secret = rendered.one("Secret", secret)
        data = (rendered_secret or {}).get("data", {})
        username = base64.b64decode(data.get("username", "")).decode() if data else None
        if not rendered_secret or rendered_secret.get("type") != "kubernetes.io/basic-auth":
            problems.append(
                f"{service}: Secret {secret} is not a basic-auth Secret of this overlay"
            )
        elif username != service:
            problems.append(f"{service}: Secret {secret}'s username is {username!r}, not {service}")
    clusters = {c["metadata"]["name"]: c for c in rendered.of("Cluster")}
    cluster_name = db_cluster_name(rendered)
    cluster = clusters.get(cluster_name)
    if not host.endswith("-rw:5432") or cluster is None:
        problems.append(f"DB_HOST {host!r} is not the read-write Service of a Cluster here")
        return
    roles = {r["name"]: r for r in cluster["spec"].get("managed", {}).get("roles", [])}
    role = roles.get(service)
    if not role:
        problems.append(f"{service}: Cluster {cluster_name} manages no role {service}")
    else:
        if not role.get("login") or role.get("ensure", "present") != "present":
            problems.append(f"{service}: role {service} cannot log in")
        if (role.get("passwordSecret") or {}).get("name") != secret:
            problems.append(f"{service}: role {service}'s password is not from Secret {secret}")
    databases = [
        d
        for d in rendered.of("Database")
        if d["spec"]["name"] == service and d["spec"]["cluster"]["name"] == cluster_name
    ]
    if len(databases) != 1 or databases[0]["spec"].get("owner") != service:
        problems.append(
            f"{service}: no single Database {service} owned by {service} in {cluster_name}"
        )


def nats_users():
    text = open(ACCOUNTS, encoding="utf-8").read()
    return dict(re.findall(r"^\s*user:\s*(\S+)\s*\n\s*password:\s*\$(\S+)", text, re.M))


def check_nats(overlay, rendered, deployment, problems):
    service = deployment["metadata"]["name"]
    env = env_of(deployment)
    url = platform(rendered).get("MZ_NATS_URL")
    if overlay == "production":
        if url != f"nats://{NATS_RELEASE}:4222":
            problems.append(f"MZ_NATS_URL {url!r} is not the chart's client Service {NATS_RELEASE}")
        user = next((e.get("value") for e in env if e["name"] == "MZ_NATS_USER"), None)
        users = nats_users()
        if user != service or user not in users:
            problems.append(f"{service}: MZ_NATS_USER is {user!r}, not its user of {ACCOUNTS}")
        key = secret_ref(env, "MZ_NATS_PASSWORD")
        if key.get("name") != "minzheng-nats-passwords" or key.get("key") != users.get(user):
            problems.append(
                f"{service}: MZ_NATS_PASSWORD is not {users.get(user)} of minzheng-nats-passwords"
            )
    elif url != "nats://nats:4222" or not rendered.one("Service", "nats"):
        problems.append(f"MZ_NATS_URL {url!r} is not the dev nats Service")


def pod_labels(rendered, kind, name):
    workload = rendered.one(kind, name)
    return workload["spec"]["template"]["metadata"]["labels"] if workload else None


def check_network_policy(overlay, rendered, policy, problems):
    name = policy["metadata"]["name"]
    by_port = {}
    for rule in policy["spec"].get("egress", []):
        if not rule.get("to"):
            ports = [p.get("port") for p in rule.get("ports", [])]
            problems.append(f"NetworkPolicy {name}: egress to ports {ports} at every address")
            continue
        for port in rule.get("ports", []):
            by_port[port.get("port")] = rule["to"]
    selectors = {
        port: [peer.get("podSelector", {}).get("matchLabels", {}) for peer in by_port.get(port, [])]
        for port in (4222, 5432)
    }
    cluster = db_cluster_name(rendered)
    if not any(c["metadata"]["name"] == cluster for c in rendered.of("Cluster")):
        cluster = None
    want = {"cnpg.io/cluster": cluster}
    if selectors[5432] != [want]:
        problems.append(f"NetworkPolicy {name}: port 5432 goes to {selectors[5432]}, not {[want]}")
    if overlay == "production":
        if selectors[4222] != [NATS_CHART_SELECTOR]:
            problems.append(
                f"NetworkPolicy {name}: port 4222 goes to {selectors[4222]}, "
                f"not {[NATS_CHART_SELECTOR]}"
            )
    else:
        kind, workload = "StatefulSet", "nats"
        labels = pod_labels(rendered, kind, workload) or {}
        matched = [s for s in selectors[4222] if s and s.items() <= labels.items()]
        if len(selectors[4222]) != 1 or not matched:
            problems.append(
                f"NetworkPolicy {name}: port 4222 goes to {selectors[4222]}, "
                f"not the pods of {kind} {workload} ({labels})"
            )


def check_stateful(overlay, rendered, problems):
    statefulsets = {s["metadata"]["name"] for s in rendered.of("StatefulSet")}
    clusters = rendered.of("Cluster")
    for cluster in clusters:
        name, spec = cluster["metadata"]["name"], cluster["spec"]
        if "instances" not in spec or not (spec.get("storage") or {}).get("size"):
            problems.append(f"Cluster {name}: instances or storage size not set")
        if spec.get("instances", 1) == 1 and spec.get("enablePDB", True) is not False:
            problems.append(
                f"Cluster {name}: one instance with enablePDB, which blocks every node drain"
            )
    backed_up = {c["metadata"]["name"] for c in clusters if c["spec"].get("backup")}
    for scheduled in rendered.of("ScheduledBackup"):
        target = scheduled["spec"]["cluster"]["name"]
        if target not in backed_up:
            problems.append(
                f"ScheduledBackup {scheduled['metadata']['name']}: Cluster {target} is not here "
                "or has no backups"
            )
    if overlay == "production":
        if statefulsets & {"nats", "postgres"}:
            problems.append(f"production renders the dev StatefulSets {sorted(statefulsets)}")
        for cluster in clusters:
            name = cluster["metadata"]["name"]
            if cluster["spec"].get("enablePDB") is False:
                problems.append(f"Cluster {name}: enablePDB is false")
            if cluster["spec"].get("instances", 1) < 3:
                problems.append(f"Cluster {name}: fewer than 3 instances")
            if name not in backed_up:
                problems.append(f"Cluster {name}: no backups")
        values = yaml.safe_load(open(NATS_VALUES, encoding="utf-8"))
        nodes = values["config"]["cluster"]["replicas"]
        replicas = int(platform(rendered).get("MZ_STREAM__REPLICAS", "1"))
        if replicas != nodes:
            problems.append(f"MZ_STREAM__REPLICAS is {replicas}, NATS has {nodes} nodes")
    else:
        if "nats" not in statefulsets:
            problems.append(f"dev lacks its nats StatefulSet (has {sorted(statefulsets)})")
        if "postgres" in statefulsets:
            problems.append("dev renders a hand-written postgres StatefulSet beside its Cluster")


def main():
    overlay, path = sys.argv[1], sys.argv[2]
    rendered = Rendered(path)
    problems = []
    services = [
        d
        for d in rendered.of("Deployment")
        if d["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "service"
    ]
    for deployment in services:
        check_expansion(rendered, deployment, problems)
        check_database(overlay, rendered, deployment, problems)
        check_nats(overlay, rendered, deployment, problems)
    names = {d["metadata"]["name"] for d in services}
    policies = [p for p in rendered.of("NetworkPolicy") if p["metadata"]["name"] in names]
    if len(policies) != len(names):
        problems.append("not every service has its NetworkPolicy")
    for policy in policies:
        check_network_policy(overlay, rendered, policy, problems)
    budgets = {p["metadata"]["name"] for p in rendered.of("PodDisruptionBudget")}
    if not names <= budgets:
        problems.append(f"services without a PodDisruptionBudget: {sorted(names - budgets)}")
    check_stateful(overlay, rendered, problems)
    for problem in dict.fromkeys(problems):
        print(f"deploy-check: wiring: {overlay}: {problem}", file=sys.stderr)
    if problems:
        return 1
    login = "own NATS user, " if overlay == "production" else ""
    print(
        f"deploy-check: wiring: {overlay} ok ({len(services)} services: own database and role, "
        f"{login}egress only to the overlay's database and NATS pods)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
