"""Learning from the interviewers: every confirm, correct and dismiss becomes a labelled example.

When the interviewer answers a typed question with a constraint, that question is an example
of the constraint: a *confirm* when the matcher's top suggestion named it, a *correct* when it
named another (kept as ``proposed``). An answer without a constraint, or a dismissal, says the
question is about nothing hidden (``constraint = ""``, kind *dismiss*). A mark that quotes the
candidate's words (a spoken question, or a typed one marked by hand) is a *confirm*. Auto
mode's own answers are never examples: the matcher must not learn from itself.

Examples are kept in Redis (:class:`ExampleStore`), one per (session, question), pending until
an admin accepts or rejects them (``server/examples_api.py``); ``clarify problems learn`` writes
accepted ones back into the pack's ``questions.toml``. Meanwhile the matcher uses every example
that is not rejected at once: :func:`learning_matcher` (what :func:`build_matcher` gives for a
problem) rebuilds its matcher when :data:`BOOK`, this process's copy of the examples, changes.
The blind ``eval.toml`` sets are never read here.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import redis.asyncio as aioredis

from server import events as ev_types
from server.events import Event

if TYPE_CHECKING:
    from problems import Problem
    from server.clarify.matcher import Matcher, Suggestion

log = logging.getLogger(__name__)

Kind = Literal["confirm", "correct", "dismiss"]
Status = Literal["pending", "accepted", "rejected"]
KINDS: tuple[Kind, ...] = ("confirm", "correct", "dismiss")
STATUSES: tuple[Status, ...] = ("pending", "accepted", "rejected")
MIN_TEXT = 3  # as a pack's labelled question (problems.model.Question)
MAX_TEXT = 2000

# Discoveries that are not the candidate's words about a constraint: typed ones come with their
# answer (already an example), a volunteered one is the interviewer's, a check's is the code's.
_NOT_ASKED = frozenset({"typed", "volunteered", "check"})


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled question: the candidate's words and the constraint they were about."""

    id: str
    problem: str
    text: str
    constraint: str  # "" = about nothing hidden
    kind: Kind
    proposed: str  # the matcher's top suggestion when it was asked ("" = none)
    session: str
    by: str  # the actor who judged it (a member id, or the interviewer link's actor)
    t: int  # ms since the session started: where the words are in the recording
    status: Status = "pending"
    reviewed_by: str = ""
    created_ms: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Example:
        fields = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**fields)

    @property
    def used(self) -> bool:
        """Whether the matcher learns from it (everything an admin has not rejected)."""
        return self.status != "rejected"

    def same_judgement(self, other: Example) -> bool:
        return (self.text, self.constraint, self.kind) == (other.text, other.constraint, other.kind)


def example_id(session: str, key: str) -> str:
    """Stable per (session, question): recording the same judgement twice keeps one example."""
    return hashlib.sha256(f"{session}\x00{key}".encode()).hexdigest()[:16]


# -- derivation (pure) --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Asked:
    """What an example needs of a typed question: its words, when, and the matcher's top pick."""

    id: int
    text: str
    t: int
    top: str  # "" when the matcher suggested nothing


def asked(qid: int, text: str, t: int, suggestions: Sequence[dict[str, Any]]) -> Asked:
    top = suggestions[0].get("constraint") if suggestions and isinstance(suggestions[0], dict) else None
    return Asked(qid, text, t, top if isinstance(top, str) else "")


def derive(problem: str, session: str, ev: Event, questions: dict[int, Asked], now: int = 0) -> Example | None:
    """The example a recorded clarify event makes, if any (``questions``: the session's typed ones)."""
    p = ev.payload
    by = ev.actor
    if ev.type in (ev_types.ANSWER, ev_types.DISMISS):
        if ev.role != "interviewer" or by == "auto":
            return None  # auto mode's own answers: never learn from ourselves
        q = questions.get(p.get("question")) if isinstance(p.get("question"), int) else None
        if q is None:
            return None
        cid = p.get("constraint") if ev.type == ev_types.ANSWER else None
        if cid:
            kind: Kind = "confirm" if cid == q.top else "correct"
        else:
            cid, kind = "", "dismiss"
        return _example(problem, session, f"q{q.id}", q.text, str(cid), kind, q.top, by, q.t, now)
    if ev.type == ev_types.DISCOVERED:
        quote = str(p.get("quote") or "").strip()
        if p.get("how") in _NOT_ASKED or not quote or not p.get("constraint"):
            return None
        cid = str(p["constraint"])
        return _example(problem, session, f"quote:{quote}", quote, cid, "confirm", "", by, ev.t, now)
    return None


