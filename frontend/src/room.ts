// The interview room: shared editor (Yjs over /ws/doc), runs and questions (JSON over /ws/events).

import { indentWithTab } from "@codemirror/commands";
import { python } from "@codemirror/lang-python";
import { Compartment, EditorState, Prec } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
import { basicSetup } from "codemirror";
import { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";

import { USE_COOKIE, getJson } from "./api";
import { cellAt, isBlank, splitCells } from "./cells";
import { SessionClock } from "./clock";
import { byId, el } from "./dom";
import { Follow } from "./follow";
import { renderMarkdown } from "./markdown";
import { type Output, type RunRecord, type RunResult, RunView } from "./outputs";
import type { ClockInfo, DismissedHow, PublicQuestion } from "./protocol";
import { signInUrl, whoAmI } from "./signin";
import { StaffPanel } from "./staff";
import { AssistantPanel } from "./assistant"; // issue 13: the assistant panel
import { SignalCapture } from "./signals"; // issue 13: process signals
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
  room: byId("room"),
  closed: byId("closed"),
  closedTitle: byId("closed-title"),
  closedText: byId("closed-text"),
  closedMore: byId("closed-more"),
  recorded: byId("recorded"),
  recordedOk: byId<HTMLButtonElement>("recorded-ok"),
  briefToggle: byId<HTMLButtonElement>("brief-toggle"),
  clockBox: byId("session-clock"),
  extend: byId<HTMLButtonElement>("extend"),
  announce: byId("announce"),
};

// -- what the room says on its own: the clock, the closed page, the recording notice -------

function announce(text: string): void {
  ui.announce.textContent = text;
  showNotice(text);
}

const clock = new SessionClock(ui.clockBox, byId("clock-elapsed"), byId("clock-left"), announce);

/** Replaces the room with a page that says why it is closed (nothing else to do here). */
function showClosedPage(title: string, text: string, more = ""): void {
  ui.closedTitle.textContent = title;
  ui.closedText.textContent = text;
  ui.closedMore.textContent = more;
  ui.closed.hidden = false;
  ui.room.hidden = true;
  ui.recorded.hidden = true;
  document.body.classList.add("is-closed");
  document.title = `Clarify — ${title}`;
}

function closedPageFor(code: number | null): void {
  if (code === 4409 || (code === null && ended)) {
    if (role !== null && STAFF_ROLES.has(role)) return; // staff keep the room: scorecard link, notes
    showClosedPage(
      "This interview has ended — thank you",
      "Thank you for your time. The session is over and nothing more is recorded; you can close this tab.",
      role === "candidate" ? "The hiring team will be in touch about the next steps." : "",
    );
  } else if (code === 4401 && byCookie) {
    // No token in the link: the room is the signed-in member's; sign in and come back here.
    showClosedPage("Sign in to open this room", "You are not signed in, or your sign-in is no longer valid.");
    const link = el("a", "signin-link", "Sign in");
    link.setAttribute("href", signInUrl());
    ui.closedMore.replaceChildren(link);
  } else if (code === 4401 || code === 4404) {
    showClosedPage(
      "This link is not valid",
      "The link may have been mistyped, revoked, or replaced by a newer one.",
      "Ask the person who sent it for a new link.",
    );
  } else if (code === 4403) {
    showClosedPage("This link cannot open the live room", "Reviewers open the replay and the scorecard from the home page.");
  }
}

// -- where we are -------------------------------------------------------------------------

const sessionId = decodeURIComponent(location.pathname.replace(/\/+$/, "").split("/").pop() ?? "");
// A link's role token (candidates, scripts); without one, a signed-in member's cookie
// authenticates both sockets (the browser sends it, and this page's own Origin, on upgrade).
const token = new URLSearchParams(location.search).get("token") ?? "";
const byCookie = !token;
if (byCookie) FATAL_CLOSES[4401] = "your sign-in is not valid";
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

function setFatal(reason: string, code: number | null = null): void {
  if (fatal) return;
  fatal = reason;
  provider.disconnect();
  events?.close();
  updateBadge();
  showNotice(`This room is closed: ${reason}.`);
  clock.stop();
  settleQuestions();
  closedPageFor(code);
}

// -- the shared document --------------------------------------------------------------------

const doc = new Y.Doc();
const ytext = doc.getText("code");
const provider = new WebsocketProvider(`${wsBase}/ws/doc`, sessionId, doc, {
  params: byCookie ? {} : { token },
  connect: !byCookie, // a signed-in member connects once the sign-in is confirmed (below)
});
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
  if (event && FATAL_CLOSES[event.code]) setFatal(FATAL_CLOSES[event.code], event.code);
});

function setPresence(name: string): void {
  const colour = ROLE_COLOURS[name] ?? "#475569";
  provider.awareness.setLocalStateField("user", { name, color: colour, colorLight: `${colour}33` });
}
setPresence("joining");

// The server relays only colours of this form (server/collab.py valid_awareness); checked
// again here because a colour reaches a style.
const COLOUR = /^#[0-9a-f]{6}([0-9a-f]{2})?$/i;

