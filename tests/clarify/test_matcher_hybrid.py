"""The hybrid matcher on the blind evaluation sets (each pack's eval.toml), auto mode, fallback.

The blind sets were written from each brief and each constraint's title, answer and category
only, and are never used for tuning: these tests are the honest measure of the matcher.
"""

from __future__ import annotations

import logging
import time

import pytest

from bench.matcher_data import Query, blind_queries
from problems import PACKS_DIR, load_packs
from server.clarify.dense import load_embedder
from server.clarify.matcher import Matcher, Suggestion, build_matcher

TARGET_PRECISION, TARGET_RECALL, MAX_OFFTOPIC, AUTO_PRECISION = 0.9, 0.8, 0.05, 0.95


@pytest.fixture(scope="module")
def blind() -> list[tuple[Query, Suggestion | None, Matcher]]:
    problems, issues = load_packs(PACKS_DIR)
    assert not issues
    matchers = {pid: build_matcher(p) for pid, p in problems.items()}
    out = []
    for q in blind_queries(problems):
        s = matchers[q.pack].suggest(q.text, k=1)
        out.append((q, s[0] if s else None, matchers[q.pack]))
    assert len({q.pack for q, _, _ in out}) == len(problems), "every pack has a blind set"
    return out


def rates(rows, auto: bool) -> dict[str, float]:
    made = correct = positives = off = off_hit = 0
    for q, s, m in rows:
        hit = s is not None and s.confidence >= (m.auto_threshold if auto else m.threshold)
        positives += bool(q.truth)
        off += not q.truth
        if hit:
            made += 1
            correct += s.constraint == q.truth
            off_hit += not q.truth
    return {"precision": correct / made, "recall": correct / positives, "offtopic": off_hit / off}


def test_dense_model_loads_from_the_installed_wheel() -> None:
    assert load_embedder() is not None


def test_blind_precision_and_recall_meet_the_target_at_the_assisted_threshold(blind) -> None:
    r = rates(blind, auto=False)
    assert r["precision"] >= TARGET_PRECISION and r["recall"] >= TARGET_RECALL, r


@pytest.mark.xfail(
    strict=True,
    reason="known miss (issue 10): about 12% of blind off-topic questions, mostly data-file and "
    "output-format near misses, clear the assisted threshold; auto mode is below 5%",
)
def test_blind_offtopic_rate_meets_the_target_at_the_assisted_threshold(blind) -> None:
    assert rates(blind, auto=False)["offtopic"] <= MAX_OFFTOPIC


def test_auto_mode_is_precise_and_rarely_answers_offtopic_questions(blind) -> None:
    r = rates(blind, auto=True)
    assert r["precision"] >= AUTO_PRECISION and r["offtopic"] <= MAX_OFFTOPIC, r


def test_auto_mode_never_matches_logistics_or_small_talk(blind) -> None:
    matched = [
        (q.pack, q.text, s)
        for q, s, m in blind
        if not q.truth and q.style in ("logistics", "small talk") and s is not None and s.confidence >= m.auto_threshold
    ]
    assert matched == []


def test_confidences_are_probabilities_and_thresholds_are_ordered(blind) -> None:
    for _, s, m in blind:
        assert 0.0 < m.threshold <= m.auto_threshold < 1.0
        assert s is None or 0.0 <= s.confidence <= 1.0


def test_suggest_takes_well_under_20_ms(blind) -> None:
    problems, _ = load_packs(PACKS_DIR)
    m = build_matcher(problems["refund-agent"])
    texts = [q.text for q, _, _ in blind][:200]
    times = []
    for t in texts:
        t0 = time.perf_counter()
        m.suggest(t)
        times.append(time.perf_counter() - t0)
    times.sort()
    assert times[len(times) // 2] < 0.020


def test_a_missing_model_falls_back_to_lexical_with_a_warning(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="server.clarify.dense"):
        assert load_embedder("no_such_embedding_package") is None
    assert "falling back to lexical" in caplog.text
    problems, _ = load_packs(PACKS_DIR)
    m = build_matcher(problems["ticket-escalation"], dense=False)
    assert not m.dense  # type: ignore[attr-defined]
    top = m.suggest("Which columns are filled in only after triage? Is that leakage?")[0]
    assert top.constraint == "leakage" and top.confidence >= m.threshold
    assert m.suggest("") == []
