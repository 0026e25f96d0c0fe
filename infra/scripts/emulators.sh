#!/usr/bin/env bash
# The AWS emulators of one in-process run (`make bench`, `make load`): DynamoDB Local (the
# table) and moto (SQS, SES) on free loopback ports, stopped when the script exits.
#
#   source infra/scripts/emulators.sh
#   emulators_start NAME   # logs and pid files in .local/, named after NAME; sets MOTO_PORT
#                          # and DDB_PORT and exports MOTO_ENDPOINT and
#                          # AWS_ENDPOINT_URL_DYNAMODB (what testkit::env reads);
#                          # installs the EXIT trap that stops both

EMULATORS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=infra/scripts/moto.sh
source "$EMULATORS_ROOT/infra/scripts/moto.sh"
# shellcheck source=infra/scripts/dynamodb_local.sh
source "$EMULATORS_ROOT/infra/scripts/dynamodb_local.sh"

emulators_start() {
  local name="$1" local_dir="$EMULATORS_ROOT/.local"
  make --no-print-directory -C "$EMULATORS_ROOT" venv dynamodb-local </dev/null
  mkdir -p "$local_dir"
  local ports
  mapfile -t ports < <(bg_free_ports 2)
  MOTO_PORT="${ports[0]}"
  DDB_PORT="${ports[1]}"
  EMULATORS_MOTO_PID="$local_dir/moto-$name-$MOTO_PORT.pid"
  EMULATORS_DDB_PID="$local_dir/dynamodb-local-$name-$DDB_PORT.pid"
  trap 'moto_stop "$EMULATORS_MOTO_PID"; ddb_stop "$EMULATORS_DDB_PID"' EXIT
  moto_start "$MOTO_PORT" "$local_dir/moto-$name.log" "$EMULATORS_MOTO_PID"
  ddb_start "$DDB_PORT" "$local_dir/dynamodb-local-$name.log" "$EMULATORS_DDB_PID"
  export MOTO_ENDPOINT="http://127.0.0.1:$MOTO_PORT"
  export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DDB_PORT"
}
