"""The per-kernel host directory shared with a kernel container.

Layout under ``<kernel_dir>/<kernel id>/``::

    conn/connection.json   written by the host, mounted read-only (ports, key)
    sock/                  mounted read-write until the kernel has bound its ipc sockets
    data/                  the problem's data files, mounted read-only at /data

The container can plant anything in ``sock/`` while it is writable, so the host never follows
a link there: it waits for the sockets, takes the directory back (owned by root, so the
non-root kernel can no longer create, rename or replace entries), and then checks with
``lstat`` that every entry it will connect to is a socket owned by the kernel's uid.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.errors import UnsafeSocketDir

CONTAINER_SOCK_DIR = "/run/clarify/sock"
CONTAINER_CONN_DIR = "/run/clarify/conn"
CONTAINER_DATA_DIR = "/data"
SOCKET_PREFIX = "k"
PORTS = {"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5}
# sun_path is 108 bytes on Linux including the terminating NUL.
_MAX_SOCKET_PATH = 107


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
                "set a shorter CLARIFY_KERNEL_DIR"
            )
        kernel_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(kernel_dir, 0o711)
        kd.root.mkdir(mode=0o755)
        for sub in (kd.conn, kd.data, kd.sock):
            sub.mkdir(mode=0o755)
        path = kd.conn / "connection.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o640)
        with os.fdopen(fd, "w") as f:
            json.dump(kd.connection_info(for_container=True), f)
        _chown(path, 0, gid)
        kd.unlock()
        return kd

    def unlock(self) -> None:
        """Let the kernel bind its sockets (before a start or restart)."""
        _chown(self.sock, self.uid, self.gid)
        os.chmod(self.sock, 0o700)

    def lock(self) -> None:
        """Take ``sock/`` back: the kernel keeps its sockets but cannot add or replace entries."""
        _chown(self.sock, os.geteuid(), os.getegid())
        os.chmod(self.sock, 0o755)

    def sockets_present(self) -> bool:
        """Whether every socket path exists (of any type: :meth:`verify` judges the type)."""
        for path in self.socket_paths():
            try:
                os.lstat(path)
            except FileNotFoundError:
                return False
        return True

    def verify(self) -> None:
        """Raise :class:`UnsafeSocketDir` unless every entry is a socket owned by the kernel."""
        st = os.lstat(self.sock)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
            raise UnsafeSocketDir(f"{self.sock} is not a locked directory")
        for path in self.socket_paths():
            try:
                st = os.lstat(path)
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
        with os.scandir(self.sock) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)

    def install_data(self, source: Path) -> None:
        """Copy a problem's data files into ``data/`` (read-only in the container)."""
        if not source.is_dir():
            raise FileNotFoundError(f"data directory {source} does not exist")
        shutil.copytree(source, self.data, symlinks=False, dirs_exist_ok=True)
        for dirpath, _dirnames, filenames in os.walk(self.data):
            os.chmod(dirpath, 0o755)
            for name in filenames:
                os.chmod(os.path.join(dirpath, name), 0o644)

    def remove(self) -> None:
        """Delete the whole directory; ``rmtree`` never follows links on Linux."""
        shutil.rmtree(self.root, ignore_errors=True)


def _chown(path: Path, uid: int, gid: int) -> None:
    # Without root the host cannot hand the directory to another uid; the kernel then
    # relies on mode bits (the kernel's uid differs from the host user's).
    if os.geteuid() == 0:
        os.chown(path, uid, gid, follow_symlinks=False)
    elif path.is_dir():
        os.chmod(path, 0o777 if uid != os.geteuid() else 0o755)
