#!/usr/bin/env bash
# `make dev`: local stack on loopback.
#   1. moto (SQS and SES v2 emulator) on 127.0.0.1:${MOTO_PORT:-5050} and DynamoDB Local
#      (the table's emulator) on 127.0.0.1:${DDB_PORT:-8000}
#   1b. the local OpenID provider (oidc-provider-mock, standing in for Google) on
#      127.0.0.1:${OIDC_PORT:-9400}, with the users admin and customer predefined
#   2. devstack bootstrap: table from template.yaml, notifications queue + DLQ, SES sender
#      identity, local ES256 keys, demo catalog, .local/dev.env, admin/customer tokens
#   2b. the Africa's Talking stand-in (devstack sms-sandbox) on 127.0.0.1:${SMS_PORT:-9500},
#       posting each accepted SMS's delivery report to the API's
#       /api/v1/notifications/sms/delivery/<SMS_DELIVERY_TOKEN from dev.env>,
#       and the M-Pesa stand-in (devstack mpesa-sandbox: Daraja's paths, scripted outcomes,
#       callbacks to the URLs each request names) on 127.0.0.1:${MPESA_PORT:-9600}; its
#       payer decides a prompt ${MPESA_DECISION_DELAY_MS:-1000} ms after it is sent
#   3. cargo lambda watch on 127.0.0.1:${API_PORT:-9000} (routes from
#      [workspace.metadata.lambda.watch.router] in Cargo.toml), env from .local/dev.env
#   4. the queue bridge (devstack queue-bridge): notifications queue -> notifier function,
#      as Lambda's SQS event source mapping would
# Ctrl-C (or TERM) stops everything this script started.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=infra/scripts/background.sh
source "$ROOT/infra/scripts/background.sh"

MOTO_PORT="${MOTO_PORT:-5050}"
API_PORT="${API_PORT:-9000}"
TABLE="${TABLE_NAME:-order-system-local}"
# DEV_LOCAL_DIR: where state, logs and pid files go (make fuzz runs a second stack there).
LOCAL_DIR="${DEV_LOCAL_DIR:-$ROOT/.local}"
MOTO_PID_FILE="$LOCAL_DIR/moto.pid"
DDB_PORT="${DDB_PORT:-8000}"
DDB_PID_FILE="$LOCAL_DIR/dynamodb-local.pid"
OIDC_PORT="${OIDC_PORT:-9400}"
OIDC_PID_FILE="$LOCAL_DIR/oidc.pid"
OIDC_ISSUER="http://127.0.0.1:$OIDC_PORT"
ADMIN_EMAILS="${ADMIN_EMAILS:-admin@example.com}"
SMS_PORT="${SMS_PORT:-9500}"
SMS_PID_FILE="$LOCAL_DIR/sms.pid"
MPESA_PORT="${MPESA_PORT:-9600}"
MPESA_PID_FILE="$LOCAL_DIR/mpesa.pid"
BRIDGE_PID_FILE="$LOCAL_DIR/bridge.pid"
DEVSTACK="${CARGO_TARGET_DIR:-$ROOT/target}/debug/devstack"
WATCH_PID=""

make --no-print-directory venv dynamodb-local
# shellcheck source=infra/scripts/moto.sh
source "$ROOT/infra/scripts/moto.sh"
# shellcheck source=infra/scripts/dynamodb_local.sh
source "$ROOT/infra/scripts/dynamodb_local.sh"
# shellcheck source=infra/scripts/oidc.sh
source "$ROOT/infra/scripts/oidc.sh"
mkdir -p "$LOCAL_DIR"

# shellcheck disable=SC2317  # invoked via trap
cleanup() {
  local rc=$?
  bg_cleanup_guard
  if [[ -n "$WATCH_PID" ]] && kill -0 "$WATCH_PID" 2>/dev/null; then
    echo "==> stopping cargo lambda watch (process group $WATCH_PID)" >&2
    # The watcher forwards TERM to the function processes it spawned.
    kill -TERM -- "-$WATCH_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$WATCH_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$WATCH_PID" 2>/dev/null || true
  fi
  bg_stop bridge "$BRIDGE_PID_FILE"
  bg_stop sms-sandbox "$SMS_PID_FILE"
  bg_stop mpesa-sandbox "$MPESA_PID_FILE"
  moto_stop "$MOTO_PID_FILE"
  ddb_stop "$DDB_PID_FILE"
  oidc_stop "$OIDC_PID_FILE"
  exit "$rc"
}

