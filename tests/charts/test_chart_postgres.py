"""charts/postgres: a C-collated database whose password comes from an existing Secret."""

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
    scenario_values,
)

SCENARIOS = ["default", "gke", "kind"]


def statefulset(docs):
    return one(docs, "StatefulSet", "synapse-postgres")


def postgres_container(docs):
    return container(pod_spec(statefulset(docs)), "postgres")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_initdb_args_give_a_c_collated_utf8_database(rendered, scenario):
    args = env_map(postgres_container(rendered(scenario, "postgres")))["POSTGRES_INITDB_ARGS"]["value"]
    assert "--locale=C" in args.split()
    assert "--encoding=UTF8" in args.split()


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_env_and_password_secret(rendered, scenario):
    env = env_map(postgres_container(rendered(scenario, "postgres")))
    assert env["POSTGRES_DB"]["value"] == "synapse"
    # The image's POSTGRES_USER is the superuser; Synapse's login is the database owner.
    assert env["POSTGRES_USER"]["value"] == "postgres"
    assert env["DATABASE_OWNER"]["value"] == "synapse"
    ref = env["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": "synapse-postgres-password", "key": "superuser-password"}
    ref = env["DATABASE_OWNER_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": "synapse-postgres-password", "key": "password"}
    assert "value" not in env["POSTGRES_PASSWORD"]
    assert "value" not in env["DATABASE_OWNER_PASSWORD"]


# Least privilege (issue 12): Synapse's login is not the superuser. The init container runs
# the role script on every start with the same env, mounts and restricted security context
# as the server; the image runs the same script at first start from /docker-entrypoint-initdb.d.
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_database_roles_script_runs_at_every_start(rendered, scenario):
    docs = rendered(scenario, "postgres")
    spec = pod_spec(statefulset(docs))
    init = container(spec, "database-roles", init=True)
    server = postgres_container(docs)
    assert init["env"] == server["env"]
    assert init["volumeMounts"] == server["volumeMounts"]
    assert init["securityContext"] == server["securityContext"]
    assert init["image"] == server["image"]
    assert "bash /docker-entrypoint-initdb.d/database-roles.sh" in init["command"][-1]
    mount = next(m for m in server["volumeMounts"] if m["mountPath"] == "/docker-entrypoint-initdb.d")
    volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    configmap = one(docs, "ConfigMap", volume["configMap"]["name"])
    script = (CHARTS_DIR / "postgres" / "files" / "database-roles.sh").read_text()
    assert configmap["data"] == {"database-roles.sh": script}
    assert "NOSUPERUSER NOCREATEDB NOCREATEROLE" in script


def test_the_superuser_cannot_be_the_database_owner(helm):
    result = helm.template("postgres", set_values=[*REQUIRED_SET["postgres"], "auth.superuser=synapse"])
    assert result.returncode != 0
    assert "auth.superuser and auth.username are both" in result.stderr


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_network_policies_let_only_synapse_reach_postgres(rendered, scenario):
    docs = rendered(scenario, "postgres")
    deny = one(docs, "NetworkPolicy", "synapse-postgres-deny-ingress")["spec"]
    assert deny == {
        "podSelector": {"matchLabels": {"app.kubernetes.io/instance": "synapse-postgres"}},
        "policyTypes": ["Ingress"],
    }
    allow = one(docs, "NetworkPolicy", "synapse-postgres-allow-ingress")["spec"]
    assert allow["podSelector"]["matchLabels"] == statefulset(docs)["spec"]["selector"]["matchLabels"]
    assert allow["ingress"] == [
        {
            "ports": [{"port": "postgresql", "protocol": "TCP"}],
            "from": [
                {
                    "podSelector": {
                        "matchLabels": {
                            "app.kubernetes.io/instance": "synapse",
                            "app.kubernetes.io/component": "homeserver",
                        }
                    }
                }
            ],
        }
    ]


def test_network_policy_clients_are_configurable(helm):
    docs = helm.render(
        "postgres",
        set_values=REQUIRED_SET["postgres"],
        set_json=['networkPolicy.clients=[{"app.kubernetes.io/instance":"chat"},{"role":"db-client"}]'],
    )
    allow = one(docs, "NetworkPolicy", "synapse-postgres-allow-ingress")["spec"]
    assert [peer["podSelector"]["matchLabels"] for peer in allow["ingress"][0]["from"]] == [
        {"app.kubernetes.io/instance": "chat"},
        {"role": "db-client"},
    ]


