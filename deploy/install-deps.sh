#!/bin/sh
# install-deps.sh - install the Debian packages motcua builds, tests and
# demos with. apt-get as root, through sudo otherwise.
# debhelper and lintian: tests/it/package.sh builds and checks the Debian
# package (man-db: systemd-analyze verify reads the units' man: pages).
# chromium and chromium-driver: it_web drives the gateway's pages in headless
# Chromium over WebDriver (/usr/bin/chromium, /usr/bin/chromedriver); libcrypt-dev:
# the staff passwords of the ward dashboard (crypt(3)).
# --if-missing: do nothing (quickly) when every package is already there.
# --promtool: also the prometheus package, for promtool (it_stats checks the
# `motcua stats --format prometheus` text with it, and says it skipped that
# check without it). Opt-in: it took about 2 minutes here, and on a machine
# running systemd it also starts a Prometheus server on :9090.
# --ha: also what make ha runs (Patroni, etcd, nftables, iproute2); it may
# come before --if-missing.
set -eu
PACKAGES="build-essential pkg-config libzmq3-dev libpq-dev libprotobuf-c-dev
protobuf-c-compiler libyaml-dev libsystemd-dev libcurl4-openssl-dev libsodium-dev libpng-dev
postgresql postgresql-contrib librsvg2-bin procps zlib1g-dev
systemd debhelper lintian man-db libmicrohttpd-dev"
[ "${1:-}" = "--promtool" ] && PACKAGES="$PACKAGES prometheus"
if [ "${1:-}" = "--ha" ]; then
    PACKAGES="$PACKAGES patroni etcd-server etcd-client python3-etcd iproute2"
    shift
fi

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    [ "${1:-}" = "--if-missing" ] || echo "install-deps: all packages present"
    exit 0
fi
echo "install-deps: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install-deps: need root or sudo to install:$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
