#!/usr/bin/env bash
# Local DynamoDB emulator: DynamoDB Local, AWS's own (the jar of the pinned npm package
# amplify-dynamodb-simulator, unpacked by `make dynamodb-local`), run with java, in memory. One database for every credential and region (-sharedDb), no telemetry.
# It runs in $DDB_WORK_DIR (under .local, git-ignored): even with -disableTelemetry it writes
# dynamodb-local-metadata.json into its working directory.
#
# Source it for the functions:
#   source infra/scripts/dynamodb_local.sh
#   port=$(ddb_free_port)
#   ddb_start "$port" [log_file] [pid_file]   # background, waits until ListTables answers
#   ddb_stop [pid_file]
# or run it as a command:
#   infra/scripts/dynamodb_local.sh free-port
#   infra/scripts/dynamodb_local.sh start [PORT] [LOG] [PID]   (PORT defaults to $DDB_PORT or 8000)
#   infra/scripts/dynamodb_local.sh stop [PID]
#   infra/scripts/dynamodb_local.sh status [PORT]
#   infra/scripts/dynamodb_local.sh version
# Its endpoint is http://127.0.0.1:PORT; any access key, secret and region are accepted.

DDB_REPO_ROOT="${DDB_REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
DDB_VENV="${DDB_VENV:-$DDB_REPO_ROOT/.venv}"
DDB_LOCAL_DIR="${DDB_LOCAL_DIR:-$DDB_REPO_ROOT/.local}"
DDB_EMULATOR_DIR="${DDB_EMULATOR_DIR:-$DDB_VENV/dynamodb-local}"
DDB_JAVA="${DDB_JAVA:-java}"
DDB_WORK_DIR="${DDB_WORK_DIR:-$DDB_LOCAL_DIR/dynamodb-local}"
DDB_READY_TIMEOUT="${DDB_READY_TIMEOUT:-60}"

# shellcheck source=infra/scripts/background.sh
source "$DDB_REPO_ROOT/infra/scripts/background.sh"

# Print a free TCP port on 127.0.0.1.
ddb_free_port() {
  bg_free_port
}

# Succeeds when a DynamoDB API call (ListTables) answers on the port. DynamoDB Local wants
# an Authorization header that parses as SigV4; it does not check the signature.
ddb_ready() {
  local port="$1"
  local py="$DDB_VENV/bin/python"
  [[ -x "$py" ]] || py=python3
  "$py" - "$port" <<'PY' >/dev/null 2>&1
import json, sys, urllib.request
request = urllib.request.Request(
    f"http://127.0.0.1:{sys.argv[1]}/",
    data=b"{}",
    headers={
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810.ListTables",
        "X-Amz-Date": "20240101T000000Z",
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=host;x-amz-date;x-amz-target, Signature=0",
    },
)
json.load(urllib.request.urlopen(request, timeout=2))["TableNames"]
PY
}

# Succeeds when java and the jar are there; says what to do otherwise.
ddb_check_installed() {
  if [[ ! -f "$DDB_EMULATOR_DIR/DynamoDBLocal.jar" || ! -d "$DDB_EMULATOR_DIR/DynamoDBLocal_lib" ]]; then
    echo "dynamodb-local: DynamoDBLocal.jar is not installed in $DDB_EMULATOR_DIR; run 'make dynamodb-local' first" >&2
    return 1
  fi
  if ! command -v "$DDB_JAVA" >/dev/null 2>&1; then
    echo "dynamodb-local: '$DDB_JAVA' not found: DynamoDB Local needs a Java runtime (17 or later) on PATH, or DDB_JAVA=/path/to/java" >&2
    return 1
  fi
}

# ddb_version -- prints the DynamoDB Local version of the installed jar (e.g. 1.25.1).
ddb_version() {
  ddb_check_installed || return 1
  "$DDB_JAVA" -Djava.library.path="$DDB_EMULATOR_DIR/DynamoDBLocal_lib" \
    -jar "$DDB_EMULATOR_DIR/DynamoDBLocal.jar" -version 2>/dev/null | tail -n 1
}

# ddb_start PORT [LOG_FILE] [PID_FILE]
ddb_start() {
  local port="${1:?ddb_start: port required}"
  local log="${2:-$DDB_LOCAL_DIR/dynamodb-local.log}"
  local pidfile="${3:-$DDB_LOCAL_DIR/dynamodb-local.pid}"
  ddb_check_installed || return 1
  mkdir -p "$DDB_WORK_DIR"
  # exec: the recorded pid is java's own.
  # shellcheck disable=SC2016  # expanded by the inner bash
  bg_start dynamodb-local ddb_ready "$port" "$log" "$pidfile" "$DDB_READY_TIMEOUT" -- \
    bash -c 'cd "$1" && shift && exec "$@"' dynamodb-local "$DDB_WORK_DIR" \
    "$DDB_JAVA" -Djava.library.path="$DDB_EMULATOR_DIR/DynamoDBLocal_lib" \
    -jar "$DDB_EMULATOR_DIR/DynamoDBLocal.jar" \
    -inMemory -sharedDb -disableTelemetry -port "$port"
}

# ddb_stop [PID_FILE]  -- stops only the server whose pid we recorded.
ddb_stop() {
  bg_stop dynamodb-local "${1:-$DDB_LOCAL_DIR/dynamodb-local.pid}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  cmd="${1:-}"
  shift || true
  case "$cmd" in
    free-port) ddb_free_port ;;
    start) ddb_start "${1:-${DDB_PORT:-8000}}" "${2:-}" "${3:-}" ;;
    stop) ddb_stop "${1:-}" ;;
    status)
      if ddb_ready "${1:-${DDB_PORT:-8000}}"; then echo "up"; else echo "down"; exit 1; fi ;;
    version) ddb_version ;;
    *)
      echo "usage: $0 {free-port|start [PORT] [LOG] [PID]|stop [PID]|status [PORT]|version}" >&2
      exit 2 ;;
  esac
fi
