// The staff panel (interviewer and observer): hidden constraints, incoming questions with the
// matcher's suggestion, private notes, rubric ratings, hidden checks, mode and the end of the
// session. Everything the server sends is put in as text (textContent), never as markup.
// Observers see all of it with every control disabled (the server refuses their messages too).

import { cookieHeaders } from "./api";
import { byId, el } from "./dom";
import { mountTranscript } from "./transcript";

export interface StaffHost {
  role: string;
  sessionId: string;
  token: string; // the link's role token; "" for a signed-in member (the cookie authenticates)
  send(msg: Record<string, unknown>): boolean;
  notice(text: string | null): void;
}

interface Constraint {
  id: string;
  title: string;
  category: string;
  answer: string;
  cues: string[];
  weight: number;
  probe: string;
}

interface Dimension {
  id: string;
  title: string;
  anchors: Record<string, string>;
}

interface SuggestionItem {
  constraint: string;
  confidence: number;
}

interface StaffQuestion {
  id: number;
  text: string;
  t?: number;
  by?: string;
  suggestions: SuggestionItem[];
  proposed: string | null;
  status: string; // open | answered | dismissed
  answer: string | null;
  constraint: string | null;
  dismissed?: string | null; // aloud | unanswered
  retracted?: boolean; // the interviewer withdrew its answer (undo); open again
}

interface Discovery {
  constraint: string;
  how: string;
  t: number;
  before_first_run: boolean;
  event: number;
  quote?: string;
  index?: number; // the discovery's own recorded index
  by?: string;
  auto?: boolean; // credited by auto mode: nobody judged it
  overturned?: { by: string; name: string; t: number; reason: string } | null;
}

/** A prompt to the AI assistant the matcher tied to a constraint: staff may grant the credit. */
interface AssistantAsked {
  constraint: string;
  prompt: number;
  t: number;
  event: number;
  confidence: number;
  quote: string;
}

/** One of this interviewer's answers or marks that may still be undone (server: "undoable"). */
interface Undoable {
  event: number;
  kind: string; // answer | mark
  question: number | null;
  constraint: string | null;
  deadline: number; // Date.now() ms when the window closes
}

interface Note {
  text: string;
  t: number;
}

interface CheckResult {
  id: string;
  constraint: string;
  passed: boolean;
  detail: string;
}

const HOW_LABELS: Record<string, string> = {
  typed: "typed",
  aloud: "asked out loud",
  volunteered: "volunteered",
  check: "found by a check",
  assistant: "asked the assistant",
};


export function clock(ms: number | null | undefined): string {
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) return "--:--";
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

function percent(x: number): string {
  return `${Math.round(x * 100)}%`;
}


export class StaffPanel {
  private readonly host: StaffHost;
  private readonly interviewer: boolean;
  private live = false;
  private ended = false;

  private constraints: Constraint[] = [];
  private rubric: Dimension[] = [];
  private level = ""; // the level this session is interviewed at: it sets the bar (issue 14)
  private questions = new Map<number, StaffQuestion>();
  private ledger: Record<string, Discovery | null> = {};
  private notes: Note[] = [];
  private ratings: Record<string, { score: number }> = {};
  private checks: CheckResult[] = [];
  private checksRunning = false;
  private mode = "assisted";
  private assistantAsked: AssistantAsked[] = [];
  // What this panel just sent (an answer to "q:<id>", a mark of "c:<constraint>"): the server's
  // "undoable" for it is ours to offer an Undo for (another interviewer's is not).
  private readonly pending = new Set<string>();
  private readonly undoables = new Map<number, Undoable>();
  private undoTimer: number | null = null;

  // elements
  private readonly thread: HTMLOListElement;
  private readonly tabs: HTMLButtonElement[] = [];
  private readonly panels: HTMLElement[] = [];
  private readonly questionsBadge: HTMLSpanElement;
  private readonly constraintsBadge: HTMLSpanElement;
  private readonly outputBadge: HTMLSpanElement;
  private readonly modeButtons: HTMLButtonElement[] = [];
  private readonly checklist: HTMLUListElement;
  private readonly askedList: HTMLUListElement;
  private readonly checksButton: HTMLButtonElement;
  private readonly checksStatus: HTMLParagraphElement;
  private readonly checksList: HTMLUListElement;
  private readonly noteText: HTMLTextAreaElement;
  private readonly noteList: HTMLOListElement;
  private readonly ratingBox: HTMLDivElement;
  private readonly endButton: HTMLButtonElement | null = null;
  private readonly scorecardLink: HTMLAnchorElement;

