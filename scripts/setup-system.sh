#!/bin/sh
# Installs the Debian packages the test suite drives for real: the CNCF distribution registry,
# skopeo (independent client/oracle), htpasswd (registry auth), openssl (TLS tests), and the
# oracles of the SBOM catalogers and version comparators: rpm, go, ruby, python3-packaging, maven.
# Safe to re-run: does nothing when everything is present.
set -eu
need=""
command -v docker-registry >/dev/null 2>&1 || need="$need docker-registry"
command -v skopeo >/dev/null 2>&1 || need="$need skopeo"
command -v htpasswd >/dev/null 2>&1 || need="$need apache2-utils"
command -v openssl >/dev/null 2>&1 || need="$need openssl"
command -v tar >/dev/null 2>&1 || need="$need tar"
# the generated GitHub workflows' scripts are checked with shellcheck and run with jq
command -v shellcheck >/dev/null 2>&1 || need="$need shellcheck"
command -v jq >/dev/null 2>&1 || need="$need jq"
command -v readelf >/dev/null 2>&1 || need="$need binutils"
command -v rpm >/dev/null 2>&1 || need="$need rpm"
command -v go >/dev/null 2>&1 || need="$need golang-go"
command -v ruby >/dev/null 2>&1 || need="$need ruby"
# version comparator oracles: Python packaging, Go's x/mod/semver, Maven's ComparableVersion
python3 -c 'import packaging' >/dev/null 2>&1 || need="$need python3-packaging"
[ -d /usr/share/gocode/src/golang.org/x/mod ] || need="$need golang-golang-x-mod-dev"
command -v mvn >/dev/null 2>&1 || need="$need maven"
# CVSS scores are cross-checked with Ruby's cvss-suite
ruby -e 'require "cvss_suite"' >/dev/null 2>&1 || need="$need ruby-cvss-suite"
# signature cross-checks: securesystemslib verifies DSSE signatures, PyNaCl + hashlib.scrypt decrypt cosign keys
python3 -c 'import securesystemslib' >/dev/null 2>&1 || need="$need python3-securesystemslib"
python3 -c 'import nacl.secret' >/dev/null 2>&1 || need="$need python3-nacl"
# cosign's own scrypt + secretbox (Go x/crypto) decrypts vouch's keys byte for byte
[ -d /usr/share/gocode/src/golang.org/x/crypto ] || need="$need golang-golang-x-crypto-dev"
[ -z "$need" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing:$need"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need >/dev/null
