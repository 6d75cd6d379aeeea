"""The channel between the grader (trusted) and the candidate's kernel (hostile).

Frames are a 4-byte big-endian length and a payload. What the grader sends is a pickle: the
candidate's process may do anything with it. What the candidate's process sends is JSON whose
objects are tagged values (:func:`encode`, :func:`decode`): plain data, numpy arrays as ``.npy``
(``allow_pickle=False``), pandas frames and series rebuilt column by column, exceptions as a
name, a message and the names of their classes, and anything else as a reference the grader can
call back. Nothing the candidate sends is unpickled, evaluated or imported by name outside an
allowlist.
"""

from __future__ import annotations

import base64
import builtins
import contextlib
import datetime as dt
import importlib
import io
import json
import math
import socket
import struct
import time
from typing import Any

MAX_FRAME = 64 * 1024 * 1024
MAX_DEPTH = 64
MAX_TEXT = 2000
_HEADER = struct.Struct(">I")

# Exception classes the grader may rebuild a remote exception on (by module and name).
_EXC_MODULES = ("builtins", "clarify_kit.llm", "clarify_kit.tools", "json.decoder", "json")
_UNSAFE_EXC = (KeyboardInterrupt, SystemExit, GeneratorExit)


class ChannelError(Exception):
    """The other side sent something unreadable, went silent, or is gone."""


class ChannelClosed(ChannelError):
    """The other side closed the channel (its process exited)."""


class ChannelTimeout(ChannelError):
    """The other side did not answer in time."""


# -- framing ----------------------------------------------------------------------------------


