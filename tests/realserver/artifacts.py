"""Where the suite's inputs come from: what the roles stored and the charts rendered.

First, always: RENDER_PLAYBOOK loads the roles with inventories/local and writes what
they compute (homeserver.yaml, each role's chart values, the admin registration Job from
the synapse role's template), and `helm template` renders each chart with those values.

Preferred source, "cluster": the local cluster (dev/cluster/up.sh, kubeconfig
.local/kubeconfig). The suite reads the objects the roles created and the charts rendered
there: homeserver.yaml's Secret (the one the synapse Deployment mounts), synapse-signing-key,
synapse-secrets and the admin's password Secret, the postgres StatefulSet's container env
(POSTGRES_INITDB_ARGS; POSTGRES_PASSWORD resolved from its secretKeyRef), the synapse and
well-known Deployments' container commands, the well-known ConfigMap (nginx.conf and the
JSON documents). The role deletes its registration Job once it completed, so the Job's
command comes from the render above. If an object is missing, or the cluster holds a
configuration other than the one the current roles and inventory render (a change not
deployed yet), the suite runs `ansible-playbook playbooks/site.yml -i inventories/local`
first and reads again.

Fallback, "offline" (no cluster answers): the render above, with the secrets the roles
would generate generated here. MATRIXK8S_REALSERVER_SOURCE=cluster makes a missing cluster
an error, =offline skips the cluster.

Either way the result is one Artifacts, built from Kubernetes objects by build().
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import pathlib
import re
import secrets
import subprocess
import sys
import tempfile

import yaml

from ansible_collections.matrixk8s.synapse.plugins.module_utils import signing_key

REPO = pathlib.Path(__file__).resolve().parents[2]
KUBECONFIG = REPO / ".local" / "kubeconfig"
HELM = REPO / ".local" / "bin" / "helm"
INVENTORY = REPO / "inventories" / "local"
VENV_BIN = pathlib.Path(sys.executable).parent
CONVERGE_TIMEOUT = 540
# render_roles() runs this playbook with inventories/local. It loads the roles with their
# offline checks only (tasks_from: validate, as site.yml's first play does), so nothing
# reaches a cluster, and writes what they compute into realserver_out. It lives here, not in
# a .yml file, because ansible-lint cannot resolve the collection's roles from tests/ (only
# playbooks/ has the adjacent collections/ link); at run time ANSIBLE_COLLECTIONS_PATH does.
RENDER_PLAYBOOK = """\
- name: Render what the roles would store and install, without a cluster
  hosts: matrix
  connection: local
  gather_facts: false
  tasks:
    - name: Load the postgres role
      ansible.builtin.import_role:
        name: matrixk8s.synapse.postgres
        tasks_from: validate

    - name: Load the synapse role (merges synapse_homeserver)
      ansible.builtin.import_role:
        name: matrixk8s.synapse.synapse
        tasks_from: validate

    - name: Load the well_known role
      ansible.builtin.import_role:
        name: matrixk8s.synapse.well_known
        tasks_from: validate

    # The expression of roles/synapse/tasks/apply.yml, "Render homeserver.yaml ...", over
    # the mapping validate.yml merged (its database password and old_signing_keys are
    # placeholders: RUNTIME_KEYS below).
    - name: Write homeserver.yaml as the synapse role renders it
      ansible.builtin.copy:
        content: >-
          {{ _synapse_config_header
             ~ (_synapse_homeserver_merged | to_nice_yaml(indent=2, sort_keys=true, width=4096)) }}
        dest: "{{ realserver_out }}/homeserver.yaml"
        mode: "0600"
      no_log: true

    - name: Write the chart values each role passes to Helm
      ansible.builtin.copy:
        content: "{{ item.chart_values | to_nice_json }}"
        dest: "{{ realserver_out }}/{{ item.chart }}.values.json"
        mode: "0600"
      loop:
        - {chart: postgres, chart_values: "{{ _postgres_values }}"}
        # The role names homeserver.yaml's Secret after its digest at apply time; offline,
        # the prefix stands for it (the same name the registration Job mounts below).
        - chart: synapse
          chart_values: >-
            {{ _synapse_values
               | combine({'config': {'existingSecret': synapse_config_secret_name}}, recursive=True) }}
        - {chart: well-known, chart_values: "{{ _well_known_values }}"}
      loop_control:
        label: "{{ item.chart }}"

    - name: Write the release names and the first admin user
      ansible.builtin.copy:
        content: >-
          {{ {'namespace': synapse_namespace,
              'postgres': postgres_release_name,
              'synapse': synapse_release_name,
              'well-known': well_known_release_name,
              'admin_users': synapse_admin_users | map(attribute='username') | list} | to_nice_json }}
        dest: "{{ realserver_out }}/releases.json"
        mode: "0600"

    # The names roles/synapse/tasks/register_admin.yml gives the first admin's objects.
    - name: Write the registration Job of the first admin user
      ansible.builtin.template:
        src: "{{ realserver_repo }}/roles/synapse/templates/register-admin-job.yml.j2"
        dest: "{{ realserver_out }}/register-admin-job.yml"
        mode: "0600"
      vars:
        _synapse_config_secret: "{{ synapse_config_secret_name }}"
        _synapse_admin: "{{ synapse_admin_users[0] }}"
        _synapse_admin_slug: >-
          {{ _synapse_admin.username | regex_replace('[^a-z0-9-]', '-') | regex_replace('^-+|-+$', '') }}
        _synapse_admin_job_name: >-
          {{ (synapse_release_name ~ '-register-' ~ _synapse_admin_slug)[:63] | regex_replace('-+$', '') }}
        _synapse_admin_secret_name: >-
          {{ _synapse_admin.password_secret_name
             | default(synapse_release_name ~ '-admin-' ~ _synapse_admin_slug) }}
        _synapse_admin_secret_key: >-
          {{ _synapse_admin.password_secret_key | default('password')
             if _synapse_admin.password_secret_name is defined else 'password' }}
      when: synapse_admin_users | length > 0
