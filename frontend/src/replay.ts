// Replay of one session from its recording (JSON lines of {t, type, role, actor, payload}):
// a timeline with markers, play/pause at 1×–32×, skipping idle gaps, and at the current time
// the editor text, the runs, the questions and the ledger. The recording is loaded once
// (streamed, compressed, with progress); the editor text is rebuilt here with Yjs from the
// nearest checkpoint (replay-doc.ts), so a seek is drawn in the same animation frame.
// URL hash #t=<ms> opens a moment and follows the playhead.

import {
  ApiError,
  type SessionSummary,
  adminToken,
  byId,
  clock,
  el,
  getJson,
  openWithToken,
} from "./api";
import { type Output, type RunResult, RunView } from "./outputs";
import { type DocStep, DocTimeline, anchorInserts, insertSignals } from "./replay-doc";
import { EditMarks } from "./replay-edits";
import { type RecordedEvent, loadRecording } from "./replay-load";
import { type TypingBurst, signalMarker, typingStrip } from "./signals";
import "./style.css";
import "./pages.css";

type MarkerKind = "question" | "discovery" | "run" | "error" | "join" | "leave" | "signal";

interface Marker {
  t: number;
  kind: MarkerKind;
  label: string;
}

interface DiscoveryRow {
  constraint: string;
  title: string;
  category?: string;
  weight?: number;
}

const MARKER_KINDS: Record<MarkerKind, string> = {
  question: "Questions",
  discovery: "Discoveries",
  run: "Runs",
  error: "Errors",
  join: "Joins",
  leave: "Leaves",
  signal: "Pastes and time away",
};
const ERROR_STATUSES = new Set(["error", "killed", "timed_out"]);
const DOC_EVENTS = new Set(["doc.update", "doc.checkpoint"]);
const IDLE_GAP_MS = 10_000;
const IDLE_LEAD_MS = 1_000; // land this long before the next event when skipping a gap
const HASH_EVERY_MS = 500;

const ui = {
  sessionLabel: byId("session-label"),
  scorecard: byId<HTMLAnchorElement>("scorecard-link"),
  loadState: byId("load-state"),
  loadProgress: byId<HTMLProgressElement>("load-progress"),
  tokenPanel: byId("token-panel"),
  tokenForm: byId<HTMLFormElement>("token-form"),
  tokenInput: byId<HTMLInputElement>("token-input"),
  play: byId<HTMLButtonElement>("play"),
  speed: byId<HTMLSelectElement>("speed"),
  skipIdle: byId<HTMLInputElement>("skip-idle"),
  prev: byId<HTMLButtonElement>("prev-marker"),
  next: byId<HTMLButtonElement>("next-marker"),
  clock: byId("clock"),
  scrub: byId<HTMLInputElement>("scrub"),
  markers: byId("markers"),
  legend: byId<HTMLUListElement>("legend"),
  code: byId<HTMLPreElement>("code"),
  codeAt: byId("code-at"),
  console: byId("console"),
  thread: byId<HTMLOListElement>("thread"),
  threadEmpty: byId("thread-empty"),
  ledger: byId<HTMLUListElement>("ledger"),
  notice: byId("notice"),
};

const sessionId = decodeURIComponent(location.pathname.replace(/\/+$/, "").split("/").pop() ?? "");
const idPath = `/api/sessions/${encodeURIComponent(sessionId)}`;
// A token in the link is a role token; without one the tab's admin token is used, sent only
// as a header, and the scorecard is then opened through a fetch rather than a link.
const linkToken = new URLSearchParams(location.search).get("token") || "";
let token = linkToken || adminToken() || "";

let events: RecordedEvent[] = [];
let others: RecordedEvent[] = []; // everything but editor changes, applied to the side panels
let otherTimes: number[] = []; // their times (sorted)
let markers: Marker[] = [];
let idleTimes: number[] = []; // times of events that count as activity (sorted)
let docTimes: number[] = []; // times of editor changes (sorted)
let timeline = new DocTimeline([]);
let markerTimes: number[] = []; // markers' times (sorted), as their buttons are ordered
let markersPast = 0; // how many marker buttons are marked as past
let candidateName = "";
let constraints: DiscoveryRow[] = [];
let typing: TypingBurst[] = []; // the candidate's typing bursts, from the scorecard
let end = 0;
let t = 0;
let playing = false;
let lastFrame = 0;

