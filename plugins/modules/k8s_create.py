#!/usr/bin/python
# Copyright: matrixk8s.synapse contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Create objects that must never be overwritten (generated Secrets), create only.

kubernetes.core.k8s with state present looks the object up and patches it when it exists:
a Secret another run created between our read and our write would be replaced by a new
value (a new identity, a password the database does not know). This module only ever
POSTs; the API server's AlreadyExists (409) is the atomic answer to "did someone else
create it first", and the module reports it instead of writing.
"""

DOCUMENTATION = r"""
module: k8s_create
short_description: Create Kubernetes objects, never updating one that exists
description:
  - POSTs each definition. An object that already exists is left untouched and listed in
    C(existing); the task then fails unless O(allow_existing) is true.
  - Authentication as kubernetes.core.k8s (kubeconfig, context, K8S_AUTH_* environment).
options:
  definitions:
    description: Objects to create, each with apiVersion, kind and metadata.name.
    type: list
    elements: dict
    required: true
  namespace:
    description: Namespace of the objects.
    type: str
    required: true
  allow_existing:
    description: Report existing objects without failing.
    type: bool
    default: false
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
author: matrixk8s.synapse contributors (@matrixk8s)
version_added: 0.1.0
"""

EXAMPLES = r"""
- name: Create the password Secret unless another run did
  matrixk8s.synapse.k8s_create:
    namespace: matrix
    definitions:
      - {apiVersion: v1, kind: Secret, metadata: {name: db-password}, data: {password: c2VjcmV0}}
  no_log: true
"""

RETURN = r"""
created:
  description: Names of the objects this task created.
  type: list
  returned: always
existing:
  description: Names of the objects that already existed (left untouched).
  type: list
  returned: always
"""

import copy  # noqa: E402 - Ansible reads DOCUMENTATION first

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC  # noqa: E402
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client  # noqa: E402
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule  # noqa: E402

_CONFLICT = 409


def _create_all(client, namespace, definitions, check_mode):
    created, existing = [], []
    for definition in definitions:
        body = copy.deepcopy(definition)
        body.setdefault("metadata", {})["namespace"] = namespace
        resource = client.resource(body["kind"], body["apiVersion"])
        name = body["metadata"]["name"]
        # In --check a server-side dry run still answers AlreadyExists correctly.
        params = {"dry_run": "All"} if check_mode else {}
        try:
            client.create(resource, body, namespace=namespace, **params)
            created.append(name)
        except Exception as error:  # noqa: BLE001 - the client's ApiException has no stable import
            if getattr(error, "status", None) == _CONFLICT:
                existing.append(name)
            else:
                # The reason only (never the body: it may hold the Secret's data).
                raise RuntimeError(
                    f"creating {body['kind']} {name} failed: {getattr(error, 'reason', type(error).__name__)}"
                ) from None
    return created, existing


def main():
    argument_spec = copy.deepcopy(AUTH_ARG_SPEC)
    argument_spec.update(
        definitions={"type": "list", "elements": "dict", "required": True, "no_log": True},
        namespace={"type": "str", "required": True},
        allow_existing={"type": "bool", "default": False},
    )
    module = AnsibleK8SModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        client = get_api_client(module=module)
        created, existing = _create_all(
            client, module.params["namespace"], module.params["definitions"], module.check_mode
        )
    except Exception as error:  # noqa: BLE001 - every failure is reported, without object data
        module.fail_json(msg=str(error))
    result = {"changed": bool(created), "created": created, "existing": existing}
    if existing and not module.params["allow_existing"]:
        module.fail_json(
            msg=(
                f"{', '.join(existing)} already exist(s) in namespace {module.params['namespace']}: "
                "another run created it after this run read the cluster. Nothing was overwritten; "
                "run again to use the stored value."
            ),
            **result,
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