def derive_all(problem: str, session: str, events: Iterable[Event], now: int = 0) -> list[Example]:
    """Every example a recording makes, the latest judgement of each question winning."""
    questions: dict[int, Asked] = {}
    found: dict[str, Example] = {}
    made: dict[int, str] = {}  # recorded index -> the example it made (an undo takes it back)
    for index, ev in enumerate(events):
        if ev.type == ev_types.UNDONE:
            undone = made.pop(ev.payload.get("event"), None) if isinstance(ev.payload.get("event"), int) else None
            if undone is not None:
                found.pop(undone, None)
            continue
        if ev.type == ev_types.ASK:
            try:
                q = asked(int(ev.payload["id"]), str(ev.payload["text"]), ev.t, ev.payload.get("suggestions") or [])
            except (KeyError, TypeError, ValueError):
                continue
            questions[q.id] = q
        elif (ex := derive(problem, session, ev, questions, now)) is not None:
            found[ex.id] = ex
            made[index] = ex.id
    return list(found.values())


def _example(
    problem: str, session: str, key: str, text: str, cid: str, kind: Kind, proposed: str, by: str, t: int, now: int
) -> Example | None:
    text = " ".join(text.split())[:MAX_TEXT]
    if len(text) < MIN_TEXT:
        return None
    return Example(example_id(session, key), problem, text, cid, kind, proposed, session, by, t, created_ms=now)


def merge(old: Example | None, new: Example) -> Example:
    """A new judgement of the same question: an unchanged one keeps its review; a changed one
    (the interviewer corrected themselves) is pending again."""
    if old is None:
        return new
    if old.same_judgement(new):
        return old
    return replace(new, created_ms=old.created_ms or new.created_ms)


# -- storage ------------------------------------------------------------------------------

EXAMPLES_KEY = "clarify:examples:{}"  # hash: example id -> JSON, per problem
INDEX_KEY = "clarify:example-index"  # hash: example id -> problem
SESSION_KEY = "clarify:session:{}:examples"  # set: a session's example ids (for erasure)


class ExampleStore:
    """The labelled examples in Redis: one hash per problem, an id index, a set per session."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def put(self, example: Example) -> Example:
        """Store ``example`` (idempotent per id; see :func:`merge`). Returns what is stored."""
        key = EXAMPLES_KEY.format(example.problem)
        raw = await self.redis.hget(key, example.id)
        stored = merge(Example.from_json(json.loads(raw)) if raw else None, example)
        pipe = self.redis.pipeline()
        pipe.hset(key, example.id, json.dumps(stored.to_json()))
        pipe.hset(INDEX_KEY, example.id, example.problem)
        pipe.sadd(SESSION_KEY.format(example.session), example.id)
        await pipe.execute()
        return stored

    async def get(self, example_id: str) -> Example | None:
        problem = await self.redis.hget(INDEX_KEY, example_id)
        if problem is None:
            return None
        raw = await self.redis.hget(EXAMPLES_KEY.format(problem.decode()), example_id)
        return Example.from_json(json.loads(raw)) if raw else None

    async def list(self, problem: str, status: str | None = None) -> list[Example]:
        """A problem's examples, oldest first; only those of ``status`` when given."""
        raw = await self.redis.hgetall(EXAMPLES_KEY.format(problem))
        found = [Example.from_json(json.loads(v)) for v in raw.values()]
        found.sort(key=lambda e: (e.created_ms, e.session, e.t, e.id))
        return [e for e in found if status is None or e.status == status]

    async def review(self, example_id: str, status: Status, by: str, constraint: str | None = None) -> Example | None:
        """An admin's verdict (and, optionally, the right constraint). None: no such example."""
        example = await self.get(example_id)
        if example is None:
            return None
        reviewed = replace(
            example,
            status=status,
            reviewed_by=by,
            constraint=example.constraint if constraint is None else constraint,
        )
        await self.redis.hset(EXAMPLES_KEY.format(example.problem), example.id, json.dumps(reviewed.to_json()))
        return reviewed

    async def delete(self, example: Example) -> None:
        """Forget one example (its judgement was undone within the undo window)."""
        pipe = self.redis.pipeline()
        pipe.hdel(EXAMPLES_KEY.format(example.problem), example.id)
        pipe.hdel(INDEX_KEY, example.id)
        pipe.srem(SESSION_KEY.format(example.session), example.id)
        await pipe.execute()

    async def delete_session(self, session: str) -> int:
        """Forget a session's examples (an erasure: they hold the candidate's words)."""
        ids = [i.decode() for i in await self.redis.smembers(SESSION_KEY.format(session))]
        gone = 0
        for example_id in ids:
            problem = await self.redis.hget(INDEX_KEY, example_id)
            if problem is not None:
                gone += await self.redis.hdel(EXAMPLES_KEY.format(problem.decode()), example_id)
            await self.redis.hdel(INDEX_KEY, example_id)
        await self.redis.delete(SESSION_KEY.format(session))
        BOOK.forget_session(session)
        return gone


