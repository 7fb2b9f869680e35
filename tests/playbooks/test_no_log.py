"""Every task that handles secret material has no_log: true, and nothing prints it.

A static scan of the roles' task files, the playbooks and the roles' templates:

- A task whose arguments, name or printed loop items mention secret material (a password,
  base64 coding, a Secret object, the signing key, homeserver.yaml, a variable registered
  from reading a Secret, ...) must set no_log: true.
- assert, fail and debug tasks print only their message: the message must not mention
  secret material (what an assert *tests* is never printed).
- Templates may only reference secret-free variables in their Jinja expressions.

Names of Secrets and keys (``*_secret_name``, ``*_secret_key``) and derived public values
(key IDs, verify keys, lengths) are not secret and are ignored.
"""

import pathlib
import re

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]

# Harmless mentions, removed before looking for secret material.
SAFE = [
    r"\b_synapse_admin\.(username|password_secret_name|password_secret_key)\b",
    r"\b\w*_secret_(name|key)s?\b",
    r"\bpassword_secret_(name|key)\b",
    r"\b\w*password_length\b",
    # The inputs that ask for a new credential, or say what a password change does: booleans.
    r"\b\w*_regenerate_if_missing\b",
    r"\bsynapse_admin_password_logout_devices\b",
    r"\b_synapse_secret_keys\b",
    r"\b_synapse_secrets_(missing|exists)\b",
    # Whether a Secret exists (the read's list, by its length) or a key is stored: no value.
    r"\b_synapse_stored\.(signing_key_exists|secrets_missing)\b",
    r"\b_signing_key_stored\.exists\b",
    # The name of the fact a _common read sets (not its value).
    r"\b_common_read_fact: \w+",
    # What a read is about, for its task's name: plain words (names are checked above).
    r"\b_common_(read|apply)_what: [^\n{]*",
    # The Helm release record and workloads a read returns hold no Secret data.
    r"\b_\w+_cluster\.(release|workloads|synapse_ingress)\b",
    r"\b_synapse_admin_missing_secrets\b",
    # The SMTP password's Secret: its name and key (synapse_email.smtp_pass_secret), whether
    # it was found; the placeholder validate.yml merges with names only those.
    r"\b_synapse_email_password_(ref|placeholder)(\.(secret|key))?\b",
    r"\b_synapse_email_secret_found\b",
    r"\b[\w.]+ (\| default\([^)]*\) )?\| (length|type_debug)\b",
    r"\b[\w.]+ \| matrixk8s\.synapse\.signing_key_(id|verify_key)\b",
    r"\bsynapse_admin_users \| map\(attribute='username'\)",
    r"\bansible_failed_result\.(msg|stderr)\b",
]

# Secret material, or a variable that holds some.
SECRET = re.compile(
    r"password|passwd|b64decode|b64encode|signing_key_generate|signing_key_old_entry"
    # The lookup that creates a key: lookup('matrixk8s.synapse.signing_key') or query(...).
    r"|matrixk8s\.synapse\.signing_key['\"]"
    r"|signing_key_value|_signing_key_(line|current)\b|_synapse_config\b|_synapse_homeserver_yaml"
    r"|\bsynapse_homeserver\b|\bsynapse_admin_users\b|_synapse_admins?\b|_synapse_admins_to_register"
    r"|kind:\s*Secret\b|\.data\b"
    # Facts read from the cluster (they hold Secrets) or decoded from such reads, the merged
    # homeserver.yaml. (What a role passes to _common's apply is scanned as written.)
    r"|_postgres_cluster\b|_signing_key_(cluster|stored)\b|_synapse_(cluster|stored|admin_cluster|email_cluster)\b"
    r"|_synapse_homeserver_merged\b",
    re.IGNORECASE,
)

TASK_KEYWORDS = {
    "name",
    "when",
    "tags",
    "register",
    "no_log",
    "loop",
    "loop_control",
    "vars",
    "block",
    "rescue",
    "always",
    "become",
    "changed_when",
    "failed_when",
    "check_mode",
    "diff",
    "delegate_to",
    "run_once",
    "ignore_errors",
    "until",
    "retries",
    "delay",
    "environment",
    "notify",
    "listen",
    "module_defaults",
    "any_errors_fatal",
    "throttle",
    "timeout",
    "args",
    "collections",
    "debugger",
    "ignore_unreachable",
}
PRINT_ONLY_MESSAGE = {
    "ansible.builtin.assert": ("fail_msg", "msg", "success_msg"),
    "ansible.builtin.fail": ("msg",),
    "ansible.builtin.debug": ("msg", "var"),
}


def _strip_safe(text):
    for pattern in SAFE:
        text = re.sub(pattern, " ", text)
    return text


def _mentions_secret(value):
    """The secret material value's text mentions, if any (all of it: arguments)."""
    text = value if isinstance(value, str) else yaml.safe_dump(value, default_flow_style=False)
    match = SECRET.search(_strip_safe(text))
    return match.group(0) if match else None


def _references_secret(value):
    """The secret material value's Jinja expressions refer to, if any (printed text).

    Plain words in a message ("the password Secret") and string literals inside an
    expression print nothing secret; variables and filters do.
    """
    text = value if isinstance(value, str) else yaml.safe_dump(value, default_flow_style=False)
    for expression in re.findall(r"\{\{(.*?)\}\}|\{%(.*?)%\}", text, re.DOTALL):
        code = _strip_safe("".join(expression))
        code = re.sub(r"'[^']*'|\"[^\"]*\"", "''", code)
        match = SECRET.search(code)
        if match:
            return match.group(0)
    return None


