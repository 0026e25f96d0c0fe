#!/usr/bin/env bash
# `make build`: `sam build` of every function of template.yaml for Lambda (arm64,
# provided.al2023) through cargo-lambda and its zig, all from .venv; then the time it took
# and each function's bootstrap binary and zip sizes (figures for README.md).
# Offline; too slow for every `make test` (release builds of seven binaries).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
make --no-print-directory venv </dev/null

# cargo-lambda cross-compiles with zig but needs the target's standard library.
if command -v rustup >/dev/null; then
  rustup target add aarch64-unknown-linux-gnu >/dev/null
fi

export PATH="$ROOT/.venv/bin:$PATH" SAM_CLI_TELEMETRY=0
start=$(date +%s)
# samconfig.toml's [default.build.parameters]: beta_features (rust-cargolambda), cached,
# parallel.
sam build --template template.yaml </dev/null
elapsed=$(( $(date +%s) - start ))

echo
echo "sam build: ${elapsed} s"
printf '%-22s %12s %12s\n' "function" "bootstrap B" "zip B"
for dir in .aws-sam/build/*Function; do
  [[ -f "$dir/bootstrap" ]] || { echo "missing $dir/bootstrap" >&2; exit 1; }
  file "$dir/bootstrap" | grep -q "ARM aarch64" || { echo "$dir/bootstrap is not arm64" >&2; exit 1; }
  size=$(stat -c %s "$dir/bootstrap")
  zipped=$(cd "$dir" && python3 -c 'import io, sys, zipfile
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    z.write("bootstrap")
print(len(buf.getvalue()))')
  printf '%-22s %12s %12s\n' "$(basename "$dir")" "$size" "$zipped"
done
