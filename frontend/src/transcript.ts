// Spoken questions in the staff panel (issue 10): import the call's transcript (WebVTT or SRT),
// line its clock up with the session's, and confirm or dismiss the candidate's questions the
// server found in it (and in live captions) as marks "asked out loud" at the time they were
// spoken. Everything the server sends is put in as text (textContent), never as markup.
// Observers see the list; only the interviewer imports, confirms and dismisses (the server
// refuses the others too).

import { ApiError, clock, postJson, request, USE_COOKIE } from "./api";
import { el } from "./dom";
import type { StaffHost } from "./staff";
import "./transcript.css";

interface Suggestion {
  constraint: string;
  confidence: number;
}

interface SpokenMark {
  id: string;
  utterance: string;
  speaker: string;
  t: number;
  quote: string;
  suggestions: Suggestion[];
  proposed: string | null;
  source: "transcript" | "captions";
  status?: string; // open | confirmed | dismissed
  confirmed?: string | null;
}

interface Anchor {
  offset_ms: number;
  basis: string;
}

interface TranscriptView {
  imports: number;
  format: string | null;
  offset_ms: number | null;
  alignment: { suggested_ms: number; basis: string; anchors: Anchor[] } | null;
  candidate_speaker: string | null;
  speaker_basis?: string | null;
  speakers: { name: string; utterances: number; questions: number }[];
  utterances: number;
  captions: number;
  marks: SpokenMark[];
  constraints?: { id: string; title: string }[];
}

/** The message handler the staff panel offers (the panel chains this module in front of it). */
interface Handles {
  handle(msg: Record<string, unknown>): boolean;
}

const TYPES: Record<string, string> = { vtt: "text/vtt", srt: "application/x-subrip" };

function seconds(ms: number): string {
  const sign = ms < 0 ? "−" : "+";
  return `${sign}${(Math.abs(ms) / 1000).toFixed(1)} s`;
}

class TranscriptPanel {
  private readonly host: StaffHost;
  private readonly token: string;
  private readonly path: string;
  private readonly interviewer: boolean;
  private marks = new Map<string, SpokenMark>();
  private titles = new Map<string, string>();
  private file: { text: string; type: string; name: string } | null = null;

  private readonly root: HTMLElement;
  private readonly status: HTMLParagraphElement;
  private readonly offset: HTMLInputElement;
  private readonly speaker: HTMLInputElement;
  private readonly importButton: HTMLButtonElement;
  private readonly alignment: HTMLDivElement;
  private readonly list: HTMLOListElement;