def test_network_policies_can_be_disabled(helm):
    docs = helm.render("postgres", set_values=[*REQUIRED_SET["postgres"], "networkPolicy.enabled=false"])
    assert find(docs, "NetworkPolicy") == []


@pytest.mark.parametrize("clients", ["[]", "[{}]", '[{"app.kubernetes.io/instance": "bad value!"}]'])
def test_bad_network_policy_clients_are_refused(helm, clients):
    result = helm.template(
        "postgres", set_values=REQUIRED_SET["postgres"], set_json=[f"networkPolicy.clients={clients}"]
    )
    assert result.returncode != 0
    assert "/networkPolicy/clients" in result.stderr


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_pgdata_is_a_subdirectory_of_the_volume(rendered, scenario):
    c = postgres_container(rendered(scenario, "postgres"))
    pgdata = env_map(c)["PGDATA"]["value"]
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    assert pgdata == "/var/lib/postgresql/data/pgdata"
    assert pgdata.startswith(mounts["data"].rstrip("/") + "/")
    assert mounts["run"] == "/var/run/postgresql"
    assert mounts["tmp"] == "/tmp"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_runs_as_the_image_postgres_user(rendered, scenario):
    psc = pod_spec(statefulset(rendered(scenario, "postgres")))["securityContext"]
    assert (psc["runAsUser"], psc["runAsGroup"], psc["fsGroup"]) == (999, 999, 999)


def test_probes_use_pg_isready_over_tcp(rendered):
    c = postgres_container(rendered("default", "postgres"))
    expected = ["pg_isready", "-U", "$(POSTGRES_USER)", "-d", "$(POSTGRES_DB)", "-h", "127.0.0.1"]
    for name in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert c[name]["exec"]["command"] == expected
    # $(VAR) in an exec probe is only expanded from plain (not valueFrom) env entries.
    env = env_map(c)
    assert "value" in env["POSTGRES_USER"]
    assert "value" in env["POSTGRES_DB"]


def test_image(rendered):
    assert postgres_container(rendered("default", "postgres"))["image"] == "docker.io/library/postgres:17"


def test_services(rendered):
    docs = rendered("default", "postgres")
    client = one(docs, "Service", "synapse-postgres")
    headless = one(docs, "Service", "synapse-postgres-headless")
    assert headless["spec"]["clusterIP"] == "None"
    assert "clusterIP" not in client["spec"]
    for svc in (client, headless):
        assert svc["spec"]["ports"][0]["port"] == 5432
        assert svc["spec"]["ports"][0]["targetPort"] == "postgresql"
    assert statefulset(docs)["spec"]["serviceName"] == "synapse-postgres-headless"
    assert postgres_container(docs)["ports"] == [
        {"name": "postgresql", "containerPort": 5432, "protocol": "TCP"}
    ]


@pytest.mark.parametrize("scenario", ["gke", "kind"])
def test_volume_claim_template(rendered, scenario):
    persistence = load_yaml(scenario_values(scenario, "postgres"))["persistence"]
    sts = statefulset(rendered(scenario, "postgres"))
    (vct,) = sts["spec"]["volumeClaimTemplates"]
    assert vct["metadata"]["name"] == "data"
    assert vct["spec"]["storageClassName"] == persistence["storageClass"]
    assert vct["spec"]["resources"]["requests"]["storage"] == persistence["size"]
    assert vct["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert "data" not in {v["name"] for v in pod_spec(sts)["volumes"]}


def test_default_storage_class_is_the_cluster_default(rendered):
    (vct,) = statefulset(rendered("default", "postgres"))["spec"]["volumeClaimTemplates"]
    assert "storageClassName" not in vct["spec"]


def test_persistence_disabled_uses_emptydir(helm):
    docs = helm.render("postgres", set_values=[*REQUIRED_SET["postgres"], "persistence.enabled=false"])
    sts = statefulset(docs)
    assert "volumeClaimTemplates" not in sts["spec"]
    volumes = {v["name"]: v for v in pod_spec(sts)["volumes"]}
    assert volumes["data"] == {"name": "data", "emptyDir": {}}
    assert find(docs, "PersistentVolumeClaim") == []


def test_custom_port_reaches_server_and_probes(helm):
    docs = helm.render("postgres", set_values=[*REQUIRED_SET["postgres"], "containerPort=6543"])
    c = postgres_container(docs)
    assert env_map(c)["PGPORT"]["value"] == "6543"
    assert c["ports"][0]["containerPort"] == 6543
