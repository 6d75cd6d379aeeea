"""Keep role tokens out of logs: uvicorn logs request lines with their query strings."""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

_TOKEN = re.compile(r"(token=)[^&\s\"']+")


class RedactTokens(logging.Filter):
    """Replaces ``token=<value>`` in a record's message with ``token=***``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "token=" in message:
            record.msg = _TOKEN.sub(r"\1***", message)
            record.args = None
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's default logging config with the redaction filter on every handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": "server.logredact.RedactTokens"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_tokens")
    return config