def _walk(tasks, where):
    for task in tasks or []:
        if not isinstance(task, dict):
            continue
        if "block" in task:
            yield from _walk(task["block"], where)
            yield from _walk(task.get("rescue"), where)
            yield from _walk(task.get("always"), where)
            continue
        yield where, task


def _task_files():
    for path in sorted((REPO / "roles").glob("*/tasks/*.yml")):
        yield path, yaml.safe_load(path.read_text()) or []
    for path in sorted((REPO / "playbooks").glob("*.yml")):
        plays = yaml.safe_load(path.read_text()) or []
        tasks = []
        for play in plays:
            for key in ("pre_tasks", "tasks", "post_tasks", "handlers"):
                tasks += play.get(key) or []
        yield path, tasks


def _all_tasks():
    for path, tasks in _task_files():
        for where, task in _walk(tasks, path):
            yield where.relative_to(REPO), task


ALL_TASKS = list(_all_tasks())


def _module(task):
    modules = [key for key in task if key not in TASK_KEYWORDS]
    assert len(modules) == 1, f"cannot tell the module of {task.get('name')}: {modules}"
    return modules[0]


def _ids():
    return [f"{path}: {task.get('name')}" for path, task in ALL_TASKS]


def test_the_scan_sees_the_roles_tasks():
    modules = {_module(task) for _, task in ALL_TASKS}
    assert "kubernetes.core.k8s" in modules
    assert "kubernetes.core.k8s_info" in modules
    assert len(ALL_TASKS) > 60


@pytest.mark.parametrize(("path", "task"), ALL_TASKS, ids=_ids())
def test_task_that_handles_secrets_has_no_log(path, task):
    module = _module(task)
    if task.get("no_log") is True:
        return
    if module in PRINT_ONLY_MESSAGE:
        args = task[module] or {}
        for key in PRINT_ONLY_MESSAGE[module]:
            if key in args:
                found = _references_secret(args[key])
                assert not found, f"{path}: '{task.get('name')}' prints secret material ({found}) in {key}"
        return
    found = _references_secret(task.get("name", ""))
    assert not found, f"{path}: the name of '{task.get('name')}' prints secret material ({found})"
    label = (task.get("loop_control") or {}).get("label")
    if label is not None:
        found = _references_secret(label)
        assert not found, f"{path}: the loop label of '{task.get('name')}' prints secret material ({found})"
    handled = {"args": task[module], "vars": task.get("vars", {})}
    if label is None:
        handled["loop"] = task.get("loop", "")
    found = _mentions_secret(handled)
    assert not found, f"{path}: '{task.get('name')}' handles secret material ({found}) without no_log: true"


def test_k8s_tasks_on_secrets_have_no_log():
    """Belt and braces: reading or writing a Secret object is always no_log."""
    offenders = []
    for path, task in ALL_TASKS:
        module = _module(task)
        if not module.startswith("kubernetes.core.k8s"):
            continue
        args = task[module] or {}
        definition = args.get("definition")
        kind = args.get("kind") or (definition.get("kind") if isinstance(definition, dict) else None)
        if kind == "Secret" and task.get("no_log") is not True:
            offenders.append(f"{path}: {task.get('name')}")
    assert not offenders


@pytest.mark.parametrize("path", sorted((REPO / "roles").glob("*/templates/*.j2")), ids=lambda p: p.name)
def test_templates_reference_no_secret_values(path):
    found = _references_secret(path.read_text())
    assert not found, f"{path.name} references secret material ({found})"


def test_a_secret_mention_is_detected():
    """The scan can fail: these would be flagged."""
    assert _mentions_secret({"msg": "{{ _synapse_database_password }}"})
    assert _mentions_secret({"data": {"signing.key": "{{ _signing_key_line | b64encode }}"}})
    assert _mentions_secret({"definition": {"kind": "Secret"}})
    assert _mentions_secret("{{ synapse_homeserver | to_nice_yaml }}")
    assert _mentions_secret("{{ _synapse_stored.database_password }}")
    assert _mentions_secret("{{ _synapse_homeserver_merged | to_nice_yaml }}")
    assert _mentions_secret({"_common_objects": [{"kind": "Secret", "metadata": {"name": "x"}}]})
    assert not _mentions_secret("{{ _postgres_cluster.release }} {{ _signing_key_stored.exists }}")
    assert _mentions_secret("{{ _synapse_email_cluster.smtp_secret | first }}")
    assert _mentions_secret("{{ _synapse_email_password }}")
    assert not _mentions_secret(
        "Secret {{ _synapse_email_password_ref.secret }}, key {{ _synapse_email_password_ref.key }}"
    )
    assert _mentions_secret({"_new_key": "{{ lookup('matrixk8s.synapse.signing_key') }}"})
    assert not _mentions_secret(
        "Secret {{ synapse_config_secret_name }} key {{ postgres_password_secret_key }}"
    )
    assert not _mentions_secret("{{ signing_key_value | matrixk8s.synapse.signing_key_id }}")
    assert _references_secret("Password {{ _synapse_database_password }}")
    assert _references_secret("{% if x %}{{ signing_key_value }}{% endif %}")
    assert not _references_secret(
        "the password Secret {{ 'signing_key_value' }} {{ postgres_password_secret_name }}"
    )
