// SPDX-License-Identifier: GPL-2.0
/* Diagnostics to stderr with one prefix, and libbpf's output routed through the same verbosity. */
#include <stdio.h>

#include <bpf/libbpf.h>

#include "util/log.h"

int lp_verbose;
int lp_quiet;

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "lockprof: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void lp_err(const char *fmt, ...)
{
	va_list ap;

	if (lp_quiet && lp_verbose < 1)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void lp_warn(const char *fmt, ...)
{
	va_list ap;

	if (lp_quiet && lp_verbose < 1)
		return;
	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void lp_info(const char *fmt, ...)
{
	va_list ap;

	if (lp_verbose < 1)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void lp_dbg(const char *fmt, ...)
{
	va_list ap;

	if (lp_verbose < 2)
		return;
	va_start(ap, fmt);
	vlog("debug: ", fmt, ap);
	va_end(ap);
}

int lp_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && lp_verbose < 2)
		return 0;
	if (level == LIBBPF_INFO && lp_verbose < 2)
		return 0;
	if (level == LIBBPF_WARN && lp_verbose < 1)
		return 0;
	fputs("libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}