# -- this process's copy, which the matcher reads -----------------------------------------

REFRESH_S = 30.0  # how stale another instance's examples may be here


class ExampleBook:
    """This process's copy of the stored examples, per problem, with a version that changes
    whenever the copy does (what tells a matcher to rebuild).

    Written synchronously by the runtime hook (so the very next question already uses a new
    example) and by the review API; read from Redis on first use of a problem and again at
    most every :data:`REFRESH_S`, in the background, so other instances' examples arrive too.
    """

    def __init__(self) -> None:
        self._examples: dict[str, dict[str, Example]] = {}
        self._versions: dict[str, int] = {}
        self._loaded: dict[str, float] = {}
        self._loading: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.store: ExampleStore | None = None
        # (session, recorded index) -> the example that judgement made: an undo takes it back.
        self._by_event: OrderedDict[tuple[str, int], Example] = OrderedDict()
        self._withdrawn: set[str] = set()

    def attach(self, redis: aioredis.Redis) -> ExampleStore:
        """Use ``redis`` (the server's) from now on; a different one starts a fresh copy."""
        if self.store is None or self.store.redis is not redis:
            self.store = ExampleStore(redis)
            self._examples.clear()
            self._loaded.clear()
            for problem in self._versions:
                self._versions[problem] += 1
        return self.store

    def version(self, problem: str) -> int:
        return self._versions.get(problem, 0)

    def labelled(self, problem: str) -> list[tuple[str, str]]:
        """``(text, constraint)`` of every example of ``problem`` the matcher may use."""
        self.poke(problem)
        return [(e.text, e.constraint) for e in self._examples.get(problem, {}).values() if e.used]

    def put(self, example: Example) -> Example:
        """Keep ``example`` here at once (merged as the store merges it)."""
        mine = self._examples.setdefault(example.problem, {})
        stored = merge(mine.get(example.id), example)
        if mine.get(example.id) != stored:
            mine[example.id] = stored
            self._bump(example.problem)
        return stored

    def set(self, example: Example) -> None:
        """Keep ``example`` exactly (what the store holds, or an admin's review)."""
        mine = self._examples.setdefault(example.problem, {})
        if mine.get(example.id) != example:
            mine[example.id] = example
            self._bump(example.problem)

    def replace_all(self, problem: str, examples: Iterable[Example]) -> None:
        fresh = {e.id: e for e in examples}
        if fresh != self._examples.get(problem, {}):
            self._examples[problem] = fresh
            self._bump(problem)

    def forget_session(self, session: str) -> None:
        for problem, mine in self._examples.items():
            gone = [i for i, e in mine.items() if e.session == session]
            for i in gone:
                del mine[i]
            if gone:
                self._bump(problem)

    def observe(self, example: Example, redis: aioredis.Redis) -> None:
        """A new judgement: use it here now, store it in the background (logged if that fails)."""
        store = self.attach(redis)
        self.poke(example.problem)
        self.put(example)
        self._spawn(self._save(store, example))

    def note_event(self, session: str, index: int, example: Example) -> None:
        """Remember which recorded judgement made ``example`` (only the newest few are kept:
        an undo comes within seconds)."""
        self._by_event[(session, index)] = example
        self._withdrawn.discard(example.id)
        while len(self._by_event) > 10_000:
            self._by_event.popitem(last=False)

    def withdraw(self, session: str, index: int, redis: aioredis.Redis | None) -> Example | None:
        """The judgement recorded at ``index`` was undone (a correction): its example is no
        longer used, here at once and in the store in the background."""
        example = self._by_event.pop((session, index), None)
        if example is None:
            return None
        mine = self._examples.get(example.problem, {})
        if mine.pop(example.id, None) is not None:
            self._bump(example.problem)
        self._withdrawn.add(example.id)
        if redis is not None:
            self._spawn(self._delete(self.attach(redis), example))
        return example

    def poke(self, problem: str) -> None:
        """Schedule a read of ``problem``'s examples from Redis if this copy is stale."""
        if self.store is None or problem in self._loading:
            return
        last = self._loaded.get(problem)
        if last is not None and time.monotonic() - last < REFRESH_S:
            return
        self._loading.add(problem)
        if not self._spawn(self._load(self.store, problem)):
            self._loading.discard(problem)

    async def load(self, redis: aioredis.Redis, problems: Iterable[str]) -> None:
        """Read the examples of ``problems`` now (at start-up: the first session has them)."""
        store = self.attach(redis)
        for problem in problems:
            self._loading.add(problem)
            await self._load(store, problem)

    async def wait(self) -> None:
        """Until the background reads and writes started so far are done (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _bump(self, problem: str) -> None:
        self._versions[problem] = self._versions.get(problem, 0) + 1

    def _spawn(self, coro: Any) -> bool:
        try:
            task = asyncio.get_running_loop().create_task(coro)
        except RuntimeError:  # no event loop (a bench or a script): Redis is not ours to read
            coro.close()
            return False
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _save(self, store: ExampleStore, example: Example) -> None:
        try:
            stored = await store.put(example)
            if example.id in self._withdrawn:  # undone while this write was on its way
                await store.delete(example)
            else:
                self.set(stored)
        except Exception as exc:  # noqa: BLE001 - the session goes on; the example stays in memory
            log.warning("example %s of %s not stored: %s", example.id, example.problem, exc)

    async def _delete(self, store: ExampleStore, example: Example) -> None:
        try:
            await store.delete(example)
        except Exception as exc:  # noqa: BLE001 - logged; a review can still reject it
            log.warning("withdrawn example %s of %s not deleted: %s", example.id, example.problem, exc)

    async def _load(self, store: ExampleStore, problem: str) -> None:
        try:
            stored = await store.list(problem)
            if store is self.store:
                # What this process learnt meanwhile and has not stored yet is kept.
                merged = {e.id: e for e in stored}
                for e in self._examples.get(problem, {}).values():
                    merged.setdefault(e.id, e)
                self.replace_all(problem, merged.values())
                self._loaded[problem] = time.monotonic()
        except Exception as exc:  # noqa: BLE001 - retried on the next poke
            log.warning("examples of %s not read: %s", problem, exc)
        finally:
            self._loading.discard(problem)


BOOK = ExampleBook()


def learn_from(rt: Any, event: Event) -> None:
    """The runtime's hook: called with every clarify event it records (``rt``: a SessionRuntime)."""
    if event.type not in (ev_types.ANSWER, ev_types.DISMISS, ev_types.DISCOVERED, ev_types.UNDONE):
        return
    if getattr(rt, "erased", False) or rt.clarify is None:
        return
    if event.type == ev_types.UNDONE:
        undone = event.payload.get("event")
        if isinstance(undone, int) and not isinstance(undone, bool):
            BOOK.withdraw(rt.info.id, undone, rt.recorder.redis)
        return
    questions = {q.id: asked(q.id, q.text, q.t, q.suggestions) for q in rt.clarify.questions}
    example = derive(rt.info.problem, rt.info.id, event, questions, int(time.time() * 1000))
    if example is not None:
        BOOK.observe(example, rt.recorder.redis)
        BOOK.note_event(rt.info.id, rt.event_count, example)  # the index this event is recorded at


