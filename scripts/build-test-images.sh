#!/bin/sh
# Builds the real Debian test images (test/images/build.ts) into .cache/test-images/, first
# installing the Debian packages the build and its ground truth need. Safe to re-run: a cached
# image is reused until its recipe changes.
#   scripts/build-test-images.sh            # every image
#   scripts/build-test-images.sh rich       # one
set -eu
cd "$(dirname "$0")/.."
need=""
command -v mmdebstrap >/dev/null 2>&1 || need="$need mmdebstrap"
command -v go >/dev/null 2>&1 || need="$need golang-go"
command -v zip >/dev/null 2>&1 || need="$need zip"
command -v unzip >/dev/null 2>&1 || need="$need unzip"
[ -x /usr/bin/time ] || need="$need time"
for p in davecgh/go-spew google/uuid pkg/errors; do
  [ -d "/usr/share/gocode/src/github.com/$p" ] || need="$need golang-github-$(echo "$p" | tr / -)-dev"
done
if [ -n "$need" ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing:$need"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need >/dev/null
fi
PATH="$PWD/node_modules/.bin:$PATH" exec node test/images/build.ts "$@"
