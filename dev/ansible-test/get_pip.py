"""Offline stand-in for the pip bootstrap script that ansible-test downloads.

ansible-test builds a fresh virtualenv for each sanity test and fills it by running a
get-pip script fetched from a host our machines cannot reach. It runs that script as
`python get_pip.py --disable-pip-version-check pip==X setuptools==Y ...` inside the new
environment. This does the same job from what we can reach: pip from Python's own
ensurepip, then the requested packages from PyPI. dev/ansible-test/sanity.sh puts it
where ansible-test looks for its cached copy.
"""

import ensurepip
import os
import subprocess
import sys

SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"

# get-pip.py's own flags: without them it would also install setuptools and wheel.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}
pip_args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
# ansible-test runs this with a scrubbed environment; give pip the system's CA bundle
# explicitly so it trusts what the machine's other clients trust.
if os.path.exists(SYSTEM_CA_BUNDLE):
    pip_args[:0] = ["--cert", SYSTEM_CA_BUNDLE]

ensurepip.bootstrap(upgrade=True)
status = subprocess.call([sys.executable, "-m", "pip", "install", "--quiet", *pip_args])
if status == 0 and "--no-setuptools" in sys.argv:
    # ensurepip brings setuptools along; take it out again as get-pip.py would not add it.
    status = subprocess.call([sys.executable, "-m", "pip", "uninstall", "--quiet", "--yes", "setuptools"])
sys.exit(status)
