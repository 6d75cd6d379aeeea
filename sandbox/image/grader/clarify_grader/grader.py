"""The grader process: runs a pack's checks against the candidate's code and reports to the host.

Started by the host with ``docker exec`` as the grader's uid (which the candidate's uid can
neither signal, trace nor read), in isolated mode (``python -I``: no current directory, user
site or ``PYTHON*`` variables on the import path)::

    python -I -m clarify_grader.grader /data/.grader

The directory holds ``manifest.json`` (check functions, the socket address, the per-run
nonce), ``setup.py`` and ``checks.py``; the hidden data is in :data:`clarify_grader.HIDDEN_DIR`.
Each result goes to the exec's own stdout as one line ``CLARIFY-CHECK <nonce> <json>``;
nothing the candidate's process writes can reach that stream.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import socket
import sys
import tempfile
import time
import types
from typing import Any

from clarify_grader import HIDDEN_DIR, wire

CALL_TIMEOUT_S = 90.0
CONNECT_TIMEOUT_S = 30.0
MAX_DETAIL = 2000
SETUP_MODULE = "__clarify_setup__"
PASSED, FAILED, NOT_EXERCISED = "passed", "failed", "not_exercised"
STATUSES = (PASSED, FAILED, NOT_EXERCISED)


class CandidateError(Exception):
    """The candidate's process failed to answer (it exited, hung, or sent garbage)."""


