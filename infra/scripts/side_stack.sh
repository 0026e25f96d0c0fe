#!/usr/bin/env bash
# A second local stack (make dev's, on free ports, state in .local/<name>, functions not
# reloaded while it runs) for `make fuzz`, next to a developer's make dev.
#
#   source infra/scripts/side_stack.sh
#   side_stack_start NAME        # sets API_PORT, OIDC_PORT, MOTO_PORT, DDB_PORT, SMS_PORT,
#                                # MPESA_PORT, TABLE_NAME, LOCAL_DIR, B (the API base URL)
#   side_stack_wait URL          # until URL answers 2xx/4xx (compiles the function)
#   side_stack_stop              # in the EXIT trap

SIDE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=infra/scripts/background.sh
source "$SIDE_ROOT/infra/scripts/background.sh"
SIDE_STACK_PID=""

side_stack_start() {
  local name="$1"
  LOCAL_DIR="$SIDE_ROOT/.local/$name"
  mkdir -p "$LOCAL_DIR"
  local ports
  mapfile -t ports < <(bg_free_ports 6)
  API_PORT="${ports[0]}" OIDC_PORT="${ports[1]}" MOTO_PORT="${ports[2]}"
  DDB_PORT="${ports[3]}" SMS_PORT="${ports[4]}" MPESA_PORT="${ports[5]}"
  TABLE_NAME="$name-$(date +%s)"
  export API_PORT OIDC_PORT MOTO_PORT DDB_PORT SMS_PORT MPESA_PORT TABLE_NAME
  # shellcheck disable=SC2034  # read by the sourcing script
  B="http://127.0.0.1:$API_PORT/api/v1"
  echo "==> $name: starting the local stack (log: $LOCAL_DIR/stack.log)"
  DEV_LOCAL_DIR="$LOCAL_DIR" WATCH_FLAGS=--ignore-changes setsid "$SIDE_ROOT/infra/scripts/dev.sh" \
    </dev/null >"$LOCAL_DIR/stack.log" 2>&1 &
  SIDE_STACK_PID=$!
}

# Every function compiles on its first request under cargo lambda watch.
side_stack_wait() {
  local url="$1" deadline=$((SECONDS + 900))
  until curl -s -o /dev/null -w '%{http_code}' "$url" 2>/dev/null | grep -qE '^[24]'; do
    if ! kill -0 "$SIDE_STACK_PID" 2>/dev/null; then
      echo "the local stack stopped; see $LOCAL_DIR/stack.log" >&2
      tail -n 30 "$LOCAL_DIR/stack.log" >&2
      exit 1
    fi
    if ((SECONDS > deadline)); then
      echo "$url did not answer in 15 minutes" >&2
      exit 1
    fi
    sleep 2
  done
}

side_stack_stop() {
  if [[ -n "$SIDE_STACK_PID" ]] && kill -0 "$SIDE_STACK_PID" 2>/dev/null; then
    kill -TERM "$SIDE_STACK_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$SIDE_STACK_PID" 2>/dev/null || break
      sleep 0.2
    done
  fi
}
