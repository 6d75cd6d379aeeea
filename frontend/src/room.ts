// The interview room: shared editor (Yjs over /ws/doc), runs and questions (JSON over /ws/events).

import { python } from "@codemirror/lang-python";
import { Compartment, EditorState, Prec } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
import { basicSetup } from "codemirror";
import { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";

import { getJson } from "./api";
import { cellAt, isBlank, splitCells } from "./cells";
import { type Output, type RunRecord, type RunResult, RunView } from "./outputs";
import { StaffPanel } from "./staff";
import "./style.css";

const RUN_ROLES = new Set(["interviewer", "candidate"]);
const WRITE_ROLES = RUN_ROLES;
const STAFF_ROLES = new Set(["interviewer", "observer"]);
const ROLE_COLOURS: Record<string, string> = {
  interviewer: "#7c3aed",
  candidate: "#0369a1",
  observer: "#b45309",
  reviewer: "#15803d",
};
// Close codes after which reconnecting cannot help (see the design's contracts).
const FATAL_CLOSES: Record<number, string> = {
  4401: "the link's token is not valid",
  4403: "this role may not join",
  4404: "there is no such session",
  4409: "the session has ended",
};

function byId<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`room.html lacks #${id}`);
  return node as T;
}

const ui = {
  role: byId("role"),
  session: byId("session-label"),
  kernel: byId("kernel-state"),
  interrupt: byId<HTMLButtonElement>("interrupt"),
  restart: byId<HTMLButtonElement>("restart"),
  connection: byId("connection"),
  brief: byId("brief"),
  runCell: byId<HTMLButtonElement>("run-cell"),
  runAll: byId<HTMLButtonElement>("run-all"),
  presence: byId("presence"),
  editor: byId("editor"),
  console: byId("console"),
  thread: byId<HTMLOListElement>("thread"),
  ask: byId<HTMLFormElement>("ask"),
  askText: byId<HTMLTextAreaElement>("ask-text"),
  notice: byId("notice"),
};

// -- where we are -------------------------------------------------------------------------

