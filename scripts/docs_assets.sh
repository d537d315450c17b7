#!/usr/bin/env bash
# The API reference page's viewer (GET /docs): Scalar's standalone bundle, fetched from the
# npm registry at a pinned version, checked against the registry's pinned integrity and
# unpacked into target/docs, from where kabinet serves it (no CDN: the page works offline).
# Only the one bundled file is kept (its npm dependencies are inside it), with its gzip at
# the best level: what the local gateway reads and the kabinet-docs artifact embeds.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=1.76.4
INTEGRITY='sha512-bHSVv494yuNTcBzmfZR3eYhckOTiu3L6IJmvM2kdKzBVmWqm+JhEHbYc7ydsv7FBSs3vTW9sCz00La2dFgWxVg=='
OUT=target/docs
if [ -f "$OUT/scalar-$VERSION.js" ] && [ -f "$OUT/scalar-$VERSION.js.gz" ]; then exit 0; fi
mkdir -p "$OUT"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack "@scalar/api-reference@$VERSION" --silent --loglevel=error >/dev/null)
TGZ="$TMP/scalar-api-reference-$VERSION.tgz"
# Node.js is there for npm: no other tool needed to check the digest.
GOT="sha512-$(node -e 'process.stdout.write(require("crypto").createHash("sha512").update(require("fs").readFileSync(process.argv[1])).digest("base64"))' "$TGZ")"
if [ "$GOT" != "$INTEGRITY" ]; then
  echo "scalar $VERSION: integrity $GOT, expected $INTEGRITY" >&2
  exit 1
fi
tar -xzf "$TGZ" -C "$TMP" package/dist/browser/standalone.js package/package.json
JS="$TMP/package/dist/browser/standalone.js"
node -e 'const zlib = require("zlib"), fs = require("fs");
fs.writeFileSync(process.argv[2], zlib.gzipSync(fs.readFileSync(process.argv[1]), { level: zlib.constants.Z_BEST_COMPRESSION }))' \
  "$JS" "$OUT/scalar-$VERSION.js.gz.tmp"
mv "$OUT/scalar-$VERSION.js.gz.tmp" "$OUT/scalar-$VERSION.js.gz"
cp "$JS" "$OUT/scalar-$VERSION.js.tmp"
mv "$OUT/scalar-$VERSION.js.tmp" "$OUT/scalar-$VERSION.js"
echo "API reference viewer: Scalar $VERSION (MIT) in $OUT"
