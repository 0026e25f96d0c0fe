#!/usr/bin/env bash
# `make load`: the load simulation (infra/bench/src/bin/load.rs), release-optimised, in
# process against DynamoDB Local (the table) and moto (SQS) on free loopback ports: a shop
# mode (LOAD_CUSTOMERS customers over LOAD_PRODUCTS products for LOAD_SECONDS) and a
# flash-sale mode (FLASH_BUYERS buyers for the FLASH_STOCK units of one product); LOAD_MODE
# picks one (shop|flash; both by default). Prints the writes per partition key and checks
# the invariants; the report is kept in .local/load.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=infra/scripts/emulators.sh
source "$ROOT/infra/scripts/emulators.sh"
emulators_start load
cargo run --quiet --profile perf -p bench --bin load | tee .local/load.md
