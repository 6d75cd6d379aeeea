// Loading a recording once: JSON lines streamed from /recording (gzip on the wire, undone by the
// browser), parsed as they arrive, with progress against the event count the server announces.

import { request } from "./api";

export interface RecordedEvent {
  t: number;
  type: string;
  role: string;
  actor: string;
  payload: Record<string, unknown>;
}

/** Called as the download goes: events parsed so far and the total (0 when unknown). */
export type Progress = (loaded: number, total: number) => void;

const EVENTS_HEADER = "X-Clarify-Events";

/** Parses one line into `out`; false for a blank line. */
function parseLine(line: string, out: RecordedEvent[]): boolean {
  if (!line.trim()) return false;
  try {
    const raw = JSON.parse(line) as Partial<RecordedEvent>;
    if (typeof raw.t !== "number" || typeof raw.type !== "string") return true;
    out.push({
      t: raw.t,
      type: raw.type,
      role: String(raw.role ?? ""),
      actor: String(raw.actor ?? ""),
      payload: raw.payload && typeof raw.payload === "object" ? raw.payload : {},
    });
  } catch {
    // a damaged line is skipped, not fatal
  }
  return true;
}

/** The session's recorded events, in time order (events at the same ms keep their order). */
export async function loadRecording(path: string, token: string, progress: Progress): Promise<RecordedEvent[]> {
  const response = await request(path, token);
  const total = Number(response.headers.get(EVENTS_HEADER) ?? 0) || 0;
  const out: RecordedEvent[] = [];
  let lines = 0;
  progress(0, total);
  if (!response.body) {
    for (const line of (await response.text()).split("\n")) if (parseLine(line, out)) lines++;
  } else {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let rest = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const parts = (rest + value).split("\n");
      rest = parts.pop() ?? "";
      for (const line of parts) if (parseLine(line, out)) lines++;
      progress(lines, total);
    }
    if (parseLine(rest, out)) lines++;
  }
  if (total > 0 && lines < total) {
    throw new Error(`the recording arrived incomplete (${lines} of ${total} events)`);
  }
  progress(lines, total);
  let sorted = true;
  for (let i = 1; i < out.length && sorted; i++) sorted = out[i - 1].t <= out[i].t;
  if (sorted) return out;
  return out
    .map((ev, i) => [ev, i] as const)
    .sort((a, b) => a[0].t - b[0].t || a[1] - b[1])
    .map(([ev]) => ev);
}