function notice(text: string | null): void {
  ui.notice.hidden = text === null;
  ui.notice.textContent = text ?? "";
}

function setLoadState(state: string, label: string): void {
  ui.loadState.dataset.state = state;
  ui.loadState.textContent = label;
}

/** How many of the sorted times are <= at. */
function countUpTo(times: readonly number[], at: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// -- loading ---------------------------------------------------------------------------------

function constraintTitle(id: string): string {
  return constraints.find((c) => c.constraint === id)?.title ?? id;
}

function buildMarkers(): Marker[] {
  const out: Marker[] = [];
  for (const ev of events) {
    const p = ev.payload;
    switch (ev.type) {
      case "clarify.ask":
        out.push({ t: ev.t, kind: "question", label: `Question: ${String(p.text ?? "")}` });
        break;
      case "clarify.discovered":
        out.push({
          t: Math.min(Number(p.at ?? ev.t), ev.t) || 0, // when it was asked (a spoken one: the transcript's time)
          kind: "discovery",
          label: `Discovered: ${constraintTitle(String(p.constraint ?? ""))} (${String(p.how ?? "")})`,
        });
        break;
      case "run.queued": {
        const firstLine = String(p.code ?? "").split("\n").find((l) => l.trim() !== "") ?? "";
        out.push({ t: ev.t, kind: "run", label: `Run #${String(p.run)} by ${ev.role}: ${firstLine.slice(0, 60)}` });
        break;
      }
      case "run.done": {
        const status = String((p.result as RunResult | undefined)?.status ?? "");
        if (ERROR_STATUSES.has(status)) out.push({ t: ev.t, kind: "error", label: `Run #${String(p.run)}: ${status}` });
        break;
      }
      case "process.signal": {
        const m = signalMarker(ev.t, p);
        if (m) out.push({ ...m, kind: "signal" });
        break;
      }
      case "join":
      case "leave":
        out.push({
          t: ev.t,
          kind: ev.type,
          label: `${ev.type === "join" ? "Joined" : "Left"}: ${ev.role}${ev.actor ? ` (${ev.actor})` : ""}`,
        });
        break;
      default:
        break;
    }
  }
  return out.sort((a, b) => a.t - b.t); // spoken discoveries sit at their earlier, spoken time
}

function renderMarkers(): void {
  const span = Math.max(end, 1);
  markerTimes = markers.map((m) => m.t);
  markersPast = 0;
  ui.markers.replaceChildren(
    ...markers.map((m) => {
      const button = el("button", "marker");
      button.type = "button";
      button.dataset.kind = m.kind;
      button.dataset.t = String(m.t);
      button.style.left = `${(m.t / span) * 100}%`;
      const label = `${clock(m.t)} ${m.label}`;
      button.title = label;
      button.setAttribute("aria-label", label);
      button.tabIndex = -1; // one tab stop for the timeline: Previous/Next walk the markers
      button.addEventListener("click", () => seek(m.t, true));
      return button;
    }),
  );
  const counts = new Map<MarkerKind, number>();
  for (const m of markers) counts.set(m.kind, (counts.get(m.kind) ?? 0) + 1);
  ui.legend.replaceChildren(
    ...(Object.keys(MARKER_KINDS) as MarkerKind[]).map((kind) => {
      const item = el("li", "legend-item");
      item.dataset.kind = kind;
      item.append(el("span", "swatch"), document.createTextNode(`${MARKER_KINDS[kind]} ${counts.get(kind) ?? 0}`));
      return item;
    }),
  );
}

async function load(): Promise<void> {
  setLoadState("connecting", "loading");
  notice(null);
  let info: SessionSummary;
  ui.loadProgress.hidden = false;
  ui.loadProgress.removeAttribute("value");
  try {
    [info, events] = await Promise.all([
      getJson<SessionSummary>(idPath, token),
      loadRecording(`${idPath}/recording`, token, showProgress),
    ]);
  } catch (err) {
    ui.loadProgress.hidden = true;
    setLoadState("closed", "not loaded");
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      notice(`This token cannot open the replay: ${err.message}`);
      askToken();
    } else {
      notice(`Could not load the recording: ${err instanceof Error ? err.message : String(err)}`);
    }
    return;
  }
  ui.loadProgress.hidden = true;
  ui.tokenPanel.hidden = true;
  candidateName = info.candidate;
  ui.sessionLabel.textContent = `${info.candidate} · ${info.problem ?? "no problem"} · ${info.status}`;
  document.title = `Clarify — replay: ${info.candidate}`;
  if (info.problem) {
    try {
      const card = await getJson<{ discovery?: DiscoveryRow[]; process?: { typing?: { list?: TypingBurst[] } } }>(
        `${idPath}/scorecard`,
        token,
      );
      constraints = Array.isArray(card.discovery) ? card.discovery : [];
      typing = Array.isArray(card.process?.typing?.list) ? card.process.typing.list : [];
    } catch {
      constraints = []; // the ledger falls back to constraint ids
    }
    if (token === linkToken) {
      ui.scorecard.href = `${idPath}/scorecard?token=${encodeURIComponent(token)}`;
      ui.scorecard.target = "_blank";
    } else {
      ui.scorecard.href = `${idPath}/scorecard`;
      ui.scorecard.onclick = (ev) => {
        ev.preventDefault();
        openWithToken(`${idPath}/scorecard`, token).catch((err: unknown) =>
          notice(`Could not open the scorecard: ${err instanceof Error ? err.message : String(err)}`),
        );
      };
    }
    ui.scorecard.rel = "noopener noreferrer";
    ui.scorecard.hidden = false;
  }

  end = events.length > 0 ? events[events.length - 1].t : 0;
  idleTimes = events.filter((ev) => ev.type !== "doc.checkpoint").map((ev) => ev.t);
  others = events.filter((ev) => !DOC_EVENTS.has(ev.type));
  otherTimes = others.map((ev) => ev.t);
  const steps: DocStep[] = [];
  for (const ev of events) {
    if (!DOC_EVENTS.has(ev.type)) continue;
    const checkpoint = ev.type === "doc.checkpoint";
    const data = checkpoint ? ev.payload.state : ev.payload.update;
    steps.push({ t: ev.t, role: ev.role, actor: ev.actor, checkpoint, data: typeof data === "string" ? data : "" });
    delete ev.payload.state; // the timeline keeps the bytes; the event list need not
    delete ev.payload.update;
  }
  docTimes = steps.map((s) => s.t);
  timeline = new DocTimeline(steps);
  edits.anchor(anchorInserts(steps, insertSignals(events)));
  resetViews();
  markers = buildMarkers().sort((a, b) => a.t - b.t);
  ui.scrub.max = String(end);
  renderMarkers();
  ui.markers.parentElement?.querySelector(".typing-strip")?.remove();
  ui.markers.after(typingStrip(typing, end));
  setLoadState("connected", `${events.length} events`);
  document.body.dataset.loaded = "true";
  seek(hashTime() ?? 0, false);
}

