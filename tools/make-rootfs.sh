#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds (once) and caches a minimal Debian root file system holding a distribution CPython, for
# the functional tests to run targets in a container-like chroot. Prints the root's path.
#   tools/make-rootfs.sh SUITE PACKAGE      e.g. trixie python3.13, sid python3.14
# Cache: $LOCKPROF_ROOTFS_CACHE (default /var/cache/lockprof/rootfs/SUITE).
set -euo pipefail

suite=$1
package=$2
cache=${LOCKPROF_ROOTFS_CACHE:-/var/cache/lockprof/rootfs}
root=$cache/$suite
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ -x "$root/usr/bin/$package" ] && [ -f "$root/.lockprof-complete" ]; then
	echo "$root"
	exit 0
fi
command -v debootstrap >/dev/null || {
	echo "make-rootfs: debootstrap missing (apt-get install debootstrap)" >&2
	exit 1
}
rm -rf "$root.tmp"
mkdir -p "$cache"
echo "make-rootfs: building $suite root with $package in $root (one time, a few minutes)" >&2
debootstrap --variant=minbase --include="$package" "$suite" "$root.tmp" "$mirror" \
	> "$cache/$suite.log" 2>&1 || {
	echo "make-rootfs: debootstrap $suite failed, see $cache/$suite.log" >&2
	exit 1
}
rm -rf "$root"
mv "$root.tmp" "$root"
# Keep the cache small: the package lists and downloaded .debs are not needed to run Python.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
touch "$root/.lockprof-complete"
echo "$root"
