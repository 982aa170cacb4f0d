/* SPDX-License-Identifier: GPL-2.0 */
/* What a user asks of the reports: the formats and how the renderers present a profile. The
 * command line fills these; nothing here needs the profile model. */
#ifndef LOCKPROF_SRC_REPORT_OPTS_H
#define LOCKPROF_SRC_REPORT_OPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "profile/kinds.h"

enum lp_format {
	LP_FORMAT_TEXT,
	LP_FORMAT_JSON,
	LP_FORMAT_COLLAPSED,
	LP_FORMAT_PPROF,
	LP_FORMAT_HTML,
};

/* Order of the text report's lock table, largest first. */
enum lp_sort {
	LP_SORT_TOTAL, /* total wait */
	LP_SORT_MAX,   /* longest single wait */
	LP_SORT_COUNT, /* number of waits */
	LP_SORT_AVG,   /* average wait */
};

/* What a collapsed line's number counts. */
enum lp_weight {
	LP_WEIGHT_WAIT,	 /* nanoseconds waited */
	LP_WEIGHT_COUNT, /* waits */
};

/* How the renderers present the profile; zeroed means the defaults. */
struct lp_report_opts {
	bool show_idle;		 /* idle waits too (Condition/Event/queue waits, joins) */
	bool histogram;		 /* text: a log2 wait histogram per lock */
	enum lp_sort sort;	 /* text: lock order */
	size_t top;		 /* text: locks listed, 0 for all */
	enum lp_weight weight;	 /* collapsed */
	enum lp_role pprof_role; /* pprof: whose stacks the samples carry */
};

/* "text", "json", "collapsed", "pprof", "html"; and back (0 or -ENOENT). */
const char *report__format_name(enum lp_format fmt);
int report__format_from_name(const char *name, enum lp_format *fmt);

#endif
