#!/usr/bin/env bash
# fuzz.sh [TIME]: runs every Fuzz target of the module for TIME each
# (go test -fuzz takes one target per run). New crashers land in testdata/.
# Each target's seeds run first, as a test: the guest's targets compile
# tailor.wasm there into a cache their fuzz workers read
# (TAILOR_WAZERO_CACHE), since compiling it in each worker can outlast
# the fuzzer's wait for a worker's first input.
set -euo pipefail
GO=${GO:-go}
t=${1:-10s}
cd "$(dirname "$0")/.."
export TAILOR_WAZERO_CACHE=${TAILOR_WAZERO_CACHE:-$PWD/dist/wazero-cache}
for pkg in $("$GO" list ./...); do
	for f in $("$GO" test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "fuzz $pkg $f ($t)"
		"$GO" test -count=1 -run="^$f\$" "$pkg"
		"$GO" test -run='^$' -fuzz="^$f\$" -fuzztime="$t" -parallel=2 "$pkg"
	done
done