const sessionId = decodeURIComponent(location.pathname.replace(/\/+$/, "").split("/").pop() ?? "");
const token = new URLSearchParams(location.search).get("token") ?? "";
const wsBase = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}`;
ui.session.textContent = `session ${sessionId}`;

let role: string | null = null;
let fatal: string | null = null;
let ended = false;
let kernelState = "starting";
let docConnected = false;
let eventsConnected = false;
let everConnected = false; // both sockets were up at least once: a drop is "reconnecting"
let events: WebSocket | null = null;
let backoff = 500;
let staff: StaffPanel | null = null; // the interviewer's and observer's panel (staff.ts)

function showNotice(text: string | null): void {
  ui.notice.hidden = text === null;
  ui.notice.textContent = text ?? "";
}

// -- connection badge: both sockets up = connected ------------------------------------------

function updateBadge(): void {
  let state: string;
  let label: string;
  if (fatal) {
    state = "closed";
    label = `disconnected: ${fatal}`;
  } else if (!navigator.onLine) {
    // An open websocket can sit silent for up to 30 s after the network goes; say so at once.
    state = "reconnecting";
    label = "offline: edits sync when the network is back";
  } else if (docConnected && eventsConnected) {
    state = "connected";
    label = "connected";
  } else if (everConnected) {
    state = "reconnecting";
    label = "reconnecting…";
  } else {
    state = "connecting";
    label = "connecting…";
  }
  ui.connection.dataset.state = state;
  ui.connection.textContent = label;
  updateControls();
}

function setFatal(reason: string): void {
  if (fatal) return;
  fatal = reason;
  provider.disconnect();
  events?.close();
  updateBadge();
  showNotice(`This room is closed: ${reason}.`);
}

// -- the shared document --------------------------------------------------------------------

const doc = new Y.Doc();
const ytext = doc.getText("code");
const provider = new WebsocketProvider(`${wsBase}/ws/doc`, sessionId, doc, { params: { token } });
const undoManager = new Y.UndoManager(ytext);

provider.on("status", ({ status }: { status: string }) => {
  docConnected = status === "connected";
  if (docConnected && eventsConnected) everConnected = true;
  updateBadge();
});
window.addEventListener("offline", updateBadge);
window.addEventListener("online", () => {
  // Sockets that went silent while offline may still look open: start both afresh.
  if (fatal) return;
  provider.disconnect();
  provider.connect();
  events?.close();
  updateBadge();
});
provider.on("connection-close", (event: CloseEvent | null) => {
  if (event && FATAL_CLOSES[event.code]) setFatal(FATAL_CLOSES[event.code]);
});

function setPresence(name: string): void {
  const colour = ROLE_COLOURS[name] ?? "#475569";
  provider.awareness.setLocalStateField("user", { name, color: colour, colorLight: `${colour}33` });
}
setPresence("joining");

// The server relays only colours of this form (server/collab.py valid_awareness); checked
// again here because a colour reaches a style.
const COLOUR = /^#[0-9a-f]{6}([0-9a-f]{2})?$/i;

function renderPresence(): void {
  const people: { name: string; colour: string }[] = [];
  provider.awareness.getStates().forEach((state) => {
    const user = (state as { user?: { name?: unknown; color?: unknown } }).user;
    if (user && typeof user.name === "string") {
      const colour = typeof user.color === "string" && COLOUR.test(user.color) ? user.color : "#475569";
      people.push({ name: user.name.slice(0, 64), colour });
    }
  });
  people.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  ui.presence.replaceChildren(
    ...people.map(({ name, colour }) => {
      const chip = document.createElement("span");
      chip.className = "presence-chip";
      chip.textContent = name;
      chip.style.borderColor = colour;
      return chip;
    }),
  );
}
provider.awareness.on("change", renderPresence);

const readOnly = new Compartment();
const view = new EditorView({
  parent: ui.editor,
  state: EditorState.create({
    doc: ytext.toString(),
    extensions: [
      Prec.highest(
        keymap.of([
          { key: "Shift-Enter", run: () => (runCell(), true) },
          { key: "Mod-Enter", run: () => (runCell(), true) },
          // Undo and redo through the Yjs UndoManager: only this user's own edits, never a
          // collaborator's (CodeMirror's own history would not know whose change is whose).
          ...yUndoManagerKeymap,
        ]),
      ),
      basicSetup,
      python(),
      EditorView.lineWrapping,
      yCollab(ytext, provider.awareness, { undoManager }),
      readOnly.of([EditorState.readOnly.of(true), EditorView.editable.of(false)]),
      EditorView.contentAttributes.of({ "aria-label": "Shared Python editor" }),
    ],
  }),
});

// -- the events socket ----------------------------------------------------------------------


function connectEvents(): void {
  if (fatal) return;
  const url = `${wsBase}/ws/events/${encodeURIComponent(sessionId)}?token=${encodeURIComponent(token)}`;
  const ws = new WebSocket(url);
  events = ws;
  ws.onopen = () => {
    backoff = 500;
  };
  ws.onmessage = (ev) => {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(String(ev.data));
    } catch {
      return;
    }
    handle(msg);
  };
  ws.onclose = (ev) => {
    if (events !== ws) return;
    events = null;
    eventsConnected = false;
    if (FATAL_CLOSES[ev.code]) {
      if (ev.code === 4409) {
        ended = true;
        staff?.sessionEnded();
      }
      setFatal(FATAL_CLOSES[ev.code]);
      return;
    }
    updateBadge();
    if (!fatal) {
      setTimeout(connectEvents, backoff);
      backoff = Math.min(backoff * 2, 8000);
    }
  };
}

function send(msg: Record<string, unknown>): boolean {
  if (!events || events.readyState !== WebSocket.OPEN) {
    showNotice("Not connected; try again in a moment.");
    return false;
  }
  events.send(JSON.stringify(msg));
  return true;
}

// -- runs -----------------------------------------------------------------------------------

const runs = new Map<number, RunView>();

function stickToBottom(update: () => void): void {
  const box = ui.console;
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  update();
  if (atBottom) box.scrollTop = box.scrollHeight;
}

async function loadRunOutputs(runId: number): Promise<Output[]> {
  const path = `/api/sessions/${encodeURIComponent(sessionId)}/runs/${runId}`;
  const body = await getJson<{ run: RunRecord }>(path, token);
  return body.run.outputs;
}

function addRun(run: RunRecord): void {
  if (runs.has(run.id)) return;
  const rv = new RunView(run, loadRunOutputs);
  runs.set(run.id, rv);
  stickToBottom(() => ui.console.append(rv.root));
}

function resetRuns(list: RunRecord[]): void {
  runs.clear();
  ui.console.replaceChildren();
  for (const run of list) addRun(run);
  if (list.length === 0) {
    const empty = document.createElement("p");
    empty.className = "console-empty";
    empty.textContent = "No runs yet. Put the cursor in a cell and press Shift-Enter.";
    ui.console.append(empty);
  }
}

function submit(code: string): void {
  if (!isBlank(code)) send({ type: "run", code });
}

function runCell(): void {
  if (!canRun()) return;
  const text = view.state.doc.toString();
  const cell = cellAt(text, view.state.selection.main.head);
  if (!cell.markdown) submit(cell.code);
}

function runAll(): void {
  if (!canRun()) return;
  for (const cell of splitCells(view.state.doc.toString())) if (!cell.markdown) submit(cell.code);
}

// -- questions ------------------------------------------------------------------------------

interface Question {
  id: number;
  text: string;
  by?: string;
  answer?: string | null;
}

const questions = new Map<number, HTMLLIElement>();

function renderQuestion(q: Question): void {
  let item = questions.get(q.id);
  if (!item) {
    item = document.createElement("li");
    item.className = "question";
    item.dataset.question = String(q.id);
    questions.set(q.id, item);
    ui.thread.append(item);
  }
  const ask = document.createElement("p");
  ask.className = "q-text";
  ask.textContent = q.text;
  item.replaceChildren(ask);
  if (q.answer) setAnswer(q.id, q.answer);
  else item.append(Object.assign(document.createElement("p"), { className: "q-pending", textContent: "waiting for an answer…" }));
}

function setAnswer(id: number, text: string): void {
  const item = questions.get(id);
  if (!item) return;
  item.querySelector(".q-pending")?.remove();
  item.querySelector(".q-answer")?.remove();
  const answer = document.createElement("p");
  answer.className = "q-answer";
  answer.textContent = text;
  item.append(answer);
}

// The pack answer the interviewer chose to reveal (sent to everyone), shown in the thread.
function addReveal(text: string): void {
  const item = document.createElement("li");
  item.className = "question reveal";
  const label = document.createElement("p");
  label.className = "q-meta";
  label.textContent = "The interviewer adds:";
  const body = document.createElement("p");
  body.className = "q-answer";
  body.textContent = text;
  item.append(label, body);
  ui.thread.append(item);
  ui.thread.scrollTop = ui.thread.scrollHeight;
}

function resetQuestions(list: Question[]): void {
  questions.clear();
  ui.thread.replaceChildren();
  for (const q of list) renderQuestion(q);
}

// -- state → controls -----------------------------------------------------------------------

function canRun(): boolean {
  return role !== null && RUN_ROLES.has(role) && !ended && !fatal && eventsConnected;
}

function updateControls(): void {
  const run = canRun();
  ui.runCell.disabled = !run;
  ui.runAll.disabled = !run;
  ui.interrupt.disabled = !run || kernelState !== "busy";
  ui.restart.disabled = !run || kernelState === "restarting";
  const askOpen = role === "candidate" && !ended && !fatal && eventsConnected;
  for (const control of ui.ask.querySelectorAll<HTMLButtonElement | HTMLTextAreaElement>("button, textarea")) {
    control.disabled = !askOpen;
  }
  staff?.setLive(role === "interviewer" && !ended && !fatal && eventsConnected);
}

function setKernel(state: string, reason?: unknown): void {
  kernelState = state;
  ui.kernel.dataset.state = state;
  ui.kernel.textContent = typeof reason === "string" && reason ? `${state} (${reason})` : state;
  updateControls();
}

function setRole(r: string): void {
  const first = role === null;
  role = r;
  ui.role.textContent = r;
  ui.role.style.backgroundColor = ROLE_COLOURS[r] ?? "#475569";
  document.body.dataset.role = r;
  ui.ask.hidden = r !== "candidate";
  if (first) {
    setPresence(r);
    if (STAFF_ROLES.has(r)) {
      staff = new StaffPanel({ role: r, sessionId, token, send, notice: showNotice });
    }
    const writable = WRITE_ROLES.has(r);
    view.dispatch({
      effects: readOnly.reconfigure(writable ? [] : [EditorState.readOnly.of(true), EditorView.editable.of(false)]),
    });
  }
}

function renderBrief(problem: unknown): void {
  const p = problem as { title?: unknown; brief?: unknown } | null;
  ui.brief.replaceChildren();
  if (p && typeof p.title === "string") {
    const title = document.createElement("h3");
    title.textContent = p.title;
    ui.brief.append(title);
  }
  const brief = p && typeof p.brief === "string" ? p.brief : "This session has no problem brief.";
  // Shown as text, never as markup: paragraphs at blank lines; within one, hard-wrapped lines
  // are joined, except list items and headings, which keep their own line.
  for (const para of brief.split(/\n\s*\n/)) {
    const lines: string[] = [];
    for (const line of para.split("\n")) {
      const own = /^\s*([-*+]|\d+[.)]|#{1,6})\s/.test(line);
      if (lines.length > 0 && !own) lines[lines.length - 1] += ` ${line.trim()}`;
      else lines.push(line.trimEnd());
    }
    const block = document.createElement("p");
    block.className = "brief-body";
    block.textContent = lines.join("\n");
    ui.brief.append(block);
  }
}

function handle(msg: Record<string, unknown>): void {
  switch (msg.type) {
    case "hello": {
      eventsConnected = true;
      if (docConnected) everConnected = true;
      setRole(String(msg.role));
      renderBrief(msg.problem);
      const session = msg.session as { ended?: boolean } | undefined;
      ended = Boolean(session?.ended);
      resetRuns((msg.runs as RunRecord[]) ?? []);
      const clarify = msg.clarify as { questions?: Question[] } | null;
      if (staff) staff.hello(msg.problem, clarify, session);
      else resetQuestions(clarify?.questions ?? []);
      setKernel(String((msg.kernel as { state?: string } | undefined)?.state ?? "unknown"));
      showNotice(null);
      updateBadge();
      return;
    }
    case "run.queued": {
      ui.console.querySelector(".console-empty")?.remove();
      addRun(msg.run as RunRecord);
      return;
    }
    case "run.started":
      runs.get(Number(msg.run))?.setState("running", null);
      return;
    case "run.output": {
      const rv = runs.get(Number(msg.run));
      if (rv) stickToBottom(() => rv.add(msg.output as Output));
      return;
    }
    case "run.done":
      runs.get(Number(msg.run))?.setState("done", msg.result as RunResult);
      return;
    case "kernel.status":
      setKernel(String(msg.state), msg.reason);
      return;
    case "question":
      if (staff) staff.question(msg.question as Question);
      else renderQuestion(msg.question as Question);
      return;
    case "answer":
      if (staff) staff.answer(Number(msg.question), String(msg.text));
      else setAnswer(Number(msg.question), String(msg.text));
      return;
    case "reveal":
      addReveal(String(msg.text ?? ""));
      return;
    case "session.ended":
      ended = true;
      staff?.sessionEnded();
      setFatal("the session has ended");
      return;
    case "error":
      staff?.error();
      showNotice(String(msg.message ?? "error"));
      return;
    default:
      staff?.handle(msg); // suggestions, ledger, notes, ratings, mode, checks (staff only)
      return;
  }
}

// -- wiring ---------------------------------------------------------------------------------

ui.runCell.addEventListener("click", () => {
  runCell();
  view.focus();
});
ui.runAll.addEventListener("click", runAll);
ui.interrupt.addEventListener("click", () => send({ type: "interrupt" }));
ui.restart.addEventListener("click", () => {
  if (confirm("Restart the kernel? Its variables are lost.")) send({ type: "restart" });
});
ui.ask.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = ui.askText.value.trim();
  if (text && send({ type: "ask", text })) ui.askText.value = "";
});
ui.askText.addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey) {
    ev.preventDefault();
    ui.ask.requestSubmit();
  }
});

if (!sessionId || !token) {
  setFatal("this link lacks a session or a token");
} else {
  connectEvents();
}
updateBadge();
