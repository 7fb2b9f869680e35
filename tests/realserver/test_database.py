"""PostgreSQL initialised with the chart's initdb arguments is what Synapse needs.

Positive side of the collation case in test_negative.py, and the password path: the
database password Secret (POSTGRES_PASSWORD of the StatefulSet) and the password the
synapse role wrote into homeserver.yaml are the same, and over TCP it is checked.
"""

from __future__ import annotations

import psycopg2
import pytest


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
    assert args["password"] == postgres.env["POSTGRES_PASSWORD"]
    conn = tcp_connect(postgres, args)
    with conn, conn.cursor() as cur:
        # Synapse has created its schema in this database by now.
        cur.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'users'")
        assert cur.fetchone() == (1,)
    conn.close()


def test_a_wrong_database_password_is_refused(postgres, loopback):
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        tcp_connect(postgres, loopback.homeserver["database"]["args"], password="not-the-password")
