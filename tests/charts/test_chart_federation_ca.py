"""charts/synapse federationCA: a private CA Synapse trusts for outbound federation (issue 13).

The CA is mounted read-only at /federation-ca/ca.crt (the path the synapse role lists in
federation_custom_ca_list) from the ConfigMap or the Secret the user names, and only the
one key; nothing is mounted without it, and naming both is refused (the schema says so,
and the template too, for a chart used without its schema).
"""

import pytest
from chartlib import CHARTS_DIR, REQUIRED_SET, container, find, one, pod_spec

CA_MOUNT = {"name": "federation-ca", "mountPath": "/federation-ca", "readOnly": True}


def _render(helm, *extra):
    docs = helm.render("synapse", set_values=[*REQUIRED_SET["synapse"], *extra])
    spec = pod_spec(one(docs, "Deployment", "synapse"))
    return docs, spec, container(spec, "synapse")


def test_no_ca_mounted_by_default(helm):
    _, spec, c = _render(helm)
    assert "federation-ca" not in {v["name"] for v in spec["volumes"]}
    assert "/federation-ca" not in {m["mountPath"] for m in c["volumeMounts"]}


@pytest.mark.parametrize(
    ("value", "source"),
    [
        ("federationCA.configMapName=private-ca", {"configMap": {"name": "private-ca"}}),
        ("federationCA.secretName=private-ca", {"secret": {"secretName": "private-ca"}}),
    ],
)
def test_ca_is_mounted_read_only_with_only_its_key(helm, value, source):
    _, spec, c = _render(helm, value, "federationCA.key=root.pem")
    assert CA_MOUNT in c["volumeMounts"]
    (volume,) = [v for v in spec["volumes"] if v["name"] == "federation-ca"]
    (kind,) = source
    assert volume[kind] == {
        **source[kind],
        "defaultMode": 0o444,
        "items": [{"key": "root.pem", "path": "ca.crt"}],
    }


def test_both_sources_are_refused(helm):
    result = helm.template(
        "synapse",
        set_values=[*REQUIRED_SET["synapse"], "federationCA.configMapName=a", "federationCA.secretName=b"],
    )
    assert result.returncode != 0
    assert "federationCA" in result.stderr


def test_no_secret_material_in_any_configmap(helm):
    """With TLS and a CA from a Secret, the chart renders one ConfigMap only, its Python startup
    file (files/sitecustomize.py, byte for byte), so neither the Ingress's Secret nor the CA's
    (nor homeserver.yaml) can reach one."""
    docs, spec, _ = _render(
        helm,
        "federationCA.secretName=private-ca",
        "ingress.enabled=true",
        "ingress.host=matrix.example.test",
        "ingress.tls[0].secretName=synapse-tls",
    )
    shipped = (CHARTS_DIR / "synapse" / "files" / "sitecustomize.py").read_text()
    assert [c["data"] for c in find(docs, "ConfigMap")] == [{"sitecustomize.py": shipped}]
    assert [v["configMap"]["name"] for v in spec["volumes"] if "configMap" in v] == ["synapse-python"]
