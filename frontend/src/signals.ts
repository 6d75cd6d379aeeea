// Process signals (issue 13): facts about the candidate's process, sent as `signal` messages
// on the events socket and recorded by the server: pastes into the editor (size, and whether the
// text came from the document, the assistant or elsewhere), the tab hidden or shown, the window
// blurred or focused. Never the pasted text itself. The candidate's page says this is recorded.

export type PasteSource = "document" | "assistant" | "external";

export interface SignalHost {
  send(msg: Record<string, unknown>): boolean;
  /** Whether this page reports signals (the candidate's page only). */
  active(): boolean;
  /** The editor's text just before a paste lands. */
  documentText(): string;
  /** The assistant text the candidate copied last. */
  assistantCopy(): string;
}

/** Where pasted text came from: the document itself, the assistant, or outside the room. */
export function pasteSource(text: string, documentText: string, assistantCopy: string): PasteSource {
  const t = text.trim();
  if (t && assistantCopy && assistantCopy.trim() === t) return "assistant";
  if (t && documentText.includes(t)) return "document";
  return "external";
}

export class SignalCapture {
  constructor(
    editor: HTMLElement,
    private readonly host: SignalHost,
  ) {
    // Capture phase: the editor handles the paste itself afterwards.
    editor.addEventListener(
      "paste",
      (ev) => {
        const text = ev.clipboardData?.getData("text/plain") ?? "";
        if (!text) return;
        const source = pasteSource(text, host.documentText(), host.assistantCopy());
        this.emit({ kind: "paste", size: text.length, source });
      },
      true,
    );
    document.addEventListener("visibilitychange", () => this.emit({ kind: document.hidden ? "hidden" : "visible" }));
    window.addEventListener("blur", () => this.emit({ kind: "blur" }));
    window.addEventListener("focus", () => this.emit({ kind: "focus" }));
  }

  /** Send one signal (only from the candidate's page; a dropped one is not retried). */
  emit(signal: Record<string, unknown>): void {
    if (this.host.active()) this.host.send({ type: "signal", ...signal });
  }
}
