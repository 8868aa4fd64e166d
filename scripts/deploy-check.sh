#!/usr/bin/env bash
# Validates the Kubernetes manifests of deploy/ without a cluster (`make deploy-check`, and part
# of `make test`). Works on a fresh Debian 12 with only the Rust toolchain: what it needs and
# does not find, it fetches into target/ (a second run is offline).
#
#   bash scripts/deploy-check.sh              render and check everything
#   bash scripts/deploy-check.sh --self-test  prove the checks reject broken manifests: copies
#       of the rendered output each broken in one way (scripts/deploy/break-manifest.py lists
#       them), and kustomize downloads that do not verify; each must be refused, with a non-zero
#       exit, by the check meant to catch it
#
# What it checks, for each overlay (deploy/k8s/overlays/*) and deploy/k8s/monitoring, as rendered
# by kustomize:
#   - built-in kinds against the Kubernetes OpenAPI schemas of MZ_KUBERNETES_VERSION (default
#     1.32: set it to the version the bureau's clusters run; kubernetes-validate has 1.25 to
#     1.37), strictly: unknown fields are errors (scripts/deploy/validate_builtin.py, with
#     kubernetes-validate from PyPI in target/deploy-venv);
#   - CloudNativePG and Prometheus Operator kinds against their CRD schemas, unknown fields
#     refused, and any other kind refused (scripts/deploy/validate-crds.mjs, with the npm packages
#     of scripts/deploy/package-lock.json in target/deploy-node);
#   - how the pieces fit: each service's database, role, Secret, NATS user and NetworkPolicy
#     (scripts/deploy/check-wiring.py); the alerts' runbook links and dashboard panels
#     (scripts/check-monitoring.py); the NATS Helm values' keys
#     (scripts/deploy/check-nats-values.py).
# Rendered output goes to target/deploy-check/.
#
# Tools: kustomize >= 5 from PATH (kustomize itself, or kubectl's built-in one); else Debian
# trixie's kustomize package, fetched with its signature and checksums verified
# (scripts/deploy/fetch-kustomize.sh) into target/deploy-tools. MZ_DEPLOY_CHECK_FORCE_FETCH=1
# ignores PATH, to exercise that path. python3 (with venv) and node/npm come from apt when
# missing.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
mode=check
case "${1:-}" in
  "") ;;
  --self-test) mode=self-test ;;
  -h | --help)
    usage
    exit 0
    ;;
  *)
    usage >&2
    exit 2
    ;;
esac

k8s_version=${MZ_KUBERNETES_VERSION:-1.32}
tools=target/deploy-tools
venv=target/deploy-venv
node_dir=target/deploy-node
out=target/deploy-check

say() { echo "deploy-check: $*"; }
die() {
  echo "deploy-check: FAILED: $*" >&2
  exit 1
}

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    die "missing $*; install it with: sudo apt-get install $*"
  fi
  say "installing $* with apt-get" >&2
  apt-get install -y -qq "$@" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && apt-get install -y -qq "$@" >/dev/null; } ||
    die "apt-get install $* failed"
}

# --- kustomize ------------------------------------------------------------------------------
# Sets `render` (a command taking a kustomization directory) and `renderer` (what it is).
major_of() { # "v5.5.0" / "{Version:kustomize/v4.5.7 ...}" -> 5 / 4; nothing when unknown
  grep -o 'v[0-9][0-9]*\.' <<<"$1" | head -n1 | tr -dc '0-9' || true
}
find_kustomize() {
  if [ "${MZ_DEPLOY_CHECK_FORCE_FETCH:-0}" != 1 ]; then
    local v
    if command -v kustomize >/dev/null; then
      v=$(kustomize version 2>/dev/null || true)
      if [ "$(major_of "$v")" -ge 5 ] 2>/dev/null; then
        render=(kustomize build)
        renderer="kustomize $v from PATH"
        return
      fi
    fi
    if command -v kubectl >/dev/null; then
      v=$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: //p' || true)
      if [ "$(major_of "$v")" -ge 5 ] 2>/dev/null; then
        render=(kubectl kustomize)
        renderer="kubectl's built-in kustomize $v from PATH"
        return
      fi
    fi
  fi
  local binary
  binary=$(bash scripts/deploy/fetch-kustomize.sh "$tools") || die "could not get kustomize 5"
  render=("$binary" build)
  renderer="Debian trixie's kustomize $(cat "$tools/bin/kustomize.version") in $tools"
}

