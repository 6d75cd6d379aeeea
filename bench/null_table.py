"""The null-solution table: every pack's degenerate solutions graded in the real grading kernel.

    python -m bench.null_table [--pack ID ...] [--jobs 3] [--json out.json] [--before before.json]
                               [--markdown docs/null-solutions.md]

Each degenerate solution (``problems.null_solutions``) gets one fresh grading kernel, as a
session's grading does; ``--jobs`` of them run at once. The table lists, per pack and solution,
the checks that passed (which must be none the solution does not handle) and the ones that were
not exercised; with ``--before`` (a ``--json`` file of an earlier run) it shows both runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import anyio

from problems import PACKS_DIR, Problem, load_packs
from problems.null_solutions import NullSolution, null_solutions
from sandbox import DockerLauncher, Kernel, SandboxConfig
from sandbox.image import image_tag
from server.grading import CheckResult, run_checks

Outcome = dict[str, list[dict[str, object]]]  # "pack/solution" -> check results


async def grade(launcher: DockerLauncher, problem: Problem, null: NullSolution) -> list[CheckResult]:
    """One grading run of ``null`` in a fresh kernel."""
    kernel = await Kernel.start(launcher)
    try:
        return await run_checks(kernel, problem, null.code(problem))
    finally:
        await kernel.shutdown()


async def grade_all(problems: list[Problem], jobs: int, image: str | None = None) -> Outcome:
    """Every null solution of every problem, ``jobs`` grading kernels at a time."""
    kdir = Path(tempfile.mkdtemp(prefix="cn-", dir="/tmp"))
    config = SandboxConfig(image=image or image_tag(), kernel_dir=kdir, server_id=f"nulls-{time.time_ns()}")
    launcher = DockerLauncher(config)
    limiter = anyio.CapacityLimiter(jobs)
    out: Outcome = {}

    async def one(problem: Problem, null: NullSolution) -> None:
        async with limiter:
            started = time.monotonic()
            results = await grade(launcher, problem, null)
            print(f"{problem.id} / {null.name}: {time.monotonic() - started:.0f} s", file=sys.stderr)
        out[f"{problem.id}/{null.name}"] = [r.to_json() for r in results]

    try:
        async with anyio.create_task_group() as tg:
            for problem in problems:
                for null in null_solutions(problem):
                    tg.start_soon(one, problem, null)
    finally:
        shutil.rmtree(kdir, ignore_errors=True)
    return out


def _cell(results: list[dict[str, object]] | None) -> str:
    if results is None:
        return "—"
    passed = [str(r["id"]) for r in results if r.get("status", "passed" if r["passed"] else "failed") == "passed"]
    idle = [str(r["id"]) for r in results if r.get("status") == "not_exercised"]
    text = "passes " + ", ".join(f"`{c}`" for c in passed) if passed else "passes nothing"
    if idle:
        text += "; not exercised: " + ", ".join(f"`{c}`" for c in idle)
    return text


def markdown(problems: list[Problem], after: Outcome, before: Outcome | None = None) -> str:
    """The table, one row per pack and degenerate solution."""
    columns = ["pack", "degenerate solution", *(["before the fixes", "after"] if before is not None else ["result"])]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for problem in problems:
        for null in null_solutions(problem):
            key = f"{problem.id}/{null.name}"
            row = [problem.id, null.name]
            if before is not None:
                row.append(_cell(before.get(key)))
            row.append(_cell(after.get(key)))
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pack", action="append", help="only this pack (repeatable)")
    parser.add_argument("--jobs", type=int, default=3, help="grading kernels at once")
    parser.add_argument("--json", type=Path, help="write the raw results here")
    parser.add_argument("--before", type=Path, help="an earlier --json file to compare with")
    parser.add_argument("--markdown", type=Path, help="write the table here (otherwise stdout)")
    args = parser.parse_args(argv)
    packs = load_packs(PACKS_DIR)[0]
    problems = sorted((p for p in packs.values() if not args.pack or p.id in args.pack), key=lambda p: p.id)
    after = anyio.run(grade_all, problems, args.jobs)
    if args.json:
        args.json.write_text(json.dumps(after, indent=1, sort_keys=True) + "\n")
    before = json.loads(args.before.read_text()) if args.before else None
    table = markdown(problems, after, before)
    if args.markdown:
        args.markdown.write_text(table)
    else:
        print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