function showProgress(loaded: number, total: number): void {
  if (total > 0) {
    ui.loadProgress.max = total;
    ui.loadProgress.value = loaded;
  }
  setLoadState("connecting", total > 0 ? `loading ${Math.floor((100 * loaded) / total)}%` : `loading ${loaded} events`);
}

function askToken(): void {
  ui.tokenPanel.hidden = false;
  ui.tokenInput.focus();
}

// -- the state at time t ---------------------------------------------------------------------

let applied = 0; // events[0..applied) are shown
const runs = new Map<number, RunView>();
const questions = new Map<number, HTMLLIElement>();
const discovered = new Map<string, { how: string; at: number; t: number }>();

function resetViews(): void {
  applied = 0;
  runs.clear();
  questions.clear();
  discovered.clear();
  ui.console.replaceChildren();
  ui.thread.replaceChildren();
}

function jumpButton(at: number): HTMLButtonElement {
  const b = el("button", "at", clock(at));
  b.type = "button";
  b.title = `Jump to ${clock(at)}`;
  b.addEventListener("click", () => seek(at, true));
  return b;
}

function apply(ev: RecordedEvent): void {
  const p = ev.payload;
  switch (ev.type) {
    case "run.queued": {
      const id = Number(p.run);
      if (runs.has(id)) return;
      const rv = new RunView({
        id,
        by: { role: ev.role, actor: ev.actor },
        code: String(p.code ?? ""),
        state: "queued",
        outputs: [],
        result: null,
      });
      rv.root.querySelector(".run-head")?.append(el("span", "run-at muted", clock(ev.t)));
      runs.set(id, rv);
      ui.console.append(rv.root);
      return;
    }
    case "run.started":
      runs.get(Number(p.run))?.setState("running", null);
      return;
    case "run.output":
      runs.get(Number(p.run))?.add(p.output as Output);
      return;
    case "run.done":
      runs.get(Number(p.run))?.setState("done", (p.result as RunResult) ?? null);
      return;
    case "clarify.ask": {
      const id = Number(p.id);
      const item = el("li", "question");
      item.dataset.question = String(id);
      const head = el("p", "q-head muted small");
      head.append(jumpButton(ev.t), document.createTextNode(` ${ev.role}${ev.actor ? ` (${ev.actor})` : ""}`));
      item.append(head, el("p", "q-text", String(p.text ?? "")), el("p", "q-pending", "waiting for an answer…"));
      questions.set(id, item);
      ui.thread.append(item);
      return;
    }
    case "clarify.answer": {
      const item = questions.get(Number(p.question));
      if (!item) return;
      item.querySelector(".q-pending")?.remove();
      const answer = el("p", "q-answer", String(p.text ?? ""));
      if (typeof p.constraint === "string" && p.constraint) {
        answer.append(el("span", "chip", `→ ${constraintTitle(p.constraint)}`));
      }
      item.append(answer);
      return;
    }
    case "clarify.dismiss": {
      const item = questions.get(Number(p.question));
      if (!item) return;
      item.querySelector(".q-pending")?.remove();
      item.append(el("p", "q-pending", "dismissed"));
      return;
    }
    case "clarify.discovered": {
      const cid = String(p.constraint ?? "");
      if (!discovered.has(cid)) discovered.set(cid, { how: String(p.how ?? ""), at: Number(p.at ?? ev.t), t: ev.t });
      return;
    }
    default:
      return;
  }
}

