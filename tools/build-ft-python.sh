#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds (once) and caches a free-threaded CPython (--disable-gil --enable-shared, no PGO) for the
# functional tests. Prints the installation prefix.
#   tools/build-ft-python.sh 3.13            from Debian's python3.13 source package (sid)
#   tools/build-ft-python.sh 3.14 SRC_DIR    from a CPython 3.14 source tree you provide
# Cache: $LOCKPROF_PYTHON_CACHE (default /var/cache/lockprof/python/3.Xt). Sources are unpacked
# under the cache, never in the repository.
set -euo pipefail

minor=$1
src=${2:-}
cache=${LOCKPROF_PYTHON_CACHE:-/var/cache/lockprof/python}
prefix=$cache/${minor}t
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ -x "$prefix/bin/python${minor}t" ] && [ -f "$prefix/.lockprof-complete" ]; then
	echo "$prefix"
	exit 0
fi
mkdir -p "$cache"
work=$cache/build-${minor}t
rm -rf "$work"
mkdir -p "$work"
log=$cache/${minor}t.log
: >"$log"

if [ -z "$src" ]; then
	if [ "$minor" != 3.13 ]; then
		echo "build-ft-python: no Debian source for CPython $minor; give a source tree: $0 $minor SRC_DIR" >&2
		exit 2
	fi
	# A private apt configuration: sid's source index only, nothing written to the system's lists.
	apt_dir=$cache/apt
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
	apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
		-o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache::Archives=$apt_dir/archives"
		-o "APT::Sandbox::User=root")
	echo "build-ft-python: downloading Debian's python$minor source (one time)" >&2
	# A mirror's index can name a version its pool no longer holds: try the suites in turn.
	got=
	for suite in sid forky trixie; do
		echo "deb-src $mirror $suite main" >"$apt_dir/sources.list"
		rm -f "$apt_dir"/lists/*Sources* 2>/dev/null || true
		if apt-get "${apt_opts[@]}" update >>"$log" 2>&1 &&
			(cd "$work" && apt-get "${apt_opts[@]}" source --download-only "python$minor") >>"$log" 2>&1; then
			got=$suite
			break
		fi
	done
	[ -n "$got" ] || {
		echo "build-ft-python: could not download python$minor's source from $mirror (sid, forky, trixie), see $log" >&2
		exit 1
	}
	orig=$(ls "$work"/python"$minor"_*.orig.tar.* 2>/dev/null | head -1)
	[ -n "$orig" ] || {
		echo "build-ft-python: no upstream tarball in python$minor's source package, see $log" >&2
		exit 1
	}
	mkdir -p "$work/src"
	tar -xf "$orig" -C "$work/src" --strip-components=1
	src=$work/src
fi
[ -x "$src/configure" ] || {
	echo "build-ft-python: $src is not a CPython source tree (no configure)" >&2
	exit 2
}

echo "build-ft-python: building free-threaded CPython $minor in $prefix (one time, about 5 minutes)" >&2
mkdir -p "$work/obj"
(
	cd "$work/obj"
	"$src/configure" --disable-gil --enable-shared --prefix="$prefix" \
		LDFLAGS="-Wl,-rpath,$prefix/lib" --without-ensurepip
	make -j"$(nproc)"
	make install
) >>"$log" 2>&1 || {
	echo "build-ft-python: the build failed, see $log" >&2
	exit 1
}
rm -rf "$work"
touch "$prefix/.lockprof-complete"
echo "$prefix"
