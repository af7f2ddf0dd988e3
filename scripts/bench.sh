#!/usr/bin/env bash
# make bench: the in-process Go benchmarks of bench/, then the driver that
# runs bin/tap-recurly against the simulated site and rewrites the generated
# section of BENCHMARKS.md. Expects bin/tap-recurly to be built (make build).
# BENCH_FLAGS passes extra flags to the driver, e.g. BENCH_FLAGS=-quick.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
tap=bin/tap-recurly
if [ ! -x "$tap" ]; then
  echo "bench: $tap is missing; run make build" >&2
  exit 1
fi
gobench=$(mktemp /tmp/tap-recurly-gobench.XXXXXX)
trap 'rm -f "$gobench"' EXIT
echo "== go test -bench (in process)"
"$GO" test -run '^$' -bench . -benchmem -count 1 ./bench/ | tee "$gobench"
echo
echo "== driver: the tap binary against the simulated site"
# shellcheck disable=SC2086
"$GO" run ./bench -tap "$tap" -gobench "$gobench" -out BENCHMARKS.md ${BENCH_FLAGS:-}
