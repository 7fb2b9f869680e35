"""charts/synapse: the contract of docs/architecture.md (mounts, ports, probes, checksum,
command) and the behaviour that keeps a deployment alive (strategy, database wait)."""

import socket
import subprocess
import sys

import pytest
from chartlib import (
    CHARTS_DIR,
    REQUIRED_SET,
    container,
    env_map,
    find,
    load_yaml,
    one,
    pod_spec,
    port_number,
    scenario_values,
)

SCENARIOS = ["default", "gke", "kind", "external-db"]
COMMAND = ["python", "-m", "synapse.app.homeserver", "-c", "/config/homeserver.yaml"]


def deployment(docs):
    return one(docs, "Deployment", "synapse")


def synapse_container(docs):
    return container(pod_spec(deployment(docs)), "synapse")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_command_is_the_homeserver_module(rendered, scenario):
    c = synapse_container(rendered(scenario, "synapse"))
    assert c["command"] == COMMAND
    assert "args" not in c


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_probes(rendered, scenario):
    c = synapse_container(rendered(scenario, "synapse"))
    ready = c["readinessProbe"]["httpGet"]
    # GKE's load balancer copies the readiness probe: /health on the serving port.
    assert ready["path"] == "/health"
    assert port_number(c, ready["port"]) == 8008
    for name in ("livenessProbe", "startupProbe"):
        probe = c[name]["httpGet"]
        assert probe["path"] == "/health"
        assert port_number(c, probe["port"]) == 8080
    startup = c["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 300, "too short for migrations"
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"http": 8008, "health": 8080}


@pytest.mark.parametrize("scenario", ["gke", "kind", "external-db"])
def test_checksum_annotation_is_the_passed_value(rendered, scenario):
    expected = load_yaml(scenario_values(scenario, "synapse"))["config"]["checksum"]
    annotations = deployment(rendered(scenario, "synapse"))["spec"]["template"]["metadata"]["annotations"]
    assert annotations["checksum/config"] == expected


def test_checksum_annotation_present_when_not_passed(rendered):
    annotations = deployment(rendered("default", "synapse"))["spec"]["template"]["metadata"]["annotations"]
    assert annotations["checksum/config"] == ""