// Chips show the names the clients announce (a signed-in member announces the name the server
// greeted them with). Staff also get the server's own list of who is connected: a chip whose
// name the server vouches for (a signed-in member) is marked, and the list is the tooltip.
let verified = new Map<string, string>(); // signed-in member's name -> role

function setServerPresence(list: unknown): void {
  if (!Array.isArray(list)) return;
  verified = new Map();
  const lines: string[] = [];
  for (const p of list as { name?: unknown; role?: unknown }[]) {
    const r = typeof p.role === "string" ? p.role : "";
    const name = typeof p.name === "string" ? p.name.slice(0, 64) : "";
    if (name) verified.set(name, r);
    lines.push(name ? `${name} (${r}, signed in)` : `${r} (link)`);
  }
  ui.presence.title = `Connected: ${lines.join(", ")}`;
  renderPresence();
}

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
      const role = verified.get(name);
      if (role) {
        chip.classList.add("verified");
        chip.title = `${name}: signed in (${role})`;
      }
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
      // Tab indents, as in any code editor; Escape then Tab moves focus out (CodeMirror's
      // documented way out for keyboard users, see the hint in the toolbar).
      keymap.of([indentWithTab]),
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
  const query = byCookie ? "" : `?token=${encodeURIComponent(token)}`;
  const url = `${wsBase}/ws/events/${encodeURIComponent(sessionId)}${query}`;
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
      setFatal(FATAL_CLOSES[ev.code], ev.code);
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
const consoleFollow = new Follow(ui.console, byId<HTMLButtonElement>("console-more"), () =>
  staff?.unseen("console-panel"),
);
const threadFollow = new Follow(ui.thread, byId<HTMLButtonElement>("thread-more"), () =>
  staff?.unseen("questions-panel"),
);

function stickToBottom(update: () => void): void {
  update();
  consoleFollow.added();
}

