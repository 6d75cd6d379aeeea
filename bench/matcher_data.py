"""The matcher's two data sets: tuning queries (leave-one-out) and the blind evaluation set.

Tuning data is what the pack authors wrote: each constraint's cues and the pack's labelled
``questions.toml``. A tuning query is asked of a matcher built *without* it (the cue removed
from its constraint, or the question removed from the examples and the off-topic pool), so
tuning figures are not measured on memorised text.

The blind set is each pack's ``eval.toml``, written by someone who saw only ``brief.md`` and each
constraint's title, answer and category. It is only ever measured, never fitted on.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field

from problems import Constraint, Problem
from server.clarify import calibration as cal
from server.clarify.dense import StaticEmbedder
from server.clarify.hybrid import HybridMatcher
from server.clarify.matcher import LexicalMatcher, Matcher


@dataclass(frozen=True)
class Query:
    """One labelled question and how to build the matcher it is asked of."""

    pack: str
    text: str
    truth: str  # a constraint id, or "" for a question about nothing hidden
    source: str  # "cue", "question" (questions.toml) or "blind" (eval.toml)
    style: str = ""
    constraints: tuple[Constraint, ...] = field(default=(), repr=False)
    examples: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    offtopic: tuple[str, ...] = field(default=(), repr=False)

    def hybrid(self, embedder: StaticEmbedder | None) -> HybridMatcher:
        return HybridMatcher(self.constraints, examples=self.examples, offtopic=self.offtopic, embedder=embedder)

    def before(self, embedder: StaticEmbedder | None, added: frozenset[str]) -> HybridMatcher:
        """The hybrid matcher as it was before issue 10's off-topic work: its frozen constants,
        and without the questions about nothing hidden added to ``questions.toml`` then."""
        return HybridMatcher(
            self.constraints,
            examples=[e for e in self.examples if e[0] not in added],
            offtopic=[t for t in self.offtopic if t not in added],
            embedder=embedder,
            calibration=cal.BEFORE_DENSE if embedder is not None else cal.BEFORE_LEXICAL,
        )

    def lexical(self) -> Matcher:
        return LexicalMatcher(self.constraints, examples=self.examples)


ADDED_MARKER = "# Added for issue 10"


def added_questions(problems: dict[str, Problem]) -> frozenset[str]:
    """Questions written below ``ADDED_MARKER`` in a ``questions.toml`` (the "before" matcher
    of the bench is built without them)."""
    out: set[str] = set()
    for p in problems.values():
        text = (p.path / "questions.toml").read_text()
        if ADDED_MARKER in text:
            tail = text[text.index(ADDED_MARKER) :]
            out.update(q["text"] for q in tomllib.loads(tail).get("question", []))
    return frozenset(out)


def pooled_offtopic(problems: dict[str, Problem]) -> list[str]:
    """Every pack's labelled questions about no constraint (what ``offtopic_examples`` reads)."""
    out: list[str] = []
    for p in problems.values():
        out.extend(q.text for q in p.questions if not q.constraint and q.text not in out)
    return out


def tuning_queries(problems: dict[str, Problem], *, cues: bool = True) -> Iterator[Query]:
    """Leave-one-out queries from the cues (if ``cues``) and every pack's ``questions.toml``."""
    pool = pooled_offtopic(problems)
    for pid, p in problems.items():
        labelled = [(q.text, q.constraint) for q in p.questions]
        constraints = tuple(p.meta.constraint)
        for i, (text, truth) in enumerate(labelled):
            rest = tuple(labelled[:i] + labelled[i + 1 :])
            yield Query(pid, text, truth, "question", "", constraints, rest, tuple(t for t in pool if t != text))
        if not cues:
            continue
        for ci, c in enumerate(constraints):
            for cue in c.cues:
                kept = [x for x in c.cues if x != cue]
                changed = c.model_copy(update={"cues": kept})
                others = (*constraints[:ci], changed, *constraints[ci + 1 :])
                yield Query(pid, cue, c.id, "cue", "", others, tuple(labelled), tuple(pool))


def blind_queries(problems: dict[str, Problem]) -> Iterator[Query]:
    """Each pack's ``eval.toml``, asked of the matcher built from all its tuning data."""
    pool = tuple(pooled_offtopic(problems))
    for pid, p in problems.items():
        path = p.path / "eval.toml"
        if not path.is_file():
            continue
        ids = {c.id for c in p.meta.constraint}
        labelled = tuple((q.text, q.constraint) for q in p.questions)
        for q in tomllib.loads(path.read_text()).get("question", []):
            truth = q.get("constraint", "")
            if truth and truth not in ids:
                raise ValueError(f"{path}: {truth!r} is not a constraint of {pid}")
            yield Query(pid, q["text"], truth, "blind", q.get("style", ""), tuple(p.meta.constraint), labelled, pool)
