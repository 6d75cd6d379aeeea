// The AI assistant panel (issue 13). The candidate asks and reads the reply as it streams, and
// can insert a code block at the editor's cursor or copy it; staff read the same conversation
// live, read-only, and the interviewer turns the assistant on or off, picks its model and budget.
// Messages: client → server `assistant.ask`, `assistant.config`; server → client `hello.assistant`,
// `assistant.config`, `assistant.prompt`, `assistant.delta`, `assistant.done`, `assistant.error`.

import { el } from "./dom";
import "./assistant.css";

export interface AssistantTurn {
  id: number;
  prompt: string;
  model: string;
  status: string; // answering | done | error | interrupted
  reply: string;
  tokens: number;
  error?: { code: string; message: string } | null;
}

export interface AssistantState {
  configured: boolean;
  models: string[];
  enabled: boolean;
  model: string | null;
  budget: number;
  used: number;
  turns: AssistantTurn[];
}

export interface AssistantHost {
  send(msg: Record<string, unknown>): boolean;
  /** Put text at the editor's cursor (the candidate's "Insert at cursor"). */
  insert(text: string): number | null;
  /** Report a process signal (insert or copy of assistant text). */
  signal(msg: Record<string, unknown>): void;
}

/** The fenced code blocks of a reply (their bodies), in order. */
export function codeBlocks(text: string): string[] {
  const blocks: string[] = [];
  const re = /```[a-zA-Z0-9_-]*\n([\s\S]*?)```/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) blocks.push(m[1]);
  return blocks;
}

export class AssistantPanel {
  private role = "";
  private state: AssistantState | null = null;
  private readonly turns = new Map<number, { box: HTMLElement; reply: HTMLElement; text: string }>();
  private readonly list: HTMLOListElement;
  private readonly status: HTMLElement;
  private readonly form: HTMLFormElement;
  private readonly input: HTMLTextAreaElement;
  private readonly controls: HTMLElement;
  /** The last assistant text the candidate copied (a paste of it is an assistant paste). */
  copied = "";