  constructor(host: StaffHost, parent: HTMLElement) {
    this.host = host;
    this.token = host.token || USE_COOKIE;
    this.path = `/api/sessions/${encodeURIComponent(host.sessionId)}`;
    this.interviewer = host.role === "interviewer";
    this.root = el("section", "transcript", null, { id: "transcript", "aria-label": "Spoken questions" });
    this.root.append(el("h3", "", "Spoken questions"));

    const form = el("form", "transcript-form");
    const fileInput = el("input", "", null, {
      type: "file",
      accept: ".vtt,.srt,text/vtt,application/x-subrip",
      id: "transcript-file",
      "aria-label": "Call transcript (WebVTT or SRT)",
    });
    this.offset = el("input", "", null, {
      type: "number",
      step: "0.1",
      id: "transcript-offset",
      placeholder: "suggested",
      title: "Seconds to add to the transcript's times to get the session's (empty: the suggested alignment)",
    });
    this.speaker = el("input", "", null, {
      type: "text",
      id: "transcript-speaker",
      maxlength: "200",
      placeholder: "candidate's speaker label (optional)",
    });
    this.importButton = el("button", "", "Import transcript", { type: "submit", id: "transcript-import" });
    const offsetLabel = el("label", "", "Offset (s) ", { for: "transcript-offset" });
    form.append(fileInput, offsetLabel, this.offset, this.speaker, this.importButton);
    fileInput.addEventListener("change", () => void this.pick(fileInput.files?.[0] ?? null));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.upload(this.offsetMs());
    });
    for (const control of [fileInput, this.offset, this.speaker, this.importButton]) {
      control.disabled = !this.interviewer;
    }
    this.importButton.disabled = true;
    if (this.interviewer) this.root.append(form);

    this.status = el("p", "transcript-status muted", "No transcript yet; caption lines pushed live appear here too.", {
      role: "status",
    });
    this.alignment = el("div", "transcript-alignment");
    this.list = el("ol", "transcript-marks", null, { "aria-label": "Suggested spoken marks" });
    this.root.append(this.status, this.alignment, this.list);
    parent.append(this.root);
    void this.load();
  }

  // -- the server ----------------------------------------------------------------------------

  private async load(): Promise<void> {
    try {
      const view = (await (await request(`${this.path}/transcript`, this.token)).json()) as TranscriptView;
      this.show(view);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) this.say(`Could not load spoken questions: ${String(err)}`);
    }
  }

  private async pick(file: File | null): Promise<void> {
    this.file = null;
    this.importButton.disabled = true;
    if (!file) return;
    const ext = file.name.toLowerCase().endsWith(".srt") ? "srt" : "vtt";
    this.file = { text: await file.text(), type: TYPES[ext], name: file.name };
    this.importButton.disabled = false;
  }

  private offsetMs(): number | null {
    const raw = this.offset.value.trim();
    if (raw === "") return null;
    const value = Number(raw);
    return Number.isFinite(value) ? Math.round(value * 1000) : null;
  }

  /** Imports the picked file (again, to re-time it) with ``offsetMs`` (null: the suggestion). */
  private async upload(offsetMs: number | null): Promise<void> {
    if (!this.file) return;
    const params = new URLSearchParams();
    if (offsetMs !== null) params.set("offset_ms", String(offsetMs));
    const label = this.speaker.value.trim();
    if (label) params.set("candidate_speaker", label);
    this.importButton.disabled = true;
    this.say(`Importing ${this.file.name}…`);
    try {
      const response = await request(`${this.path}/transcript?${params.toString()}`, this.token, {
        method: "POST",
        headers: { "Content-Type": this.file.type },
        body: this.file.text,
      });
      this.show((await response.json()) as TranscriptView);
    } catch (err) {
      // The server names the damaged line; nothing was changed.
      this.say(`The transcript was not imported: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.importButton.disabled = !this.file;
    }
  }

  private async act(mark: SpokenMark, body: Record<string, unknown>): Promise<void> {
    try {
      await postJson(`${this.path}/transcript/marks`, this.token, { utterance: mark.id, ...body });
      if (body.dismiss) mark.status = "dismissed";
      else {
        mark.status = "confirmed";
        mark.confirmed = String(body.constraint);
      }
      this.render(mark);
    } catch (err) {
      this.host.notice(`Could not update the mark: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  // -- live messages ---------------------------------------------------------------------------

  handle(msg: Record<string, unknown>): boolean {
    switch (msg.type) {
      case "transcript.suggestion": {
        const mark = msg.mark as SpokenMark | undefined;
        if (mark && typeof mark.id === "string") {
          this.marks.set(mark.id, mark);
          this.render(mark);
        }
        return true;
      }
      case "transcript.imported":
        this.show(msg.transcript as TranscriptView);
        return true;
      case "transcript.dismissed": {
        const mark = this.marks.get(String(msg.mark));
        if (mark) {
          mark.status = "dismissed";
          this.render(mark);
        }
        return true;
      }
      default:
        return false;
    }
  }

  // -- rendering -------------------------------------------------------------------------------

  private say(text: string): void {
    this.status.textContent = text;
  }

  private show(view: TranscriptView): void {
    for (const c of view.constraints ?? []) this.titles.set(c.id, c.title);
    this.marks = new Map((view.marks ?? []).map((m) => [m.id, m]));
    if (view.imports > 0) {
      const who = view.candidate_speaker
        ? `candidate: ${view.candidate_speaker} (${view.speaker_basis ?? "suggested"})`
        : "no speaker labels: every line counts";
      this.say(
        `${view.format?.toUpperCase() ?? ""} transcript, ${view.utterances} cues, offset ${seconds(view.offset_ms ?? 0)}; ${who}.`,
      );
      if (view.offset_ms !== null && this.offset.value === "") this.offset.value = String((view.offset_ms ?? 0) / 1000);
    } else if (view.captions > 0) {
      this.say(`${view.captions} caption lines received.`);
    }
    this.alignment.replaceChildren();
    for (const anchor of view.alignment?.anchors ?? []) {
      const use = el("button", "transcript-anchor", `Use ${seconds(anchor.offset_ms)}`, {
        type: "button",
        title: anchor.basis,
      });
      use.disabled = !this.interviewer || !this.file || anchor.offset_ms === view.offset_ms;
      use.addEventListener("click", () => {
        this.offset.value = String(anchor.offset_ms / 1000);
        void this.upload(anchor.offset_ms);
      });
      const line = el("p", "transcript-anchor-line muted", `${anchor.basis}: `);
      line.append(use);
      this.alignment.append(line);
    }
    this.list.replaceChildren();
    for (const mark of this.marks.values()) this.render(mark);
  }

  private render(mark: SpokenMark): void {
    const id = `spoken-${mark.id.replace(/[^\w-]/g, "_")}`;
    const status = mark.status ?? "open";
    const item = el("li", `spoken-mark ${status}`, null, { id, "data-mark": mark.id });
    const head = el("p", "q-meta", `${clock(mark.t)} · ${mark.speaker || "unlabelled"} · ${mark.source}`);
    item.append(head, el("blockquote", "spoken-quote", mark.quote));
    if (status === "confirmed") {
      item.append(el("p", "q-tag", `marked: ${this.titles.get(mark.confirmed ?? "") ?? mark.confirmed ?? ""}`));
    } else if (status === "dismissed") {
      item.append(el("p", "q-tag", "dismissed"));
    } else if (this.interviewer) {
      const pick = el("select", "", null, { "aria-label": "The constraint this question is about" });
      pick.append(el("option", "", "— constraint —", { value: "" }));
      const ranked = new Map(mark.suggestions.map((s) => [s.constraint, s.confidence]));
      const ids = [...new Set([...mark.suggestions.map((s) => s.constraint), ...this.titles.keys()])];
      for (const cid of ids) {
        const confidence = ranked.get(cid);
        const text = `${this.titles.get(cid) ?? cid}${confidence !== undefined ? ` (${Math.round(confidence * 100)}%)` : ""}`;
        pick.append(el("option", "", text, { value: cid }));
      }
      pick.value = mark.proposed ?? ""; // only a confident match is pre-selected
      const confirm = el("button", "", "Mark as asked out loud", { type: "button" });
      confirm.disabled = !pick.value;
      pick.addEventListener("change", () => (confirm.disabled = !pick.value));
      confirm.addEventListener("click", () => void this.act(mark, { constraint: pick.value }));
      const dismiss = el("button", "", "Dismiss", { type: "button" });
      dismiss.addEventListener("click", () => void this.act(mark, { dismiss: true }));
      const row = el("div", "spoken-actions");
      row.append(pick, confirm, dismiss);
      item.append(row);
    }
    const old = this.list.querySelector(`[data-mark="${CSS.escape(mark.id)}"]`);
    if (old) old.replaceWith(item);
    else this.list.append(item);
  }
}

/**
 * Adds the spoken-questions section to the staff panel's constraints tab and puts its message
 * handler in front of the panel's (the one hook staff.ts gives it).
 */
export function mountTranscript(panel: Handles, host: StaffHost): void {
  const parent = document.getElementById("staff-constraints")?.querySelector(".staff-scroll");
  if (!parent) return;
  const transcript = new TranscriptPanel(host, parent as HTMLElement);
  const inner = panel.handle.bind(panel);
  panel.handle = (msg) => transcript.handle(msg) || inner(msg);
}
