#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make demo: start the bundled contended Python service, profile it for a few seconds, print the
# report, stop the service.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-$(command -v python3 || true)}
if [ -z "$python" ]; then
	echo "demo: no python3 found (install python3)" >&2
	exit 1
fi
# Wrappers such as pyenv's shims are scripts: profile the interpreter itself.
python=$("$python" -c 'import sys; print(sys.executable)')
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: lockprof needs root (or CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE): run sudo make demo" >&2
	exit 1
fi

seconds=${DEMO_SECONDS:-5}
"$python" tests/targets/demo.py 1.5 > /dev/null &
demo_pid=$!
trap 'kill "$demo_pid" 2>/dev/null || true' EXIT
sleep 0.3
echo "demo: profiling $python tests/targets/demo.py (pid $demo_pid) for $seconds seconds" >&2
./lockprof -p "$demo_pid" -d "$seconds"
