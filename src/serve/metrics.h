/* SPDX-License-Identifier: GPL-2.0 */
/* /metrics: the store in the Prometheus text exposition format (version 0.0.4): per process and
 * lock the waits and wait seconds as counters and a histogram of wait times, GIL waits per
 * process, hold times under -m full, and lockprof's own health. */
#ifndef LOCKPROF_SRC_METRICS_H
#define LOCKPROF_SRC_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "profile/profile_set.h"
#include "serve/store.h"

#define LP_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* What the server knows beyond the store. */
struct lp_metrics_info {
	bool gil, hold;		/* -m gil, -m full: their families are written */
	uint64_t errors;	/* failures lockprof met while serving (besides the store's) */
	uint64_t http_requests; /* requests answered */
	uint64_t http_refused;	/* of those, refused (4xx, 503) */
	struct lp_fleet_health procs; /* processes attached, exited, failed; BPF memory */
};

/* Writes every family. 0 or -EIO. */
int metrics__write(FILE *f, const struct lp_store *s, const struct lp_metrics_info *info);

/* A label value as the format wants it: backslash, double quote and newline escaped, bytes that
 * are not UTF-8 replaced by '?'. Always terminates out (len > 0); cuts at len - 1. */
void metrics__escape(const char *in, char *out, size_t len);

#endif
