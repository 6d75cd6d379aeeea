// The staff home: signing in (the identity provider, or the admin token once per tab), problems
// with their briefs and comparisons, creating a session (its links, shown once), and the team's
// sessions: filtered by view, searched, ended, their candidate link reissued or revoked.
// A signed-in member's requests go with the browser-session cookie (and the CSRF header on
// changes); no token ever appears in a link for them.

import {
  ApiError,
  type CreatedSession,
  type ProblemSummary,
  type SessionSummary,
  SPECIALIZATIONS,
  USE_COOKIE,
  byId,
  el,
  getJson,
  keepSessionTokens,
  openWithToken,
  postJson,
  renderBrief,
  request,
  sessionTokens,
  setAdminToken,
  storedAdminToken,
  when,
} from "./api";
import { type Me, signInConfigured, signInUrl, signOut as endSignIn, whoAmI } from "./signin";
import "./style.css";
import "./pages.css";

const ui = {
  forget: byId<HTMLButtonElement>("forget"),
  whoami: byId("whoami"),
  teamLink: byId<HTMLAnchorElement>("team-link"),
  sso: byId("sso"),
  ssoLink: byId<HTMLAnchorElement>("sso-link"),
  signin: byId("signin"),
  tokenForm: byId<HTMLFormElement>("token-form"),
  tokenInput: byId<HTMLInputElement>("admin-token"),
  signinError: byId("signin-error"),
  staff: byId("staff"),
  filter: byId<HTMLSelectElement>("spec-filter"),
  problems: byId<HTMLUListElement>("problems"),
  problemsEmpty: byId("problems-empty"),
  preview: byId("preview"),
  create: byId<HTMLFormElement>("create"),
  problem: byId<HTMLSelectElement>("problem"),
  candidate: byId<HTMLInputElement>("candidate"),
  scheduled: byId<HTMLInputElement>("scheduled"),
  level: byId<HTMLSelectElement>("level"),
  createError: byId("create-error"),
  created: byId("created"),
  createdTitle: byId("created-title"),
  createdLinks: byId<HTMLUListElement>("created-links"),
  createdHint: byId("created-hint"),
  createPanel: byId("create").closest("section") as HTMLElement,
  filterForm: byId<HTMLFormElement>("session-filter"),
  view: byId<HTMLSelectElement>("view"),
  search: byId<HTMLInputElement>("search"),
  sessionsHint: byId("sessions-hint"),
  refresh: byId<HTMLButtonElement>("refresh"),
  sessions: byId<HTMLTableSectionElement>("sessions"),
  sessionsEmpty: byId("sessions-empty"),
  notice: byId("notice"),
};

// The admin token, or USE_COOKIE for a signed-in member; null before either.
let token: string | null = null;
let me: Me | null = null; // the signed-in member (null with the admin token)
let problems: ProblemSummary[] = [];
let selected: string | null = null;

function showError(node: HTMLElement, text: string | null): void {
  node.hidden = text === null;
  node.textContent = text ?? "";
}

function notice(text: string | null): void {
  showError(ui.notice, text);
}

/** A failed staff call: a rejected token (or an ended sign-in) sends us back to sign in. */
function failed(err: unknown, where: HTMLElement): void {
  if (err instanceof ApiError && err.status === 401) {
    showSignedOut(me ? "Your sign-in has ended; sign in again." : "The admin token was not accepted.");
    return;
  }
  showError(where, err instanceof Error ? err.message : String(err));
}

// -- signing in: the identity provider (cookie) or the admin token ----------------------------

function showSignedOut(reason: string | null = null): void {
  token = null;
  me = null;
  setAdminToken(null);
  ui.staff.hidden = true;
  ui.forget.hidden = true;
  ui.whoami.hidden = true;
  ui.teamLink.hidden = true;
  ui.signin.hidden = false;
  ui.sso.hidden = !signInConfigured();
  showError(ui.signinError, reason);
  ui.tokenInput.value = "";
  if (ui.sso.hidden) ui.tokenInput.focus();
}

