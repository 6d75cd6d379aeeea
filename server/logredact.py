"""Keep tokens out of logs: uvicorn logs request lines with their query strings.

The filter masks the record's arguments in place and keeps the record whole: uvicorn's access
formatter reads ``record.args`` as a ``(client, method, path, version, status)`` tuple, so a
filter that flattened the message and dropped the arguments would lose every access line that
had a token in it.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Mapping
from typing import Any

MASK = "***"
# ``token=...`` in a query string (also ``access_token=``, ``?token=`` after ``%3F``-decoding)
# and a bearer credential wherever it is quoted (a logged header, an error message).
_QUERY_TOKEN = re.compile(r"((?:^|[?&;\s\"'])[\w.-]*token=)[^&\s\"';#]+", re.IGNORECASE)
_BEARER = re.compile(r"(bearer\s+)[\w.~+/=-]+", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with every token value replaced by ``***``."""
    if "token" not in text.lower() and "bearer" not in text.lower():
        return text
    return _BEARER.sub(rf"\1{MASK}", _QUERY_TOKEN.sub(rf"\1{MASK}", text))


def _redact_arg(value: Any) -> Any:
    # Only strings can carry a token; numbers (a status code, a port) must keep their type,
    # since formatters apply ``%d`` to them.
    return redact(value) if isinstance(value, str) else value


class RedactTokens(logging.Filter):
    """Masks ``token=<value>`` and ``Bearer <value>`` in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(_redact_arg(a) for a in args)
        elif isinstance(args, Mapping):
            record.args = {k: _redact_arg(v) for k, v in args.items()}
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's default logging config with the redaction filter on every handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": "server.logredact.RedactTokens"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_tokens")
    return config
