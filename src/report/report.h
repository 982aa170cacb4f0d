/* SPDX-License-Identifier: GPL-2.0 */
/* The renderers' public API: writing a profile in one of the formats. The renderers themselves
 * and what they share are report/render.h; how they are asked is report/report_opts.h. */
#ifndef LOCKPROF_SRC_REPORT_H
#define LOCKPROF_SRC_REPORT_H

#include <stdio.h>

#include "profile/profile.h"
#include "profile/profile_set.h"
#include "report/report_opts.h"

/* Writes p in format fmt. o may be NULL for the defaults. 0 or -errno. */
int report__write(FILE *f, enum lp_format fmt, const struct lp_profile *p,
		  const struct lp_report_opts *o);

/* Writes the profiles of several processes in format fmt: text, a table of the processes then a
 * section each; json, {"processes": [...]} of single-process reports (pid and comm on every
 * lock); collapsed, each process the root frame of its stacks; pprof, one profile whose samples
 * carry pid and comm labels. html: -EINVAL (one process per page). 0 or -errno. */
int report__write_set(FILE *f, enum lp_format fmt, const struct lp_profile_set *set,
		      const struct lp_report_opts *o);

/* A pprof profile from samples gathered elsewhere (lockprof serve's cumulative and delta
 * profiles, several processes in one): two values per sample, string labels. */
#define LP_PPROF_MAX_LABELS 6

struct lp_pprof_label {
	const char *key, *value;
};

struct lp_pprof_sample {
	const struct lp_stack_sym *stack; /* NULL: "<stack lost>" */
	int64_t values[2];
	struct lp_pprof_label labels[LP_PPROF_MAX_LABELS];
	size_t nlabels;
};

struct lp_pprof_samples {
	const char *types[2][2]; /* (type, unit) of values[0] and [1], e.g. contentions/count */
	const struct lp_pprof_sample *samples;
	size_t nsamples;
	uint64_t time_unix_ns, duration_ns;
	const char *comment; /* or NULL */
	const char *mapping; /* the file the frames run in, or NULL */
};

/* Writes set as a gzip-compressed profile.proto, as -f pprof does a profile. 0 or -errno. */
int report_pprof__write_samples(FILE *f, const struct lp_pprof_samples *set);

#endif
