#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fetches (once) and caches the C headers of a Debian CPython that runs in a root built by
# tools/make-rootfs.sh, so that tests/unit/check_pyoffsets.py can check lockprof's offset table
# against them (there is no pyenv build of, e.g., 3.14 to take them from). Prints the cache dir,
# which holds usr/include/python3.X and usr/include/<multiarch>/python3.X.
#   tools/fetch-python-headers.sh SUITE PACKAGE      e.g. sid python3.14
# The root is used read-only: apt's lists, cache and the download go to tmpfs mounts in a private
# mount namespace, so the cached root is left as it was. Needs root and the network.
# Cache: $LOCKPROF_HEADERS_CACHE (default /var/cache/lockprof/headers/SUITE).
set -euo pipefail

suite=$1
package=$2
rootfs=${LOCKPROF_ROOTFS_CACHE:-/var/cache/lockprof/rootfs}/$suite
cache=${LOCKPROF_HEADERS_CACHE:-/var/cache/lockprof/headers}
dest=$cache/$suite
dev=lib$package-dev

if [ -f "$dest/.lockprof-complete" ] && [ -d "$dest/usr/include/$package" ]; then
	echo "$dest"
	exit 0
fi
[ -x "$rootfs/usr/bin/$package" ] || {
	echo "fetch-python-headers: no $package in $rootfs (run tools/make-rootfs.sh $suite $package)" >&2
	exit 1
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 1777 "$work" # apt downloads as user _apt
# Match the interpreter's exact version, so the headers describe the binary in the root.
version=$(chroot "$rootfs" dpkg-query -W -f '${Version}' "$package-minimal")
echo "fetch-python-headers: downloading $dev $version for $suite" >&2
unshare --mount --fork sh -euc '
	root=$1 work=$2 pkg=$3
	mount -t tmpfs tmpfs "$root/var/lib/apt/lists"
	mount -t tmpfs tmpfs "$root/var/cache/apt"
	mount --bind "$work" "$root/tmp"
	# A Release file past its Valid-Until must not stop a one-off download.
	chroot "$root" sh -ec "cd /tmp
		apt-get -qq -o Acquire::Check-Valid-Until=false update
		apt-get -qq -o Acquire::Check-Valid-Until=false download $pkg"
' sh "$rootfs" "$work" "$dev=$version" >"$work/apt.log" 2>&1 || {
	cat "$work/apt.log" >&2
	echo "fetch-python-headers: could not download $dev $version" >&2
	exit 1
}
rm -rf "$dest.tmp"
mkdir -p "$dest.tmp"
dpkg-deb -x "$work"/"$dev"_*.deb "$dest.tmp"
rm -rf "$dest.tmp/usr/lib" "$dest.tmp/usr/share" # only the headers are needed
rm -rf "$dest"
mv "$dest.tmp" "$dest"
touch "$dest/.lockprof-complete"
echo "$dest"
