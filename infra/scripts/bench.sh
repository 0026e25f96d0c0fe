#!/usr/bin/env bash
# `make bench`: starts DynamoDB Local (the table) and moto (SQS, SES) on free ports, runs the
# bench (release-optimised) against them, prints a Markdown table and keeps it in
# .local/bench.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=infra/scripts/emulators.sh
source "$ROOT/infra/scripts/emulators.sh"
emulators_start bench
cargo run --quiet --profile perf -p bench --bin bench | tee .local/bench.md

# Cold starts: the functions' release binaries (this machine's architecture; Lambda runs
# the arm64 build of the same code), each started 20 times against a local Runtime API
# (infra/coldstart), beside a hello-world lambda_runtime binary built the same way.
echo "==> cold start: building the release binaries" >&2
FUNCTIONS=(categories products orders payments customers audit auth console notifier sms-delivery reconciler)
cargo build --quiet --release -p coldstart "${FUNCTIONS[@]/#/-p}"
export AWS_ENDPOINT_URL="$MOTO_ENDPOINT"
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
cargo run --quiet -p devstack -- bootstrap --template template.yaml --table coldstart \
  --out .local/coldstart >/dev/null
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"
# The floor, then two steps above it (floor-http: lambda_http and a router; floor-sdk: the
# AWS set-up and one DynamoDB GetItem in its answer), interleaved with the functions.
ARGS=("floor=$BIN/floor" "floor-http=$BIN/floor-http" "floor-sdk=$BIN/floor-sdk")
for f in "${FUNCTIONS[@]}"; do ARGS+=("$f=$BIN/$f"); done
"$BIN/coldstart" --env-file .local/coldstart/dev.env --starts 20 "${ARGS[@]}" | tee .local/coldstart.md