class RemoteObject:
    """An object in the candidate's process: attribute reads and method calls go there."""

    def __init__(self, channel: Channel, ref: int, type_name: str) -> None:
        object.__setattr__(self, "_channel", channel)
        object.__setattr__(self, "_ref", ref)
        object.__setattr__(self, "_type", type_name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._channel.request({"op": "getattr", "ref": self._ref, "name": name})

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("objects of the candidate's code are read-only to the grader")

    def __repr__(self) -> str:
        return f"<candidate {self._type}>"


class RemoteCallable(RemoteObject):
    """A function (or other callable) in the candidate's process."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._channel.request({"op": "call", "ref": self._ref, "args": list(args), "kwargs": kwargs})


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, channel: Channel) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.channel = channel

    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, RemoteObject):
            return ("c", object.__getattribute__(obj, "_ref"), "")
        if self.channel.is_service(obj):
            return ("k", self.channel.export(obj), type(obj).__name__)
        return None


class Channel:
    """The grader's end of the socket: requests into the candidate's process, callbacks out."""

    def __init__(self, sock: socket.socket | None, service_types: tuple[type, ...], llm_factory: Any) -> None:
        self.sock = sock
        self.broken: str | None = None if sock is not None else "the candidate's kernel did not connect"
        self.service_types = service_types
        self.llm_factory = llm_factory
        self.exports: dict[int, Any] = {}
        self._export_ids: dict[int, int] = {}
        self.proxies: dict[int, RemoteObject] = {}

    def is_service(self, obj: Any) -> bool:
        t = type(obj)
        return isinstance(obj, self.service_types) or (t.__module__ == SETUP_MODULE and not isinstance(obj, type))

    def export(self, obj: Any) -> int:
        ref = self._export_ids.get(id(obj))
        if ref is None:
            ref = len(self.exports) + 1
            self.exports[ref] = obj
            self._export_ids[id(obj)] = ref
        return ref

    def _remote(self, tag: dict[str, Any]) -> RemoteObject:
        ref = int(tag["id"])
        proxy = self.proxies.get(ref)
        if proxy is None:
            cls = RemoteCallable if tag.get("callable") is True else RemoteObject
            proxy = cls(self, ref, str(tag.get("type", "object"))[:100])
            self.proxies[ref] = proxy
        return proxy

    def request(self, message: dict[str, Any], timeout: float = CALL_TIMEOUT_S) -> Any:
        """Send ``message``, serve callbacks until the reply comes; returns the value or raises
        the candidate's exception (rebuilt) or :class:`CandidateError`."""
        if self.broken:
            raise CandidateError(self.broken)
        buf = io.BytesIO()
        try:
            _Pickler(buf, self).dump(message)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise TypeError(f"grader: cannot pass this value to the candidate's code: {exc}") from None
        deadline = time.monotonic() + timeout
        try:
            wire.send_frame(self.sock, buf.getvalue())
            while True:
                reply = wire.decode(wire.recv_frame(self.sock, deadline), self._remote)
                if not isinstance(reply, dict):
                    raise wire.ChannelError("the candidate's kernel sent a malformed reply")
                if reply.get("$cb") is True:
                    self._serve_callback(reply)
                    continue
                break
        except wire.ChannelTimeout:
            self.broken = f"the candidate's code did not return within {timeout:.0f} s"
            raise CandidateError(self.broken) from None
        except wire.ChannelClosed:
            self.broken = "the candidate's kernel stopped (it exited or was killed) while grading"
            raise CandidateError(self.broken) from None
        except wire.ChannelError as exc:
            self.broken = str(exc)
            raise CandidateError(self.broken) from None
        except OSError as exc:
            self.broken = f"the channel to the candidate's kernel broke: {exc}"
            raise CandidateError(self.broken) from None
        if "error" in reply:
            err = reply["error"]
            if isinstance(err, BaseException):
                raise err
            raise CandidateError("the candidate's kernel sent a malformed error")
        return reply.get("value")

    def _serve_callback(self, request: dict[str, Any]) -> None:
        """The candidate's code used a grading service: act on it here, where it is counted."""
        reply: dict[str, Any]
        try:
            reply = {"value": self._callback(request)}
        except _MethodReply:
            reply = {"method": True}
        except BaseException as exc:  # noqa: BLE001 - any failure of the service goes back as an exception
            info = wire.exception_info(exc)
            attrs = {k: v for k, v in vars(exc).items() if isinstance(v, (int, float, str, bool, type(None)))}
            reply = {"error": dict(info, attrs=attrs)}
        buf = io.BytesIO()
        try:
            _Pickler(buf, self).dump(reply)
        except Exception as exc:  # noqa: BLE001 - a service value that cannot travel
            buf = io.BytesIO()
            _Pickler(buf, self).dump({"error": dict(wire.exception_info(TypeError(str(exc))), attrs={})})
        wire.send_frame(self.sock, buf.getvalue())

    def _callback(self, request: dict[str, Any]) -> Any:
        op, ref = request.get("op"), request.get("ref")
        if op == "llm":
            return self.llm_factory(request.get("config"))
        obj = self.exports.get(ref) if isinstance(ref, int) else None
        if obj is None:
            raise LookupError("no such grading service")
        name = request.get("name")
        if not isinstance(name, str) or (name.startswith("_") and name not in ("__len__",)):
            raise AttributeError(f"{type(obj).__name__} has no public attribute {name!r}")
        value = getattr(obj, name)
        if op == "getattr":
            if callable(value) and not isinstance(value, type):
                raise _MethodReply
            return value
        if op == "call":
            args, kwargs = request.get("args", []), request.get("kwargs", {})
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise TypeError("malformed call")
            if not all(isinstance(k, str) for k in kwargs):
                raise TypeError("malformed call")
            _only_data(args, 0)
            _only_data(kwargs, 0)
            return value(*args, **kwargs)
        raise ValueError("unknown request")


class _MethodReply(Exception):
    pass


def _only_data(value: Any, depth: int) -> None:
    if isinstance(value, RemoteObject):
        raise TypeError("only data can be passed to a grading service, not objects of your code")
    if isinstance(value, dict):
        for k, v in value.items():
            _only_data(k, depth + 1)
            _only_data(v, depth + 1)
    elif isinstance(value, (list, tuple, set)):
        for v in value:
            _only_data(v, depth + 1)


class Namespace:
    """What a check gets as ``ns``: the candidate's names (looked up in its process), the
    grader's own run of the pack's setup (``ns.setup``), and a few grading controls."""

    def __init__(self, channel: Channel, setup: dict[str, Any]) -> None:
        self._channel = channel
        self._cache: dict[str, Any] = {}
        self.setup = setup

    def _lookup(self, name: str) -> tuple[bool, Any]:
        if name not in self._cache:
            found = self._channel.request({"op": "lookup", "name": name}, timeout=30.0)
            if not isinstance(found, dict):
                raise CandidateError("the candidate's kernel sent a malformed name lookup")
            self._cache[name] = (False, None) if found.get("missing") else (True, found.get("value"))
        return self._cache[name]

    def get(self, name: str, default: Any = None) -> Any:
        """The candidate's ``name``: data as a value, anything else as a proxy (``default`` if unset)."""
        try:
            present, value = self._lookup(name)
        except CandidateError:
            return default
        return value if present else default

    def __contains__(self, name: object) -> bool:
        try:
            return isinstance(name, str) and self._lookup(name)[0]
        except CandidateError:
            return False

    def __getitem__(self, name: str) -> Any:
        present, value = self._lookup(name)
        if not present:
            raise KeyError(name)
        return value

    def bind(self, name: str, value: Any) -> None:
        """Make the candidate's global ``name`` a proxy of the grader's ``value`` (a service)."""
        self._channel.request({"op": "bind", "name": name, "value": value})
        self._cache.pop(name, None)

    def fast_sleep(self, on: bool = True) -> None:
        """Make ``time.sleep`` a no-op in the candidate's process (backoff costs no wall time)."""
        self._channel.request({"op": "fast_sleep", "on": on})


def _llm_factory(setup: dict[str, Any]) -> Any:
    """Twins of the candidate's SimulatedLLM clients, built here from settings the candidate may
    choose (seed, model, pace, failure rates no lower than setup's); prices, latency, context and
    rate limits are the simulated provider's, not the candidate's to set."""
    try:
        from clarify_kit import llm
    except ImportError:
        return lambda config: None
    template = next((v for v in setup.values() if isinstance(v, llm.SimulatedLLM)), None)

    def number(config: dict[str, Any], key: str, default: float, lo: float, hi: float) -> float:
        v = config.get(key, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= float(v) <= hi:
            return default
        return float(v)

    def make(config: Any) -> Any:
        if not isinstance(config, dict):
            raise TypeError("malformed client settings")
        seed = config.get("seed", 0)
        seed = seed if isinstance(seed, int) and not isinstance(seed, bool) else 0
        model = config.get("model", "sim-small")
        model = model if isinstance(model, str) and model in llm.MODELS else "sim-small"
        rate = template.rate_limit_per_minute if template is not None else 60
        client = llm.SimulatedLLM(seed, model, time_scale=number(config, "time_scale", 1.0, 0.0, 10.0),
                                  rate_limit_per_minute=rate)  # fmt: skip
        floor = template or llm.SimulatedLLM(seed, model, time_scale=0)
        for key in ("timeout_rate", "malformed_json_rate", "server_error_rate"):
            low = float(getattr(floor, key))
            setattr(client, key, max(low, number(config, key, low, 0.0, 1.0)))
        return client

    return make


def _service_types() -> tuple[type, ...]:
    found: list[type] = []
    try:
        from clarify_kit import llm, tools, vectors

        found += [llm.SimulatedLLM, tools.ToolEnv, vectors.VectorIndex]
    except ImportError:
        pass
    return tuple(found)


def _connect(address: str) -> socket.socket | None:
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while time.monotonic() < deadline:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect("\0" + address)
            return sock
        except OSError:
            sock.close()
            time.sleep(0.05)
    return None


def _private_tmp() -> None:
    """A temporary directory only this uid can use (``/tmp`` is shared with the candidate)."""
    try:
        tmp = tempfile.mkdtemp(prefix="grader-")
    except OSError:
        return
    tempfile.tempdir = tmp
    for key in ("TMPDIR", "HOME", "MPLCONFIGDIR", "JOBLIB_TEMP_FOLDER"):
        os.environ[key] = tmp
    os.environ["CLARIFY_HIDDEN_DIR"] = HIDDEN_DIR


def _module(name: str, code: str, filename: str) -> dict[str, Any]:
    module = types.ModuleType(name)
    module.__file__ = filename
    sys.modules[name] = module
    exec(compile(code, filename, "exec"), module.__dict__)
    return module.__dict__


def outcome(result: Any) -> tuple[str, str]:
    """A check's return value as ``(status, detail)``.

    A check returns ``(passed, detail)``; ``(NOT_EXERCISED, detail)`` when what it measures never
    happened (the candidate's code never called the model or the tools), or ``(passed, detail,
    status)`` with an explicit status. Anything else is a failure of the check.
    """
    if not isinstance(result, tuple) or len(result) not in (2, 3):
        raise TypeError(f"a check returns (passed, detail), not {type(result).__name__}")
    first, detail = result[0], str(result[1])
    status = result[2] if len(result) == 3 else first
    if status in STATUSES:
        return status, detail
    if len(result) == 3:
        raise ValueError(f"unknown check status {status!r}")
    return (PASSED if bool(first) else FAILED), detail


def _emit(out: Any, nonce: str, function: str, status: str, detail: str) -> None:
    line = json.dumps(
        {"function": function, "passed": status == PASSED, "status": status, "detail": detail[:MAX_DETAIL]}
    )
    out.write(f"CLARIFY-CHECK {nonce} {line}\n".encode())
    out.flush()


def main(directory: str) -> int:
    """Run every check named in the manifest; one result line per check."""
    out = os.fdopen(os.dup(1), "wb")
    # Whatever the checks (or libraries) print goes to stderr, never into the result stream.
    sys.stdout = sys.stderr
    _private_tmp()
    with open(os.path.join(directory, "manifest.json"), encoding="utf-8") as fh:
        manifest = json.load(fh)
    nonce, functions = manifest["nonce"], manifest["functions"]

    def fail_all(detail: str) -> int:
        for name in functions:
            _emit(out, nonce, name, FAILED, detail)
        return 0

    try:
        setup_code = open(os.path.join(directory, "setup.py"), encoding="utf-8").read()  # noqa: SIM115
        setup = _module(SETUP_MODULE, setup_code, "setup.py")
    except BaseException as exc:  # noqa: BLE001 - report, never crash silently
        return fail_all(f"setup.py failed in the grader: {type(exc).__name__}: {exc}")
    try:
        checks_code = open(os.path.join(directory, "checks.py"), encoding="utf-8").read()  # noqa: SIM115
        checks = _module("__clarify_checks__", checks_code, "checks.py")
    except BaseException as exc:  # noqa: BLE001
        return fail_all(f"checks.py failed to load: {type(exc).__name__}: {exc}")
    sock = _connect(manifest["address"])
    channel = Channel(sock, _service_types(), _llm_factory(setup))
    ns = Namespace(channel, setup)
    for name in functions:
        fn = checks.get(name)
        try:
            if not callable(fn):
                raise LookupError(f"checks.py defines no function {name}")
            status, detail = outcome(fn(ns))
        except BaseException as exc:  # noqa: BLE001 - one failing check never stops the others
            status, detail = FAILED, f"{type(exc).__name__}: {exc}"
        if channel.broken and status != PASSED and channel.broken not in detail:
            detail = f"{detail} ({channel.broken})"
        _emit(out, nonce, name, status, detail)
    if sock is not None:
        try:
            channel.sock.settimeout(2)
            buf = io.BytesIO()
            pickle.dump({"op": "bye"}, buf)
            wire.send_frame(sock, buf.getvalue())
        except OSError:
            pass
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "/data/.grader"))
