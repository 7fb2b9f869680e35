#!/bin/bash
# The postgres image's entrypoint, written for this project to the contract of the official
# image's docker-entrypoint.sh that the postgres chart relies on (dev/images/postgres/CONTRACT.md):
#  - `docker-entrypoint.sh postgres [args]` (and `docker-entrypoint.sh -c x=y`, which means
#    `postgres -c x=y`): on an empty $PGDATA, initdb as $POSTGRES_USER with
#    $POSTGRES_PASSWORD and $POSTGRES_INITDB_ARGS, password (scram-sha-256) auth for
#    network clients, create $POSTGRES_DB, run /docker-entrypoint-initdb.d/*.sh|*.sql once;
#    then exec postgres as PID 1 (SIGINT = fast shutdown, the image's stop signal).
#  - an existing $PGDATA is used as it is: the variables no longer matter.
#  - any other command runs as given (psql, pg_isready, bash ...).
# As root it fixes the data directory's ownership and drops to postgres (uid 999) first.
set -Eeuo pipefail

if [[ ${1:-} == -* ]]; then set -- postgres "$@"; fi
[[ ${1:-} == postgres ]] || exec "$@"

: "${PGDATA:=/var/lib/postgresql/data}" "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}" "${POSTGRES_INITDB_ARGS:=}"
export PGDATA

if ((EUID == 0)); then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 0700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

if [[ ! -s $PGDATA/PG_VERSION ]]; then
  if [[ -z ${POSTGRES_PASSWORD:-} && ${POSTGRES_HOST_AUTH_METHOD:-} != trust ]]; then
    echo "docker-entrypoint.sh: the database is uninitialized and POSTGRES_PASSWORD is not set" >&2
    echo "  (set POSTGRES_PASSWORD, or POSTGRES_HOST_AUTH_METHOD=trust to allow all connections" >&2
    echo "  without a password, which is never advisable)" >&2
    exit 1
  fi
  mkdir -p "$PGDATA"
  chmod 0700 "$PGDATA"
  echo "docker-entrypoint.sh: initialising $PGDATA"
  # The password reaches initdb through a pipe, never a command line (ps) or a file.
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of options, split on purpose.
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") \
    $POSTGRES_INITDB_ARGS
  # Local socket: trust (the entrypoint and kubectl exec psql); network: the password.
  printf 'host all all all %s\n' "${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >>"$PGDATA/pg_hba.conf"

  # A server on the unix socket only, so no client connects before the setup is done.
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start
  psql_=(psql -v ON_ERROR_STOP=1 --no-password --no-psqlrc --username "$POSTGRES_USER")
  if [[ $POSTGRES_DB != postgres ]]; then
    # The database takes its encoding and collation from template1, i.e. from initdb's.
    "${psql_[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) echo "running $f"; bash "$f" ;;
      *.sql) echo "running $f"; "${psql_[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
      *.sql.gz) echo "running $f"; gunzip -c "$f" | "${psql_[@]}" --dbname "$POSTGRES_DB" ;;
      */\*) ;;
      *) echo "ignoring $f" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop
  echo "docker-entrypoint.sh: initialisation complete"
fi

exec "$@"
