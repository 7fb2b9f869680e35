"""Each offline-built image honours the contract of the official image it stands in for
(dev/images/README.md): user ids, entrypoint behaviour, environment variables, ports and
writable paths, checked by running the image in the node's containerd with a read-only
root filesystem, as the charts run it."""

from __future__ import annotations

import pytest

from .nodelib import ctr_run, image_config

POSTGRES = "matrixk8s.local/postgres:17"
SYNAPSE = "matrixk8s.local/synapse:v1.163.2"
NGINX = "matrixk8s.local/nginx-unprivileged:1.22"

POSTGRES_WRITABLE = ("/tmp", "/var/run/postgresql", "/var/lib/postgresql/data")
# Start the image's own entrypoint in the background, wait for the server, run SQL.
# Loopback connections are trusted, as initdb's defaults (and the official image) have it;
# every other address needs the password (the deploy test checks that over the network).
POSTGRES_PROBE = r"""
docker-entrypoint.sh postgres >/tmp/server.log 2>&1 &
for i in $(seq 60); do pg_isready -q -h 127.0.0.1 -U "$POSTGRES_USER" && break; sleep 0.5; done
export PGPASSWORD="$POSTGRES_PASSWORD"
psql -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -AtF '|' -c \
  "select current_user, current_database(), datcollate, datctype, pg_encoding_to_char(encoding),
          current_setting('server_version_num')::int / 10000, current_setting('data_directory')
     from pg_database where datname = current_database()"
grep -x 'host all all all scram-sha-256' "$PGDATA/pg_hba.conf"
id -u; id -g
"""


@pytest.mark.parametrize(
    ("image", "user"),
    [(POSTGRES, "999:999"), (SYNAPSE, "991:991"), (NGINX, "101:101")],
)
def test_image_runs_as_the_official_images_user(image, user):
    assert image_config(image)["User"] == user
    proc = ctr_run(image, "sh", "-c", "echo $(id -u):$(id -g)")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == user


def test_postgres_image_declares_the_official_entrypoint_port_and_pgdata():
    config = image_config(POSTGRES)
    assert config["Entrypoint"] == ["docker-entrypoint.sh"]
    assert config["Cmd"] == ["postgres"]
    assert "5432/tcp" in config["ExposedPorts"]
    assert "PGDATA=/var/lib/postgresql/data" in config["Env"]
    assert config["StopSignal"] == "SIGINT"


def test_postgres_first_start_honours_user_password_db_initdb_args_and_pgdata():
    env = {
        "POSTGRES_USER": "synapse",
        "POSTGRES_PASSWORD": "contract-test-password",
        "POSTGRES_DB": "synapse_db",
        "POSTGRES_INITDB_ARGS": "--encoding=UTF8 --locale=C",
        "PGDATA": "/var/lib/postgresql/data/pgdata",
    }
    proc = ctr_run(POSTGRES, "bash", "-c", POSTGRES_PROBE, env=env, tmpfs=POSTGRES_WRITABLE)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[0] == "synapse|synapse_db|C|C|UTF8|17|/var/lib/postgresql/data/pgdata"
    assert lines[1] == "host all all all scram-sha-256"
    assert lines[2:] == ["999", "999"]


def test_postgres_without_a_password_refuses_to_initialise():
    proc = ctr_run(POSTGRES, "docker-entrypoint.sh", "postgres", tmpfs=POSTGRES_WRITABLE)
    assert proc.returncode == 1
    assert "POSTGRES_PASSWORD is not set" in proc.stdout + proc.stderr


def test_postgres_default_locale_is_the_official_images_en_us_utf8():
    # A subdirectory of the mount, as the chart sets it: a non-root server cannot chmod
    # the mount point itself.
    env = {"POSTGRES_PASSWORD": "x", "PGDATA": "/var/lib/postgresql/data/pgdata"}
    probe = POSTGRES_PROBE.replace('"$POSTGRES_USER"', "postgres").replace('"$POSTGRES_DB"', "postgres")
    proc = ctr_run(POSTGRES, "bash", "-c", probe, env=env, tmpfs=POSTGRES_WRITABLE)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[0].startswith("postgres|postgres|en_US.utf8|en_US.utf8|UTF8|17|")


def test_synapse_image_python_runs_the_charts_synapse_with_its_postgres_driver():
    proc = ctr_run(
        SYNAPSE,
        "python",
        "-c",
        "import synapse, psycopg2; print(synapse.__version__, psycopg2.__version__)",
        env={"HOME": "/tmp"},
        tmpfs=("/tmp",),
    )
    assert proc.returncode == 0, proc.stderr
    synapse_version, psycopg2_version = proc.stdout.split()[:2]
    assert synapse_version == "1.163.2"
    assert psycopg2_version.startswith("2.")


def test_synapse_image_data_is_owned_by_991_and_the_root_filesystem_is_read_only():
    proc = ctr_run(
        SYNAPSE, "sh", "-c", "stat -c %u:%g /data; touch /opt/x 2>/dev/null && echo writable || echo ro"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["991:991", "ro"]
    config = image_config(SYNAPSE)
    assert {"8008/tcp", "8448/tcp"} <= set(config["ExposedPorts"])


def test_synapse_image_has_the_admin_registration_command():
    proc = ctr_run(SYNAPSE, "register_new_matrix_user", "--help")
    assert proc.returncode == 0, proc.stderr
    assert "shared-secret" in proc.stdout


def test_nginx_image_serves_on_8080_with_pid_and_temp_files_in_tmp():
    script = r"""
nginx -g 'daemon off;' &
for i in $(seq 20); do (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null && break; sleep 0.2; done
exec 3<>/dev/tcp/127.0.0.1/8080
printf 'GET / HTTP/1.0\r\n\r\n' >&3
head -n 1 <&3
ls /tmp/nginx.pid
"""
    proc = ctr_run(NGINX, "bash", "-c", script, tmpfs=("/tmp",))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # nginx's access log shares stdout with the probe's output.
    assert any(line.startswith("HTTP/1.1 200") for line in proc.stdout.splitlines())
    assert "/tmp/nginx.pid" in proc.stdout
    config = image_config(NGINX)
    assert "8080/tcp" in config["ExposedPorts"]
    assert config["StopSignal"] == "SIGQUIT"


def test_nginx_image_runs_the_charts_command_line():
    # The well-known chart runs `nginx -e stderr -c <its nginx.conf>`; -t checks it parses.
    proc = ctr_run(NGINX, "nginx", "-e", "stderr", "-t", "-c", "/etc/nginx/nginx.conf", tmpfs=("/tmp",))
    assert proc.returncode == 0, proc.stderr
    assert "test is successful" in proc.stderr
