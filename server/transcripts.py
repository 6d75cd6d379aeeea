"""Spoken questions: call transcripts (WebVTT, SRT) and live caption lines, read into utterances.

Pure: no I/O. A transcript as Zoom, Google Meet or Microsoft Teams export it is parsed with the
``webvtt-py`` and ``srt`` libraries after a line-by-line check of its structure, so a damaged file
is refused naming the line instead of silently losing the cues around the damage. Then three
judgements, each only a suggestion that staff confirm: which speaker is the candidate, which of
their sentences are questions, and how the call's clock lines up with the session's. The
matcher is passed in (``suggest``), so this module never builds one.

Mark ids are strings: ``t<k>.<n>`` is utterance ``n`` of the ``k``-th import (a re-import
replaces the earlier one, and its ids cannot be confused with the old ones), ``c<n>`` is the
``n``-th live caption line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import srt
import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError

from server import events as E
from server.errors import ClarifyError, InvalidInput

MAX_TRANSCRIPT_BYTES = 2 * 1024 * 1024  # a two-hour call is about 200 KB of WebVTT
MAX_UTTERANCES = 10_000
MAX_UTTERANCE_CHARS = 2000
MAX_QUOTE_CHARS = 500

Format = Literal["vtt", "srt"]
VTT_TYPES = ("text/vtt",)
SRT_TYPES = ("application/x-subrip", "text/srt", "application/srt", "text/x-srt")


class TranscriptTooLarge(ClarifyError):
    """A transcript past the size or cue budget (nothing of it is kept)."""

    status, close_code, code = 413, 1009, "too_large"


class UnsupportedTranscript(ClarifyError):
    """A body declared as something that is neither WebVTT nor SRT."""

    status, close_code, code = 415, 1003, "unsupported_media_type"


def _bad(line: int, message: str) -> InvalidInput:
    return InvalidInput(f"line {line}: {message}", field=f"line {line}")


@dataclass(frozen=True, slots=True)
class Utterance:
    """One cue of a transcript (or one caption line): transcript ms, speaker label, text."""

    id: str
    start: int
    end: int
    speaker: str
    text: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# -- parsing ---------------------------------------------------------------------------------

_VTT_TIME = r"(?:\d{1,3}:)?[0-5]\d:[0-5]\d\.\d{3}"
_SRT_TIME = r"\d{1,3}:[0-5]\d:[0-5]\d[,.]\d{3}"
_VTT_TIMING = re.compile(rf"^({_VTT_TIME})[ \t]+-->[ \t]+({_VTT_TIME})(?:[ \t]+.*)?$")
_LOOKS_TIMED = re.compile(r"^\s*\d{1,3}:\d{2}")
_SRT_TIMING = re.compile(rf"^\s*({_SRT_TIME})[ \t]+-->[ \t]+({_SRT_TIME})(?:[ \t]+.*)?\s*$")
# "Dana Smith: text" (Zoom), ">> DANA: text" (broadcast captions); at most five words of name.
_SPEAKER_PREFIX = re.compile(r"^(?:>>\s*|-\s+)?([^\W\d_][\w.'\u2019\-]*(?: [\w.'\u2019\-]+){0,4})\s*:\s+(\S.*)$")
_NOT_NAMES = frozenset({"note", "example", "question", "answer", "edit", "update", "ps", "re", "warning", "http"})


def _ms(stamp: str) -> int:
    parts = stamp.replace(",", ".").split(":")
    seconds = float(parts[-1])
    minutes = int(parts[-2]) if len(parts) > 1 else 0
    hours = int(parts[-3]) if len(parts) > 2 else 0
    return round(((hours * 60 + minutes) * 60 + seconds) * 1000)


def decode(data: bytes) -> str:
    """The body as text: UTF-8 (a byte-order mark is dropped), CRLF and CR read as LF."""
    if not data.strip():
        raise InvalidInput("the transcript is empty", field="body")
    if len(data) > MAX_TRANSCRIPT_BYTES:
        raise TranscriptTooLarge(
            f"the transcript is {len(data)} bytes; at most {MAX_TRANSCRIPT_BYTES} are accepted", field="body"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _bad(line, "not UTF-8 text (export the transcript as UTF-8)") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def detect_format(text: str, content_type: str = "") -> Format:
    """WebVTT or SRT, from the Content-Type when it says, else from the first line."""
    ctype = content_type.split(";")[0].strip().lower()
    if ctype in VTT_TYPES:
        return "vtt"
    if ctype in SRT_TYPES:
        return "srt"
    if ctype and ctype not in ("text/plain", "application/octet-stream", ""):
        raise UnsupportedTranscript(
            f"Content-Type {ctype!r} is not a transcript; send text/vtt (WebVTT) or application/x-subrip (SRT)",
            field="content-type",
        )
    first = text.lstrip("\n").split("\n", 1)[0]
    if first.startswith("WEBVTT"):
        return "vtt"
    if first.strip().isdigit() or _SRT_TIMING.match(first):
        return "srt"
    raise InvalidInput(
        "line 1: neither WebVTT (starts with WEBVTT) nor SRT (starts with a cue number); "
        "send a .vtt or .srt export of the call",
        field="line 1",
    )


def _blocks(lines: Sequence[str]) -> Iterable[tuple[int, list[str]]]:
    """Blank-line separated blocks, each with the 1-based number of its first line."""
    block: list[str] = []
    start = 0
    for n, line in enumerate(lines, start=1):
        if line.strip():
            if not block:
                start = n
            block.append(line)
        elif block:
            yield start, block
            block = []
    if block:
        yield start, block


def _check_vtt(text: str) -> None:
    lines = text.split("\n")
    if not lines[0].startswith("WEBVTT"):
        raise _bad(1, "a WebVTT file starts with WEBVTT")
    header = True
    for start, block in _blocks(lines):
        if header:  # the WEBVTT line and its header lines
            header = False
            if block[0].startswith("WEBVTT"):
                if any("-->" in line for line in block[1:]):
                    raise _bad(start + 1, "a blank line must follow the WEBVTT header before the first cue")
                continue
        if block[0].startswith(("NOTE", "STYLE", "REGION")):
            continue
        timing = 0 if "-->" in block[0] else 1 if len(block) > 1 and "-->" in block[1] else -1
        if timing < 0:
            # Something that starts like a time is damaged timings, not a missing cue.
            timing = next((k for k, line in enumerate(block[:2]) if _LOOKS_TIMED.match(line)), -1)
        if timing < 0:
            raise _bad(start, f"expected cue timings like 00:00:01.000 --> 00:00:04.000, found {block[0][:80]!r}")
        m = _VTT_TIMING.match(block[timing].strip())
        if m is None:
            raise _bad(
                start + timing,
                f"malformed cue timings {block[timing][:80]!r} (expected 00:00:01.000 --> 00:00:04.000)",
            )
        if _ms(m.group(2)) < _ms(m.group(1)):
            raise _bad(start + timing, "the cue ends before it starts")
        for k, line in enumerate(block[timing + 1 :], start=start + timing + 1):
            if "-->" in line:
                raise _bad(k, "cue text must not contain '-->' (is a blank line missing before this cue?)")


def _check_srt(text: str) -> None:
    for start, block in _blocks(text.split("\n")):
        if not block[0].strip().isdigit():
            raise _bad(start, f"expected a cue number, found {block[0][:80]!r}")
        if len(block) < 2:
            raise _bad(start, "a cue number without timings")
        m = _SRT_TIMING.match(block[1])
        if m is None:
            raise _bad(start + 1, f"malformed cue timings {block[1][:80]!r} (expected 00:00:01,000 --> 00:00:04,000)")
        if _ms(m.group(2)) < _ms(m.group(1)):
            raise _bad(start + 1, "the cue ends before it starts")


def _speaker_lines(raw_lines: Sequence[str], voice: str | None) -> list[tuple[str, str]]:
    """(speaker, text) pieces of one cue: a voice tag names the speaker; else "Name: text"
    prefixes do, and a cue whose lines each carry a different name is split."""
    lines = [" ".join(line.split()) for line in raw_lines if line.strip()]
    if not lines:
        return []
    if voice:
        return [(" ".join(voice.split()), " ".join(lines))]
    pieces: list[tuple[str, str]] = []
    for line in lines:
        m = _SPEAKER_PREFIX.match(line)
        name = m.group(1) if m else ""
        if m and name.casefold() not in _NOT_NAMES:
            pieces.append((name, m.group(2)))
        elif pieces:
            speaker, prev = pieces[-1]
            pieces[-1] = (speaker, f"{prev} {line}")
        else:
            pieces.append(("", line))
    return pieces


def _utterances(cues: Iterable[tuple[int, int, str | None, list[str]]], prefix: str) -> list[Utterance]:
    out: list[Utterance] = []
    n = 0
    for start, end, voice, lines in cues:
        for speaker, text in _speaker_lines(lines, voice):
            prev = out[-1] if out else None
            # Rolling captions repeat a line while it is on screen: one utterance, not two.
            if prev and prev.speaker == speaker and prev.text == text and start <= prev.end:
                out[-1] = Utterance(prev.id, prev.start, max(prev.end, end), speaker, text)
                continue
            n += 1
            if n > MAX_UTTERANCES:
                raise TranscriptTooLarge(f"the transcript has more than {MAX_UTTERANCES} cues", field="body")
            out.append(Utterance(f"{prefix}{n}", start, end, speaker[:200], text[:MAX_UTTERANCE_CHARS]))
    # Overlapping cues (two people talking at once) are kept, in order of their start.
    return sorted(out, key=lambda u: u.start)


def parse_transcript(data: bytes, content_type: str = "", prefix: str = "t1.") -> tuple[Format, list[Utterance]]:
    """The utterances of a WebVTT or SRT transcript (transcript ms), or a 4xx naming the line."""
    text = decode(data)
    fmt = detect_format(text, content_type)
    if fmt == "vtt":
        _check_vtt(text)
        try:
            parsed = webvtt.from_string(text)
        except (MalformedFileError, MalformedCaptionError) as exc:
            raise InvalidInput(f"not a valid WebVTT file: {exc}", field="body") from None
        cues = (
            (c.start_time.in_milliseconds(), c.end_time.in_milliseconds(), c.voice, c.text.split("\n"))
            for c in parsed.captions
        )
    else:
        _check_srt(text)
        try:
            subs = list(srt.parse(text))
        except srt.SRTParseError as exc:
            line = text[: exc.actual_start].count("\n") + 1
            raise _bad(line, "not a valid SRT cue") from None
        cues = (
            (int(s.start.total_seconds() * 1000), int(s.end.total_seconds() * 1000), None, s.content.split("\n"))
            for s in subs
        )
    utterances = _utterances(cues, prefix)
    if not utterances:
        raise InvalidInput("the transcript has no cues with text", field="body")
    return fmt, utterances


# -- questions -------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=\S)")
_FILLER = re.compile(
    r"^(?:(?:so|and|but|ok|okay|um+|uh+|er+|hm+|right|well|also|oh|actually|sorry|yeah|yes|alright|then)\b[,.]?\s*)+",
    re.IGNORECASE,
)
# A word list reads best as words.
_OPENERS = frozenset(
    "what what's whats how how's why when where which who whom whose is isn't are aren't was were do does "  # noqa: SIM905
    "did don't doesn't can can't could would should will won't shall may might have has any anything am".split()
)
_ASKING = re.compile(
    r"\b(?:i was wondering|i'm wondering|i am wondering|wondering (?:if|whether|about|what|how)|"
    r"(?:could|can|would) you (?:tell|explain|clarify|say|give)|tell me (?:more )?about|"
    r"i(?:'d| would) like to know|i want to know|i(?:'m| am) curious|curious (?:whether|if|about)|"
    r"do you know|any idea|is it ok(?:ay)? if|is there (?:a|any)|are there any|"
    r"i(?:'d| would) like to (?:ask|check|confirm|understand)|let me ask|quick question|"
    r"just to (?:check|confirm|clarify)|what about|how about)\b",
    re.IGNORECASE,
)
_TAGS = frozenset({"right?", "ok?", "okay?", "yeah?", "no?", "really?", "sorry?", "huh?", "what?", "yes?"})


def sentences(text: str) -> list[str]:
    """The sentences of one utterance (a cue may hold several)."""
    return [s.strip() for s in _SENTENCE_END.split(" ".join(text.split())) if s.strip()]


def is_question(sentence: str) -> bool:
    """A question mark, an interrogative opener ("could you…", "what about…"), or an indirect
    ask ("I was wondering…", "tell me about…"); one- or two-word tags ("right?") are not."""
    s = sentence.strip()
    words = s.split()
    if len(words) < 3 or s.casefold() in _TAGS:
        return False
    if s.endswith("?"):
        return True
    core = _FILLER.sub("", s).lstrip(",. ")
    first = core.split(" ", 1)[0].casefold().strip(",.") if core else ""
    if first in _OPENERS and len(core.split()) >= 3 and not s.endswith("!"):
        return True
    return bool(_ASKING.search(s))


def questions_in(text: str) -> list[str]:
    """The question sentences of an utterance, in order."""
    return [s for s in sentences(text) if is_question(s)]


# -- who is the candidate ----------------------------------------------------------------------


def _tokens(name: str) -> list[str]:
    return [t for t in re.sub(r"[^\w\s]", " ", name.casefold()).split() if t]


def name_matches(label: str, name: str) -> bool:
    """Whether a speaker label names this person ("Ada L." for "Ada Lovelace", "ADA" for "Ada")."""
    a, b = _tokens(label), _tokens(name)
    if not a or not b:
        return False
    if a == b or set(b) <= set(a) or set(a) <= set(b):
        return a[0] == b[0] or len(a) == len(b)
    return a[0] == b[0] and len(a) > 1 and len(b) > 1 and a[1][:1] == b[1][:1]


@dataclass(frozen=True, slots=True)
class SpeakerGuess:
    """Which label is the candidate, and why (``name``, ``parameter``, ``questions``, or
    ``unlabelled`` when the transcript has no speaker labels and every line counts)."""

    candidate: str | None
    basis: str
    speakers: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def guess_candidate(
    utterances: Sequence[Utterance],
    *,
    candidate_name: str = "",
    staff_names: Iterable[str] = (),
    explicit: str | None = None,
) -> SpeakerGuess:
    """The candidate's speaker label: ``explicit`` (the interviewer's choice) when given, else
    the label matching the session's candidate name, else the one speaker who is not staff and
    asks the most questions. A suggestion shown with its basis; staff can name another."""
    counts: dict[str, dict[str, Any]] = {}
    for u in utterances:
        if not u.speaker:
            continue
        row = counts.setdefault(u.speaker, {"name": u.speaker, "utterances": 0, "questions": 0})
        row["utterances"] += 1
        row["questions"] += len(questions_in(u.text))
    speakers = list(counts.values())
    if explicit:
        chosen = next((s for s in counts if s.casefold() == explicit.strip().casefold()), None)
        if chosen is None:
            known = ", ".join(repr(s) for s in counts) or "none (the transcript has no speaker labels)"
            raise InvalidInput(
                f"candidate_speaker: no speaker {explicit!r} in the transcript; its speakers are {known}",
                field="candidate_speaker",
            )
        return SpeakerGuess(chosen, "parameter", speakers)
    if not counts:
        return SpeakerGuess(None, "unlabelled", speakers)
    if candidate_name:
        named = [s for s in counts if name_matches(s, candidate_name)]
        if len(named) == 1:
            return SpeakerGuess(named[0], "name", speakers)
    staff = [n for n in staff_names if n]
    others = [s for s in speakers if not any(name_matches(s["name"], n) for n in staff)] or speakers
    best = max(others, key=lambda s: (s["questions"], s["utterances"]))
    return SpeakerGuess(best["name"], "questions", speakers)


def is_candidate(speaker: str, guess: SpeakerGuess) -> bool:
    """Whether a line by ``speaker`` may be the candidate's question."""
    if guess.candidate is None:
        return True
    return speaker == guess.candidate


