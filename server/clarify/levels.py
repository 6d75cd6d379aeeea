"""The bar a session is held to, by level (issue 14: "levels that change the bar").

A level is more than a label: it decides the band thresholds, which constraint categories weigh
more in discovery, and which rubric dimensions (with anchors phrased for the level) the
interviewer rates. All of it lives in one data file, ``problems/levels.toml``, validated here
when it is read; a broken file is an error naming the file and the field, never a silent default.

Pure: parsing, validation and applying a bar to a problem; the only I/O is reading the file.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from problems import Problem
from problems.model import Category, Dimension, Level

LEVELS_FILE = Path(__file__).resolve().parents[2] / "problems" / "levels.toml"
LEVELS: tuple[str, ...] = get_args(Level)
BAND_NAMES = ("strong yes", "yes", "lean no", "no")


class LevelsError(ValueError):
    """``levels.toml`` is missing or invalid; the message names the file and every bad field."""


class LevelBar(BaseModel):
    """What one level expects (one ``[level.<name>]`` table)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=3, max_length=60)
    summary: str = Field(min_length=10, max_length=300)
    why: str = Field(min_length=10, max_length=600)
    bands: tuple[tuple[float, str], ...] = Field(min_length=2)
    discovery: dict[Category, float] = Field(default_factory=dict)
    dimension: tuple[Dimension, ...] = ()

    @field_validator("bands")
    @classmethod
    def _bands(cls, bands: tuple[tuple[float, str], ...]) -> tuple[tuple[float, str], ...]:
        if tuple(name for _, name in bands) != BAND_NAMES:
            raise ValueError(f"must name the bands {', '.join(BAND_NAMES)}, each once and in that order")
        thresholds = [t for t, _ in bands]
        if any(a <= b for a, b in pairwise(thresholds)):
            raise ValueError("thresholds must fall strictly from the first band to the last")
        if thresholds[-1] != 0 or thresholds[0] > 100:
            raise ValueError("the last band must start at 0 and none above 100")
        return bands

    @field_validator("discovery")
    @classmethod
    def _multipliers(cls, discovery: dict[str, float]) -> dict[str, float]:
        bad = {k: v for k, v in discovery.items() if not 0 < v <= 5}
        if bad:
            raise ValueError(f"multipliers must be above 0 and at most 5 (got {bad})")
        return discovery

    @model_validator(mode="after")
    def _unique_dimensions(self) -> LevelBar:
        ids = [d.id for d in self.dimension]
        if len(ids) != len(set(ids)):
            raise ValueError(f"dimension ids must be unique (got {ids})")
        return self


class Levels(BaseModel):
    """The whole file: one bar per level, every level present."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    level: dict[Level, LevelBar]

    @field_validator("level")
    @classmethod
    def _every_level(cls, level: dict[str, LevelBar]) -> dict[str, LevelBar]:
        missing = [name for name in LEVELS if name not in level]
        if missing:
            raise ValueError(f"every level needs a bar; missing: {', '.join(missing)}")
        return level


def parse_levels(text: str, source: str = "levels.toml") -> Levels:
    """Validate the text of a levels file; :class:`LevelsError` lists every problem with its field."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LevelsError(f"{source}: not valid TOML: {exc}") from None
    try:
        return Levels.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "(top level)"
            lines.append(f"{source}: {field}: {err['msg']}")
        raise LevelsError("\n".join(lines)) from None


def load_levels(path: Path = LEVELS_FILE) -> Levels:
    """The levels file at ``path`` (the shipped one is read once and cached)."""
    if path == LEVELS_FILE:
        return _shipped()
    return _read(path)


def _read(path: Path) -> Levels:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise LevelsError(f"{path}: cannot be read: {exc}") from None
    return parse_levels(text, str(path))


@lru_cache(maxsize=1)
def _shipped() -> Levels:
    return _read(LEVELS_FILE)


def at_level(problem: Problem, level: str | None, levels: Levels | None = None) -> Problem:
    """A copy of ``problem`` for a session interviewed at ``level`` (None: the pack's level).

    Its rubric uses each dimension's anchors for the level (``anchors_by_level``) and gains the
    level's dimensions; a pack dimension with the same id as a level one wins (the pack knows its
    problem). The copy remembers its level, so grading and scoring apply the same bar."""
    if problem.session_level is not None:
        if level in (None, problem.session_level):
            return problem
        raise ValueError(f"problem {problem.id!r} is already set to level {problem.session_level!r}")
    chosen = level or problem.meta.level
    if chosen not in LEVELS:
        raise ValueError(f"unknown level {chosen!r} (one of {', '.join(LEVELS)})")
    bar = (levels or load_levels()).level[chosen]  # type: ignore[index]
    rubric = [d.at_level(chosen) for d in problem.meta.rubric]  # type: ignore[arg-type]
    own = {d.id for d in rubric}
    rubric += [d for d in bar.dimension if d.id not in own]
    meta = problem.meta.model_copy(update={"rubric": rubric})
    return problem.model_copy(update={"meta": meta, "session_level": chosen})


def bar_summary(problem: Problem, levels: Levels | None = None) -> dict[str, Any]:
    """Which bar a scorecard applied and where it came from, JSON-ready (``card["bar"]``)."""
    level = problem.level
    bar = (levels or load_levels()).level[level]
    own = {d.id for d in problem.meta.rubric} - {d.id for d in bar.dimension}
    return {
        "level": level,
        "title": bar.title,
        "summary": bar.summary,
        "why": bar.why,
        "pack_level": problem.meta.level,
        "source": "session" if problem.session_level is not None else "pack",
        "file": "problems/levels.toml",
        "bands": [{"from": t, "name": name} for t, name in bar.bands],
        "discovery_weights": dict(bar.discovery),
        "extra_dimensions": [
            {"id": d.id, "title": d.title} for d in bar.dimension if d.id in {r.id for r in problem.meta.rubric}
        ],
        "pack_dimensions": sorted(own),
    }


def bar_line(bar: dict[str, Any]) -> str:
    """The one line the scorecard page and PDF print, e.g. "Bar applied: senior — ..."."""
    if not bar:
        return ""
    bands = ", ".join(f"{b['name']} from {b['from']:g}" for b in bar.get("bands", []))
    origin = (
        "chosen for this session"
        if bar.get("source") == "session" and bar.get("level") != bar.get("pack_level")
        else "the problem's level"
    )
    extra = ", ".join(d["title"] for d in bar.get("extra_dimensions", []))
    line = f"Bar applied: {bar.get('level')} ({origin}) \u2014 {bar.get('summary', '')}; bands: {bands}"
    return line + (f"; rated also on: {extra}" if extra else "") + "."


def for_session(problem: Problem | None, level: str | None) -> Problem | None:
    """The problem as a session at ``level`` sees it ("" or None: the pack's level); None stays None.

    A level that is not known (a hand-edited store) falls back to the pack's level, so an old or
    odd session still opens."""
    if problem is None:
        return None
    return at_level(problem, level if level in LEVELS else None)
