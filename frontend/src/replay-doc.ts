// The editor document at any moment of a recording, rebuilt in the browser with Yjs (as the
// server's /document?at= does): from the last full-state checkpoint at or before the moment,
// plus the updates after it. Moving forward a little applies only the new updates (and reports
// what they inserted, for the edit highlights); a jump costs one checkpoint and at most one
// checkpoint interval of updates, however long the recording.

import * as Y from "yjs";

export const TEXT_NAME = "code";
/** Moving forward by at most this many updates is applied step by step, not rebuilt. */
const STEP_FORWARD_MAX = 400;

/** One recorded editor change: an update, or a checkpoint (the full state). */
export interface DocStep {
  t: number;
  role: string;
  actor: string;
  checkpoint: boolean;
  data: string; // base64, decoded when first applied
}

/** Text a step inserted, anchored to its characters so later edits do not move it. */
export interface Insertion {
  t: number;
  role: string;
  actor: string;
  start: Y.RelativePosition;
  end: Y.RelativePosition;
}

type FromBase64 = (s: string) => Uint8Array;
const nativeFromBase64 = (Uint8Array as unknown as { fromBase64?: FromBase64 }).fromBase64;

function fromBase64(s: string): Uint8Array {
  if (nativeFromBase64) return nativeFromBase64(s);
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function sameAuthor(a: DocStep, b: DocStep): boolean {
  return !a.checkpoint && !b.checkpoint && a.role === b.role && a.actor === b.actor;
}

export class DocTimeline {
  private readonly bytes: (Uint8Array | undefined)[];
  private readonly checkpoints: number[]; // indexes of checkpoint steps, ascending
  private doc!: Y.Doc;
  private text!: Y.Text;
  private applied = 0; // steps[0..applied) are in `doc`
  private current: DocStep | null = null;
  private inserted: Insertion[] | null = null;
  private cached: string | null = "";

  constructor(private readonly steps: readonly DocStep[]) {
    this.bytes = new Array<Uint8Array | undefined>(steps.length);
    this.checkpoints = [];
    steps.forEach((s, i) => {
      if (s.checkpoint) this.checkpoints.push(i);
    });
    this.fresh();
  }

  /** The document: the first `count` steps applied. Returns what was inserted when stepping
   *  forward (empty after a rebuild: a jump shows the moment, not the way to it). */
  moveTo(count: number): Insertion[] {
    count = Math.max(0, Math.min(count, this.steps.length));
    if (count === this.applied) return [];
    const base = this.checkpointBefore(count);
    const forward = count > this.applied;
    if (forward && (base <= this.applied || count - this.applied <= STEP_FORWARD_MAX)) {
      const inserted: Insertion[] = [];
      this.inserted = inserted;
      try {
        // One transaction per run of steps by the same person: Yjs then cleans up (and tells
        // the observer) once per run rather than once per keystroke.
        while (this.applied < count) {
          const first = this.steps[this.applied];
          let stop = this.applied + 1;
          while (stop < count && sameAuthor(this.steps[stop], first)) stop++;
          this.current = this.steps[stop - 1];
          Y.transact(this.doc, () => {
            for (; this.applied < stop; this.applied++) this.applyStep(this.applied);
          });
        }
      } finally {
        this.inserted = null;
        this.current = null;
      }
      return inserted;
    }
    this.fresh();
    this.applied = Math.max(base, 0);
    Y.transact(this.doc, () => {
      for (; this.applied < count; this.applied++) this.applyStep(this.applied);
    });
    return [];
  }

  /** The editor text now. */
  toString(): string {
    if (this.cached === null) this.cached = this.text.toString();
    return this.cached;
  }

  /** How many steps are applied. */
  get count(): number {
    return this.applied;
  }

  /** The [start, end) of an insertion in the current text, or null once it is gone. */
  range(ins: Pick<Insertion, "start" | "end">): [number, number] | null {
    const a = Y.createAbsolutePositionFromRelativePosition(ins.start, this.doc);
    const b = Y.createAbsolutePositionFromRelativePosition(ins.end, this.doc);
    if (!a || !b || a.type !== this.text || b.type !== this.text) return null;
    const end = b.index + 1; // `end` is anchored to the last inserted character
    return end > a.index ? [a.index, end] : null;
  }

  private fresh(): void {
    this.doc?.destroy();
    this.doc = new Y.Doc();
    this.text = this.doc.getText(TEXT_NAME);
    this.text.observe((event) => this.observed(event));
    this.applied = 0;
    this.cached = "";
  }

  /** The index of the last checkpoint among the first `count` steps, or -1. */
  private checkpointBefore(count: number): number {
    let lo = 0;
    let hi = this.checkpoints.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.checkpoints[mid] < count) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 ? this.checkpoints[lo - 1] : -1;
  }

  private applyStep(i: number): void {
    let data = this.bytes[i];
    if (data === undefined) {
      try {
        data = fromBase64(this.steps[i].data);
      } catch {
        data = new Uint8Array(0);
      }
      this.bytes[i] = data;
    }
    if (data.length === 0) return;
    try {
      Y.applyUpdate(this.doc, data);
    } catch {
      // a damaged update is skipped, as the server skips what it cannot decode
    }
    this.cached = null;
  }

  private observed(event: Y.YTextEvent): void {
    this.cached = null;
    const sink = this.inserted;
    const step = this.current;
    if (!sink || !step || step.checkpoint) return;
    let index = 0;
    for (const op of event.delta) {
      if (typeof op.insert === "string") {
        const len = op.insert.length;
        sink.push({
          t: step.t,
          role: step.role,
          actor: step.actor,
          start: Y.createRelativePositionFromTypeIndex(this.text, index, 0),
          end: Y.createRelativePositionFromTypeIndex(this.text, index + len - 1, 0),
        });
        index += len;
      } else if (typeof op.retain === "number") {
        index += op.retain;
      }
    }
  }
}

