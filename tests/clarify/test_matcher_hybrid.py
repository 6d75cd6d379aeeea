"""The hybrid matcher on the blind evaluation sets (each pack's eval.toml), auto mode, fallback.

The blind sets were written from each brief and each constraint's title, answer and category
only, and are never used for tuning: these tests are the honest measure of the matcher.
"""

from __future__ import annotations

import logging
import time
import tomllib

import pytest

from bench.matcher_data import ADDED_MARKER, Query, added_questions, blind_queries
from bench.matcher_eval import ORIGINAL_PACKS
from problems import PACKS_DIR, load_packs
from server.clarify import calibration as cal
from server.clarify.dense import load_embedder
from server.clarify.hybrid import LOGISTICS, question_cues
from server.clarify.matcher import Matcher, Suggestion, build_matcher

TARGET_PRECISION, TARGET_RECALL, MAX_OFFTOPIC, AUTO_PRECISION = 0.9, 0.8, 0.05, 0.95


@pytest.fixture(scope="module")
def blind() -> list[tuple[Query, Suggestion | None, Matcher]]:
    problems, issues = load_packs(PACKS_DIR)
    # Other packs may be half-written while this runs; the original eight must load cleanly.
    assert not [i for i in issues if i.pack in ORIGINAL_PACKS]
    matchers = {pid: build_matcher(p) for pid, p in problems.items()}
    out = []
    for q in blind_queries(problems):
        s = matchers[q.pack].suggest(q.text, k=1)
        out.append((q, s[0] if s else None, matchers[q.pack]))
    # Packs added later may come without a blind set; the original eight all have one.
    assert set(ORIGINAL_PACKS) <= {q.pack for q, _, _ in out}
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
    return {"precision": correct / made, "recall": correct / positives, "offtopic": off_hit / off, "off_hit": off_hit}


def test_dense_model_loads_from_the_installed_wheel() -> None:
    assert load_embedder() is not None


def test_blind_precision_and_recall_meet_the_target_at_the_assisted_threshold(blind) -> None:
    r = rates(blind, auto=False)
    assert r["precision"] >= TARGET_PRECISION and r["recall"] >= TARGET_RECALL, r


def test_blind_offtopic_rate_meets_the_target_at_the_assisted_threshold(blind) -> None:
    r = rates(blind, auto=False)
    assert r["offtopic"] <= MAX_OFFTOPIC, r


def test_precision_and_offtopic_targets_hold_on_the_original_eight_packs(blind) -> None:
    r = rates([row for row in blind if row[0].pack in ORIGINAL_PACKS], auto=False)
    assert r["precision"] >= TARGET_PRECISION and r["offtopic"] <= MAX_OFFTOPIC, r
    r = rates([row for row in blind if row[0].pack in ORIGINAL_PACKS], auto=True)
    assert r["precision"] >= AUTO_PRECISION and r["offtopic"] <= MAX_OFFTOPIC, r


@pytest.mark.xfail(
    strict=True,
    reason="known miss (issue 10): over the original eight packs alone, recall at the assisted "
    "threshold is 0.79-0.80, a question or two short of 0.8 (pooled over every pack it is met)",
)
def test_recall_target_holds_on_the_original_eight_packs(blind) -> None:
    r = rates([row for row in blind if row[0].pack in ORIGINAL_PACKS], auto=False)
    assert r["recall"] >= TARGET_RECALL, r


def test_auto_mode_is_precise_and_rarely_answers_offtopic_questions(blind) -> None:
    r = rates(blind, auto=True)
    assert r["precision"] >= AUTO_PRECISION and r["offtopic"] <= MAX_OFFTOPIC, r


def test_the_frozen_before_matcher_still_runs_and_matches_more_offtopic_questions(blind) -> None:
    """The bench compares against the matcher as it was; it must stay runnable, and worse."""
    problems, _ = load_packs(PACKS_DIR)
    added = added_questions(problems)
    embedder = load_embedder()
    off = [q for q, _, _ in blind if not q.truth]
    before_hits = 0
    for q in off:
        m = q.before(embedder, added)
        assert m.model is cal.BEFORE_DENSE.model and m.threshold == cal.BEFORE_DENSE.threshold
        s = m.suggest(q.text, k=1)
        before_hits += bool(s) and s[0].confidence >= m.threshold
    assert before_hits > rates(blind, auto=False)["off_hit"]


def test_added_examples_concern_no_constraint_and_never_copy_a_blind_question() -> None:
    problems, _ = load_packs(PACKS_DIR)
    added = added_questions(problems)
    assert len(added) >= 8 * 10
    for pid in ORIGINAL_PACKS:
        p = problems[pid]
        text = (p.path / "questions.toml").read_text()
        tail = tomllib.loads(text[text.index(ADDED_MARKER) :])["question"]
        assert tail and all(q["constraint"] == "" for q in tail), pid
    blind = {" ".join(q.text.split()).casefold() for q in blind_queries(problems)}
    assert not {" ".join(t.split()).casefold() for t in added} & blind
    assert not {" ".join(t.split()).casefold() for t in LOGISTICS} & blind


def test_question_cues_spot_files_identifiers_interface_and_logistics_words() -> None:
    assert question_cues("What columns does listings.csv have?") == (1.0, 1.0, 0.0)
    assert question_cues("Should predict_category return a list?") == (1.0, 1.0, 0.0)
    assert question_cues("How many minutes are left?") == (0.0, 0.0, 1.0)
    assert question_cues("Is the label noisy?") == (0.0, 0.0, 0.0)


def test_interface_and_logistics_questions_stay_below_the_assisted_threshold() -> None:
    """Phrasings of the kinds the blind misses were known to be (written here, not taken from
    any eval.toml): data files, return types, signatures, libraries, time, small talk."""
    problems, _ = load_packs(PACKS_DIR)
    cases = {
        "ticket-escalation": ["Do you need the output as a numpy array or a Python list?", "Good afternoon!"],
        "product-categorisation": ["Is listings.csv comma-separated with a header row?", "Can I import xgboost?"],
        "refund-agent": ["What keys will the request dict contain?", "Roughly how long have we got?"],
    }
    for pid, questions in cases.items():
        m = build_matcher(problems[pid])
        for text in questions:
            s = m.suggest(text, k=1)
            assert not s or s[0].confidence < m.threshold, (pid, text, s)


def test_bad_input_gets_no_suggestion_or_valid_confidences() -> None:
    problems, _ = load_packs(PACKS_DIR)
    m = build_matcher(problems["drift-monitor"])
    for text in ("", "   ", "?!?", "\x00\x01", "the of and"):
        assert m.suggest(text) == [], text
    long = "Is there seasonality in the data, weekly or around Black Friday? " * 300
    s = m.suggest(long)
    assert s and all(0.0 <= x.confidence <= 1.0 for x in s)
    assert s[0].constraint == "seasonality"


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
