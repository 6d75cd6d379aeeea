"""Degenerate solutions fail every shipped pack's hidden checks, in the real grading kernel.

For each pack, every null solution of :mod:`problems.null_solutions` (the untouched starter, a
constant, all None, "I don't know", an answer that never calls the model or the tools) is
graded once, in a fresh grading kernel, the solutions of one pack concurrently. None may pass a
check it is not listed as handling; a check of a path it never took says "not exercised" or
"failed", never "passed".
"""

from __future__ import annotations

import anyio
import pytest

from problems import PACKS_DIR, load_packs
from problems.null_solutions import null_solutions
from server.grading import CheckResult, run_checks

SHIPPED = sorted(load_packs(PACKS_DIR)[0].values(), key=lambda p: p.id)
CONCURRENT = 3  # grading kernels at once: each is a container running pandas and the grader


@pytest.mark.timeout(600)
@pytest.mark.parametrize("problem", SHIPPED, ids=[p.id for p in SHIPPED])
async def test_no_degenerate_solution_passes_a_check_it_does_not_handle(make_kernel, problem) -> None:
    nulls = null_solutions(problem)
    results: dict[str, list[CheckResult]] = {}
    limiter = anyio.CapacityLimiter(CONCURRENT)

    async def grade(index: int) -> None:
        null = nulls[index]
        async with limiter:
            results[null.name] = await run_checks(await make_kernel(), problem, null.code(problem))

    async with anyio.create_task_group() as tg:
        for i in range(len(nulls)):
            tg.start_soon(grade, i)

    wrongly_passed = {
        null.name: [r.id for r in results[null.name] if r.passed and r.id not in null.may_pass] for null in nulls
    }
    assert all(not ids for ids in wrongly_passed.values()), wrongly_passed
    for null in nulls:
        for r in results[null.name]:
            assert r.status in ("passed", "failed", "not_exercised"), r
            assert r.passed == (r.status == "passed"), r
