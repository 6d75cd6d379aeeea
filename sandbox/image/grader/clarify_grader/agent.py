"""The candidate's side of grading: serves the grader's calls into the candidate's namespace.

Runs inside the candidate's kernel, so nothing here is trusted by the grader: it is a
convenience that answers the grader's requests (look a name up, call an object, read an
attribute). The candidate's code may replace any of it; the grader decodes every reply as
hostile data (:mod:`clarify_grader.wire`). In the other direction, the simulated services the
checks measure (LLM clients, tool environments, the document store) live in the grader: the
candidate's code holds :class:`Service` proxies whose calls go back to the grader, and
``clarify_kit.llm.SimulatedLLM`` forwards every call to a twin in the grader while one is
connected, so cost, latency and side effects are counted where the candidate cannot reach them.
"""

from __future__ import annotations

import importlib
import io
import pickle
import socket
import threading
import time
import weakref
from typing import Any

from clarify_grader import wire

_state: dict[str, Any] = {"conn": None, "active": False, "lock": threading.Lock(), "sleep": None}
_twins: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LLM_FORWARDED = ("chat", "complete", "sleep", "now", "reset_usage")


class Service:
    """A simulated service that lives in the grader; attribute reads and calls go there."""

    __slots__ = ("_kind", "_ref")

    def __init__(self, ref: int, kind: str) -> None:
        object.__setattr__(self, "_ref", ref)
        object.__setattr__(self, "_kind", kind)

    def __getattr__(self, name: str) -> Any:
        return _callback({"op": "getattr", "ref": self._ref, "name": name})

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{self._kind} is read-only here")

    def __len__(self) -> int:
        return _callback({"op": "call", "ref": self._ref, "name": "__len__", "args": [], "kwargs": {}})

    def __repr__(self) -> str:
        return f"<{self._kind} (grading service)>"


class ServiceMethod:
    """A method of a :class:`Service`."""

    __slots__ = ("_name", "_ref")

    def __init__(self, ref: int, name: str) -> None:
        self._ref, self._name = ref, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _callback({"op": "call", "ref": self._ref, "name": self._name, "args": list(args), "kwargs": kwargs})

    def __repr__(self) -> str:
        return f"<method {self._name} (grading service)>"


def _callback(request: dict[str, Any]) -> Any:
    """Ask the grader to act on one of its services; only while it waits for a call to finish."""
    with _state["lock"]:
        conn = _state["conn"]
        if conn is None or not _state["active"]:
            raise RuntimeError("grading services can only be used while the grader calls your code")
        wire.send_frame(conn, wire.encode(dict(request, **{"$cb": True}), _REFS))
        reply = _loads(wire.recv_frame(conn))
    if reply.get("error") is not None:
        raise _rebuild(reply["error"])
    if reply.get("method"):
        return ServiceMethod(request["ref"], request["name"])
    return reply.get("value")


def _rebuild(info: dict[str, Any]) -> BaseException:
    exc = wire.rebuild_exception(info, lookup=_local_class, attrs=info.get("attrs") or {})
    return exc


def _local_class(module: str, qualname: str) -> type | None:
    try:
        if module == "__clarify_setup__":
            import __main__

            cls = getattr(__main__, qualname, None)
        else:
            cls = importlib.import_module(module)
            for part in qualname.split("."):
                cls = getattr(cls, part)
    except Exception:  # noqa: BLE001 - not importable here
        return None
    return cls if isinstance(cls, type) and issubclass(cls, BaseException) else None


class _Unpickler(pickle.Unpickler):
    def persistent_load(self, pid: Any) -> Any:
        side, ref, kind = pid
        if side == "c":
            return _REFS.objects[ref]
        return Service(ref, kind)


def _loads(payload: bytes) -> Any:
    return _Unpickler(io.BytesIO(payload)).load()


_REFS = wire.Refs()


# -- the LLM twin -------------------------------------------------------------------------------


