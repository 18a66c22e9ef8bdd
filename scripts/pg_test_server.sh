#!/usr/bin/env bash
# A throw-away PostgreSQL cluster on a loopback port, for the tests and benchmarks (never for patient data).
#
#   bash scripts/pg_test_server.sh start [DIR]   # prints the superuser URL (postgresql+psycopg://...) on stdout
#   bash scripts/pg_test_server.sh stop DIR      # stops the server and deletes DIR
#   bash scripts/pg_test_server.sh restart DIR   # fast restart on the same port (tests of a server restart)
#
# DIR defaults to a new /tmp/medstation-pg.XXXXXX. The cluster listens on 127.0.0.1 only, on a free port
# (PG_PORT to choose one), with scram-sha-256 password auth for a superuser `medstation_admin` whose random
# password is in the printed URL (also DIR/url). fsync is off unless PG_FSYNC=on: the data is thrown away.
# initdb refuses to run as root, so as root the cluster runs as the Debian `postgres` user (created by the
# `postgresql` package; otherwise a `medstation-pg` system user is created). The binaries come from PG_BIN,
# the PATH, or Debian's /usr/lib/postgresql/<version>/bin.
set -euo pipefail

find_bin() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"; return
  fi
  local best
  best=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -n "$best" ] && [ -x "$best/initdb" ]; then echo "$best"; return; fi
  echo "pg_test_server: no initdb/pg_ctl found (install Debian's postgresql package, or set PG_BIN)" >&2
  exit 2
}

free_port() {
  python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

# as_owner CMD...: run as the cluster's OS user (root is refused by initdb and postgres).
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u "$OWNER" -- "$@"; else "$@"; fi
}

pick_owner() {
  if [ "$(id -u)" != 0 ]; then OWNER=$(id -un); return; fi
  if id postgres >/dev/null 2>&1; then OWNER=postgres; return; fi
  id medstation-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin medstation-pg
  OWNER=medstation-pg
}

start() {
  local dir=${1:-}
  local bin port pw
  bin=$(find_bin)
  pick_owner
  if [ -z "$dir" ]; then dir=$(mktemp -d /tmp/medstation-pg.XXXXXX); else mkdir -p "$dir"; fi
  dir=$(cd "$dir" && pwd)
  chmod 0700 "$dir"
  [ "$(id -u)" = 0 ] && chown "$OWNER" "$dir"
  port=${PG_PORT:-$(free_port)}
  pw=$(python3 -c "import secrets; print(secrets.token_hex(16))")
  printf '%s\n' "$pw" > "$dir/pwfile"
  chmod 0600 "$dir/pwfile"
  [ "$(id -u)" = 0 ] && chown "$OWNER" "$dir/pwfile"
  as_owner "$bin/initdb" -D "$dir/data" -U medstation_admin --pwfile="$dir/pwfile" --auth=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  rm -f "$dir/pwfile"
  local fsync=${PG_FSYNC:-off}
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $port -k $dir -c fsync=$fsync -c synchronous_commit=$fsync -c full_page_writes=$fsync -c max_connections=200" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  local url="postgresql+psycopg://medstation_admin:$pw@127.0.0.1:$port/postgres"
  printf '%s\n' "$url" > "$dir/url"
  printf '%s\n' "$bin" > "$dir/bin"
  echo "$url"
  echo "pg_test_server: started in $dir (port $port, as $OWNER)" >&2
}

stop() {
  local dir=${1:?usage: pg_test_server.sh stop DIR}
  [ -d "$dir/data" ] || { echo "pg_test_server: no cluster in $dir" >&2; exit 1; }
  local bin
  bin=$(cat "$dir/bin" 2>/dev/null || find_bin)
  pick_owner
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

restart() {  # for tests of a server restart under load (same port, same data)
  local dir=${1:?usage: pg_test_server.sh restart DIR}
  local bin
  bin=$(cat "$dir/bin" 2>/dev/null || find_bin)
  pick_owner
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 restart >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  restart) shift; restart "$@" ;;
  *) echo "usage: $0 start [DIR] | stop DIR | restart DIR" >&2; exit 2 ;;
esac
