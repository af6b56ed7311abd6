#!/usr/bin/env bash
# size.sh TAILOR_WASM: builds an empty Go wasip1 reactor with the same flags
# as tailor.wasm, prints both sizes (raw, gzip, brotli) and the brotli ratio,
# and fails past the budget (1.155: every visitor downloads the guest;
# RATIONALE.md says what each step of it bought).
set -euo pipefail
GO=${GO:-go}
BUDGET=${BUDGET:-1.155}
wasm=$1
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
GOOS=wasip1 GOARCH=wasm "$GO" build -trimpath -buildvcs=false -buildmode=c-shared \
	-ldflags="-s -w -buildid=" -o "$tmp/empty.wasm" ./build/empty
if ! command -v brotli >/dev/null; then
	echo "size: brotli not installed (apt-get install brotli); size budget not checked" >&2
	exit 0
fi
row() { printf '%-12s %9d %9d %9d\n' "$1" "$(wc -c <"$2")" "$(gzip -9 -c "$2" | wc -c)" "$(brotli -q 11 -c "$2" | wc -c)"; }
printf '%-12s %9s %9s %9s\n' file raw gzip brotli
row empty "$tmp/empty.wasm"
row tailor.wasm "$wasm"
e=$(brotli -q 11 -c "$tmp/empty.wasm" | wc -c)
t=$(brotli -q 11 -c "$wasm" | wc -c)
awk -v t="$t" -v e="$e" -v b="$BUDGET" 'BEGIN {
	r = t / e
	printf "brotli ratio tailor.wasm / empty reactor: %.3f (budget %.3f, %d bytes over the empty reactor)\n", r, b, t - e
	if (r > b) { print "size: over budget" > "/dev/stderr"; exit 1 }
}'
