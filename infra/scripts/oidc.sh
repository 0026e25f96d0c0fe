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

# shellcheck source=infra/scripts/background.sh
source "$OIDC_REPO_ROOT/infra/scripts/background.sh"

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
  bg_start oidc oidc_ready "$port" "$log" "$pidfile" "$OIDC_READY_TIMEOUT" -- \
    env NO_COLOR=1 "$server" "${args[@]}"
}

# oidc_stop [PID_FILE]  -- stops only the provider whose pid we recorded.
oidc_stop() {
  bg_stop oidc "${1:-$OIDC_LOCAL_DIR/oidc.pid}"
}
