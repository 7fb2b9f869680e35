"""The job templates' surveys ask only for what their playbooks' roles accept (surveylib.py).

Positive: every real survey has no problem. Negative: a deliberately broken in-memory copy
of each survey is refused with a message naming the variable, so the check can fail.
"""

import copy

import pytest
import surveylib
from surveylib import REPO, Playbook, job_templates, load_survey, survey_problems

TEMPLATES = {t["survey"]: t for t in job_templates()}


def test_every_playbook_a_user_runs_has_a_job_template():
    assert {t["playbook"] for t in TEMPLATES.values()} == {
        "playbooks/site.yml",
        "playbooks/uninstall.yml",
        "playbooks/rotate_signing_key.yml",
    }
    for template in TEMPLATES.values():
        assert (REPO / template["playbook"]).is_file(), template
        assert (REPO / "awx" / "surveys" / template["survey"]).is_file(), template


def test_the_playbooks_are_read_as_expected():
    """The parser behind the checks sees what the playbooks really do."""
    site = Playbook("playbooks/site.yml")
    assert site.roles == {"postgres", "signing_key", "synapse", "well_known"}
    rotate = Playbook("playbooks/rotate_signing_key.yml")
    assert rotate.roles == {"postgres", "signing_key", "synapse"}
    # The overlap is computed from synapse_wait_timeout and the grace period (not a survey input).
    assert set(rotate.fixed) == {"signing_key_rotate", "signing_key_rotation_overlap"}
    assert rotate.fixed["signing_key_rotate"] is True
    uninstall = Playbook("playbooks/uninstall.yml")
    assert uninstall.roles == set()
    assert uninstall.switches == {"purge": False}
    assert uninstall.reads_only_through_bool("purge")
    assert surveylib.shared_variables() >= {"matrix_server_name", "matrix_namespace"}


@pytest.mark.parametrize("survey", sorted(TEMPLATES))
def test_survey_matches_its_playbook(survey):
    assert survey_problems(TEMPLATES[survey]["playbook"], load_survey(survey)) == []


def question(survey, variable):
    return next(q for q in survey["spec"] if q["variable"] == variable)


def _rename_namespace(s):
    question(s, "matrix_namespace")["variable"] = "matrix_namespce"


def _extra_choice(s):
    question(s, "synapse_image_pull_policy")["choices"].append("Sometimes")


def _choices_as_text(s):
    q = question(s, "synapse_image_pull_policy")
    q["type"] = "text"
    del q["choices"]


def _tag_as_integer(s):
    q = question(s, "synapse_image_tag")
    q["type"] = "integer"
    q["default"] = 1


def _ask_a_boolean(s):
    s["spec"].append(
        {
            "question_name": "Install PostgreSQL",
            "variable": "postgres_enabled",
            "type": "multiplechoice",
            "required": True,
            "default": "true",
            "choices": ["true", "false"],
        }
    )


def _drifted_default(s):
    question(s, "synapse_image_tag")["default"] = "v1.0.0"


def _asked_twice(s):
    s["spec"].append(copy.deepcopy(question(s, "matrix_namespace")))


def _default_not_a_choice(s):
    question(s, "synapse_image_pull_policy")["default"] = "Never"


def _unknown_type(s):
    question(s, "matrix_namespace")["type"] = "checkbox"


def _a_dict_option(s):
    s["spec"].append(
        {
            "question_name": "Resources",
            "variable": "synapse_resources",
            "type": "textarea",
            "required": False,
        }
    )


BROKEN_DEPLOY = [
    (_rename_namespace, "matrix_namespce: not a variable"),
    (_extra_choice, "choices ['Sometimes'] are not among the role's choices"),
    (_choices_as_text, "must be a multiplechoice"),
    (_tag_as_integer, "cannot deliver argument_specs type str"),
    (_ask_a_boolean, "postgres_enabled (role postgres): a boolean option cannot be a survey question"),
    (_drifted_default, "synapse_image_tag: survey default 'v1.0.0' differs"),
    (_asked_twice, "matrix_namespace: asked more than once"),
    (_default_not_a_choice, "default 'Never' is not among the choices"),
    (_unknown_type, "survey type 'checkbox' is not one AWX knows"),
    (_a_dict_option, "cannot deliver argument_specs type dict"),
]


@pytest.mark.parametrize(("breakage", "message"), BROKEN_DEPLOY, ids=[b[0].__name__ for b in BROKEN_DEPLOY])
def test_a_broken_deploy_survey_is_refused(breakage, message):
    survey = copy.deepcopy(load_survey("deploy.yml"))
    breakage(survey)
    problems = survey_problems("playbooks/site.yml", survey)
    assert any(message in p for p in problems), problems


def test_a_survey_may_not_override_what_the_playbook_fixes():
    survey = copy.deepcopy(load_survey("rotate_signing_key.yml"))
    survey["spec"].append(
        {
            "question_name": "Rotate",
            "variable": "signing_key_rotate",
            "type": "text",
            "required": True,
        }
    )
    problems = survey_problems("playbooks/rotate_signing_key.yml", survey)
    assert any(p.startswith("signing_key_rotate: playbooks/rotate_signing_key.yml sets it") for p in problems)


def test_a_variable_of_a_role_the_playbook_does_not_run_is_refused():
    """uninstall.yml runs no role: the deploy survey's image tag means nothing there."""
    survey = copy.deepcopy(load_survey("uninstall.yml"))
    survey["spec"].append(copy.deepcopy(question(load_survey("deploy.yml"), "synapse_image_tag")))
    problems = survey_problems("playbooks/uninstall.yml", survey)
    wanted = "synapse_image_tag: not a variable playbooks/uninstall.yml reads"
    assert any(p.startswith(wanted) for p in problems), problems


def test_a_shared_variable_shadowed_in_the_inventory_is_refused(monkeypatch):
    """If the inventory set postgres_namespace, the survey's matrix_namespace would miss postgres."""
    real = surveylib.inventory_vars()
    shadowed = {**real, "postgres_namespace": "db"}
    monkeypatch.setattr(surveylib, "inventory_vars", lambda inventory="gke": shadowed)
    problems = survey_problems("playbooks/site.yml", load_survey("deploy.yml"))
    wanted = "sets postgres_namespace, so that role would ignore the survey's matrix_namespace"
    assert any(wanted in p for p in problems), problems


def test_a_switch_tested_without_bool_is_refused(tmp_path):
    """A survey sends purge as the text "false", which a bare `when: purge` would refuse."""
    text = (REPO / "playbooks" / "uninstall.yml").read_text()
    assert "when: purge | bool" in text
    broken = tmp_path / "uninstall.yml"
    broken.write_text(text.replace("when: purge | bool", "when: purge"))
    problems = survey_problems(broken, load_survey("uninstall.yml"))
    assert any("must read it through `| bool`" in p for p in problems), problems


def test_a_switch_offered_as_free_text_is_refused():
    survey = copy.deepcopy(load_survey("uninstall.yml"))
    purge = question(survey, "purge")
    purge["type"] = "text"
    del purge["choices"]
    problems = survey_problems("playbooks/uninstall.yml", survey)
    assert any("purge: a true/false switch must be a multiplechoice" in p for p in problems), problems
