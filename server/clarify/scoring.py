"""The scorecard: discovery, hidden checks and ratings combined, every figure with its evidence.

Discovery (documented, configurable through :class:`ScoringConfig`):

    credit(c) = 0                                  if c was not discovered, was volunteered,
                                                   or its credit was overturned by a person
              = how_factor * time_factor * run_factor   otherwise
    how_factor  = 1.0 typed, asked out loud, asked the assistant (granted by staff), or found
                  through a failing run: discovering a constraint in the data, shown by a run,
                  scores like asking about it (issue 14)
    time_factor = max(floor, 1 - t / horizon)      horizon = the problem's minutes; earlier counts more
    run_factor  = 1.0 before the first run, after_run otherwise
    discovery   = 100 * Σ w(c) * credit(c) / Σ w(c)
    w(c)        = weight(c) * the level's multiplier for c's category (problems/levels.toml; 1.0
                  when the level names none)

Checks = 100 * weighted share of passed hidden checks (weights from their constraints); a check
that was not exercised (the code never took the path it measures: no call to the model, no tool
call) counts as not passed, and the scorecard says how many were;
ratings = 100 * (mean rating - 1) / 3. Overall is the weighted mean of the parts that exist,
and the band follows from it, with the thresholds of the level the session was interviewed at
(a higher bar for senior and staff; ``card["bar"]`` says which bar was applied and why).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from problems import Problem
from server.clarify.ledger import Ledger
from server.clarify.levels import Levels, bar_summary, load_levels


@dataclass(frozen=True)
class ScoringConfig:
    """Knobs of the formula above."""

    floor: float = 0.25
    after_run: float = 0.7
    check_factor: float = 1.0
    weights: Mapping[str, float] = field(default_factory=lambda: {"discovery": 0.5, "checks": 0.25, "ratings": 0.25})
    bands: Sequence[tuple[float, str]] = ((80, "strong yes"), (65, "yes"), (45, "lean no"), (0, "no"))
    # Multipliers on constraint weights by category (a level's discovery expectations).
    category_weights: Mapping[str, float] = field(default_factory=dict)


def level_config(level: str, levels: Levels | None = None) -> ScoringConfig:
    """The scoring knobs of ``level``'s bar: its band thresholds and discovery multipliers."""
    bar = (levels or load_levels()).level[level]  # type: ignore[index]
    return ScoringConfig(bands=bar.bands, category_weights=dict(bar.discovery))


def discovery_credit(ledger: Ledger, constraint: str, horizon_ms: int, cfg: ScoringConfig) -> float:
    d = ledger.entries.get(constraint)
    if d is None or d.how == "volunteered" or d.overturned is not None:
        return 0.0
    how = cfg.check_factor if d.how == "check" else 1.0
    time_factor = max(cfg.floor, 1.0 - d.t / horizon_ms) if horizon_ms > 0 else 1.0
    return how * time_factor * (1.0 if d.before_first_run else cfg.after_run)


def check_status(result: Mapping[str, Any]) -> str:
    """``passed``, ``failed`` or ``not_exercised``; results recorded before the status existed
    follow ``passed``. Only ``passed`` counts towards the score."""
    status = result.get("status")
    if status in ("failed", "not_exercised") and not result.get("passed"):
        return status
    return "passed" if result.get("passed") else "failed"


def scorecard(
    problem: Problem,
    ledger: Ledger,
    checks: Sequence[Mapping[str, Any]] | None = None,
    ratings: Mapping[str, Mapping[str, Any]] | None = None,
    cfg: ScoringConfig | None = None,
) -> dict[str, Any]:
    """The scorecard as JSON-ready data.

    ``checks`` are results (``id``, ``constraint``, ``passed``, ``status``, ``detail``, ``event``);
    ``ratings`` map a rubric dimension to ``{"score": 1-4, "event": index, "t": ms}``.
    The bar is ``problem``'s level (the session's, see :func:`server.clarify.levels.at_level`,
    else the pack's); ``cfg`` overrides its knobs when given.
    """
    cfg = cfg or level_config(problem.level)
    horizon = problem.meta.minutes * 60_000
    weights = {c.id: c.weight for c in problem.meta.constraint}
    level_weights = {c.id: c.weight * cfg.category_weights.get(c.category, 1.0) for c in problem.meta.constraint}
    rows = []
    for c in problem.meta.constraint:
        d = ledger.entries.get(c.id)
        credit = discovery_credit(ledger, c.id, horizon, cfg)
        rows.append(
            {
                "constraint": c.id,
                "title": c.title,
                "category": c.category,
                "weight": c.weight,
                "level_weight": round(level_weights[c.id], 3),
                "discovered": d is not None,
                "how": d.how if d else None,
                "t": d.t if d else None,
                "before_first_run": d.before_first_run if d else None,
                "credit": round(credit, 3),
                "evidence": {"event": d.event, "t": d.t} if d else None,
                # Credit given by auto mode (nobody judged it), and whether a person took it back.
                "auto": bool(d and d.auto),
                "overturned": d.overturned if d else None,
            }
        )
    total_w = sum(level_weights.values()) or 1.0
    parts: dict[str, float] = {
        "discovery": round(100 * sum(level_weights[r["constraint"]] * r["credit"] for r in rows) / total_w, 1)
    }
    check_rows = [dict(r, status=check_status(r)) for r in checks or []]
    not_exercised = sum(1 for r in check_rows if r["status"] == "not_exercised")
    if check_rows:
        cw = sum(weights.get(r["constraint"], 1.0) for r in check_rows) or 1.0
        passed = sum(weights.get(r["constraint"], 1.0) for r in check_rows if r["passed"])
        parts["checks"] = round(100 * passed / cw, 1)
    rating_rows = dict(ratings or {})
    valid = [r["score"] for r in rating_rows.values() if isinstance(r.get("score"), int | float)]
    if valid:
        parts["ratings"] = round(100 * (sum(valid) / len(valid) - 1) / 3, 1)
    used = {k: cfg.weights[k] for k in parts}
    overall = round(sum(parts[k] * w for k, w in used.items()) / (sum(used.values()) or 1.0), 1)
    band = next(name for threshold, name in cfg.bands if overall >= threshold)
    return {
        "problem": problem.id,
        "formula": __doc__,
        "discovery": rows,
        "first_run_t": ledger.first_run_t,
        "checks": check_rows,
        "checks_not_exercised": not_exercised,
        "ratings": rating_rows,
        "parts": parts,
        "overall": overall,
        "band": band,
        "level": problem.level,
        # Which bar was applied: the level's, with the knobs actually used (``cfg`` may override).
        "bar": {
            **bar_summary(problem),
            "bands": [{"from": t, "name": n} for t, n in cfg.bands],
            "discovery_weights": dict(cfg.category_weights),
        },
    }
