#!/usr/bin/env python3
"""Download one helm release, check it against a pinned SHA-256 and unpack the binary.

Runs in the execution environment's builder stage (awx/execution-environment.yml), so it needs
only the Python standard library: the base image has no curl or tar guarantees.

    fetch_helm.py --version v3.22.0 --sha256 amd64=<hex> --sha256 arm64=<hex> --dest DIR

The checksums are written in the EE definition rather than fetched next to the tarball:
whoever can replace the tarball on the download host can replace its .sha256sum too.
On a mismatch nothing is written to DEST and the exit status is 1.
"""

import argparse
import hashlib
import io
import os
import platform
import tarfile
import urllib.request

# uname -m -> helm's architecture names.
ARCHES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", required=True, help="helm release, e.g. v3.22.0")
    parser.add_argument(
        "--sha256", action="append", required=True, metavar="ARCH=HEX", help="pinned digest per arch"
    )
    parser.add_argument("--dest", required=True, help="directory to write the helm binary into")
    parser.add_argument("--base-url", default="https://get.helm.sh", help="download host")
    parser.add_argument("--arch", default=None, help="override the detected architecture")
    return parser.parse_args(argv)


def fetch(argv=None):
    args = parse_args(argv)
    pins = dict(item.split("=", 1) for item in args.sha256)
    machine = args.arch or platform.machine()
    arch = ARCHES.get(machine, machine)
    if arch not in pins:
        raise SystemExit(f"no pinned helm checksum for architecture {machine} (have: {sorted(pins)})")

    name = f"helm-{args.version}-linux-{arch}.tar.gz"
    with urllib.request.urlopen(f"{args.base_url}/{name}", timeout=120) as response:
        data = response.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != pins[arch].lower():
        raise SystemExit(f"{name}: sha256 {digest} does not match the pinned {pins[arch]}")

    member = f"linux-{arch}/helm"
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        binary = archive.extractfile(member)
        if binary is None:
            raise SystemExit(f"{name}: no {member} inside")
        content = binary.read()
    os.makedirs(args.dest, exist_ok=True)
    target = os.path.join(args.dest, "helm")
    with open(target, "wb") as out:
        out.write(content)
    os.chmod(target, 0o755)
    print(f"{name}: sha256 verified, helm written to {target}")


if __name__ == "__main__":
    fetch()
