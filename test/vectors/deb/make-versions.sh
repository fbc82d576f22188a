#!/bin/sh
# Regenerates versions.txt: a spread of real Debian version strings from this machine's apt lists
# (every 10th distinct version, plus every 3rd with an epoch and every 4th with a tilde), sorted bytewise.
# Run `apt-get update` first. Usage: sh make-versions.sh > versions.txt
set -eu
/usr/lib/apt/apt-helper cat-file /var/lib/apt/lists/*_Packages* 2>/dev/null |
  sed -n 's/^Version: //p' | LC_ALL=C sort -u |
  awk 'NR % 10 == 0 { print; next } /:/ { if (++e % 3 == 0) print; next } /~/ { if (++t % 4 == 0) print }' |
  LC_ALL=C sort -u
