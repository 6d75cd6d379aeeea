"""Matching a clarifying question to a problem's hidden constraints.

A question gets a ranked list of suggestions with a confidence in [0, 1]; assisted mode
proposes the top one when its confidence reaches ``threshold``, auto mode answers from the pack
only when it reaches ``auto_threshold``. :class:`Matcher` is the interface;
:func:`build_matcher` gives the one to use for a problem: the hybrid matcher
(:mod:`server.clarify.hybrid`, BM25 fused with a static embedding model, calibrated
confidences), which falls back to its lexical features if the embedding model is missing.

:class:`LexicalMatcher` (BM25+ over each constraint's title, cues and answer, with Snowball
stemming and a small synonym list) is the previous matcher, kept as the bench's baseline.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import snowballstemmer
from rank_bm25 import BM25Plus

from problems import Constraint

if TYPE_CHECKING:
    from problems import Problem

log = logging.getLogger(__name__)

# Calibrated by bench/matcher_eval.py on the shipped packs' labelled questions.
DEFAULT_THRESHOLD = 0.25

# Words a candidate might use for the same idea, folded onto one term before stemming.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "latency": (
        "slow",
        "fast",
        "speed",
        "quick",
        "quickly",
        "realtime",
        "real-time",
        "ms",
        "milliseconds",
        "response",
        "p99",
        "p95",
        "sla",
        "timeout",
        "time",
    ),
    "cost": ("budget", "price", "pricing", "expensive", "cheap", "spend", "dollar", "dollars", "money", "$"),
    "privacy": ("pii", "personal", "gdpr", "email", "emails", "phone", "phones", "sensitive", "confidential"),
    "duplicate": ("duplicates", "dupe", "dupes", "dedup", "deduplicate", "repeated", "resend", "resent", "copies"),
    "imbalance": (
        "imbalanced",
        "balanced",
        "unbalanced",
        "rare",
        "ratio",
        "proportion",
        "prevalence",
        "skewed",
        "base-rate",
        "positives",
    ),
    "drift": ("shift", "shifted", "changed", "change", "seasonal", "seasonality", "trend"),
    "label": ("labels", "labelled", "labeled", "ground", "truth", "annotation", "annotated", "chargeback"),
    "language": ("languages", "multilingual", "german", "french", "spanish", "english", "locale", "translation"),
    "ratelimit": ("429", "throttle", "throttled", "throttling", "quota", "rpm", "limits"),
    "retry": ("retries", "retrying", "backoff", "idempotent", "idempotency"),
    "stale": ("outdated", "fresh", "freshness", "old", "older", "up-to-date", "updated", "cache", "cached"),
    "evaluate": (
        "evaluation",
        "eval",
        "metric",
        "metrics",
        "measure",
        "measured",
        "success",
        "accuracy",
        "precision",
        "recall",
        "score",
        "judge",
    ),
    "inject": ("injection", "jailbreak", "malicious", "instructions", "adversarial"),
    "leak": ("leakage", "leaky", "future", "after-the-fact", "available"),
    "scale": ("volume", "throughput", "million", "millions", "qps", "traffic", "load"),
}
_CANONICAL = {word: canon for canon, words in SYNONYMS.items() for word in words}
_WORD = re.compile(r"[a-z0-9$][a-z0-9'$-]*")
_STOP_WORDS = (
    "a an the is are was were be been do does did to of in on for and or with what how any there this that it "
    "we you i our your they them their my me can could should would will shall may might have has had if when "
    "which who about at by from as so but not no yes just also get got need needs "
    "use using used want ok okay fine like make work way thing things one per each every all some other "
    "well much many more most only then than too very really actually here where why whether either else "
    "going go let lets i'm it's that's there's isn't don't does doesn't me us also"
)
_STOP = frozenset(_STOP_WORDS.split(" "))
_stemmer = snowballstemmer.stemmer("english")


def terms(text: str) -> list[str]:
    """Lower-cased, synonym-folded, stemmed terms of ``text`` without stop words."""
    words = [w.strip("'-") for w in _WORD.findall(text.lower())]
    folded = [_CANONICAL.get(w, w) for w in words if w and w not in _STOP]
    return _stemmer.stemWords(folded)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A constraint a question may be about, with a confidence in [0, 1]."""

    constraint: str
    confidence: float


class Matcher(Protocol):
    """Proposes constraints for a question. Called by the session runtime on every ``ask``.

    ``threshold``: assisted mode proposes the top suggestion at or above it.
    ``auto_threshold``: auto mode answers from the pack only at or above it.
    """

    threshold: float
    auto_threshold: float

    def suggest(self, question: str, k: int = 3) -> list[Suggestion]: ...


