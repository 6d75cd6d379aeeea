"""Example: turn Clarify's ``scorecard.ready`` webhook into a Greenhouse scorecard.

A small receiver (standard library + ``standardwebhooks`` + ``httpx``) to adapt, not a product:

1. verifies every request with the endpoint's secret (signature and timestamp, per Standard
   Webhooks) and answers 401 otherwise;
2. ignores a ``webhook-id`` it has already handled (Clarify retries until it gets a 2xx, so the
   same event can arrive more than once);
3. maps ``scorecard.ready`` to Greenhouse's scorecard vocabulary (:func:`to_greenhouse`):
   the overall recommendation, a rating per attribute (each rubric dimension, plus clarifying
   questions and hidden checks), and notes (the questions asked, the interviewer's notes, links);
4. files it against the application id given at session creation
   (``POST /api/sessions`` with ``"external_ids": {"application_id": "...", "candidate_id": "..."}``).

Greenhouse's Harvest API v1 reads scorecards but does not create them, so filing here posts the
mapped scorecard as a note on the candidate's activity feed
(``POST /v1/candidates/{id}/activity_feed/notes``, with an ``On-Behalf-Of`` user). With an
Assessment Partner integration, answer Greenhouse's status request with the same mapped fields
instead. Check both against the API version your account uses.

Run::

    CLARIFY_WEBHOOK_SECRET=whsec_... python deploy/greenhouse_example.py --port 8787
    # add GREENHOUSE_API_KEY=... GREENHOUSE_ON_BEHALF_OF=<user id> to file it; without them it prints
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# Clarify's bands -> Greenhouse's overall recommendation.
OVERALL = {"strong yes": "strong_yes", "yes": "yes", "lean no": "no", "no": "definitely_not"}
# A rubric score (1-4) -> Greenhouse's attribute rating.
RATING = {1: "definitely_not", 2: "no", 3: "yes", 4: "strong_yes"}
HARVEST = "https://harvest.greenhouse.io/v1"


def percent_rating(value: float | None) -> str:
    """A 0-100 part of the scorecard on Greenhouse's five-step scale."""
    if value is None:
        return "no_decision"
    for floor, rating in ((80, "strong_yes"), (65, "yes"), (45, "mixed"), (25, "no")):
        if value >= floor:
            return rating
    return "definitely_not"


def to_greenhouse(event: dict[str, Any]) -> dict[str, Any]:
    """A ``scorecard.ready`` event as a Greenhouse-shaped scorecard (a pure function)."""
    data = event["data"]
    card = data.get("scorecard") or {}
    ids = data.get("external_ids") or {}
    parts = card.get("parts", {})
    attributes = [
        {"name": "Clarifying questions", "type": "Skills", "rating": percent_rating(parts.get("discovery"))},
        {"name": "Hidden checks", "type": "Skills", "rating": percent_rating(parts.get("checks"))},
    ]
    for dimension, rating in sorted((card.get("ratings") or {}).items()):
        attributes.append(
            {"name": dimension, "type": "Qualifications", "rating": RATING.get(rating.get("score"), "no_decision")}
        )
    asked = [f"- {q.get('text', '')}" for q in card.get("questions", [])]
    notes = [f"- {n.get('text', '')}" for n in card.get("notes", [])]
    summary = [
        f"Clarify: {card.get('problem_title') or card.get('problem', '')}: "
        f"overall {card.get('overall')} ({card.get('band')})",
        f"Scorecard: {data['links']['scorecard']}",
        f"Replay: {data['links']['replay']}",
        *(["Questions the candidate asked:", *asked] if asked else []),
        *(["Interviewer notes:", *notes] if notes else []),
    ]
    return {
        "application_id": ids.get("application_id"),
        "candidate_id": ids.get("candidate_id"),
        "overall_recommendation": OVERALL.get(str(card.get("band")), "no_decision"),
        "attributes": attributes,
        "notes": "\n".join(summary),
    }


def file_in_greenhouse(scorecard: dict[str, Any]) -> None:
    """Post the mapped scorecard as an activity-feed note (or print it without an API key)."""
    key = os.environ.get("GREENHOUSE_API_KEY")
    if not key or not scorecard["candidate_id"]:
        print(json.dumps(scorecard, indent=2))
        return
    import httpx

    ratings = "\n".join(f"{a['name']}: {a['rating']}" for a in scorecard["attributes"])
    body = f"Overall: {scorecard['overall_recommendation']}\n{ratings}\n\n{scorecard['notes']}"
    r = httpx.post(
        f"{HARVEST}/candidates/{scorecard['candidate_id']}/activity_feed/notes",
        auth=(key, ""),
        headers={"On-Behalf-Of": os.environ.get("GREENHOUSE_ON_BEHALF_OF", "")},
        json={"user_id": int(os.environ.get("GREENHOUSE_ON_BEHALF_OF", "0")), "body": body, "visibility": "private"},
        timeout=10,
    )
    r.raise_for_status()


def serve(port: int, secret: str, seen_file: Path) -> None:
    from standardwebhooks import Webhook, WebhookVerificationError

    verifier = Webhook(secret)
    seen = set(seen_file.read_text().split()) if seen_file.exists() else set()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            try:
                event = verifier.verify(body, dict(self.headers.items()))
            except WebhookVerificationError:
                self.send_response(401)
                self.end_headers()
                return
            webhook_id = self.headers["webhook-id"]
            if webhook_id not in seen:
                if event["type"] == "scorecard.ready":
                    file_in_greenhouse(to_greenhouse(event))  # raises: no 2xx, so Clarify retries
                seen.add(webhook_id)
                with seen_file.open("a") as f:
                    f.write(webhook_id + "\n")
            self.send_response(204)
            self.end_headers()

    ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--seen", type=Path, default=Path("greenhouse-seen-webhook-ids.txt"))
    args = parser.parse_args()
    secret = os.environ.get("CLARIFY_WEBHOOK_SECRET")
    if not secret:
        print("set CLARIFY_WEBHOOK_SECRET to the secret shown when the webhook was created", file=sys.stderr)
        return 2
    serve(args.port, secret, args.seen)
    return 0


if __name__ == "__main__":
    sys.exit(main())