def send_frame(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(_HEADER.pack(len(payload)) + payload)


def _recv_exact(sock: socket.socket, n: int, deadline: float | None) -> bytes:
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ChannelTimeout("no answer in time")
            sock.settimeout(left)
        try:
            chunk = sock.recv(min(n - got, 1 << 20))
        except TimeoutError:
            raise ChannelTimeout("no answer in time") from None
        except OSError as exc:
            raise ChannelClosed(f"the channel broke: {exc}") from None
        if not chunk:
            raise ChannelClosed("the other side closed the channel")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def recv_frame(sock: socket.socket, deadline: float | None = None, max_bytes: int = MAX_FRAME) -> bytes:
    (n,) = _HEADER.unpack(_recv_exact(sock, _HEADER.size, deadline))
    if n > max_bytes:
        raise ChannelError(f"a reply of {n} bytes is over the {max_bytes} byte limit")
    return _recv_exact(sock, n, deadline)


# -- encoding (runs in the candidate's process) ------------------------------------------------


class Refs:
    """Objects handed out by reference: a stable id per object, kept alive while the run lasts."""

    def __init__(self) -> None:
        self.objects: dict[int, Any] = {}
        self._ids: dict[int, int] = {}

    def add(self, obj: Any) -> int:
        ref = self._ids.get(id(obj))
        if ref is None:
            ref = len(self.objects) + 1
            self.objects[ref] = obj
            self._ids[id(obj)] = ref
        return ref


def exception_info(exc: BaseException) -> dict[str, Any]:
    """What the other side needs to rebuild ``exc``: its class chain and message."""
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - a hostile __str__
        text = "<unprintable>"
    mro = []
    for cls in type(exc).__mro__:
        mro.append([str(getattr(cls, "__module__", "")), str(getattr(cls, "__qualname__", "?"))])
    return {"$": "exc", "mro": mro[:32], "text": text[:MAX_TEXT]}


def encode(obj: Any, refs: Refs) -> bytes:
    """``obj`` as a JSON payload of tagged values (objects that are not data go by reference)."""
    return json.dumps(_enc(obj, refs, 0), allow_nan=True, separators=(",", ":")).encode()


def _npy(arr: Any) -> dict[str, Any]:
    import numpy as np

    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return {"$": "npy", "b": base64.b64encode(buf.getvalue()).decode()}


def _enc(obj: Any, refs: Refs, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError("value nested too deeply to send")
    t = type(obj)
    if obj is None or t is bool or t is str:
        return obj
    if t is int:
        return obj if abs(obj) < 2**53 else {"$": "int", "v": str(obj)}
    if t is float:
        return obj if math.isfinite(obj) else {"$": "float", "v": repr(obj)}
    d = depth + 1
    if isinstance(obj, BaseException):
        return exception_info(obj)
    if isinstance(obj, (bytes, bytearray)):
        return {"$": "bytes", "b": base64.b64encode(bytes(obj)).decode()}
    if isinstance(obj, (list, tuple, set, frozenset, dict, str, int, float)) and t not in (list, tuple, dict):
        # subclasses of builtins travel as the builtin (their methods stay behind)
        if isinstance(obj, bool):
            return bool(obj)
        if isinstance(obj, str):
            return str.__str__(obj)
        if isinstance(obj, int):
            return _enc(int.__index__(obj), refs, d)
        if isinstance(obj, float):
            return _enc(float.__float__(obj), refs, d)
        if isinstance(obj, (set, frozenset)):
            return {"$": "set", "v": [_enc(v, refs, d) for v in list(obj)]}
    if isinstance(obj, dict):
        items = list(dict.items(obj))
        return {"$": "dict", "k": [_enc(k, refs, d) for k, _ in items], "v": [_enc(v, refs, d) for _, v in items]}
    if isinstance(obj, list):
        return [_enc(v, refs, d) for v in list.__iter__(obj)]
    if isinstance(obj, tuple):
        return {"$": "tuple", "v": [_enc(v, refs, d) for v in tuple.__iter__(obj)]}
    mod = t.__module__ or ""
    if mod == "numpy" or mod.startswith("numpy."):
        import numpy as np

        if isinstance(obj, np.ndarray):
            if obj.dtype.kind in "biufcmMSU" and not obj.dtype.hasobject:
                return _npy(np.ascontiguousarray(obj))
            return {"$": "objarray", "shape": list(obj.shape), "v": [_enc(v, refs, d) for v in obj.reshape(-1)]}
        if isinstance(obj, np.generic):
            if obj.dtype.kind in "mM":
                return _npy(np.asarray(obj))
            return _enc(obj.item(), refs, d)
    if mod.startswith("pandas"):
        import pandas as pd

        if obj is pd.NaT:
            return {"$": "nat"}
        if isinstance(obj, pd.DataFrame):
            cols = [_enc(c, refs, d) for c in obj.columns.tolist()]
            data = [_enc(_values(obj.iloc[:, i]), refs, d) for i in range(obj.shape[1])]
            return {"$": "df", "columns": cols, "index": _enc(_values(obj.index), refs, d), "data": data}
        if isinstance(obj, pd.Series):
            return {"$": "series", "name": _enc(obj.name, refs, d), "index": _enc(_values(obj.index), refs, d),
                    "v": _enc(_values(obj), refs, d)}  # fmt: skip
        if isinstance(obj, pd.Index):
            return {"$": "index", "v": _enc(_values(obj), refs, d)}
        if isinstance(obj, pd.Timestamp):
            return {"$": "ts", "v": obj.isoformat()}
        if isinstance(obj, pd.Timedelta):
            return {"$": "td", "v": obj.value}
    if t is dt.datetime:
        return {"$": "ts", "v": obj.isoformat()}
    if t is dt.date:
        return {"$": "date", "v": obj.isoformat()}
    ref = refs.add(obj)
    return {"$": "ref", "id": ref, "callable": callable(obj), "type": t.__name__[:100]}


def _values(obj: Any) -> Any:
    """A pandas column or index as a numpy array (object dtype when it is not plain)."""
    import numpy as np

    try:
        arr = obj.to_numpy()
    except Exception:  # noqa: BLE001 - extension types without a numpy form
        arr = np.asarray(list(obj), dtype=object)
    if not isinstance(arr, np.ndarray):
        arr = np.asarray(arr, dtype=object)
    return arr


# -- decoding (runs in the grader) --------------------------------------------------------------


def decode(payload: bytes, remote: Any) -> Any:
    """The value :func:`encode` produced; ``remote(tag)`` builds a proxy for a reference.

    Raises :class:`ChannelError` on anything malformed.
    """
    try:
        tree = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ChannelError(f"the candidate's kernel sent a malformed reply: {exc}"[:300]) from None
    try:
        return _dec(tree, remote, 0)
    except ChannelError:
        raise
    except Exception as exc:  # noqa: BLE001 - any inconsistency in hostile input
        detail = f"the candidate's kernel sent a malformed value: {type(exc).__name__}: {exc}"
        raise ChannelError(detail[:300]) from None


def _dec(node: Any, remote: Any, depth: int) -> Any:
    if depth > MAX_DEPTH + 4:
        raise ChannelError("the candidate's kernel sent a value nested too deeply")
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    d = depth + 1
    if isinstance(node, list):
        return [_dec(v, remote, d) for v in node]
    if not isinstance(node, dict) or not isinstance(node.get("$"), str):
        raise ChannelError("the candidate's kernel sent an untagged object")
    tag = node["$"]
    if tag == "dict":
        keys, values = node["k"], node["v"]
        if not isinstance(keys, list) or not isinstance(values, list) or len(keys) != len(values):
            raise ChannelError("malformed dict")
        return {_hashable(_dec(k, remote, d)): _dec(v, remote, d) for k, v in zip(keys, values, strict=True)}
    if tag == "tuple":
        return tuple(_dec(v, remote, d) for v in _list(node["v"]))
    if tag == "set":
        return {_hashable(_dec(v, remote, d)) for v in _list(node["v"])}
    if tag == "int":
        return int(_str(node["v"])[:400])
    if tag == "float":
        v = _str(node["v"])
        if v not in ("nan", "inf", "-inf"):
            raise ChannelError("malformed float")
        return float(v)
    if tag == "bytes":
        return base64.b64decode(_str(node["b"]), validate=True)
    if tag == "npy":
        return _load_npy(_str(node["b"]))
    if tag == "objarray":
        import numpy as np

        shape = tuple(int(x) for x in _list(node["shape"]))
        values = [_dec(v, remote, d) for v in _list(node["v"])]
        arr = np.empty(len(values), dtype=object)
        arr[:] = values if values else arr[:]
        return arr.reshape(shape)
    if tag == "df":
        import pandas as pd

        cols = [_hashable(_dec(c, remote, d)) for c in _list(node["columns"])]
        data = [_array(_dec(v, remote, d)) for v in _list(node["data"])]
        index = _array(_dec(node["index"], remote, d))
        if len(cols) != len(data) or any(len(a) != len(index) for a in data):
            raise ChannelError("malformed DataFrame")
        df = pd.DataFrame({i: a for i, a in enumerate(data)}, index=pd.Index(index))
        df.columns = pd.Index(cols, dtype=object) if cols else df.columns
        return df
    if tag == "series":
        import pandas as pd

        values, index = _array(_dec(node["v"], remote, d)), _array(_dec(node["index"], remote, d))
        if len(values) != len(index):
            raise ChannelError("malformed Series")
        return pd.Series(values, index=pd.Index(index), name=_hashable(_dec(node["name"], remote, d)))
    if tag == "index":
        import pandas as pd

        return pd.Index(_array(_dec(node["v"], remote, d)))
    if tag == "ts":
        import pandas as pd

        return pd.Timestamp(_str(node["v"])[:64])
    if tag == "nat":
        import pandas as pd

        return pd.NaT
    if tag == "td":
        import pandas as pd

        return pd.Timedelta(int(node["v"]))
    if tag == "date":
        return dt.date.fromisoformat(_str(node["v"])[:32])
    if tag == "exc":
        return rebuild_exception(node, lookup=_allowed_class)
    if tag == "ref":
        return remote(node)
    raise ChannelError(f"unknown tag {tag[:20]!r}")


def _list(v: Any) -> list:
    if not isinstance(v, list):
        raise ChannelError("expected a list")
    return v


def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise ChannelError("expected a string")
    return v


def _hashable(v: Any) -> Any:
    hash(v)
    return v


def _array(v: Any) -> Any:
    import numpy as np

    if isinstance(v, np.ndarray):
        return v.reshape(-1) if v.ndim != 1 else v
    raise ChannelError("expected an array")


def _load_npy(b64: str) -> Any:
    import numpy as np

    raw = base64.b64decode(b64, validate=True)
    return np.load(io.BytesIO(raw), allow_pickle=False)


# -- exceptions ---------------------------------------------------------------------------------


def _allowed_class(module: str, qualname: str) -> type | None:
    """A class the grader may rebuild an exception on: builtins and the kit's errors only."""
    if module not in _EXC_MODULES or "." in qualname or qualname.startswith("_"):
        return None
    mod = builtins if module == "builtins" else importlib.import_module(module)
    cls = getattr(mod, qualname, None)
    if isinstance(cls, type) and issubclass(cls, BaseException) and not issubclass(cls, _UNSAFE_EXC):
        return cls
    return None


def rebuild_exception(info: dict[str, Any], lookup: Any, attrs: dict[str, Any] | None = None) -> BaseException:
    """An exception that reads like the remote one: same class name and message, and an instance
    of the nearest class in its chain that ``lookup(module, qualname)`` allows."""
    mro = _list(info.get("mro"))
    text = _str(info.get("text", ""))[:MAX_TEXT]
    base: type = Exception
    for entry in mro:
        if not (isinstance(entry, list) and len(entry) == 2 and all(isinstance(x, str) for x in entry)):
            raise ChannelError("malformed exception")
        cls = lookup(entry[0], entry[1])
        if cls is not None:
            base = cls
            break
    name = mro[0][1].rsplit(".", 1)[-1][:100] if mro else "Exception"
    try:
        sub = type(name, (base,), {"__str__": lambda self: text, "__module__": "remote", "__qualname__": name})
    except TypeError:  # a base that cannot be subclassed
        sub = base
    exc = sub.__new__(sub)
    exc.args = (text,)
    for key, value in (attrs or {}).items():
        with contextlib.suppress(Exception):  # read-only attributes stay as they are
            setattr(exc, key, value)
    return exc