class LexicalMatcher:
    """BM25+ over one document per constraint: its title, cue phrasings, answer and category.

    BM25+ (unlike Okapi BM25) keeps every term's IDF positive, which matters with five to ten
    documents per problem; the part of the score every document gets alike is subtracted.
    """

    def __init__(
        self,
        constraints: Sequence[Constraint],
        *,
        threshold: float = DEFAULT_THRESHOLD,
        examples: Sequence[tuple[str, str]] = (),
    ) -> None:
        """``examples`` are labelled questions ``(text, constraint id)`` added to the phrasings."""
        self.threshold = threshold
        # Never calibrated for auto mode: the hybrid matcher's confidences are.
        self.auto_threshold = threshold
        self._ids = [c.id for c in constraints]
        extra: dict[str, list[str]] = {}
        for text, cid in examples:
            if cid:
                extra.setdefault(cid, []).append(text)
        docs = [
            terms(" ".join((c.title, *c.cues, *extra.get(c.id, ()), c.answer, c.id.replace("-", " "), c.category)))
            for c in constraints
        ]
        self._vocab = [set(d) for d in docs]
        self._bm25 = BM25Plus(docs) if docs else None

    def suggest(self, question: str, k: int = 3) -> list[Suggestion]:
        query = terms(question)
        if not query or self._bm25 is None:
            return []
        raw = self._bm25.get_scores(query)
        floor = float(min(raw))
        ranked = sorted(
            ((cid, float(score) - floor) for cid, score in zip(self._ids, raw, strict=True)),
            key=lambda kv: kv[1],
            reverse=True,
        )
        if not ranked or ranked[0][1] <= 0:
            return []
        top = ranked[0][1]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        # Coverage: the share of the question's terms the best document contains. A question
        # that shares one incidental word with a constraint is not about it.
        vocab = self._vocab[self._ids.index(ranked[0][0])]
        coverage = sum(1 for t in set(query) if t in vocab) / len(set(query))
        return [
            Suggestion(cid, round(confidence(score, top, second, len(query)) * (0.4 + 0.6 * coverage), 4))
            for cid, score in ranked[:k]
            if score > 0
        ]


def confidence(score: float, top: float, second: float, query_terms: int) -> float:
    """A score's confidence: its strength per query term and its margin over the runner-up.

    Strength saturates (``1 - exp(-score / (2 + terms))``); the margin is how far the top
    score stands above the second. Non-top suggestions are scaled by their share of the top.
    """
    strength = 1.0 - math.exp(-score / (1.0 + 0.5 * query_terms))
    margin = (top - second) / top if top > 0 else 0.0
    share = score / top if top > 0 else 0.0
    return strength * (0.5 + 0.5 * margin) * share


def evaluate(matcher: Matcher, labelled: Sequence[tuple[str, str]]) -> dict[str, float]:
    """Precision and recall of the top suggestion on ``(question, constraint or "")`` pairs.

    A prediction is made when the top suggestion clears the threshold; precision is the share
    of predictions that are right, recall the share of questions with a constraint that got it.
    """
    predicted = correct = positives = 0
    for question, truth in labelled:
        ranked = matcher.suggest(question, k=1)
        guess = ranked[0].constraint if ranked and ranked[0].confidence >= matcher.threshold else ""
        positives += bool(truth)
        if guess:
            predicted += 1
            correct += guess == truth
    precision = correct / predicted if predicted else 1.0
    recall = correct / positives if positives else 1.0
    return {"precision": precision, "recall": recall, "predicted": predicted, "positives": positives}


_offtopic_lock = threading.Lock()
_offtopic_cache: dict[Path, tuple[str, ...]] = {}


def offtopic_examples(packs_dir: Path) -> tuple[str, ...]:
    """Labelled questions about no constraint, from every pack's ``questions.toml`` under ``packs_dir``.

    They teach the matcher what logistics and near misses look like in any problem; read once
    per folder. Only ``questions.toml`` is read: the blind ``eval.toml`` sets never are.
    """
    with _offtopic_lock:
        if packs_dir not in _offtopic_cache:
            found: list[str] = []
            for path in sorted(packs_dir.glob("*/questions.toml")):
                try:
                    raw = tomllib.loads(path.read_text())
                except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                    log.warning("skipping %s for off-topic examples: %s", path, exc)
                    continue
                for q in raw.get("question", []):
                    text = q.get("text") if isinstance(q, dict) else None
                    if isinstance(text, str) and not q.get("constraint") and text not in found:
                        found.append(text)
            _offtopic_cache[packs_dir] = tuple(found)
        return _offtopic_cache[packs_dir]


def build_matcher(
    problem: Problem,
    *,
    examples: Sequence[tuple[str, str]] | None = None,
    offtopic: Sequence[str] | None = None,
    dense: bool = True,
) -> Matcher:
    """The matcher for ``problem``: hybrid, with its calibrated ``threshold`` and ``auto_threshold``.

    ``examples`` default to the pack's labelled questions plus the examples the interviewers'
    judgements made (:mod:`server.clarify.examples`, all but the rejected ones): the matcher
    then follows them, a new one counting from the next question. Given ``examples`` are used
    exactly as given (the bench's way). ``offtopic`` defaults to the questions about nothing
    hidden of every pack beside it. The embedding model is loaded once per process on first
    use (about 0.2 s); if it cannot be, a warning is logged and the lexical features are used
    alone (``dense=False`` forces that).
    """
    from server.clarify.dense import load_embedder
    from server.clarify.hybrid import HybridMatcher

    if examples is None:
        if offtopic is None:
            from server.clarify.examples import learning_matcher

            return learning_matcher(problem, dense=dense)
        examples = [(q.text, q.constraint) for q in problem.questions]
    if offtopic is None:
        offtopic = offtopic_examples(problem.path.parent)
    embedder = load_embedder() if dense else None
    return HybridMatcher(problem.meta.constraint, examples=examples, offtopic=offtopic, embedder=embedder)
