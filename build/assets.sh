#!/usr/bin/env bash
# assets.sh [DIST]: prepares what browsers download for the server to serve.
# For each of tailor.js, tailor-extra.js and tailor-details.js (the
# loader's lazily loaded chunks, which tailor.js names by this same hash)
# and tailor.wasm found in DIST (default dist; a file not built yet is left
# out), it writes DIST/assets/NAME.HASH.EXT (HASH: the
# first 16 hex digits of its SHA-256) with precompressed .br (brotli -q 11)
# and .gz (gzip -9 -n) variants, and DIST/assets.json listing the hashed
# names, sizes and Subresource Integrity hashes (sha384). Outputs are
# reproducible: equal inputs give equal bytes.
set -euo pipefail
dist=${1:-dist}
for tool in gzip sha256sum sha384sum base64; do
	command -v "$tool" >/dev/null || { echo "assets.sh: $tool not installed" >&2; exit 1; }
done
br=1
command -v brotli >/dev/null || { br=; echo "assets.sh: brotli not installed (apt-get install -y brotli): no .br variants" >&2; }
# sri FILE prints FILE's Subresource Integrity hash, with coreutils only.
sri() {
	local hex
	hex=$(sha384sum "$1" | cut -d' ' -f1)
	printf 'sha384-%s' "$(printf "$(sed 's/../\\x&/g' <<<"$hex")" | base64 -w0)"
}
tmp=$(mktemp -d "$dist/.assets.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/assets"
json="{"
sep=""
for name in tailor.js tailor-extra.js tailor-details.js tailor.wasm; do
	src="$dist/$name"
	[ -f "$src" ] || { echo "assets.sh: $src not built yet; left out" >&2; continue; }
	hash=$(sha256sum "$src" | cut -c1-16)
	file="${name%.*}.$hash.${name##*.}"
	cp "$src" "$tmp/assets/$file"
	brbytes=0
	if [ -n "$br" ]; then
		brotli -q 11 -c "$src" >"$tmp/assets/$file.br"
		brbytes=$(wc -c <"$tmp/assets/$file.br")
	fi
	gzip -9 -n -c "$src" >"$tmp/assets/$file.gz"
	json+=$(printf '%s\n  "%s": {"file": "%s", "integrity": "%s", "bytes": %d, "br": %d, "gzip": %d}' "$sep" \
		"$name" "$file" "$(sri "$src")" "$(wc -c <"$src")" "$brbytes" "$(wc -c <"$tmp/assets/$file.gz")")
	sep=","
	echo "assets.sh: $file $(wc -c <"$src") bytes, brotli $brbytes, gzip $(wc -c <"$tmp/assets/$file.gz")" >&2
done
printf '%s\n}\n' "$json" >"$tmp/assets.json"
rm -rf "$dist/assets"
mv "$tmp/assets" "$dist/assets"
mv "$tmp/assets.json" "$dist/assets.json"