# -- the matcher a problem gets ------------------------------------------------------------


_CACHE_SIZE = 64
_built: OrderedDict[tuple[int, bool], tuple[Problem, int, Matcher]] = OrderedDict()


def _matcher_for(problem: Problem, dense: bool) -> Matcher:
    """The problem's matcher at the book's current version, shared by its sessions; built
    (about 15 ms once the embedding model is loaded) only when the examples changed."""
    from server.clarify.matcher import build_matcher

    version = BOOK.version(problem.id)
    key = (id(problem), dense)
    hit = _built.get(key)
    if hit is not None and hit[0] is problem and hit[1] == version:
        _built.move_to_end(key)
        return hit[2]
    learned = BOOK.labelled(problem.id)
    pack = [(q.text, q.constraint) for q in problem.questions]
    seen = {" ".join(t.split()).casefold() for t, _ in pack}
    extra = [(t, c) for t, c in learned if t.casefold() not in seen]
    matcher = build_matcher(problem, examples=pack + extra, dense=dense)
    _built[key] = (problem, BOOK.version(problem.id), matcher)
    _built.move_to_end(key)
    while len(_built) > _CACHE_SIZE:
        _built.popitem(last=False)
    return matcher


class LearningMatcher:
    """A problem's matcher that follows its examples: a new one is used from the next question.

    What :func:`server.clarify.matcher.build_matcher` gives by default; it delegates to the
    hybrid matcher built from the pack's labelled questions plus the stored examples.
    """

    def __init__(self, problem: Problem, *, dense: bool = True) -> None:
        self.problem = problem
        self._dense = dense
        self.current: Matcher = _matcher_for(problem, dense)

    def _fresh(self) -> Matcher:
        self.current = _matcher_for(self.problem, self._dense)
        return self.current

    @property
    def threshold(self) -> float:
        return self._fresh().threshold

    @property
    def auto_threshold(self) -> float:
        return self._fresh().auto_threshold

    def suggest(self, question: str, k: int = 3) -> list[Suggestion]:
        return self._fresh().suggest(question, k)

    def __getattr__(self, name: str) -> Any:
        # Everything else (``dense``, ``features``, ``model``) is the current matcher's.
        if name == "current":
            raise AttributeError(name)
        return getattr(self.current, name)


def learning_matcher(problem: Problem, *, dense: bool = True) -> LearningMatcher:
    return LearningMatcher(problem, dense=dense)
