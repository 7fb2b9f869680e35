"""AWX's Kubernetes credential, reproduced: a ServiceAccount token and K8S_AUTH_* only.

AWX's "OpenShift or Kubernetes API Bearer Token" credential hands a job K8S_AUTH_HOST,
K8S_AUTH_API_KEY, K8S_AUTH_VERIFY_SSL and, with a CA, K8S_AUTH_SSL_CA_CERT (a file it
writes). No kubeconfig, and an AWX inventory (such as one sourced from inventories/gke)
leaves matrix_kubeconfig and matrix_kube_context unset.
"""

import contextlib
import shutil

import verifylib
import yaml

ACCOUNT = "matrixk8s-deployer"
RBAC_FILE = verifylib.REPO / "docs" / "awx-rbac.yml"
FIELD_MANAGER = "matrixk8s-molecule-verify"


def rbac_objects():
    """docs/awx-rbac.yml, moved to the scenario's namespace."""
    text = RBAC_FILE.read_text().replace("namespace: matrix", f"namespace: {verifylib.NAMESPACE}")
    text = text.replace("resourceNames: [matrix]", f"resourceNames: [{verifylib.NAMESPACE}]")
    docs = [doc for doc in yaml.safe_load_all(text) if doc]
    for doc in docs:
        if doc["kind"] == "Namespace":  # the administrator's labels, on the scenario's namespace
            doc["metadata"]["name"] = verifylib.NAMESPACE
    return docs


def apply_rbac(kube):
    from kubernetes.dynamic import DynamicClient

    dynamic = DynamicClient(kube)
    for obj in rbac_objects():
        resource = dynamic.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
        resource.server_side_apply(
            body=obj,
            name=obj["metadata"]["name"],
            namespace=obj["metadata"].get("namespace"),
            field_manager=FIELD_MANAGER,
            force_conflicts=True,
        )


def delete_rbac(kube):
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import NotFoundError

    dynamic = DynamicClient(kube)
    # The Namespace is the scenario's own: its labels stay (the roles keep them anyway).
    for obj in reversed([o for o in rbac_objects() if o["kind"] != "Namespace"]):
        resource = dynamic.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
        with contextlib.suppress(NotFoundError):
            resource.delete(name=obj["metadata"]["name"], namespace=obj["metadata"].get("namespace"))


def mint_token(core, seconds=3600):
    """A bound token for the account from the TokenRequest API, as `kubectl create token` does."""
    from kubernetes import client

    request = client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=seconds)
    )
    answer = core.create_namespaced_service_account_token(ACCOUNT, verifylib.NAMESPACE, request)
    return answer.status.token


def credential_env(kube, token, directory):
    """The environment an AWX job gets from the credential, and nothing that names a kubeconfig.

    HOME moves to an empty directory so not even ~/.kube/config exists, and KUBECONFIG names
    a file that does not exist: if anything fell back to a kubeconfig, it would fail.
    """
    ca = directory / "ca.crt"
    shutil.copyfile(kube.configuration.ssl_ca_cert, ca)
    home = directory / "home"
    home.mkdir(exist_ok=True)
    return {
        "K8S_AUTH_HOST": kube.configuration.host,
        "K8S_AUTH_API_KEY": token,
        "K8S_AUTH_VERIFY_SSL": "true",
        "K8S_AUTH_SSL_CA_CERT": str(ca),
        "KUBECONFIG": str(directory / "no-such-kubeconfig"),
        "HOME": str(home),
    }


def inventory_without_kubeconfig(directory):
    """The scenario's inventory as AWX would hold it: no matrix_kubeconfig/matrix_kube_context.

    Built from the inventory itself (hosts.yml and every group_vars file linked; main.yml
    re-written without the two variables), so nothing is copied into the repository.
    """
    source = verifylib.REPO / "inventories" / verifylib.INVENTORY
    target = directory / "awx-inventory"
    group_vars = target / "group_vars" / "matrix"
    group_vars.mkdir(parents=True, exist_ok=True)
    (target / "hosts.yml").write_text((source / "hosts.yml").read_text())
    for path in sorted((source / "group_vars" / "matrix").glob("*.yml")):
        data = yaml.safe_load(path.read_text()) or {}
        if {"matrix_kubeconfig", "matrix_kube_context"} & set(data):
            for name in ("matrix_kubeconfig", "matrix_kube_context"):
                data.pop(name, None)
            (group_vars / path.name).write_text(yaml.safe_dump(data))
        else:
            (group_vars / path.name).symlink_to(path)
    return target


def token_client(kube, token):
    """An API client that authenticates with the token only."""
    from kubernetes import client

    configuration = client.Configuration()
    configuration.host = kube.configuration.host
    configuration.ssl_ca_cert = kube.configuration.ssl_ca_cert
    configuration.api_key = {"authorization": token}
    configuration.api_key_prefix = {"authorization": "Bearer"}
    return client.ApiClient(configuration)
