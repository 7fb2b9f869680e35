"""The namespace's lock (issue 12, finding 3): a Lease serialises site.yml, rotation and
uninstall on one namespace.

- A Lease held by another run (created here with a made-up holder) makes site.yml,
  rotate_signing_key.yml and uninstall.yml fail after matrix_lock_wait, naming the holder
  and the kubectl command that frees it, before any write; the Lease stays the holder's.
- A Lease older than its duration (a killed run's) is taken over, saying so.
- Check mode only says who holds it.
- Two site.yml runs started together: one waits for the other (or fails naming it), the
  result is one deployment with one signing key, and no Lease is left.

Skipped unless dev/cluster/up.sh is running. Shares its namespace (playbooklib.NAMESPACE) with the other
modules of its chain (CHAINS in conftest.py): converges over what it finds, and leaves the
deployment of its last test (two runs from an empty namespace) converged.
"""

import base64
import concurrent.futures
import datetime
import re
import time

import pytest
from playbooklib import NAMESPACE, namespace_state, purge, run_playbook

LEASE = "matrixk8s-synapse-lock"
FAKE_HOLDER = "mallory@elsewhere playbooks/site.yml run test0001"
pytestmark = pytest.mark.usefixtures("one_deployment")
# A short wait so a held lock fails fast; polled every second.
SHORT_WAIT = {"matrix_lock_wait": 3, "matrix_lock_poll": 1}


@pytest.fixture(scope="module")
def coordination(local_cluster):
    from kubernetes import client

    return client.CoordinationV1Api(local_cluster)


def _lease_or_none(coordination):
    from kubernetes.client.exceptions import ApiException

    try:
        return coordination.read_namespaced_lease(LEASE, NAMESPACE)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def _hold(coordination, renewed_ago=0, duration=3600):
    """A Lease as another run would hold it, renewed `renewed_ago` seconds ago."""
    from kubernetes import client

    at = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=renewed_ago)
    body = client.V1Lease(
        metadata=client.V1ObjectMeta(name=LEASE),
        spec=client.V1LeaseSpec(
            holder_identity=FAKE_HOLDER, lease_duration_seconds=duration, acquire_time=at, renew_time=at
        ),
    )
    return coordination.create_namespaced_lease(NAMESPACE, body)


def _release(coordination):
    from kubernetes.client.exceptions import ApiException

    try:
        coordination.delete_namespaced_lease(LEASE, NAMESPACE)
    except ApiException as exc:
        if exc.status != 404:
            raise


def _key(core):
    data = core.read_namespaced_secret("synapse-signing-key", NAMESPACE).data
    return base64.b64decode(data["signing.key"]).decode()


@pytest.fixture(scope="module")
def deployed(core, coordination):
    """A converged deployment (over whatever the namespace holds: the tests need one, not a
    fresh one; the last test makes its own from an empty namespace)."""
    _release(coordination)
    run = run_playbook("site.yml")
    assert run.returncode == 0, run.describe()
    assert _lease_or_none(coordination) is None, "site.yml left its lock behind"
    yield
    _release(coordination)


@pytest.fixture
def held(coordination):
    lease = _hold(coordination)
    yield lease
    _release(coordination)


def _assert_refused_by_the_lock(run, started):
    assert run.returncode != 0, run.describe()
    failure = run.explained_failure
    assert failure.path.split(":")[0].endswith("roles/_common/tasks/lock.yml"), run.describe()
    for expected in (
        f"Namespace {NAMESPACE} is locked by {FAKE_HOLDER} since",
        f"(lease {LEASE})",
        f"kubectl -n {NAMESPACE} delete lease {LEASE}",
    ):
        assert expected in failure.message, failure.message
    assert not any(t.changed for t in run.tasks), [t.name for t in run.tasks if t.changed]
    # matrix_lock_wait is 3 s: the run ends soon after, not after the default 300 s.
    assert time.monotonic() - started < 120