_GENERIC_LABEL = re.compile(r"^(?:speaker|guest|participant|unknown|caller|user)\b[\s\d#]*$", re.IGNORECASE)


def caption_is_candidate(
    speaker: str, *, candidate_name: str = "", staff_names: Iterable[str] = (), explicit: str | None = None
) -> bool:
    """Whether a live caption line may be the candidate's: by the ``explicit`` speaker when
    given; else an unlabelled line, a generic label ("Speaker 2") or one naming the candidate;
    a line naming staff, or (the candidate's name being known) someone else, is not."""
    if explicit:
        return speaker.strip().casefold() == explicit.strip().casefold()
    if not speaker or (candidate_name and name_matches(speaker, candidate_name)):
        return True
    if any(name_matches(speaker, n) for n in staff_names if n):
        return False
    return bool(_GENERIC_LABEL.match(speaker.strip())) or not candidate_name


# -- the clock ---------------------------------------------------------------------------------


def suggest_offset(
    utterances: Sequence[Utterance], guess: SpeakerGuess, session_events: Iterable[E.Event]
) -> dict[str, Any]:
    """How to line the call's clock up with the session's: ``session ms = transcript ms + offset``.

    The candidate's first words in the call are taken to come as they joined the room (their
    first events-socket join); without that, the call is assumed to have started with the
    session (offset 0). Both are offered; the interviewer adjusts.
    """
    anchors: list[dict[str, Any]] = []
    join = next((e for e in session_events if e.type == E.JOIN and e.role == "candidate"), None)
    mine = [u for u in utterances if is_candidate(u.speaker, guess)]
    if join is not None and mine:
        anchors.append(
            {
                "offset_ms": join.t - mine[0].start,
                "basis": "the candidate's first words in the call line up with their joining the room",
            }
        )
    anchors.append({"offset_ms": 0, "basis": "the call started when the session did"})
    return {"suggested_ms": anchors[0]["offset_ms"], "basis": anchors[0]["basis"], "anchors": anchors}