"""

# Values the roles generate or read from the cluster, so an offline render cannot know them.
RUNTIME_KEYS = (("database", "args", "password"), ("old_signing_keys",), ("email", "smtp_pass"))


@dataclasses.dataclass(frozen=True)
class Names:
    """Object names; releases and namespace come from the roles' variables."""

    namespace: str
    postgres: str
    synapse: str
    well_known: str
    # Offline only: the cluster's homeserver.yaml Secret is content-addressed
    # (synapse-config-<digest>), found through the Deployment's mount instead.
    config_secret: str = "synapse-config"
    config_key: str = "homeserver.yaml"
    signing_key_secret: str = "synapse-signing-key"
    signing_key_key: str = "signing.key"
    secrets_secret: str = "synapse-secrets"


# The pods the suite runs, and the container of each that it runs.
POD_CONTAINERS = {"postgres": "postgres", "synapse": "synapse", "nginx": "nginx", "admin_job": "register"}


@dataclasses.dataclass
class Artifacts:
    """Everything the programs read, as the roles and charts produce it (pod paths, ports)."""

    source: str  # "cluster" or "offline"
    homeserver_yaml: str  # the Secret the synapse pod mounts at /config, key homeserver.yaml
    signing_key: str  # Secret synapse-signing-key, key signing.key
    synapse_secrets: dict[str, str]  # Secret synapse-secrets
    synapse_command: list[str]  # the synapse container's command
    synapse_image: str  # the synapse container's image
    postgres_env: dict[str, str]  # the postgres container's env, secretKeyRefs resolved
    nginx_command: list[str]  # the well-known nginx container's command
    well_known_files: dict[str, str]  # the well-known ConfigMap's data (nginx.conf, *.json)
    admin_command: list[str]  # the registration Job's command (register_new_matrix_user ...)
    admin_password: str  # the first admin's password Secret, as the Job mounts it
    # The pod specs (POD_CONTAINERS names each one's container), and every Secret and
    # ConfigMap their volumes mount, so the suite can lay the files out as the pods see them.
    pods: dict[str, dict]
    secrets: dict[str, dict[str, str]]
    config_maps: dict[str, dict[str, str]]
    converged: bool = False  # the suite ran site.yml to get here

    @property
    def homeserver(self) -> dict:
        return yaml.safe_load(self.homeserver_yaml)

    def file_in_pod(self, pod: str, path: str) -> str:
        """What the pod's container reads at path: a file of a Secret or ConfigMap volume."""
        spec = self.pods[pod]
        directory, name = path.rsplit("/", 1)
        mounts = container(spec, POD_CONTAINERS[pod]).get("volumeMounts", [])
        mount = next((m for m in mounts if m["mountPath"].rstrip("/") == directory), None)
        assert mount, f"{pod}: nothing is mounted at {directory}, where {path} should be"
        volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
        for kind, ref, store in (
            ("secret", "secretName", self.secrets),
            ("configMap", "name", self.config_maps),
        ):
            if kind in volume:
                data = store[volume[kind][ref]]
                items = volume[kind].get("items") or [{"key": k, "path": k} for k in data]
                key = next((i["key"] for i in items if i["path"] == name), None)
                assert key, f"{pod}: {kind} {volume[kind][ref]} mounted at {directory} has no file {name}"
                return data[key]
        raise AssertionError(f"{pod}: {path} is on volume {volume['name']}, not a Secret or ConfigMap")


