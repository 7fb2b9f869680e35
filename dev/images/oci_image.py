#!/usr/bin/env python3
"""Wrap a root filesystem tarball into a single-layer OCI image archive.

The archive is an OCI image layout (oci-layout, index.json, blobs/sha256/...) in a tar file,
which `ctr -n k8s.io images import` reads. The image's runtime contract (user, environment,
entrypoint, command, ports, working directory, stop signal) comes from a JSON file written
in the OCI image config's own field names, so it reads like the `config` of any image.

Why our own tool: no Docker, no registry and no image builder on our machines; an OCI
image is only a few JSON documents around a tarball.

Usage: oci_image.py ROOTFS.tar CONFIG.json IMAGE_NAME OUT.tar
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import sys
import tarfile
from pathlib import Path

CHUNK = 1 << 20
# Fixed timestamps: the same rootfs and config give the same image digest.
EPOCH = "1970-01-01T00:00:00Z"


def _json_bytes(doc: dict) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def _compress_layer(rootfs: Path, layer: Path) -> tuple[str, str, int]:
    """Gzip ROOTFS into LAYER; return (diff_id, digest, size) as the OCI spec names them."""
    diff = hashlib.sha256()
    # mtime=0 and no file name in the gzip header: reproducible bytes.
    with (
        rootfs.open("rb") as src,
        layer.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz,
    ):
        while chunk := src.read(CHUNK):
            diff.update(chunk)
            gz.write(chunk)
    digest = hashlib.sha256()
    with layer.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return f"sha256:{diff.hexdigest()}", f"sha256:{digest.hexdigest()}", layer.stat().st_size


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def build(rootfs: Path, config_file: Path, image_name: str, out: Path) -> str:
    """Write the OCI archive OUT; return the manifest digest."""
    runtime_config = json.loads(config_file.read_text())
    unknown = set(runtime_config) - {
        "User",
        "Env",
        "Entrypoint",
        "Cmd",
        "ExposedPorts",
        "WorkingDir",
        "StopSignal",
        "Labels",
        "Volumes",
    }
    if unknown:
        raise SystemExit(f"{config_file}: unknown image config fields {sorted(unknown)}")

    work = out.with_name(out.name + ".work")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        layer = work / "layer.tar.gz"
        diff_id, layer_digest, layer_size = _compress_layer(rootfs, layer)
        image_config = _json_bytes(
            {
                "architecture": "amd64",
                "os": "linux",
                "created": EPOCH,
                "config": runtime_config,
                "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                "history": [{"created": EPOCH, "created_by": "matrixk8s dev/images"}],
            }
        )
        config_digest = "sha256:" + hashlib.sha256(image_config).hexdigest()
        manifest = _json_bytes(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": config_digest,
                    "size": len(image_config),
                },
                "layers": [
                    {
                        "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest": layer_digest,
                        "size": layer_size,
                    }
                ],
            }
        )
        manifest_digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
        index = _json_bytes(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": [
                    {
                        "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": manifest_digest,
                        "size": len(manifest),
                        "platform": {"architecture": "amd64", "os": "linux"},
                        # containerd names the imported image after this annotation.
                        "annotations": {
                            "io.containerd.image.name": image_name,
                            "org.opencontainers.image.ref.name": image_name.rsplit(":", 1)[-1],
                        },
                    }
                ],
            }
        )
        tmp = out.with_name(out.name + ".tmp")
        with tarfile.open(tmp, "w") as tar:
            _add_bytes(tar, "oci-layout", _json_bytes({"imageLayoutVersion": "1.0.0"}))
            _add_bytes(tar, "index.json", index)
            _add_bytes(tar, f"blobs/sha256/{config_digest[7:]}", image_config)
            _add_bytes(tar, f"blobs/sha256/{manifest_digest[7:]}", manifest)
            info = tar.gettarinfo(str(layer), f"blobs/sha256/{layer_digest[7:]}")
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            with layer.open("rb") as f:
                tar.addfile(info, f)
        tmp.replace(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return manifest_digest


def main(argv: list[str]) -> int:
    if len(argv) != 5:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    rootfs, config_file, image_name, out = Path(argv[1]), Path(argv[2]), argv[3], Path(argv[4])
    if ":" not in image_name.rsplit("/", 1)[-1]:
        raise SystemExit(f"image name {image_name!r} needs a tag (name:tag)")
    print(build(rootfs, config_file, image_name, out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
