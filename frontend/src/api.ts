// Shared by the staff home and the replay page: DOM helpers, the HTTP API, the staff token (or,
// for a signed-in member, the browser-session cookie).
// Everything the server sends is shown with textContent, never parsed as markup.

export const SPECIALIZATIONS = ["llm", "ml", "mlops", "agentic"] as const;

const ADMIN_KEY = "clarify.admin-token";
const TOKENS_KEY = "clarify.session-tokens";

import { el } from "./dom";

export { byId, el } from "./dom";

/** m:ss (or h:mm:ss) of a duration in ms. */
export function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(mm).padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

export function when(epochMs: number): string {
  return new Date(epochMs).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

// -- the staff token (the server prints it at start-up), kept for this tab only ---------------

/**
 * Stands for "no token: the browser-session cookie of a signed-in member authenticates".
 * `request()` then sends no Authorization header, and the CSRF header on changes.
 */
export const USE_COOKIE = "cookie";

/** The admin token typed in this tab, else {@link USE_COOKIE} (the signed-in member, if any). */
export function adminToken(): string {
  return storedAdminToken() ?? USE_COOKIE;
}

/** The admin token typed in this tab, if any. */
export function storedAdminToken(): string | null {
  return sessionStorage.getItem(ADMIN_KEY);
}

export function setAdminToken(token: string | null): void {
  if (token) sessionStorage.setItem(ADMIN_KEY, token);
  else sessionStorage.removeItem(ADMIN_KEY);
}

/** Role tokens are shown once, at creation: those of sessions created in this tab are kept. */
export type RoleTokens = Record<string, string>;

export function sessionTokens(): Record<string, RoleTokens> {
  try {
    const parsed = JSON.parse(sessionStorage.getItem(TOKENS_KEY) ?? "{}");
    return parsed && typeof parsed === "object" ? (parsed as Record<string, RoleTokens>) : {};
  } catch {
    return {};
  }
}

export function keepSessionTokens(sessionId: string, tokens: RoleTokens): void {
  const all = sessionTokens();
  all[sessionId] = tokens;
  sessionStorage.setItem(TOKENS_KEY, JSON.stringify(all));
}

// -- HTTP ------------------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function failure(response: Response): Promise<ApiError> {
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as { message?: unknown; error?: unknown };
    if (typeof body.message === "string") message = body.message;
    else if (typeof body.error === "string") message = body.error;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, message);
}

// The CSRF token of this browser's sign-in (from GET /api/me): sent with every change a
// cookie authenticates. The cookie itself is HttpOnly and never read here.
let csrf: string | null = null;

export function setCsrf(value: string | null): void {
  csrf = value;
}

/** Headers of a cookie-authenticated request: the CSRF token when it changes something. */
export function cookieHeaders(init: RequestInit = {}): Headers {
  const headers = new Headers(init.headers);
  const method = (init.method ?? "GET").toUpperCase();
  if (method !== "GET" && method !== "HEAD" && csrf) headers.set("X-CSRF-Token", csrf);
  return headers;
}

/**
 * A request with the token as a Bearer header (it stays out of URLs and logs); with
 * {@link USE_COOKIE} (or no token), the signed-in member's cookie and CSRF header instead.
 */
export async function request(path: string, token: string, init: RequestInit = {}): Promise<Response> {
  const cookie = !token || token === USE_COOKIE;
  const headers = cookie ? cookieHeaders(init) : new Headers(init.headers);
  if (!cookie) headers.set("Authorization", `Bearer ${token}`);
  const response = await fetch(path, { ...init, headers, cache: "no-store", credentials: "same-origin" });
  if (!response.ok) throw await failure(response);
  return response;
}

export async function getJson<T>(path: string, token: string): Promise<T> {
  return (await (await request(path, token)).json()) as T;
}

export async function postJson<T>(path: string, token: string, body: unknown): Promise<T> {
  const response = await request(path, token, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return (await response.json()) as T;
}

/**
 * Opens a server-rendered page (a scorecard) that needs a token the page's URL must not carry
 * (the admin token): fetched with the token as a header and shown from a blob in a new tab.
 * The tab is opened first, while the click still counts as a user gesture.
 */
export async function openWithToken(path: string, token: string): Promise<void> {
  const tab = window.open("about:blank", "_blank");
  if (tab) tab.opener = null;
  try {
    const response = await request(path, token, { headers: { Accept: "text/html" } });
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    // A blob's document has no base to resolve our paths against: make them absolute.
    for (const node of page.querySelectorAll<HTMLElement>("link[href], a[href]")) {
      node.setAttribute("href", new URL(node.getAttribute("href") ?? "", location.origin).href);
    }
    const blob = new Blob([`<!doctype html>\n${page.documentElement.outerHTML}`], { type: "text/html" });
    const url = URL.createObjectURL(blob);
    if (tab) tab.location.href = url;
    else location.href = url;
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (err) {
    tab?.close();
    throw err;
  }
}

// -- shapes ----------------------------------------------------------------------------------

export interface ProblemSummary {
  id: string;
  title: string;
  specialization: string;
  level: string;
  minutes: number;
  summary: string;
  brief?: string;
  constraints?: { id: string; title: string; category: string; weight: number }[];
}

export interface SessionSummary {
  id: string;
  problem: string | null;
  candidate: string;
  created_ms: number;
  status: string;
  ended_ms: number | null;
  recording_gap?: boolean;
  role?: string;
  host?: string | null;
  host_name?: string | null;
  level?: string | null; // the level the candidate is interviewed at (issue 14)
  candidate_link?: { expires_ms: number | null };
  scheduled_ms?: number | null;
}

export interface CreatedSession extends SessionSummary {
  tokens: RoleTokens;
  links: Record<string, string>;
}

/** A problem brief as text: paragraphs at blank lines, hard-wrapped lines joined (as the room). */
export function renderBrief(target: HTMLElement, brief: string): void {
  target.replaceChildren();
  for (const para of brief.split(/\n\s*\n/)) {
    const lines: string[] = [];
    for (const line of para.split("\n")) {
      const own = /^\s*([-*+]|\d+[.)]|#{1,6})\s/.test(line);
      if (lines.length > 0 && !own) lines[lines.length - 1] += ` ${line.trim()}`;
      else lines.push(line.trimEnd());
    }
    target.append(el("p", "brief-body", lines.join("\n")));
  }
}
