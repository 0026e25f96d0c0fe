#!/usr/bin/env bash
# `make bench`: starts DynamoDB Local (the table) and moto (SQS, SES) on free ports, runs the
# bench (release-optimised) against them, prints a Markdown table and keeps it in
# .local/bench.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
make --no-print-directory venv dynamodb-local </dev/null
# shellcheck source=infra/scripts/moto.sh
source "$ROOT/infra/scripts/moto.sh"
# shellcheck source=infra/scripts/dynamodb_local.sh
source "$ROOT/infra/scripts/dynamodb_local.sh"
mkdir -p .local
PORT="$(moto_free_port)"
PID_FILE="$ROOT/.local/moto-bench-$PORT.pid"
DDB_PORT="$(ddb_free_port)"
DDB_PID_FILE="$ROOT/.local/dynamodb-local-bench-$DDB_PORT.pid"
trap 'moto_stop "$PID_FILE"; ddb_stop "$DDB_PID_FILE"' EXIT
moto_start "$PORT" "$ROOT/.local/moto-bench.log" "$PID_FILE"
ddb_start "$DDB_PORT" "$ROOT/.local/dynamodb-local-bench.log" "$DDB_PID_FILE"
MOTO_ENDPOINT="http://127.0.0.1:$PORT" AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DDB_PORT" \
  cargo run --quiet --profile perf -p bench | tee .local/bench.md
