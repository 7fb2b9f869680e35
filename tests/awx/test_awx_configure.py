"""playbooks/awx_configure.yml: parses, checks its inputs, keeps tokens out of the output,
and uses only what the bundled awx.awx collection accepts.

No AWX server is available here, so the module arguments are checked against the
documentation of the awx.awx version the pinned `ansible` bundle ships (`ansible-doc -j`),
and a full run goes as far as the first call to AWX (a port nothing listens on).
"""

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
VENV_BIN = pathlib.Path(sys.executable).parent
SITE_COLLECTIONS = pathlib.Path(yaml.__file__).resolve().parents[1] / "ansible_collections"
PLAYBOOK = REPO / "playbooks" / "awx_configure.yml"
PLAY = yaml.safe_load(PLAYBOOK.read_text())[0]
AWX_TASKS = [t for t in PLAY["tasks"] if any(k.startswith("awx.awx.") for k in t)]
REQUIRED = [
    "awx_project_scm_url",
    "awx_execution_environment_image",
    "awx_k8s_host",
    "awx_k8s_bearer_token",
]
INPUTS = {
    "awx_project_scm_url": "https://git.example.com/ops/matrixk8s-synapse.git",
    "awx_execution_environment_image": "registry.example.com/matrixk8s-synapse-ee:0.1.0",
    "awx_k8s_host": "https://203.0.113.10",
    "awx_k8s_bearer_token": "k8s-bearer-token-never-printed",
}
# AWX's managed credential type "OpenShift or Kubernetes API Bearer Token"
# (namespace kubernetes_bearer_token) takes exactly these inputs and injects
# K8S_AUTH_HOST, K8S_AUTH_API_KEY, K8S_AUTH_VERIFY_SSL and K8S_AUTH_SSL_CA_CERT from them.
K8S_CREDENTIAL_INPUTS = {"host", "bearer_token", "verify_ssl", "ssl_ca_cert"}


def run(args=(), extra_vars=None, env=None, tmp_path=None):
    cmd = [VENV_BIN / "ansible-playbook", PLAYBOOK, *args]
    if extra_vars:
        path = tmp_path / "vars.json"
        path.write_text(json.dumps(extra_vars))
        cmd += ["-e", f"@{path}"]
    full_env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    for name in [n for n in full_env if n.startswith(("CONTROLLER_", "TOWER_"))]:
        del full_env[name]
    full_env.update(env or {})
    return subprocess.run(cmd, cwd=REPO, env=full_env, capture_output=True, text=True, check=False)


def task_results(result):
    # With -v and more, ansible-playbook prints its own lines before the callback's JSON.
    start = result.stdout.index("{\n") if result.stdout.startswith("{") else result.stdout.index("\n{\n") + 1
    report, _ = json.JSONDecoder().raw_decode(result.stdout[start:])
    return [
        (task["task"]["name"], host_result)
        for play in report["plays"]
        for task in play["tasks"]
        for host_result in task["hosts"].values()
    ]


def test_syntax_check():
    result = run(["--syntax-check"])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("missing", REQUIRED)
def test_a_missing_input_fails_before_awx_is_called(missing, tmp_path):
    given = {name: value for name, value in INPUTS.items() if name != missing}
    result = run(extra_vars=given, env={"CONTROLLER_HOST": "https://127.0.0.1:9"}, tmp_path=tmp_path)
    assert result.returncode != 0
    tasks = task_results(result)
    name, first = tasks[-1]
    assert name == "Check the inputs before anything is sent to AWX"
    failed = [item for item in first["results"] if item.get("failed")]
    assert [item["msg"] for item in failed] == [
        f"{missing} must be set (see the header of playbooks/{PLAYBOOK.name})."
    ]
    assert not any(r.get("action", "").startswith("awx.awx.") for _, r in tasks)


def test_a_full_run_reaches_awx_and_prints_no_token(tmp_path):
    result = run(
        ["-vvv"],
        extra_vars=INPUTS,
        env={
            "CONTROLLER_HOST": "https://127.0.0.1:9",
            "CONTROLLER_OAUTH_TOKEN": "controller-token-never-printed",
        },
        tmp_path=tmp_path,
    )
    assert result.returncode != 0
    tasks = task_results(result)
    name, failed = tasks[-1]
    # Every offline step passed; the first AWX call went to CONTROLLER_HOST.
    assert name == "Register the execution environment image"
    assert "https://127.0.0.1:9/api/v2/execution_environments/" in failed["msg"]
    surveys = dict(tasks)["Read the job templates' surveys"]
    assert all(not r.get("failed") for r in surveys["results"])
    output = result.stdout + result.stderr
    assert "k8s-bearer-token-never-printed" not in output
    assert "controller-token-never-printed" not in output


