#!/usr/bin/env bash
# fuzz.sh [TIME]: runs every Fuzz target of the module for TIME each
# (go test -fuzz takes one target per run). New crashers land in testdata/.
set -euo pipefail
GO=${GO:-go}
t=${1:-10s}
cd "$(dirname "$0")/.."
for pkg in $("$GO" list ./...); do
	for f in $("$GO" test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "fuzz $pkg $f ($t)"
		"$GO" test -run='^$' -fuzz="^$f\$" -fuzztime="$t" -parallel=2 "$pkg"
	done
done
