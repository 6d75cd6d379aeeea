// Visible edits during playback: text inserted since the previous moment is highlighted briefly
// (fading over HIGHLIGHT_MS of wall-clock time), coloured by role, and the newest one is labelled
// with who typed it, as panels expect from CoderPad or CodeSignal playback. Code the candidate
// inserted from the assistant keeps a distinct highlight from the moment it went in, for as long
// as (and wherever) its characters remain.

import { clock } from "./api";
import type { AssistantInsert, DocTimeline, Insertion } from "./replay-doc";
import "./replay-edits.css";

const HIGHLIGHT_MS = 1500;
const MAX_MARKS = 60;

interface Mark {
  ins: Insertion;
  shownAt: number; // performance.now() when it appeared
}

/** Names a recorded actor for people: the candidate by name, staff by role. */
export type WhoTyped = (role: string, actor: string) => string;

export class EditMarks {
  private marks: Mark[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastWho = "";
  private lastT = -1;
  private assistant: readonly AssistantInsert[] = [];

  constructor(
    private readonly pre: HTMLElement,
    private readonly caption: HTMLElement,
    private readonly who: WhoTyped,
  ) {}

  /** The recording's assistant inserts (anchored once, at load). */
  anchor(inserts: readonly AssistantInsert[]): void {
    this.assistant = inserts;
  }

  /** Forget every highlight (after a jump: the moment is shown, not how it came to be). */
  clear(): void {
    this.marks = [];
    this.lastWho = "";
    this.lastT = -1;
  }

  add(inserted: readonly Insertion[]): void {
    const now = performance.now();
    for (const ins of inserted) this.marks.push({ ins, shownAt: now });
    if (this.marks.length > MAX_MARKS) this.marks.splice(0, this.marks.length - MAX_MARKS);
    const last = inserted[inserted.length - 1];
    if (last) {
      this.lastWho = this.who(last.role, last.actor);
      this.lastT = last.t;
    }
  }

  /** Shows the timeline's text with the live highlights; re-renders itself as they fade. */
  render(doc: DocTimeline, at: number): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const text = doc.toString();
    const now = performance.now();
    this.marks = this.marks.filter((m) => now - m.shownAt < HIGHLIGHT_MS);
    const spans: { start: number; end: number; mark: Mark }[] = [];
    for (const mark of this.marks) {
      const r = doc.range(mark.ins);
      if (r) spans.push({ start: r[0], end: Math.min(r[1], text.length), mark });
    }
    const fromAssistant: { start: number; end: number; ins: AssistantInsert }[] = [];
    for (const ins of this.assistant) {
      if (ins.step >= doc.count) break; // sorted by step: the rest went in later
      const r = doc.range(ins);
      if (r) fromAssistant.push({ start: r[0], end: Math.min(r[1], text.length), ins });
    }
    fromAssistant.sort((a, b) => a.start - b.start);
    this.pre.dataset.at = String(at);
    this.pre.dataset.count = String(doc.count);
    if (spans.length === 0 && fromAssistant.length === 0) {
      if (this.pre.childElementCount > 0 || this.pre.textContent !== text) this.pre.textContent = text;
    } else {
      spans.sort((a, b) => a.start - b.start);
      const newest = this.marks[this.marks.length - 1];
      // The text of [from, to) with the fading edit highlights that fall in it.
      const piece = (from: number, to: number): Node[] => {
        const parts: Node[] = [];
        let pos = from;
        for (const s of spans) {
          const start = Math.max(s.start, pos);
          const stop = Math.min(s.end, to);
          if (start >= stop) continue;
          if (start > pos) parts.push(document.createTextNode(text.slice(pos, start)));
          parts.push(this.editSpan(s.mark, text.slice(start, stop), now, s.mark === newest));
          pos = stop;
        }
        if (pos < to) parts.push(document.createTextNode(text.slice(pos, to)));
        return parts;
      };
      const parts: Node[] = [];
      let pos = 0;
      for (const a of fromAssistant) {
        const start = Math.max(a.start, pos);
        if (start >= a.end) continue;
        if (start > pos) parts.push(...piece(pos, start));
        const mark = document.createElement("mark");
        mark.className = "assistant-code";
        mark.dataset.reply = String(a.ins.reply);
        mark.title = `from the assistant, reply ${a.ins.reply} (inserted at ${clock(a.ins.t)})`;
        mark.append(...piece(start, a.end));
        parts.push(mark);
        pos = a.end;
      }
      if (pos < text.length) parts.push(...piece(pos, text.length));
      this.pre.replaceChildren(...parts);
      if (spans.length > 0) this.timer = setTimeout(() => this.render(doc, at), 100);
    }
    this.caption.textContent =
      doc.count === 0
        ? "(before the first edit)"
        : this.lastT >= 0 && this.marks.length > 0
          ? `as of ${clock(at)} · typing: ${this.lastWho}`
          : `as of ${clock(at)}`;
  }

  private editSpan(mark: Mark, content: string, now: number, newest: boolean): HTMLElement {
    const span = document.createElement("mark");
    span.className = "edit-mark";
    span.dataset.role = mark.ins.role;
    span.style.setProperty("--fade", (1 - (now - mark.shownAt) / HIGHLIGHT_MS).toFixed(2));
    span.title = `${this.who(mark.ins.role, mark.ins.actor)} at ${clock(mark.ins.t)}`;
    span.textContent = content;
    if (newest) {
      span.classList.add("edit-latest");
      span.dataset.who = this.who(mark.ins.role, mark.ins.actor);
    }
    return span;
  }
}
