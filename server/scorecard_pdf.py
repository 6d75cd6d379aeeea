"""The scorecard as a PDF file, drawn with fpdf2 from the same card the page renders.

A panel forwards scorecards by mail and files them with the hiring decision, so the API gives a
real PDF (``GET /api/sessions/{id}/scorecard.pdf``) with the page's sections in the page's order.
Every value is text drawn into the PDF, never markup, so a hostile candidate name cannot change
the document; characters the font cannot draw, and the invisible ones that reorder text (bidi
overrides, zero-width joiners), are replaced or dropped rather than allowed to fail the request.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from server.scorecard import CHECK_WORDS, HOW_WORDS, PASTE_SOURCES, glance

# A Unicode font when the system has one (Debian: fonts-dejavu-core); otherwise the PDF core
# font, with text reduced to Latin-1.
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
PART_NAMES = {"discovery": "Discovery", "checks": "Hidden checks", "ratings": "Interviewer ratings"}
# Bounds on what one PDF draws (line breaking costs about 20 µs a character): a long note or
# quote is cut and a long list ends with a count; the page and the replay have the whole of it.
MAX_FIELD = 1500
MAX_ITEMS = 150


def _clock(t: Any) -> str:
    if not isinstance(t, int) or isinstance(t, bool):
        return "-"
    return f"{t // 60000}:{(t // 1000) % 60:02d}"


def _num(value: Any, spec: str = "g") -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value if value is not None else "-")
    return format(value, spec)


def pdf_filename(card: dict[str, Any]) -> str:
    """``scorecard-<candidate>-<session>.pdf`` in plain ASCII letters, digits and dashes."""
    session = card.get("session") or {}

    def slug(value: Any, limit: int) -> str:
        text = unicodedata.normalize("NFKD", str(value or "")).encode("ascii", "ignore").decode()
        return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:limit].strip("-")

    parts = [p for p in ("scorecard", slug(session.get("candidate"), 40), slug(session.get("id"), 40)) if p]
    return "-".join(parts) + ".pdf"


class ScorecardPDF(FPDF):
    """A4 pages with a running footer; text goes through :meth:`clean` before it is drawn."""

    def __init__(self, title: str) -> None:
        super().__init__(format="A4")
        self.running_title = title
        self.unicode = (DEJAVU / "DejaVuSans.ttf").is_file() and (DEJAVU / "DejaVuSans-Bold.ttf").is_file()
        if self.unicode:
            self.add_font("body", "", str(DEJAVU / "DejaVuSans.ttf"))
            self.add_font("body", "B", str(DEJAVU / "DejaVuSans-Bold.ttf"))
            self.family = "body"
        else:
            self.family = "helvetica"
        self.set_auto_page_break(True, margin=16)
        self.set_margins(16, 16, 16)

    def clean(self, value: Any, limit: int = MAX_FIELD) -> str:
        """Text the font can draw: no control or format characters, unknown glyphs as '?'."""
        text = str(value if value is not None else "")
        if len(text) > limit:
            text = text[: limit - 1] + "\u2026"
        out = []
        for ch in text:
            cat = unicodedata.category(ch)
            if ch in "\n\t":
                out.append(" " if ch == "\t" else ch)
            elif cat in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
                continue
            elif self.unicode:
                font = self.fonts.get("body")
                out.append(ch if font is None or ord(ch) in font.cmap else "?")
            else:
                out.append(ch if ord(ch) < 256 else "?")
        return "".join(out)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family, "", 8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, self.clean(self.running_title, 120), align="L")
        self.set_x(-40)
        self.cell(24, 5, f"page {self.page_no()}", align="R")
        self.set_text_color(0, 0, 0)

    # -- drawing helpers ------------------------------------------------------------------

    def para(self, text: Any, size: float = 9.5, style: str = "", indent: float = 0, gray: bool = False) -> None:
        self.set_font(self.family, style, size)
        if gray:
            self.set_text_color(85, 96, 112)
        self.set_x(self.l_margin + indent)
        self.multi_cell(
            self.epw - indent, size * 0.5, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode="WORD"
        )
        self.set_text_color(0, 0, 0)

    def heading(self, text: str) -> None:
        if self.get_y() > self.h - 45:  # never a heading alone at the foot of a page
            self.add_page()
        self.ln(3)
        self.set_font(self.family, "B", 11.5)
        self.set_text_color(29, 78, 216)
        self.cell(0, 7, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(215, 221, 229)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.set_text_color(0, 0, 0)
        self.ln(1.5)


def render_pdf(card: dict[str, Any], *, compress: bool = True) -> bytes:
    """The scorecard as PDF bytes. ``compress=False`` leaves page content readable as text
    (for tests that look for words in the file; the document is the same)."""
    session = card.get("session") or {}
    candidate = str(session.get("candidate") or "")
    title = f"{candidate}: {card.get('problem_title') or card.get('problem') or ''}"
    pdf = ScorecardPDF(f"Clarify scorecard · {candidate[:60]} · session {session.get('id', '')}")
    pdf.set_compression(compress)
    pdf.set_title(pdf.clean(title, 200))
    pdf.set_creator("Clarify")
    pdf.add_page()
    _top(pdf, card, title)
    _discovery(pdf, card)
    _missed(pdf, card)
    _checks(pdf, card)
    _people(pdf, card)
    _facts(pdf, card)
    _timeline(pdf, card)
    return bytes(pdf.output())


def _more(pdf: ScorecardPDF, count: int, shown: int = MAX_ITEMS) -> None:
    if count > shown:
        pdf.para(f"\u2026 and {count - shown} more: see the scorecard page and the replay.", 9, gray=True)


def _top(pdf: ScorecardPDF, card: dict[str, Any], title: str) -> None:
    session = card.get("session") or {}
    meta = card.get("problem_meta") or {}
    pdf.para("Scorecard", 8, gray=True)
    pdf.para(title, 15, "B")
    sub = [
        f"{meta['level']} level" if meta.get("level") else "",
        str(meta.get("specialization") or ""),
        f"{meta['minutes']} minutes planned" if meta.get("minutes") else "",
        f"interviewed by {session['host_name']}" if session.get("host_name") else "",
        f"session {session.get('id', '')}",
        "ended" if session.get("status") == "ended" else "still live",
    ]
    pdf.para(" · ".join(s for s in sub if s), 9, gray=True)
    if (card.get("bar") or {}).get("line"):
        pdf.para(card["bar"]["line"], 9)
    pdf.ln(2)
    parts = card.get("parts") or {}
    line = f"{str(card.get('band', '')).upper()}   {_num(card.get('overall'), '.0f')} / 100 overall"
    pdf.para(line, 14, "B")
    pdf.para("   ".join(f"{PART_NAMES.get(k, k)} {_num(v, '.0f')}" for k, v in parts.items()), 10)
    explained = card.get("band_explained") or {}
    if explained.get("meaning"):
        pdf.para(f"{explained.get('band')} ({explained.get('range')}): {explained.get('meaning')}.", 10)
    if explained.get("reached"):
        pdf.para(f"How it was reached: {explained['reached']}", 9)
        pdf.para(explained.get("formula", ""), 9, gray=True)
    g = glance(card)
    facts = [
        f"{g['found']} of {g['constraints']} hidden constraints surfaced "
        f"({g['found_before_run']} before the first run)",
        f"{len(g['missed'])} missed",
        f"{g['checks_passed']} of {g['checks']} hidden checks passed" if g["checks"] else "no hidden checks run",
        f"{g['ratings']} ratings, {g['notes']} notes",
    ]
    pdf.para(" · ".join(facts), 9.5, "B")


def _discovery(pdf: ScorecardPDF, card: dict[str, Any]) -> None:
    pdf.heading("Clarifying questions: hidden constraints")
    rows = [r for r in card.get("discovery") or [] if isinstance(r, dict) and r.get("how")]
    if not rows:
        pdf.para("The candidate surfaced none of the hidden constraints.", gray=True)
    for r in rows:
        how = r.get("source") or r.get("how")
        weight, credit = _num(r.get("weight")), _num(r.get("credit"), ".2f")
        head = f"{r.get('title')}  ({r.get('category')}, weight {weight}, credit {credit})"
        pdf.para(head, 10, "B")
        if r.get("quote"):
            pdf.para(f"\u201c{r['quote']}\u201d", 9.5, indent=4)
        when = f"{r.get('how_words') or HOW_WORDS.get(str(how), how)} at {_clock(r.get('t'))}"
        if r.get("run_words"):
            when += f", {r['run_words']}"
        pdf.para(when, 9, indent=4, gray=True)
        if r.get("auto"):
            pdf.para("Credit given by auto mode: nobody judged it.", 9, indent=4)
        o = r.get("overturned")
        if isinstance(o, dict):
            who = o.get("name") or o.get("by") or "a reviewer"
            pdf.para(f"Overturned by {who} at {_clock(o.get('t'))}: {o.get('reason', '')}", 9, "B", indent=4)
        for a in r.get("assistant_asked") or []:
            pdf.para(f"Asked the assistant at {_clock(a.get('t'))}: \u201c{a.get('quote', '')}\u201d", 9, indent=4)
        pdf.ln(1)


def _missed(pdf: ScorecardPDF, card: dict[str, Any]) -> None:
    missed = glance(card)["missed"]
    if not missed:
        return
    pdf.heading("Missed: probes for the next round")
    for r in missed:
        pdf.para(f"{r.get('title')}  ({r.get('category')}, weight {_num(r.get('weight'))})", 10, "B")
        if r.get("probe"):
            pdf.para(f"Probe: {r['probe']}", 9.5, indent=4)
        for a in r.get("assistant_asked") or []:
            quote = a.get("quote", "")
            pdf.para(f"Asked the assistant at {_clock(a.get('t'))}: \u201c{quote}\u201d (no credit)", 9, indent=4)
        pdf.ln(1)


def _checks(pdf: ScorecardPDF, card: dict[str, Any]) -> None:
    pdf.heading("Hidden checks")
    checks = [c for c in card.get("checks") or [] if isinstance(c, dict)]
    if not checks:
        pdf.para(str(card.get("checks_status") or "not run"), gray=True)
    for c in checks:
        status = CHECK_WORDS.get(str(c.get("status")), "passed" if c.get("passed") else "failed")
        pdf.para(f"{c.get('id')}: {status}", 10, "B")
        if c.get("description"):
            tests = f" ({c['tests']})" if c.get("tests") else ""
            pdf.para(f"Tests: {c['description']}{tests}", 9.5, indent=4)
        if c.get("detail"):
            pdf.para(pdf.clean(c["detail"], 500), 8.5, indent=4, gray=True)


def _people(pdf: ScorecardPDF, card: dict[str, Any]) -> None:
    pdf.heading("Ratings and notes, by person")
    people = card.get("by_person") or []
    if not people:
        pdf.para("No ratings or notes.", gray=True)
    for p in people:
        pdf.para(str(p.get("name") or "unknown"), 10, "B")
        for r in p.get("ratings") or []:
            anchor = f": {r['anchor']}" if r.get("anchor") else ""
            pdf.para(f"{r.get('title')}: {r.get('score')} of 4{anchor}", 9.5, indent=4)
        notes = p.get("notes") or []
        for n in notes[:MAX_ITEMS]:
            pdf.para(f"{_clock(n.get('t'))}  {n.get('text', '')}", 9.5, indent=4)
        _more(pdf, len(notes))
        pdf.ln(1)


def _facts(pdf: ScorecardPDF, card: dict[str, Any]) -> None:
    pdf.heading("The assistant and the candidate's process (facts, not part of the score)")
    asst = card.get("assistant") or {}
    if asst.get("enabled") or asst.get("prompts"):
        line = (
            f"Questions asked of the assistant: {_num(asst.get('prompts', 0))}; replies completed: "
            f"{_num(asst.get('replies', 0))}; failed: {_num(asst.get('errors', 0))}; "
            f"tokens: {_num(asst.get('tokens', 0))}; cost: {_num(asst.get('cost'), '.4f')}"
        )
        pdf.para(line)
        share = asst.get("final_code_share")
        if isinstance(share, int | float) and not isinstance(share, bool):
            pdf.para(f"Share of the final code that came from the assistant: {share * 100:.0f}%")
        turns = asst.get("turns") or []
        for turn in turns[:MAX_ITEMS]:
            pdf.para(f"{_clock(turn.get('t'))}  asked: {pdf.clean(turn.get('prompt', ''), 300)}", 9, indent=4)
        _more(pdf, len(turns))
    else:
        pdf.para("The assistant was off for this session.", gray=True)
    proc = card.get("process") or {}
    by_source = proc.get("pastes_by_source") or {}
    chars = proc.get("pasted_chars_by_source") or {}
    pastes = "; ".join(
        f"{by_source.get(k, 0)} {label} ({chars.get(k, 0)} characters)" for k, label in PASTE_SOURCES.items()
    )
    pdf.para(f"Pastes: {pastes}; largest {proc.get('largest_paste', 0)} characters")
    hidden, blurred = proc.get("tab_hidden") or {}, proc.get("window_blurred") or {}
    pdf.para(
        f"Tab hidden {hidden.get('times', 0)} times ({_clock(hidden.get('total_ms', 0))} in all); "
        f"window left {blurred.get('times', 0)} times ({_clock(blurred.get('total_ms', 0))} in all)"
    )
    typing = proc.get("typing")
    if isinstance(typing, dict):
        pdf.para(
            f"Typing: {typing.get('bursts', 0)} bursts, median {_num(typing.get('median_cpm'), '.0f')} characters "
            f"a minute, longest {_num(typing.get('longest_burst_s'), '.0f')} s"
        )


def _timeline(pdf: ScorecardPDF, card: dict[str, Any]) -> None:
    tl = card.get("timeline") or {}
    marks = tl.get("marks") or []
    if not marks:
        return
    pdf.heading(f"Timeline ({_clock(tl.get('duration_ms'))})")
    session = card.get("session") or {}
    pdf.para(f"Open the replay at /replay/{session.get('id', '')} and seek to a time below.", 9, gray=True)
    for m in marks[: MAX_ITEMS * 2]:
        pdf.para(f"{m.get('clock') or _clock(m.get('t'))}  {m.get('label', '')}", 9)
    _more(pdf, len(marks), MAX_ITEMS * 2)
