#!/usr/bin/env bash
# `make soak`: the whole suite (`make test`) SOAK_RUNS times in a row (default 5) while a
# parallel CPU load runs (SOAK_LOAD=1, the default): a release build of the workspace into
# a target directory of its own, started again from nothing each time it ends. It finds
# tests that depend on timing or scheduling: on 2 cores, the load takes about one of them.
#
# Invariants: every run is a full `make test`, never a subset; a failed run does not stop
# the soak (each run's log is kept as .local/soak/run-N.log, and a failed fuzz step's stack
# logs in .local/soak/run-N-fuzz/); the load is stopped on every exit; the last line says
# how many runs passed, and the exit status is 0 only when all did.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

RUNS="${SOAK_RUNS:-5}"
LOAD="${SOAK_LOAD:-1}"
OUT="$ROOT/.local/soak"
mkdir -p "$OUT"
LOAD_PID=""

stop_load() {
  if [[ -n "$LOAD_PID" ]]; then
    # The loop runs in its own process group: end it and the build it started.
    kill -- "-$LOAD_PID" 2>/dev/null || true
    wait "$LOAD_PID" 2>/dev/null || true
    LOAD_PID=""
  fi
}
trap stop_load EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ "$LOAD" == "1" ]]; then
  LOAD_TARGET="$OUT/load-target"
  # The console is left out: its build runs npm, which adds nothing to the load.
  setsid bash -c '
    while true; do
      rm -rf "$1"
      cargo build --release --workspace --exclude console --target-dir "$1" --quiet || true
    done' soak-load "$LOAD_TARGET" >"$OUT/load.log" 2>&1 &
  LOAD_PID=$!
  echo "==> soak: parallel load started (release build loop, pid $LOAD_PID, log $OUT/load.log)"
fi

passed=0
for n in $(seq 1 "$RUNS"); do
  started=$SECONDS
  echo "==> soak: run $n of $RUNS ($(date -u +%H:%M:%S) UTC, load average $(cut -d' ' -f1-3 /proc/loadavg))"
  if make --no-print-directory test >"$OUT/run-$n.log" 2>&1; then
    passed=$((passed + 1))
    verdict="passed"
  else
    verdict="FAILED ($(grep -m1 'FAILED at step' "$OUT/run-$n.log" || echo 'see the log'))"
    # The fuzz step's stack (functions, emulators, gateway) logs to .local/fuzz, which the
    # next run overwrites: keep them beside the run's log.
    if grep -q "FAILED at step 'fuzz" "$OUT/run-$n.log"; then
      rm -rf "$OUT/run-$n-fuzz" && mkdir -p "$OUT/run-$n-fuzz"
      cp "$ROOT"/.local/fuzz/*.log "$OUT/run-$n-fuzz/" 2>/dev/null || true
      verdict="$verdict, the stack's logs in $OUT/run-$n-fuzz"
    fi
  fi
  summary="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$OUT/run-$n.log" | tail -n1 || true)"
  echo "==> soak: run $n $verdict in $((SECONDS - started)) s: ${summary:-no test summary} (log $OUT/run-$n.log)"
done

echo "==> soak: $passed of $RUNS runs passed$([[ "$LOAD" == "1" ]] && echo ' under a parallel release build')"
[[ "$passed" -eq "$RUNS" ]]
