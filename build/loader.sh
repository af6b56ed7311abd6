#!/usr/bin/env bash
# loader.sh: builds the browser loader from sdk/js/src into dist/:
#   dist/tailor.js        the script-tag build (IIFE), minified: the core
#   dist/tailor.mjs       the ES module build, minified: the same core
#   dist/tailor-extra.js  the lazily loaded chunk (src/extra.js, an ES
#                         module): the page scanner, slots declared by
#                         selector, events without markup, profile()'s
#                         details; the core imports it from
#                         /assets/tailor-extra.HASH.js (build/assets.sh
#                         names it the same: the first 16 hex digits of
#                         its SHA-256)
#   dist/tailor.d.ts      the TypeScript declarations (sdk/js/tailor.d.ts)
# and fails when the core's brotli size passes the budget (8 KiB).
# esbuild is a pinned dev dependency (sdk/js/package-lock.json), installed
# with npm ci when missing; nothing of it ships.
set -euo pipefail
BUDGET=${LOADER_BUDGET:-8192}
cd "$(dirname "$0")/.."
js=sdk/js
dist=${DIST:-dist}
mkdir -p "$dist"
if [ ! -x "$js/node_modules/.bin/esbuild" ]; then
	(cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
fi
esbuild=$js/node_modules/.bin/esbuild
flags=(--bundle --minify --target=es2020 --legal-comments=none --log-level=warning)
"$esbuild" "$js/src/extra.js" "${flags[@]}" --format=esm --outfile="$dist/tailor-extra.js"
extra="tailor-extra.$(sha256sum "$dist/tailor-extra.js" | cut -c1-16).js"
# The core starts fetching tailor.wasm at its hashed name (as assets.sh
# names it) before the manifest arrives: the wasm built before the loader
# (make wasm; WASM=path to name another), none when there is none yet.
wasm=${WASM:-$dist/tailor.wasm}
hashed=""
[ -f "$wasm" ] && hashed="tailor.$(sha256sum "$wasm" | cut -c1-16).wasm"
flags+=(--define:EXTRA="\"$extra\"" --define:WASM="\"$hashed\"")
"$esbuild" "$js/src/script.js" "${flags[@]}" --format=iife --outfile="$dist/tailor.js"
"$esbuild" "$js/src/index.js" "${flags[@]}" --format=esm --outfile="$dist/tailor.mjs"
cp "$js/tailor.d.ts" "$dist/tailor.d.ts"
if ! command -v brotli >/dev/null; then
	echo "loader: brotli not installed (apt-get install brotli): budget not checked" >&2
	exit 0
fi
for f in tailor.js tailor-extra.js; do
	echo "$f: $(wc -c <"$dist/$f") bytes, gzip $(gzip -9 -c "$dist/$f" | wc -c), brotli $(brotli -q 11 -c "$dist/$f" | wc -c)"
done
br=$(brotli -q 11 -c "$dist/tailor.js" | wc -c)
echo "core tailor.js: brotli $br (budget $BUDGET)"
if [ "$br" -gt "$BUDGET" ]; then
	echo "loader: tailor.js is over its brotli budget" >&2
	exit 1
fi
