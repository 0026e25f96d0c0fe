#!/usr/bin/env bash
# Local SQS and SES v2 emulator (moto_server from the repo venv). The table has its own,
# DynamoDB Local (dynamodb_local.sh).
#
# Source it for the functions:
#   source infra/scripts/moto.sh
#   port=$(moto_free_port)
#   moto_start "$port" [log_file] [pid_file]   # background, waits until ready
#   moto_stop [pid_file]
# or run it as a command:
#   infra/scripts/moto.sh free-port
#   infra/scripts/moto.sh start [PORT] [LOG] [PID]   (PORT defaults to $MOTO_PORT or 5050)
#   infra/scripts/moto.sh stop [PID]
#   infra/scripts/moto.sh status [PORT]

MOTO_REPO_ROOT="${MOTO_REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
MOTO_VENV="${MOTO_VENV:-$MOTO_REPO_ROOT/.venv}"
MOTO_LOCAL_DIR="${MOTO_LOCAL_DIR:-$MOTO_REPO_ROOT/.local}"
MOTO_SCRIPTS_DIR="$MOTO_REPO_ROOT/infra/scripts"
MOTO_READY_TIMEOUT="${MOTO_READY_TIMEOUT:-30}"

# shellcheck source=infra/scripts/background.sh
source "$MOTO_SCRIPTS_DIR/background.sh"

# Print a free TCP port on 127.0.0.1.
moto_free_port() {
  bg_free_port
}

# Succeeds when moto answers on the port.
moto_ready() {
  local port="$1"
  "$MOTO_VENV/bin/python" - "$port" <<'PY' >/dev/null 2>&1
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/data.json", timeout=2).read()
PY
}

# moto_start PORT [LOG_FILE] [PID_FILE]
moto_start() {
  local port="${1:?moto_start: port required}"
  local log="${2:-$MOTO_LOCAL_DIR/moto.log}"
  local pidfile="${3:-$MOTO_LOCAL_DIR/moto.pid}"
  if [[ ! -x "$MOTO_VENV/bin/moto_server" ]]; then
    echo "moto: moto is not installed in $MOTO_VENV; run 'make venv' first" >&2
    return 1
  fi
  bg_start moto moto_ready "$port" "$log" "$pidfile" "$MOTO_READY_TIMEOUT" -- \
    "$MOTO_VENV/bin/moto_server" -H 127.0.0.1 -p "$port"
}

# moto_stop [PID_FILE]  -- stops only the server whose pid we recorded.
moto_stop() {
  bg_stop moto "${1:-$MOTO_LOCAL_DIR/moto.pid}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  cmd="${1:-}"
  shift || true
  case "$cmd" in
    free-port) moto_free_port ;;
    start) moto_start "${1:-${MOTO_PORT:-5050}}" "${2:-}" "${3:-}" ;;
    stop) moto_stop "${1:-}" ;;
    status)
      if moto_ready "${1:-${MOTO_PORT:-5050}}"; then echo "up"; else echo "down"; exit 1; fi ;;
    *)
      echo "usage: $0 {free-port|start [PORT] [LOG] [PID]|stop [PID]|status [PORT]}" >&2
      exit 2 ;;
  esac
fi
