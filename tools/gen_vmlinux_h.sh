#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Prints vmlinux.h for CO-RE from a kernel's BTF (default: the running kernel's).
set -euo pipefail
exec "${BPFTOOL:-bpftool}" btf dump file "${1:-/sys/kernel/btf/vmlinux}" format c
