#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback, for the tests and benchmarks (no system service needed).
#   .ci/postgres.sh start [DIR] [PORT]  → initdb (first time) and start; prints DATABASE_URL
#   .ci/postgres.sh stop [DIR]
# Needs Debian's `postgresql` package. initdb refuses to run as root, so the cluster runs as the
# `postgres` user when started by root.
set -euo pipefail
cmd=${1:-start}
dir=${2:-${PGTEST_DIR:-/tmp/undersigned-pg}}
port=${3:-${PGTEST_PORT:-54329}}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/pg_ctl" ] || { echo "PostgreSQL is not installed: apt-get install postgresql" >&2; exit 1; }
as() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$cmd" in
  start)
    if [ ! -f "$dir/PG_VERSION" ]; then
      mkdir -p "$dir"
      if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
      as "$bin/initdb" -D "$dir" -U undersigned --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
      # Loopback only; the socket lives in the cluster's own folder.
      cat >>"$dir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
fsync = on
CONF
    fi
    if ! as "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      as "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w start >/dev/null
    fi
    as "$bin/psql" -h 127.0.0.1 -p "$port" -U undersigned -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = 'undersigned'" | grep -q 1 ||
      as "$bin/createdb" -h 127.0.0.1 -p "$port" -U undersigned undersigned
    echo "postgres://undersigned@127.0.0.1:$port/undersigned"
    ;;
  stop)
    as "$bin/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop [DIR] [PORT]" >&2; exit 2 ;;
esac
