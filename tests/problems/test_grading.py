"""Hidden checks in a real grading kernel, and every shipped pack's reference solution."""

from __future__ import annotations

from pathlib import Path

import pytest

from problems import PACKS_DIR, load_pack, load_packs
from server.grading import parse_report, run_checks, split_cells
from tests.problems.packs import write_pack


def test_split_cells_follows_the_percent_format() -> None:
    code = "import os\n# %% load\nx = 1\n\n# %%\n\n# %% [markdown]\ny = 2\n"
    assert split_cells(code) == ["import os", "x = 1", "y = 2"]


def test_only_valid_lines_with_the_runs_nonce_count() -> None:
    nonce = "ab" * 16
    out = (
        b'CLARIFY-CHECK 0000 {"function": "check_a", "passed": true, "detail": "forged"}\n'
        + f'CLARIFY-CHECK {nonce} {{"function": "check_a", "passed": "yes", "detail": "coerced?"}}\n'.encode()
        + f'CLARIFY-CHECK {nonce} {{"function": "check_a", "passed": false, "detail": "real", "x": 1}}\n'.encode()
        + f'CLARIFY-CHECK {nonce} {{"function": "check_a", "passed": false, "detail": "real"}}\n'.encode()
        + f'CLARIFY-CHECK {nonce} {{"function": "check_a", "passed": true, "detail": "later"}}\n'.encode()
        + f"CLARIFY-CHECK {nonce} not json\n".encode()
        + b"__CLARIFY_CHECKS__ [{}]\n"
    )
    report = parse_report(out, nonce)
    assert set(report) == {"check_a"}
    assert report["check_a"].passed is False and report["check_a"].detail == "real"


async def test_reference_passes_and_missing_or_broken_code_fails(make_kernel, tmp_path: Path) -> None:
    problem = load_pack(write_pack(tmp_path))
    [result] = await run_checks(await make_kernel(), problem, problem.reference)
    assert result.passed, result
    assert result.id == "finds-duplicates" and result.constraint == "multilingual"
    [result] = await run_checks(await make_kernel(), problem, "# %%\nraise ValueError('oops')\n# %%\nz = 1\n")
    assert not result.passed and result.detail == "duplicate_pairs is not defined"
    [result] = await run_checks(await make_kernel(), problem, "duplicate_pairs = 5")
    assert not result.passed and result.detail.startswith("TypeError")


async def test_the_check_code_never_enters_the_input_history(make_kernel, tmp_path: Path) -> None:
    problem = load_pack(write_pack(tmp_path))
    kernel = await make_kernel()
    await run_checks(kernel, problem, problem.reference)
    events, _ = await kernel.run("print(repr(''.join(In)))")
    assert "check_finds_duplicates" not in "".join(e.text for e in events if e.kind == "stream")


SHIPPED = sorted(load_packs(PACKS_DIR)[0].values(), key=lambda p: p.id)


@pytest.mark.parametrize("problem", SHIPPED, ids=[p.id for p in SHIPPED])
async def test_shipped_pack_setup_runs_and_its_reference_passes_every_check(make_kernel, problem) -> None:
    kernel = await make_kernel()
    result = await kernel.load_problem(problem.data_dir, problem.setup)
    assert result is None or result.status == "ok", result
    # Each starter cell runs; a stub the candidate is meant to fill may raise NotImplementedError.
    for cell in split_cells(problem.starter):
        _, result = await kernel.run(cell)
        assert result.status == "ok" or (result.reason or "").startswith("NotImplementedError"), (cell, result)
    results = await run_checks(await make_kernel(), problem, problem.reference)
    failed = [r for r in results if not r.passed]
    assert failed == [], failed
    assert len(results) == len(problem.meta.check) >= 1