/** An `insert` process signal: the candidate put `size` characters of reply `reply` at `at`. */
export interface InsertSignal {
  t: number;
  size: number;
  at: number | null;
  reply: number;
}

/** Code inserted from the assistant, anchored to its characters from the step that inserted it. */
export interface AssistantInsert {
  step: number; // the index of the doc step that inserted it: shown once that step is applied
  t: number;
  reply: number;
  start: Y.RelativePosition;
  end: Y.RelativePosition;
}

/** The insert signals of a recording (events in time order). */
export function insertSignals(
  events: readonly { t: number; type: string; payload: Record<string, unknown> }[],
): InsertSignal[] {
  const out: InsertSignal[] = [];
  for (const ev of events) {
    const p = ev.payload;
    if (ev.type !== "process.signal" || p.kind !== "insert" || typeof p.size !== "number" || p.size <= 0) continue;
    out.push({
      t: ev.t,
      size: p.size,
      at: typeof p.at === "number" ? p.at : null,
      reply: typeof p.reply === "number" ? p.reply : 0,
    });
  }
  return out;
}

/** How far (in steps) a signal looks for its update: it is sent on the other socket, so it
 *  usually lands just after the update, sometimes just before. */
const MATCH_STEPS = 20;

interface Run {
  step: number;
  t: number;
  at: number;
  size: number;
  start: Y.RelativePosition;
  end: Y.RelativePosition;
}

/**
 * Anchors each insert signal to the text its update inserted (the run of `size` characters at
 * offset `at`), by replaying the updates once in a scratch document. The anchors are Yjs
 * relative positions (item ids), so they resolve in any rebuild of the same document and follow
 * the text as later edits move it; a signal with no matching update is left out.
 */
export function anchorInserts(steps: readonly DocStep[], signals: readonly InsertSignal[]): AssistantInsert[] {
  if (signals.length === 0) return [];
  const sizes = new Set(signals.map((s) => s.size));
  const doc = new Y.Doc();
  const text = doc.getText(TEXT_NAME);
  const runs: Run[] = [];
  let current = -1;
  text.observe((event) => {
    if (current < 0 || steps[current].checkpoint) return;
    let index = 0;
    for (const op of event.delta) {
      if (typeof op.insert === "string") {
        const len = op.insert.length;
        if (sizes.has(len)) {
          runs.push({
            step: current,
            t: steps[current].t,
            at: index,
            size: len,
            start: Y.createRelativePositionFromTypeIndex(text, index, 0),
            end: Y.createRelativePositionFromTypeIndex(text, index + len - 1, 0),
          });
        }
        index += len;
      } else if (typeof op.retain === "number") {
        index += op.retain;
      }
    }
  });
  const lastT = signals[signals.length - 1].t;
  let stepsAfter = 0;
  for (let i = 0; i < steps.length && stepsAfter <= MATCH_STEPS; i++) {
    if (steps[i].t > lastT) stepsAfter++;
    let data: Uint8Array;
    try {
      data = fromBase64(steps[i].data);
    } catch {
      continue;
    }
    if (data.length === 0) continue;
    current = i;
    try {
      Y.applyUpdate(doc, data);
    } catch {
      // a damaged update is skipped, as the timeline skips it
    }
  }
  current = -1;
  const used = new Set<Run>();
  const out: AssistantInsert[] = [];
  for (const s of signals) {
    const fits = (r: Run) => !used.has(r) && r.size === s.size && (s.at === null || r.at === s.at);
    // The latest fitting run at or before the signal, else the first one just after it.
    let run: Run | undefined;
    for (let i = runs.length - 1; i >= 0 && !run; i--) if (runs[i].t <= s.t && fits(runs[i])) run = runs[i];
    run ??= runs.find((r) => r.t > s.t && fits(r));
    if (!run) continue;
    used.add(run);
    out.push({ step: run.step, t: run.t, reply: s.reply, start: run.start, end: run.end });
  }
  doc.destroy();
  return out.sort((a, b) => a.step - b.step);
}
