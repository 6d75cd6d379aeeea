// The session clock everyone sees: time elapsed and time left against the problem's minutes
// (plus what the interviewer added), with a gentle warning at 10 and at 5 minutes. The server
// says what "now" is on its clock; the page counts on from there with its own monotonic clock,
// so a wrong clock on the candidate's machine cannot move it.

import type { ClockInfo } from "./protocol";

const WARNINGS = [10, 5]; // minutes left

export function mmss(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

export class SessionClock {
  private base: { now: number; at: number } | null = null;
  private limit: number | null = null;
  private stopped = false;
  private timer: number | null = null;
  private warned = new Set<number>();

  constructor(
    private readonly box: HTMLElement,
    private readonly elapsedText: HTMLElement,
    private readonly leftText: HTMLElement,
    /** Announces a warning (a polite live region, seen and heard once). */
    private readonly announce: (text: string) => void,
  ) {}

  /** The server's clock info (from hello or a "clock" message). */
  set(info: ClockInfo | null | undefined): void {
    if (!info || typeof info.now !== "number") return;
    const first = this.base === null;
    this.base = { now: info.now, at: performance.now() };
    const limit = typeof info.limit === "number" ? info.limit : null;
    if (this.limit !== null && limit !== null && limit > this.limit) {
      // More time: the warnings that no longer apply may come again later.
      const left = limit - this.elapsed();
      for (const m of WARNINGS) if (left > m * 60_000) this.warned.delete(m);
      if (!first) this.announce(`The interviewer added ${Math.round((limit - this.limit) / 60_000)} minutes.`);
    }
    if (first) {
      // Joining late must not replay warnings that passed before the page opened.
      const left = limit === null ? Infinity : limit - info.now;
      for (const m of WARNINGS) if (left <= m * 60_000) this.warned.add(m);
    }
    this.limit = limit;
    this.box.hidden = false;
    this.render();
    if (this.timer === null && !this.stopped) this.timer = window.setInterval(() => this.render(), 1000);
  }

  /** The session ended: the clock stops where it is. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) window.clearInterval(this.timer);
    this.timer = null;
    this.box.dataset.state = "ended";
  }

  elapsed(): number {
    return this.base ? this.base.now + (performance.now() - this.base.at) : 0;
  }

  private render(): void {
    const elapsed = this.elapsed();
    this.elapsedText.textContent = mmss(elapsed);
    if (this.limit === null) {
      this.leftText.textContent = "";
      this.box.dataset.state = this.stopped ? "ended" : "ok";
      return;
    }
    const left = this.limit - elapsed;
    let state = "ok";
    if (left <= 0) state = "over";
    else if (left <= 5 * 60_000) state = "warn5";
    else if (left <= 10 * 60_000) state = "warn10";
    this.leftText.textContent = left > 0 ? `${mmss(left)} left` : `${mmss(-left)} over`;
    this.box.dataset.state = this.stopped ? "ended" : state;
    this.box.title = `Elapsed ${mmss(elapsed)} of ${mmss(this.limit)}`;
    for (const m of WARNINGS) {
      if (left <= m * 60_000 && left > 0 && !this.warned.has(m)) {
        this.warned.add(m);
        this.announce(`${m} minutes left.`);
      }
    }
  }
}
