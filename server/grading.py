"""Hidden checks, run in a separate grading kernel (never the candidate's).

The grading kernel gets the pack's data and hidden files, runs the setup code, then the
candidate's code cell by cell, then the pack's checks; the results come back on one marked
stdout line. Check code never enters the candidate's kernel or its input history.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from problems import Problem
from sandbox import Kernel, Stream

_MARKER = "__CLARIFY_CHECKS__ "
_RUNNER = """
def __clarify_run_checks(names):
    import json as _json, traceback as _tb
    out = []
    for name in names:
        fn = globals().get(name)
        try:
            passed, detail = fn(dict(globals()))
            out.append({"function": name, "passed": bool(passed), "detail": str(detail)})
        except Exception as exc:
            out.append({"function": name, "passed": False, "detail": f"{type(exc).__name__}: {exc}"})
    print(%r + _json.dumps(out))
__clarify_run_checks(%r)
"""


@dataclass(frozen=True)
class CheckResult:
    """One hidden check's outcome."""

    id: str
    constraint: str
    passed: bool
    detail: str

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "constraint": self.constraint, "passed": self.passed, "detail": self.detail}


def split_cells(code: str) -> list[str]:
    """Cells of a percent-format script (``# %%`` lines start a cell)."""
    cells: list[list[str]] = [[]]
    for line in code.splitlines():
        if line.strip().startswith("# %%"):
            cells.append([])
        else:
            cells[-1].append(line)
    return [c for c in ("\n".join(lines).strip() for lines in cells) if c]


async def run_checks(
    kernel: Kernel, problem: Problem, candidate_code: str, *, cell_timeout: float = 120.0
) -> list[CheckResult]:
    """Run ``problem``'s checks against ``candidate_code`` in ``kernel`` (a fresh, dedicated one)."""
    with tempfile.TemporaryDirectory(prefix="clarify-grading-") as tmp:
        staging = Path(tmp) / "data"
        if problem.data_dir is not None:
            shutil.copytree(problem.data_dir, staging, symlinks=False)
        hidden = problem.path / "hidden"
        if hidden.is_dir():
            shutil.copytree(hidden, staging / "_grading", symlinks=False)
        staging.mkdir(exist_ok=True)
        await kernel.load_problem(staging, problem.setup)
    for cell in split_cells(candidate_code):
        await kernel.run(cell, silent=True, store_history=False, timeout=cell_timeout)
    _, result = await kernel.run(problem.checks_code, silent=True, store_history=False)
    checks = problem.meta.check
    if result.status != "ok":
        return [CheckResult(c.id, c.constraint, False, f"checks.py failed to load: {result.reason}") for c in checks]
    events, result = await kernel.run(
        _RUNNER % (_MARKER, [c.function for c in checks]), store_history=False, timeout=cell_timeout * 2
    )
    line = next(
        (ln for e in events if isinstance(e, Stream) for ln in e.text.splitlines() if ln.startswith(_MARKER)), None
    )
    if line is None:
        reason = result.reason or "no result line"
        return [CheckResult(c.id, c.constraint, False, f"the checks did not finish: {reason}") for c in checks]
    by_function = {r["function"]: r for r in json.loads(line[len(_MARKER) :])}
    return [
        CheckResult(c.id, c.constraint, by_function[c.function]["passed"], by_function[c.function]["detail"])
        for c in checks
    ]
