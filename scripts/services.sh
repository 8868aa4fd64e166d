#!/usr/bin/env bash
# Makes sure the two servers the test suite needs answer on this machine:
#   PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth, database `test`)
#   NATS with JetStream on 127.0.0.1:4222
# Starts them when they are installed but stopped; installs them from Debian's packages when they
# are missing (needs root or sudo). Never touches a server that already answers.
set -euo pipefail

PG_PORT=${MZ_PG_PORT:-5432}
NATS_PORT=${MZ_NATS_PORT:-4222}
NATS_STORE=${MZ_NATS_STORE:-/var/lib/nats-server}

say() { printf 'services: %s\n' "$*" >&2; }

answers() { # host port
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

wait_for() { # name host port
  for _ in $(seq 1 60); do
    answers "$2" "$3" && return 0
    sleep 0.5
  done
  say "$1 did not come up on $2:$3"
  return 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    say "need root to run: $*"; return 1
  fi
}

apt_install() {
  say "installing $* from Debian's packages"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres() {
  if answers 127.0.0.1 "$PG_PORT"; then return 0; fi
  local fresh=no
  if ! command -v pg_ctlcluster >/dev/null; then
    apt_install postgresql
    fresh=yes
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  if [ "$fresh" = yes ]; then
    # A cluster we just installed is ours to configure: local trust auth, as the tests expect.
    local hba="/etc/postgresql/$version/main/pg_hba.conf"
    as_root sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
  fi
  say "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for PostgreSQL 127.0.0.1 "$PG_PORT"
  if command -v psql >/dev/null; then
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" 2>/dev/null | grep -q 1 \
      || psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -c 'CREATE DATABASE test' >/dev/null
  fi
}

ensure_nats() {
  if answers 127.0.0.1 "$NATS_PORT"; then return 0; fi
  if ! command -v nats-server >/dev/null && [ ! -x /usr/sbin/nats-server ]; then
    apt_install nats-server
  fi
  local bin
  bin=$(command -v nats-server || echo /usr/sbin/nats-server)
  say "starting nats-server with JetStream"
  as_root mkdir -p "$NATS_STORE"
  as_root start-stop-daemon --start --oknodo --background --exec "$bin" -- \
    -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$NATS_STORE" -l /var/log/nats-server.log
  wait_for NATS 127.0.0.1 "$NATS_PORT"
}

ensure_postgres
ensure_nats
say "PostgreSQL on 127.0.0.1:$PG_PORT and NATS on 127.0.0.1:$NATS_PORT are up"
