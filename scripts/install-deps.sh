#!/usr/bin/env bash
# Installs the system tools the gatehouse test suite needs on Debian 12:
# haproxy (the reference implementation), nginx, wrk, socat, curl,
# netcat-openbsd and python3. Only missing commands are installed, and
# `apt-get update` runs only when something must be installed.
set -euo pipefail

# command -> Debian package
declare -A PKG=(
    [haproxy]=haproxy
    [nginx]=nginx
    [wrk]=wrk
    [socat]=socat
    [curl]=curl
    [nc]=netcat-openbsd
    [python3]=python3
)

have() {
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]
}

missing=()
for cmd in haproxy nginx wrk socat curl nc python3; do
    if ! have "$cmd"; then
        missing+=("${PKG[$cmd]}")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-deps: all test tools present"
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
