"""Per-level check thresholds, in the real grading kernel (issue 14).

The server installs ``level.json`` among the grader's private hidden files; a pack's checks.py
reads it and holds a staff candidate to a higher threshold where the threshold is a judgement
call. The same solution, graded twice in fresh kernels, passes at mid and fails at staff.
"""

from __future__ import annotations

import anyio
import pytest

from problems import PACKS_DIR, load_packs
from server.clarify.levels import at_level
from server.grading import CheckResult, run_checks

PACKS = load_packs(PACKS_DIR)[0]

# The reference's scores, ranked and blended 70/30 with fixed noise: recall in the top 10% drops
# from 0.53 to 0.44 (43 of 97) - above the mid bar (0.42), below the staff bar (0.48).
BLURRED_RANKING = """
# %%
_reference_predict = predict_escalation


def predict_escalation(df):
    ranks = pd.Series(np.asarray(_reference_predict(df), dtype=float)).rank(pct=True).to_numpy()
    return 0.7 * ranks + 0.3 * np.random.default_rng(7).random(len(ranks))
"""

# The reference plus two pages for nothing, in the first two weeks (before any planted drift): one
# a week is within the weekly budget; four false-alert days in twelve weeks is over staff's one a month.
EXTRA_FALSE_PAGES = """
# %%
_reference_detect = detect_drift


def detect_drift(daily, reference):
    alerts = list(_reference_detect(daily, reference))
    first = pd.to_datetime(daily["date"]).min().normalize()
    for offset in (1, 8):
        day = first + pd.Timedelta(days=offset)
        alerts.append({"date": day, "feature": "distance_km", "segment": "grocery", "reason": "p95 moved"})
    return alerts
"""

CASES = {
    "ticket-escalation": ("recall-at-budget", BLURRED_RANKING),
    "drift-monitor": ("false-alert-budget", EXTRA_FALSE_PAGES),
}


@pytest.mark.timeout(600)
@pytest.mark.parametrize("pack", sorted(CASES))
async def test_the_same_solution_passes_at_mid_and_fails_at_staff(make_kernel, pack: str) -> None:
    check, extra = CASES[pack]
    base = PACKS[pack]
    code = base.reference + extra
    results: dict[str, CheckResult] = {}

    async def grade(level: str) -> None:
        graded = await run_checks(await make_kernel(), at_level(base, level), code)
        results[level] = next(r for r in graded if r.id == check)

    async with anyio.create_task_group() as tg:
        for level in ("mid", "staff"):
            tg.start_soon(grade, level)
    assert results["mid"].status == "passed", results["mid"].detail
    assert results["staff"].status == "failed", results["staff"].detail


@pytest.mark.timeout(600)
async def test_the_reference_passes_the_staff_thresholds(make_kernel) -> None:
    """The higher bar is reachable: each pack's reference clears it."""
    results: dict[str, CheckResult] = {}

    async def grade(pack: str) -> None:
        graded = await run_checks(await make_kernel(), at_level(PACKS[pack], "staff"), PACKS[pack].reference)
        results[pack] = next(r for r in graded if r.id == CASES[pack][0])

    async with anyio.create_task_group() as tg:
        for pack in CASES:
            tg.start_soon(grade, pack)
    for pack, result in results.items():
        assert result.status == "passed", (pack, result.detail)
    assert "at staff level" in results["drift-monitor"].detail
