#!/usr/bin/env bash
# `make load`: a bounded load run on loopback: LOAD_CONCURRENCY (20) customers place orders
# for LOAD_SECONDS (30) through a local stack of its own (make dev's, on free ports), then
# the stock invariant is checked (infra/bench/src/bin/load.rs). Prints a Markdown table.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=infra/scripts/side_stack.sh
source "$ROOT/infra/scripts/side_stack.sh"
trap side_stack_stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cargo build --quiet --profile perf -p bench --bin load
side_stack_start load
for path in categories products orders; do
  side_stack_wait "$B/$path"
done
"${CARGO_TARGET_DIR:-$ROOT/target}/perf/load" "$B" "$(cat "$LOCAL_DIR/admin.token")" \
  "$(cat "$LOCAL_DIR/customer.token")" "${LOAD_CONCURRENCY:-20}" "${LOAD_SECONDS:-30}" \
  | tee "$ROOT/.local/load.md"