def test_checksum_wins_over_pod_annotations_and_both_are_kept(helm):
    docs = helm.render(
        "synapse",
        set_values=[
            *REQUIRED_SET["synapse"],
            "config.checksum=abc123",
            "podAnnotations.checksum/config=other",
            "podAnnotations.team=chat",
        ],
    )
    annotations = deployment(docs)["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {"checksum/config": "abc123", "team": "chat"}


@pytest.mark.parametrize("scenario", ["gke", "kind"])
def test_secrets_are_mounted_where_homeserver_yaml_expects_them(rendered, scenario):
    values = load_yaml(scenario_values(scenario, "synapse"))
    spec = pod_spec(deployment(rendered(scenario, "synapse")))
    mounts = {m["mountPath"]: m for m in synapse_container(rendered(scenario, "synapse"))["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}

    config = volumes[mounts["/config"]["name"]]
    assert config["secret"]["secretName"] == values["config"]["existingSecret"]
    assert config["secret"]["items"] == [{"key": "homeserver.yaml", "path": "homeserver.yaml"}]

    key = volumes[mounts["/secrets/signing-key"]["name"]]
    assert key["secret"]["secretName"] == values["signingKey"]["existingSecret"]
    assert key["secret"]["items"] == [{"key": "signing.key", "path": "signing.key"}]

    secrets = volumes[mounts["/secrets/synapse"]["name"]]
    assert secrets["secret"]["secretName"] == values["secrets"]["existingSecret"]

    for path in ("/config", "/secrets/signing-key", "/secrets/synapse"):
        assert mounts[path]["readOnly"] is True
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]]
    # The one ConfigMap is the startup file that keeps the SMTP password out of the log.
    config_maps = [v for v in spec["volumes"] if "configMap" in v]
    assert len(config_maps) == 1, "homeserver.yaml must not be in a ConfigMap"
    assert config_maps[0]["configMap"]["name"].endswith("-python")


@pytest.mark.parametrize("scenario", ["default", "gke"])
def test_python_runs_the_charts_sitecustomize_before_synapse(rendered, scenario):
    """files/sitecustomize.py turns off Twisted's SMTP transcript, which would carry the SMTP
    password into Synapse's log (tests/realserver/test_email.py shows both)."""
    docs = rendered(scenario, "synapse")
    spec = pod_spec(deployment(docs))
    container = synapse_container(docs)
    env = {e["name"]: e.get("value") for e in container["env"]}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert env["PYTHONPATH"] == "/matrixk8s/python"
    mount = mounts["/matrixk8s/python"]
    assert mount["readOnly"] is True
    volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    config_map = one(docs, "ConfigMap", volume["configMap"]["name"])
    shipped = (CHARTS_DIR / "synapse" / "files" / "sitecustomize.py").read_text()
    assert config_map["data"] == {"sitecustomize.py": shipped}
    assert "smtp.SMTPClient.debug = False" in config_map["data"]["sitecustomize.py"]


def test_custom_secret_keys(helm):
    docs = helm.render(
        "synapse", set_values=[*REQUIRED_SET["synapse"], "config.key=hs.yaml", "signingKey.key=my.key"]
    )
    volumes = {v["name"]: v for v in pod_spec(deployment(docs))["volumes"]}
    assert volumes["config"]["secret"]["items"] == [{"key": "hs.yaml", "path": "homeserver.yaml"}]
    assert volumes["signing-key"]["secret"]["items"] == [{"key": "my.key", "path": "signing.key"}]


def test_secrets_not_mounted_without_existing_secret(rendered):
    c = synapse_container(rendered("default", "synapse"))
    assert "/secrets/synapse" not in {m["mountPath"] for m in c["volumeMounts"]}


# --- strategy and media volume ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "strategy"),
    [
        ("default", "Recreate"),
        ("gke", "Recreate"),
        ("kind", "Recreate"),
        ("external-db", "RollingUpdate"),
    ],
)
def test_strategy_of_value_sets(rendered, scenario, strategy):
    assert deployment(rendered(scenario, "synapse"))["spec"]["strategy"]["type"] == strategy


@pytest.mark.parametrize(
    ("settings", "strategy"),
    [
        (["persistence.accessModes={ReadWriteMany}"], "RollingUpdate"),
        (["persistence.accessModes={ReadWriteOncePod}"], "Recreate"),
        (["persistence.accessModes={ReadWriteMany,ReadWriteOnce}"], "Recreate"),
        (["persistence.enabled=false"], "RollingUpdate"),
        (["persistence.existingClaim=media", "persistence.accessModes={ReadWriteOnce}"], "Recreate"),
    ],
)
def test_strategy_follows_access_modes(helm, settings, strategy):
    docs = helm.render("synapse", set_values=[*REQUIRED_SET["synapse"], *settings])
    assert deployment(docs)["spec"]["strategy"]["type"] == strategy


