#!/usr/bin/env bash
# Validates the Kubernetes manifests without a cluster: renders every overlay with kustomize
# (kubectl's built-in, or Debian's kubernetes-client when kubectl is missing) and checks each
# rendered resource against the Kubernetes OpenAPI schemas with kubernetes-validate (PyPI,
# installed into target/deploy-venv on first use).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v kubectl >/dev/null; then
  echo "deploy-check: installing kubectl (Debian's kubernetes-client)" >&2
  apt-get install -y -qq kubernetes-client >/dev/null
fi
venv=target/deploy-venv
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q kubernetes-validate
fi

status=0
for overlay in deploy/k8s/overlays/*/; do
  name=$(basename "$overlay")
  out="target/deploy-$name.yaml"
  kubectl kustomize "$overlay" > "$out"
  if "$venv/bin/kubernetes-validate" --strict "$out"; then
    echo "deploy-check: $name ok ($(grep -c '^kind:' "$out") resources)"
  else
    echo "deploy-check: $name FAILED" >&2
    status=1
  fi
done
# The Prometheus Operator's resources: rendered, and checked for what can be checked without
# their CRD schemas (scripts/check-monitoring.py).
kubectl kustomize deploy/k8s/monitoring > target/deploy-monitoring.yaml
if ! "$venv/bin/python" scripts/check-monitoring.py target/deploy-monitoring.yaml; then
  echo "deploy-check: monitoring FAILED" >&2
  status=1
fi
exit $status