# -- suggested marks -------------------------------------------------------------------------

Suggest = Callable[[str], Sequence[Any]]  # the matcher's suggest(text) -> ranked Suggestions


def _as_dict(s: Any) -> dict[str, Any]:
    return {"constraint": str(s.constraint), "confidence": round(float(s.confidence), 4)}


def suggest_marks(
    utterances: Sequence[Utterance],
    guess: SpeakerGuess,
    offset_ms: int,
    suggest: Suggest,
    threshold: float,
    source: Literal["transcript", "captions"] = "transcript",
) -> list[dict[str, Any]]:
    """One suggested mark per candidate utterance that holds a question: its best-matching
    question sentence is the quote; ``proposed`` is the top constraint at or above
    ``threshold`` (else None, and staff may still pick one). ``t`` is session ms (never < 0)."""
    marks = []
    for u in utterances:
        if not is_candidate(u.speaker, guess):
            continue
        best: tuple[float, str, list[dict[str, Any]]] | None = None
        for q in questions_in(u.text):
            ranked = [_as_dict(s) for s in suggest(q)][:3]
            top = ranked[0]["confidence"] if ranked else 0.0
            if best is None or top > best[0]:
                best = (top, q, ranked)
        if best is None:
            continue
        top, quote, ranked = best
        marks.append(
            {
                "id": u.id,
                "utterance": u.id,
                "speaker": u.speaker,
                "t": max(0, u.start + offset_ms),
                "transcript_t": u.start,
                "quote": quote[:MAX_QUOTE_CHARS],
                "text": u.text,
                "suggestions": ranked,
                "proposed": ranked[0]["constraint"] if ranked and top >= threshold else None,
                "source": source,
            }
        )
    return marks


