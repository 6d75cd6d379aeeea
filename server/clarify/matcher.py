"""Matching a clarifying question to a problem's hidden constraints.

Lexical first: BM25+ (``rank_bm25``) over each constraint's title, cue phrasings and answer,
with Snowball stemming and a small synonym list that folds words onto one canonical term.
A question gets a ranked list of suggestions with a confidence in [0, 1]; the top one is
proposed when its confidence reaches the calibrated threshold. :class:`Matcher` is the
interface, so an embedding matcher can be added later as an optional extra.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import snowballstemmer
from rank_bm25 import BM25Plus

from problems import Constraint

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
    """Proposes constraints for a question. Called by the session runtime on every ``ask``."""

    threshold: float

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
