"""The shared socket directory: a kernel cannot plant entries once it is locked, and the host
refuses to connect through anything but a socket owned by the kernel's uid.

The host-side tests run against :class:`KernelDir` in a scratch directory (the suite runs as
root, so ownership can be set like the launcher sets it); the in-kernel tests use a real
container.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import Kernel, Stream, UnsafeSocketDir
from sandbox.launcher import DockerLauncher
from sandbox.socketdir import CONTAINER_SOCK_DIR, KernelDir

KERNEL_UID = 1000


@pytest.fixture
def scratch() -> Iterator[Path]:
    # Short on purpose: ipc socket paths must fit in 107 bytes (pytest's tmp_path may not).
    path = Path(tempfile.mkdtemp(prefix="csd-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def sentinel(scratch: Path) -> Path:
    """A file standing in for /etc/passwd: what a planted link points at."""
    path = scratch / "passwd"
    path.write_text("root:x:0:0:root:/root:/bin/bash\n")
    return path


def bind_socket(path: Path, uid: int | None = None) -> None:
    """Leave a real AF_UNIX socket file at ``path`` (as a kernel's bind would)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.bind(str(path))
    if uid is not None:
        os.chown(path, uid, uid, follow_symlinks=False)


def bind_all(kd: KernelDir, *, skip: str | None = None) -> None:
    for path in kd.socket_paths():
        if path.name != skip:
            bind_socket(path, kd.uid)


def make_kdir(root: Path, uid: int = KERNEL_UID) -> KernelDir:
    return KernelDir.create(root / "kernels", "abc123", uid=uid, gid=uid, key="k")


@pytest.fixture(autouse=True)
def _needs_root() -> None:
    # Ownership is the point of these tests; the suite runs as root (see the sandbox README).
    assert os.geteuid() == 0, "the socket directory tests change file ownership and need root"


# -- layout ---------------------------------------------------------------------------------


def test_create_writes_connection_file_for_the_container(scratch: Path) -> None:
    kd = make_kdir(scratch)
    info = json.loads((kd.conn / "connection.json").read_text())
    assert info["ip"] == f"{CONTAINER_SOCK_DIR}/k"
    assert info["transport"] == "ipc"
    assert info["key"] == "k"
    st = os.lstat(kd.conn / "connection.json")
    assert st.st_uid == 0 and st.st_gid == KERNEL_UID  # the kernel reads it via its group
    assert stat.S_IMODE(st.st_mode) == 0o640
    # Unlocked after create: the kernel owns sock/ so it can bind.
    st = os.lstat(kd.sock)
    assert st.st_uid == KERNEL_UID and stat.S_IMODE(st.st_mode) == 0o700
    assert kd.connection_info(for_container=False)["ip"] == str(kd.sock / "k")


def test_create_refuses_an_existing_kernel_dir(scratch: Path) -> None:
    make_kdir(scratch)
    with pytest.raises(FileExistsError):
        make_kdir(scratch)


def test_create_refuses_a_socket_path_too_long_for_sun_path(scratch: Path) -> None:
    deep = scratch / ("d" * 100)
    with pytest.raises(UnsafeSocketDir, match="longer than"):
        KernelDir.create(deep, "abc123", uid=KERNEL_UID, gid=KERNEL_UID, key="k")
    assert not deep.exists()


# -- lock and verify ------------------------------------------------------------------------


def test_lock_takes_the_directory_back(scratch: Path) -> None:
    kd = make_kdir(scratch)
    bind_all(kd)
    kd.lock()
    st = os.lstat(kd.sock)
    assert st.st_uid == os.geteuid()
    assert stat.S_IMODE(st.st_mode) == 0o755  # others (the kernel) may not create or rename
    kd.verify()
    kd.unlock()
    assert os.lstat(kd.sock).st_uid == KERNEL_UID


def test_verify_passes_with_real_sockets(scratch: Path) -> None:
    kd = make_kdir(scratch)
    bind_all(kd)
    kd.lock()
    kd.verify()
    # The suite's own uid as the kernel's (the documented unit-test setup) works too.
    kd0 = KernelDir.create(scratch / "k0", "abc123", uid=os.getuid(), gid=os.getgid(), key="k")
    bind_all(kd0)
    kd0.lock()
    kd0.verify()


def test_verify_refuses_an_unlocked_directory(scratch: Path) -> None:
    kd = make_kdir(scratch)
    bind_all(kd)
    with pytest.raises(UnsafeSocketDir, match="not a locked directory"):
        kd.verify()
    kd.lock()
    os.chmod(kd.sock, 0o777)  # writable by others is as bad as owned by the kernel
    with pytest.raises(UnsafeSocketDir, match="not a locked directory"):
        kd.verify()


@pytest.mark.parametrize("name", ["k-1", "k-5"])
def test_verify_refuses_a_symlink_to_a_file(scratch: Path, sentinel: Path, name: str) -> None:
    kd = make_kdir(scratch)
    bind_all(kd, skip=name)
    os.symlink(sentinel, kd.sock / name)
    os.lchown(kd.sock / name, KERNEL_UID, KERNEL_UID)  # as if the kernel had planted it
    assert kd.sockets_present()  # the boot loop sees it (lstat) and goes on to verify
    kd.lock()
    with pytest.raises(UnsafeSocketDir, match="symbolic link"):
        kd.verify()
    assert sentinel.read_text().startswith("root:")


def test_verify_refuses_a_symlink_to_a_real_socket(scratch: Path) -> None:
    # The target is a genuine socket owned by the kernel's uid (stat() would pass it).
    kd = make_kdir(scratch)
    elsewhere = scratch / "elsewhere.sock"
    bind_socket(elsewhere, KERNEL_UID)
    bind_all(kd, skip="k-2")
    os.symlink(elsewhere, kd.sock / "k-2")
    kd.lock()
    with pytest.raises(UnsafeSocketDir, match="symbolic link"):
        kd.verify()


def test_verify_refuses_a_symlink_to_a_directory(scratch: Path) -> None:
    kd = make_kdir(scratch)
    bind_all(kd, skip="k-3")
    os.symlink("/etc", kd.sock / "k-3")
    kd.lock()
    with pytest.raises(UnsafeSocketDir, match="symbolic link"):
        kd.verify()


def test_verify_refuses_a_regular_file(scratch: Path) -> None:
    kd = make_kdir(scratch)
    bind_all(kd, skip="k-1")
    (kd.sock / "k-1").write_text("not a socket")
    os.chown(kd.sock / "k-1", KERNEL_UID, KERNEL_UID)
    kd.lock()
    with pytest.raises(UnsafeSocketDir, match="not a socket"):
        kd.verify()


def test_verify_refuses_a_fifo_and_a_directory(scratch: Path) -> None:
    kd = make_kdir(scratch)
    bind_all(kd, skip="k-3")
    os.mkfifo(kd.sock / "k-3")
    kd.lock()
    with pytest.raises(UnsafeSocketDir, match="not a socket"):
        kd.verify()
    os.unlink(kd.sock / "k-3")
    os.mkdir(kd.sock / "k-3")
    with pytest.raises(UnsafeSocketDir, match="not a socket"):
        kd.verify()


def test_verify_refuses_a_hard_link_to_a_socket_owned_by_someone_else(scratch: Path) -> None:
    # A socket of another uid (root here) hard-linked in place of the kernel's.
    kd = make_kdir(scratch)
    other = scratch / "other.sock"
    bind_socket(other, 0)
    bind_all(kd, skip="k-4")
    os.link(other, kd.sock / "k-4")
    kd.lock()
    with pytest.raises(UnsafeSocketDir, match="owned by uid 0"):
        kd.verify()


def test_verify_refuses_a_socket_owned_by_the_wrong_uid(scratch: Path) -> None:
    kd = make_kdir(scratch)
    bind_all(kd)
    os.chown(kd.sock / "k-4", 4242, 4242)
    kd.lock()
    with pytest.raises(UnsafeSocketDir, match="owned by uid 4242"):
        kd.verify()


def test_verify_refuses_a_missing_socket(scratch: Path) -> None:
    kd = make_kdir(scratch)
    bind_all(kd, skip="k-5")
    assert not kd.sockets_present()
    kd.lock()
    with pytest.raises(UnsafeSocketDir, match="missing"):
        kd.verify()


# -- clear_sockets, remove, install_data ----------------------------------------------------


def test_clear_sockets_removes_planted_links_without_touching_targets(scratch: Path, sentinel: Path) -> None:
    kd = make_kdir(scratch)
    target_dir = scratch / "precious"
    target_dir.mkdir()
    (target_dir / "keep.txt").write_text("keep")
    bind_all(kd, skip="k-1")
    os.symlink(sentinel, kd.sock / "k-1")
    os.symlink(target_dir, kd.sock / "k-9")  # a link to a directory: must not be rmtree'd through
    nested = kd.sock / "nested"
    nested.mkdir()
    os.symlink(target_dir, nested / "inner")
    (nested / "file").write_text("x")
    kd.clear_sockets()
    assert os.listdir(kd.sock) == []
    assert sentinel.read_text().startswith("root:")
    assert (target_dir / "keep.txt").read_text() == "keep"
    assert kd.sock.is_dir() and not kd.sock.is_symlink()


def test_remove_does_not_follow_links(scratch: Path, sentinel: Path) -> None:
    kd = make_kdir(scratch)
    target_dir = scratch / "precious"
    target_dir.mkdir()
    (target_dir / "keep.txt").write_text("keep")
    os.symlink(target_dir, kd.sock / "k-1")
    os.symlink(sentinel, kd.data / "passwd")
    kd.remove()
    assert not kd.root.exists()
    assert (target_dir / "keep.txt").read_text() == "keep"
    assert sentinel.exists()


def test_install_data_copies_read_only(scratch: Path, sentinel: Path) -> None:
    kd = make_kdir(scratch)
    src = scratch / "pack"
    (src / "sub").mkdir(parents=True)
    (src / "tickets.csv").write_text("id\n1\n")
    os.chmod(src / "tickets.csv", 0o666)
    (src / "sub" / "script.sh").write_text("#!/bin/sh\n")
    os.chmod(src / "sub" / "script.sh", 0o4755)  # setuid in the pack must not survive
    os.chmod(src / "sub", 0o777)
    os.symlink(sentinel, src / "link.txt")  # copied as content, never as a link
    kd.install_data(src)
    for path in [kd.data / "tickets.csv", kd.data / "sub" / "script.sh", kd.data / "link.txt"]:
        st = os.lstat(path)
        assert stat.S_ISREG(st.st_mode), path
        assert stat.S_IMODE(st.st_mode) == 0o644, (path, oct(st.st_mode))
    assert stat.S_IMODE(os.lstat(kd.data / "sub").st_mode) == 0o755
    assert stat.S_IMODE(os.lstat(kd.data).st_mode) == 0o755
    assert (kd.data / "tickets.csv").read_text() == "id\n1\n"
    assert (kd.data / "link.txt").read_text() == sentinel.read_text()


def test_install_data_requires_a_directory(scratch: Path) -> None:
    kd = make_kdir(scratch)
    with pytest.raises(FileNotFoundError):
        kd.install_data(scratch / "no-such-pack")


# -- from inside a real kernel ----------------------------------------------------------------

_PLANT = f"""
import json, os
d = {CONTAINER_SOCK_DIR!r}
attempts = {{
    'symlink': lambda: os.symlink('/etc/passwd', d + '/k-9'),
    'replace_socket': lambda: os.replace(d + '/k-2', d + '/k-1'),
    'create_file': lambda: open(d + '/planted', 'w').close(),
    'mkdir': lambda: os.mkdir(d + '/sub'),
    'unlink_socket': lambda: os.unlink(d + '/k-1'),
    'rename_socket': lambda: os.rename(d + '/k-1', d + '/k-9'),
    'chmod_dir': lambda: os.chmod(d, 0o777),
    'hardlink': lambda: os.link(d + '/k-1', d + '/k-9'),
}}
out = {{}}
for name, fn in attempts.items():
    try:
        fn()
        out[name] = 'ALLOWED'
    except OSError as e:
        out[name] = type(e).__name__
print(json.dumps({{'attempts': out, 'entries': sorted(os.listdir(d)), 'uid': os.getuid()}}))
"""


def _plant_result(events: list) -> dict:
    text = "".join(e.text for e in events if isinstance(e, Stream))
    return json.loads(text.strip().splitlines()[-1])


async def test_kernel_cannot_plant_in_its_locked_socket_dir(kernel: Kernel) -> None:
    for _ in range(2):  # once after boot, once after a restart (which unlocks, clears, relocks)
        events, result = await kernel.run(_PLANT, timeout=20)
        assert result.status == "ok", result
        out = _plant_result(events)
        assert out["uid"] == KERNEL_UID
        refused = ("PermissionError", "FileExistsError")
        assert all(v in refused for v in out["attempts"].values()), out["attempts"]
        assert out["attempts"]["symlink"] == "PermissionError"
        assert out["attempts"]["create_file"] == "PermissionError"
        assert out["entries"] == ["k-1", "k-2", "k-3", "k-4", "k-5"]
        kernel.handle.kdir.verify()  # the host's check still passes: nothing changed
        _, result = await kernel.run("1 + 1", timeout=20)
        assert result.status == "ok"
        await kernel.restart()


async def test_boot_refuses_symlinks_planted_before_the_kernel_binds(launcher: DockerLauncher, scratch: Path) -> None:
    """Links in place of the sockets (say, to the Docker socket) stop the start instead of
    being connected to."""
    target = scratch / "target"
    target.write_text("untouched")
    handle = await launcher.create()
    planted = 0
    try:
        for path in handle.kdir.socket_paths():
            try:
                os.symlink(target, path)
                planted += 1
            except FileExistsError:
                pass  # the kernel was faster for this one
        assert planted == 5, "the kernel bound a socket before the test could plant its links"
        kernel = Kernel(launcher, handle)
        try:
            with pytest.raises(UnsafeSocketDir, match="symbolic link"):
                await kernel._boot()
        finally:
            kernel.client.close()
        assert kernel.client.shell is None  # never connected
        assert target.read_text() == "untouched"
    finally:
        await launcher.remove(handle)
    assert not handle.kdir.root.exists()