  constructor(host: StaffHost) {
    this.host = host;
    this.interviewer = host.role === "interviewer";
    document.body.classList.add("staff");
    this.thread = byId<HTMLOListElement>("thread");
    const right = byId("right");
    const consolePanel = byId("console-panel");
    const questionsPanel = byId("questions-panel");

    // -- the tabbed right column: Output | Questions | Constraints | Notes & rating --------
    const constraintsPanel = el("section", "staff-constraints", null, { id: "staff-constraints" });
    const notesPanel = el("section", "staff-notes", null, { id: "staff-notes" });
    right.insertBefore(constraintsPanel, byId("notice"));
    right.insertBefore(notesPanel, byId("notice"));

    const tablist = el("div", "tabs", null, { role: "tablist", "aria-label": "Interviewer tools" });
    right.prepend(tablist);
    this.questionsBadge = el("span", "tab-badge", "", { title: "open questions" });
    this.constraintsBadge = el("span", "tab-badge", "");
    this.outputBadge = el("span", "tab-badge unseen", "", { title: "new output you have not seen" });
    this.outputBadge.hidden = true;
    const defs: [string, HTMLElement, HTMLSpanElement | null][] = [
      ["Output", consolePanel, this.outputBadge],
      ["Questions", questionsPanel, this.questionsBadge],
      ["Constraints", constraintsPanel, this.constraintsBadge],
      ["Notes & rating", notesPanel, null],
    ];
    defs.forEach(([label, panel, badge], i) => {
      const tab = el("button", "tab", label, {
        type: "button",
        role: "tab",
        id: `tab-${panel.id}`,
        "aria-controls": panel.id,
      });
      if (badge) tab.append(badge);
      tab.addEventListener("click", () => this.select(i));
      tab.addEventListener("keydown", (ev) => {
        const step = ev.key === "ArrowRight" ? 1 : ev.key === "ArrowLeft" ? -1 : 0;
        if (ev.key === "Home" || ev.key === "End" || step) {
          ev.preventDefault();
          const next = ev.key === "Home" ? 0 : ev.key === "End" ? defs.length - 1 : (i + step + defs.length) % defs.length;
          this.select(next);
          this.tabs[next].focus();
        }
      });
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", tab.id);
      this.tabs.push(tab);
      this.panels.push(panel);
      tablist.append(tab);
    });
    this.select(0);

    // -- mode toggle, at the head of the questions -----------------------------------------
    const modeBar = el("div", "mode-bar", null, { role: "group", "aria-label": "Answering mode" });
    modeBar.append(el("span", "mode-label", "Answering:"));
    for (const [mode, label, hint] of [
      ["assisted", "Assisted", "You confirm or write every answer; the matcher only suggests."],
      ["auto", "Auto", "Confident matches are answered from the pack; the rest are asked to state an assumption."],
    ]) {
      const button = el("button", "mode-button", label, { type: "button", title: hint, "data-mode": mode });
      button.addEventListener("click", () => {
        if (mode !== this.mode) this.host.send({ type: "mode", mode });
      });
      this.act(button);
      this.modeButtons.push(button);
      modeBar.append(button);
    }
    questionsPanel.insertBefore(modeBar, this.thread.parentElement === questionsPanel ? this.thread : this.thread.parentElement);

    // -- constraints and hidden checks -------------------------------------------------------
    constraintsPanel.append(el("h2", "", "Hidden constraints"));
    const constraintsBody = el("div", "staff-scroll");
    this.checklist = el("ul", "checklist", null, { "aria-label": "Hidden constraints" });
    const checksHead = el("div", "checks-head");
    checksHead.append(el("h3", "", "Hidden checks"));
    this.checksButton = el("button", "", "Run hidden checks", {
      type: "button",
      title: "Run the problem's hidden checks on the current code in a separate grading kernel",
    });
    this.checksButton.addEventListener("click", () => {
      if (this.host.send({ type: "checks" })) this.setChecksRunning(true);
    });
    this.act(this.checksButton);
    checksHead.append(this.checksButton);
    this.checksStatus = el("p", "checks-status", "Not run yet.", { role: "status" });
    this.checksList = el("ul", "checks-list", null, { "aria-label": "Hidden check results" });
    this.askedList = el("ul", "asked-list", null, { "aria-label": "Constraints asked of the assistant" });
    constraintsBody.append(
      this.checklist,
      el("h3", "", "Asked the assistant"),
      this.askedList,
      checksHead,
      this.checksStatus,
      this.checksList,
    );
    constraintsPanel.append(constraintsBody);

    // -- notes and rating ------------------------------------------------------------------
    notesPanel.append(el("h2", "", "Notes & rating"));
    const notesBody = el("div", "staff-scroll");
    notesBody.append(el("h3", "", "Private notes"));
    const noteForm = el("form", "note-form");
    const noteLabel = el("label", "sr-only", "A private note (staff only)", { for: "note-text" });
    this.noteText = el("textarea", "", null, {
      id: "note-text",
      rows: "2",
      maxlength: "2000",
      placeholder: "Private note: the candidate never sees these (Ctrl-Enter adds)",
    });
    const noteAdd = el("button", "", "Add note", { type: "submit" });
    noteForm.append(noteLabel, this.noteText, noteAdd);
    noteForm.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const text = this.noteText.value.trim();
      if (text && this.host.send({ type: "note", text })) this.noteText.value = "";
    });
    this.noteText.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
        ev.preventDefault();
        noteForm.requestSubmit();
      }
    });
    this.act(this.noteText);
    this.act(noteAdd);
    this.noteList = el("ol", "note-list", null, { "aria-label": "Notes" });
    notesBody.append(noteForm, this.noteList, el("h3", "", "Rubric"));
    this.ratingBox = el("div", "ratings");
    notesBody.append(this.ratingBox);
    notesPanel.append(notesBody);

    // -- end of the session (interviewer only), in the top bar -------------------------------
    const slot = el("span", "staff-session");
    this.scorecardLink = el("a", "scorecard-link", "Scorecard", {
      // Signed in (no token): the cookie goes with the link.
      href: `/api/sessions/${encodeURIComponent(host.sessionId)}/scorecard${host.token ? `?token=${encodeURIComponent(host.token)}` : ""}`,
      target: "_blank",
      rel: "noopener noreferrer",
    });
    this.scorecardLink.hidden = true;
    if (this.interviewer) {
      this.endButton = el("button", "end-session", "End session", {
        type: "button",
        title: "End the interview for everyone; the scorecard link appears",
      });
      this.endButton.addEventListener("click", () => void this.endSession());
      this.act(this.endButton);
      slot.append(this.endButton);
    }
    slot.append(this.scorecardLink);
    byId("connection").before(slot);
    mountTranscript(this, host); // issue 10: spoken questions (transcript import, live captions)
  }

  // -- tabs ----------------------------------------------------------------------------------

  select(index: number): void {
    this.tabs.forEach((tab, i) => {
      const on = i === index;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      this.panels[i].hidden = !on;
    });
    if (this.panels[index]?.id === "console-panel" && this.outputBadge) this.showUnseen(false);
  }

  /** Something arrived in a panel the interviewer is not looking at: badge its tab. */
  unseen(panelId: string): void {
    const i = this.panels.findIndex((p) => p.id === panelId);
    if (i < 0 || !this.panels[i].hidden) return;
    if (panelId === "console-panel") this.showUnseen(true);
  }

  private showUnseen(on: boolean): void {
    this.outputBadge.hidden = !on;
    this.outputBadge.textContent = on ? "new" : ""; // no text while hidden: the tab reads "Output"
  }

  // -- controls ------------------------------------------------------------------------------

  /** Registers an interviewer-only control: enabled only while the interviewer can act. */
  private act<T extends HTMLButtonElement | HTMLTextAreaElement | HTMLSelectElement | HTMLInputElement>(
    control: T,
    blocked = false,
  ): T {
    control.dataset.act = "";
    control.dataset.blocked = blocked ? "1" : "";
    control.disabled = !this.live || blocked;
    return control;
  }

  private block(control: HTMLButtonElement, blocked: boolean): void {
    control.dataset.blocked = blocked ? "1" : "";
    control.disabled = !this.live || blocked;
  }

  /** Whether the interviewer may act now (connected, session running); observers never. */
  setLive(live: boolean): void {
    this.live = this.interviewer && live && !this.ended;
    for (const control of document.querySelectorAll<HTMLButtonElement>("[data-act]")) {
      control.disabled = !this.live || control.dataset.blocked === "1";
    }
    if (this.checksRunning) this.checksButton.disabled = true;
  }

  // -- state from hello ----------------------------------------------------------------------

  hello(problem: unknown, clarify: unknown, session: unknown): void {
    const p = (problem ?? {}) as { constraints?: Constraint[]; rubric?: Dimension[]; level?: string };
    const c = (clarify ?? {}) as {
      mode?: string;
      questions?: (Omit<StaffQuestion, "proposed"> & { suggestions?: SuggestionItem[] })[];
      ledger?: { constraints?: Record<string, Discovery | null> };
      notes?: Note[];
      ratings?: Record<string, { score: number }>;
      checks?: CheckResult[];
      threshold?: number;
      assistant_asked?: AssistantAsked[];
    };
    // The server sends the matcher's calibrated threshold: live "suggestion" messages say what
    // was proposed; questions restored from hello are judged against it here.
    const proposeAt = typeof c.threshold === "number" ? c.threshold : 1;
    this.constraints = Array.isArray(p.constraints) ? p.constraints : [];
    this.rubric = Array.isArray(p.rubric) ? p.rubric : [];
    this.level = typeof p.level === "string" ? p.level : "";
    this.questions.clear();
    for (const q of c.questions ?? []) {
      const suggestions = Array.isArray(q.suggestions) ? q.suggestions : [];
      const top = suggestions[0];
      this.questions.set(q.id, {
        ...q,
        suggestions,
        proposed: top && top.confidence >= proposeAt ? top.constraint : null,
      });
    }
    this.ledger = { ...(c.ledger?.constraints ?? {}) };
    this.notes = Array.isArray(c.notes) ? [...c.notes] : [];
    this.ratings = { ...(c.ratings ?? {}) };
    this.checks = Array.isArray(c.checks) ? c.checks : [];
    this.assistantAsked = Array.isArray(c.assistant_asked) ? [...c.assistant_asked] : [];
    this.undoables.clear(); // a new connection is a new actor: earlier actions are not its own
    this.pending.clear();
    this.checksRunning = false;
    this.setMode(c.mode ?? "assisted");
    if ((session as { ended?: boolean } | null)?.ended) this.sessionEnded();
    this.renderQuestions();
    this.renderChecklist();
    this.renderAsked();
    this.renderChecks();
    this.renderNotes();
    this.renderRatings();
  }

  // -- live messages -------------------------------------------------------------------------

  /** A staff message room.ts does not handle itself; returns whether it was one. */
  handle(msg: Record<string, unknown>): boolean {
    switch (msg.type) {
      case "suggestion": {
        const q = this.questions.get(Number(msg.question));
        if (!q) return true;
        q.suggestions = Array.isArray(msg.suggestions) ? (msg.suggestions as SuggestionItem[]) : [];
        q.proposed = typeof msg.proposed === "string" ? msg.proposed : null;
        this.renderQuestion(q);
        return true;
      }
      case "ledger": {
        const ledger = msg.ledger as { constraints?: Record<string, Discovery | null> } | undefined;
        if (ledger?.constraints) this.ledger = { ...ledger.constraints };
        else {
          const d = msg.discovery as Discovery | undefined;
          if (d) this.ledger[d.constraint] = d;
        }
        this.renderChecklist();
        this.renderAsked();
        return true;
      }
      case "undoable":
        this.undoable(msg);
        return true;
      case "undone":
        this.undoables.delete(Number(msg.event));
        this.renderUndoOwners(msg.question, msg.constraint);
        return true;
      case "answer.retracted": {
        const q = this.questions.get(Number(msg.question));
        if (q) {
          Object.assign(q, { status: "open", answer: null, constraint: null, retracted: true });
          this.renderQuestion(q);
        }
        return true;
      }
      case "clarify.assistant_asked":
        if (msg.asked) this.assistantAsked.push(msg.asked as AssistantAsked);
        this.renderAsked();
        return true;
      case "note":
        this.notes.push(msg.note as Note);
        this.renderNotes();
        return true;
      case "rating":
        this.ratings[String(msg.dimension)] = msg.rating as { score: number };
        this.renderRatings();
        return true;
      case "mode":
        this.setMode(String(msg.mode));
        return true;
      case "checks.started":
        this.setChecksRunning(true);
        return true;
      case "checks":
        this.checks = Array.isArray(msg.results) ? (msg.results as CheckResult[]) : [];
        this.setChecksRunning(false);
        this.renderChecks();
        return true;
      case "question.dismissed":
        this.dismissed(Number(msg.question), String(msg.how ?? "unanswered"));
        return true;
      default:
        return false;
    }
  }

  /** A new question (its public view; the suggestion follows in its own message). */
  question(pub: { id: number; text: string; t?: number; by?: string; answer?: string | null }): void {
    const known = this.questions.get(pub.id);
    const q: StaffQuestion = known ?? {
      id: pub.id,
      text: pub.text,
      t: pub.t,
      by: pub.by,
      suggestions: [],
      proposed: null,
      status: pub.answer ? "answered" : "open",
      answer: pub.answer ?? null,
      constraint: null,
    };
    this.questions.set(q.id, q);
    this.renderQuestion(q);
  }

  /** The interviewer closed a question without a typed answer (``how``: aloud | unanswered). */
  dismissed(qid: number, how: string): void {
    const q = this.questions.get(qid);
    if (!q) return;
    q.status = "dismissed";
    q.dismissed = how;
    this.renderQuestion(q);
  }

  answer(qid: number, text: string): void {
    const q = this.questions.get(qid);
    if (!q) return;
    q.status = "answered";
    q.answer = text;
    this.renderQuestion(q);
  }

  /** The server rejected something (e.g. hidden checks could not start, an undo too late). */
  error(): void {
    if (this.checksRunning) this.setChecksRunning(false);
    this.pending.clear();
  }

  // -- undo within the window (issue 10) -------------------------------------------------------

  private undoable(msg: Record<string, unknown>): void {
    const kind = String(msg.kind);
    const question = typeof msg.question === "number" ? msg.question : null;
    const constraint = typeof msg.constraint === "string" ? msg.constraint : null;
    const key = kind === "answer" ? `q:${question}` : `c:${constraint}`;
    if (!this.pending.delete(key)) return; // not something this panel did
    const windowMs = Number(msg.window_ms) || 0;
    this.undoables.set(Number(msg.event), {
      event: Number(msg.event),
      kind,
      question,
      constraint,
      deadline: Date.now() + windowMs,
    });
    this.renderUndoOwners(question, constraint);
    if (this.undoTimer === null) this.undoTimer = window.setInterval(() => this.tickUndo(), 1000);
  }

  /** Re-render what carries an Undo button: the question of an answer, the checklist for a mark. */
  private renderUndoOwners(question: unknown, constraint: unknown): void {
    const q = typeof question === "number" ? this.questions.get(question) : undefined;
    if (q) this.renderQuestion(q);
    if (typeof constraint === "string") this.renderChecklist();
  }

  private secondsLeft(u: Undoable): number {
    return Math.max(0, Math.ceil((u.deadline - Date.now()) / 1000));
  }

  /** Count down every Undo button; a closed window takes its button away. */
  private tickUndo(): void {
    for (const u of [...this.undoables.values()]) {
      const left = this.secondsLeft(u);
      if (left <= 0) {
        this.undoables.delete(u.event);
        this.renderUndoOwners(u.question, u.kind === "mark" ? u.constraint : null);
        continue;
      }
      for (const b of document.querySelectorAll<HTMLButtonElement>(`button.undo[data-event="${u.event}"]`)) {
        this.labelUndo(b, u, left);
      }
    }
    if (this.undoables.size === 0 && this.undoTimer !== null) {
      window.clearInterval(this.undoTimer);
      this.undoTimer = null;
    }
  }

  private labelUndo(button: HTMLButtonElement, u: Undoable, left: number): void {
    const what = u.kind === "answer" ? "answer" : "mark";
    button.textContent = `Undo ${what} (${left} s)`;
    button.setAttribute("aria-label", `Undo this ${what}: ${left} seconds left`);
  }

  private undoButton(u: Undoable): HTMLButtonElement {
    const button = el("button", "undo", "", {
      type: "button",
      "data-event": String(u.event),
      title: "Withdraw it (recorded as a correction); only for a short while",
    });
    this.labelUndo(button, u, this.secondsLeft(u));
    this.act(button);
    button.addEventListener("click", () => this.host.send({ type: "undo", event: u.event }));
    return button;
  }

  sessionEnded(): void {
    this.ended = true;
    if (this.endButton) this.endButton.hidden = true;
    this.scorecardLink.hidden = !this.interviewer;
    this.setLive(false);
  }

  // -- questions -----------------------------------------------------------------------------

  private renderQuestions(): void {
    this.thread.replaceChildren();
    for (const q of [...this.questions.values()].sort((a, b) => a.id - b.id)) this.renderQuestion(q);
    this.updateBadges();
  }

  private title(cid: string | null): string {
    const c = this.constraints.find((x) => x.id === cid);
    return c ? c.title : cid ?? "";
  }

  private renderQuestion(q: StaffQuestion): void {
    let item = this.thread.querySelector<HTMLLIElement>(`li[data-question="${q.id}"]`);
    const fresh = !item;
    if (!item) {
      item = el("li", "question staff-q", null, { "data-question": String(q.id) });
      this.thread.append(item);
    }
    // Keep an own-words draft across re-renders (a suggestion arriving while typing).
    const draft = item.querySelector<HTMLTextAreaElement>(".q-own textarea");
    const draftText = draft?.value ?? "";
    const draftOpen = Boolean(draft && !draft.closest("form")?.hidden);
    const picked = item.querySelector<HTMLSelectElement>("select.q-constraint");
    const pickedValue = picked?.dataset.touched ? picked.value : null;

    item.dataset.status = q.status;
    const head = el("p", "q-meta");
    head.textContent = `Q${q.id} · ${clock(q.t)} · ${q.status}`;
    item.replaceChildren(el("p", "q-text", q.text), head);

    if (q.status === "answered") {
      item.append(el("p", "q-answer", q.answer ?? ""));
      if (q.constraint) item.append(el("p", "q-tag", `Tagged: ${this.title(q.constraint)}`));
      const u = [...this.undoables.values()].find((x) => x.kind === "answer" && x.question === q.id);
      if (u) item.append(this.undoButton(u));
    } else if (q.status === "dismissed") {
      const said =
        q.dismissed === "aloud"
          ? "To be answered out loud (the candidate sees this)."
          : "Not answered (the candidate sees that you chose not to answer).";
      item.append(el("p", "q-dismissed", said));
    } else {
      if (q.retracted) item.append(el("p", "q-retracted", "You withdrew the answer; the candidate was told."));
      item.append(this.openControls(q, pickedValue, draftText, draftOpen));
    }
    if (fresh) this.thread.scrollTop = this.thread.scrollHeight;
    this.updateBadges();
  }

  private openControls(q: StaffQuestion, pickedValue: string | null, draftText: string, draftOpen: boolean): HTMLElement {
    const box = el("div", "q-staff");
    if (q.suggestions.length > 0) {
      const sug = el("p", "q-suggestions");
      sug.append(el("span", "q-suggest-label", "Suggested: "));
      q.suggestions.forEach((s, i) => {
        const chip = el("span", "q-chip", `${s.constraint} ${percent(s.confidence)}`, {
          title: this.title(s.constraint),
          "data-constraint": s.constraint,
        });
        if (s.constraint === q.proposed) chip.classList.add("proposed");
        if (i > 0) sug.append(" ");
        sug.append(chip);
      });
      box.append(sug);
    } else {
      box.append(el("p", "q-suggestions muted", "No suggested constraint."));
    }

    const selectId = `q${q.id}-constraint`;
    const row = el("div", "q-pick");
    row.append(el("label", "", "Constraint", { for: selectId }));
    const select = el("select", "q-constraint", null, { id: selectId });
    select.append(el("option", "", "— none —", { value: "" }));
    const confidence = new Map(q.suggestions.map((s) => [s.constraint, s.confidence]));
    for (const c of this.constraints) {
      const conf = confidence.get(c.id);
      const label = conf === undefined ? c.title : `${c.title} (${percent(conf)})`;
      select.append(el("option", "", label, { value: c.id }));
    }
    select.value = pickedValue ?? q.proposed ?? "";
    if (pickedValue !== null) select.dataset.touched = "1";
    this.act(select);
    row.append(select);
    box.append(row);

    // The exact text "Send pack answer" sends, shown before it is sent.
    const preview = el("div", "q-preview", null, { "aria-live": "polite" });
    const showPreview = () => {
      const c = this.constraints.find((x) => x.id === select.value);
      preview.replaceChildren();
      preview.dataset.empty = c ? "" : "1";
      if (c) {
        preview.append(el("p", "q-preview-label", "The candidate will read (pack answer):"));
        preview.append(el("blockquote", "q-preview-text", c.answer));
      } else {
        preview.append(el("p", "q-preview-label muted", "Choose a constraint to see its pack answer before sending."));
      }
    };
    showPreview();
    box.append(preview);

    // "Send pack answer" and "Answer in my own words" look alike: neither is the default.
    const actions = el("div", "q-actions");
    const packBtn = el("button", "q-send-pack q-choice", "Send pack answer", {
      type: "button",
      title: "Send the pack answer shown above and record the constraint as discovered",
    });
    const ownBtn = el("button", "q-own-open q-choice", "Answer in my own words", { type: "button" });
    const markBtn = el("button", "q-mark-only", "Mark only (no answer)", {
      type: "button",
      title: "Record the selected constraint as discovered by this question; answer it some other way",
    });
    const aloudBtn = el("button", "q-dismiss q-aloud", "Answer out loud", {
      type: "button",
      title: "Close it here and answer by voice; the candidate sees “will be answered out loud”",
    });
    const dismissBtn = el("button", "q-dismiss q-unanswered", "Don't answer", {
      type: "button",
      title: "Close it without an answer; the candidate sees that you chose not to answer",
    });
    this.act(packBtn, !select.value);
    this.act(ownBtn);
    this.act(markBtn, !select.value || Boolean(this.ledger[select.value]));
    this.act(aloudBtn);
    this.act(dismissBtn);
    select.addEventListener("change", () => {
      select.dataset.touched = "1";
      this.block(packBtn, !select.value);
      this.block(markBtn, !select.value || Boolean(this.ledger[select.value]));
      showPreview();
    });
    packBtn.addEventListener("click", () => {
      if (!select.value) return;
      this.pending.add(`q:${q.id}`);
      this.host.send({ type: "answer", question: q.id, constraint: select.value, use_pack_answer: true });
    });
    markBtn.addEventListener("click", () => {
      if (!select.value) return;
      this.pending.add(`c:${select.value}`);
      this.host.send({ type: "mark", constraint: select.value, how: "typed", question: q.id });
    });
    aloudBtn.addEventListener("click", () => this.host.send({ type: "dismiss", question: q.id, how: "aloud" }));
    dismissBtn.addEventListener("click", () =>
      this.host.send({ type: "dismiss", question: q.id, how: "unanswered" }),
    );
    actions.append(packBtn, ownBtn, markBtn, aloudBtn, dismissBtn);
    box.append(actions);

    const own = el("form", "q-own");
    const ownId = `q${q.id}-own`;
    own.append(el("label", "sr-only", "Your answer", { for: ownId }));
    const text = el("textarea", "", null, {
      id: ownId,
      rows: "2",
      maxlength: "4000",
      placeholder: "Your answer (the selected constraint, if any, is recorded as discovered)",
    });
    text.value = draftText;
    const sendBtn = el("button", "primary", "Send answer", { type: "submit" });
    const cancelBtn = el("button", "", "Cancel", { type: "button" });
    this.act(text);
    this.act(sendBtn);
    own.append(text, sendBtn, cancelBtn);
    own.hidden = !draftOpen;
    ownBtn.addEventListener("click", () => {
      own.hidden = false;
      text.focus();
    });
    cancelBtn.addEventListener("click", () => {
      own.hidden = true;
      ownBtn.focus();
    });
    own.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const answer = text.value.trim();
      if (!answer) return;
      const msg: Record<string, unknown> = { type: "answer", question: q.id, text: answer };
      if (select.value) msg.constraint = select.value;
      this.pending.add(`q:${q.id}`);
      this.host.send(msg);
    });
    text.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
        ev.preventDefault();
        own.requestSubmit();
      }
    });
    box.append(own);
    return box;
  }

  private updateBadges(): void {
    const open = [...this.questions.values()].filter((q) => q.status === "open").length;
    this.questionsBadge.textContent = open ? String(open) : "";
    this.questionsBadge.hidden = !open;
    const found = this.constraints.filter((c) => this.ledger[c.id]).length;
    this.constraintsBadge.textContent = this.constraints.length ? `${found}/${this.constraints.length}` : "";
    this.constraintsBadge.hidden = !this.constraints.length;
  }

  // -- constraints checklist -----------------------------------------------------------------

  private renderChecklist(): void {
    // Keep which rows are expanded and any quote being typed.
    const open = new Set<string>();
    const quotes = new Map<string, string>();
    for (const item of this.checklist.querySelectorAll<HTMLLIElement>("li.constraint")) {
      const cid = item.dataset.constraint ?? "";
      if (item.querySelector("details")?.open) open.add(cid);
      const quote = item.querySelector<HTMLInputElement>("input.c-quote")?.value;
      if (quote) quotes.set(cid, quote);
    }
    this.checklist.replaceChildren(
      ...this.constraints.map((c) => this.constraintItem(c, open.has(c.id), quotes.get(c.id) ?? "")),
    );
    if (this.constraints.length === 0) this.checklist.append(el("li", "muted", "This problem has no hidden constraints."));
    this.updateBadges();
  }

  private constraintItem(c: Constraint, expanded: boolean, quote: string): HTMLLIElement {
    const d = this.ledger[c.id] ?? null;
    const item = el("li", "constraint", null, {
      "data-constraint": c.id,
      "data-discovered": d ? d.how : "",
      "data-auto": String(Boolean(d?.auto)),
      "data-overturned": String(Boolean(d?.overturned)),
    });
    const head = el("div", "c-head");
    head.append(
      el("span", "c-state", d ? "✓" : "○", { "aria-hidden": "true" }),
      el("span", "c-title", c.title),
      el("span", "c-meta", `${c.category} · weight ${c.weight}`),
    );
    item.append(head);

    const found = el("p", "c-found");
    if (d) {
      const when = d.before_first_run ? "before the first run" : "after the first run";
      found.textContent = `Discovered: ${HOW_LABELS[d.how] ?? d.how} at ${clock(d.t)}, ${when}`;
      if (d.auto) found.append(" ", el("span", "c-auto", "credited by auto mode", { title: "Nobody judged this credit" }));
      if (d.quote) found.append(el("q", "c-said", d.quote));
    } else {
      found.textContent = "Not discovered yet";
    }
    item.append(found);
    if (d?.overturned) {
      const o = d.overturned;
      item.append(
        el("p", "c-overturned", `Credit overturned by ${o.name || o.by} at ${clock(o.t)}: ${o.reason}`),
      );
    }
    const u = d ? [...this.undoables.values()].find((x) => x.kind === "mark" && x.event === d.index) : undefined;
    if (u) item.append(this.undoButton(u));
    if (d?.auto && !d.overturned) item.append(this.overturnForm(c));

    const quoteId = `c-${c.id}-quote`;
    const actions = el("div", "c-actions");
    const aloud = el("button", "c-aloud", "Asked out loud", {
      type: "button",
      title: "The candidate asked about this out loud (uses the quote below, if any)",
    });
    const volunteer = el("button", "c-volunteer", "Volunteer", {
      type: "button",
      title: "You told the candidate yourself (no credit)",
    });
    const reveal = el("button", "c-reveal", "Reveal", {
      type: "button",
      title: "Send the pack answer to the candidate now (counts as volunteered)",
    });
    this.act(aloud, d !== null);
    this.act(volunteer, d !== null);
    this.act(reveal);
    aloud.addEventListener("click", () => {
      const q = item.querySelector<HTMLInputElement>("input.c-quote")?.value.trim() ?? "";
      const msg: Record<string, unknown> = { type: "mark", constraint: c.id, how: "aloud" };
      if (q) msg.quote = q;
      this.pending.add(`c:${c.id}`);
      this.host.send(msg);
    });
    volunteer.addEventListener("click", () => {
      this.pending.add(`c:${c.id}`);
      this.host.send({ type: "mark", constraint: c.id, how: "volunteered" });
    });
    reveal.addEventListener("click", () => {
      if (confirm(`Send the pack answer for "${c.title}" to the candidate?`)) {
        this.host.send({ type: "reveal", constraint: c.id });
      }
    });
    actions.append(aloud, volunteer, reveal);
    item.append(actions);

    const details = el("details", "c-details");
    details.open = expanded;
    details.append(el("summary", "", "Answer, probe and cues"));
    const answer = el("p", "c-answer");
    answer.append(el("strong", "", "Answer: "), c.answer);
    const probe = el("p", "c-probe");
    probe.append(el("strong", "", "Probe: "), c.probe);
    details.append(answer, probe);
    if (Array.isArray(c.cues) && c.cues.length) {
      const cues = el("ul", "c-cues", null, { "aria-label": "Ways a candidate might ask" });
      for (const cue of c.cues) cues.append(el("li", "", cue));
      details.append(cues);
    }
    if (!d) {
      const label = el("label", "c-quote-label", "Quote for “asked out loud” (optional)", { for: quoteId });
      const input = el("input", "c-quote", null, { id: quoteId, type: "text", maxlength: "500" });
      input.value = quote;
      this.act(input);
      input.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter") {
          ev.preventDefault();
          aloud.click();
        }
      });
      details.append(label, input);
    }
    item.append(details);
    return item;
  }

  /** Take back a credit auto mode gave (recorded, attributed; it then scores nothing). */
  private overturnForm(c: Constraint): HTMLFormElement {
    const form = el("form", "c-overturn");
    const id = `c-${c.id}-overturn`;
    form.append(el("label", "", "Why this credit is wrong", { for: id }));
    const reason = el("input", "c-overturn-reason", null, {
      id,
      type: "text",
      maxlength: "500",
      required: "",
      placeholder: "e.g. the question was about logistics",
    });
    const button = el("button", "c-overturn-button", "Overturn credit", {
      type: "submit",
      title: "The entry stays visible, marked overturned, and counts for nothing",
    });
    this.act(reason);
    this.act(button);
    form.append(reason, button);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const text = reason.value.trim();
      if (text) this.host.send({ type: "overturn", constraint: c.id, reason: text });
    });
    return form;
  }

  // -- prompts to the assistant tied to a constraint (issue 13) ------------------------------

  private renderAsked(): void {
    this.askedList.replaceChildren(
      ...this.assistantAsked.map((a) => {
        const item = el("li", "asked", null, { "data-constraint": a.constraint, "data-prompt": String(a.prompt) });
        const text = el("p", "asked-text");
        text.append(
          el("span", "asked-time", clock(a.t)),
          " ",
          el("span", "asked-title", this.title(a.constraint)),
          ` (${percent(a.confidence)})`,
        );
        if (a.quote) text.append(" ", el("q", "asked-quote", a.quote));
        const granted = this.ledger[a.constraint];
        const button = el("button", "asked-grant", granted ? "Discovered" : "Grant credit", {
          type: "button",
          title: "Record this constraint as discovered by asking the assistant (credited like a typed question)",
          "aria-label": `Grant credit for ${this.title(a.constraint)}`,
        });
        this.act(button, Boolean(granted));
        button.addEventListener("click", () => {
          this.pending.add(`c:${a.constraint}`);
          this.host.send({ type: "mark", constraint: a.constraint, how: "assistant", prompt: a.prompt, quote: a.quote });
        });
        item.append(text, button);
        return item;
      }),
    );
    if (this.assistantAsked.length === 0) {
      this.askedList.append(el("li", "muted", "No prompt to the assistant was about a hidden constraint."));
    }
  }

  // -- hidden checks -------------------------------------------------------------------------

  private setChecksRunning(running: boolean): void {
    this.checksRunning = running;
    this.checksButton.disabled = running || !this.live;
    if (running) this.checksStatus.textContent = "Running the hidden checks in a grading kernel…";
    else this.renderChecks();
  }

  private renderChecks(): void {
    if (this.checksRunning) return;
    const passed = this.checks.filter((r) => r.passed).length;
    this.checksStatus.textContent = this.checks.length
      ? `${passed} of ${this.checks.length} passed.`
      : "Not run yet.";
    this.checksList.replaceChildren(
      ...this.checks.map((r) => {
        const item = el("li", "check", null, { "data-passed": String(Boolean(r.passed)) });
        const head = el("p", "check-head");
        head.append(
          el("span", "check-badge", r.passed ? "pass" : "fail"),
          el("span", "check-id", r.id),
          el("span", "check-constraint", this.title(r.constraint)),
        );
        item.append(head);
        if (r.detail) item.append(el("pre", "check-detail", r.detail));
        return item;
      }),
    );
  }

  // -- notes ---------------------------------------------------------------------------------

  private renderNotes(): void {
    this.noteList.replaceChildren(
      ...this.notes.map((n) => {
        const item = el("li", "note");
        item.append(el("span", "note-time", clock(n.t)), el("span", "note-text", n.text));
        return item;
      }),
    );
    if (this.notes.length === 0) this.noteList.append(el("li", "muted note-empty", "No notes yet."));
  }

  // -- rubric ratings ------------------------------------------------------------------------

  private renderRatings(): void {
    const focused = document.activeElement as HTMLElement | null;
    const refocus = focused?.dataset.dimension ? `${focused.dataset.dimension}:${focused.dataset.score}` : null;
    this.ratingBox.replaceChildren(
      ...(this.level ? [el("p", "muted level-bar", `Rated at the ${this.level} bar`)] : []),
      ...this.rubric.map((dim) => {
        const current = this.ratings[dim.id]?.score ?? null;
        const box = el("fieldset", "dimension", null, { "data-dimension": dim.id });
        box.append(el("legend", "", dim.title));
        const buttons = el("div", "scores");
        const anchor = el("p", "anchor", "", { "aria-live": "polite" });
        const describe = (score: number | null) => {
          anchor.textContent =
            score === null ? "Not rated yet." : `${score}: ${dim.anchors[String(score)] ?? ""}`;
        };
        for (const score of [1, 2, 3, 4]) {
          const text = dim.anchors[String(score)] ?? "";
          const b = el("button", "score", String(score), {
            type: "button",
            title: text,
            "aria-label": `${score} of 4: ${text}`,
            "aria-pressed": String(current === score),
            "data-dimension": dim.id,
            "data-score": String(score),
          });
          this.act(b);
          b.addEventListener("click", () => this.host.send({ type: "rate", dimension: dim.id, score }));
          b.addEventListener("mouseenter", () => describe(score));
          b.addEventListener("focus", () => describe(score));
          b.addEventListener("mouseleave", () => describe(current));
          b.addEventListener("blur", () => describe(current));
          buttons.append(b);
        }
        describe(current);
        box.append(buttons, anchor);
        return box;
      }),
    );
    if (refocus) {
      const [dim, score] = refocus.split(":");
      this.ratingBox
        .querySelector<HTMLButtonElement>(`button[data-dimension="${CSS.escape(dim)}"][data-score="${score}"]`)
        ?.focus();
    }
  }

  // -- mode ----------------------------------------------------------------------------------

  private setMode(mode: string): void {
    this.mode = mode;
    for (const b of this.modeButtons) b.setAttribute("aria-pressed", String(b.dataset.mode === mode));
  }

  // -- end -----------------------------------------------------------------------------------

  private async endSession(): Promise<void> {
    if (!this.interviewer || this.ended) return;
    if (!confirm("End the session for everyone? The candidate's room closes and the kernel stops.")) return;
    if (this.endButton) this.endButton.disabled = true;
    try {
      const response = await fetch(`/api/sessions/${encodeURIComponent(this.host.sessionId)}/end`, {
        method: "POST",
        // The link's token, else the signed-in member's cookie with its CSRF header.
        headers: this.host.token ? { Authorization: `Bearer ${this.host.token}` } : cookieHeaders({ method: "POST" }),
        credentials: "same-origin",
      });
      if (!response.ok) {
        let message = `HTTP ${response.status}`;
        try {
          const body = (await response.json()) as { message?: unknown; error?: unknown };
          message = String(body.message ?? body.error ?? message);
        } catch {
          /* not JSON */
        }
        throw new Error(message);
      }
      this.sessionEnded();
    } catch (exc) {
      this.host.notice(`Could not end the session: ${exc instanceof Error ? exc.message : String(exc)}`);
      if (this.endButton) this.endButton.disabled = !this.live;
    }
  }
}
