#!/usr/bin/env bash
# `make load`: the load simulation (infra/bench/src/bin/load.rs), release-optimised, in
# process against DynamoDB Local (the table) and moto (SQS) on free loopback ports: a shop
# mode (LOAD_CUSTOMERS customers over LOAD_PRODUCTS products for LOAD_SECONDS) and a
# flash-sale mode (FLASH_BUYERS buyers for the FLASH_STOCK units of one product); LOAD_MODE
# picks one (shop|flash; both by default). Prints the writes per partition key and checks
# the invariants; the report is kept in .local/load.md.
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
PID_FILE="$ROOT/.local/moto-load-$PORT.pid"
DDB_PORT="$(ddb_free_port)"
DDB_PID_FILE="$ROOT/.local/dynamodb-local-load-$DDB_PORT.pid"
trap 'moto_stop "$PID_FILE"; ddb_stop "$DDB_PID_FILE"' EXIT
moto_start "$PORT" "$ROOT/.local/moto-load.log" "$PID_FILE"
ddb_start "$DDB_PORT" "$ROOT/.local/dynamodb-local-load.log" "$DDB_PID_FILE"
MOTO_ENDPOINT="http://127.0.0.1:$PORT" AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DDB_PORT" \
  cargo run --quiet --profile perf -p bench --bin load | tee .local/load.md