async function signOut(): Promise<void> {
  if (me) {
    try {
      await endSignIn();
    } catch (err) {
      notice(`Could not sign out: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
  }
  await whoAmI().catch(() => null); // learn whether sign-in is offered
  showSignedOut();
}

/** Enter the staff view with `credential` (the admin token, or USE_COOKIE when signed in). */
async function enter(credential: string): Promise<void> {
  try {
    problems = await getJson<ProblemSummary[]>("/api/problems", credential);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      showSignedOut(credential === USE_COOKIE ? "Your sign-in has ended." : "The admin token was not accepted.");
    } else {
      showError(ui.signinError, `Could not reach the server: ${err instanceof Error ? err.message : String(err)}`);
    }
    return;
  }
  token = credential;
  if (credential !== USE_COOKIE) setAdminToken(credential);
  ui.signin.hidden = true;
  ui.staff.hidden = false;
  ui.forget.hidden = false;
  ui.whoami.hidden = false;
  ui.whoami.textContent = me ? `${me.name || me.member?.email || me.id} · ${me.role ?? "member"}` : "admin token";
  ui.teamLink.hidden = !me;
  const canCreate = me ? Boolean(me.can["sessions.create"]) : true;
  ui.createPanel.hidden = !canCreate;
  ui.create.hidden = !canCreate;
  ui.view.querySelector<HTMLOptionElement>('option[value="mine"]')!.hidden = !canCreate;
  ui.sessionsHint.textContent = me
    ? "Open a room, replay or scorecard as yourself: no token is needed while you are signed in."
    : "Room links need the interviewer token, which exists only in the tab that created the session.";
  showError(ui.signinError, null);
  renderProblems();
  await loadSessions();
}

async function start(): Promise<void> {
  ui.ssoLink.href = signInUrl("/");
  const kept = storedAdminToken();
  if (kept) {
    ui.signin.hidden = true;
    await enter(kept);
    return;
  }
  try {
    me = await whoAmI();
  } catch (err) {
    me = null;
    showError(ui.signinError, `Could not reach the server: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (me) await enter(USE_COOKIE);
  else showSignedOut(ui.signinError.hidden ? null : ui.signinError.textContent);
}

// -- problems --------------------------------------------------------------------------------

function visibleProblems(): ProblemSummary[] {
  const spec = ui.filter.value;
  return problems.filter((p) => !spec || p.specialization === spec);
}

function renderProblems(): void {
  const list = visibleProblems();
  if (selected && !list.some((p) => p.id === selected)) selected = null;
  if (!selected && list.length > 0) selected = list[0].id;

  ui.problems.replaceChildren(
    ...list.map((p) => {
      const item = el("li", "problem");
      item.dataset.problem = p.id;
      const pick = el("button", "problem-pick");
      pick.type = "button";
      pick.setAttribute("aria-pressed", String(p.id === selected));
      const title = el("span", "problem-title", p.title);
      const meta = el("span", "problem-meta");
      meta.append(
        el("span", `chip spec spec-${p.specialization}`, p.specialization),
        el("span", "chip", p.level),
        el("span", "chip", `${p.minutes} min`),
      );
      pick.append(title, meta, el("span", "problem-summary", p.summary));
      pick.addEventListener("click", () => select(p.id));
      item.append(pick, compareLink(p));
      return item;
    }),
  );
  ui.problemsEmpty.hidden = list.length > 0;

  ui.problem.replaceChildren(
    ...list.map((p) => {
      const option = el("option", undefined, `${p.title} (${p.specialization}, ${p.level}, ${p.minutes} min)`);
      option.value = p.id;
      return option;
    }),
  );
  if (selected) ui.problem.value = selected;
  renderPreview();
}

/** Every candidate who worked on `p`, side by side: a plain link when signed in (the cookie
 * goes with it); with the admin token, fetched with the header and shown in a new tab. */
function compareLink(p: ProblemSummary, label = "Compare candidates"): HTMLAnchorElement {
  const path = `/api/problems/${encodeURIComponent(p.id)}/comparison`;
  const a = anchor(label, path, true);
  a.className = "compare-link";
  a.dataset.problem = p.id;
  a.addEventListener("click", (ev) => {
    if (token === USE_COOKIE || !token) return;
    ev.preventDefault();
    openWithToken(path, token).catch((err: unknown) => failed(err, ui.notice));
  });
  return a;
}

function select(id: string): void {
  selected = id;
  ui.problem.value = id;
  for (const button of ui.problems.querySelectorAll<HTMLButtonElement>(".problem-pick")) {
    button.setAttribute("aria-pressed", String(button.closest("li")?.dataset.problem === id));
  }
  renderPreview();
}

function renderPreview(): void {
  const p = problems.find((x) => x.id === selected);
  if (!p) {
    ui.preview.replaceChildren(el("p", "muted", "Choose a problem to read its brief."));
    return;
  }
  const body = el("div");
  renderBrief(body, p.brief ?? p.summary);
  const hidden = el("details", "hidden-constraints");
  hidden.append(el("summary", undefined, `Hidden constraints (${p.constraints?.length ?? 0}, staff only)`));
  const list = el("ul");
  for (const c of p.constraints ?? []) {
    list.append(el("li", undefined, `${c.title} · ${c.category} · weight ${c.weight}`));
  }
  hidden.append(list);
  const compare = el("p", "compare");
  compare.append(compareLink(p, "Compare the candidates on this problem"));
  ui.preview.replaceChildren(el("h3", undefined, p.title), el("p", "muted", p.summary), body, hidden, compare);
  ui.preview.scrollTop = 0;
}

// -- creating a session ----------------------------------------------------------------------

async function copy(text: string, button: HTMLButtonElement): Promise<void> {
  let ok = false;
  try {
    await navigator.clipboard.writeText(text);
    ok = true;
  } catch {
    // Clipboard API unavailable (e.g. not a secure context): select the text instead.
    const field = button.parentElement?.querySelector<HTMLInputElement>("input");
    if (field) {
      field.focus();
      field.select();
      ok = document.execCommand("copy");
    }
  }
  button.textContent = ok ? "Copied" : "Select and copy";
  setTimeout(() => (button.textContent = "Copy"), 2000);
}

function linkRow(key: string, label: string, url: string, openable = true): HTMLLIElement {
  const row = el("li", "link-row");
  row.dataset.role = key;
  const name = el("span", "link-label", label);
  const field = el("input", "link-url");
  field.type = "text";
  field.readOnly = true;
  field.value = url;
  field.setAttribute("aria-label", `${label} link`);
  const open = el("a", "link-open", "Open");
  open.href = url;
  open.target = "_blank";
  open.rel = "noopener noreferrer";
  const button = el("button", "copy", "Copy");
  button.type = "button";
  button.setAttribute("aria-label", `Copy the ${label} link`);
  button.addEventListener("click", () => void copy(url, button));
  row.append(name, field, button);
  if (openable) row.append(open);
  return row;
}

function showCreated(session: CreatedSession): void {
  ui.createdTitle.textContent = `Session ${session.id} for ${session.candidate}`;
  if (me) {
    // Staff join through sign-in: only the candidate's link carries a token, and it is shown
    // to be copied, not as a link on this page.
    const id = encodeURIComponent(session.id);
    const room = el("li", "link-row");
    room.dataset.role = "room";
    room.append(el("span", "link-label", "Your room"), anchor("Open the room", `/s/${id}`, true));
    ui.createdHint.textContent =
      "Send the candidate their link (shown once; reissue it from the list). Staff open the room by signing in.";
    ui.createdLinks.replaceChildren(linkRow("candidate", "Candidate", session.links.candidate, false), room);
    ui.created.hidden = false;
    return;
  }
  keepSessionTokens(session.id, session.tokens);
  const base = session.links.interviewer?.replace(/\/s\/[^/?]+\?.*$/, "") ?? location.origin;
  const reviewer = encodeURIComponent(session.tokens.reviewer ?? "");
  const rows: [string, string, string][] = [
    ["interviewer", "Interviewer", session.links.interviewer],
    ["candidate", "Candidate", session.links.candidate],
    ["observer", "Observer", session.links.observer],
    ["reviewer", "Reviewer (room)", session.links.reviewer],
    ["replay", "Replay (reviewer)", `${base}/replay/${encodeURIComponent(session.id)}?token=${reviewer}`],
  ];
  if (session.problem) {
    rows.push([
      "scorecard",
      "Scorecard (reviewer)",
      `${base}/api/sessions/${encodeURIComponent(session.id)}/scorecard?token=${reviewer}`,
    ]);
  }
  ui.createdHint.textContent = "These links carry the role tokens and are shown once: send each to its person.";
  ui.createdLinks.replaceChildren(...rows.filter(([, , url]) => url).map(([key, label, url]) => linkRow(key, label, url)));
  ui.created.hidden = false;
}

/** A new candidate link (the old one stops working), shown once to be copied. */
function showCandidateLink(s: SessionSummary, link: string, expires: number | null): void {
  ui.createdTitle.textContent = `New candidate link for ${s.candidate}`;
  ui.createdHint.textContent = expires
    ? `Shown once; the previous link no longer works. Valid until ${when(expires)}.`
    : "Shown once; the previous link no longer works. Valid until the session ends.";
  ui.createdLinks.replaceChildren(linkRow("candidate", "Candidate", link, false));
  ui.created.hidden = false;
  ui.created.scrollIntoView({ block: "nearest" });
}

ui.create.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (!token) return;
  const candidate = ui.candidate.value.trim();
  if (!candidate) {
    showError(ui.createError, "Enter the candidate's name.");
    ui.candidate.focus();
    return;
  }
  const submit = ui.create.querySelector<HTMLButtonElement>("button[type=submit]");
  if (submit) submit.disabled = true;
  showError(ui.createError, null);
  try {
    // datetime-local is the interviewer's local time; the server keeps ms since the epoch.
    const scheduledAt = ui.scheduled.value ? new Date(ui.scheduled.value).getTime() : null;
    const session = await postJson<CreatedSession>("/api/sessions", token, {
      problem: ui.problem.value,
      candidate,
      ...(scheduledAt !== null && Number.isFinite(scheduledAt) ? { scheduled_at: scheduledAt } : {}),
      ...(ui.level.value ? { level: ui.level.value } : {}),
    });
    showCreated(session);
    ui.candidate.value = "";
    ui.scheduled.value = "";
    ui.level.value = "";
    await loadSessions();
    ui.createdLinks.querySelector<HTMLButtonElement>("button")?.focus();
  } catch (err) {
    failed(err, ui.createError);
  } finally {
    if (submit) submit.disabled = false;
  }
});

// -- sessions --------------------------------------------------------------------------------

function anchor(text: string, href: string, newTab = false): HTMLAnchorElement {
  const a = el("a", undefined, text);
  a.href = href;
  a.rel = "noopener noreferrer";
  if (newTab) a.target = "_blank";
  return a;
}

function sessionRow(s: SessionSummary, kept: Record<string, string> | undefined): HTMLTableRowElement {
  const row = el("tr");
  row.dataset.session = s.id;
  const problem = problems.find((p) => p.id === s.problem);
  const live = s.status !== "ended";
  const status = el("span", `status status-${s.status}`, s.status);
  const statusCell = el("td");
  statusCell.append(status);
  if (s.recording_gap) statusCell.append(el("span", "chip warn", "recording gap"));

  const id = encodeURIComponent(s.id);
  const open = el("td", "open");
  if (me) {
    // Signed in: the room, replay and scorecard authenticate with the cookie, no token.
    if (live && me.role !== "reviewer") open.append(anchor("Room", `/s/${id}`, true));
    open.append(anchor("Replay", `/replay/${id}`, true));
    if (s.problem) open.append(anchor("Scorecard", `/api/sessions/${id}/scorecard`, true));
  } else {
    if (kept?.interviewer && live) {
      open.append(anchor("Room", `/s/${id}?token=${encodeURIComponent(kept.interviewer)}`, true));
    }
    // The replay page falls back to this tab's admin token when the link has none.
    open.append(
      anchor("Replay", kept?.reviewer ? `/replay/${id}?token=${encodeURIComponent(kept.reviewer)}` : `/replay/${id}`),
    );
    if (s.problem) {
      // A link may carry the session's reviewer token; the admin token goes only in a header.
      if (kept?.reviewer) {
        open.append(anchor("Scorecard", `/api/sessions/${id}/scorecard?token=${encodeURIComponent(kept.reviewer)}`, true));
      } else {
        const card = el("button", "link-button", "Scorecard");
        card.type = "button";
        card.addEventListener("click", () => {
          if (token) openWithToken(`/api/sessions/${id}/scorecard`, token).catch((err: unknown) => failed(err, ui.notice));
        });
        open.append(card);
      }
    }
  }

  const manage = el("td", "manage");
  if (live && mayManage(s)) {
    manage.append(
      action("End", `End the session with ${s.candidate} for everyone`, () => endSession(s)),
      action("New candidate link", "Issue a new candidate link; the old one stops working", () => reissue(s)),
      action("Revoke candidate link", "The candidate link stops working", () => revoke(s)),
    );
  }

  row.append(
    el("td", "who", s.candidate),
    el("td", undefined, `${problem ? problem.title : (s.problem ?? "—")}${s.level ? ` · ${s.level}` : ""}`),
    el("td", "host", s.host_name || (s.host ? s.host : "—")),
    el("td", undefined, s.scheduled_ms ? `scheduled ${when(s.scheduled_ms)}` : when(s.created_ms)),
    statusCell,
    open,
    manage,
  );
  return row;
}

/** Whether this person may end the session and manage its candidate link: the admin token,
 * an admin, or the interviewer who hosts it (the server decides; this only hides buttons). */
function mayManage(s: SessionSummary): boolean {
  if (!me) return true;
  return me.role === "admin" || (me.role === "interviewer" && s.host === me.id);
}

function action(label: string, title: string, run: () => Promise<void>): HTMLButtonElement {
  const button = el("button", "link-button", label);
  button.type = "button";
  button.title = title;
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await run();
    } catch (err) {
      failed(err, ui.notice);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

function sessionPath(s: SessionSummary, tail: string): string {
  return `/api/sessions/${encodeURIComponent(s.id)}/${tail}`;
}

async function endSession(s: SessionSummary): Promise<void> {
  if (!token || !confirm(`End the session with ${s.candidate} for everyone? The kernel stops.`)) return;
  await request(sessionPath(s, "end"), token, { method: "POST" });
  notice(`The session with ${s.candidate} has ended.`);
  await loadSessions(false);
}

async function reissue(s: SessionSummary): Promise<void> {
  if (!token) return;
  const body = await postJson<{ link: string; expires_ms: number | null }>(sessionPath(s, "candidate-link"), token, {});
  showCandidateLink(s, body.link, body.expires_ms);
}

async function revoke(s: SessionSummary): Promise<void> {
  if (!token || !confirm(`Revoke ${s.candidate}'s link? It stops working at once; issue a new one to let them in.`)) {
    return;
  }
  await request(sessionPath(s, "candidate-link"), token, { method: "DELETE" });
  notice(`${s.candidate}'s candidate link no longer works.`);
}

async function loadSessions(clearNotice = true): Promise<void> {
  if (!token) return;
  const query = new URLSearchParams();
  if (ui.view.value) query.set("view", ui.view.value);
  const q = ui.search.value.trim();
  if (q) query.set("q", q);
  try {
    const qs = query.toString();
    const list = await getJson<SessionSummary[]>(`/api/sessions${qs ? `?${qs}` : ""}`, token);
    const kept = sessionTokens();
    ui.sessions.replaceChildren(...list.map((s) => sessionRow(s, kept[s.id])));
    ui.sessionsEmpty.hidden = list.length > 0;
    ui.sessionsEmpty.textContent = ui.view.value || q ? "No session matches." : "No sessions yet.";
    if (clearNotice) notice(null);
  } catch (err) {
    failed(err, ui.notice);
  }
}

// -- wiring ----------------------------------------------------------------------------------

for (const spec of SPECIALIZATIONS) {
  const option = el("option", undefined, spec);
  option.value = spec;
  ui.filter.append(option);
}
ui.filter.addEventListener("change", renderProblems);
ui.problem.addEventListener("change", () => select(ui.problem.value));
ui.refresh.addEventListener("click", () => void loadSessions());
ui.view.addEventListener("change", () => void loadSessions());
ui.filterForm.addEventListener("submit", (ev) => {
  ev.preventDefault();
  void loadSessions();
});
ui.forget.addEventListener("click", () => void signOut());
ui.tokenForm.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const value = ui.tokenInput.value.trim();
  if (value) void enter(value);
});

void start();
