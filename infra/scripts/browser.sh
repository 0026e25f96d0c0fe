#!/usr/bin/env bash
# `make browser` (and a step of `make test`): the back-office console's browser tests
# (functions/console/e2e) in headless Chromium against a local stack of their own (make
# dev's, on free ports: infra/scripts/side_stack.sh), with node's built-in test runner.
#
#   CONSOLE_BROWSER   the Chrome/Chromium binary (default: Debian's /usr/lib/chromium/chromium,
#                     installed here with apt-get when missing; the pipeline points it at
#                     the runner's own Chrome)
#   CONSOLE_DOCS=1    also write the main screens to docs/console/ (the README's pictures)
#
# The stack is make dev's (infra/scripts/dev.sh), so it runs the M-Pesa stand-in
# (devstack mpesa-sandbox) on a free port of its own, beside make dev's 9600, with the
# Paybill's C2B URLs registered, and the payments function with the MPESA_* environment of
# its .local/console-e2e/dev.env; the tests read that file (CONSOLE_DEV_ENV) to reach the
# stand-in (MPESA_BASE_URL, MPESA_SHORTCODE, the consumer key and secret).
#
# Screenshots of every screen and the exported CSV: .local/console-e2e/out/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
E2E="$ROOT/functions/console/e2e"
DEBIAN_CHROMIUM=/usr/lib/chromium/chromium
BROWSER="${CONSOLE_BROWSER:-$DEBIAN_CHROMIUM}"

if [[ ! -x "$BROWSER" ]]; then
  if [[ "$BROWSER" != "$DEBIAN_CHROMIUM" ]]; then
    echo "browser: CONSOLE_BROWSER=$BROWSER is not an executable" >&2
    exit 1
  fi
  echo "==> browser: installing Debian's chromium (apt-get)"
  SUDO=""
  if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "browser: apt-get needs root (or set CONSOLE_BROWSER)" >&2; exit 1; }
    SUDO=sudo
  fi
  $SUDO apt-get update -qq </dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    chromium fonts-liberation </dev/null >/dev/null
fi
echo "==> browser: $("$BROWSER" --version 2>/dev/null || echo "$BROWSER")"

# The pinned test tools (playwright-core, @axe-core/playwright): npm ci when the lock
# file differs from the one last installed.
STAMP="$E2E/node_modules/.console-installed-lock.json"
if ! cmp -s "$E2E/package-lock.json" "$STAMP"; then
  npm ci --prefix "$E2E" --no-audit --no-fund --loglevel=error </dev/null
  cp "$E2E/package-lock.json" "$STAMP"
fi

# shellcheck source=infra/scripts/side_stack.sh
source "$ROOT/infra/scripts/side_stack.sh"
trap side_stack_stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The prompt test sends a prompt behind the console's back, which the stand-in's payer then
# cancels, and expects the console's own prompt to be refused while that one waits: the
# payer takes 5 s here (1 s in make dev), so the console's click is well inside it on a
# busy machine. The tests poll for every outcome; none waits a fixed time.
export MPESA_DECISION_DELAY_MS=5000
side_stack_start console-e2e
OUT="$LOCAL_DIR/out"
rm -rf "$OUT"
mkdir -p "$OUT"
# Each function compiles on its first request: wait for every one the tests reach.
for path in console api/v1/categories api/v1/products api/v1/orders api/v1/customer/me \
  api/v1/auth/jwks.json api/v1/audit api/v1/customers; do
  side_stack_wait "http://127.0.0.1:$API_PORT/$path"
done
# The payments function takes M-Pesa's callbacks, which the stand-in posts once and never
# again: compile it before any prompt (a callback path with no token: its 404 or 405).
side_stack_wait "http://127.0.0.1:$API_PORT/api/v1/payments/callbacks/warm-up/stk"
# Likewise the SMS delivery-report function, which the SMS stand-in posts to about a second
# after each text (a GET on its route: 405 once it is built).
side_stack_wait "http://127.0.0.1:$API_PORT/api/v1/notifications/sms/delivery/warm-up"

DOCS_DIR=""
if [[ "${CONSOLE_DOCS:-}" == 1 ]]; then
  DOCS_DIR="$ROOT/docs/console"
fi
echo "==> browser: console tests against http://127.0.0.1:$API_PORT/console"
CONSOLE_ORIGIN="http://127.0.0.1:$API_PORT" \
  CONSOLE_BROWSER="$BROWSER" \
  CONSOLE_E2E_OUT="$OUT" \
  CONSOLE_DOCS_DIR="$DOCS_DIR" \
  CONSOLE_DEV_ENV="$LOCAL_DIR/dev.env" \
  node --test --test-reporter=spec --test-concurrency=1 "$E2E/console.test.mjs" </dev/null \
  | tee "$ROOT/.local/browser-test.log"
echo "==> browser: screenshots in $OUT/screenshots"
