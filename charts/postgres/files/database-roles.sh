#!/bin/bash
# Make the database's owner (Synapse's login) an ordinary role, and keep a separate superuser.
# Idempotent; runs over the local socket (trusted by the image's pg_hba.conf) against a server
# that accepts no network client yet:
#  - on the first start, from /docker-entrypoint-initdb.d/ (the image's initialisation server);
#  - on every later start, from the init container "database-roles" (a socket-only server it
#    starts and stops itself, see the StatefulSet).
# Environment (the container's): POSTGRES_USER / POSTGRES_PASSWORD (the superuser),
# POSTGRES_DB, DATABASE_OWNER / DATABASE_OWNER_PASSWORD (Synapse's user); PGHOST/PGPORT as libpq.
#
# After it: DATABASE_OWNER is LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
# NOBYPASSRLS, owns POSTGRES_DB and every object in it, and both passwords are the Secret's.
#
# A volume initialised before the superuser was split off has DATABASE_OWNER as its bootstrap
# superuser, which PostgreSQL 16+ will not demote. That role is renamed to POSTGRES_USER (it
# stays the superuser; SCRAM passwords survive a rename) and a new ordinary DATABASE_OWNER
# takes over the database and its objects, all in one transaction: a failure changes nothing.
set -Eeuo pipefail

: "${POSTGRES_USER:?}" "${POSTGRES_PASSWORD:?}" "${POSTGRES_DB:?}"
: "${DATABASE_OWNER:?}" "${DATABASE_OWNER_PASSWORD:?}"
if [[ $POSTGRES_USER == "$DATABASE_OWNER" ]]; then
  echo "database-roles.sh: the superuser and the database owner must differ (both $POSTGRES_USER)" >&2
  exit 1
fi
# Only used during the rename, and dropped right after it.
helper=matrixk8s_role_migration

sql() {
  # --no-password: the socket is trusted; a prompt would hang the pod. Passwords reach
  # psql through the environment (\getenv), never a command line; statements that fail
  # are not copied to the server log (log_min_error_statement), so neither are passwords.
  PGOPTIONS='-c log_min_error_statement=panic' \
    psql -v ON_ERROR_STOP=1 --no-password --no-psqlrc --quiet --tuples-only --no-align "$@"
}
role_exists() { # connect as $1, is role $2 there?
  [[ $(sql --username "$1" --dbname postgres --set r="$2" \
    <<<"SELECT count(*) FROM pg_roles WHERE rolname = :'r';") == 1 ]]
}

# Who is the bootstrap superuser? Connect as whichever of the two exists.
if sql --username "$POSTGRES_USER" --dbname postgres -c 'SELECT 1' >/dev/null 2>&1; then
  admin=$POSTGRES_USER
else
  admin=$DATABASE_OWNER
fi
bootstrap=$(sql --username "$admin" --dbname postgres -c 'SELECT rolname FROM pg_roles WHERE oid = 10')

if [[ $bootstrap == "$DATABASE_OWNER" ]]; then
  if role_exists "$admin" "$POSTGRES_USER"; then
    echo "database-roles.sh: $DATABASE_OWNER is the bootstrap superuser and a role $POSTGRES_USER" \
      "exists already: rename or drop that role, then restart the pod" >&2
    exit 1
  fi
  echo "database-roles.sh: $DATABASE_OWNER is the superuser: renaming it to $POSTGRES_USER and" \
    "creating an ordinary $DATABASE_OWNER that owns $POSTGRES_DB"
  # The bootstrap role cannot rename itself while connected: a short-lived helper does it.
  sql --username "$bootstrap" --dbname postgres --set h="$helper" <<'SQL'
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'h') AS missing \gset
\if :missing
CREATE ROLE :"h" LOGIN SUPERUSER;
\endif
SQL
  sql --username "$helper" --dbname "$POSTGRES_DB" --single-transaction \
    --set old="$DATABASE_OWNER" --set su="$POSTGRES_USER" <<'SQL'
ALTER ROLE :"old" RENAME TO :"su";
CREATE ROLE :"old" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER DATABASE :"DBNAME" OWNER TO :"old";
-- REASSIGN OWNED refuses the bootstrap role ("required by the database system"), so each
-- object of this database outside the system schemas changes owner one by one. Sequences
-- that belong to a column follow their table; indexes follow their table.
SELECT format('ALTER %s %s OWNER TO %I',
              CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                             WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE'
                             ELSE 'TABLE' END,
              c.oid::regclass, :'old')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relowner = 10 AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                   AND d.objid = c.oid AND d.deptype IN ('a', 'i') AND c.relkind = 'S')
UNION ALL
SELECT format('ALTER %s %s OWNER TO %I', CASE p.prokind WHEN 'p' THEN 'PROCEDURE'
                                         WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
              p.oid::regprocedure, :'old')
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE p.proowner = 10 AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_%'
UNION ALL
SELECT format('ALTER TYPE %s OWNER TO %I', t.oid::regtype, :'old')
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE t.typowner = 10 AND t.typtype IN ('e', 'd', 'r') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_%'
UNION ALL
SELECT format('ALTER SCHEMA %I OWNER TO %I', n.nspname, :'old')
  FROM pg_namespace n
 WHERE n.nspowner = 10 AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_%'
\gexec
SQL
  sql --username "$POSTGRES_USER" --dbname postgres --set h="$helper" <<<'DROP ROLE :"h";'
elif [[ $bootstrap != "$POSTGRES_USER" ]]; then
  echo "database-roles.sh: the bootstrap superuser is $bootstrap, neither $POSTGRES_USER nor" \
    "$DATABASE_OWNER: set auth.superuser to $bootstrap" >&2
  exit 1
else
  # A helper left over by a migration interrupted after its commit.
  sql --username "$POSTGRES_USER" --dbname postgres --set h="$helper" <<'SQL'
SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'h') AS leftover \gset
\if :leftover
DROP ROLE :"h";
\endif
SQL
fi

# The steady state, applied on every start: attributes, passwords from the Secret, ownership.
sql --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" --single-transaction \
  --set owner="$DATABASE_OWNER" --set su="$POSTGRES_USER" <<'SQL'
\getenv owner_password DATABASE_OWNER_PASSWORD
\getenv su_password POSTGRES_PASSWORD
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'owner') AS missing \gset
\if :missing
CREATE ROLE :"owner" LOGIN;
\endif
ALTER ROLE :"owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'owner_password';
ALTER ROLE :"su" PASSWORD :'su_password';
ALTER DATABASE :"DBNAME" OWNER TO :"owner";
SQL
echo "database-roles.sh: $DATABASE_OWNER owns $POSTGRES_DB and is not a superuser"