# --- Python: kubernetes-validate and PyYAML ---------------------------------------------------
ensure_venv() {
  if [ -x "$venv/bin/python" ] && cmp -s scripts/deploy/requirements.txt "$venv/.requirements"; then
    return
  fi
  command -v python3 >/dev/null || apt_install python3
  rm -rf "$venv"
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    rm -rf "$venv"
    apt_install python3-venv
    python3 -m venv "$venv"
  fi
  say "installing kubernetes-validate into $venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/deploy/requirements.txt ||
    die "pip install -r scripts/deploy/requirements.txt failed"
  cp scripts/deploy/requirements.txt "$venv/.requirements"
}

# --- Node: the CRD models ---------------------------------------------------------------------
ensure_node() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install nodejs npm
  fi
  node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' ||
    die "node $(node --version) is too old: 18 or later is needed"
  if [ ! -d "$node_dir/node_modules" ] ||
    ! cmp -s scripts/deploy/package-lock.json "$node_dir/.package-lock.json"; then
    say "installing the CRD models into $node_dir (npm ci)"
    rm -rf "$node_dir"
    mkdir -p "$node_dir"
    cp scripts/deploy/package.json scripts/deploy/package-lock.json "$node_dir/"
    (cd "$node_dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null) ||
      die "npm ci in $node_dir failed"
    cp scripts/deploy/package-lock.json "$node_dir/.package-lock.json"
  fi
  # Run from there, so that its imports resolve to the packages installed there.
  cp scripts/deploy/validate-crds.mjs "$node_dir/validate-crds.mjs"
}

