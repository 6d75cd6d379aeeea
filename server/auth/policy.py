"""What each principal may do: the one place that decides.

Team actions (not tied to one session) go by team role; the admin token is an admin.

=================  =====  ===========  ========
action             admin  interviewer  reviewer
=================  =====  ===========  ========
problems.read        x         x          x
sessions.list        x         x          x
sessions.create      x         x
recordings.import    x         x
comparison.read      x         x          x
members.manage       x
audit.read           x
webhooks.manage      x                         (ATS webhooks and their deliveries)
sessions.erase       x                         (erasure, legal hold)
tokens.own           x*        x          x      (* members only: the admin token has no tokens)
=================  =====  ===========  ========

In a session, a member's role follows from their team role (:func:`session_role`): an admin
is the session's interviewer; an interviewer is its interviewer when they host it (created
it) and an observer otherwise; a reviewer is a reviewer (replay, scorecard; never the live
room's staff panel). A role token is exactly its role in its own session.
"""

from __future__ import annotations

from server import tokens
from server.auth.principal import Principal
from server.errors import Forbidden
from server.sessions import SessionInfo

ADMIN, INTERVIEWER, REVIEWER = "admin", "interviewer", "reviewer"

TEAM_ACTIONS: dict[str, frozenset[str]] = {
    "problems.read": frozenset({ADMIN, INTERVIEWER, REVIEWER}),
    "sessions.list": frozenset({ADMIN, INTERVIEWER, REVIEWER}),
    "sessions.create": frozenset({ADMIN, INTERVIEWER}),
    "recordings.import": frozenset({ADMIN, INTERVIEWER}),
    "comparison.read": frozenset({ADMIN, INTERVIEWER, REVIEWER}),
    "members.manage": frozenset({ADMIN}),
    "audit.read": frozenset({ADMIN}),
    "webhooks.manage": frozenset({ADMIN}),
    "examples.review": frozenset({ADMIN}),
    "sessions.erase": frozenset({ADMIN}),
    "tokens.own": frozenset({ADMIN, INTERVIEWER, REVIEWER}),
}

# Roles a member may hold in a live room (the events and document sockets).
LIVE_ROOM_ROLES = frozenset({tokens.INTERVIEWER, tokens.OBSERVER})


def can(principal: Principal, action: str) -> bool:
    """Whether ``principal`` may take a team action."""
    allowed = TEAM_ACTIONS[action]
    if action == "tokens.own" and principal.member is None:
        return False
    return principal.team_role in allowed


def require(principal: Principal, action: str) -> None:
    if not can(principal, action):
        who = principal.team_role or f"{principal.session_role} link"
        raise Forbidden(f"the {who} role cannot do this ({action})")


def session_role(principal: Principal, info: SessionInfo) -> str:
    """The role ``principal`` holds in the session ``info``."""
    if principal.via == "role-token":
        assert principal.session is not None and principal.session.id == info.id
        return str(principal.session_role)
    if principal.is_admin_token or principal.team_role == ADMIN:
        return tokens.INTERVIEWER
    if principal.team_role == INTERVIEWER:
        host = info.host if hasattr(info, "host") else ""
        return tokens.INTERVIEWER if host and principal.member and host == principal.member.id else tokens.OBSERVER
    return tokens.REVIEWER


def require_live_room(principal: Principal, role: str) -> None:
    """Members join a live room as interviewer or observer; a reviewer replays instead."""
    if principal.member is not None and role not in LIVE_ROOM_ROLES:
        raise Forbidden("reviewers read replays and scorecards; the live room is for interviewers")
