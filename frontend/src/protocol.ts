// Shapes of events-socket messages the room reads, mirroring the server's (server/runtime.py
// hello, server/clarify/session.py Question.public and clock). Only what the pages use.

/** Times in ms since the session started, on the server's clock. */
export interface ClockInfo {
  now: number;
  limit: number | null; // the problem's minutes plus extensions; null: no time limit
  minutes?: number;
  extended?: number;
}

/** aloud: the interviewer answers it out loud; unanswered: they chose not to answer. */
export type DismissedHow = "aloud" | "unanswered";

export interface PublicQuestion {
  id: number;
  text: string;
  t?: number;
  by?: string;
  answer?: string | null;
  status?: string; // open | answered | dismissed
  dismissed?: DismissedHow | null;
}

/** Client → server: the interviewer adds time to the session. */
export interface ExtendMessage {
  type: "extend";
  minutes: number;
}