def test_media_pvc(rendered):
    docs = rendered("gke", "synapse")
    pvc = one(docs, "PersistentVolumeClaim", "synapse-media")
    assert pvc["spec"]["storageClassName"] == "standard-rwo"
    assert pvc["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert pvc["spec"]["resources"]["requests"]["storage"] == "50Gi"
    assert pvc["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    volumes = {v["name"]: v for v in pod_spec(deployment(docs))["volumes"]}
    assert volumes["data"]["persistentVolumeClaim"]["claimName"] == "synapse-media"
    mounts = {m["mountPath"]: m["name"] for m in synapse_container(docs)["volumeMounts"]}
    assert mounts["/data"] == "data"


def test_existing_claim_is_used_and_not_created(helm):
    docs = helm.render(
        "synapse", set_values=[*REQUIRED_SET["synapse"], "persistence.existingClaim=old-media"]
    )
    assert find(docs, "PersistentVolumeClaim") == []
    volumes = {v["name"]: v for v in pod_spec(deployment(docs))["volumes"]}
    assert volumes["data"]["persistentVolumeClaim"]["claimName"] == "old-media"


def test_persistence_disabled_uses_emptydir(rendered):
    docs = rendered("external-db", "synapse")
    assert find(docs, "PersistentVolumeClaim") == []
    volumes = {v["name"]: v for v in pod_spec(deployment(docs))["volumes"]}
    assert volumes["data"] == {"name": "data", "emptyDir": {}}


# --- database wait ---------------------------------------------------------------------------


def test_no_init_container_without_database_host(rendered):
    assert "initContainers" not in pod_spec(deployment(rendered("default", "synapse")))


@pytest.mark.parametrize(
    ("scenario", "host", "port", "timeout"),
    [
        ("gke", "synapse-postgres", "5432", "300"),
        ("external-db", "10.42.0.3", "5432", "600"),
    ],
)
def test_init_container_waits_for_database(rendered, scenario, host, port, timeout):
    spec = pod_spec(deployment(rendered(scenario, "synapse")))
    init = container(spec, "wait-for-database", init=True)
    assert init["image"] == container(spec, "synapse")["image"], "must reuse the synapse image"
    assert init["command"][:2] == ["python", "-c"]
    env = {k: v["value"] for k, v in env_map(init).items()}
    assert env["DB_HOST"] == host
    assert env["DB_PORT"] == port
    assert env["WAIT_TIMEOUT_SECONDS"] == timeout


def _run_wait_script(rendered, port, timeout):
    init = container(pod_spec(deployment(rendered("gke", "synapse"))), "wait-for-database", init=True)
    env = {
        "DB_HOST": "127.0.0.1",
        "DB_PORT": str(port),
        "WAIT_TIMEOUT_SECONDS": str(timeout),
        "CONNECT_TIMEOUT_SECONDS": "1",
        "PATH": "/usr/bin:/bin",
    }
    # The rendered program itself, run by this Python (the image runs it with its own).
    return subprocess.run(
        [sys.executable, "-c", init["command"][2]], env=env, capture_output=True, text=True, timeout=30
    )


def test_wait_script_succeeds_when_database_listens(rendered):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        result = _run_wait_script(rendered, server.getsockname()[1], 10)
    assert result.returncode == 0, result.stderr
    assert "accepts connections" in result.stdout


def test_wait_script_fails_after_timeout(rendered):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _run_wait_script(rendered, port, 1)
    assert result.returncode == 1
    assert "waiting for 127.0.0.1" in result.stdout
    assert "gave up" in result.stderr


# --- service and ingress ---------------------------------------------------------------------


def test_service(rendered):
    svc = one(rendered("gke", "synapse"), "Service", "synapse")
    assert svc["spec"]["type"] == "ClusterIP"
    assert svc["spec"]["ports"] == [{"name": "http", "port": 8008, "targetPort": "http", "protocol": "TCP"}]
    assert svc["metadata"]["annotations"]["cloud.google.com/neg"] == '{"ingress": true}'


def test_gke_ingress(rendered):
    ingress = one(rendered("gke", "synapse"), "Ingress", "synapse")
    assert ingress["spec"]["ingressClassName"] == "gce"
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt-prod"
    assert ingress["spec"]["tls"] == [
        {"hosts": ["matrix.example.com"], "secretName": "matrix-example-com-tls"}
    ]
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "matrix.example.com"
    paths = {
        (p["path"], p["pathType"], p["backend"]["service"]["name"], p["backend"]["service"]["port"]["number"])
        for p in rule["http"]["paths"]
    }
    assert paths == {("/_matrix", "Prefix", "synapse", 8008), ("/_synapse/client", "Prefix", "synapse", 8008)}


def test_tls_hosts_default_to_ingress_host(rendered):
    ingress = one(rendered("kind", "synapse"), "Ingress", "synapse")
    assert ingress["spec"]["tls"] == [{"hosts": ["matrix.kind.test"], "secretName": "matrix-kind-test-tls"}]


def test_no_ingress_by_default(rendered):
    assert find(rendered("default", "synapse"), "Ingress") == []


def test_extra_env(rendered):
    env = env_map(synapse_container(rendered("external-db", "synapse")))
    assert env["SYNAPSE_CACHE_FACTOR"]["value"] == "2.0"
