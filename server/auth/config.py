"""Sign-in settings (``CLARIFY_OIDC__<NAME>``). A leaf module: imports nothing from the package.

With no issuer, sign-in is off and Clarify works with the admin token alone (bootstrap).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import NoDecode

TEAM_ROLES = ("admin", "interviewer", "reviewer")

# Read from the environment as plain comma-separated text (not JSON).
Names = Annotated[list[str], NoDecode]


def _names(value: Any) -> Any:
    """Lists from the environment: a JSON list or plain comma-separated names."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class OidcSettings(BaseModel):
    """The company's identity provider, and how long a browser stays signed in."""

    issuer: str | None = Field(None, description="OpenID Connect issuer URL; unset turns sign-in off.")
    client_id: str = Field("", description="Client id registered at the identity provider.")
    client_secret: SecretStr | None = Field(None, description="Client secret (confidential client).")
    scopes: str = Field("openid email profile", description="Scopes requested at sign-in.")
    allowed_domains: Names = Field(
        default_factory=list, description="Email domains allowed to sign in (comma-separated; empty = any)."
    )
    groups_claim: str = Field("groups", description="ID-token claim that lists the member's groups.")
    admin_groups: Names = Field(default_factory=list, description="Groups that make a member an admin.")
    interviewer_groups: Names = Field(default_factory=list, description="Groups that make a member an interviewer.")
    reviewer_groups: Names = Field(default_factory=list, description="Groups that make a member a reviewer.")
    default_role: str | None = Field(
        None, description="Role of a member no group maps (unset: refused until an admin adds them)."
    )
    session_idle_minutes: int = Field(120, description="A browser session ends after this long unused.")
    session_absolute_hours: int = Field(12, description="A browser session ends this long after sign-in.")
    login_timeout_s: int = Field(600, description="Time allowed between leaving for the IdP and coming back.")

    @field_validator("allowed_domains", "admin_groups", "interviewer_groups", "reviewer_groups", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return _names(value)

    @field_validator("default_role")
    @classmethod
    def _role(cls, value: str | None) -> str | None:
        if value is not None and value not in TEAM_ROLES:
            raise ValueError(f"must be one of {', '.join(TEAM_ROLES)}")
        return value

    @property
    def enabled(self) -> bool:
        return bool(self.issuer)

    def role_for_groups(self, groups: list[str]) -> str | None:
        """The highest team role the groups grant (admin > interviewer > reviewer), if any."""
        have = set(groups)
        for role, mapped in (
            ("admin", self.admin_groups),
            ("interviewer", self.interviewer_groups),
            ("reviewer", self.reviewer_groups),
        ):
            if have & set(mapped):
                return role
        return None

    def domain_allowed(self, email: str) -> bool:
        if not self.allowed_domains:
            return True
        domain = email.rpartition("@")[2].lower()
        return domain in {d.lower().lstrip("@") for d in self.allowed_domains}
