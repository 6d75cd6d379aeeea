"""Who may receive what. It imports only the role names; the one place that filters by role.

Every message that is not for everyone is tagged with its audience where it is created
(``broadcast(message, audience=STAFF)``); :func:`visible_to` alone decides delivery.
"""

from __future__ import annotations

from typing import Literal

from server.tokens import STAFF_ROLES

__all__ = ["ALL", "STAFF", "STAFF_ROLES", "Audience", "visible_to"]

Audience = Literal["all", "staff"]
ALL: Audience = "all"
STAFF: Audience = "staff"


def visible_to(audience: Audience, role: str) -> bool:
    """Whether a connection of ``role`` may receive a message meant for ``audience``."""
    return audience == ALL or role in STAFF_ROLES
