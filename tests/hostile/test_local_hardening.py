"""Local hardening: what another local user could do to a server running as root.

- The kernel directory is the server's own (derived from the data directory, not /tmp): one
  planted as a link, owned by someone else or writable by others is refused at start-up, and
  nothing below it is ever reached through a link.
- Each server labels its kernels with an id derived from its data directory, so a second
  server's start-up reaping leaves the first one's kernels alone.
- The managed Redis has no TCP port, listens on a unix socket in a 0700 directory and
  requires a generated password stored 0600.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import redis.asyncio as aioredis
from redis.exceptions import AuthenticationError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError

from sandbox import DockerLauncher, KernelPool, SandboxConfig, UnsafeSocketDir
from sandbox.launcher import LABEL_SERVER
from sandbox.socketdir import KernelDir, prepare_kernel_root
from server.managed_redis import ManagedRedis
from server.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
OTHER_UID = 4242


@pytest.fixture(autouse=True)
def _needs_root() -> None:
    assert os.geteuid() == 0, "these tests change file ownership and need root (as the suite runs)"


@pytest.fixture
def scratch() -> Iterator[Path]:
    # Short: ipc socket paths must fit in 107 bytes.
    path = Path(tempfile.mkdtemp(prefix="clh-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def precious(scratch: Path) -> Path:
    """What a planted link points at: a directory laid out like a kernel's, with a file to keep."""
    target = scratch / "precious"
    for sub in ("sock", "data", "conn"):
        (target / sub).mkdir(parents=True)
    (target / "data" / "tickets.csv").write_text("keep")
    (target / "keep.txt").write_text("keep")
    os.chmod(target / "sock", 0o755)
    return target


def _untouched(precious: Path) -> None:
    assert (precious / "keep.txt").read_text() == "keep"
    assert (precious / "data" / "tickets.csv").read_text() == "keep"
    assert sorted(os.listdir(precious)) == ["conn", "data", "keep.txt", "sock"]
    st = os.lstat(precious / "sock")
    assert st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o755


# -- the kernel directory itself ----------------------------------------------------------------


def test_a_missing_kernel_dir_is_created_0711_and_owned_by_the_server(scratch: Path) -> None:
    kernel_dir = scratch / "data" / "kernels"
    prepare_kernel_root(kernel_dir)
    st = os.lstat(kernel_dir)
    assert stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) == 0o711


def test_a_kernel_dir_planted_as_a_link_is_refused(scratch: Path, precious: Path) -> None:
    link = scratch / "kernels"
    os.symlink(precious, link)
    with pytest.raises(UnsafeSocketDir, match="symbolic link"):
        prepare_kernel_root(link)
    with pytest.raises(UnsafeSocketDir, match="symbolic link"):
        KernelDir.create(link, "abc123", uid=1000, gid=1000, key="k")
    _untouched(precious)


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757, 0o1777])
def test_a_kernel_dir_writable_by_others_is_refused(scratch: Path, mode: int) -> None:
    kernel_dir = scratch / "kernels"
    kernel_dir.mkdir()
    os.chmod(kernel_dir, mode)
    with pytest.raises(UnsafeSocketDir, match="writable by group or others"):
        prepare_kernel_root(kernel_dir)
    with pytest.raises(UnsafeSocketDir, match="writable by group or others"):
        KernelDir.create(kernel_dir, "abc123", uid=1000, gid=1000, key="k")
    assert os.listdir(kernel_dir) == []
    assert stat.S_IMODE(os.lstat(kernel_dir).st_mode) == mode  # refused, not silently "fixed"


def test_a_kernel_dir_owned_by_another_uid_is_refused(scratch: Path) -> None:
    kernel_dir = scratch / "kernels"
    kernel_dir.mkdir(mode=0o711)
    os.chown(kernel_dir, OTHER_UID, OTHER_UID)
    with pytest.raises(UnsafeSocketDir, match=f"owned by uid {OTHER_UID}"):
        prepare_kernel_root(kernel_dir)
    with pytest.raises(UnsafeSocketDir, match=f"owned by uid {OTHER_UID}"):
        KernelDir.create(kernel_dir, "abc123", uid=1000, gid=1000, key="k")
    assert os.listdir(kernel_dir) == []


