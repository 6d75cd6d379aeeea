"""Matching, ledger and scoring: pure domain logic, no servers."""

from __future__ import annotations

from pathlib import Path

import pytest

from problems import PACKS_DIR, load_pack
from server.clarify.ledger import Ledger
from server.clarify.matcher import LexicalMatcher, Suggestion, evaluate, terms
from server.clarify.scoring import ScoringConfig, scorecard
from tests.problems.packs import write_pack


@pytest.fixture
def problem(tmp_path: Path):
    return load_pack(write_pack(tmp_path))


def test_terms_fold_synonyms_and_stem() -> None:
    assert terms("How FAST does it need to be?") == terms("is it slow?") == terms("latency")
    assert terms("Are there duplicates?") == terms("any dupes") == terms("duplicate")
    assert terms("the and of") == []


def test_matcher_ranks_the_right_constraint_first(problem) -> None:
    m = LexicalMatcher(problem.meta.constraint)
    assert m.suggest("Are the listings all in English, or other languages too?")[0].constraint == "multilingual"
    assert m.suggest("How quickly must a new listing be checked?")[0].constraint == "latency-budget"
    assert m.suggest("") == [] and m.suggest("the and of") == []
    top = m.suggest("is there a latency budget in milliseconds?")[0]
    assert 0 < top.confidence <= 1


class _TableMatcher:
    """An in-memory Matcher: fixed answers per question, so the counts are known exactly."""

    threshold = 0.5

    def __init__(self, table: dict[str, tuple[str, float]]) -> None:
        self.table = table

    def suggest(self, question: str, k: int = 3) -> list[Suggestion]:
        hit = self.table.get(question)
        return [Suggestion(*hit)] if hit else []


def test_matcher_evaluation_counts_precision_and_recall() -> None:
    m = _TableMatcher(
        {
            "right": ("a", 0.9),  # predicted, correct
            "wrong": ("b", 0.9),  # predicted, wrong
            "unsure": ("a", 0.2),  # below the threshold: no prediction (a missed positive)
            "offtopic": ("a", 0.7),  # predicted for a question about nothing: a false positive
        }
    )
    stats = evaluate(m, [("right", "a"), ("wrong", "a"), ("unsure", "a"), ("offtopic", ""), ("silent", "")])
    assert stats == {"precision": 1 / 3, "recall": 1 / 3, "predicted": 3, "positives": 3}
    assert evaluate(m, [("silent", "")]) == {"precision": 1.0, "recall": 1.0, "predicted": 0, "positives": 0}


def test_ledger_first_discovery_wins_and_volunteered_stays_volunteered() -> None:
    ledger = Ledger(["a", "b", "c"])
    assert ledger.discover("a", "typed", 1000, 3).before_first_run is True
    ledger.note_run(5000)
    ledger.note_run(9000)
    assert ledger.first_run_t == 5000
    assert ledger.discover("b", "volunteered", 6000, 7).before_first_run is False
    assert ledger.discover("b", "typed", 7000, 8) is None
    assert ledger.discover("nope", "typed", 1, 1) is None
    assert ledger.discover("c", "guessed", 1, 1) is None  # type: ignore[arg-type]
    assert ledger.entries["b"].how == "volunteered"
    assert ledger.to_json()["constraints"]["c"] is None


def test_scoring_rewards_early_discovery_and_ignores_volunteered(problem) -> None:
    early, late, told = (
        Ledger(["multilingual", "latency-budget"]),
        Ledger(["multilingual", "latency-budget"]),
        Ledger(["multilingual", "latency-budget"]),
    )
    early.discover("multilingual", "typed", 60_000, 1)
    late.note_run(30_000)
    late.discover("multilingual", "typed", 1_800_000, 1)
    told.discover("multilingual", "volunteered", 60_000, 1)
    s_early = scorecard(problem, early)["parts"]["discovery"]
    s_late = scorecard(problem, late)["parts"]["discovery"]
    s_told = scorecard(problem, told)["parts"]["discovery"]
    assert s_early > s_late > s_told == 0
    # weights: multilingual 2 of 3 total; 1 minute into 45 → time factor 44/45
    assert s_early == pytest.approx(round(100 * 2 * (1 - 60_000 / 2_700_000) / 3, 1))


def test_scorecard_combines_parts_and_names_evidence(problem) -> None:
    ledger = Ledger(["multilingual", "latency-budget"])
    ledger.discover("latency-budget", "aloud", 30_000, 12)
    checks = [{"id": "finds-duplicates", "constraint": "multilingual", "passed": True, "detail": "ok"}]
    ratings = {"framing": {"score": 4, "event": 20, "t": 90_000}}
    card = scorecard(problem, ledger, checks, ratings, ScoringConfig())
    row = next(r for r in card["discovery"] if r["constraint"] == "latency-budget")
    assert row["evidence"] == {"event": 12, "t": 30_000} and row["how"] == "aloud"
    assert card["parts"]["checks"] == 100.0 and card["parts"]["ratings"] == 100.0
    # Discovery 33 (one of two constraints, aloud at 30 s), checks 100, ratings 100.
    assert card["parts"]["discovery"] == 33.0
    assert (card["overall"], card["band"]) == (66.5, "yes")
    assert "volunteered" in card["formula"]


def test_hybrid_matcher_beats_the_lexical_baseline_on_the_tuning_questions() -> None:
    """Leave-one-out on questions.toml (calibration leave-one-pack-out); the blind sets are
    tested in test_matcher_hybrid.py."""
    from bench.matcher_data import Query, tuning_queries
    from bench.matcher_fit import featurise, leave_pack_out, metrics
    from problems import load_packs
    from server.clarify import calibration as cal
    from server.clarify.dense import load_embedder
    from server.clarify.matcher import DEFAULT_THRESHOLD

    problems, _ = load_packs(PACKS_DIR)
    queries = list(tuning_queries(problems, cues=False))
    assert len(queries) >= 150
    after = metrics(leave_pack_out(featurise(queries, load_embedder()), cal.DENSE_FEATURES, 1.0), cal.DENSE_THRESHOLD)
    before = metrics(
        [(q.truth, *_top(Query.lexical(q), q.text)) for q in queries],
        DEFAULT_THRESHOLD,
    )
    assert after["precision"] >= 0.9, after
    assert after["offtopic"] < before["offtopic"] and after["precision"] > before["precision"], (before, after)


def _top(matcher, text: str) -> tuple[str, float]:
    s = matcher.suggest(text, k=1)
    return (s[0].constraint, s[0].confidence) if s else ("", 0.0)
