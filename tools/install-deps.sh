#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Installs the Debian/Ubuntu packages lockprof needs to build and test, only those missing.
set -euo pipefail

# golang-go: `go tool pprof` reads the pprof output in the functional tests.
# debootstrap: the Debian roots of the functional tests (tools/make-rootfs.sh).
# clang-format: make check-format (its version 14 is the one .clang-format is written for).
# python3-sqlalchemy: a real library's resource pool in the functional tests (system python3).
# libmicrohttpd-dev: lockprof serve's HTTP server; prometheus: the server scraping it in the
# functional tests; gunicorn, apache2-utils (ab): the prefork server and its load in test_fleet.
# libncurses-dev: lockprof top's terminal. chromium, tmux: the HTML report and top tested in the
# real clients (and make bench's render time). xz-utils, libffi-dev, libssl-dev: the
# free-threaded CPython tools/build-ft-python.sh builds for the tests (its source tarball,
# ctypes, ssl).
packages=(make gcc clang clang-format llvm pkg-config libbpf-dev libelf-dev zlib1g-dev python3 python3-pytest
	python3-pytest-xdist python3-sqlalchemy libncurses-dev libmicrohttpd-dev prometheus gunicorn apache2-utils chromium tmux
	golang-go debootstrap libclang-rt-14-dev
	xz-utils libffi-dev libssl-dev)
# libpython3.X-testsuite: CPython's own test suites (test_threading, ...) for the distribution's
# python3 (the python3.X it depends on), which make check-real profiles; pyenv builds ship theirs.
minor=$(apt-cache depends python3 2>/dev/null | sed -n 's/^ *Depends: python3\.\([0-9][0-9]*\)$/\1/p' | head -1 || true)
[ -n "$minor" ] && packages+=("libpython3.$minor-testsuite")
# bpftool is its own package on Debian; Ubuntu ships it in linux-tools.
if apt-cache show bpftool >/dev/null 2>&1 || ! command -v apt-cache >/dev/null; then
	packages+=(bpftool)
else
	packages+=(linux-tools-common "linux-tools-$(uname -r)")
fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root (sudo make demo) or install them" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