# -- the transcript state of a recording -------------------------------------------------------


@dataclass
class TranscriptState:
    """What a recording says about transcripts: the latest import, caption marks, and which
    marks were confirmed (the ledger's ``clarify.discovered`` with a ``utterance``) or dismissed."""

    imports: int = 0
    imported: dict[str, Any] | None = None
    marks: dict[str, dict[str, Any]] = field(default_factory=dict)
    captions: int = 0
    dismissed: set[str] = field(default_factory=set)
    confirmed: dict[str, str] = field(default_factory=dict)

    def apply(self, index: int, ev: E.Event) -> None:
        """Apply one recorded event (``index``: its place in the recording, the marks' evidence)."""
        p = ev.payload
        if ev.type == E.TRANSCRIPT_IMPORTED:
            self.imports += 1
            self.imported = p
            # A re-import replaces the earlier transcript's marks; caption marks stay.
            self.marks = {k: m for k, m in self.marks.items() if m.get("source") == "captions"}
            for m in p.get("marks") or []:
                self.marks[str(m["id"])] = {**m, "event": index}
        elif ev.type == E.TRANSCRIPT_CAPTIONS:
            self.captions += len(p.get("lines") or [])
            for m in p.get("marks") or []:
                self.marks[str(m["id"])] = {**m, "event": index}
        elif ev.type == E.TRANSCRIPT_DISMISSED:
            self.dismissed.add(str(p.get("mark")))
        elif ev.type == E.DISCOVERED and p.get("utterance"):
            self.confirmed[str(p["utterance"])] = str(p.get("constraint"))

    def mark_views(self) -> list[dict[str, Any]]:
        """Every current mark with its status (open, confirmed, dismissed), in session time."""
        out = []
        for m in sorted(self.marks.values(), key=lambda m: (m.get("t", 0), str(m.get("id")))):
            mid = str(m["id"])
            status = "confirmed" if mid in self.confirmed else "dismissed" if mid in self.dismissed else "open"
            out.append({**m, "status": status, "confirmed": self.confirmed.get(mid)})
        return out

    def to_json(self) -> dict[str, Any]:
        imported = self.imported or {}
        return {
            "imports": self.imports,
            "format": imported.get("format"),
            "offset_ms": imported.get("offset_ms"),
            "alignment": imported.get("alignment"),
            "candidate_speaker": imported.get("candidate_speaker"),
            "speakers": imported.get("speakers") or [],
            "utterances": len(imported.get("utterances") or []),
            "captions": self.captions,
            "marks": self.mark_views(),
        }


def transcript_state(events: Iterable[E.Event]) -> TranscriptState:
    """The transcript state replayed from a recording."""
    state = TranscriptState()
    for index, ev in enumerate(events):
        state.apply(index, ev)
    return state
