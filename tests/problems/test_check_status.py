"""A check that never ran its path says "not exercised", from checks.py to the scorecard page."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from problems import load_pack
from server.clarify.ledger import Ledger
from server.clarify.scoring import scorecard
from server.grading import CheckResult, parse_report, run_checks
from server.scorecard import render_html
from tests.problems.packs import write_pack

NONCE = "cd" * 16


def _line(body: str) -> bytes:
    return f"CLARIFY-CHECK {NONCE} {body}\n".encode()


def test_the_report_carries_a_status_that_agrees_with_passed() -> None:
    out = (
        _line('{"function": "check_a", "passed": true, "status": "not_exercised", "detail": "contradiction"}')
        + _line('{"function": "check_a", "passed": false, "status": "not_exercised", "detail": "idle"}')
        + _line('{"function": "check_b", "passed": true, "detail": "an older grader"}')
        + _line('{"function": "check_c", "passed": false, "status": "skipped", "detail": "unknown"}')
    )
    report = parse_report(out, NONCE)
    assert report["check_a"].status == "not_exercised" and report["check_a"].detail == "idle"
    assert report["check_b"].status == "passed"
    assert "check_c" not in report


def test_a_result_built_from_passed_alone_gets_its_status() -> None:
    assert CheckResult("a", "c", True, "").status == "passed"
    assert CheckResult("a", "c", False, "").status == "failed"
    assert CheckResult("a", "c", False, "", "not_exercised").to_json()["status"] == "not_exercised"
    assert CheckResult("a", "c", False, "", "passed").status == "failed"


def test_not_exercised_counts_as_not_passed_and_the_scorecard_says_so(tmp_path: Path) -> None:
    problem = load_pack(write_pack(tmp_path))
    checks = [
        {"id": "finds-duplicates", "constraint": "multilingual", "passed": False, "status": "not_exercised",
         "detail": "no call to the model"},
    ]  # fmt: skip
    ledger = Ledger([c.id for c in problem.meta.constraint])
    card = scorecard(problem, ledger, checks)
    assert card["parts"]["checks"] == 0.0
    assert card["checks_not_exercised"] == 1 and card["checks"][0]["status"] == "not_exercised"
    older = scorecard(problem, ledger, [dict(checks[0], status=None, passed=True)])
    assert older["checks"][0]["status"] == "passed" and older["parts"]["checks"] == 100.0
    # Only the check row matters here: anything else the page shows renders as empty.
    session = defaultdict(str, id="s1", candidate="Ada", status="ended")
    page = render_html(defaultdict(str, card, session=session, problem_title="t", checks_status="done"))
    assert "not exercised (counts as not passed)" in page


async def test_a_check_can_report_that_it_was_not_exercised(make_kernel, tmp_path: Path) -> None:
    checks = (
        "def check_finds_duplicates(ns):\n"
        "    if not ns.get('duplicate_pairs'):\n"
        "        return 'not_exercised', 'nothing was looked for'\n"
        "    return True, 'found'\n"
    )
    problem = load_pack(write_pack(tmp_path, checks_py=checks))
    [result] = await run_checks(await make_kernel(), problem, "duplicate_pairs = []")
    assert (result.passed, result.status, result.detail) == (False, "not_exercised", "nothing was looked for")
    [result] = await run_checks(await make_kernel(), problem, problem.reference)
    assert (result.passed, result.status) == (True, "passed")