@dataclasses.dataclass
class RoleRender:
    """What RENDER_PLAYBOOK and helm template produced."""

    names: Names
    homeserver_yaml: str
    objects: dict  # (kind, name) -> manifest, every chart's and the registration Job
    values: dict  # chart -> the values its role passes


class ClusterUnavailable(RuntimeError):
    pass


# --- shared: Kubernetes objects -> Artifacts --------------------------------------------


def container(pod_spec: dict, name: str) -> dict:
    containers = {c["name"]: c for c in pod_spec["containers"]}
    assert name in containers, f"no container {name!r} in {sorted(containers)}"
    return containers[name]


def _resolve_env(container: dict, secret_value) -> dict[str, str]:
    """The container's env as the process sees it: plain values and secretKeyRefs."""
    env = {}
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        elif "secretKeyRef" in item.get("valueFrom", {}):
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = secret_value(ref["name"], ref["key"])
        else:
            raise AssertionError(f"env {item['name']}: only value and secretKeyRef are handled here")
    return env


def _secret_file(pod_spec: dict, container: dict, mount_path: str) -> tuple[str, str]:
    """(Secret name, key) of the file mounted at mount_path, e.g. /secrets/admin/password."""
    directory, filename = mount_path.rsplit("/", 1)
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == directory)
    volume = next(v for v in pod_spec["volumes"] if v["name"] == mount["name"])
    items = volume["secret"].get("items") or []
    key = next((i["key"] for i in items if i["path"] == filename), filename)
    return volume["secret"]["secretName"], key


def _admin_job(objects: dict) -> dict:
    jobs = [
        o
        for (kind, _), o in sorted(objects.items())
        if kind == "Job"
        # The role's template carries no labels (roles/_common's apply adds them): the Job
        # is the one that runs register_new_matrix_user.
        and any(
            (c.get("command") or [None])[0] == "register_new_matrix_user"
            for c in o["spec"]["template"]["spec"]["containers"]
        )
    ]
    assert jobs, "no admin registration Job: set synapse_admin_users in the inventory"
    return jobs[0]


def build(source: str, objects: dict, secret_value, names: Names) -> Artifacts:
    """Artifacts from Kubernetes objects ((kind, name) -> manifest dict) and a Secret reader.

    secret_value(name, key) returns one decoded value, or the whole Secret when key is None.
    """
    pods = {
        "postgres": objects["StatefulSet", names.postgres]["spec"]["template"]["spec"],
        "synapse": objects["Deployment", names.synapse]["spec"]["template"]["spec"],
        "nginx": objects["Deployment", names.well_known]["spec"]["template"]["spec"],
        "admin_job": _admin_job(objects)["spec"]["template"]["spec"],
    }
    containers = {pod: container(spec, POD_CONTAINERS[pod]) for pod, spec in pods.items()}
    register = containers["admin_job"]
    password_file = register["command"][register["command"].index("--password-file") + 1]
    admin_secret, admin_key = _secret_file(pods["admin_job"], register, password_file)
    secrets_mounted, config_maps = {}, {}
    for spec in pods.values():
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                name = volume["secret"]["secretName"]
                secrets_mounted[name] = secret_value(name, None)
            elif "configMap" in volume:
                name = volume["configMap"]["name"]
                config_maps[name] = dict(objects["ConfigMap", name]["data"])

    return Artifacts(
        source=source,
        homeserver_yaml=secret_value(
            *_secret_file(pods["synapse"], containers["synapse"], "/config/homeserver.yaml")
        ),
        signing_key=secret_value(names.signing_key_secret, names.signing_key_key),
        synapse_secrets=secret_value(names.secrets_secret, None),
        synapse_command=list(containers["synapse"]["command"]),
        synapse_image=containers["synapse"]["image"],
        postgres_env=_resolve_env(containers["postgres"], secret_value),
        nginx_command=list(containers["nginx"]["command"]),
        well_known_files=dict(objects["ConfigMap", names.well_known]["data"]),
        admin_command=list(register["command"]),
        admin_password=secret_value(admin_secret, admin_key),
        pods=pods,
        secrets=secrets_mounted,
        config_maps=config_maps,
    )


