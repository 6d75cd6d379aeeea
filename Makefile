# Clarify. `make run` sets everything up and runs the server; `make test` sets everything up
# and runs the whole test suite. Every set-up step skips what is already there.
.PHONY: setup setup-system setup-python image frontend run test lint bench lock node-deps screenshots

PY := .venv/bin/python

setup: setup-system setup-python image frontend

setup-system:
	bash scripts/setup-system.sh $(SYSTEM_FLAGS)

setup-python:
	bash scripts/setup-python.sh

image: setup-python
	.venv/bin/clarify sandbox build

# The browser app (frontend/dist, served by the server); rebuilt only when its sources change.
frontend:
	bash scripts/build-frontend.sh

# The Node Yjs client the tests drive (a stock y-websocket WebsocketProvider), and the real
# OpenID provider the sign-in tests start (panva/oidc-provider). node_modules stay out of git.
node-deps:
	@if [ ! -d tests/yclient/node_modules ]; then cd tests/yclient && npm ci --no-audit --no-fund; fi
	@if [ ! -d tests/oidc/node_modules ]; then cd tests/oidc && npm ci --no-audit --no-fund; fi

run: setup
	.venv/bin/clarify serve

lint: setup-python
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

test: SYSTEM_FLAGS = --for-tests
test: setup lint node-deps
	$(PY) -m pytest

# Regenerates docs/screenshots/ from the browser tests.
screenshots: setup node-deps
	CLARIFY_SCREENSHOTS=1 $(PY) -m pytest tests/browser tests/signin/test_browser.py -q

bench: setup
	$(PY) -m bench.sandbox_bench

lock:
	.venv/bin/pip freeze --exclude-editable | grep -v '^clarify' | sed '1i # Exact versions of every Python dependency (pip freeze). Regenerate: make lock' > requirements.lock
