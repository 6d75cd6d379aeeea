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
    "agent-memory": [
        NullSolution(
            "constant reply",
            _fn("handle(customer_id, message, conversation_id)", "return 'Thanks for getting in touch!'"),
        ),
        NullSolution("I don't know", _fn("handle(customer_id, message, conversation_id)", 'return "I don\'t know"')),
        NullSolution("None", _fn("handle(customer_id, message, conversation_id)", "return None")),
        NullSolution(
            "model only, no memory or tools",
            _fn(
                "handle(customer_id, message, conversation_id)",
                "return client.chat([{'role': 'user', 'content': message}]).text",
            ),
        ),
        NullSolution(
            "the pilot: unscoped recall, whole history, acts at once",
            "import re\n"
            "_history = {}\n"
            "def handle(customer_id, message, conversation_id):\n"
            "    memory.write(customer_id, message, conversation_id, kind='message')\n"
            "    notes = [m['text'] for m in memory.search(message, k=5)]\n"
            "    h = _history.setdefault(customer_id, [])\n"
            "    h.append('Customer: ' + message)\n"
            "    order = re.search(r'O-\\d+', message)\n"
            "    if order and 'refund' in message.lower():\n"
            "        try:\n"
            "            tools.refund(customer_id, order.group(0))\n"
            "        except Exception:\n"
            "            pass\n"
            "    context = '\\n'.join(notes + h)\n"
            "    prompt = f'Context:\\n{context}\\nQuestion: {message}'\n"
            "    reply = client.chat([{'role': 'user', 'content': prompt}]).text\n"
            "    h.append('Agent: ' + reply)\n"
            "    return reply\n",
        ),
    ],
    "batch-to-realtime": [
        NullSolution("constant 0.5", _fn("score_request(request)", "return 0.5")),
        NullSolution("base rate", _fn("score_request(request)", "return float(train['churned_30d'].mean())")),
        NullSolution("None", _fn("score_request(request)", "return None")),
        NullSolution(
            "last night's snapshot only",
            "from sklearn.linear_model import LogisticRegression\n"
            "cols = ['sessions_30d', 'minutes_30d', 'tickets_30d', 'days_since_last_session']\n"
            "model = LogisticRegression(max_iter=1000).fit(train[cols].to_numpy(), train['churned_30d'])\n"
            "def score_request(request):\n"
            "    n = request.get('nightly') or {}\n"
            "    return float(model.predict_proba([[float(n.get(c) or 0) for c in cols]])[0, 1])\n",
            # A real model on stale features: it scores, and it cannot see the future either.
            may_pass=frozenset(
                {
                    "scores-without-future-fields",
                    "cold-start-default",
                    "latency-p99",
                    "online-batch-parity",
                    "point-in-time-features",
                }
            ),
        ),
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
        # The KEY TERMS summary read with a regex and normalised, never calling the model: it
        # solved most of the pack before amendments and varied templates made the table unreliable.
        NullSolution(
            "regex over KEY TERMS, no model",
            r"""
import re
_MONTHS = {}
for _names in ('january february march april may june july august september october november december',
               'januar februar märz april mai juni juli august september oktober november dezember',
               'janvier février mars avril mai juin juillet août septembre octobre novembre décembre'):
    _MONTHS.update({m: i for i, m in enumerate(_names.split(), 1)})
_LAWS = [('england|english|scotland|wales', 'GB'), ('new york|delaware|california', 'US'), ('german', 'DE'),
         ('france|french', 'FR'), ('netherlands|dutch', 'NL'), ('ireland|irish', 'IE')]
def _date(v, us):
    if m := re.search(r'(\d{4})-(\d\d)-(\d\d)', v):
        y, mo, d = m.groups()
    elif m := re.search(r'(\d{1,2})[./-](\d{1,2})[./-](\d{4})', v):
        a, b, y = m.groups()
        mo, d = (a, b) if us and '/' in v else (b, a)
    elif m := re.search(r'(\d{1,2})\w*\.?\s+(\w+)\s+(\d{4})', v):
        d, mo, y = m[1], _MONTHS.get(m[2].lower()), m[3]
    elif m := re.search(r'(\w+)\s+(\d{1,2}),\s*(\d{4})', v):
        mo, d, y = _MONTHS.get(m[1].lower()), m[2], m[3]
    else:
        return None
    return f'{int(y):04d}-{int(mo):02d}-{int(d):02d}' if mo else None
def _amount(v):
    m = re.search(r'\d[\d.,  ]*\d', v)
    if not m:
        return None
    s = re.sub(r'[.,](00|-)$', '', m.group())
    return float(re.sub(r'\D', '', s)) * (1000 if re.search(r'\dk\b', v) else 1)
def extract(contract_text):
    # a regex over the KEY TERMS block only; never calls the model
    out = dict.fromkeys(FIELDS)
    us = bool(re.search(r'Inc\.|LLC|Corp\.', contract_text.split('(2)')[0]))
    keys = 'Supplier name|Start date|End date|Renewal terms|Liability cap|Governing law|Payment terms'
    block = contract_text.split('KEY TERMS', 1)[-1] if 'KEY TERMS' in contract_text else ''
    terms = dict(re.findall(rf'(?m)^({keys}): (.+)$', block.split('\n\n', 1)[0]))
    if 'Supplier name' in terms:
        out['supplier_name'] = terms['Supplier name'].strip()
    out['start_date'] = _date(terms.get('Start date', ''), us)
    out['end_date'] = _date(terms.get('End date', ''), us)
    if 'Renewal terms' in terms:
        out['renewal_terms'] = 'automatic' if 'automatic' in terms['Renewal terms'] else 'manual'
    out['liability_cap'] = _amount(terms.get('Liability cap', ''))
    law = terms.get('Governing law', '').lower()
    out['governing_law'] = next((code for pattern, code in _LAWS if law and re.search(pattern, law)), None)
    if m := re.search(r'(\d+) days', terms.get('Payment terms', '')):
        out['payment_days'] = int(m[1])
    return out
""",
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
    "finetune-or-prompt": [
        NullSolution("constant intent", _fn("classify(message)", "return 'billing'")),
        NullSolution("None", _fn("classify(message)", "return None")),
        NullSolution("I don't know", _fn("classify(message)", 'return "I don\'t know"')),
        NullSolution(
            "keyword rule, never calls a model",
            _fn("classify(message)", "return 'refund' if 'money back' in message['text'].lower() else 'billing'")
            + _fn(
                "recommend()",
                "return {'choice': 'finetune', 'cost_per_1k_usd': {'prompt': 1.0, 'finetune': 0.05},"
                " 'expected_accuracy': 0.95}",
            ),
        ),
        NullSolution(
            "today's production path for every message",
            _fn(
                "classify(message)",
                "return large_us.complete(PROMPT.replace('{message}', message['text']), max_tokens=5).text.strip()",
            ),
            # The few-shot prompt names the new intent and states the refund guideline.
            may_pass=frozenset({"new-intent", "refund-guideline"}),
        ),
        NullSolution(
            "small model on the raw labels, training accuracy reported",
            "small = finetune(labelled)\n"
            + _fn("classify(message)", "return small.predict(message['text']).intent")
            + _fn(
                "recommend()",
                "return {'choice': 'finetune', 'cost_per_1k_usd': {'prompt': 22.6, 'finetune': 0.05},"
                " 'expected_accuracy': sum(small.predict(r['text']).intent == r['label'] for r in labelled)"
                " / len(labelled)}",
            ),
            # Cheap, fast and in Frankfurt, but right on only ~70%: no path to recommend, so it
            # passes nothing (the cost, residency and latency checks need 75% right).
        ),
    ],
    "llm-bill-blowup": [
        NullSolution(
            "constant reply, never calls the model",
            "class _Const:\n    def chat(self, team, agent, task_id, messages, max_tokens=256):\n        return 'OK'\n"
            "def make_gateway(budgets_usd):\n    return _Const()\n",
        ),
        NullSolution(
            "I don't know",
            "class _Idk:\n    def chat(self, team, agent, task_id, messages, max_tokens=256):\n"
            '        return "I don\'t know"\n'
            "def make_gateway(budgets_usd):\n    return _Idk()\n",
        ),
        NullSolution(
            "refuse every call",
            "class _No:\n    def chat(self, team, agent, task_id, messages, max_tokens=256):\n"
            "        raise BudgetExceeded('no')\n"
            "def make_gateway(budgets_usd):\n    return _No()\n",
        ),
        NullSolution(
            "the old shared code, no guard",
            "class _Old:\n    def chat(self, team, agent, task_id, messages, max_tokens=256):\n"
            "        return agent_call(messages, max_tokens)\n"
            "def make_gateway(budgets_usd):\n    return _Old()\n",
        ),
    ],
    "model-upgrade": [
        NullSolution(
            "constant category, confident report",
            _fn("classify(ticket_text)", "return 'delivery'")
            + "report = dict.fromkeys(['overall', 'en', 'de', 'short', 'long'], 0.9)\n",
        ),
        NullSolution("None", _fn("classify(ticket_text)", "return None")),
        NullSolution("I don't know", _fn("classify(ticket_text)", 'return "I don\'t know"')),
        NullSolution(
            "keyword rule, never calls the model",
            _fn("classify(ticket_text)", "return 'refund' if 'refund' in ticket_text.lower() else 'delivery'")
            + "report = dict.fromkeys(['overall', 'en', 'de', 'short', 'long'], 0.5)\n",
        ),
    ],
    "moderation-labels": [
        NullSolution(
            "constant 'ok', first posts re-labelled",
            _fn("clean(labels_df)", "return pd.DataFrame({'item_id': items['item_id'], 'label': 'ok'})")
            + _fn("pick_relabel(labels_df, relabel_budget)", "return list(items['item_id'][:relabel_budget])"),
        ),
        NullSolution(
            "all None, nothing re-labelled",
            _fn("clean(labels_df)", "return pd.DataFrame({'item_id': items['item_id'], 'label': None})")
            + _fn("pick_relabel(labels_df, relabel_budget)", "return []"),
        ),
        NullSolution(
            "I don't know",
            _fn("clean(labels_df)", "return pd.DataFrame({'item_id': items['item_id'], 'label': \"I don't know\"})")
            + _fn("pick_relabel(labels_df, relabel_budget)", "return list(items['item_id'].sample(relabel_budget))"),
        ),
        NullSolution(
            "majority vote as it comes, random picks",
            _fn(
                "clean(labels_df)",
                "return labels_df.groupby('item_id')['label'].agg(lambda s: s.mode()[0]).reset_index()",
            )
            + _fn(
                "pick_relabel(labels_df, relabel_budget)",
                "return list(items['item_id'].sample(relabel_budget, random_state=0))",
            ),
        ),
        NullSolution(
            "majority vote, every disagreement re-labelled",
            _fn(
                "clean(labels_df)",
                "return labels_df.groupby('item_id')['label'].agg(lambda s: s.mode()[0]).reset_index()",
            )
            + _fn(
                "pick_relabel(labels_df, relabel_budget)",
                "return [i for i, s in labels_df.groupby('item_id')['label'] if s.nunique() > 1]",
            ),
        ),
    ],
    "product-categorisation": [
        NullSolution(
            "most common category",
            _fn("predict_category(df)", "return [listings['category'].mode()[0]] * len(df)"),
        ),
        NullSolution("all None", _fn("predict_category(df)", "return [None] * len(df)")),
        NullSolution(
            "seller labels taken as they are",
            "from sklearn.feature_extraction.text import TfidfVectorizer\n"
            "from sklearn.linear_model import LogisticRegression\n"
            "from sklearn.pipeline import make_pipeline\n"
            "model = make_pipeline(TfidfVectorizer(analyzer='char_wb', ngram_range=(2, 4)),"
            " LogisticRegression(C=10.0, class_weight='balanced', max_iter=2000))\n"
            "model.fit(listings['title'].str[:80], listings['category'])\n"
            "def predict_category(df):\n"
            "    return list(model.predict(df['title'].str[:80]))\n",
            # A real model that never looks at label quality: it may classify well elsewhere.
            may_pass=frozenset({"title-only", "macro-f1", "small-category-recall", "multilingual-accuracy", "latency"}),
        ),
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
    "serve-7b": [
        NullSolution("the staging config", _fn("plan(stats)", "return dict(EXAMPLE_CONFIG)")),
        NullSolution("empty config", _fn("plan(stats)", "return {}")),
        NullSolution("None", _fn("plan(stats)", "return None")),
        NullSolution(
            "every GPU all day, never calls the simulator",
            _fn("plan(stats)", "return {'quantization': 'fp16', 'nodes_by_hour': [30] * 24}"),
            # Brute force holds the target at the peak and across the ramp; it is 6x over budget.
            may_pass=frozenset({"ttft-at-peak", "ramp-ahead"}),
        ),
    ],
    "ticket-escalation": [
        NullSolution("all zeros", _fn("predict_escalation(df)", "return np.zeros(len(df))")),
        NullSolution("all ones", _fn("predict_escalation(df)", "return np.ones(len(df))")),
        NullSolution("random scores", _fn("predict_escalation(df)", "return np.random.default_rng(0).random(len(df))")),
        NullSolution(
            "raw-text TF-IDF fitted before the launch",
            "from sklearn.feature_extraction.text import TfidfVectorizer\n"
            "from sklearn.linear_model import LogisticRegression\n"
            "from sklearn.pipeline import make_pipeline\n"
            "old = tickets[tickets['created_at'] < '2025-10-01']\n"
            "model = make_pipeline(TfidfVectorizer(), LogisticRegression(class_weight='balanced', max_iter=1000))\n"
            "model.fit(old['text'], old['escalated'])\n"
            "def predict_escalation(df):\n"
            "    return model.predict_proba(df['text'])[:, 1]\n",
            # A real model that ignores drift and PII: it may rank, time and avoid leaky columns.
            may_pass=frozenset({"no-leakage", "beats-base-rate", "scoring-latency", "recall-at-budget"}),
        ),
        NullSolution(
            "random split estimate, duplicates leak",
            "from sklearn.feature_extraction.text import TfidfVectorizer\n"
            "from sklearn.linear_model import LogisticRegression\n"
            "from sklearn.model_selection import train_test_split\n"
            "from sklearn.pipeline import make_pipeline\n"
            "def make_model():\n"
            "    return make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),\n"
            "                         LogisticRegression(class_weight='balanced', max_iter=2000))\n"
            "train, test = train_test_split(tickets, test_size=0.25, random_state=0)\n"
            "scores = make_model().fit(train['text'], train['escalated']).predict_proba(test['text'])[:, 1]\n"
            "top = test['escalated'].to_numpy()[np.argsort(-scores)[: round(0.1 * len(test))]]\n"
            "EXPECTED_RECALL = top.sum() / test['escalated'].sum()\n"
            "model = make_model().fit(tickets['text'], tickets['escalated'])\n"
            "def predict_escalation(df):\n"
            "    return model.predict_proba(df['text'])[:, 1]\n",
            # A real model refitted on every month, so it ranks new tickets and the payouts area
            # well; its estimate comes from a split with re-sent copies on both sides, and it
            # learns contact details.
            may_pass=frozenset(
                {"no-leakage", "beats-base-rate", "scoring-latency", "recall-at-budget", "post-launch-area"}
            ),
        ),
    ],
}


def null_solutions(problem: Problem) -> list[NullSolution]:
    """The degenerate solutions for ``problem``: the untouched starter, then its pack's own."""
    return [STARTER, *_NULLS.get(problem.id, [])]
