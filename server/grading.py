"""Hidden checks, run in a separate grading container whose results the candidate cannot forge.

Two processes share the grading container (a fresh pool kernel):

- the candidate's kernel (uid 1000) runs the pack's setup, then the candidate's cells, then a
  small agent (``clarify_grader.agent.serve``) that answers calls into its namespace. It never
  runs check code and cannot read the hidden data;
- the grader (``clarify_grader.grader``), started here with ``docker exec`` as uid 1001, runs the
  pack's ``setup.py`` and ``checks.py`` in its own interpreter, calls the candidate's functions over
  a socket (passing only what a caller would pass, decoding every reply as hostile data), and
  writes one line per check to the exec's own stdout, tagged with a nonce made for this run.

The hidden data and the grader's files are installed by the host into directories only uid
1001 can open. Only the exec's stdout is read, only lines with the nonce count, and each is
validated; a check with no valid line fails with a reason. Nothing the candidate's code does
(exit, hang, print, patch, write files) makes :func:`run_checks` raise.
"""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import anyio
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from problems import Problem
from sandbox import Kernel, SandboxError

log = logging.getLogger(__name__)

GRADER_USER = "1001:1001"
GRADER_UID = 1001
HIDDEN_NAME = "_grading"  # /data/_grading in the container (CLARIFY_HIDDEN_DIR for the checks)
GRADER_NAME = ".grader"  # /data/.grader: manifest, setup.py, checks.py
_BOOTSTRAP = "import clarify_grader.agent as _clarify_agent\n_clarify_agent.install()\ndel _clarify_agent\n"
_SERVE = "import clarify_grader.agent as _clarify_agent\n_clarify_agent.serve({address!r})\n"


CheckStatus = Literal["passed", "failed", "not_exercised"]
"""``not_exercised``: what the check measures never happened (no call to the model, no tool call)."""


@dataclass(frozen=True)
class CheckResult:
    """One hidden check's outcome. ``passed`` is ``status == "passed"``; a check that was not
    exercised did not pass."""

    id: str
    constraint: str
    passed: bool
    detail: str
    status: CheckStatus = "failed"

    def __post_init__(self) -> None:
        if self.passed != (self.status == "passed"):
            # Built from ``passed`` alone (older callers): the status follows it.
            object.__setattr__(self, "status", "passed" if self.passed else "failed")

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "constraint": self.constraint,
            "passed": self.passed,
            "status": self.status,
            "detail": self.detail,
        }