def module_doc(module):
    result = subprocess.run(
        [VENV_BIN / "ansible-doc", "-j", module], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)[module]["doc"]


@pytest.fixture(scope="module")
def docs():
    modules = {key for task in AWX_TASKS for key in task if key.startswith("awx.awx.")}
    return {module: module_doc(module) for module in modules}


def accepted(doc):
    names = {}
    for name, option in doc["options"].items():
        names[name] = option
        for alias in option.get("aliases", []):
            names[alias] = option
    return names


def test_every_awx_argument_exists_in_the_bundled_collection(docs):
    assert len(AWX_TASKS) == 6
    for task in AWX_TASKS:
        (module,) = [k for k in task if k.startswith("awx.awx.")]
        options = accepted(docs[module])
        for argument, value in task[module].items():
            assert argument in options, f"{task['name']}: {module} has no argument {argument}"
            choices = options[argument].get("choices")
            if choices and isinstance(value, str) and "{{" not in value:
                assert value in choices, f"{task['name']}: {argument}={value} not in {choices}"


def test_the_connection_defaults_exist_in_every_module_used(docs):
    defaults = PLAY["module_defaults"]["group/awx.awx.controller"]
    for module, doc in docs.items():
        missing = set(defaults) - set(accepted(doc))
        assert not missing, f"{module} lacks {missing}"
    runtime = yaml.safe_load((SITE_COLLECTIONS / "awx" / "awx" / "meta" / "runtime.yml").read_text())
    group = set(runtime["action_groups"]["controller"])
    assert {module.removeprefix("awx.awx.") for module in docs} <= group


def test_the_kubernetes_credential_is_the_bearer_token_type(docs):
    (task,) = [t for t in AWX_TASKS if "awx.awx.credential" in t]
    args = task["awx.awx.credential"]
    assert task["no_log"] is True
    assert args["credential_type"] == "OpenShift or Kubernetes API Bearer Token"
    documented = " ".join(
        " ".join(docs["awx.awx.credential"]["options"]["credential_type"]["description"]).split()
    )
    assert "OpenShift or Kubernetes API Bearer Token" in documented
    assert set(re.findall(r"'(\w+)':", args["inputs"])) == K8S_CREDENTIAL_INPUTS


def test_every_job_template_gets_the_credential_and_a_survey():
    (task,) = [t for t in AWX_TASKS if "awx.awx.job_template" in t]
    args = task["awx.awx.job_template"]
    assert args["credentials"] == ["{{ awx_k8s_credential_name }}"]
    assert args["survey_enabled"] is True
    assert args["survey_spec"] == "{{ awx_surveys[item.survey] }}"
    assert args["ask_variables_on_launch"] is False
    assert task["loop"] == "{{ awx_job_templates }}"


def test_the_docs_explain_running_from_awx():
    """docs/awx.md says how to build the image and create the objects; README.md points
    there and keeps the two commands as its first screen."""
    readme = (REPO / "README.md").read_text()
    assert "(docs/awx.md)" in readme
    section = (REPO / "docs" / "awx.md").read_text()
    assert section.startswith("# Running from AWX\n")
    for needed in (
        "dev/ee/ee_context.sh",
        "registry",
        "playbooks/awx_configure.yml",
        "K8S_AUTH_HOST",
        "RBAC",
    ):
        assert needed in section, needed
    bundled = json.loads((SITE_COLLECTIONS / "awx" / "awx" / "MANIFEST.json").read_text())
    assert f"`awx.awx` {bundled['collection_info']['version']}" in section
    # The first screen stays the two commands.
    first_block = readme.split("```sh", 1)[1].split("```", 1)[0]
    assert [line.split()[:2] for line in first_block.strip().splitlines()] == [
        ["make", "demo"],
        ["make", "test"],
    ]


def test_the_project_has_no_requirements_file_for_awx_to_fetch():
    """AWX's project sync runs `ansible-galaxy collection install -r` on each of these files
    it finds; matrixk8s.synapse is this repository (not on Galaxy) and the execution
    environment carries kubernetes.core, so any of them would only break the sync."""
    for name in (
        "requirements.yml",
        "requirements.yaml",
        "collections/requirements.yml",
        "collections/requirements.yaml",
        "roles/requirements.yml",
        "roles/requirements.yaml",
    ):
        assert not (REPO / name).exists(), name
