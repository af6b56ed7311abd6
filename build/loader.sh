#!/usr/bin/env bash
# loader.sh: builds the browser loader from sdk/js/src into dist/:
#   dist/tailor.js        the script-tag build (IIFE), minified: the core
#   dist/tailor.mjs       the ES module build, minified: the same core
#   dist/tailor-extra.js  the lazily loaded chunk (src/extra.js, an ES
#                         module): the page scanner, slots declared by
#                         selector, events without markup; the core
#                         imports it from /assets/tailor-extra.HASH.js
#                         (build/assets.sh names it the same: the first 16
#                         hex digits of its SHA-256)
#   dist/tailor-details.js  the chunk of profile()'s details
#                         (src/details.js), imported the same way, only
#                         by profile()
#   dist/tailor.d.ts      the TypeScript declarations (sdk/js/tailor.d.ts)
# and fails when the core's brotli size passes the budget (8 KiB).
# esbuild bundles the modules (lowered to ES2021: RATIONALE.md says which
# browsers that leaves out), terser minifies the bundles: terser's output
# of the core is ~220 B smaller after brotli than esbuild's --minify (it
# names variables by how often each character occurs in the output, which
# brotli and gzip reward; RATIONALE.md). Both are pinned dev dependencies
# (sdk/js/package-lock.json), installed with npm ci when missing; nothing
# of them ships.
set -euo pipefail
BUDGET=${LOADER_BUDGET:-8192}
cd "$(dirname "$0")/.."
# One build at a time: go test runs packages in parallel, and three build
# the loader (sdk/js into a temporary directory; demo-site/e2e and
# e2e/large through make, into dist/). Two npm ci at once in sdk/js delete
# each other's node_modules (demo-site/e2e failed so), and two builds into
# dist/ write the same files. The lock is this script's own file (flock,
# util-linux; without it, builds run as they come).
exec 9<build/loader.sh
if command -v flock >/dev/null; then flock 9; fi
js=sdk/js
dist=${DIST:-dist}
mkdir -p "$dist"
esbuild=$js/node_modules/.bin/esbuild
terser=$js/node_modules/.bin/terser
if [ ! -x "$esbuild" ] || [ ! -x "$terser" ]; then
	(cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# --minify-syntax (not --minify: terser names and prints) makes every
# const a let and joins declarations before terser: brotli favours the one
# keyword (RATIONALE.md).
flags=(--bundle --target=es2021 --minify-syntax --legal-comments=none --log-level=warning)
# build ENTRY FORMAT OUT [esbuild flags]: bundles src/ENTRY, minifies it to
# OUT (terser also shortens the fields named in props, when set).
props=()
build() {
	local entry=$1 format=$2 out=$3
	shift 3
	"$esbuild" "$js/src/$entry" "${flags[@]}" "$@" --format="$format" --outfile="$tmp/$format.js"
	local module=()
	[ "$format" = esm ] && module=(--module)
	"$terser" "$tmp/$format.js" "${module[@]}" --ecma 2021 --compress passes=2 --mangle "${props[@]}" --comments false --output "$out"
}
# Fields that only the core reads and writes: st's (src/state.js) that the
# chunks do not use, and a dwell entry's (src/signals.js). terser gives
# them short names in the core's two builds (builtins: on and total are
# also DOM names, shortened only as the fields listed here). None may cross
# a boundary: not a wire key, the API's, the stored record's, nor a
# chunk's, which shares st and is built apart: the build fails when a
# chunk's bundle names one, or tailor.d.ts declares one (RATIONALE.md).
internal='granted|modeSet|stamp|live|held|ranked|ran|timers|io|depth|sent|busy|since|total|on'
# chunk ENTRY NAME: builds the chunk src/ENTRY to dist/NAME.js and prints
# the name the core imports it by, NAME.HASH.js.
chunk() {
	build "$1" esm "$dist/$2.js"
	if grep -owE "$internal" "$tmp/esm.js" | sort -u | grep . >&2; then
		echo "loader: the chunk src/$1 names the core's own fields above; take them out of internal in build/loader.sh" >&2
		exit 1
	fi
	# V8's compile hint, which works only as a file's first line: the
	# chunk's functions (the page scanner's, nearly all called by its
	# first scan) are compiled as it loads, off the main thread, not
	# lazily at first call (src/scan.js says what it saves).
	[ "$1" = extra.js ] && sed -i '1i //# allFunctionsCalledOnLoad' "$dist/$2.js"
	echo "$2.$(sha256sum "$dist/$2.js" | cut -c1-16).js"
}
extra=$(chunk extra.js tailor-extra)
details=$(chunk details.js tailor-details)
# Nor a name of the API (tailor.d.ts declares each on a line of its own).
if grep -E "^\s*(readonly\s+)?($internal)\??\s*[:(]" "$js/tailor.d.ts"; then
	echo "loader: tailor.d.ts declares the names above, which internal in build/loader.sh would rename" >&2
	exit 1
fi
props=(--mangle-props "builtins,regex=/^($internal)\$/")
# The core starts fetching tailor.wasm at its hashed name (as assets.sh
# names it) before the manifest arrives: the wasm built before the loader
# (make wasm; WASM=path to name another), none when there is none yet.
wasm=${WASM:-$dist/tailor.wasm}
hashed=""
[ -f "$wasm" ] && hashed="tailor.$(sha256sum "$wasm" | cut -c1-16).wasm"
defs=(--define:EXTRA="\"$extra\"" --define:DETAILS="\"$details\"" --define:WASM="\"$hashed\"")
build script.js iife "$dist/tailor.js" "${defs[@]}"
build index.js esm "$dist/tailor.mjs" "${defs[@]}"
cp "$js/tailor.d.ts" "$dist/tailor.d.ts"
if ! command -v brotli >/dev/null; then
	echo "loader: brotli not installed (apt-get install brotli): budget not checked" >&2
	exit 0
fi
for f in tailor.js tailor-extra.js tailor-details.js; do
	echo "$f: $(wc -c <"$dist/$f") bytes, gzip $(gzip -9 -c "$dist/$f" | wc -c), brotli $(brotli -q 11 -c "$dist/$f" | wc -c)"
done
br=$(brotli -q 11 -c "$dist/tailor.js" | wc -c)
echo "core tailor.js: brotli $br (budget $BUDGET)"
if [ "$br" -gt "$BUDGET" ]; then
	echo "loader: tailor.js is over its brotli budget" >&2
	exit 1
fi