  constructor(
    private readonly root: HTMLElement,
    private readonly host: AssistantHost,
  ) {
    root.replaceChildren();
    root.append(el("h2", "", "Assistant"));
    this.status = el("p", "assistant-status", "The assistant is off.", { role: "status" });
    this.controls = el("div", "assistant-controls");
    this.controls.hidden = true;
    this.list = el("ol", "assistant-turns");
    this.list.setAttribute("aria-live", "polite");
    this.form = el("form", "assistant-ask");
    this.input = el("textarea", "", null, { rows: "2", maxlength: "4000", "aria-label": "Ask the assistant" });
    this.input.placeholder = "Ask the assistant about your code";
    this.form.append(this.input, el("button", "", "Ask", { type: "submit" }));
    this.form.hidden = true;
    this.form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const text = this.input.value.trim();
      if (text && this.host.send({ type: "assistant.ask", text })) this.input.value = "";
    });
    this.input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey) {
        ev.preventDefault();
        this.form.requestSubmit();
      }
    });
    root.append(this.status, this.controls, this.list, this.form);
  }

  /** Handles assistant messages (true when consumed); reads `hello` without consuming it. */
  handle(msg: Record<string, unknown>): boolean {
    const type = String(msg.type);
    if (type === "hello") {
      this.role = String(msg.role);
      this.state = (msg.assistant as AssistantState | undefined) ?? null;
      this.list.replaceChildren();
      this.turns.clear();
      for (const turn of this.state?.turns ?? []) this.addTurn(turn);
      this.render();
      return false;
    }
    if (!type.startsWith("assistant.")) return false;
    switch (type) {
      case "assistant.config":
        if (this.state) Object.assign(this.state, msg);
        this.render();
        break;
      case "assistant.prompt":
        this.addTurn(msg.turn as AssistantTurn);
        break;
      case "assistant.delta": {
        const t = this.turns.get(Number(msg.id));
        if (t) {
          t.text += String(msg.text);
          t.reply.textContent = t.text;
        }
        break;
      }
      case "assistant.done":
        this.finish(Number(msg.id), String(msg.text), null, msg);
        break;
      case "assistant.error":
        if (msg.id != null) this.finish(Number(msg.id), null, String(msg.message), msg);
        else this.status.textContent = String(msg.message);
        break;
      case "assistant.suggestion": // staff only: "asked the assistant about …"
        if (msg.text) this.list.append(el("li", "assistant-suggestion", String(msg.text)));
        break;
    }
    return true;
  }

  private render(): void {
    const s = this.state;
    this.root.hidden = false;
    if (!s || !s.configured) this.status.textContent = "The assistant is off: none is configured on this server.";
    else if (!s.enabled) this.status.textContent = "The assistant is off for this session.";
    else this.status.textContent = `Assistant on (${s.model ?? "?"}) · ${s.used} of ${s.budget} tokens used`;
    this.form.hidden = this.role !== "candidate" || !s?.enabled;
    disableWhenHidden(this.form);
    this.renderControls();
    disableWhenHidden(this.controls);
  }

  private renderControls(): void {
    const s = this.state;
    this.controls.hidden = this.role !== "interviewer" || !s?.configured;
    if (this.controls.hidden || !s) return;
    this.controls.replaceChildren();
    const toggle = el("button", "small-button", s.enabled ? "Turn off" : "Turn on", { type: "button" });
    toggle.addEventListener("click", () => this.host.send({ type: "assistant.config", enabled: !s.enabled }));
    const model = el("select", "", null, { "aria-label": "Assistant model" });
    for (const m of s.models) model.append(el("option", "", m, m === s.model ? { value: m, selected: "" } : { value: m }));
    model.addEventListener("change", () => this.host.send({ type: "assistant.config", model: model.value }));
    const budget = el("input", "", null, { type: "number", min: "0", step: "1000", "aria-label": "Token budget" });
    budget.value = String(s.budget);
    budget.addEventListener("change", () =>
      this.host.send({ type: "assistant.config", budget: Math.max(0, Math.floor(Number(budget.value) || 0)) }),
    );
    this.controls.append(toggle, model, el("span", "", "budget"), budget);
  }

  private addTurn(turn: AssistantTurn): void {
    const box = el("li", "assistant-turn");
    box.dataset.status = turn.status;
    box.append(el("p", "assistant-prompt", turn.prompt));
    const reply = el("pre", "assistant-reply", turn.reply);
    box.append(reply);
    this.list.append(box);
    this.turns.set(turn.id, { box, reply, text: turn.reply });
    if (turn.status === "done") this.addActions(turn.id, turn.reply);
    if (turn.error) box.append(el("p", "assistant-error", turn.error.message));
    if (turn.status === "interrupted") box.append(el("p", "assistant-error", "Interrupted (the server restarted)."));
    box.scrollIntoView?.({ block: "nearest" });
  }

  private finish(id: number, text: string | null, error: string | null, msg: Record<string, unknown>): void {
    const t = this.turns.get(id);
    if (!t) return;
    if (text !== null) {
      t.text = text;
      t.reply.textContent = text;
      t.box.dataset.status = "done";
      this.addActions(id, text);
    } else {
      t.box.dataset.status = "error";
      t.box.append(el("p", "assistant-error", error ?? "error"));
    }
    if (this.state && typeof msg.used === "number") {
      this.state.used = msg.used;
      this.render();
    }
  }

  private addActions(id: number, text: string): void {
    if (this.role !== "candidate") return;
    const t = this.turns.get(id);
    if (!t) return;
    for (const code of codeBlocks(text)) {
      const bar = el("div", "assistant-actions");
      const insert = el("button", "small-button", "Insert at cursor", { type: "button" });
      insert.addEventListener("click", () => {
        const at = this.host.insert(code);
        if (at !== null) this.host.signal({ kind: "insert", source: "assistant", size: code.length, reply: id, at });
      });
      const copy = el("button", "small-button", "Copy", { type: "button" });
      copy.addEventListener("click", () => {
        this.copied = code;
        void navigator.clipboard?.writeText(code).catch(() => undefined);
        this.host.signal({ kind: "copy", source: "assistant", size: code.length, reply: id });
      });
      bar.append(insert, copy);
      t.box.append(bar);
    }
  }
}

/** A hidden form's controls are disabled too: a read-only role holds no live control. */
function disableWhenHidden(box: HTMLElement): void {
  for (const c of box.querySelectorAll<HTMLButtonElement | HTMLTextAreaElement | HTMLInputElement | HTMLSelectElement>(
    "button, textarea, input, select",
  )) {
    c.disabled = Boolean(box.hidden);
  }
}