# --- checks -------------------------------------------------------------------------------------
# Every validator runs, whatever the others said; any failure fails the whole.
validate_rendered() { # FILE
  local status=0
  "$venv/bin/python" scripts/deploy/validate_builtin.py --kubernetes-version "$k8s_version" "$1" ||
    status=1
  node "$node_dir/validate-crds.mjs" "$1" || status=1
  return "$status"
}
check_overlay_file() { # NAME FILE
  local status=0
  validate_rendered "$2" || status=1
  "$venv/bin/python" scripts/deploy/check-wiring.py "$1" "$2" || status=1
  return "$status"
}
check_monitoring_file() { # FILE
  local status=0
  validate_rendered "$1" || status=1
  "$venv/bin/python" scripts/check-monitoring.py "$1" || status=1
  return "$status"
}
kinds_of() { # FILE -> "43 resources: Cluster 1, ConfigMap 2, ..."
  local total
  total=$(grep -c '^kind: ' "$1" || true)
  echo "$total resources: $(grep '^kind: ' "$1" | cut -d' ' -f2 | sort | uniq -c |
    awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }')"
}
render_all() {
  rm -rf "$out"
  mkdir -p "$out"
  local dir name
  for dir in deploy/k8s/overlays/*/; do
    name=$(basename "$dir")
    "${render[@]}" "$dir" >"$out/$name.yaml" || die "kustomize could not render $dir"
  done
  "${render[@]}" deploy/k8s/monitoring >"$out/monitoring.yaml" ||
    die "kustomize could not render deploy/k8s/monitoring"
}

run_checks() {
  local status=0 file name
  for file in "$out"/*.yaml; do
    name=$(basename "$file" .yaml)
    if [ "$name" = monitoring ]; then
      check_monitoring_file "$file" || status=1
    else
      check_overlay_file "$name" "$file" || status=1
    fi
  done
  "$venv/bin/python" scripts/deploy/check-nats-values.py || status=1
  echo
  for file in "$out"/*.yaml; do
    name=$(basename "$file" .yaml)
    say "$name: $(kinds_of "$file")"
  done
  if [ "$status" = 0 ]; then
    say "all checks passed (Kubernetes $k8s_version schemas; rendered with $renderer)"
  else
    say "FAILED: see the messages above" >&2
  fi
  return "$status"
}

# --- self-test ----------------------------------------------------------------------------------
# Each case of scripts/deploy/break-manifest.py breaks a copy of the rendered output in one way;
# the checks must exit non-zero AND say the expected thing (the right check caught it).
self_test() {
  local dir="$out/self-test" failures=0 cases=0 name source expected broken output line status
  rm -rf "$dir"
  mkdir -p "$dir"
  if ! check_overlay_file production "$out/production.yaml" >/dev/null 2>&1 ||
    ! check_overlay_file dev "$out/dev.yaml" >/dev/null 2>&1 ||
    ! check_monitoring_file "$out/monitoring.yaml" >/dev/null 2>&1; then
    die "self-test: the unbroken manifests do not pass; run scripts/deploy-check.sh first"
  fi
  say "self-test: the unbroken production, dev and monitoring manifests pass; now each fault:"
  while IFS=$'\t' read -r name source expected; do
    cases=$((cases + 1))
    broken="$dir/$name.yaml"
    "$venv/bin/python" scripts/deploy/break-manifest.py "$name" "$out/$source.yaml" "$broken"
    if [ "$source" = monitoring ]; then
      output=$(check_monitoring_file "$broken" 2>&1) && status=0 || status=$?
    else
      output=$(check_overlay_file "$source" "$broken" 2>&1) && status=0 || status=$?
    fi
    line=$(grep -F -- "$expected" <<<"$output" | head -n1 || true)
    if [ "$status" = 0 ]; then
      echo "deploy-check: self-test: $name: NOT rejected (exit 0)" >&2
      failures=$((failures + 1))
    elif [ -z "$line" ]; then
      echo "deploy-check: self-test: $name: rejected, but not for '$expected':" >&2
      echo "$output" >&2
      failures=$((failures + 1))
    else
      say "self-test: $name: rejected (exit $status): ${line#deploy-check: }"
    fi
  done < <("$venv/bin/python" scripts/deploy/break-manifest.py --list)
  self_test_fetch || failures=$((failures + 1))
  if [ "$failures" != 0 ]; then
    die "self-test: $failures of the faults above were not caught as they must be"
  fi
  say "self-test ok: $cases broken manifests and the unverifiable kustomize downloads all rejected"
}

# kustomize's download must be refused when it does not verify. Offline: a file:// mirror.
self_test_fetch() {
  local mirror="$out/self-test/mirror" failures=0 output
  mkdir -p "$mirror/dists/trixie"
  # An InRelease whose "signature" is not one.
  printf '%s\n' '-----BEGIN PGP SIGNED MESSAGE-----' 'Hash: SHA256' '' 'Codename: trixie' \
    '-----BEGIN PGP SIGNATURE-----' '' 'iQIzBAEBCAAdFiEE' '-----END PGP SIGNATURE-----' \
    >"$mirror/dists/trixie/InRelease"
  fetch_must_fail "fetch-unsigned-release" "carries no signature valid" "$mirror" || failures=1
  if [ -s "$tools/InRelease" ]; then
    # The real, signed InRelease of the last fetch, with one line of its signed text changed.
    sed 's/^Codename: trixie$/Codename: trixie /; s/^Suite: .*/Suite: tampered/' \
      "$tools/InRelease" >"$mirror/dists/trixie/InRelease"
    fetch_must_fail "fetch-tampered-release" "InRelease has a BAD signature" "$mirror" || failures=1
    # The real InRelease, but an index that is not the one it names.
    cp "$tools/InRelease" "$mirror/dists/trixie/InRelease"
    local arch
    arch=$(dpkg --print-architecture)
    mkdir -p "$mirror/dists/trixie/main/binary-$arch"
    echo "not the index" | xz >"$mirror/dists/trixie/main/binary-$arch/Packages.xz"
    fetch_must_fail "fetch-wrong-index" "does not match the SHA256 of the signed Release" \
      "$mirror" || failures=1
  else
    say "self-test: fetch-tampered-release, fetch-wrong-index: not run (kustomize came from PATH," \
      "so there is no verified InRelease in $tools to tamper with)"
  fi
  return "$failures"
}
fetch_must_fail() { # NAME EXPECTED MIRROR
  local output status line
  output=$(MZ_DEBIAN_MIRROR="file://$PWD/$3" bash scripts/deploy/fetch-kustomize.sh \
    "$out/self-test/tools-$1" 2>&1) && status=0 || status=$?
  line=$(grep -F -- "$2" <<<"$output" | head -n1 || true)
  if [ "$status" = 0 ] || [ -z "$line" ]; then
    echo "deploy-check: self-test: $1: not refused as it must be (exit $status):" >&2
    echo "$output" >&2
    return 1
  fi
  say "self-test: $1: refused (exit $status): ${line#deploy-check: }"
}

find_kustomize
ensure_venv
ensure_node
render_all
if [ "$mode" = self-test ]; then
  self_test
else
  run_checks
fi