function renderLedger(): void {
  const rows: { id: string; title: string; category?: string }[] = constraints.map((c) => ({
    id: c.constraint,
    title: c.title,
    category: c.category,
  }));
  for (const id of discovered.keys()) if (!rows.some((r) => r.id === id)) rows.push({ id, title: id });
  if (rows.length === 0) {
    ui.ledger.replaceChildren(el("li", "muted", "No constraints for this session."));
    return;
  }
  ui.ledger.replaceChildren(
    ...rows.map((r) => {
      const d = discovered.get(r.id);
      const item = el("li", d ? "ledger-item found" : "ledger-item");
      item.dataset.constraint = r.id;
      item.append(el("span", "ledger-title", r.title));
      if (r.category) item.append(el("span", "chip", r.category));
      if (d) {
        item.append(el("span", "ledger-how", d.how));
        item.append(jumpButton(d.at));
      } else {
        item.append(el("span", "ledger-how muted", "not yet"));
      }
      return item;
    }),
  );
}

// -- the editor text (rebuilt here, from the nearest checkpoint) -----------------------------

function whoTyped(role: string, actor: string): string {
  if (role === "candidate") return candidateName ? `${candidateName} (candidate)` : "candidate";
  return role || actor || "someone";
}

const edits = new EditMarks(ui.code, ui.codeAt, whoTyped);

/** The editor at the current time: stepping forward highlights what was typed; a jump does not. */
function showDoc(): void {
  const count = countUpTo(docTimes, t);
  const before = timeline.count;
  const inserted = timeline.moveTo(count);
  if (inserted.length > 0) edits.add(inserted);
  else if (count !== before) edits.clear();
  edits.render(timeline, t);
}

// -- seeking and playing ---------------------------------------------------------------------

let hashTimer: ReturnType<typeof setTimeout> | undefined;
let lastHashWrite = 0;
let writtenHash = "";

