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

// -- on the replay's timeline ----------------------------------------------------------------

/** A timeline label for a recorded signal (with the time it began), or null when it is not one
 *  to mark: a paste, an assistant insert, the tab hidden or the window blurred (marked where
 *  it began, with how long it lasted, once it ended). */
export function signalMarker(t: number, p: Record<string, unknown>): { t: number; label: string } | null {
  const size = typeof p.size === "number" ? p.size : 0;
  const seconds = typeof p.duration_ms === "number" ? Math.round(p.duration_ms / 1000) : null;
  switch (p.kind) {
    case "paste": {
      const from =
        p.source === "document"
          ? "from the document"
          : p.source === "assistant"
            ? "from the assistant"
            : "from outside the room";
      return { t, label: `Paste: ${size} characters ${from}` };
    }
    case "insert":
      return { t, label: `Inserted ${size} characters from the assistant (reply ${String(p.reply ?? "?")})` };
    case "visible":
      return seconds === null ? null : { t: t - (p.duration_ms as number), label: `Tab hidden for ${seconds} s` };
    case "focus":
      return seconds === null
        ? null
        : { t: t - (p.duration_ms as number), label: `Window in the background for ${seconds} s` };
    default:
      return null;
  }
}

/** One typing burst from the scorecard's `process.typing.list`. */
export interface TypingBurst {
  t: number;
  seconds: number;
  chars: number;
  cpm: number | null;
}

/** A thin strip under the timeline: one bar per typing burst, as long as the burst. */
export function typingStrip(bursts: readonly TypingBurst[], span: number): HTMLElement {
  const strip = document.createElement("div");
  strip.className = "typing-strip";
  strip.setAttribute("aria-label", "Typing bursts");
  for (const b of bursts) {
    const bar = document.createElement("span");
    bar.className = "typing-burst";
    bar.style.left = `${(b.t / Math.max(span, 1)) * 100}%`;
    bar.style.width = `${((b.seconds * 1000) / Math.max(span, 1)) * 100}%`;
    const pace = b.cpm === null ? "" : `, ${b.cpm} characters a minute`;
    bar.title = `Typing: ${b.chars} characters in ${b.seconds} s${pace}`;
    bar.dataset.t = String(b.t);
    strip.append(bar);
  }
  return strip;
}
