#!/usr/bin/env bash
# Installs every Debian package dm's build, tests, demo and benchmarks need.
# Idempotent and non-interactive; run as root (or with sudo available).
set -euo pipefail

packages=(
	build-essential cmake pkg-config git clang libclang-rt-14-dev clang-format cppcheck
	libssl-dev openssl libevent-dev libcurl4-openssl-dev curl libjansson-dev libyaml-dev
	libsqlite3-dev libcmocka-dev libmariadb-dev
	mariadb-server mariadb-client etcd-server etcd-client sysbench mydumper
	procps iproute2 psmisc jq
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#packages[@]} packages already installed"
	exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Package scripts must not start system mariadbd/etcd: tests run private ones.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod +x /usr/sbin/policy-rc.d
	trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: done"