async function loadRunOutputs(runId: number): Promise<Output[]> {
  const path = `/api/sessions/${encodeURIComponent(sessionId)}/runs/${runId}`;
  const body = await getJson<{ run: RunRecord }>(path, token || USE_COOKIE);
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

type Question = PublicQuestion;

const questions = new Map<number, HTMLLIElement>();

// What the candidate is told when the interviewer closes a question without a typed answer.
const DISMISSED: Record<DismissedHow, string> = {
  aloud: "The interviewer will answer this out loud.",
  unanswered: "The interviewer chose not to answer this one. State the assumption you would make and carry on.",
};
const UNANSWERED_AT_END = "Not answered before the session ended.";

function setStatus(item: HTMLLIElement, status: string, text: string, className: string): void {
  item.dataset.status = status;
  item.querySelectorAll(".q-pending, .q-answer, .q-closed").forEach((node) => node.remove());
  item.append(el("p", className, text));
}

function renderQuestion(q: Question): void {
  let item = questions.get(q.id);
  const fresh = !item;
  if (!item) {
    item = el("li", "question", null, { "data-question": String(q.id) });
    questions.set(q.id, item);
    ui.thread.append(item);
  }
  item.replaceChildren(el("p", "q-text", q.text));
  if (q.answer) setAnswer(q.id, q.answer);
  else if (q.status === "dismissed") setDismissed(q.id, q.dismissed ?? "unanswered");
  else if (ended || fatal) setStatus(item, "closed", UNANSWERED_AT_END, "q-closed");
  else setStatus(item, "open", "waiting for an answer…", "q-pending");
  if (fresh) threadFollow.added();
}

function setAnswer(id: number, text: string): void {
  const item = questions.get(id);
  if (!item) return;
  setStatus(item, "answered", text, "q-answer");
  threadFollow.added();
}

function setDismissed(id: number, how: DismissedHow): void {
  const item = questions.get(id);
  if (!item) return;
  setStatus(item, `dismissed-${how}`, DISMISSED[how] ?? DISMISSED.unanswered, "q-closed");
  threadFollow.added();
}

/** The session is over: no question is left "waiting". */
function settleQuestions(): void {
  for (const item of questions.values()) {
    if (item.dataset.status === "open") setStatus(item, "closed", UNANSWERED_AT_END, "q-closed");
  }
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
  threadFollow.added();
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
  ui.extend.disabled = !(role === "interviewer" && !ended && !fatal && eventsConnected);
}

function setKernel(state: string, reason?: unknown): void {
  kernelState = state;
  ui.kernel.dataset.state = state;
  ui.kernel.textContent = typeof reason === "string" && reason ? `${state} (${reason})` : state;
  updateControls();
}

function setRole(r: string, you?: { name?: unknown }): void {
  const first = role === null;
  role = r;
  ui.role.textContent = r;
  ui.role.style.backgroundColor = ROLE_COLOURS[r] ?? "#475569";
  document.body.dataset.role = r;
  ui.ask.hidden = r !== "candidate";
  if (first) {
    // A signed-in member appears by name (as the server knows it); a link holder by role.
    setPresence(you && typeof you.name === "string" && you.name ? you.name.slice(0, 64) : r);
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
  const brief = p && typeof p.brief === "string" ? p.brief : "This session has no problem brief.";
  // A brief that opens with its own heading is its own title; otherwise the pack's title leads.
  const ownTitle = /^\s*#\s/.test(brief);
  if (!ownTitle && p && typeof p.title === "string") ui.brief.append(el("h3", "", p.title));
  // The pack's Markdown, rendered and sanitized (markdown.ts); headings sit under the page's.
  const body = el("div", "brief-body markdown");
  body.append(renderMarkdown(brief, ownTitle ? 2 : 3));
  ui.brief.append(body);
}

function setBriefOpen(open: boolean): void {
  ui.brief.hidden = !open;
  ui.briefToggle.setAttribute("aria-expanded", String(open));
  ui.briefToggle.textContent = open ? "Hide" : "Show";
  byId("brief-panel").dataset.open = String(open);
  try {
    sessionStorage.setItem("clarify.brief.closed", open ? "" : "1");
  } catch {
    /* storage may be off */
  }
}

function showRecordedNotice(): void {
  let seen = false;
  try {
    seen = sessionStorage.getItem(`clarify.recorded.${sessionId}`) === "1";
  } catch {
    /* storage may be off: show it */
  }
  ui.recorded.hidden = seen;
}

function handle(msg: Record<string, unknown>): void {
  if (assistant.handle(msg)) return; // issue 13: assistant.* messages (it also reads hello)
  switch (msg.type) {
    case "hello": {
      eventsConnected = true;
      if (docConnected) everConnected = true;
      setRole(String(msg.role), msg.you as { name?: unknown } | undefined);
      if (msg.presence) setServerPresence(msg.presence);
      renderBrief(msg.problem);
      const session = msg.session as { ended?: boolean } | undefined;
      ended = Boolean(session?.ended);
      resetRuns((msg.runs as RunRecord[]) ?? []);
      const clarify = msg.clarify as { questions?: Question[] } | null;
      if (staff) staff.hello(msg.problem, clarify, session);
      else resetQuestions(clarify?.questions ?? []);
      clock.set(msg.clock as ClockInfo | null);
      ui.extend.hidden = role !== "interviewer" || (msg.clock as ClockInfo | null)?.limit == null;
      if (role === "candidate" && !ended) showRecordedNotice();
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
    case "question.dismissed": {
      const how: DismissedHow = msg.how === "aloud" ? "aloud" : "unanswered";
      if (staff) staff.dismissed(Number(msg.question), how);
      else setDismissed(Number(msg.question), how);
      return;
    }
    case "answer.retracted": {
      // issue 10: the interviewer undid an answer within the window; the question is open again.
      const item = questions.get(Number(msg.question));
      if (staff) staff.handle(msg);
      else if (item) setStatus(item, "open", `${String(msg.note ?? "")} Waiting for an answer…`, "q-pending q-retracted");
      return;
    }
    case "clock":
      clock.set(msg.clock as ClockInfo);
      return;
    case "reveal":
      addReveal(String(msg.text ?? ""));
      return;
    case "presence":
      setServerPresence(msg.people);
      return;
    case "session.ended":
      ended = true;
      staff?.sessionEnded();
      setFatal("the session has ended", 4409);
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

// -- issue 13: the assistant panel and process signals (assistant.ts, signals.ts) ------------
const assistant = new AssistantPanel(byId("assistant-panel"), {
  send,
  insert: (text) => {
    if (role !== "candidate") return null;
    const at = view.state.selection.main.head;
    view.dispatch({ changes: { from: at, insert: text }, selection: { anchor: at + text.length } });
    view.focus();
    return at;
  },
  signal: (msg) => signals.emit(msg),
});
const signals = new SignalCapture(ui.editor, {
  send: (msg) => (events?.readyState === WebSocket.OPEN ? send(msg) : false),
  active: () => role === "candidate",
  documentText: () => view.state.doc.toString(),
  assistantCopy: () => assistant.copied,
});
// -- end of issue 13 --------------------------------------------------------------------------

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
ui.extend.addEventListener("click", () => send({ type: "extend", minutes: 5 }));
ui.briefToggle.addEventListener("click", () => setBriefOpen(ui.brief.hidden === true));
ui.recordedOk.addEventListener("click", () => {
  ui.recorded.hidden = true;
  try {
    sessionStorage.setItem(`clarify.recorded.${sessionId}`, "1");
  } catch {
    /* storage may be off */
  }
});
try {
  if (sessionStorage.getItem("clarify.brief.closed") === "1") setBriefOpen(false);
} catch {
  /* storage may be off */
}
ui.askText.addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey) {
    ev.preventDefault();
    ui.ask.requestSubmit();
  }
});

if (!sessionId) {
  setFatal("this link lacks a session", 4404);
} else if (byCookie) {
  // No token in the link: staff join as themselves, through their sign-in.
  whoAmI()
    .then((me) => {
      if (!me) {
        setFatal("this link has no token and you are not signed in", 4401);
        return;
      }
      provider.connect();
      connectEvents();
    })
    .catch((err: unknown) => setFatal(`the server could not be reached (${err instanceof Error ? err.message : String(err)})`));
} else {
  connectEvents();
}
updateBadge();