async def test_the_pool_refuses_an_unsafe_kernel_dir_at_start_up(
    scratch: Path, sandbox_config: SandboxConfig, docker_client: docker.DockerClient
) -> None:
    kernel_dir = scratch / "kernels"
    kernel_dir.mkdir()
    os.chmod(kernel_dir, 0o777)
    config = sandbox_config.model_copy(update={"kernel_dir": kernel_dir, "server_id": "hardening-refused"})
    with pytest.raises(UnsafeSocketDir, match="writable by group or others"):
        async with KernelPool(DockerLauncher(config, client=docker_client), size=1):
            pass
    assert os.listdir(kernel_dir) == []


def test_the_server_exits_non_zero_with_a_clear_error_on_an_unsafe_kernel_dir(scratch: Path, kernel_image: str) -> None:
    kernel_dir = scratch / "kernels"
    kernel_dir.mkdir()
    os.chown(kernel_dir, OTHER_UID, OTHER_UID)
    env = {
        **os.environ,
        "CLARIFY_DATA_DIR": str(scratch / "data"),
        "CLARIFY_ADMIN_TOKEN": "t" * 40,
        "CLARIFY_SANDBOX__IMAGE": kernel_image,
        "CLARIFY_SANDBOX__KERNEL_DIR": str(kernel_dir),
        "CLARIFY_SANDBOX__SERVER_ID": "hardening-exit",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--port", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    output = (proc.stdout + proc.stderr).decode(errors="replace")
    assert proc.returncode != 0, output[-3000:]
    assert f"kernel directory {kernel_dir} is owned by uid {OTHER_UID}" in output, output[-3000:]
    assert os.listdir(kernel_dir) == []


# -- below the kernel directory: never through a link ----------------------------------------------


def test_a_kernel_subdir_replaced_by_a_link_is_never_followed(scratch: Path, precious: Path) -> None:
    kd = KernelDir.create(scratch / "kernels", "abc123", uid=1000, gid=1000, key="k")
    shutil.rmtree(kd.root)
    os.symlink(precious, kd.root)  # as if someone swapped the kernel's directory for a link
    pack = scratch / "pack"
    pack.mkdir()
    (pack / "tickets.csv").write_text("overwritten")
    for op in (kd.unlock, kd.lock, kd.clear_sockets, kd.verify, kd.sockets_present, lambda: kd.install_data(pack)):
        with pytest.raises(UnsafeSocketDir):
            op()
    _untouched(precious)
    with pytest.raises(FileExistsError):  # a kernel id is never reused, link or not
        KernelDir.create(scratch / "kernels", "abc123", uid=1000, gid=1000, key="k")
    kd.remove()  # removes the link itself, nothing behind it
    assert not os.path.lexists(kd.root)
    _untouched(precious)


@pytest.mark.parametrize("sub", ["sock", "data", "conn"])
def test_a_link_in_place_of_sock_data_or_conn_is_never_followed(scratch: Path, precious: Path, sub: str) -> None:
    kd = KernelDir.create(scratch / "kernels", "abc123", uid=1000, gid=1000, key="k")
    shutil.rmtree(kd.root / sub)
    os.symlink(precious / sub, kd.root / sub)
    pack = scratch / "pack"
    pack.mkdir()
    (pack / "tickets.csv").write_text("overwritten")
    ops = {"sock": (kd.unlock, kd.lock, kd.clear_sockets, kd.verify), "data": (lambda: kd.install_data(pack),)}
    for op in ops.get(sub, ()):
        with pytest.raises(UnsafeSocketDir):
            op()
    kd.remove()
    assert not os.path.lexists(kd.root)
    _untouched(precious)


def test_install_data_refuses_a_link_planted_inside_data(scratch: Path, precious: Path) -> None:
    sentinel = precious / "keep.txt"
    kd = KernelDir.create(scratch / "kernels", "abc123", uid=1000, gid=1000, key="k")
    os.symlink(sentinel, kd.data / "tickets.csv")
    os.mkdir(kd.data / "sub")
    os.symlink(precious / "data", kd.data / "sub" / "nested")
    pack = scratch / "pack"
    (pack / "sub" / "nested").mkdir(parents=True)
    (pack / "tickets.csv").write_text("overwritten")
    (pack / "sub" / "nested" / "tickets.csv").write_text("overwritten")
    with pytest.raises(UnsafeSocketDir, match="symbolic link"):
        kd.install_data(pack)
    os.unlink(kd.data / "tickets.csv")
    with pytest.raises(UnsafeSocketDir, match="symbolic link"):
        kd.install_data(pack)  # the link one level down
    _untouched(precious)


def test_install_data_never_writes_through_a_hard_link(scratch: Path, precious: Path) -> None:
    sentinel = precious / "keep.txt"
    kd = KernelDir.create(scratch / "kernels", "abc123", uid=1000, gid=1000, key="k")
    os.link(sentinel, kd.data / "tickets.csv")  # same inode as the sentinel
    pack = scratch / "pack"
    pack.mkdir()
    (pack / "tickets.csv").write_text("new data")
    kd.install_data(pack)
    assert (kd.data / "tickets.csv").read_text() == "new data"
    assert os.lstat(kd.data / "tickets.csv").st_nlink == 1
    _untouched(precious)


def test_clear_sockets_and_remove_leave_link_targets_alone(scratch: Path, precious: Path) -> None:
    kd = KernelDir.create(scratch / "kernels", "abc123", uid=1000, gid=1000, key="k")
    os.symlink(precious, kd.sock / "k-1")
    os.mkdir(kd.sock / "d")
    os.symlink(precious / "data", kd.sock / "d" / "inner")
    kd.clear_sockets()
    assert os.listdir(kd.sock) == []
    os.symlink(precious, kd.data / "planted")
    kd.remove()
    assert not os.path.lexists(kd.root)
    _untouched(precious)


# -- defaults derived from the data directory ---------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLARIFY_SANDBOX__KERNEL_DIR", raising=False)
    monkeypatch.delenv("CLARIFY_SANDBOX__SERVER_ID", raising=False)


def test_kernel_dir_and_server_id_default_to_the_data_directory(
    scratch: Path, clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = Settings(data_dir=scratch / "data").sandbox_config()
    digest = hashlib.sha256(str((scratch / "data").resolve()).encode()).hexdigest()[:12]
    assert config.kernel_dir == (scratch / "data").resolve() / "kernels"
    assert config.server_id == f"local-{digest}"
    other = Settings(data_dir=scratch / "other").sandbox_config()
    assert other.server_id != config.server_id and other.kernel_dir != config.kernel_dir
    # Relative and absolute spellings of one directory are one server.
    monkeypatch.chdir(scratch)  # restored afterwards: a deleted cwd breaks every later subprocess
    assert Settings(data_dir=Path("data")).sandbox_config().server_id == config.server_id


def test_settings_still_win(scratch: Path, clean_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLARIFY_SANDBOX__KERNEL_DIR", str(scratch / "k"))
    monkeypatch.setenv("CLARIFY_SANDBOX__SERVER_ID", "staging")
    config = Settings(data_dir=scratch / "data").sandbox_config()
    assert config.kernel_dir == scratch / "k" and config.server_id == "staging"


def test_a_data_dir_too_deep_for_socket_paths_falls_back_to_a_short_path(
    scratch: Path, clean_env: None, caplog: pytest.LogCaptureFixture
) -> None:
    deep = scratch / ("d" * 90)
    with caplog.at_level(logging.WARNING, logger="sandbox.config"):
        config = Settings(data_dir=deep).sandbox_config()
    digest = hashlib.sha256(str(deep.resolve()).encode()).hexdigest()[:12]
    assert config.kernel_dir == Path(f"/run/clarify-{digest}")
    assert "over the 107-byte limit" in caplog.text


async def test_a_second_server_on_the_same_docker_host_leaves_the_first_ones_kernels_alone(
    tmp_path: Path, clean_env: None, kernel_image: str, docker_client: docker.DockerClient
) -> None:
    configs = []
    for name in ("a", "b"):
        config = Settings(data_dir=tmp_path / name).sandbox_config()
        configs.append(config.model_copy(update={"image": kernel_image}))
    first, second = configs
    assert first.server_id != second.server_id
    try:
        async with KernelPool(DockerLauncher(first, client=docker_client), size=1, max_kernels=2) as pool_a:
            kernel = await pool_a.acquire()
            async with KernelPool(DockerLauncher(second, client=docker_client), size=0, max_kernels=1) as pool_b:
                assert pool_b.reaped == 0
                assert await kernel.check_alive()
                _, result = await kernel.run("1 + 1", timeout=20)
                assert result.status == "ok"
                other = await pool_b.acquire()
                _, result = await other.run("2 + 2", timeout=20)
                assert result.status == "ok"
            # Leaving the second server removed its own kernel only.
            _, result = await kernel.run("3 + 3", timeout=20)
            assert result.status == "ok"
    finally:
        for config in configs:
            for c in docker_client.containers.list(all=True, filters={"label": f"{LABEL_SERVER}={config.server_id}"}):
                c.remove(force=True)
            assert config.kernel_dir is not None
            if not config.kernel_dir.is_relative_to(tmp_path):
                shutil.rmtree(config.kernel_dir, ignore_errors=True)


# -- the managed Redis ----------------------------------------------------------------------------


async def test_managed_redis_requires_its_password_on_a_private_unix_socket(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "data" / "redis"
    with caplog.at_level(logging.DEBUG):
        async with ManagedRedis(directory) as managed:
            assert managed.socket_path is not None
            password = (directory / "password").read_text().strip()
            assert len(password) >= 32
            # The password file and the socket's directory are private.
            assert stat.S_IMODE(os.lstat(directory / "password").st_mode) == 0o600
            assert stat.S_IMODE(os.lstat(managed.socket_path.parent).st_mode) == 0o700
            assert stat.S_IMODE(os.lstat(directory / "redis.conf").st_mode) == 0o600
            # The server's own client (from the URL) works, unchanged.
            own = aioredis.from_url(managed.url, socket_timeout=5, socket_connect_timeout=2)
            try:
                assert await own.ping()
                assert (await own.config_get("port"))["port"] == "0"  # no TCP listener at all
            finally:
                await own.aclose()
            # Without the password (or with a wrong one) Redis refuses.
            for url in (f"unix://{managed.socket_path}?db=0", f"unix://:{'0' * 64}@{managed.socket_path}?db=0"):
                anon = aioredis.from_url(url)
                try:
                    with pytest.raises((AuthenticationError, ResponseError, RedisConnectionError)) as refused:
                        await anon.set("tokens:admin", "forged")
                    assert "auth" in str(refused.value).lower() or "password" in str(refused.value).lower()
                finally:
                    await anon.aclose()
            # Not on the command line, where every local user can read it.
            assert managed._proc is not None
            cmdline = Path(f"/proc/{managed._proc.pid}/cmdline").read_bytes()  # noqa: ASYNC240
            assert password.encode() not in cmdline
    assert password not in caplog.text
    assert password not in (directory / "redis.log").read_text()
    # A restart of the server reuses its password (the data in the AOF stays reachable).
    async with ManagedRedis(directory) as again:
        assert password in again.url
