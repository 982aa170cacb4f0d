/* SPDX-License-Identifier: GPL-2.0 */
/* Diagnostics to stderr, every line prefixed "lockprof: ", and the exit codes lockprof uses. */
#ifndef LOCKPROF_SRC_LOG_H
#define LOCKPROF_SRC_LOG_H

#include <stdarg.h>

#include <bpf/libbpf.h>

/* Exit codes: one per kind of failure, listed in --help and the README. */
enum lp_exit {
	LP_EXIT_OK = 0,
	LP_EXIT_ERROR = 1,	 /* anything not listed below */
	LP_EXIT_USAGE = 2,	 /* invalid command line */
	LP_EXIT_NO_PROCESS = 3,	 /* no such process */
	LP_EXIT_NOT_PYTHON = 4,	 /* the process runs no CPython we can find */
	LP_EXIT_UNSUPPORTED = 5, /* a CPython version lockprof does not support */
	LP_EXIT_PRIVILEGE = 6,	 /* missing capability or permission */
	LP_EXIT_KERNEL = 7,	 /* the kernel lacks BTF/BPF/uprobes, or loading/attaching failed */
	LP_EXIT_OUTPUT = 8,	 /* the output file cannot be written */
};

extern int lp_verbose;

void lp_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void lp_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void lp_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void lp_dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* libbpf's print callback: its warnings show with -v, its debug output with -vv. */
int lp_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#endif
