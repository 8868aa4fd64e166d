#!/usr/bin/env bash
# Checks the protos against the last release (the newest `v*` tag): no field, message, RPC or
# enum value of a released contract may change or disappear (buf.yaml's `breaking` rules).
# Before the first release there is nothing to compare with, and the check says so.
set -euo pipefail
cd "$(dirname "$0")/.."

buf="npx --yes @bufbuild/buf@1.75.0"
release=$(git describe --tags --abbrev=0 --match 'v*' 2>/dev/null || true)
if [ -z "$release" ]; then
  echo "buf breaking: no release tag (v*) yet; nothing to compare with"
  exit 0
fi
$buf breaking --against ".git#tag=$release"
echo "buf breaking: compatible with $release"
