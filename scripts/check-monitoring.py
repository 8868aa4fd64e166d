"""Checks deploy/k8s/monitoring as rendered (the file named on the command line) for what its
schemas cannot tell: the kinds it must hold, every alert's runbook link naming a section of
deploy/RUNBOOK.md, a dashboard panel per alert, and the dashboard's JSON. The resources
themselves are validated against the Prometheus Operator's CRD schemas by
scripts/deploy/validate-crds.mjs (scripts/deploy-check.sh runs both)."""

import json
import re
import sys

import yaml


def anchor(heading):
    """GitHub's anchor of a Markdown heading."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def main(rendered):
    docs = [d for d in yaml.safe_load_all(open(rendered, encoding="utf-8")) if d]
    kinds = {d["kind"] for d in docs}
    problems = []
    for kind in ("ServiceMonitor", "PodMonitor", "PrometheusRule", "ConfigMap"):
        if kind not in kinds:
            problems.append(f"no {kind}")

    runbook = open("deploy/RUNBOOK.md", encoding="utf-8").read()
    sections = {anchor(h) for h in re.findall(r"^#+ (.+)$", runbook, re.M)}
    alerts = []
    for doc in docs:
        if doc["kind"] != "PrometheusRule":
            continue
        for group in doc["spec"]["groups"]:
            for rule in group["rules"]:
                name = rule.get("alert")
                if not name:
                    continue
                alerts.append(name)
                if not str(rule.get("expr", "")).strip():
                    problems.append(f"{name}: no expr")
                link = rule.get("annotations", {}).get("runbook", "")
                target = link.split("#", 1)[1] if "#" in link else ""
                if target not in sections:
                    problems.append(f"{name}: runbook link {link!r} names no section of RUNBOOK.md")

    dashboards = [
        json.loads(content)
        for doc in docs
        if doc["kind"] == "ConfigMap"
        for key, content in doc.get("data", {}).items()
        if key.endswith(".json")
    ]
    titles = " ".join(p["title"] for d in dashboards for p in d.get("panels", []))
    for name in alerts:
        if f"({name})" not in titles:
            problems.append(f"{name}: no dashboard panel")

    for problem in problems:
        print(f"deploy-check: monitoring: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"deploy-check: monitoring ok ({len(alerts)} alerts, {len(docs)} resources)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
