#!/bin/sh
# Entrypoint of the compose "pgbouncer" service: writes PgBouncer's auth_file from the
# environment (so the password has one source, POSTGRES_PASSWORD) and runs PgBouncer in
# the foreground. Needs PGBOUNCER_DB_USER and PGBOUNCER_DB_PASSWORD.
set -eu
: "${PGBOUNCER_DB_USER:?set PGBOUNCER_DB_USER}"
: "${PGBOUNCER_DB_PASSWORD:?set PGBOUNCER_DB_PASSWORD}"
CONFIG="${PGBOUNCER_CONFIG:-/etc/pgbouncer-weighin/pgbouncer.ini}"
USERLIST="${PGBOUNCER_USERLIST:-/tmp/pgbouncer-userlist.txt}"
umask 077
# userlist.txt format: "user" "password", a double quote inside a value is doubled.
quote() { printf '"%s"' "$(printf '%s' "$1" | sed 's/"/""/g')"; }
printf '%s %s\n' "$(quote "$PGBOUNCER_DB_USER")" "$(quote "$PGBOUNCER_DB_PASSWORD")" > "$USERLIST"
exec pgbouncer "$CONFIG"