function hashTime(): number | null {
  const m = /(?:^#|&)t=(\d+)/.exec(location.hash);
  return m ? Number(m[1]) : null;
}

function writeHash(): void {
  clearTimeout(hashTimer);
  hashTimer = undefined;
  lastHashWrite = performance.now();
  writtenHash = `#t=${Math.round(t)}`;
  if (location.hash !== writtenHash) history.replaceState(null, "", writtenHash);
}

function scheduleHash(): void {
  if (hashTimer !== undefined) return;
  const wait = Math.max(0, HASH_EVERY_MS - (performance.now() - lastHashWrite));
  hashTimer = setTimeout(writeHash, wait);
}

function seek(to: number, fromUser: boolean): void {
  t = Math.min(Math.max(0, Math.round(to)), end);
  const upto = countUpTo(otherTimes, t);
  if (upto < applied) resetViews();
  const changed = upto !== applied;
  for (; applied < upto; applied++) apply(others[applied]);
  showDoc();
  if (changed || ui.ledger.childElementCount === 0) renderLedger();
  ui.threadEmpty.hidden = questions.size > 0;
  ui.scrub.value = String(t);
  ui.scrub.setAttribute("aria-valuetext", `${clock(t)} of ${clock(end)}`);
  ui.clock.textContent = `${clock(t)} / ${clock(end)}`;
  const past = countUpTo(markerTimes, t);
  if (past !== markersPast) {
    const nodes = ui.markers.children;
    for (let i = Math.min(past, markersPast); i < Math.max(past, markersPast); i++) {
      nodes[i]?.classList.toggle("past", i < past);
    }
    markersPast = past;
  }
  if (fromUser) writeHash();
  else scheduleHash();
}

function setPlaying(on: boolean): void {
  if (on && t >= end) seek(0, true); // play from the start again
  playing = on && end > 0;
  ui.play.textContent = playing ? "Pause" : "Play";
  ui.play.setAttribute("aria-pressed", String(playing));
  document.body.dataset.playing = String(playing);
  if (playing) {
    lastFrame = performance.now();
    requestAnimationFrame(frame);
  } else {
    writeHash();
  }
}

/** With skip idle on: inside a gap of over 10 s between events, land just before the next one. */
function skipIdle(from: number, to: number): number {
  if (!ui.skipIdle.checked) return to;
  const i = countUpTo(idleTimes, from);
  if (i >= idleTimes.length) return to;
  const prev = i > 0 ? idleTimes[i - 1] : 0;
  const next = idleTimes[i];
  if (next - prev > IDLE_GAP_MS && to < next - IDLE_LEAD_MS) return Math.max(to, next - IDLE_LEAD_MS);
  return to;
}

function frame(now: number): void {
  if (!playing) return;
  const dt = Math.min(now - lastFrame, 250); // a hidden tab does not leap ahead
  lastFrame = now;
  let next = skipIdle(t, t + dt * Number(ui.speed.value));
  if (next >= end) next = end;
  seek(next, false);
  if (t >= end) {
    setPlaying(false);
    return;
  }
  requestAnimationFrame(frame);
}

function jumpMarker(direction: 1 | -1): void {
  const target =
    direction > 0 ? markers.find((m) => m.t > t) : [...markers].reverse().find((m) => m.t < t);
  if (target) seek(target.t, true);
}

// -- wiring ----------------------------------------------------------------------------------

ui.play.addEventListener("click", () => setPlaying(!playing));
ui.scrub.addEventListener("input", () => seek(Number(ui.scrub.value), true));
// The range steps by 1 ms (so every event is reachable); its keys step by seconds instead.
const SCRUB_KEYS: Record<string, number> = {
  ArrowRight: 1000,
  ArrowUp: 1000,
  ArrowLeft: -1000,
  ArrowDown: -1000,
  PageUp: 10_000,
  PageDown: -10_000,
};
ui.scrub.addEventListener("keydown", (ev) => {
  const step = SCRUB_KEYS[ev.key];
  if (step === undefined) return;
  ev.preventDefault();
  seek(t + step * (ev.shiftKey ? 10 : 1), true);
});
ui.prev.addEventListener("click", () => jumpMarker(-1));
ui.next.addEventListener("click", () => jumpMarker(1));
window.addEventListener("hashchange", () => {
  if (location.hash === writtenHash) return;
  const at = hashTime();
  if (at !== null && document.body.dataset.loaded === "true") seek(at, false);
});
document.addEventListener("keydown", (ev) => {
  const target = ev.target as HTMLElement | null;
  if (target && target.closest("input, select, textarea, button, a")) return;
  if (ev.key === " ") {
    ev.preventDefault();
    setPlaying(!playing);
  } else if (ev.key === "ArrowRight" || ev.key === "ArrowLeft") {
    ev.preventDefault();
    seek(t + (ev.key === "ArrowRight" ? 5000 : -5000), true);
  }
});
ui.tokenForm.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const value = ui.tokenInput.value.trim();
  if (!value) return;
  token = value;
  ui.tokenInput.value = "";
  void load();
});

if (!sessionId) {
  notice("This link lacks a session id.");
  setLoadState("closed", "no session");
} else if (!token) {
  setLoadState("closed", "no token");
  askToken();
} else {
  void load();
}
