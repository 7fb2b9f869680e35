"""charts/well-known: the delegation JSON, nginx's config, and (when an nginx binary is on
this machine) the real answers nginx gives with that config."""

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from chartlib import (
    container,
    find,
    load_yaml,
    one,
    pod_spec,
    pod_template_meta,
    port_number,
    scenario_values,
)

SCENARIOS = ["default", "gke", "kind", "external-db"]


def configmap(docs):
    return one(docs, "ConfigMap", "well-known")


def nginx_conf(docs):
    return configmap(docs)["data"]["nginx.conf"]


def location(conf: str, name: str) -> str:
    """The body of `location = /.well-known/matrix/<name> {...}` (up to its own closing brace,
    found by indentation, past the nested if block)."""
    pattern = r"^( *)location = /\.well-known/matrix/" + re.escape(name) + r" \{\n(.*?)^\1\}$"
    match = re.search(pattern, conf, re.DOTALL | re.MULTILINE)
    assert match, f"no location for {name}"
    return match.group(2)


@pytest.mark.parametrize("scenario", ["gke", "kind", "external-db"])
def test_json_documents_are_the_values(rendered, scenario):
    values = load_yaml(scenario_values(scenario, "well-known"))
    data = configmap(rendered(scenario, "well-known"))["data"]
    for name in ("server", "client", "support"):
        if values.get(name):
            assert json.loads(data[f"{name}.json"]) == values[name]
        else:
            assert f"{name}.json" not in data


def test_client_location_is_json_with_cors(rendered):
    block = location(nginx_conf(rendered("gke", "well-known")), "client")
    assert "default_type application/json;" in block
    assert 'add_header Access-Control-Allow-Origin "*" always;' in block
    assert "alias /etc/nginx/matrix/client.json;" in block


@pytest.mark.parametrize("name", ["server", "client", "support"])
def test_every_published_document_is_json_with_cors(rendered, name):
    block = location(nginx_conf(rendered("gke", "well-known")), name)
    assert "default_type application/json;" in block
    assert 'add_header Access-Control-Allow-Origin "*" always;' in block


@pytest.mark.parametrize(
    ("scenario", "name"), [("kind", "support"), ("external-db", "server"), ("default", "client")]
)
def test_empty_document_answers_404(rendered, scenario, name):
    block = location(nginx_conf(rendered(scenario, "well-known")), name)
    assert "return 404;" in block
    assert "alias" not in block


def test_nginx_conf_fits_a_read_only_root(rendered):
    conf = nginx_conf(rendered("default", "well-known"))
    assert "pid /tmp/nginx.pid;" in conf
    for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        assert re.search(rf"^\s*{temp}_temp_path /tmp/\S+;", conf, re.MULTILINE), temp
    assert "error_log stderr" in conf
    assert "access_log /dev/stdout;" in conf
    assert "listen 8080;" in conf
    assert "location = /healthz" in conf


def test_pod(rendered):
    docs = rendered("gke", "well-known")
    deploy = one(docs, "Deployment", "well-known")
    spec = pod_spec(deploy)
    c = container(spec, "nginx")
    assert c["image"] == "docker.io/nginxinc/nginx-unprivileged:1.29.5-alpine"
    assert spec["securityContext"]["runAsUser"] == 101
    assert c["command"] == ["nginx", "-e", "stderr", "-c", "/etc/nginx/matrix/nginx.conf"]
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes[mounts["/etc/nginx/matrix"]]["configMap"]["name"] == "well-known"
    assert "emptyDir" in volumes[mounts["/tmp"]]
    for probe in ("readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"]["path"] == "/healthz"
        assert port_number(c, c[probe]["httpGet"]["port"]) == 8080


def test_checksum_follows_the_configmap(helm, rendered):
    def checksum(docs):
        return pod_template_meta(one(docs, "Deployment", "well-known"))["annotations"]["checksum/config"]

    base = rendered("kind", "well-known")
    changed = helm.render(
        "well-known",
        values_files=[scenario_values("kind", "well-known")],
        set_values=["client.m\\.homeserver.base_url=https://other.kind.test"],
    )
    assert re.fullmatch(r"[0-9a-f]{64}", checksum(base))
    assert checksum(base) == checksum(rendered("kind", "well-known"))
    assert checksum(changed) != checksum(base)


