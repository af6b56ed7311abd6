#!/usr/bin/env bash
# loader.sh: builds the browser loader from sdk/js/src into dist/:
#   dist/tailor.js    the script-tag build (IIFE), minified
#   dist/tailor.mjs   the ES module build, minified
#   dist/tailor.d.ts  the TypeScript declarations (sdk/js/tailor.d.ts)
# and fails when the script's brotli size passes the budget (10 KiB: 8 for
# the loader, about 2.2 more for the page scanner, scan.js).
# esbuild is a pinned dev dependency (sdk/js/package-lock.json), installed
# with npm ci when missing; nothing of it ships.
set -euo pipefail
BUDGET=${LOADER_BUDGET:-10240}
cd "$(dirname "$0")/.."
js=sdk/js
dist=${DIST:-dist}
mkdir -p "$dist"
if [ ! -x "$js/node_modules/.bin/esbuild" ]; then
	(cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
fi
esbuild=$js/node_modules/.bin/esbuild
flags=(--bundle --minify --target=es2020 --legal-comments=none --log-level=warning)
"$esbuild" "$js/src/script.js" "${flags[@]}" --format=iife --outfile="$dist/tailor.js"
"$esbuild" "$js/src/index.js" "${flags[@]}" --format=esm --outfile="$dist/tailor.mjs"
cp "$js/tailor.d.ts" "$dist/tailor.d.ts"
raw=$(wc -c <"$dist/tailor.js")
if command -v brotli >/dev/null; then
	br=$(brotli -q 11 -c "$dist/tailor.js" | wc -c)
	gz=$(gzip -9 -c "$dist/tailor.js" | wc -c)
	echo "tailor.js: $raw bytes, gzip $gz, brotli $br (budget $BUDGET)"
	if [ "$br" -gt "$BUDGET" ]; then
		echo "loader: tailor.js is over its brotli budget" >&2
		exit 1
	fi
else
	echo "tailor.js: $raw bytes (brotli not installed: apt-get install brotli; budget not checked)" >&2
fi
