// Rendering of run records and their outputs (the server's run.* events) into the console.
// Kernel output is untrusted: text goes in as text, HTML only through DOMPurify, and nothing
// an output contains may load a resource from the network.

import DOMPurify from "dompurify";
import { el } from "./dom";

export type Output =
  | { kind: "stream"; name: "stdout" | "stderr"; text: string }
  | { kind: "display_data"; data: MimeBundle; metadata?: unknown; display_id?: string | null; update?: boolean }
  | { kind: "execute_result"; data: MimeBundle; execution_count?: number | null }
  | { kind: "error"; ename: string; evalue: string; traceback: string[] }
  | { kind: "clear_output"; wait?: boolean }
  | { kind: "output_truncated"; reason: string };

export type MimeBundle = Record<string, unknown>;

export interface RunResult {
  status?: string;
  duration_ms?: number;
  reason?: string | null;
  restarted?: boolean;
  dropped_bytes?: number;
}

export interface RunRecord {
  id: number;
  by: { role: string; actor: string };
  code: string;
  state: string; // queued | running | done
  outputs: Output[];
  outputs_truncated?: boolean; // older output is in the recording only: fetch it on demand
  result: RunResult | null;
}

export type OutputLoader = (runId: number) => Promise<Output[]>;

// Only embedded images: an output must not make a viewer's browser fetch anything.
const SAFE_SRC = /^data:image\/(png|jpeg|gif|webp);base64,/i;
const URL_ATTRS = ["src", "srcset", "poster", "background", "action", "formaction", "xlink:href", "ping"];

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  for (const attr of URL_ATTRS) {
    const value = node.getAttribute(attr);
    if (value !== null && !(attr === "src" && SAFE_SRC.test(value))) node.removeAttribute(attr);
  }
  if (node.tagName === "A" && node.hasAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

// Chrome checks an inline event handler against the page's CSP as soon as it parses the
// attribute, even in DOMPurify's inert document, and logs a violation for each one (the
// handler never runs). Renaming handler attributes inside tags first keeps hostile output
// from filling the console; DOMPurify still removes anything this misses.
const TAG = /<[a-z][^>]*>/gi;
const HANDLER_ATTR = /([\s"'/])on([a-z]+\s*=)/gi;

function defuseHandlers(html: string): string {
  return html.replace(TAG, (tag) => tag.replace(HANDLER_ATTR, "$1x-defused-on$2"));
}

export function sanitizeHtml(html: string): DocumentFragment {
  return DOMPurify.sanitize(defuseHandlers(html), {
    RETURN_DOM_FRAGMENT: true,
    FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "link", "meta", "base"],
    // No clobbering of the page's own elements (id, name), and no styles: an output must not
    // place itself over the page (position: fixed) or restyle it; its box clips it as well.
    FORBID_ATTR: ["id", "name", "style"],
    ALLOW_DATA_ATTR: false,
  });
}

// CSI/OSC escape sequences (IPython colours its tracebacks).
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

function asText(value: unknown): string {
  if (Array.isArray(value)) return value.join("");
  return typeof value === "string" ? value : "";
}

/** A rich output's element, by preference: PNG/JPEG image, sanitized HTML, plain text. */
export function renderBundle(data: MimeBundle): HTMLElement {
  for (const mime of ["image/png", "image/jpeg"]) {
    const b64 = asText(data[mime]).replace(/\s+/g, "");
    if (b64 && /^[A-Za-z0-9+/]+=*$/.test(b64)) {
      const img = el("img", "out-image");
      img.alt = asText(data["text/plain"]) || "image output";
      img.src = `data:${mime};base64,${b64}`;
      return img;
    }
  }
  if (typeof data["text/html"] === "string" || Array.isArray(data["text/html"])) {
    const box = el("div", "out-html");
    box.append(sanitizeHtml(asText(data["text/html"])));
    return box;
  }
  if (data["text/plain"] !== undefined) return el("pre", "out-text", asText(data["text/plain"]));
  const mimes = Object.keys(data).join(", ") || "nothing";
  return el("p", "out-note", `(an output this page cannot show: ${mimes})`);
}

/** One run's block in the console; `add` appends outputs as they stream in. */
export class RunView {
  readonly root: HTMLElement;
  private readonly status: HTMLElement;
  private readonly body: HTMLElement;
  private lastStream: { name: string; pre: HTMLPreElement } | null = null;
  private pendingClear = false;
  private displays = new Map<string, HTMLElement>();

  constructor(run: RunRecord, loadAll?: OutputLoader) {
    this.root = el("article", "run");
    this.root.dataset.run = String(run.id);
    const head = el("header", "run-head");
    head.append(el("span", "run-id", `#${run.id}`), el("span", "run-by", run.by.role));
    this.status = el("span", "run-status");
    head.append(this.status);
    const code = el("details", "run-code");
    const firstLine = run.code.split("\n").find((l) => l.trim() !== "") ?? "";
    code.append(el("summary", undefined, firstLine.slice(0, 80) || "(empty)"), el("pre", undefined, run.code));
    this.body = el("div", "run-body");
    this.root.append(head, code, this.body);
    this.setState(run.state, run.result);
    for (const out of run.outputs) this.add(out);
    if (run.outputs_truncated && loadAll) this.offerFullOutput(run.id, loadAll);
  }

  // The greeting carries only part of a long run's output; the rest is one click away.
  private offerFullOutput(runId: number, loadAll: OutputLoader): void {
    const more = el("button", "run-more", "Show all output");
    more.type = "button";
    more.addEventListener("click", () => {
      more.disabled = true;
      more.textContent = "Loading…";
      loadAll(runId).then(
        (outputs) => {
          this.clear();
          this.lastStream = null;
          for (const out of outputs) this.add(out);
          more.remove();
        },
        (err: unknown) => {
          more.disabled = false;
          more.textContent = `Could not load the output (${err instanceof Error ? err.message : String(err)}); retry`;
        },
      );
    });
    this.root.append(more);
  }

  setState(state: string, result: RunResult | null): void {
    let label = state;
    if (state === "done" && result) {
      label = result.status ?? "done";
      if (typeof result.duration_ms === "number") label += ` · ${Math.round(result.duration_ms)} ms`;
      if (result.reason) label += ` · ${result.reason}`;
      if (result.restarted) label += " · kernel restarted";
    }
    this.root.dataset.state = state === "done" ? (result?.status ?? "done") : state;
    this.status.textContent = label;
    this.status.title = label;
  }

  add(out: Output): void {
    if (this.pendingClear && out.kind !== "clear_output") {
      this.clear();
    }
    switch (out.kind) {
      case "stream": {
        if (this.lastStream?.name === out.name) {
          this.lastStream.pre.textContent += stripAnsi(out.text);
        } else {
          const pre = el("pre", `out-stream out-${out.name === "stderr" ? "stderr" : "stdout"}`, stripAnsi(out.text));
          this.body.append(pre);
          this.lastStream = { name: out.name, pre };
        }
        return;
      }
      case "display_data":
      case "execute_result": {
        const node = renderBundle(out.data ?? {});
        const id = out.kind === "display_data" ? out.display_id : null;
        const previous = id ? this.displays.get(id) : undefined;
        if (out.kind === "display_data" && out.update && previous) {
          previous.replaceWith(node);
        } else {
          this.body.append(node);
        }
        if (id) this.displays.set(id, node);
        break;
      }
      case "error": {
        const box = el("div", "out-error");
        box.append(el("strong", undefined, `${out.ename}: ${out.evalue}`));
        const tb = (out.traceback ?? []).map(stripAnsi).join("\n");
        if (tb) box.append(el("pre", undefined, tb));
        this.body.append(box);
        break;
      }
      case "clear_output":
        if (out.wait) this.pendingClear = true;
        else this.clear();
        return;
      case "output_truncated":
        this.body.append(el("p", "out-truncated", `Output truncated: ${out.reason}`));
        break;
      default:
        return;
    }
    this.lastStream = null;
  }

  private clear(): void {
    this.body.replaceChildren();
    this.displays.clear();
    this.lastStream = null;
    this.pendingClear = false;
  }
}
