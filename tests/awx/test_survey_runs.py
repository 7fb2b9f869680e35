"""Each job template's run, as AWX starts it, gets past every input check.

AWX runs `ansible-playbook <playbook>` on the inventory synced from inventories/gke, with the
survey answers as extra vars (JSON: text stays text, integers are numbers) and the
Kubernetes credential as K8S_AUTH_HOST / K8S_AUTH_API_KEY / K8S_AUTH_VERIFY_SSL, with no
kubeconfig file. Here the credential points at a port nothing listens on, so a sound run
must pass argument validation and every offline check, then fail at its first Kubernetes
call, on that address. A survey value the roles refuse fails earlier, in validation.
"""

import json
import pathlib
import sys

import pytest
from surveylib import job_templates, load_survey

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "playbooks"))
from playbooklib import run_playbook  # noqa: E402

TEMPLATES = job_templates()
UNREACHABLE = "https://127.0.0.1:9"


def survey_answers(survey):
    """The extra vars AWX sends when every question keeps its default."""
    return {q["variable"]: q["default"] for q in survey["spec"] if "default" in q}


def awx_credential_env(home):
    return {
        "K8S_AUTH_HOST": UNREACHABLE,
        "K8S_AUTH_API_KEY": "not-a-real-token",
        "K8S_AUTH_VERIFY_SSL": "False",
        # No kubeconfig anywhere: only the credential's variables can lead to the cluster.
        "HOME": str(home),
        "KUBECONFIG": str(home / "no-such-kubeconfig"),
    }


@pytest.mark.parametrize("template", TEMPLATES, ids=[t["survey"] for t in TEMPLATES])
def test_survey_defaults_pass_validation_and_reach_the_credentials_host(template, tmp_path):
    answers = survey_answers(load_survey(template["survey"]))
    home = tmp_path / "home"
    home.mkdir()
    run = run_playbook(
        template["playbook"].removeprefix("playbooks/"),
        inventory="gke",
        extra_vars=answers,
        env=awx_credential_env(home),
        tmp_path=tmp_path,
    )
    failed = run.failed_task
    assert failed is not None, f"expected a failure at the unreachable API server: {run.describe()}"
    # The first cluster call: a kubernetes.core module, or a role's read through _common and
    # the kubernetes.core.k8s lookup (a no_log set_fact, whose rescue then explains).
    assert failed.action.startswith("kubernetes.core.") or "_common/tasks/read.yml" in failed.path, (
        run.describe()
    )
    explained = [t for t in run.tasks if t.failed][-1]
    assert "127.0.0.1" in json.dumps(explained.result), run.describe()
    passed = {task.name for task in run.before_failure()}
    # The roles' argument validation ran and passed before the first cluster call.
    if template["playbook"] != "playbooks/uninstall.yml":
        assert any("arg spec" in name or "Validate" in name for name in passed), sorted(passed)
    # The survey's values reached the play: the token never shows up in the output.
    assert "not-a-real-token" not in run.stdout + run.stderr


def test_a_value_the_role_refuses_fails_before_the_cluster(tmp_path):
    """The same run with a pull policy outside the role's choices stops in validation."""
    (deploy,) = [t for t in TEMPLATES if t["survey"] == "deploy.yml"]
    answers = {**survey_answers(load_survey("deploy.yml")), "synapse_image_pull_policy": "Sometimes"}
    home = tmp_path / "home"
    home.mkdir()
    run = run_playbook(
        "site.yml", inventory="gke", extra_vars=answers, env=awx_credential_env(home), tmp_path=tmp_path
    )
    failed = run.failed_task
    assert failed is not None, run.describe()
    assert "synapse_image_pull_policy" in failed.message, run.describe()
    assert not any(t.action.startswith("kubernetes.core.") for t in run.before_failure()), run.describe()
