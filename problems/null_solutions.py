"""Degenerate solutions every pack's hidden checks must reject.

A null solution is the pack's starter with one more cell that fills the function the candidate
is meant to write with something that does not solve the problem: a constant, all ``None``,
"I don't know", or an answer that never calls the simulated model or the tools. None of them
may pass a check whose constraint it does not handle; a check of a path the solution never
took (no call to the model, no tool call) says "not exercised" rather than "passed".

Pure data: the test suite (``tests/problems/test_null_solutions.py``) and the table command
(``python -m bench.null_table``) run these in the real grading kernel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from problems.model import Problem


@dataclass(frozen=True)
class NullSolution:
    """One degenerate solution: its name, the cell appended to the starter, and the checks it
    may pass because its answer happens to handle their constraint (rarely any)."""

    name: str
    cell: str
    may_pass: frozenset[str] = field(default_factory=frozenset)

    def code(self, problem: Problem) -> str:
        """The candidate code graded: the untouched starter, then this cell."""
        if not self.cell:
            return problem.starter
        return f"{problem.starter.rstrip()}\n\n# %%\n{self.cell.strip()}\n"


STARTER = NullSolution("untouched starter", "")


def _fn(signature: str, body: str) -> str:
    return f"def {signature}:\n    {body}\n"


# The function each pack asks for, and the degenerate bodies worth trying for it.
_NULLS: dict[str, list[NullSolution]] = {
    "batch-to-realtime": [
        NullSolution("constant 0.5", _fn("score_request(request)", "return 0.5")),
        NullSolution("base rate", _fn("score_request(request)", "return float(train['churned_30d'].mean())")),
        NullSolution("None", _fn("score_request(request)", "return None")),
    ],
    "contract-extraction": [
        NullSolution("all None", _fn("extract(contract_text)", "return dict.fromkeys(FIELDS)")),
        NullSolution(
            "constant values",
            _fn(
                "extract(contract_text)",
                "return {'supplier_name': 'Acme Ltd', 'start_date': '2024-01-01', 'end_date': '2025-01-01',"
                " 'renewal_terms': 'automatic', 'liability_cap': 100000.0, 'governing_law': 'GB',"
                " 'payment_days': 30}",
            ),
        ),
        NullSolution(
            "regex, never calls the model",
            "import re\n"
            "def extract(contract_text):\n"
            "    out = dict.fromkeys(FIELDS)\n"
            "    for key in FIELDS:\n"
            "        m = re.search(key.replace('_', '[ _]') + r'\\s*[:=]\\s*(.+)', contract_text, re.I)\n"
            "        out[key] = m.group(1).strip() if m else None\n"
            "    return out\n",
        ),
    ],
    "drift-monitor": [
        NullSolution("no alerts", _fn("detect_drift(daily, reference)", "return []")),
        NullSolution(
            "model-output alert on every category every day",
            _fn(
                "detect_drift(daily, reference)",
                "return [{'date': d, 'feature': 'score_mean', 'segment': c, 'reason': 'score moved'}"
                " for d, c in zip(daily['date'], daily['merchant_category'])]",
            ),
        ),
        NullSolution(
            "alert every day",
            _fn(
                "detect_drift(daily, reference)",
                "return [{'date': d, 'merchant_category': c, 'feature': 'amount', 'reason': 'drift'}"
                " for d, c in zip(daily['date'], daily['merchant_category'])]",
            ),
        ),
    ],
    "product-categorisation": [
        NullSolution(
            "most common category",
            _fn("predict_category(df)", "return [listings['category'].mode()[0]] * len(df)"),
        ),
        NullSolution("all None", _fn("predict_category(df)", "return [None] * len(df)")),
    ],
    "rag-support-assistant": [
        NullSolution("I don't know", _fn("answer(question)", 'return "I don\'t know"')),
        NullSolution("echo the question", _fn("answer(question)", "return question")),
        NullSolution("empty string", _fn("answer(question)", "return ''")),
    ],
    "refund-agent": [
        NullSolution("empty dict, no tools", _fn("handle_request(request, env)", "return {}")),
        NullSolution(
            "always escalate, no tools",
            _fn(
                "handle_request(request, env)",
                "return {'action': 'escalate', 'amount': 0.0, 'reason': 'needs a human'}",
            ),
        ),
        NullSolution(
            "refund in full, no tools",
            _fn(
                "handle_request(request, env)",
                "return {'action': 'refund', 'amount': float(request.get('amount') or 0), 'reason': 'ok'}",
            ),
        ),
    ],
    "research-agent": [
        NullSolution("I don't know", _fn("research(question)", "return {'answer': \"I don't know\", 'sources': []}")),
        NullSolution("empty dict", _fn("research(question)", "return {}")),
    ],
    "ticket-escalation": [
        NullSolution("all zeros", _fn("predict_escalation(df)", "return np.zeros(len(df))")),
        NullSolution("all ones", _fn("predict_escalation(df)", "return np.ones(len(df))")),
        NullSolution("random scores", _fn("predict_escalation(df)", "return np.random.default_rng(0).random(len(df))")),
    ],
}


def null_solutions(problem: Problem) -> list[NullSolution]:
    """The degenerate solutions for ``problem``: the untouched starter, then its pack's own."""
    return [STARTER, *_NULLS.get(problem.id, [])]
