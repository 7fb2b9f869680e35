"""Server names and hosts that can never be deployed are refused in play 1, before any
cluster change (issue 12, finding 4).

Each run goes against the local cluster's namespace (whatever it holds: empty or a
deployment of another module) and must fail in a role's validate step naming the variable,
with no task of kubernetes.core and no read, and leave every object's resourceVersion (and
every workload's generation) as it was. Skipped unless dev/cluster/up.sh is running.
"""

import pytest
from playbooklib import NAMESPACE, namespace_state, run_playbook

# (extra vars, role whose validate refuses it, words the message must hold)
CASES = {
    "upper case": ({"matrix_server_name": "Example.COM"}, "synapse", ["lower case (example.com)"]),
    "trailing newline": ({"matrix_server_name": "example.com\n"}, "synapse", ["expected"]),
    "superscript port": ({"matrix_server_name": "example.com:²"}, "synapse", ["ASCII digits"]),
    "Arabic-Indic port": ({"matrix_server_name": "example.com:٨٤٤٨"}, "synapse", ["ASCII digits"]),
    "64-character label": (
        {"matrix_server_name": "a" * 64 + ".example.com"},
        "synapse",
        ["at most 63"],
    ),
    "bracketed IPv4": ({"matrix_server_name": "[1.2.3.4]"}, "synapse", ["without brackets"]),
    "upper-case public host": (
        {"matrix_public_host": "Matrix.example.com"},
        "synapse",
        ["synapse_public_host", "lower case"],
    ),
    "public host with a port": (
        {"matrix_public_host": "matrix.example.com:8448"},
        "synapse",
        ["synapse_public_host", "no port"],
    ),
}


@pytest.fixture(scope="module")
def apps_and_core(local_cluster):
    from kubernetes import client

    return client.CoreV1Api(local_cluster), client.AppsV1Api(local_cluster)


@pytest.mark.parametrize(("extra_vars", "role", "needles"), CASES.values(), ids=list(CASES))
def test_undeployable_name_is_refused_in_play_1_changing_nothing(
    apps_and_core, tmp_path, extra_vars, role, needles
):
    core, apps = apps_and_core
    before = namespace_state(core, apps, NAMESPACE)
    run = run_playbook("site.yml", extra_vars=extra_vars, tmp_path=tmp_path)
    assert run.returncode != 0
    failed = run.explained_failure
    assert failed is not None, run.describe()
    assert failed.path.split(":")[0].endswith(f"roles/{role}/tasks/validate.yml"), run.describe()
    variable = "synapse_public_host" if "matrix_public_host" in extra_vars else "matrix_server_name"
    assert variable in failed.message
    for needle in needles:
        assert needle in failed.message, failed.message
    assert not [t for t in run.tasks if t.action.startswith("kubernetes.core.")], run.describe()
    assert not [t for t in run.tasks if "/tasks/read.yml" in t.path], run.describe()
    assert namespace_state(core, apps, NAMESPACE) == before