# --- the roles' render (both sources) ----------------------------------------------------


def _helm_template(release: str, chart: str, namespace: str, values: pathlib.Path) -> list[dict]:
    result = subprocess.run(
        [str(HELM), "template", release, str(REPO / "charts" / chart), "-n", namespace, "-f", str(values)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def render_roles(database_password: str, extra_vars: dict | None = None) -> RoleRender:
    """RENDER_PLAYBOOK on inventories/local, then helm template with the roles' values.

    extra_vars: role inputs over the inventory's, for a variant of it (tests/realserver/test_email.py).
    """
    with tempfile.TemporaryDirectory(prefix="matrixk8s-render-") as tmp:
        out = pathlib.Path(tmp)
        extra = out / "extra-vars.json"
        extra.write_text(
            json.dumps(
                {
                    "realserver_out": str(out),
                    "realserver_repo": str(REPO),
                    "_synapse_database_password": database_password,
                    # The roles default these from role_path, which a play's own tasks lack;
                    # the same charts, so the same chartDigest as the roles compute.
                    "postgres_chart_path": str(REPO / "charts" / "postgres"),
                    "synapse_chart_path": str(REPO / "charts" / "synapse"),
                    "well_known_chart_path": str(REPO / "charts" / "well-known"),
                    **(extra_vars or {}),
                }
            )
        )
        extra.chmod(0o600)
        playbook = out / "render.yml"
        playbook.write_text(RENDER_PLAYBOOK)
        result = subprocess.run(
            [
                str(VENV_BIN / "ansible-playbook"),
                "-i",
                str(INVENTORY),
                str(playbook),
                "-e",
                f"@{extra}",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=180,
            env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(REPO / "playbooks" / "collections")},
        )
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
        releases = json.loads((out / "releases.json").read_text())
        names = Names(
            namespace=releases["namespace"],
            postgres=releases["postgres"],
            synapse=releases["synapse"],
            well_known=releases["well-known"],
        )
        objects, values = {}, {}
        for chart, release in (
            ("postgres", names.postgres),
            ("synapse", names.synapse),
            ("well-known", names.well_known),
        ):
            values[chart] = json.loads((out / f"{chart}.values.json").read_text())
            for doc in _helm_template(release, chart, names.namespace, out / f"{chart}.values.json"):
                objects[doc["kind"], doc["metadata"]["name"]] = doc
        if (out / "register-admin-job.yml").exists():  # only with synapse_admin_users
            job = yaml.safe_load((out / "register-admin-job.yml").read_text())
            objects["Job", job["metadata"]["name"]] = job
        return RoleRender(names, (out / "homeserver.yaml").read_text(), objects, values)


# --- source "offline" -----------------------------------------------------------------


def from_offline_render(extra_vars: dict | None = None, smtp_password: str | None = None) -> Artifacts:
    """The roles' render, with the secrets the roles would generate once generated here.

    smtp_password: the SMTP password of a render with synapse_email (what the synapse role
    reads from the Secret synapse_email.smtp_pass_secret names).
    """
    database_password = secrets.token_urlsafe(36)
    render = render_roles(database_password, extra_vars)
    names = render.names
    auth = render.values["postgres"]["auth"]
    job = _admin_job(render.objects)
    # The synapse role's apply puts the stored password where validate left a placeholder
    # (roles/synapse/vars/main.yml); a JSON string is a YAML scalar whatever the password.
    placeholder = yaml.safe_load(render.homeserver_yaml)["database"]["args"]["password"]
    homeserver_yaml = render.homeserver_yaml.replace(placeholder, json.dumps(database_password))
    if smtp_password is not None:
        # The same for the SMTP password, which apply.yml reads from the user's Secret.
        placeholder = yaml.safe_load(homeserver_yaml)["email"]["smtp_pass"]
        assert placeholder.startswith("<the password in Secret "), "synapse_email names no password Secret"
        homeserver_yaml = homeserver_yaml.replace(placeholder, json.dumps(smtp_password))
    store = {
        names.config_secret: {names.config_key: homeserver_yaml},
        names.signing_key_secret: {names.signing_key_key: signing_key.signing_key_generate() + "\n"},
        names.secrets_secret: {
            k: secrets.token_urlsafe(48)
            for k in ("registration_shared_secret", "macaroon_secret_key", "form_secret")
        },
        auth["existingSecret"]: {
            auth["secretKey"]: database_password,
            auth["superuserSecretKey"]: secrets.token_urlsafe(36),
        },
    }
    register = container(job["spec"]["template"]["spec"], "register")
    password_file = register["command"][register["command"].index("--password-file") + 1]
    admin_secret, admin_key = _secret_file(job["spec"]["template"]["spec"], register, password_file)
    store[admin_secret] = {admin_key: secrets.token_urlsafe(24)}

    def secret_value(name, key):
        return dict(store[name]) if key is None else store[name][key]

    return build("offline", render.objects, secret_value, names)


# --- source "cluster" -----------------------------------------------------------------


def _kube():
    from kubernetes import client, config

    if not KUBECONFIG.is_file():
        raise ClusterUnavailable(f"{KUBECONFIG} does not exist (dev/cluster/up.sh creates it)")
    try:
        api = config.new_client_from_config(config_file=str(KUBECONFIG))
        client.VersionApi(api).get_code(_request_timeout=5)
    except Exception as exc:  # any failure to reach the API server means "no cluster"
        raise ClusterUnavailable(f"the cluster of {KUBECONFIG} does not answer: {exc}") from None
    return client, api


def read_cluster(render: RoleRender) -> Artifacts:
    """Artifacts from the live objects (the Job from the render); KeyError names a missing one."""
    client, api = _kube()
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    names = render.names
    ns, timeout = names.namespace, 10
    plain = api.sanitize_for_serialization

    def get(kind, name, reader):
        try:
            return plain(reader(name, ns, _request_timeout=timeout))
        except client.exceptions.ApiException as exc:
            if exc.status == 404:
                raise KeyError(f"{kind} {ns}/{name}") from None
            raise

    objects = {
        ("StatefulSet", names.postgres): get(
            "StatefulSet", names.postgres, apps.read_namespaced_stateful_set
        ),
        ("Deployment", names.synapse): get("Deployment", names.synapse, apps.read_namespaced_deployment),
        ("Deployment", names.well_known): get(
            "Deployment", names.well_known, apps.read_namespaced_deployment
        ),
        ("ConfigMap", names.well_known): get("ConfigMap", names.well_known, core.read_namespaced_config_map),
    }
    # The ConfigMaps the postgres pod (its database-roles.sh) and the synapse pod (its
    # sitecustomize.py) mount.
    for kind, name in (("StatefulSet", names.postgres), ("Deployment", names.synapse)):
        for volume in objects[kind, name]["spec"]["template"]["spec"].get("volumes", []):
            if "configMap" in volume:
                mounted = volume["configMap"]["name"]
                objects["ConfigMap", mounted] = get("ConfigMap", mounted, core.read_namespaced_config_map)
    job = _admin_job(render.objects)
    # The render names homeserver.yaml's Secret by its prefix; the cluster's carries the
    # digest (synapse-config-<digest>): the Job mounts the one the live Deployment mounts.
    mounted = [
        volume["secret"]["secretName"]
        for volume in objects["Deployment", names.synapse]["spec"]["template"]["spec"].get("volumes", [])
        if volume.get("secret", {}).get("secretName", "").startswith(names.config_secret + "-")
    ]
    if mounted:
        job = json.loads(json.dumps(job))
        for volume in job["spec"]["template"]["spec"].get("volumes", []):
            if volume.get("secret", {}).get("secretName") == names.config_secret:
                volume["secret"]["secretName"] = mounted[0]
    objects["Job", job["metadata"]["name"]] = job

    def secret_value(name, key):
        data = get("Secret", name, core.read_namespaced_secret).get("data") or {}
        decoded = {k: base64.b64decode(v).decode() for k, v in data.items()}
        if key is None:
            return decoded
        if key not in decoded:
            raise KeyError(f"Secret {ns}/{name} key {key}")
        return decoded[key]

    return build("cluster", objects, secret_value, names)


def _without_runtime_values(homeserver: dict) -> dict:
    homeserver = json.loads(json.dumps(homeserver))
    for *parents, leaf in RUNTIME_KEYS:
        node = homeserver
        for key in parents:
            node = node.get(key, {})
        node.pop(leaf, None)
    return homeserver


def stale(live: Artifacts, render: RoleRender) -> list[str]:
    """What the cluster holds that the current roles and inventory would not render."""
    names, found = render.names, []
    if _without_runtime_values(live.homeserver) != _without_runtime_values(
        yaml.safe_load(render.homeserver_yaml)
    ):
        found.append("homeserver.yaml's Secret")
    if live.well_known_files != render.objects["ConfigMap", names.well_known]["data"]:
        found.append(f"ConfigMap {names.well_known}")
    for name, data in live.config_maps.items():
        if ("ConfigMap", name) in render.objects and data != render.objects["ConfigMap", name]["data"]:
            found.append(f"ConfigMap {name}")
    pod = render.objects["StatefulSet", names.postgres]["spec"]["template"]["spec"]
    plain_env = {e["name"]: e["value"] for e in container(pod, "postgres")["env"] if "value" in e}
    if {k: live.postgres_env.get(k) for k in plain_env} != plain_env:
        found.append(f"StatefulSet {names.postgres} (env)")
    for pod, kind, name in (
        ("postgres", "StatefulSet", names.postgres),
        ("synapse", "Deployment", names.synapse),
        ("nginx", "Deployment", names.well_known),
    ):
        rendered = _pod_shape(render.objects[kind, name]["spec"]["template"]["spec"], names.config_secret)
        if rendered != _pod_shape(live.pods[pod], names.config_secret):
            found.append(f"{kind} {name} (containers or volumes)")
    return found


def _pod_shape(spec: dict, config_secret: str = "") -> dict:
    """What the suite takes from a pod: images, commands, mounts, volume sources.

    Not the whole spec: the API server fills in defaults (defaultMode, protocol, ...).
    The cluster names homeserver.yaml's Secret <config_secret>-<digest>, the offline render
    <config_secret>: the digest is left out of the shape.
    """
    digest_named = re.compile(re.escape(config_secret) + r"-[0-9a-f]+") if config_secret else None

    def source(volume):
        for kind, ref in (
            ("secret", "secretName"),
            ("configMap", "name"),
            ("persistentVolumeClaim", "claimName"),
        ):
            if kind in volume:
                items = sorted((i["key"], i["path"]) for i in volume[kind].get("items") or [])
                name = volume[kind][ref]
                if kind == "secret" and digest_named and digest_named.fullmatch(name):
                    name = config_secret
                return (kind, name, items)
        return ("other", None, [])

    return {
        "containers": {
            c["name"]: (
                c["image"],
                c.get("command"),
                c.get("args"),
                sorted((m["name"], m["mountPath"]) for m in c.get("volumeMounts", [])),
            )
            for c in spec["containers"]
        },
        "volumes": {v["name"]: source(v) for v in spec.get("volumes", [])},
    }


def converge() -> subprocess.CompletedProcess:
    """playbooks/site.yml on inventories/local, as `make demo` runs it."""
    return subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "playbooks/site.yml", "-i", "inventories/local"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=CONVERGE_TIMEOUT,
        env={**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"},
    )


def from_cluster() -> Artifacts:
    """The live objects, converging first when one is missing or differs from the render."""
    render = render_roles("rendered-offline-placeholder")
    _kube()  # ClusterUnavailable before anything else
    try:
        live = read_cluster(render)
        reason = stale(live, render)
    except KeyError as missing:
        reason = [f"{missing.args[0]} is missing"]
    if not reason:
        return live
    result = converge()
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
        raise RuntimeError(f"{'; '.join(reason)}: ran playbooks/site.yml, which failed:\n{tail}")
    try:
        live = read_cluster(render)
        still = stale(live, render)
    except KeyError as missing:
        still = [f"{missing.args[0]} is missing"]
    if still:
        raise RuntimeError(
            f"playbooks/site.yml succeeded, yet the cluster does not hold what the roles render: "
            f"{'; '.join(still)}. Is something else (uninstall.yml, molecule destroy, another "
            f"converge with other variables) changing namespace {render.names.namespace} meanwhile?"
        )
    live.converged = True
    return live


def load() -> Artifacts:
    """The artifacts from the preferred source available (see the module docstring)."""
    wanted = os.environ.get("MATRIXK8S_REALSERVER_SOURCE", "auto")
    if wanted not in ("auto", "cluster", "offline"):
        raise ValueError(f"MATRIXK8S_REALSERVER_SOURCE={wanted!r}: use auto, cluster or offline")
    if wanted != "offline":
        try:
            return from_cluster()
        except ClusterUnavailable:
            if wanted == "cluster":
                raise
    return from_offline_render()
