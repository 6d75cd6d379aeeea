"""Domain errors. A leaf module: imports nothing from the package.

Each carries an HTTP status and a websocket close code, and is turned into a response or a
close in one place (``server.http`` and ``server.ws``).
"""

from __future__ import annotations


class ClarifyError(Exception):
    """An error the client should see, with a clear message."""

    status = 400
    close_code = 1008
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def to_json(self) -> dict[str, str]:
        body = {"error": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        return body


class Unauthorized(ClarifyError):
    status, close_code, code = 401, 4401, "unauthorized"


class Forbidden(ClarifyError):
    status, close_code, code = 403, 4403, "forbidden"


class NotFound(ClarifyError):
    status, close_code, code = 404, 4404, "not_found"


class SessionEnded(ClarifyError):
    status, close_code, code = 409, 4409, "session_ended"


class InvalidInput(ClarifyError):
    status, close_code, code = 422, 1007, "invalid"


class Unavailable(ClarifyError):
    status, close_code, code = 503, 1013, "unavailable"


class DocumentTooLarge(ClarifyError):
    """An edit that would grow the shared document past its cap (closes the socket with 1009)."""

    status, close_code, code = 413, 1009, "document_too_large"


class BudgetExceeded(ClarifyError):
    """A per-connection, per-token or per-session budget was used up."""

    status, close_code, code = 429, 1008, "budget"


class QueueFull(ClarifyError):
    """The session's run queue is full; the run was not queued."""

    status, close_code, code = 429, 1008, "queue_full"
