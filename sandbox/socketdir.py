"""The per-kernel host directory shared with a kernel container.

Layout under ``<kernel_dir>/<kernel id>/``::

    conn/connection.json   written by the host, mounted read-only (ports, key)
    sock/                  mounted read-write until the kernel has bound its ipc sockets
    data/                  the problem's data files, mounted read-only at /data

The container can plant anything in ``sock/`` while it is writable, so the host never follows
a link there: it waits for the sockets, takes the directory back (owned by root, so the
non-root kernel can no longer create, rename or replace entries), and then checks with
``lstat`` that every entry it will connect to is a socket owned by the kernel's uid.

The server runs as root, so the kernel directory itself must be its own: it is created 0711
when missing and refused (:class:`UnsafeSocketDir`) when it is a link, not owned by the
server's uid, or writable by group or others. Every operation below it goes through directory
file descriptors opened with ``O_NOFOLLOW`` and ``dir_fd``-relative calls, so a link planted
anywhere in the tree is refused or removed, never followed.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.config import MAX_SOCKET_PATH
from sandbox.errors import UnsafeSocketDir

CONTAINER_SOCK_DIR = "/run/clarify/sock"
CONTAINER_CONN_DIR = "/run/clarify/conn"
CONTAINER_DATA_DIR = "/data"
SOCKET_PREFIX = "k"
PORTS = {"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5}
_MAX_SOCKET_PATH = MAX_SOCKET_PATH
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@contextlib.contextmanager
def _open_dir(path: str | Path, *, dir_fd: int | None = None, shown: Path | None = None) -> Iterator[int]:
    """An fd for a directory that is not a link (``FileNotFoundError`` passes through)."""
    try:
        fd = os.open(path, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UnsafeSocketDir(f"{shown or path} is a symbolic link or not a directory") from None
        raise
    try:
        yield fd
    finally:
        os.close(fd)


@contextlib.contextmanager
def open_kernel_root(kernel_dir: Path) -> Iterator[int]:
    """An fd for the kernel directory after checking it is safe to work in: a real directory
    owned by the server's uid and writable by nobody else."""
    with _open_dir(kernel_dir) as fd:
        _check_root(fd, kernel_dir)
        yield fd


def _check_root(fd: int, kernel_dir: Path) -> None:
    st = os.fstat(fd)
    hint = "; fix it or set CLARIFY_SANDBOX__KERNEL_DIR to a directory only the server can write"
    if st.st_uid != os.geteuid():
        raise UnsafeSocketDir(
            f"kernel directory {kernel_dir} is owned by uid {st.st_uid}, not the server's uid {os.geteuid()}{hint}"
        )
    if st.st_mode & 0o022:
        raise UnsafeSocketDir(
            f"kernel directory {kernel_dir} is writable by group or others (mode {stat.S_IMODE(st.st_mode):04o}){hint}"
        )


def prepare_kernel_root(kernel_dir: Path) -> None:
    """Create the kernel directory (0711) if missing; raise :class:`UnsafeSocketDir` unless it
    is a directory (not a link) owned by the server's uid and not writable by group or others.

    Called at start-up (the pool) and before each kernel directory is made.
    """
    kernel_dir.parent.mkdir(parents=True, exist_ok=True)
    created = False
    try:
        os.mkdir(kernel_dir, 0o711)
        created = True
    except FileExistsError:
        pass
    with _open_dir(kernel_dir) as fd:
        if created:
            os.fchmod(fd, 0o711)  # whatever the umask
        _check_root(fd, kernel_dir)


