#!/usr/bin/env bash
# Local OpenID Connect provider (oidc-provider-mock from the repo venv), standing in for
# Google offline: discovery, JWKS, authorization-code flow, nonce, users whose claims a test
# or a developer chooses (PUT /users/<sub>), sign-in by submitting its form.
#
# Source it for the functions:
#   source infra/scripts/oidc.sh
#   oidc_start PORT [LOG_FILE] [PID_FILE] [USER_CLAIMS_JSON...]   # background, waits until ready
#   oidc_stop [PID_FILE]
# Its issuer URL is http://127.0.0.1:PORT (no trailing slash).

OIDC_REPO_ROOT="${OIDC_REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
OIDC_VENV="${OIDC_VENV:-$OIDC_REPO_ROOT/.venv}"
OIDC_LOCAL_DIR="${OIDC_LOCAL_DIR:-$OIDC_REPO_ROOT/.local}"
OIDC_READY_TIMEOUT="${OIDC_READY_TIMEOUT:-30}"

# Succeeds when the provider serves its discovery document on the port.
oidc_ready() {
  local port="$1"
  "$OIDC_VENV/bin/python" - "$port" <<'PY' >/dev/null 2>&1
import json, sys, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/.well-known/openid-configuration"
json.load(urllib.request.urlopen(url, timeout=2))["jwks_uri"]
PY
}

# oidc_start PORT [LOG_FILE] [PID_FILE] [USER_CLAIMS_JSON...]
oidc_start() {
  local port="${1:?oidc_start: port required}"
  local log="${2:-$OIDC_LOCAL_DIR/oidc.log}"
  local pidfile="${3:-$OIDC_LOCAL_DIR/oidc.pid}"
  shift 3 2>/dev/null || shift $#
  local args=(--host 127.0.0.1 --port "$port" --require-nonce)
  local claims
  for claims in "$@"; do
    args+=(--user-claims "$claims")
  done
  local server="$OIDC_VENV/bin/oidc-provider-mock"
  if [[ ! -x "$server" ]]; then
    echo "oidc: oidc-provider-mock is not installed in $OIDC_VENV; run 'make venv' first" >&2
    return 1
  fi
  if oidc_ready "$port"; then
    echo "oidc: something already answers on 127.0.0.1:$port; refusing to start a second provider (choose another OIDC_PORT)" >&2
    return 1
  fi
  mkdir -p "$(dirname "$log")" "$(dirname "$pidfile")"
  # Own session/process group so Ctrl-C in the caller's terminal is handled by its trap only.
  if command -v setsid >/dev/null 2>&1; then
    NO_COLOR=1 setsid "$server" "${args[@]}" </dev/null >"$log" 2>&1 &
  else
    NO_COLOR=1 "$server" "${args[@]}" </dev/null >"$log" 2>&1 &
  fi
  local pid=$!
  echo "$pid" >"$pidfile"
  local deadline=$((SECONDS + OIDC_READY_TIMEOUT))
  until oidc_ready "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "oidc: provider exited during startup (port $port). Last log lines from $log:" >&2
      tail -n 20 "$log" >&2 || true
      rm -f "$pidfile"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "oidc: not ready on http://127.0.0.1:$port after ${OIDC_READY_TIMEOUT}s; see $log" >&2
      kill "$pid" 2>/dev/null || true
      rm -f "$pidfile"
      return 1
    fi
    sleep 0.2
  done
  echo "oidc: ready at http://127.0.0.1:$port (pid $pid, log $log)" >&2
}

# oidc_stop [PID_FILE]  -- stops only the provider whose pid we recorded.
oidc_stop() {
  local pidfile="${1:-$OIDC_LOCAL_DIR/oidc.pid}"
  [[ -f "$pidfile" ]] || return 0
  local pid
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  rm -f "$pidfile"
  [[ -n "$pid" ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    echo "oidc: stopped (pid $pid)" >&2
  fi
}
