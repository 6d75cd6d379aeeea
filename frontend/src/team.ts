// The team page (/team): my personal API tokens; for admins, the members (roles, access) and
// the audit log. Everything is shown with textContent.

import { byId, el, when } from "./api";
import { type Me, type Member, call, callJson, signInUrl, signOut, whoAmI } from "./signin";
import "./style.css";
import "./pages.css";

const ROLES = ["admin", "interviewer", "reviewer"];

const ui = {
  me: byId("me"),
  signout: byId<HTMLButtonElement>("signout"),
  signedOut: byId("signed-out"),
  signinLink: byId<HTMLAnchorElement>("signin-link"),
  tokensPanel: byId("tokens-panel"),
  tokenCreate: byId<HTMLFormElement>("token-create"),
  tokenLabel: byId<HTMLInputElement>("token-label"),
  tokenNew: byId("token-new"),
  tokens: byId<HTMLTableSectionElement>("tokens"),
  membersPanel: byId("members-panel"),
  members: byId<HTMLTableSectionElement>("members"),
  invite: byId<HTMLFormElement>("invite"),
  inviteEmail: byId<HTMLInputElement>("invite-email"),
  inviteRole: byId<HTMLSelectElement>("invite-role"),
  invites: byId<HTMLUListElement>("invites"),
  auditPanel: byId("audit-panel"),
  auditFilter: byId<HTMLFormElement>("audit-filter"),
  auditActor: byId<HTMLInputElement>("audit-actor"),
  auditAction: byId<HTMLInputElement>("audit-action"),
  auditSession: byId<HTMLInputElement>("audit-session"),
  audit: byId<HTMLTableSectionElement>("audit"),
  notice: byId("notice"),
};

let me: Me | null = null;

function notice(text: string | null): void {
  ui.notice.hidden = text === null;
  ui.notice.textContent = text ?? "";
}

function failed(err: unknown): void {
  notice(err instanceof Error ? err.message : String(err));
}

// -- personal tokens ---------------------------------------------------------------------

interface TokenRecord {
  id: string;
  label: string;
  created_ms: number;
}

async function loadTokens(): Promise<void> {
  const body = await callJson<{ tokens: TokenRecord[] }>("/api/tokens");
  ui.tokens.replaceChildren(
    ...body.tokens.map((t) => {
      const row = el("tr");
      row.dataset.token = t.id;
      const revoke = el("button", undefined, "Revoke");
      revoke.type = "button";
      revoke.addEventListener("click", async () => {
        try {
          await call(`/api/tokens/${encodeURIComponent(t.id)}`, { method: "DELETE" });
          await loadTokens();
        } catch (err) {
          failed(err);
        }
      });
      const cell = el("td");
      cell.append(revoke);
      row.append(el("td", undefined, t.label || t.id), el("td", undefined, when(t.created_ms)), cell);
      return row;
    }),
  );
}

ui.tokenCreate.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const made = await callJson<{ token: string }>("/api/tokens", {
      method: "POST",
      body: JSON.stringify({ label: ui.tokenLabel.value.trim() }),
    });
    ui.tokenNew.textContent = `New token (copy it now, it is shown once): ${made.token}`;
    ui.tokenNew.hidden = false;
    ui.tokenLabel.value = "";
    await loadTokens();
  } catch (err) {
    failed(err);
  }
});

// -- members (admins) --------------------------------------------------------------------

interface Invite {
  email: string;
  role: string;
}

async function patchMember(id: string, body: Record<string, unknown>): Promise<void> {
  try {
    await call(`/api/members/${encodeURIComponent(id)}`, { method: "PATCH", body: JSON.stringify(body) });
    notice(null);
  } catch (err) {
    failed(err);
  }
  await loadMembers();
}

function memberRow(m: Member): HTMLTableRowElement {
  const row = el("tr");
  row.dataset.member = m.id;
  const role = el("select");
  role.setAttribute("aria-label", `Role of ${m.name || m.email}`);
  for (const r of ROLES) {
    const option = el("option", undefined, r);
    option.value = r;
    role.append(option);
  }
  role.value = m.role;
  role.addEventListener("change", () => void patchMember(m.id, { role: role.value }));
  const access = el("button", "access", m.disabled ? "Enable" : "Disable");
  access.type = "button";
  access.disabled = me?.member?.id === m.id;
  access.addEventListener("click", () => void patchMember(m.id, { disabled: !m.disabled }));
  const roleCell = el("td");
  roleCell.append(role);
  const accessCell = el("td");
  accessCell.append(el("span", `status status-${m.disabled ? "ended" : "live"}`, m.disabled ? "disabled" : "active"), access);
  row.append(el("td", undefined, m.name || "—"), el("td", undefined, m.email), roleCell, el("td", undefined, m.source), accessCell);
  return row;
}

async function loadMembers(): Promise<void> {
  const body = await callJson<{ members: Member[]; invites: Invite[] }>("/api/members");
  ui.members.replaceChildren(...body.members.map(memberRow));
  ui.invites.replaceChildren(...body.invites.map((i) => el("li", undefined, `${i.email} (invited as ${i.role})`)));
}

ui.invite.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    await call("/api/members", {
      method: "POST",
      body: JSON.stringify({ email: ui.inviteEmail.value.trim(), role: ui.inviteRole.value }),
    });
    ui.inviteEmail.value = "";
    await loadMembers();
  } catch (err) {
    failed(err);
  }
});

// -- audit (admins) ----------------------------------------------------------------------

interface AuditEntry {
  time_ms: number;
  action: string;
  actor: string;
  name: string;
  target: string;
  session: string;
}

async function loadAudit(): Promise<void> {
  const params = new URLSearchParams();
  if (ui.auditActor.value.trim()) params.set("actor", ui.auditActor.value.trim());
  if (ui.auditAction.value.trim()) params.set("action", ui.auditAction.value.trim());
  if (ui.auditSession.value.trim()) params.set("session", ui.auditSession.value.trim());
  params.set("limit", "200");
  const body = await callJson<{ entries: AuditEntry[] }>(`/api/audit?${params}`);
  ui.audit.replaceChildren(
    ...body.entries
      .slice()
      .reverse()
      .map((e) => {
        const row = el("tr");
        row.append(
          el("td", undefined, when(e.time_ms)),
          el("td", undefined, e.name || e.actor || "—"),
          el("td", undefined, e.action),
          el("td", undefined, e.target || ""),
          el("td", undefined, e.session || ""),
        );
        return row;
      }),
  );
}

ui.auditFilter.addEventListener("submit", (ev) => {
  ev.preventDefault();
  loadAudit().catch(failed);
});

// -- start -------------------------------------------------------------------------------

ui.signout.addEventListener("click", async () => {
  await signOut().catch(() => undefined);
  location.href = "/";
});

async function start(): Promise<void> {
  me = await whoAmI();
  if (!me || !me.member) {
    ui.signedOut.hidden = false;
    ui.signinLink.href = signInUrl("/team");
    return;
  }
  ui.me.textContent = `${me.name} · ${me.role}`;
  ui.signout.hidden = false;
  ui.tokensPanel.hidden = false;
  await loadTokens();
  if (me.can["members.manage"]) {
    ui.membersPanel.hidden = false;
    await loadMembers();
  }
  if (me.can["audit.read"]) {
    ui.auditPanel.hidden = false;
    await loadAudit();
  }
}

start().catch(failed);
