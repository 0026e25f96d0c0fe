# Developer entry points. Every tool (moto, cargo-lambda, cfn-lint, sam) is pinned in
# infra/requirements.txt and installed into ./.venv (git-ignored) by `make venv`.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
REQUIREMENTS := infra/requirements.txt
VENV_STAMP := $(VENV)/.requirements.stamp

.PHONY: help venv dev test bench lint fmt clean

help: ## List the targets
	@echo "Usage: make <target>"
	@echo
	@grep -E '^[a-z][a-zA-Z_-]*:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  %-8s %s\n", $$1, $$2}'

venv: $(VENV_STAMP) ## Create/refresh .venv from infra/requirements.txt (reruns only when it changes)

$(VENV_STAMP): $(REQUIREMENTS)
	@echo "==> installing $(REQUIREMENTS) into $(VENV)"
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -r $(REQUIREMENTS)
	@touch $@

dev: ## Local stack: moto + table/keys/demo data + cargo lambda watch on :9000 (Ctrl-C stops all)
	@infra/scripts/dev.sh

test: ## Everything CI runs: fmt check, clippy, tests against moto, cfn-lint, sam validate
	@infra/scripts/test.sh

bench: ## DynamoDB round trips and latency per route against moto (figures for README)
	@infra/scripts/bench.sh

lint: venv ## fmt check + clippy + cfn-lint
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(VENV)/bin/cfn-lint template.yaml

fmt: ## Format all Rust code
	cargo fmt --all

clean: ## Remove .local (local stack state); stops nothing
	rm -rf .local