# The SMS stand-in answers GET /messages once it listens.
sms_ready() {
  "$ROOT/.venv/bin/python" - "$1" <<'PY' >/dev/null 2>&1
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/messages", timeout=2).read()
PY
}
# The M-Pesa stand-in answers GET /deliveries once it listens.
mpesa_ready() {
  "$ROOT/.venv/bin/python" - "$1" <<'PY' >/dev/null 2>&1
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/deliveries", timeout=2).read()
PY
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A moto left behind by a previous session that died without cleanup (recorded pid only).
moto_stop "$MOTO_PID_FILE"
moto_start "$MOTO_PORT" "$LOCAL_DIR/moto.log" "$MOTO_PID_FILE"
ddb_stop "$DDB_PID_FILE"
ddb_start "$DDB_PORT" "$LOCAL_DIR/dynamodb-local.log" "$DDB_PID_FILE"

# The local OpenID provider: sign in as `admin` (an admin email) or `customer`, or
# register any user first with PUT $OIDC_ISSUER/users/<sub> (see README).
oidc_stop "$OIDC_PID_FILE"
oidc_start "$OIDC_PORT" "$LOCAL_DIR/oidc.log" "$OIDC_PID_FILE" \
  '{"sub":"admin","email":"admin@example.com","email_verified":true,"name":"Local Admin"}' \
  '{"sub":"customer","email":"customer@example.com","email_verified":true,"name":"Wanjiku Customer"}'

export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DDB_PORT"
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
unset AWS_PROFILE AWS_SESSION_TOKEN

echo "==> bootstrapping table '$TABLE', keys and demo data" >&2
cargo run --quiet -p devstack -- bootstrap --template template.yaml --table "$TABLE" --out "$LOCAL_DIR" \
  --oidc-issuer "$OIDC_ISSUER" --admin-emails "$ADMIN_EMAILS" \
  --redirect-uri "http://127.0.0.1:$API_PORT/api/v1/auth/google/callback,http://127.0.0.1:$API_PORT/console/callback,http://localhost:$API_PORT/console/callback" \
  --sms-url "http://127.0.0.1:$SMS_PORT" --email-to "${ORDER_EMAIL_TO:-admin@example.com}" \
  --mpesa-url "http://127.0.0.1:$MPESA_PORT" --api-url "http://127.0.0.1:$API_PORT/api/v1"

if [[ ! -s "$LOCAL_DIR/dev.env" ]]; then
  echo "dev: bootstrap did not write $LOCAL_DIR/dev.env" >&2
  exit 1
fi

# Africa's Talking stand-in (what it accepted: GET http://127.0.0.1:$SMS_PORT/messages;
# the delivery reports it posted to the API: GET http://127.0.0.1:$SMS_PORT/delivery-reports).
# The reports' URL holds the secret token bootstrap wrote to dev.env (read alone, so dev.env
# never changes this script's variables).
SMS_DELIVERY_TOKEN="$(grep '^SMS_DELIVERY_TOKEN=' "$LOCAL_DIR/dev.env" | cut -d= -f2- || true)"
if [[ -z "$SMS_DELIVERY_TOKEN" ]]; then
  echo "dev: no SMS_DELIVERY_TOKEN in $LOCAL_DIR/dev.env" >&2
  exit 1
fi
bg_stop sms-sandbox "$SMS_PID_FILE"
bg_start sms-sandbox sms_ready "$SMS_PORT" "$LOCAL_DIR/sms.log" "$SMS_PID_FILE" 30 -- \
  "$DEVSTACK" sms-sandbox --port "$SMS_PORT" \
  --delivery-report-url "http://127.0.0.1:$API_PORT/api/v1/notifications/sms/delivery/$SMS_DELIVERY_TOKEN"

# M-Pesa stand-in (callbacks it posted: GET http://127.0.0.1:$MPESA_PORT/deliveries).
bg_stop mpesa-sandbox "$MPESA_PID_FILE"
bg_start mpesa-sandbox mpesa_ready "$MPESA_PORT" "$LOCAL_DIR/mpesa.log" "$MPESA_PID_FILE" 30 -- \
  "$DEVSTACK" mpesa-sandbox --port "$MPESA_PORT" --decision-delay-ms "${MPESA_DECISION_DELAY_MS:-1000}"
# The Paybill's C2B URLs (validation, confirmation), registered with the stand-in as the
# one-time deploy step registers them with M-Pesa (docs/payments.md).
(
  set -a
  # shellcheck source=/dev/null
  source "$LOCAL_DIR/dev.env"
  set +a
  cargo run --quiet -p payments --bin register-c2b-urls </dev/null
) >&2

export PATH="$ROOT/.venv/bin:$PATH"
# Own session => own process group: Ctrl-C reaches only this script, whose trap then
# stops the whole group. stdin from /dev/null so the watcher never reads the terminal.
# WATCH_FLAGS: extra flags for cargo lambda watch (make fuzz: --ignore-changes, so files
# written while it runs never restart the functions mid-request).
# shellcheck disable=SC2086  # word splitting intended
setsid cargo lambda watch ${WATCH_FLAGS:-} \
  --invoke-address 127.0.0.1 \
  --invoke-port "$API_PORT" \
  --env-file "$LOCAL_DIR/dev.env" </dev/null &
WATCH_PID=$!

# The queue bridge: confirmed orders on the notifications queue -> the notifier, with
# partial batch failures, as the event source mapping in AWS (log: .local/bridge.log).
QUEUE_URL="$(grep '^NOTIFICATIONS_QUEUE_URL=' "$LOCAL_DIR/dev.env" | cut -d= -f2-)"
bg_stop bridge "$BRIDGE_PID_FILE"
setsid "$DEVSTACK" queue-bridge --queue-url "$QUEUE_URL" \
  --invoke-url "http://127.0.0.1:$API_PORT/2015-03-31/functions/notifier/invocations" \
  </dev/null >"$LOCAL_DIR/bridge.log" 2>&1 &
echo "$!" >"$BRIDGE_PID_FILE"

cat >&2 <<MSG

==> local stack is up (Ctrl-C to stop everything)
    API:    http://127.0.0.1:$API_PORT/api/v1/categories
            http://127.0.0.1:$API_PORT/api/v1/categories/tree
            http://127.0.0.1:$API_PORT/api/v1/products
            http://127.0.0.1:$API_PORT/api/v1/orders   (with a token)
            http://127.0.0.1:$API_PORT/api/v1/auth/google/login   (sign in: see README)
            http://127.0.0.1:$API_PORT/api/v1/customer/me
            (functions compile on the first request; tokens were printed above)
    reconciler (scheduled in AWS; run it by hand here):
            curl -X POST http://127.0.0.1:$API_PORT/2015-03-31/functions/reconciler/invocations -d '{}'
    queue:  \$NOTIFICATIONS_QUEUE_URL in $LOCAL_DIR/dev.env (order.confirmed messages), fed to
            the notifier by the queue bridge (log: $LOCAL_DIR/bridge.log)
    SMS:    curl http://127.0.0.1:$SMS_PORT/messages   (Africa's Talking stand-in; delivery reports it posted: /delivery-reports; log: $LOCAL_DIR/sms.log)
    M-Pesa: http://127.0.0.1:$MPESA_PORT   (Daraja stand-in, Paybill 174379; callbacks it posted: /deliveries; log: $LOCAL_DIR/mpesa.log)
    email:  $AWS_ENDPOINT_URL/moto-api/data.json   (ses.Message; see README)
    OpenID: $OIDC_ISSUER   (users: admin, customer; log: $LOCAL_DIR/oidc.log)
    moto:   $AWS_ENDPOINT_URL   (SQS, SES; dashboard: $AWS_ENDPOINT_URL/moto-api/, log: $LOCAL_DIR/moto.log)
    table:  $TABLE on DynamoDB Local at $AWS_ENDPOINT_URL_DYNAMODB (log: $LOCAL_DIR/dynamodb-local.log)
    env:    $LOCAL_DIR/dev.env

MSG

set +e
wait "$WATCH_PID"
rc=$?
set -e
echo "dev: cargo lambda watch exited with status $rc" >&2
exit "$rc"
