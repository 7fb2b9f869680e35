"""Check AWX surveys against what the playbooks and roles accept.

A survey answer reaches the play as an extra var, the highest precedence there is: it
overrides the inventory, role defaults and even a role's `vars:` in the playbook. So a
survey question is only sound when

- its variable is one the playbook actually reads: an option in the argument_specs of a role
  the playbook runs, a shared variable documented in docs/architecture.md, or a playbook
  switch the playbook documents in its header (`-e purge=true`);
- it does not ask for a variable the playbook fixes for a role (rotate_signing_key.yml's
  `signing_key_rotate: true`), which the answer would silently override;
- for a shared variable, no role copy of it (`postgres_namespace`, derived from
  `matrix_namespace`) is set in the inventory, or that role would ignore the answer;
- its type is one AWX can deliver for the option's type: a survey sends text (text,
  textarea, password, multiplechoice), integers, floats, or a list of text (multiselect); it
  cannot send a boolean or a mapping, and ansible-core 2.19 refuses the text "false" in a
  conditional, so a role's bool option cannot be asked (a playbook switch may be, as text
  "true"/"false", when the playbook only reads it through `| bool`);
- where the option has `choices`, the question is a multiplechoice (multiselect for a list)
  offering only those choices;
- its default is what a run without the survey would use (the inventory's value, else the
  role's default), so launching with the defaults changes nothing by surprise.

`survey_problems()` returns every violation as text naming the question's variable; the
tests assert it is empty for the real surveys and not empty for broken copies.
"""

import pathlib
import re

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
COLLECTION = "matrixk8s.synapse"

# What AWX can send for each survey type.
SURVEY_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}
TEXT_TYPES = {"text", "textarea", "password", "multiplechoice"}
# argument_specs type -> survey types that deliver it. bool and dict are absent on purpose.
ACCEPTED_SURVEY_TYPES = {
    "str": TEXT_TYPES,
    "path": TEXT_TYPES,
    "raw": TEXT_TYPES | {"integer", "float"},
    "int": {"integer"},
    "float": {"float", "integer"},
    "list": {"multiselect"},
}
BOOL_TEXT = {"true", "false"}


def load_yaml(path):
    return yaml.safe_load(pathlib.Path(path).read_text())


def job_templates():
    return load_yaml(REPO / "awx" / "job_templates.yml")["awx_job_templates"]


def load_survey(name):
    return load_yaml(REPO / "awx" / "surveys" / name)


def role_options(role):
    """Every option of every entry point of roles/<role>/meta/argument_specs.yml."""
    specs = load_yaml(REPO / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]
    options = {}
    for entry in specs.values():
        options.update(entry.get("options", {}))
    return options


