// The staff home: the admin token (once per tab), problems with their briefs, creating a
// session (its per-role links, shown once), and the list of sessions.

import {
  ApiError,
  type CreatedSession,
  type ProblemSummary,
  type SessionSummary,
  SPECIALIZATIONS,
  adminToken,
  byId,
  el,
  getJson,
  keepSessionTokens,
  openWithToken,
  postJson,
  renderBrief,
  sessionTokens,
  setAdminToken,
  when,
} from "./api";
import "./style.css";
import "./pages.css";

const ui = {
  forget: byId<HTMLButtonElement>("forget"),
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
  createError: byId("create-error"),
  created: byId("created"),
  createdTitle: byId("created-title"),
  createdLinks: byId<HTMLUListElement>("created-links"),
  refresh: byId<HTMLButtonElement>("refresh"),
  sessions: byId<HTMLTableSectionElement>("sessions"),
  sessionsEmpty: byId("sessions-empty"),
  notice: byId("notice"),
};

let token: string | null = adminToken();
let problems: ProblemSummary[] = [];
let selected: string | null = null;

function showError(node: HTMLElement, text: string | null): void {
  node.hidden = text === null;
  node.textContent = text ?? "";
}

function notice(text: string | null): void {
  showError(ui.notice, text);
}

/** A failed staff call: a rejected token sends us back to the token form. */
function failed(err: unknown, where: HTMLElement): void {
  if (err instanceof ApiError && err.status === 401) {
    signOut("The admin token was not accepted.");
    return;
  }
  showError(where, err instanceof Error ? err.message : String(err));
}

// -- the token -------------------------------------------------------------------------------

function signOut(reason: string | null = null): void {
  token = null;
  setAdminToken(null);
  ui.staff.hidden = true;
  ui.forget.hidden = true;
  ui.signin.hidden = false;
  showError(ui.signinError, reason);
  ui.tokenInput.value = "";
  ui.tokenInput.focus();
}

async function signIn(candidate: string): Promise<void> {
  try {
    problems = await getJson<ProblemSummary[]>("/api/problems", candidate);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      signOut("The admin token was not accepted.");
    } else {
      showError(ui.signinError, `Could not reach the server: ${err instanceof Error ? err.message : String(err)}`);
    }
    return;
  }
  token = candidate;
  setAdminToken(candidate);
  ui.signin.hidden = true;
  ui.staff.hidden = false;
  ui.forget.hidden = false;
  showError(ui.signinError, null);
  renderProblems();
  await loadSessions();
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
      item.append(pick);
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
  ui.preview.replaceChildren(el("h3", undefined, p.title), el("p", "muted", p.summary), body, hidden);
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

function linkRow(key: string, label: string, url: string): HTMLLIElement {
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
  row.append(name, field, button, open);
  return row;
}

function showCreated(session: CreatedSession): void {
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
  ui.createdTitle.textContent = `Session ${session.id} for ${session.candidate}`;
  ui.createdLinks.replaceChildren(...rows.filter(([, , url]) => url).map(([key, label, url]) => linkRow(key, label, url)));
  ui.created.hidden = false;
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
    const session = await postJson<CreatedSession>("/api/sessions", token, { problem: ui.problem.value, candidate });
    showCreated(session);
    ui.candidate.value = "";
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
  const status = el("span", `status status-${s.status}`, s.status);
  const statusCell = el("td");
  statusCell.append(status);
  if (s.recording_gap) statusCell.append(el("span", "chip warn", "recording gap"));

  const id = encodeURIComponent(s.id);
  const open = el("td", "open");
  if (kept?.interviewer && s.status !== "ended") {
    open.append(anchor("Room", `/s/${id}?token=${encodeURIComponent(kept.interviewer)}`, true));
  }
  // The replay page falls back to this tab's admin token when the link has none.
  open.append(anchor("Replay", kept?.reviewer ? `/replay/${id}?token=${encodeURIComponent(kept.reviewer)}` : `/replay/${id}`));
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

  const who = el("td", "who", s.candidate);
  row.append(
    who,
    el("td", undefined, problem ? problem.title : (s.problem ?? "—")),
    el("td", undefined, when(s.created_ms)),
    statusCell,
    open,
  );
  return row;
}

async function loadSessions(): Promise<void> {
  if (!token) return;
  try {
    const list = await getJson<SessionSummary[]>("/api/sessions", token);
    const kept = sessionTokens();
    ui.sessions.replaceChildren(...list.map((s) => sessionRow(s, kept[s.id])));
    ui.sessionsEmpty.hidden = list.length > 0;
    notice(null);
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
ui.forget.addEventListener("click", () => signOut());
ui.tokenForm.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const value = ui.tokenInput.value.trim();
  if (value) void signIn(value);
});

if (token) {
  ui.signin.hidden = true;
  void signIn(token);
} else {
  ui.tokenInput.focus();
}
