"""The kernel image: its content hash, its tag and its build.

The tag is ``clarify-kernel:<hash>`` where the hash covers every file in ``sandbox/image``
and the base image name, so a changed Dockerfile or requirement triggers a rebuild and an
unchanged one is never rebuilt.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from pathlib import Path

import docker
from docker.errors import APIError, BuildError, ImageNotFound

from sandbox.errors import ImageBuildError

log = logging.getLogger(__name__)

IMAGE_DIR = Path(__file__).parent / "image"
IMAGE_REPO = "clarify-kernel"
DEFAULT_BASE_IMAGE = "debian:bookworm-slim"
HOST_EXTRA_CA_DIR = Path("/usr/local/share/ca-certificates")


def content_hash(base_image: str = DEFAULT_BASE_IMAGE) -> str:
    """A short hash of the image's build inputs."""
    h = hashlib.sha256(f"base={base_image}\n".encode())
    for path in sorted(
        p for p in IMAGE_DIR.rglob("*") if p.is_file() and "ca" not in p.relative_to(IMAGE_DIR).parts[:1]
    ):
        h.update(str(path.relative_to(IMAGE_DIR)).encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def image_tag(base_image: str = DEFAULT_BASE_IMAGE) -> str:
    """The tag the current sources build to."""
    return f"{IMAGE_REPO}:{content_hash(base_image)}"


def image_exists(client: docker.DockerClient, tag: str) -> bool:
    try:
        client.images.get(tag)
    except ImageNotFound:
        return False
    return True


def build(
    client: docker.DockerClient,
    base_image: str = DEFAULT_BASE_IMAGE,
    *,
    force: bool = False,
    on_log: callable | None = None,  # type: ignore[valid-type]
) -> tuple[str, bool]:
    """Build the kernel image unless its tag exists; returns ``(tag, built)``.

    The build context is assembled in a temporary directory with the host's extra CA
    certificates, so ``pip`` inside the build works behind a TLS-inspecting proxy.
    """
    tag = image_tag(base_image)
    if not force and image_exists(client, tag):
        return tag, False
    with tempfile.TemporaryDirectory(prefix="clarify-image-") as tmp:
        context = Path(tmp) / "context"
        shutil.copytree(IMAGE_DIR, context)
        ca_dir = context / "ca"
        ca_dir.mkdir(exist_ok=True)
        if HOST_EXTRA_CA_DIR.is_dir():
            for crt in HOST_EXTRA_CA_DIR.glob("*.crt"):
                shutil.copyfile(crt, ca_dir / crt.name)
        log.info("building %s from %s", tag, base_image)
        try:
            stream = client.api.build(
                path=str(context),
                tag=tag,
                buildargs={"BASE_IMAGE": base_image},
                rm=True,
                forcerm=True,
                decode=True,
            )
            for chunk in stream:
                if "error" in chunk:
                    raise ImageBuildError(f"docker build failed: {chunk['error'].strip()}")
                line = chunk.get("stream", "").rstrip()
                if line and on_log is not None:
                    on_log(line)
        except (APIError, BuildError) as exc:
            raise ImageBuildError(f"docker build failed: {exc}") from exc
    client.images.get(tag).tag(IMAGE_REPO, "latest")
    return tag, True
