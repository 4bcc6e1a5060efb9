#!/bin/sh
# update-echarts.sh fetches dist/echarts.min.js from the npm registry package
# "echarts" at a pinned version, checks the tarball against the registry's
# published dist.integrity (sha512) and against the SHA-256 recorded in
# echarts.min.js.sha256, and writes echarts.min.js beside this script.
#
# Usage: reports/assets/update-echarts.sh [VERSION]
# To move to another version, run it with the new version, review the diff of
# echarts.min.js.sha256 and README.md, and commit the three files together.
set -eu

VERSION="${1:-5.6.0}"
HERE="$(cd "$(dirname "$0")" && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

cd "$TMP"
# The integrity string the registry publishes for this version.
WANT="$(npm view "echarts@$VERSION" dist.integrity)"
TGZ="$(npm pack --silent "echarts@$VERSION")"
GOT="sha512-$(openssl dgst -sha512 -binary "$TGZ" | base64 -w0)"
if [ "$WANT" != "$GOT" ]; then
	echo "integrity mismatch for echarts@$VERSION: registry says $WANT, tarball is $GOT" >&2
	exit 1
fi
tar -xzf "$TGZ" package/dist/echarts.min.js
SUM="$(sha256sum package/dist/echarts.min.js | cut -d' ' -f1)"
if [ "$VERSION" = "5.6.0" ] && [ -f "$HERE/echarts.min.js.sha256" ]; then
	REC="$(cut -d' ' -f1 "$HERE/echarts.min.js.sha256")"
	if [ "$REC" != "$SUM" ]; then
		echo "echarts.min.js SHA-256 $SUM differs from the recorded $REC" >&2
		exit 1
	fi
fi
cp package/dist/echarts.min.js "$HERE/echarts.min.js"
echo "$SUM  echarts.min.js" >"$HERE/echarts.min.js.sha256"
echo "echarts@$VERSION: tarball $GOT, echarts.min.js sha256 $SUM" >&2
