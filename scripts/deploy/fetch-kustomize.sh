#!/usr/bin/env bash
# Fetches Debian trixie's `kustomize` package (a static Go binary, kustomize 5.x) into a
# directory and prints the path of the binary. For machines whose PATH has no kustomize >= 5 and
# no kubectl with a built-in kustomize >= 5: Debian 12 (bookworm) ships only kubernetes-client
# 1.20, whose kustomize cannot render our overlays (components, replacements).
#
# Trixie is never added to the apt sources. Instead, as apt itself would, this script:
#   1. downloads dists/trixie/InRelease and verifies its signature with gpgv against
#      /usr/share/keyrings/debian-archive-keyring.gpg (bookworm's keyring carries trixie's keys);
#   2. takes the SHA256 of main/binary-<arch>/Packages.xz from the verified text only, downloads
#      that index (by hash, so a mirror update in between cannot mismatch it) and checks it;
#   3. takes the kustomize package's Filename and SHA256 from the index, downloads the .deb and
#      checks it;
#   4. extracts it with dpkg-deb -x (nothing is installed) and checks that the binary runs.
# Any check that fails stops the script with a message saying what did not verify.
#
# Usage: fetch-kustomize.sh DIR   (prints DIR/bin/kustomize; a second run finds it and is offline)
# Environment: MZ_DEBIAN_MIRROR (default http://deb.debian.org/debian; file:// URLs work too).
set -euo pipefail

dir=${1:?usage: fetch-kustomize.sh DIR}
mirror=${MZ_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=trixie
package=kustomize
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

say() { echo "deploy-check: kustomize: $*" >&2; }
die() {
  say "FAILED: $*"
  exit 1
}

# A previous run's binary: no network needed.
if [ -x "$dir/bin/kustomize" ] && "$dir/bin/kustomize" version >/dev/null 2>&1; then
  echo "$dir/bin/kustomize"
  exit 0
fi

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    die "missing $*; install it with: sudo apt-get install $*"
  fi
  say "installing $* with apt-get"
  apt-get install -y -qq "$@" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && apt-get install -y -qq "$@" >/dev/null; } ||
    die "apt-get install $* failed"
}
command -v gpgv >/dev/null || apt_install gpgv
[ -s "$keyring" ] || apt_install debian-archive-keyring
command -v xz >/dev/null || apt_install xz-utils
command -v dpkg-deb >/dev/null || die "dpkg-deb is missing (this needs a Debian system)"
if ! command -v curl >/dev/null; then apt_install curl; fi

arch=$(dpkg --print-architecture)
work="$dir/download"
rm -rf "$work"
mkdir -p "$work"

fetch() { # URL FILE
  curl -fsSL --retry 3 --connect-timeout 20 -o "$2" "$1" || die "could not download $1"
}

# 1. The signed release file. gpgv writes the signed text to Release; only that text is read.
say "verifying $mirror/dists/$suite/InRelease"
fetch "$mirror/dists/$suite/InRelease" "$work/InRelease"
# gpgv's exit status is not enough on its own: a signature by a key missing from the keyring
# makes it fail although another signature is good, and a good signature must be there at all.
# As apt does, read the status lines: at least one VALIDSIG, and no BADSIG.
status=$(gpgv --status-fd 1 --keyring "$keyring" --output "$work/Release" "$work/InRelease" \
  2>"$work/gpgv.log") || true
if grep -q '^\[GNUPG:\] BADSIG' <<<"$status"; then
  cat "$work/gpgv.log" >&2
  die "InRelease has a BAD signature"
fi
if ! grep -q '^\[GNUPG:\] VALIDSIG' <<<"$status" || [ ! -s "$work/Release" ]; then
  cat "$work/gpgv.log" >&2
  die "InRelease carries no signature valid for $keyring"
fi
grep -q "^Codename: $suite\$" "$work/Release" || die "the signed Release is not $suite's"

# 2. The package index, checked against the SHA256 in the verified Release.
index="main/binary-$arch/Packages.xz"
read -r index_sha index_size < <(awk -v path="$index" '
  /^SHA256:/ { in_sha = 1; next }
  /^[^ ]/ { in_sha = 0 }
  in_sha && $3 == path { print $1, $2; exit }' "$work/Release") ||
  die "the Release names no SHA256 for $index"
[ -n "${index_sha:-}" ] || die "the Release names no SHA256 for $index"
say "fetching $index ($index_size bytes)"
by_hash="$mirror/dists/$suite/main/binary-$arch/by-hash/SHA256/$index_sha"
if ! curl -fsSL --retry 3 --connect-timeout 20 -o "$work/Packages.xz" "$by_hash" 2>/dev/null; then
  fetch "$mirror/dists/$suite/$index" "$work/Packages.xz"
fi
echo "$index_sha  $work/Packages.xz" | sha256sum -c --quiet - >/dev/null 2>&1 ||
  die "$index does not match the SHA256 of the signed Release"

# 3. The package, checked against the SHA256 in the verified index.
xz -dc "$work/Packages.xz" >"$work/Packages" || die "$index does not decompress"
stanza=$(awk -v pkg="$package" -v arch="$arch" '
  BEGIN { RS = ""; FS = "\n" }
  !found && $0 ~ "(^|\n)Package: " pkg "\n" && $0 ~ "\nArchitecture: " arch "(\n|$)" {
    print; found = 1
  }' "$work/Packages")
[ -n "$stanza" ] || die "$suite's $index has no $package package for $arch"
field() {
  awk -v name="$1" 'index($0, name ": ") == 1 { print substr($0, length(name) + 3); exit }' \
    <<<"$stanza"
}
version=$(field Version)
filename=$(field Filename)
deb_sha=$(field SHA256)
{ [ -n "$filename" ] && [ -n "$deb_sha" ]; } || die "the $package stanza has no Filename or SHA256"
say "fetching $package $version ($filename)"
fetch "$mirror/$filename" "$work/$package.deb"
echo "$deb_sha  $work/$package.deb" | sha256sum -c --quiet - >/dev/null 2>&1 ||
  die "$filename does not match the SHA256 of the verified index"

# 4. Extract, check it is 5.x and runs, then keep it. Debian's build reports its version as
# "(devel)", so the 5.x check reads the verified package version.
case "$version" in
  5.*) ;;
  *) die "$suite's $package is $version, not 5.x" ;;
esac
root="$dir/$package-$version"
rm -rf "$root"
dpkg-deb -x "$work/$package.deb" "$root"
binary="$root/usr/bin/kustomize"
[ -x "$binary" ] || die "the package has no usr/bin/kustomize"
"$binary" version >/dev/null 2>&1 || die "the extracted kustomize does not run"
mkdir -p "$dir/bin"
ln -sfn "../$package-$version/usr/bin/kustomize" "$dir/bin/kustomize"
echo "$version" >"$dir/bin/kustomize.version"
# The verified InRelease stays, for the self-test's tampering cases (deploy-check.sh --self-test).
mv "$work/InRelease" "$dir/InRelease"
rm -rf "$work"
say "using Debian $suite's $package $version, signature and checksums verified"
echo "$dir/bin/kustomize"
