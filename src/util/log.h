/* SPDX-License-Identifier: GPL-2.0 */
/* Diagnostics to stderr, every line prefixed "lockprof: " (exit codes: util/exitcode.h). */
#ifndef LOCKPROF_SRC_LOG_H
#define LOCKPROF_SRC_LOG_H

#include <stdarg.h>

#include <bpf/libbpf.h>

#include "util/exitcode.h"

extern int lp_verbose;
/* While set, errors and warnings print only with -v: for attempts whose failure the caller
 * reports in its own words (--all trying every process it finds). */
extern int lp_quiet;

void lp_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void lp_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void lp_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void lp_dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* libbpf's print callback: its warnings show with -v, its debug output with -vv. */
int lp_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#endif