def shared_variables():
    """The variables in docs/architecture.md's "Shared variables" table."""
    text = (REPO / "docs" / "architecture.md").read_text()
    section = text.split("## Shared variables", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in section.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`(matrix_\w+)`", first_cell))
    return names


def _role_name(reference):
    if reference.startswith(COLLECTION + "."):
        return reference[len(COLLECTION) + 1 :]
    return reference


def _walk(tasks):
    """Every task, also those inside block, rescue and always."""
    for task in tasks or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from _walk(task.get(key))


class Playbook:
    """What a playbook runs and reads: its roles, the role vars it fixes, its own switches."""

    def __init__(self, relative_path):
        self.path = REPO / relative_path
        self.text = self.path.read_text()
        self.plays = yaml.safe_load(self.text)
        self.roles = set()
        self.fixed = {}
        self.play_vars = {}
        for play in self.plays:
            self.play_vars.update(play.get("vars", {}))
            for entry in play.get("roles", []):
                ref = entry if isinstance(entry, str) else entry.get("role", entry.get("name"))
                self.roles.add(_role_name(ref))
                if isinstance(entry, dict):
                    self.fixed.update(entry.get("vars", {}))
            for task in _walk(play.get("pre_tasks", []) + play.get("tasks", []) + play.get("post_tasks", [])):
                for action in ("ansible.builtin.import_role", "ansible.builtin.include_role"):
                    # _common is internal (the namespace's lock): its inputs are no survey's.
                    if action in task and _role_name(task[action]["name"]) != "_common":
                        self.roles.add(_role_name(task[action]["name"]))
                        # A role variable the playbook sets on the task (rotate_signing_key.yml's
                        # signing_key_rotate), which a survey answer would override.
                        self.fixed.update(task.get("vars", {}))

    @property
    def switches(self):
        """Play variables the header documents as `-e name=value`."""
        header = []
        for line in self.text.splitlines():
            if not line.startswith("#") and line.strip() not in ("", "---"):
                break
            header.append(line)
        documented = set(re.findall(r"-e (\w+)=", "\n".join(header)))
        return {name: self.play_vars[name] for name in documented if name in self.play_vars}

    def conditionals(self):
        """Every conditional of every task: when, failed_when, changed_when, assert's that."""
        found = []

        def walk(tasks):
            for task in tasks or []:
                for key in ("when", "failed_when", "changed_when"):
                    value = task.get(key)
                    found.extend(value if isinstance(value, list) else [value] if value else [])
                found.extend(task.get("ansible.builtin.assert", {}).get("that", []))
                for key in ("block", "rescue", "always"):
                    walk(task.get(key))

        for play in self.plays:
            for key in ("pre_tasks", "tasks", "post_tasks", "handlers"):
                walk(play.get(key))
        return [str(c) for c in found]

    def reads_only_through_bool(self, variable):
        """True when the variable is tested, and every conditional converts it (`| bool`/`| string`).

        ansible-core 2.19 fails a conditional whose value is text, which is what a survey sends.
        """
        uses = [
            (expr, m.end())
            for expr in self.conditionals()
            for m in re.finditer(rf"(?<![\w.]){variable}\b", expr)
        ]
        return bool(uses) and all(re.match(r"\s*\|\s*(bool|string)\b", expr[end:]) for expr, end in uses)


def inventory_vars(inventory="gke"):
    merged = {}
    for path in sorted((REPO / "inventories" / inventory / "group_vars").rglob("*.yml")):
        merged.update(load_yaml(path) or {})
    return merged


def _is_template(value):
    return isinstance(value, str) and "{{" in value


def _as_text(value):
    return str(value).lower() if isinstance(value, bool) else str(value)


def _question_problems(question):
    """Problems of a question on its own: AWX's survey format and a self-consistent default."""
    var = question.get("variable", "<no variable>")
    problems = []
    for key in ("question_name", "variable", "type", "required"):
        if key not in question:
            problems.append(f"{var}: the question has no {key}")
    qtype = question.get("type")
    if qtype not in SURVEY_TYPES:
        problems.append(f"{var}: survey type {qtype!r} is not one AWX knows ({sorted(SURVEY_TYPES)})")
    default = question.get("default")
    if qtype in ("multiplechoice", "multiselect"):
        choices = question.get("choices")
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices) or not choices:
            problems.append(f"{var}: a {qtype} needs a list of text choices, got {choices!r}")
        elif default is not None:
            picked = default if qtype == "multiselect" else [default]
            if not isinstance(picked, list) or not set(picked) <= set(choices):
                problems.append(f"{var}: default {default!r} is not among the choices {choices}")
    elif qtype == "integer" and default is not None and type(default) is not int:
        problems.append(f"{var}: an integer question with the default {default!r}")
    elif qtype in ("text", "textarea", "password") and default is not None:
        if not isinstance(default, str):
            problems.append(f"{var}: a {qtype} question with the non-text default {default!r}")
        elif not question.get("min", 0) <= len(default) <= question.get("max", 1024):
            problems.append(f"{var}: default {default!r} is outside the question's min/max length")
    return problems


