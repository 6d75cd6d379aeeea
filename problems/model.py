"""The problem-pack model. A leaf module: pydantic only.

A pack is a folder (see ``problems/README.md``); ``problem.toml`` holds what this module
describes. Everything a candidate must never see (constraints, answers, cues, checks, rubric)
lives here and is tagged staff-only by the server where it is sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Specialization = Literal["llm", "ml", "mlops", "agentic"]
Level = Literal["junior", "mid", "senior", "staff"]
Category = Literal["data", "latency", "cost", "scale", "failure-mode", "evaluation", "security", "product"]
SLUG = r"^[a-z0-9][a-z0-9-]{1,62}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Constraint(_Strict):
    """A hidden constraint: what a strong candidate asks about before building."""

    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=3, max_length=120)
    category: Category
    answer: str = Field(min_length=10, description="What the interviewer says when asked.")
    cues: list[str] = Field(min_length=2, description="Ways a candidate might ask about it.")
    weight: float = Field(gt=0, le=10)
    probe: str = Field(min_length=10, description="A follow-up question for the interviewer.")


class Check(_Strict):
    """A hidden check run against the candidate's code in a separate grading kernel."""

    id: str = Field(pattern=SLUG)
    constraint: str
    function: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    description: str = Field(min_length=5)


AnchorKey = Literal["1", "2", "3", "4"]


class Dimension(_Strict):
    """A rubric dimension with anchors for ratings 1-4.

    ``anchors_by_level`` (optional) rephrases some anchors for the level a session is
    interviewed at: the same dimension means more at staff than at junior. Anchors a level
    does not rephrase keep their ``anchors`` wording."""

    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=3)
    anchors: dict[AnchorKey, str]
    anchors_by_level: dict[Level, dict[AnchorKey, str]] = Field(default_factory=dict)

    def at_level(self, level: Level) -> Dimension:
        """This dimension with the anchors of ``level`` in place of the generic ones."""
        override = self.anchors_by_level.get(level)
        return self.model_copy(update={"anchors": {**self.anchors, **override}}) if override else self


class ProblemMeta(_Strict):
    """The contents of ``problem.toml``."""

    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=3, max_length=120)
    specialization: Specialization
    level: Level
    minutes: int = Field(ge=15, le=180)
    summary: str = Field(min_length=10, max_length=300, description="One line for staff lists.")
    constraint: list[Constraint] = Field(min_length=1)
    check: list[Check] = Field(default_factory=list)
    rubric: list[Dimension] = Field(min_length=1)


class Question(_Strict):
    """A labelled example question (``constraint`` empty when it matches none)."""

    text: str = Field(min_length=3)
    constraint: str = ""


class Problem(_Strict):
    """A fully validated pack, ready to serve.

    ``session_level`` is set only on a copy made for one session interviewed at a level (see
    ``server.clarify.levels.at_level``); packs as loaded leave it None and use their own level."""

    meta: ProblemMeta
    path: Path
    brief: str
    starter: str
    setup: str
    checks_code: str
    reference: str
    questions: list[Question]
    session_level: Level | None = None

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def level(self) -> Level:
        """The level this problem is interviewed at: the session's when set, else the pack's."""
        return self.session_level or self.meta.level

    @property
    def data_dir(self) -> Path | None:
        d = self.path / "data"
        return d if d.is_dir() else None

    def summary(self) -> dict[str, object]:
        """What ``GET /api/problems`` lists."""
        m = self.meta
        return {
            "id": m.id,
            "title": m.title,
            "specialization": m.specialization,
            "level": self.level,
            "minutes": m.minutes,
            "summary": m.summary,
        }
