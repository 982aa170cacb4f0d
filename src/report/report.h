/* SPDX-License-Identifier: GPL-2.0 */
/* Renderers of the in-memory profile. Each writes the whole report to f; 0 or -errno. */
#ifndef LOCKPROF_SRC_REPORT_H
#define LOCKPROF_SRC_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "profile/profile.h"

enum lp_format {
	LP_FORMAT_TEXT,
	LP_FORMAT_JSON,
	LP_FORMAT_COLLAPSED,
	LP_FORMAT_PPROF,
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

/* Writes p in format fmt. o may be NULL for the defaults. */
int report__write(FILE *f, enum lp_format fmt, const struct lp_profile *p,
		  const struct lp_report_opts *o);

/* "text", "json", "collapsed", "pprof"; and back (0 or -ENOENT). */
const char *report__format_name(enum lp_format fmt);
int report__format_from_name(const char *name, enum lp_format *fmt);

int report_text__write(FILE *f, const struct lp_profile *p, const struct lp_report_opts *o);
int report_json__write(FILE *f, const struct lp_profile *p);
int report_collapsed__write(FILE *f, const struct lp_profile *p, const struct lp_report_opts *o);
int report_pprof__write(FILE *f, const struct lp_profile *p, const struct lp_report_opts *o);

/* Prints a log2 histogram of waits in libbpf-tools' print_log2_hist layout (range, count, bar of
 * stars), from the first to the last non-empty bucket, each line prefixed by indent. */
void report_hist__write(FILE *f, const uint64_t hist[LP_HIST_SLOTS], const char *indent);

/* Writes s as a JSON string with quotes: escapes controls, quotes and backslashes, and replaces
 * bytes that are not valid UTF-8 with U+FFFD so the output always parses. */
void json__write_string(FILE *f, const char *s);

/* A shorter form of a Python file name for tables: drops the interpreter's lib/pythonX.Y/ and
 * site-packages/ prefixes, else keeps the last two path components. */
const char *report__short_path(const char *file);

/* Whether the stack-based formats (collapsed, pprof) carry the lock's waits: contention and GIL
 * waits always, idle waits only with show_idle. */
bool report__lock_included(const struct lp_lock *lock, const struct lp_report_opts *o);

/* What the reports call a lock: its name, else its address as "0x...". */
const char *report__lock_name(const struct lp_lock *lock, char *buf, size_t len);

#endif
