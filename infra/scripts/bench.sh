#!/usr/bin/env bash
# `make bench`: starts moto on a free port, runs the bench (release-optimised) against it,
# prints a Markdown table and keeps it in .local/bench.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
make --no-print-directory venv </dev/null
# shellcheck source=infra/scripts/moto.sh
source "$ROOT/infra/scripts/moto.sh"
mkdir -p .local
PORT="$(moto_free_port)"
PID_FILE="$ROOT/.local/moto-bench-$PORT.pid"
trap 'moto_stop "$PID_FILE"' EXIT
moto_start "$PORT" "$ROOT/.local/moto-bench.log" "$PID_FILE"
MOTO_ENDPOINT="http://127.0.0.1:$PORT" cargo run --quiet --profile perf -p bench | tee .local/bench.md