def test_service_and_ingress(rendered):
    docs = rendered("gke", "well-known")
    svc = one(docs, "Service", "well-known")
    assert svc["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    ingress = one(docs, "Ingress", "well-known")
    assert ingress["spec"]["ingressClassName"] == "gce"
    assert ingress["metadata"]["annotations"]["networking.gke.io/managed-certificates"] == "example-com"
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "example.com"
    (path,) = rule["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/.well-known/matrix", "Prefix")
    assert path["backend"]["service"] == {"name": "well-known", "port": {"number": 80}}
    assert "tls" not in ingress["spec"]  # the ManagedCertificate does TLS
    assert find(rendered("default", "well-known"), "Ingress") == []


# --- the real nginx -----------------------------------------------------------------------------


def find_nginx():
    for candidate in (os.environ.get("NGINX"), shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def nginx_server(helm):
    """nginx running the chart's ConfigMap (gke values plus an empty support document) as it
    is mounted in the pod, with the pod's paths moved into a temporary directory."""
    binary = find_nginx()
    if binary is None:
        pytest.skip("no nginx binary (set $NGINX or install Debian's nginx-light)")
    port = free_port()
    docs = helm.render(
        "well-known",
        values_files=[scenario_values("gke", "well-known")],
        set_values=[f"containerPort={port}"],
        set_json=["support={}"],
    )
    # Not pytest's tmp_path: its parents are 0700, and nginx started as root serves files
    # from workers running as nobody.
    root = Path(tempfile.mkdtemp(prefix="well-known-nginx-"))
    conf_dir, tmp_dir = root / "conf", root / "tmp"
    conf_dir.mkdir()
    tmp_dir.mkdir()
    for key, text in configmap(docs)["data"].items():
        text = text.replace("/tmp/", f"{tmp_dir}/").replace("/etc/nginx/matrix", str(conf_dir))
        text = text.replace(f"listen {port};", f"listen 127.0.0.1:{port};")
        (conf_dir / key).write_text(text)
    for path in (root, conf_dir, tmp_dir):  # nginx's workers run as nobody when started as root
        path.chmod(0o777 if path == tmp_dir else 0o755)
    proc = subprocess.Popen(
        [binary, "-p", str(root), "-e", "stderr", "-c", str(conf_dir / "nginx.conf")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"nginx did not start: {proc.communicate()[1]}")
            time.sleep(0.05)
    yield port
    proc.terminate()
    proc.wait(timeout=10)
    shutil.rmtree(root, ignore_errors=True)


def get(port, path, method="GET"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request(method, path, headers={"Origin": "https://app.element.io"})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response, body


@pytest.mark.parametrize("name", ["server", "client"])
def test_nginx_serves_json_with_cors(nginx_server, name):
    values = load_yaml(scenario_values("gke", "well-known"))
    response, body = get(nginx_server, f"/.well-known/matrix/{name}")
    assert response.status == 200
    assert response.getheader("Content-Type") == "application/json"
    assert response.getheader("Access-Control-Allow-Origin") == "*"
    assert json.loads(body) == values[name]


def test_nginx_answers_cors_preflight(nginx_server):
    response, _ = get(nginx_server, "/.well-known/matrix/client", method="OPTIONS")
    assert response.status == 204
    assert response.getheader("Access-Control-Allow-Origin") == "*"
    assert "GET" in response.getheader("Access-Control-Allow-Methods")


def test_nginx_empty_support_is_404(nginx_server):
    response, _ = get(nginx_server, "/.well-known/matrix/support")
    assert response.status == 404
    assert response.getheader("Access-Control-Allow-Origin") == "*"


def test_nginx_health_and_unknown_paths(nginx_server):
    assert get(nginx_server, "/healthz")[0].status == 200
    assert get(nginx_server, "/")[0].status == 404
    assert get(nginx_server, "/.well-known/matrix/other")[0].status == 404