class ReportedCheck(BaseModel):
    """One line of the grader's report (everything else on its stdout is ignored)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    function: str = Field(max_length=200)
    passed: bool
    detail: str = Field(max_length=4000)
    status: CheckStatus | None = None  # absent from graders older than the status field

    @model_validator(mode="after")
    def _status_agrees(self) -> ReportedCheck:
        if self.status is None:
            self.status = "passed" if self.passed else "failed"
        elif self.passed != (self.status == "passed"):
            raise ValueError("passed and status disagree")
        return self


def split_cells(code: str) -> list[str]:
    """Cells of a percent-format script (``# %%`` lines start a cell)."""
    cells: list[list[str]] = [[]]
    for line in code.splitlines():
        if line.strip().startswith("# %%"):
            cells.append([])
        else:
            cells[-1].append(line)
    return [c for c in ("\n".join(lines).strip() for lines in cells) if c]


def parse_report(stdout: bytes, nonce: str) -> dict[str, ReportedCheck]:
    """The first valid result line per check function; lines without the nonce are ignored."""
    prefix = f"CLARIFY-CHECK {nonce} ".encode()
    found: dict[str, ReportedCheck] = {}
    for line in stdout.splitlines():
        if not line.startswith(prefix):
            continue
        try:
            reported = ReportedCheck.model_validate_json(line[len(prefix) :])
        except ValidationError:
            continue
        found.setdefault(reported.function, reported)
    return found


LEVEL_FILE = "level.json"  # {"level": ...} among the hidden files: per-level check thresholds


def _hidden_files(problem: Problem) -> dict[str, bytes]:
    """The pack's ``hidden/`` files, plus ``level.json``: the level the session is interviewed at,
    so a check can hold a staff candidate to a higher threshold than a junior one without any
    change to the grader image (problems/README.md, "Per-level thresholds")."""
    hidden = problem.path / "hidden"
    files = (
        {
            str(p.relative_to(hidden)): p.read_bytes()
            for p in sorted(hidden.rglob("*"))
            if p.is_file() and not p.is_symlink()
        }
        if hidden.is_dir()
        else {}
    )
    files[LEVEL_FILE] = json.dumps({"level": problem.level, "pack_level": problem.meta.level}).encode()
    return files


async def run_checks(
    kernel: Kernel,
    problem: Problem,
    candidate_code: str,
    *,
    cell_timeout: float = 120.0,
    grade_timeout: float = 420.0,
) -> list[CheckResult]:
    """Run ``problem``'s checks against ``candidate_code`` in ``kernel`` (fresh and dedicated; the
    caller discards it afterwards). Returns one result per check, failed ones with a reason."""
    checks = problem.meta.check

    def all_failed(detail: str) -> list[CheckResult]:
        return [CheckResult(c.id, c.constraint, False, detail) for c in checks]

    if not checks:
        return []
    nonce, address = secrets.token_hex(16), f"clarify-grader-{secrets.token_hex(12)}"
    with tempfile.TemporaryDirectory(prefix="clarify-grading-") as tmp:
        staging = Path(tmp) / "data"
        if problem.data_dir is not None:
            shutil.copytree(problem.data_dir, staging, symlinks=False)
        staging.mkdir(exist_ok=True)
        await kernel.load_problem(staging, problem.setup)
    manifest = {"nonce": nonce, "address": address, "functions": [c.function for c in checks]}
    grader_files = {
        "manifest.json": json.dumps(manifest).encode(),
        "setup.py": (problem.setup or "").encode(),
        "checks.py": problem.checks_code.encode(),
    }
    kdir = kernel.handle.kdir
    try:
        kdir.install_private(HIDDEN_NAME, _hidden_files(problem), uid=GRADER_UID, gid=GRADER_UID)
        kdir.install_private(GRADER_NAME, grader_files, uid=GRADER_UID, gid=GRADER_UID)
    except OSError as exc:
        raise SandboxError(f"could not install the grader's files: {exc}") from exc

    stopped = await _run_candidate(kernel, candidate_code, cell_timeout)
    if stopped:
        return all_failed(stopped)

    stdout, trouble = await _grade(kernel, address, grade_timeout)
    reported = parse_report(stdout, nonce)
    if not reported:
        log.warning("grading on kernel %s produced no results: %s", kernel.id, trouble)
    missing = trouble or "the grader gave no result for this check"
    return [
        CheckResult(c.id, c.constraint, r.passed, r.detail, r.status or "failed")
        if (r := reported.get(c.function)) is not None
        else CheckResult(c.id, c.constraint, False, f"the check did not finish: {missing}")
        for c in checks
    ]


async def _run_candidate(kernel: Kernel, code: str, cell_timeout: float) -> str | None:
    """Run the agent's set-up and the candidate's cells; a reason if the kernel did not survive."""
    try:
        await kernel.run(_BOOTSTRAP, silent=True, store_history=False, timeout=30)
        for cell in split_cells(code):
            _, result = await kernel.run(cell, silent=True, store_history=False, timeout=cell_timeout)
            if result.status == "killed" or kernel.state == "dead":
                break
    except SandboxError as exc:  # the candidate's code killed, broke or outran the kernel
        return f"the candidate's code stopped the grading kernel: {exc.reason}"
    except Exception as exc:
        log.warning("grading kernel %s failed unexpectedly", kernel.id, exc_info=True)
        return f"the grading kernel failed while running the candidate's code: {type(exc).__name__}"
    if kernel.state == "dead":
        return f"the candidate's code stopped the grading kernel: {kernel.death_reason or 'it exited'}"
    return None


async def _grade(kernel: Kernel, address: str, grade_timeout: float) -> tuple[bytes, str]:
    """Serve the candidate's namespace while the grader runs; the grader's stdout and any trouble."""
    served = anyio.Event()

    async def serve() -> None:
        try:
            await kernel.run(
                _SERVE.format(address=address), silent=True, store_history=False, timeout=grade_timeout + 60
            )
        except Exception as exc:  # noqa: BLE001 - the agent's end is the candidate's; the grader reports
            log.info("grading agent on kernel %s stopped: %s", kernel.id, exc)
        finally:
            served.set()

    cmd = [
        "timeout", "-s", "KILL", str(int(grade_timeout)),
        "python", "-I", "-m", "clarify_grader.grader", f"/data/{GRADER_NAME}",
    ]  # fmt: skip
    trouble = ""
    async with anyio.create_task_group() as tg:
        tg.start_soon(serve)
        try:
            code, out, err = await kernel.launcher.exec_in(
                kernel.handle, cmd, user=GRADER_USER, workdir=f"/data/{GRADER_NAME}", timeout=grade_timeout + 30
            )
        except Exception as exc:  # noqa: BLE001 - e.g. the candidate used up the container's pids
            code, out, err = None, b"", b""
            trouble = f"the grader could not start in the grading container: {exc}"
        if not trouble and code != 0:
            trouble = (
                f"the grader stopped after {grade_timeout:.0f} s"
                if code in (None, 137, -9)
                else f"the grader exited with code {code}"
            )
            log.warning("grader on kernel %s: exit %s: %s", kernel.id, code, err[-2000:].decode("utf-8", "replace"))
        with anyio.move_on_after(3):
            await served.wait()
        tg.cancel_scope.cancel()
    return out, trouble
