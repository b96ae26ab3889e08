#!/usr/bin/env bash
# Starts (or stops) a throwaway PostgreSQL server for the tests, from the server binaries
# Debian's postgresql package installs, and prints its DATABASE_URL.
#   eval "$(bash scripts/pg.sh start)"   ...   bash scripts/pg.sh stop
set -euo pipefail
dir="${LOYALTY_PG_DIR:-${TMPDIR:-/tmp}/loyalty-pg}"
port="${LOYALTY_PG_PORT:-54329}"
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "PostgreSQL server binaries are missing: apt-get install postgresql" >&2; exit 1; }
# initdb and postgres refuse to run as root; Debian's package makes a postgres user.
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }

case "${1:-}" in
  start)
    as_pg "'$bin/pg_ctl' -D '$dir/data' stop -m fast" >/dev/null 2>&1 || true
    rm -rf "$dir"; mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_pg "'$bin/initdb' -D '$dir/data' -A trust -U postgres" >"$dir/initdb.log" 2>&1
    as_pg "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off\" start" >/dev/null
    echo "export DATABASE_URL=postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    as_pg "'$bin/pg_ctl' -D '$dir/data' stop -m fast" >/dev/null 2>&1 || true
    ;;
  *) echo "usage: scripts/pg.sh start|stop" >&2; exit 2 ;;
esac
