// Signed-in staff: who I am (GET /api/me), and requests authenticated by the browser-session
// cookie. A request that changes something carries the session's CSRF token in a header; the
// cookie itself is HttpOnly and never read here.

import { ApiError, cookieHeaders, setCsrf } from "./api";

export interface Member {
  id: string;
  email: string;
  name: string;
  role: string;
  source: string;
  disabled: boolean;
  created_ms: number;
  last_login_ms: number | null;
}

export interface Me {
  signed_in: true;
  via: string;
  id: string;
  name: string;
  role: string | null;
  member: Member | null;
  can: Record<string, boolean>;
  sign_in: boolean;
  csrf?: string;
}

let signInOffered = false;

/** The signed-in member, or null (not signed in, or the sign-in expired). */
export async function whoAmI(): Promise<Me | null> {
  const response = await fetch("/api/me", { credentials: "same-origin", cache: "no-store" });
  if (response.status === 401 || response.status === 403) {
    setCsrf(null);
    try {
      signInOffered = Boolean(((await response.json()) as { sign_in?: unknown }).sign_in);
    } catch {
      signInOffered = false;
    }
    return null;
  }
  if (!response.ok) throw new ApiError(response.status, `${response.status} ${response.statusText}`);
  const me = (await response.json()) as Me | { signed_in: false; sign_in?: boolean };
  signInOffered = Boolean(me.sign_in);
  if (!me.signed_in) {
    setCsrf(null);
    return null; // no credential at all: not signed in
  }
  setCsrf(me.csrf ?? null);
  return me;
}

/** Whether this server signs people in with an identity provider (known after whoAmI()). */
export function signInConfigured(): boolean {
  return signInOffered;
}

async function failure(response: Response): Promise<ApiError> {
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as { message?: unknown };
    if (typeof body.message === "string") message = body.message;
  } catch {
    // not JSON
  }
  return new ApiError(response.status, message);
}

/** A request with the session cookie (and the CSRF header when it changes something). */
export async function call(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = cookieHeaders(init);
  if (init.body !== undefined && !headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  const response = await fetch(path, { ...init, headers, credentials: "same-origin", cache: "no-store" });
  if (!response.ok) throw await failure(response);
  return response;
}

export async function callJson<T>(path: string, init: RequestInit = {}): Promise<T> {
  return (await (await call(path, init)).json()) as T;
}

export async function signOut(): Promise<void> {
  try {
    await call("/auth/logout", { method: "POST" });
  } finally {
    setCsrf(null);
  }
}

export function signInUrl(next: string = location.pathname + location.search): string {
  return `/auth/login?next=${encodeURIComponent(next)}`;
}