@dataclass(frozen=True)
class KernelDir:
    """Host paths for one kernel and the connection info the kernel reads."""

    root: Path
    uid: int
    gid: int
    key: str

    @property
    def sock(self) -> Path:
        return self.root / "sock"

    @property
    def conn(self) -> Path:
        return self.root / "conn"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def host_ip(self) -> str:
        """The ipc path prefix as seen from the host (sockets are ``<prefix>-<port>``)."""
        return str(self.sock / SOCKET_PREFIX)

    def socket_paths(self) -> list[Path]:
        return [self.sock / f"{SOCKET_PREFIX}-{port}" for port in PORTS.values()]

    def connection_info(self, *, for_container: bool) -> dict[str, Any]:
        """Connection info in Jupyter's format, for the container's or the host's view."""
        ip = f"{CONTAINER_SOCK_DIR}/{SOCKET_PREFIX}" if for_container else self.host_ip
        return {
            "transport": "ipc",
            "ip": ip,
            "key": self.key,
            "signature_scheme": "hmac-sha256",
            **PORTS,
        }

    @classmethod
    def create(cls, kernel_dir: Path, kernel_id: str, *, uid: int, gid: int, key: str) -> KernelDir:
        """Make the directory tree and write the connection file the kernel will read."""
        kd = cls(root=kernel_dir / kernel_id, uid=uid, gid=gid, key=key)
        longest = str(kd.socket_paths()[0])
        if len(longest.encode()) > _MAX_SOCKET_PATH:
            raise UnsafeSocketDir(
                f"kernel socket path {longest!r} is longer than {_MAX_SOCKET_PATH} bytes; "
                "set a shorter CLARIFY_SANDBOX__KERNEL_DIR"
            )
        prepare_kernel_root(kernel_dir)
        with open_kernel_root(kernel_dir) as root_fd:
            os.mkdir(kernel_id, 0o755, dir_fd=root_fd)  # FileExistsError: never reuse one
            with _open_dir(kernel_id, dir_fd=root_fd, shown=kd.root) as kfd:
                os.fchmod(kfd, 0o755)
                for sub in ("conn", "data", "sock"):
                    os.mkdir(sub, 0o755, dir_fd=kfd)
                    with _open_dir(sub, dir_fd=kfd, shown=kd.root / sub) as sfd:
                        os.fchmod(sfd, 0o755)
                with _open_dir("conn", dir_fd=kfd, shown=kd.conn) as cfd:
                    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
                    fd = os.open("connection.json", flags, 0o640, dir_fd=cfd)
                    with os.fdopen(fd, "w") as f:
                        os.fchmod(fd, 0o640)
                        _fchown(fd, 0, gid, is_dir=False)
                        json.dump(kd.connection_info(for_container=True), f)
        kd.unlock()
        return kd

    @contextlib.contextmanager
    def _open(self, sub: str | None = None) -> Iterator[int]:
        """An fd for this kernel's directory (or one of its subdirectories), reached from the
        checked kernel directory without following any link."""
        with (
            open_kernel_root(self.root.parent) as root_fd,
            _open_dir(self.root.name, dir_fd=root_fd, shown=self.root) as kfd,
        ):
            if sub is None:
                yield kfd
                return
            with _open_dir(sub, dir_fd=kfd, shown=self.root / sub) as sfd:
                yield sfd

    def unlock(self) -> None:
        """Let the kernel bind its sockets (before a start or restart)."""
        with self._open("sock") as fd:
            _fchown(fd, self.uid, self.gid, is_dir=True)
            os.fchmod(fd, 0o700)

    def lock(self) -> None:
        """Take ``sock/`` back: the kernel keeps its sockets but cannot add or replace entries."""
        with self._open("sock") as fd:
            _fchown(fd, os.geteuid(), os.getegid(), is_dir=True)
            os.fchmod(fd, 0o755)

    def sockets_present(self) -> bool:
        """Whether every socket path exists (of any type: :meth:`verify` judges the type)."""
        with self._open("sock") as fd:
            for path in self.socket_paths():
                try:
                    os.stat(path.name, dir_fd=fd, follow_symlinks=False)
                except FileNotFoundError:
                    return False
        return True

    def verify(self) -> None:
        """Raise :class:`UnsafeSocketDir` unless every entry is a socket owned by the kernel."""
        with contextlib.ExitStack() as stack:
            try:
                fd = stack.enter_context(self._open("sock"))
            except UnsafeSocketDir:
                raise UnsafeSocketDir(f"{self.sock} is not a locked directory") from None
            st = os.fstat(fd)
            if st.st_uid != os.geteuid() or st.st_mode & 0o022:
                raise UnsafeSocketDir(f"{self.sock} is not a locked directory")
            for path in self.socket_paths():
                try:
                    st = os.stat(path.name, dir_fd=fd, follow_symlinks=False)
                except FileNotFoundError:
                    raise UnsafeSocketDir(f"{path} is missing") from None
                if stat.S_ISLNK(st.st_mode):
                    raise UnsafeSocketDir(f"{path} is a symbolic link, not a socket")
                if not stat.S_ISSOCK(st.st_mode):
                    raise UnsafeSocketDir(f"{path} is not a socket")
                if st.st_uid != self.uid:
                    raise UnsafeSocketDir(f"{path} is owned by uid {st.st_uid}, not the kernel's uid {self.uid}")

    def clear_sockets(self) -> None:
        """Remove everything in ``sock/`` without following links (before a restart)."""
        with self._open("sock") as fd:
            for name in os.listdir(fd):
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    shutil.rmtree(name, dir_fd=fd)  # the fd-based walk: links are unlinked, never followed
                else:
                    os.unlink(name, dir_fd=fd)

    def install_data(self, source: Path) -> None:
        """Copy a problem's data files into ``data/`` (read-only in the container).

        The source (a problem pack, trusted) is read normally; the destination is written only
        through ``dir_fd``-relative calls: an existing link there is refused, an existing file is
        unlinked and written afresh (never written through a hard link).
        """
        if not source.is_dir():
            raise FileNotFoundError(f"data directory {source} does not exist")
        with self._open("data") as fd:
            _copy_into(source, fd, self.data)

    def install_private(self, name: str, files: dict[str, bytes], *, uid: int, gid: int) -> None:
        """Create ``data/<name>`` readable by ``uid`` only (0700) and write ``files`` into it.

        For the grader's hidden data and check code: the kernel's uid (another uid, without
        capabilities) cannot list, read or replace anything in it. Needs root (to hand the
        directory to ``uid``); an existing entry of that name is refused. File names are flat
        relative paths (``a.csv``, ``sub/b.csv``), written through ``dir_fd`` calls only.
        """
        if os.geteuid() != 0:
            raise UnsafeSocketDir("the server must run as root to keep the grader's files from the kernel")
        if "/" in name or name in ("", ".", ".."):
            raise ValueError(f"bad directory name {name!r}")
        with self._open("data") as data_fd:
            os.mkdir(name, 0o700, dir_fd=data_fd)  # FileExistsError if anything is there
            with _open_dir(name, dir_fd=data_fd, shown=self.data / name) as fd:
                os.fchmod(fd, 0o700)
                os.fchown(fd, uid, gid)
                for rel, content in files.items():
                    _write_private(fd, rel, content, uid, gid, self.data / name)

    def remove(self) -> None:
        """Delete the whole directory, never following a link: a link in its place is itself
        unlinked; an unsafe kernel directory is left alone. Errors are ignored (best effort)."""
        try:
            with open_kernel_root(self.root.parent) as root_fd:
                st = os.stat(self.root.name, dir_fd=root_fd, follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    shutil.rmtree(self.root.name, dir_fd=root_fd, ignore_errors=True)
                else:
                    os.unlink(self.root.name, dir_fd=root_fd)
        except (OSError, UnsafeSocketDir):
            pass


def _copy_into(source: Path, dst_fd: int, shown: Path) -> None:
    os.fchmod(dst_fd, 0o755)
    with os.scandir(source) as entries:
        for entry in entries:
            name = entry.name
            try:
                existing: os.stat_result | None = os.stat(name, dir_fd=dst_fd, follow_symlinks=False)
            except FileNotFoundError:
                existing = None
            if existing is not None and stat.S_ISLNK(existing.st_mode):
                raise UnsafeSocketDir(f"{shown / name} is a symbolic link; refusing to write through it")
            if entry.is_dir():  # a link in the pack is copied as what it points to
                if existing is None:
                    os.mkdir(name, 0o755, dir_fd=dst_fd)
                elif not stat.S_ISDIR(existing.st_mode):
                    raise UnsafeSocketDir(f"{shown / name} is in the way of a data directory")
                with _open_dir(name, dir_fd=dst_fd, shown=shown / name) as sub:
                    _copy_into(Path(entry.path), sub, shown / name)
            elif entry.is_file():
                if existing is not None:
                    if not stat.S_ISREG(existing.st_mode):
                        raise UnsafeSocketDir(f"{shown / name} is in the way of a data file")
                    os.unlink(name, dir_fd=dst_fd)
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
                out = os.open(name, flags, 0o644, dir_fd=dst_fd)
                with open(entry.path, "rb") as src, os.fdopen(out, "wb") as dst:
                    os.fchmod(out, 0o644)
                    shutil.copyfileobj(src, dst, 1 << 20)


def _fchown(fd: int, uid: int, gid: int, *, is_dir: bool) -> None:
    # Without root the host cannot hand the directory to another uid; the kernel then
    # relies on mode bits (the kernel's uid differs from the host user's).
    if os.geteuid() == 0:
        os.fchown(fd, uid, gid)
    elif is_dir:
        os.fchmod(fd, 0o777 if uid != os.geteuid() else 0o755)


def _write_private(dir_fd: int, rel: str, content: bytes, uid: int, gid: int, shown: Path) -> None:
    parts = [p for p in rel.split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        raise ValueError(f"bad file name {rel!r}")
    *dirs, leaf = parts
    with contextlib.ExitStack() as stack:
        fd = dir_fd
        for part in dirs:
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o700, dir_fd=fd)
            fd = stack.enter_context(_open_dir(part, dir_fd=fd, shown=shown / part))
            os.fchown(fd, uid, gid)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        out = os.open(leaf, flags, 0o600, dir_fd=fd)
        with os.fdopen(out, "wb") as dst:
            os.fchown(out, uid, gid)
            dst.write(content)
