#!/usr/bin/env python3
"""Marks a local image as built for another platform: `image-platform.py
IMAGE ARCH [VARIANT]` (`make image TARGET=...` for the ARM targets).

Docker's classic builder cannot build `FROM scratch` for a foreign
platform (`docker build --platform linux/arm64` fails with "does not match
the specified platform"), and `docker import --platform` is ignored by
daemons before 23. So the image is built for this host's platform with the
ARM binary in it, then its config's `architecture` and `variant` are set by
saving it, rewriting the config (whose digest is the image id) and loading
it back under the same tag. The layers are untouched.
"""
import hashlib
import io
import json
import subprocess
import sys
import tarfile


def rewrite(saved: bytes, arch: str, variant: str) -> bytes:
    src = tarfile.open(fileobj=io.BytesIO(saved))
    files = {m.name: src.extractfile(m).read() for m in src.getmembers() if m.isfile()}
    manifest = json.loads(files.pop("manifest.json"))
    old = manifest[0]["Config"]
    config = json.loads(files.pop(old))
    config["architecture"] = arch
    config.pop("variant", None)
    if variant:
        config["variant"] = variant
    body = json.dumps(config, separators=(",", ":")).encode()
    digest = hashlib.sha256(body).hexdigest()
    new = f"blobs/sha256/{digest}" if old.startswith("blobs/") else f"{digest}.json"
    manifest[0]["Config"] = new
    files[new] = body
    files["manifest.json"] = json.dumps(manifest).encode()
    # Without the OCI index, the daemon loads by manifest.json, which names the new config.
    files.pop("index.json", None)
    files.pop("oci-layout", None)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as dst:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
    return out.getvalue()


def main() -> None:
    image, arch = sys.argv[1], sys.argv[2]
    variant = sys.argv[3] if len(sys.argv) > 3 else ""
    docker = ["docker", "image", "inspect", "-f", "{{.Id}}", image]
    built = subprocess.run(docker, check=True, capture_output=True, text=True).stdout.strip()
    saved = subprocess.run(["docker", "save", image], check=True, capture_output=True).stdout
    loaded = rewrite(saved, arch, variant)
    subprocess.run(["docker", "load", "-q"], input=loaded, check=True, capture_output=True)
    # The host-platform image the tag has left (kept if something else uses it).
    subprocess.run(["docker", "rmi", built], capture_output=True)


if __name__ == "__main__":
    main()
