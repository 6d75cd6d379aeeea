"""Team members (staff who sign in), kept in Redis.

A member is identified by the identity provider's ``sub`` and holds one team role: admin,
interviewer or reviewer. The role comes from the IdP's groups (``source = "idp-group"``,
recomputed at every sign-in) or from an admin in the app (``"admin-assigned"``, which then
wins over groups). An admin may add someone before their first sign-in by email: an invite,
turned into a member when that email signs in. A disabled member cannot sign in, and their
browser sessions and personal tokens stop working at once.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

import redis.asyncio as aioredis

from server.auth.config import TEAM_ROLES
from server.errors import InvalidInput, NotFound

MEMBER_KEY = "clarify:member:{}"
MEMBERS_KEY = "clarify:members"
INVITES_KEY = "clarify:member-invites"

ADMIN, INTERVIEWER, REVIEWER = TEAM_ROLES
IDP_GROUP, ADMIN_ASSIGNED = "idp-group", "admin-assigned"


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Member:
    """One person of the hiring team."""

    id: str
    email: str
    name: str
    role: str
    source: str = IDP_GROUP
    disabled: bool = False
    created_ms: int = 0
    last_login_ms: int | None = None

    @property
    def display_name(self) -> str:
        return self.name or self.email or self.id

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Member:
        fields = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**fields)


def check_role(role: Any) -> str:
    if role not in TEAM_ROLES:
        raise InvalidInput(f"role: must be one of {', '.join(TEAM_ROLES)}", field="role")
    return str(role)


class MemberStore:
    """Members and invites in Redis."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def get(self, member_id: str) -> Member | None:
        raw = await self.redis.get(MEMBER_KEY.format(member_id))
        return Member.from_json(json.loads(raw)) if raw else None

    async def require(self, member_id: str) -> Member:
        member = await self.get(member_id)
        if member is None:
            raise NotFound(f"no member {member_id!r}")
        return member

    async def save(self, member: Member) -> Member:
        pipe = self.redis.pipeline()
        pipe.set(MEMBER_KEY.format(member.id), json.dumps(member.to_json()))
        pipe.sadd(MEMBERS_KEY, member.id)
        await pipe.execute()
        return member

    async def list(self) -> list[Member]:
        ids = sorted(i.decode() for i in await self.redis.smembers(MEMBERS_KEY))
        members = [await self.get(i) for i in ids]
        return sorted((m for m in members if m is not None), key=lambda m: (m.display_name.lower(), m.id))

    async def invites(self) -> list[dict[str, Any]]:
        raw = await self.redis.hgetall(INVITES_KEY)
        return sorted((json.loads(v) for v in raw.values()), key=lambda i: i["email"])

    async def invite(self, email: str, role: str, name: str = "") -> dict[str, Any]:
        """An admin adds someone who has not signed in yet (by email)."""
        email = email.strip().lower()
        if "@" not in email:
            raise InvalidInput("email: not an email address", field="email")
        for member in await self.list():
            if member.email.lower() == email:
                raise InvalidInput("email: already a member; change their role instead", field="email")
        invite = {"email": email, "name": name, "role": check_role(role), "created_ms": _now_ms()}
        await self.redis.hset(INVITES_KEY, email, json.dumps(invite))
        return invite

    async def signed_in(
        self, sub: str, email: str, name: str, group_role: str | None, default_role: str | None
    ) -> Member:
        """The member for a successful sign-in (created on the first one); raises when the
        person has no role. The caller checks ``disabled``."""
        existing = await self.get(sub)
        now = _now_ms()
        if existing is not None:
            role, source = existing.role, existing.source
            if source == IDP_GROUP:
                role = group_role or default_role or ""
            if not role:
                raise NoRole("none of your groups gives you a role in Clarify; ask an admin to add you")
            member = replace(existing, email=email, name=name, role=role, last_login_ms=now)
            return await self.save(member)
        raw = await self.redis.hget(INVITES_KEY, email.lower())
        if raw:
            invite = json.loads(raw)
            member = Member(sub, email, name or invite.get("name", ""), invite["role"], ADMIN_ASSIGNED, False, now, now)
            await self.redis.hdel(INVITES_KEY, email.lower())
            return await self.save(member)
        role = group_role or default_role
        if not role:
            raise NoRole("none of your groups gives you a role in Clarify; ask an admin to add you")
        return await self.save(Member(sub, email, name, role, IDP_GROUP, False, now, now))

    async def update(self, member_id: str, *, role: str | None = None, disabled: bool | None = None) -> Member:
        member = await self.require(member_id)
        if role is not None:
            member = replace(member, role=check_role(role), source=ADMIN_ASSIGNED)
        if disabled is not None:
            member = replace(member, disabled=disabled)
        return await self.save(member)


class NoRole(Exception):
    """The person signed in but holds no team role."""