def install() -> None:
    """Make ``SimulatedLLM`` forward to the grader while one is connected (before the candidate runs)."""
    try:
        from clarify_kit import llm
    except ImportError:
        return
    cls = llm.SimulatedLLM
    if getattr(cls, "_clarify_forwarded", False):
        return
    for name in _LLM_FORWARDED:
        orig = cls.__dict__.get(name)
        if orig is None:
            continue

        def forward(self, *args, _name=name, _orig=orig, **kwargs):
            twin = _twin(self)
            if twin is None:
                return _orig(self, *args, **kwargs)
            return getattr(twin, _name)(*args, **kwargs)

        forward.__name__ = name
        forward.__doc__ = orig.__doc__
        setattr(cls, name, forward)
    usage = cls.__dict__.get("usage")
    if isinstance(usage, property):
        cls.usage = property(lambda self: _twin(self).usage if _twin(self) is not None else usage.fget(self))
    cls._clarify_forwarded = True


def _twin(client: Any) -> Any:
    if _state["conn"] is None or not _state["active"]:
        return None
    twin = _twins.get(client)
    if twin is None:
        config = {
            "seed": getattr(client, "seed", 0),
            "model": getattr(client, "model", "sim-small"),
            "time_scale": float(getattr(client, "time_scale", 1.0)),
            "timeout_rate": getattr(client, "timeout_rate", 0.0),
            "malformed_json_rate": getattr(client, "malformed_json_rate", 0.0),
            "server_error_rate": getattr(client, "server_error_rate", 0.0),
        }
        twin = _callback({"op": "llm", "ref": 0, "config": config})
        _twins[client] = twin
    return twin


# -- serving ------------------------------------------------------------------------------------


def serve(address: str, namespace: dict[str, Any] | None = None, accept_timeout: float = 60.0) -> None:
    """Answer the grader's requests on the abstract unix socket ``address`` until it says bye."""
    if namespace is None:
        namespace = get_ipython().user_ns  # type: ignore[name-defined]  # noqa: F821
    install()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind("\0" + address)
    listener.listen(1)
    listener.settimeout(accept_timeout)
    try:
        conn, _ = listener.accept()
    finally:
        listener.close()
    conn.settimeout(None)
    _state["conn"] = conn
    try:
        while True:
            try:
                with _state["lock"]:
                    request = _loads(wire.recv_frame(conn))
                    _state["active"] = True
            except wire.ChannelError:
                return
            if request.get("op") == "bye":
                return
            try:
                reply: dict[str, Any] = {"value": _handle(request, namespace)}
            except BaseException as exc:  # noqa: BLE001 - the candidate's code may raise anything
                reply = {"error": exc}
            try:
                payload = wire.encode(reply, _REFS)
            except Exception as exc:  # noqa: BLE001 - a value that cannot be sent
                payload = wire.encode({"error": TypeError(f"the result cannot be sent to the grader: {exc}")}, _REFS)
            with _state["lock"]:
                _state["active"] = False
                wire.send_frame(conn, payload)
    finally:
        _state["conn"], _state["active"] = None, False
        if _state["sleep"] is not None:
            time.sleep = _state["sleep"]
        conn.close()


def _handle(request: dict[str, Any], namespace: dict[str, Any]) -> Any:
    op = request.get("op")
    if op == "lookup":
        name = request["name"]
        if name not in namespace:
            return {"missing": True}
        return {"value": namespace[name]}
    if op == "call":
        obj = _REFS.objects[request["ref"]]
        return obj(*request.get("args", ()), **request.get("kwargs", {}))
    if op == "getattr":
        return getattr(_REFS.objects[request["ref"]], request["name"])
    if op == "bind":
        namespace[request["name"]] = request["value"]
        return None
    if op == "fast_sleep":
        if request.get("on"):
            _state["sleep"] = _state["sleep"] or time.sleep
            time.sleep = lambda _s: None
        elif _state["sleep"] is not None:
            time.sleep, _state["sleep"] = _state["sleep"], None
        return None
    raise ValueError(f"unknown request {op!r}")