def _option_problems(var, question, option, role):
    problems = []
    where = f"{var} (role {role})"
    otype = option.get("type", "str")
    qtype = question.get("type")
    if otype == "bool":
        return [
            f"{where}: a boolean option cannot be a survey question; AWX sends text and "
            f"ansible-core refuses text in a conditional"
        ]
    if qtype not in ACCEPTED_SURVEY_TYPES.get(otype, set()):
        problems.append(f"{where}: survey type {qtype} cannot deliver argument_specs type {otype}")
    choices = option.get("choices")
    if choices:
        wanted = "multiselect" if otype == "list" else "multiplechoice"
        offered = question.get("choices") or []
        if qtype != wanted:
            problems.append(f"{where}: the option has choices {choices}, so the question must be a {wanted}")
        elif not set(offered) <= {str(c) for c in choices}:
            extra = sorted(set(offered) - {str(c) for c in choices})
            problems.append(f"{where}: choices {extra} are not among the role's choices {choices}")
    return problems


def survey_problems(playbook_path, survey, inventory="gke"):
    """Every reason this survey is wrong for this playbook (empty list = sound)."""
    playbook = Playbook(playbook_path)
    options = {role: role_options(role) for role in sorted(playbook.roles)}
    shared = shared_variables()
    switches = playbook.switches
    inventory_values = inventory_vars(inventory)
    problems = []

    spec = survey.get("spec")
    if not isinstance(spec, list) or not spec:
        return [f"{playbook_path}: the survey has no questions (spec)"]
    variables = [q.get("variable") for q in spec]
    for duplicate in sorted({v for v in variables if variables.count(v) > 1}):
        problems.append(f"{duplicate}: asked more than once")

    for question in spec:
        problems += _question_problems(question)
        var = question.get("variable")
        qtype = question.get("type")
        owners = {role: opts[var] for role, opts in options.items() if var in opts}

        if var in playbook.fixed:
            problems.append(
                f"{var}: {playbook_path} sets it for a role ({var}: {playbook.fixed[var]!r}); "
                f"a survey answer would override that"
            )
            continue

        if owners:
            for role, option in owners.items():
                problems += _option_problems(var, question, option, role)
            expected = inventory_values.get(var, next(iter(owners.values())).get("default"))
        elif var in shared:
            copies = sorted(
                name
                for opts in options.values()
                for name, option in opts.items()
                if _is_template(option.get("default")) and re.search(rf"\b{var}\b", option["default"])
            )
            for name in copies:
                if name in inventory_values:
                    problems.append(
                        f"{var}: inventories/{inventory} sets {name}, so that role would ignore the "
                        f"survey's {var}"
                    )
            copy_types = {
                opts[name].get("type", "str") for opts in options.values() for name in copies if name in opts
            }
            otype = copy_types.pop() if len(copy_types) == 1 else "str"
            problems += _option_problems(var, question, {"type": otype}, "shared variable")
            expected = inventory_values.get(var)
        elif var in switches:
            default = switches[var]
            if isinstance(default, bool):
                offered = set(question.get("choices") or [])
                if qtype != "multiplechoice" or not offered <= BOOL_TEXT:
                    problems.append(f"{var}: a true/false switch must be a multiplechoice of 'true'/'false'")
                if not playbook.reads_only_through_bool(var):
                    problems.append(
                        f"{var}: {playbook_path} must read it through `| bool` (a survey sends text)"
                    )
            expected = default
        else:
            known = sorted({name for opts in options.values() for name in opts} | shared | set(switches))
            problems.append(
                f"{var}: not a variable {playbook_path} reads (roles {sorted(playbook.roles) or 'none'}; "
                f"{len(known)} known names, e.g. {known[:6]})"
            )
            continue

        default = question.get("default")
        comparable = default is not None and expected is not None and not _is_template(expected)
        if comparable and _as_text(default) != _as_text(expected):
            problems.append(
                f"{var}: survey default {default!r} differs from {expected!r}, what a run without "
                f"the survey uses (inventories/{inventory} or the role default)"
            )
    return problems