@pytest.mark.parametrize("playbook", ["site.yml", "rotate_signing_key.yml", "uninstall.yml"])
def test_a_held_lock_stops_the_run_before_any_write(
    deployed, held, core, apps, coordination, playbook, tmp_path
):
    before = namespace_state(core, apps, NAMESPACE)
    started = time.monotonic()
    run = run_playbook(playbook, extra_vars=SHORT_WAIT, tmp_path=tmp_path)
    _assert_refused_by_the_lock(run, started)
    # It waited (how many polls fit into 3 s depends on the machine's load: not counted).
    waited = [t for t in run.tasks if "Wait until the lock is free or expired" in t.name]
    assert waited, run.describe()
    assert not waited[0].result.get("skipped"), run.describe()
    assert namespace_state(core, apps, NAMESPACE) == before
    # Nothing written before the lock either: no Helm call, no Secret write.
    assert not [
        t.name for t in run.tasks if t.action.startswith("kubernetes.core.") and not t.result.get("skipped")
    ]
    lease = _lease_or_none(coordination)
    assert lease.metadata.uid == held.metadata.uid, "the other run's Lease must stay"
    assert lease.spec.holder_identity == FAKE_HOLDER


def test_check_mode_says_who_holds_the_lock_and_takes_none(deployed, held, coordination):
    run = run_playbook("site.yml", args=["--check"])
    assert run.returncode == 0, run.describe()
    said = [
        t.message for t in run.tasks if "Say who holds the lock" in t.name and not t.result.get("skipped")
    ]
    assert said, run.describe()
    assert FAKE_HOLDER in said[0], said
    assert run.changed == 0
    assert _lease_or_none(coordination).metadata.resource_version == held.metadata.resource_version


def test_an_expired_lock_is_taken_over_saying_so(deployed, core, coordination, tmp_path):
    key = _key(core)
    stale = _hold(coordination, renewed_ago=7200, duration=60)
    try:
        run = run_playbook("site.yml", extra_vars=SHORT_WAIT, tmp_path=tmp_path)
        assert run.returncode == 0, run.describe()
        warned = [t.message for t in run.tasks if "Warn that an expired lock is taken over" in t.name]
        assert warned, run.describe()
        assert FAKE_HOLDER in warned[0], warned
        assert "Taking over" in warned[0], warned
        assert run.changed == 0, [t.name for t in run.tasks if t.changed]
        lease = _lease_or_none(coordination)
        assert lease is None or lease.metadata.uid != stale.metadata.uid
        assert lease is None, "the run that took it over released it at the end"
        assert _key(core) == key
    finally:
        _release(coordination)


def test_a_failed_first_play_releases_the_lock(deployed, coordination, tmp_path):
    """A failure after the lock in play 1 (a conflicting signing_key_value: the signing key
    read refuses it) releases it: a host that fails in play 1 never reaches play 2."""
    from ansible_collections.matrixk8s.synapse.plugins.module_utils import signing_key

    run = run_playbook(
        "site.yml", extra_vars={"signing_key_value": signing_key.signing_key_generate()}, tmp_path=tmp_path
    )
    assert run.returncode != 0
    assert "roles/signing_key/tasks/read.yml" in run.failed_task.path, run.describe()
    assert any("Delete the lock" in t.name and not t.result.get("skipped") for t in run.tasks), run.describe()
    assert _lease_or_none(coordination) is None


def test_two_runs_started_together_deploy_once(deployed, core, coordination):
    """From an empty namespace: the second run waits for the first (the default wait is 300 s,
    a deploy on the simulated nodes takes less) or fails naming it; either way one
    signing key, one deployment, and no Lease is left."""
    purge(core)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda _: run_playbook("site.yml"), range(2)))
    succeeded = [r for r in runs if r.returncode == 0]
    assert succeeded, [r.describe() for r in runs]
    for run in runs:
        if run.returncode != 0:
            failure = run.explained_failure
            assert f"Namespace {NAMESPACE} is locked by " in failure.message, run.describe()
    # One of them met the other's lock: it waited (more than one look) or failed naming it.
    waited = [
        t
        for r in runs
        for t in r.tasks
        if "Wait until the lock is free or expired" in t.name and not t.result.get("skipped")
    ]
    assert waited or len(succeeded) == 1, [r.describe() for r in runs]
    # Both runs (if both got through) showed the same public key: nothing was generated twice.
    shown = {
        match.group(0)
        for r in succeeded
        for t in r.tasks
        if (match := re.match(r"Signing key \S+, verify key \S+", t.message))
    }
    assert len(shown) == 1, shown
    assert _lease_or_none(coordination) is None
    again = run_playbook("site.yml")
    assert again.returncode == 0, again.describe()
    assert again.changed == 0, [t.name for t in again.tasks if t.changed]
