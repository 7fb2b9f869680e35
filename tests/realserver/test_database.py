"""PostgreSQL initialised with the chart's initdb arguments is what Synapse needs.

Positive side of the collation case in test_negative.py, and the password path: the
database password Secret (DATABASE_OWNER_PASSWORD of the StatefulSet) and the password the
synapse role wrote into homeserver.yaml are the same, and over TCP it is checked.

Least privilege (issue 12): Synapse's login is the database's owner, not a superuser, both
on a new volume (the image's first start runs the chart's database-roles.sh) and on a volume
initialised by the previous chart, whose superuser WAS Synapse's login (the init container
runs the same script on it). Synapse's own schema tool then opens and upgrades the database
as the ordinary role.
"""

from __future__ import annotations

import subprocess
import sys

import psycopg2
import pytest
import yaml

from . import pods, servers


def tcp_connect(postgres, database_args, **override):
    args = {**database_args, **override}
    return psycopg2.connect(
        host="127.0.0.1",
        port=postgres.port,
        user=args["user"],
        password=args["password"],
        dbname=args["database"],
        connect_timeout=5,
    )


def test_the_chart_database_has_c_collation_and_utf8(postgres, loopback):
    with postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT datcollate, datctype, pg_encoding_to_char(encoding) FROM pg_database WHERE datname = %s",
            (loopback.homeserver["database"]["args"]["database"],),
        )
        assert cur.fetchone() == ("C", "C", "UTF8")
    conn.close()


def test_synapse_logs_in_with_the_password_of_the_secret(postgres, loopback, synapse):
    args = loopback.homeserver["database"]["args"]
    assert args["user"] == postgres.env["DATABASE_OWNER"]
    assert args["password"] == postgres.env["DATABASE_OWNER_PASSWORD"]
    assert args["password"] != postgres.env["POSTGRES_PASSWORD"]
    conn = tcp_connect(postgres, args)
    with conn, conn.cursor() as cur:
        # Synapse has created its schema in this database by now.
        cur.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'users'")
        assert cur.fetchone() == (1,)
    conn.close()


def test_a_wrong_database_password_is_refused(postgres, loopback):
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        tcp_connect(postgres, loopback.homeserver["database"]["args"], password="not-the-password")


ROLE_QUERY = """SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls
                FROM pg_roles WHERE rolname = %s"""
# Objects of Synapse's database that another role than the owner owns (system schemas aside).
FOREIGN_OBJECTS = """SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c
                     JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
                       AND pg_get_userbyid(c.relowner) <> %s"""


def assert_owner_is_ordinary(conn, owner: str, database: str, superuser: str) -> None:
    with conn.cursor() as cur:
        cur.execute(ROLE_QUERY, (owner,))
        assert cur.fetchone() == (False, False, False, False, False)
        cur.execute(ROLE_QUERY, (superuser,))
        assert cur.fetchone()[0] is True
        cur.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (database,))
        assert cur.fetchone() == (owner,)
        cur.execute(FOREIGN_OBJECTS, (owner,))
        assert cur.fetchall() == []


def test_synapse_logs_in_as_an_ordinary_role_that_owns_its_database(postgres, loopback, synapse):
    args = loopback.homeserver["database"]["args"]
    conn = tcp_connect(postgres, args)
    with conn:
        with conn.cursor() as cur:
            cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            assert cur.fetchone() == (False,)
            # Synapse created its schema as that role, so it owns every table.
            cur.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = %s",
                (args["user"],),
            )
            assert cur.fetchone()[0] > 100
        assert_owner_is_ordinary(conn, args["user"], args["database"], postgres.env["POSTGRES_USER"])
        with conn.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("COPY (SELECT 1) TO PROGRAM 'true'")  # a superuser's way onto the host
    conn.close()


def test_the_superuser_logs_in_with_its_own_password(postgres, loopback):
    args = loopback.homeserver["database"]["args"]
    conn = tcp_connect(
        postgres, args, user=postgres.env["POSTGRES_USER"], password=postgres.env["POSTGRES_PASSWORD"]
    )
    conn.close()


def _synapse_schema_tool(config: dict, workdir) -> subprocess.CompletedProcess:
    """Synapse's update_synapse_database: prepares (creates or upgrades) the schema, runs the
    background updates (index builds: the owner's right), with the database of config."""
    path = workdir / "homeserver.yaml"
    path.write_text(yaml.safe_dump(config))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "synapse._scripts.update_synapse_database",
            "--database-config",
            str(path),
            "--run-background-updates",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=workdir,
    )


@pytest.fixture
def database_of_the_previous_chart(artifacts, loopback, paths, workdir, users, synapse):
    """A PostgreSQL set up as the chart did before issue 12 (POSTGRES_USER = Synapse's login,
    the superuser), holding the schema Synapse created as that superuser."""
    new_env = dict(loopback.postgres_env)
    old_env = {
        **new_env,
        "POSTGRES_USER": new_env["DATABASE_OWNER"],
        "POSTGRES_PASSWORD": new_env["DATABASE_OWNER_PASSWORD"],
        "PGDATA": str(workdir / "previous-chart" / "data" / "pgdata"),
        "PGPORT": str(servers.free_port()),
    }
    for name in ("DATABASE_OWNER", "DATABASE_OWNER_PASSWORD"):
        old_env.pop(name)
    user = users["postgres"]
    home = servers.make_dir(workdir / "previous-chart", user)
    server = servers.start_postgres(old_env, home, user, servers.make_dir(home / "socket", user))
    config = dict(loopback.homeserver)
    config["database"] = {**config["database"], "args": {**config["database"]["args"], "port": server.port}}
    try:
        result = _synapse_schema_tool(config, home)
        assert result.returncode == 0, result.stderr[-3000:]
        # From now on the server runs with the new chart's env (same volume).
        server.env = {**new_env, "PGDATA": old_env["PGDATA"], "PGPORT": old_env["PGPORT"]}
        yield server, config, home
    finally:
        server.process.stop()


def test_a_database_of_the_previous_chart_is_converted_and_synapse_still_works(
    database_of_the_previous_chart, postgres, paths, users
):
    server, config, home = database_of_the_previous_chart
    args = config["database"]["args"]
    with server.connect(dbname=args["database"], user=args["user"]) as conn, conn.cursor() as cur:
        cur.execute("SELECT rolsuper, oid = 10 FROM pg_roles WHERE rolname = current_user")
        assert cur.fetchone() == (True, True), "the previous chart's login was the bootstrap superuser"
    conn.close()

    # What the init container database-roles runs on that volume, twice (every start).
    for _ in range(2):
        servers.run_init_scripts(server, pods.postgres_init_dir(paths), users["postgres"])

    superuser = server.env["POSTGRES_USER"]
    with server.connect(dbname=args["database"], user=superuser) as conn:
        assert_owner_is_ordinary(conn, args["user"], args["database"], superuser)
    conn.close()
    # Same password as before for Synapse, over TCP; the superuser's from its own key.
    tcp_connect(server, args).close()
    tcp_connect(server, args, user=superuser, password=server.env["POSTGRES_PASSWORD"]).close()
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        tcp_connect(server, args, user=superuser, password=args["password"])
    # Synapse's schema tool, now as the ordinary owner: opens, checks and upgrades its schema.
    result = _synapse_schema_tool(config, home)
    assert result.returncode == 0, result.stderr[-3000:]
